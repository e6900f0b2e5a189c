/* The tree fixture of the unit tests (tree_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>

#include "exec.h"
#include "spec.h"
#include "tree_fixture.h"

static bool
subtree_terminated(const struct node *n)
{
	for (uint32_t i = 0; i < n->nchildren; i++)
		if (!node_terminated(n->children[i]) ||
		    !subtree_terminated(n->children[i]))
			return false;
	return true;
}

static void
record(void *arg, const struct tree_event *ev)
{
	struct fixture *f = arg;
	struct rec *r;

	if (ev->type == TREE_EV_STATE && node_terminated(ev->node) &&
	    !subtree_terminated(ev->node))
		f->violations++;
	if (f->nev == MAX_EVENTS)
		return;
	r = &f->ev[f->nev++];
	r->type = ev->type;
	r->id = ev->node->id;
	node_path(ev->node, r->path, sizeof r->path);
	r->from = ev->from;
	r->to = ev->to;
}

int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct tree_limits lim = { .max_nodes = 20000 };
	struct tree_hooks hooks = { .event = record };

	f->ev = calloc(MAX_EVENTS, sizeof *f->ev);
	f->base = event_base_new();
	/* As daemon_init does; without a reaper, exec workers are refused. */
	assert_int_equal(exec_init(f->base), 0);
	hooks.arg = f;
	f->tree = tree_new(f->base, &lim, &hooks);
	assert_non_null(f->tree);
	*state = f;
	return 0;
}

int
teardown(void **state)
{
	struct fixture *f = *state;

	tree_free(f->tree);
	exec_teardown();
	event_base_free(f->base);
	free(f->ev);
	free(f);
	return 0;
}

struct node *
spawn_json(struct fixture *f, const char *text, struct proto_err *err)
{
	struct spec_limits lim = { .max_nodes = 100000, .max_depth = 32 };
	json_error_t jerr;
	json_t *obj = json_loads(text, 0, &jerr);
	struct node_spec *spec;
	struct node *n = NULL;
	const char *parent = "/";
	size_t count;

	assert_non_null(obj);
	if (spec_parse(obj, &lim, &parent, &spec, &count, err) == 0 &&
	    tree_spawn(f->tree, parent, spec, count, &n, err) == -1) {
		spec_free(spec);
		n = NULL;
	}
	json_decref(obj);
	return n;
}

struct node *
spawn_ok(struct fixture *f, const char *text)
{
	struct proto_err err = { 0 };
	struct node *n = spawn_json(f, text, &err);

	if (n == NULL)
		fail_msg("spawn failed: %s", err.message);
	return n;
}

struct node *
lookup(struct fixture *f, const char *path)
{
	struct proto_err err;

	return tree_lookup(f->tree, path, &err);
}

/* Index of the first event of type for path reaching state to (or any
 * state when to is -1), after index from; -1 when none. */
long
find_event(struct fixture *f, size_t from, enum tree_event_type type,
    const char *path, int to)
{
	for (size_t i = from; i < f->nev; i++)
		if (f->ev[i].type == type && strcmp(f->ev[i].path, path) == 0 &&
		    (to < 0 || (int)f->ev[i].to == to))
			return (long)i;
	return -1;
}

void
run_for(struct fixture *f, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

