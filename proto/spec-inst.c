/*
 * `instances` (spec-inst.h): an exec spec made into the supervisor of its
 * copies, the copies themselves, and the way back to the exec spec.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "spec-inst.h"
#include "spec.h"

#define INST_VAR "ARBOR_INSTANCE="

int
spec_inst_field(const json_t *obj, uint8_t kind, const char *key,
    struct proto_err *err)
{
	bool intensity = strcmp(key, "max_restarts") == 0 ||
	    strcmp(key, "period_ms") == 0;

	if (strcmp(key, "instances") == 0) {
		if (kind == KIND_EXEC)
			return 1;
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"instances\" does not apply to kind \"%s\"; "
		    "it is for exec nodes",
		    spec_kind_names[kind]);
	}
	if (intensity && kind == KIND_EXEC) {
		if (json_object_get(obj, "instances") != NULL)
			return 1;
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" does not apply to kind \"exec\" without "
		    "\"instances\"",
		    key);
	}
	return 0;
}

uint32_t
spec_inst_max_restarts(uint32_t n)
{
	uint64_t m = (uint64_t)SPEC_MAX_RESTARTS * n;

	return m > SPEC_MAX_RESTARTS_MAX ? SPEC_MAX_RESTARTS_MAX : (uint32_t)m;
}

/* Sets ARBOR_INSTANCE=i in x's env, replacing one the template has. */
static int
inst_set_env(struct spec_exec *x, uint32_t i)
{
	char var[sizeof INST_VAR + 16], *dup, **env;
	size_t n = 0, k;

	snprintf(var, sizeof var, INST_VAR "%u", i);
	if ((dup = strdup(var)) == NULL)
		return -1;
	for (; x->env != NULL && x->env[n] != NULL; n++)
		;
	for (k = 0; k < n; k++)
		if (strncmp(x->env[k], INST_VAR, sizeof INST_VAR - 1) == 0) {
			free(x->env[k]);
			x->env[k] = dup;
			return 0;
		}
	if ((env = realloc(x->env, (n + 2) * sizeof *env)) == NULL) {
		free(dup);
		return -1;
	}
	env[n] = dup;
	env[n + 1] = NULL;
	x->env = env;
	return 0;
}

struct node_spec *
spec_inst_child(const struct spec_inst *in, uint32_t i)
{
	struct node_spec *c;
	char name[16];

	if ((c = spec_dup(in->tmpl)) == NULL)
		return NULL;
	snprintf(name, sizeof name, "%u", i);
	free(c->name);
	if ((c->name = strdup(name)) == NULL ||
	    inst_set_env(&c->u.exec, i) == -1) {
		spec_free(c);
		return NULL;
	}
	return c;
}

bool
spec_inst_takes(const struct node_spec *sup, const char *name)
{
	unsigned long i;
	char *end;

	if (sup->inst == NULL)
		return true;
	if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]))
		return false;
	errno = 0;
	i = strtoul(name, &end, 10);
	return errno == 0 && *end == '\0' && i < sup->inst->n;
}

static int
inst_oom(struct proto_err *err)
{
	return proto_errf(err, PROTO_INTERNAL, "out of memory");
}

int
spec_inst_wrap(const json_t *obj, size_t room, struct node_spec **sp,
    size_t *count, struct proto_err *err)
{
	struct node_spec *x = *sp, *s;
	struct spec_inst *in;
	int64_t n = 0, max_restarts = -1, period_ms = SPEC_PERIOD_MS;

	if (json_object_get(obj, "instances") == NULL)
		return 0;
	if (proto_get_int(obj, "instances", true, 1, SPEC_INSTANCES_MAX, &n,
	        err) != 0 ||
	    proto_get_int(obj, "max_restarts", false, 0, SPEC_MAX_RESTARTS_MAX,
	        &max_restarts, err) != 0 ||
	    proto_get_ms(obj, "period_ms", false, &period_ms, err) != 0)
		return -1;
	if (period_ms < 1)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"period_ms\" must be at least 1");
	if ((size_t)n > room)
		return proto_errf(err, PROTO_LIMIT,
		    "spec has more than %zu nodes (with its %lld instances)",
		    *count + room, (long long)n);
	if ((s = calloc(1, sizeof *s)) == NULL)
		return inst_oom(err);
	if ((in = calloc(1, sizeof *in)) == NULL) {
		free(s);
		return inst_oom(err);
	}
	/* The supervisor: the node's place and name, its sockets, its
	 * standing as one child of its parent. */
	s->kind = KIND_SUPERVISOR;
	s->inst = in;
	in->tmpl = x;
	in->n = (uint32_t)n;
	in->intensity = max_restarts >= 0 ||
	    json_object_get(obj, "period_ms") != NULL;
	s->restart = x->restart;
	s->shutdown_ms = x->shutdown_ms;
	s->timeout_ms = -1;
	s->backoff_ms = x->backoff_ms;
	s->backoff_max_ms = x->backoff_max_ms;
	/* Each instance has its own start timeout; the group has none. */
	s->start_timeout_ms = -1;
	s->sockets = x->sockets;
	x->sockets = NULL;
	s->u.sup.strategy = STRATEGY_ONE_FOR_ONE;
	s->u.sup.max_restarts = max_restarts >= 0 ?
	    (uint32_t)max_restarts :
	    spec_inst_max_restarts(in->n);
	s->u.sup.period_ms = period_ms;
	*sp = s;
	if ((s->name = strdup(x->name)) == NULL ||
	    (s->u.sup.children = calloc(in->n, sizeof *s->u.sup.children)) ==
	        NULL)
		return inst_oom(err);
	for (uint32_t i = 0; i < in->n; i++) {
		if ((s->u.sup.children[i] = spec_inst_child(in, i)) == NULL)
			return inst_oom(err);
		s->u.sup.nchildren++;
	}
	*count += in->n;
	return 0;
}

void
spec_inst_free(struct spec_inst *in)
{
	if (in == NULL)
		return;
	spec_free(in->tmpl);
	free(in);
}

int
spec_inst_dup(const struct spec_inst *in, struct spec_inst **out)
{
	struct spec_inst *c;

	*out = NULL;
	if (in == NULL)
		return 0;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -1;
	*c = *in;
	if ((c->tmpl = spec_dup(in->tmpl)) == NULL) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

bool
spec_inst_equal(const struct spec_inst *a, const struct spec_inst *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->n == b->n && a->intensity == b->intensity &&
	    spec_equal_shallow(a->tmpl, b->tmpl);
}

json_t *
spec_inst_to_json(const struct node_spec *sup)
{
	const struct spec_inst *in = sup->inst;
	json_t *obj;

	if ((obj = spec_to_json(in->tmpl)) == NULL)
		return NULL;
	if (json_object_set_new(obj, "name", json_string(sup->name)) != 0 ||
	    json_object_set_new(obj, "instances", json_integer(in->n)) != 0 ||
	    spec_sockets_to_json(sup->sockets, obj) != 0 ||
	    (in->intensity &&
	        (json_object_set_new(obj, "max_restarts",
	             json_integer(sup->u.sup.max_restarts)) != 0 ||
	            json_object_set_new(obj, "period_ms",
	                json_integer(sup->u.sup.period_ms)) != 0))) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}
