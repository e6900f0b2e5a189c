/*
 * view_walk (view-walk.c): the same text as view_node, whatever the slice
 * size; and a tree changed between slices gives the answer the rule of
 * docs/protocol-notes.md says: removed before written, left out; written,
 * kept; spawned after the parent was written, left out; the parent gone,
 * its list ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "tree.h"
#include "tree_fixture.h"
#include "view.h"

/* The walk's whole text, budget bytes per slice. */
static char *
walk_all(struct fixture *f, struct node *n, int depth, size_t budget)
{
	struct view_walk *w = view_walk_new(f->tree, n, depth);
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *text;
	int r;

	assert_non_null(w);
	while ((r = view_walk_next(w, b, budget)) == 1)
		;
	assert_int_equal(r, 0);
	view_walk_free(w);
	len = evbuffer_get_length(b);
	text = malloc(len + 1);
	evbuffer_remove(b, text, len);
	text[len] = '\0';
	evbuffer_free(b);
	return text;
}

static void
test_walk_writes_what_view_node_writes(void **state)
{
	struct fixture *f = *state;
	static const int depths[] = { -1, 0, 1, 2, 3 };
	static const size_t budgets[] = { 1, 300, 1 << 20 };

	spawn_ok(f, "{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
		    "{\"name\":\"b\",\"kind\":\"supervisor\",\"children\":["
		    "{\"name\":\"x\",\"kind\":\"sleep\"},"
		    "{\"name\":\"y\",\"kind\":\"tick\"},"
		    "{\"name\":\"z\",\"kind\":\"sleep\",\"ms\":5}]},"
		    "{\"name\":\"c\",\"kind\":\"sleep\"},"
		    "{\"name\":\"d\",\"kind\":\"supervisor\"}]}");
	spawn_ok(f, "{\"name\":\"e\",\"kind\":\"sleep\"}");
	run_for(f, 20);
	for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
		json_t *v = view_node(f->tree->root, depths[i]);
		char *want = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);

		for (size_t j = 0; j < sizeof budgets / sizeof budgets[0];
		     j++) {
			char *got = walk_all(f, f->tree->root, depths[i],
			    budgets[j]);

			assert_string_equal(got, want);
			free(got);
		}
		free(want);
		json_decref(v);
	}
}

static void
remove_node(struct fixture *f, const char *path)
{
	struct node *n = lookup(f, path);

	assert_non_null(n);
	assert_int_equal(tree_cancel(f->tree, n, NULL, NULL), 0);
	assert_true(node_terminated(n));
	assert_int_equal(tree_remove(f->tree, n, NULL), 0);
}

static json_t *
walk_text(struct evbuffer *b)
{
	json_error_t jerr;
	json_t *v = json_loadb(
	    (const char *)evbuffer_pullup(b, -1), evbuffer_get_length(b), 0,
	    &jerr);

	if (v == NULL)
		fail_msg("the walk's text does not parse: %s", jerr.text);
	return v;
}

static void
test_walk_follows_the_rule_when_the_tree_changes(void **state)
{
	struct fixture *f = *state;
	struct evbuffer *b = evbuffer_new();
	struct view_walk *w;
	json_t *v, *kids;
	const char *names[] = { "c0", "c1", "c3", "c4" };

	spawn_ok(f, "{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
		    "{\"name\":\"c0\",\"kind\":\"sleep\"},"
		    "{\"name\":\"c1\",\"kind\":\"sleep\"},"
		    "{\"name\":\"c2\",\"kind\":\"sleep\"},"
		    "{\"name\":\"c3\",\"kind\":\"sleep\"},"
		    "{\"name\":\"c4\",\"kind\":\"sleep\"}]}");
	run_for(f, 10);
	w = view_walk_new(f->tree, lookup(f, "/a"), -1);
	assert_non_null(w);
	/* /a's own view, then c0. */
	assert_int_equal(view_walk_next(w, b, 1), 1);
	assert_int_equal(view_walk_next(w, b, 1), 1);
	remove_node(f, "/a/c0"); /* written: stays */
	remove_node(f, "/a/c2"); /* not yet: left out */
	spawn_ok(f, "{\"parent\":\"/a\",\"name\":\"c5\",\"kind\":\"sleep\"}");
	while (view_walk_next(w, b, 1) == 1)
		;
	view_walk_free(w);
	v = walk_text(b);
	kids = json_object_get(v, "children");
	assert_int_equal(json_array_size(kids), 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(json_string_value(json_object_get(
					json_array_get(kids, i), "name")),
		    names[i]);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(kids, 0), "state")),
	    "running");
	json_decref(v);
	evbuffer_free(b);
}

static void
test_walk_ends_a_list_whose_parent_is_gone(void **state)
{
	struct fixture *f = *state;
	struct evbuffer *b = evbuffer_new();
	struct view_walk *w;
	json_t *v, *a;

	spawn_ok(f, "{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
		    "{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
		    "{\"name\":\"c0\",\"kind\":\"sleep\"},"
		    "{\"name\":\"c1\",\"kind\":\"sleep\"}]},"
		    "{\"name\":\"t\",\"kind\":\"sleep\"}]}");
	run_for(f, 10);
	w = view_walk_new(f->tree, f->tree->root, -1);
	/* /, /a, /a/s, /a/s/c0 */
	for (int i = 0; i < 4; i++)
		assert_int_equal(view_walk_next(w, b, 1), 1);
	remove_node(f, "/a");
	assert_null(lookup(f, "/a"));
	while (view_walk_next(w, b, 1) == 1)
		;
	view_walk_free(w);
	v = walk_text(b);
	a = json_array_get(json_object_get(v, "children"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "path")),
	    "/a");
	assert_int_equal(json_array_size(json_object_get(a, "children")), 1);
	assert_int_equal(json_array_size(json_object_get(
			     json_array_get(json_object_get(a, "children"), 0),
			     "children")),
	    1);
	json_decref(v);
	evbuffer_free(b);
}

static void
test_count_stops_at_the_limit(void **state)
{
	struct fixture *f = *state;
	struct node *a;

	a = spawn_ok(f, "{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
			"{\"name\":\"c0\",\"kind\":\"sleep\"},"
			"{\"name\":\"c1\",\"kind\":\"sleep\"},"
			"{\"name\":\"c2\",\"kind\":\"sleep\"}]}");
	assert_int_equal(view_count(a, 0, 100), 1);
	assert_int_equal(view_count(a, -1, 100), 4);
	assert_int_equal(view_count(a, 1, 100), 4);
	assert_true(view_count(a, -1, 2) <= 3);
	assert_true(view_count(a, -1, 2) > 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_walk_writes_what_view_node_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_walk_follows_the_rule_when_the_tree_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_walk_ends_a_list_whose_parent_is_gone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_count_stops_at_the_limit,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
