/*
 * Fuzz target for proto/spec.c: any JSON text parsed as spawn params (a
 * node spec with nested children). A spec that parses must survive
 * spec_to_json -> spec_parse and spec_dup unchanged at every level; one
 * that does not must be refused with a sendable error.
 */
#include <string.h>

#include "fuzz.h"
#include "path.h"
#include "spec.h"

/* Small limits reach the limit paths; the depth is the daemon's. */
static const struct spec_limits fuzz_limits = { 200, PROTO_DEPTH_MAX };

/* a and b are the same tree: same names, same config, same children. */
static size_t
fuzz_spec_same(const struct node_spec *a, const struct node_spec *b,
    int depth)
{
	size_t	i, n = 1;

	FUZZ_CHECK(depth <= PROTO_DEPTH_MAX);
	FUZZ_CHECK(strcmp(a->name, b->name) == 0);
	FUZZ_CHECK(proto_name_valid(a->name, strlen(a->name)));
	FUZZ_CHECK(spec_equal_shallow(a, b));
	FUZZ_CHECK(spec_equal_shallow(b, a));
	if (a->kind != KIND_SUPERVISOR)
		return (n);
	FUZZ_CHECK(a->u.sup.nchildren == b->u.sup.nchildren);
	for (i = 0; i < a->u.sup.nchildren; i++)
		n += fuzz_spec_same(a->u.sup.children[i],
		    b->u.sup.children[i], depth + 1);
	return (n);
}

static void
fuzz_spec(const json_t *obj, int with_parent)
{
	struct node_spec	*spec, *again, *copy;
	struct proto_err	 err;
	const char		*parent = NULL;
	json_t			*json;
	size_t			 count, count2;

	proto_err_clear(&err);
	if (spec_parse(obj, &fuzz_limits, with_parent ? &parent : NULL,
	    &spec, &count, &err) != 0) {
		FUZZ_CHECK(spec == NULL);
		fuzz_check_err(&err);
		FUZZ_CHECK(err.code == PROTO_INVALID_PARAMS ||
		    err.code == PROTO_LIMIT);
		return;
	}
	FUZZ_CHECK(spec != NULL);
	FUZZ_CHECK(count >= 1 && count <= fuzz_limits.max_nodes);
	if (with_parent)
		FUZZ_CHECK(parent != NULL &&
		    proto_path_check(parent, "parent", NULL) == 0);

	json = spec_to_json(spec);
	FUZZ_CHECK(json != NULL);
	FUZZ_CHECK(json_object_get(json, "parent") == NULL);
	proto_err_clear(&err);
	if (spec_parse(json, &fuzz_limits, NULL, &again, &count2, &err) != 0) {
		fprintf(stderr, "round trip refused: %s\n", err.message);
		FUZZ_CHECK(0);
	}
	FUZZ_CHECK(count2 == count);
	FUZZ_CHECK(fuzz_spec_same(spec, again, 0) == count);

	copy = spec_dup(spec);
	FUZZ_CHECK(copy != NULL);
	FUZZ_CHECK(fuzz_spec_same(spec, copy, 0) == count);
	/* The copy owns its memory: freeing the original leaves it whole. */
	spec_free(spec);
	FUZZ_CHECK(fuzz_spec_same(again, copy, 0) == count);

	spec_free(copy);
	spec_free(again);
	json_decref(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_err	 err;
	json_t			*obj;

	obj = proto_rpc_decode((const char *)data, size, &err);
	if (obj == NULL)
		return (0);
	fuzz_spec(obj, 1);
	fuzz_spec(obj, 0);
	json_decref(obj);
	return (0);
}
