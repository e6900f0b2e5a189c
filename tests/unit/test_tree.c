/*
 * The tree's own guarantees, seen through its event hook: ordered start,
 * cancel in reverse start order, children terminated before parents, the
 * cause chain, spawn and remove errors, deadlines, the root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>

#include "cause.h"
#include "spec.h"
#include "tree.h"
#include "tree_fixture.h"

static void
test_supervisor_children_start_in_order_and_announce_parents_first(
    void **state)
{
	struct fixture *f = *state;
	struct node *web;

	web = spawn_ok(f, "{\"name\":\"web\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"a\",\"kind\":\"sleep\"},"
	    "{\"name\":\"b\",\"kind\":\"tick\"},"
	    "{\"name\":\"c\",\"kind\":\"sleep\"}]}");
	assert_int_equal(web->state, NODE_RUNNING);
	assert_int_equal(web->nchildren, 3);
	assert_true(find_event(f, 0, TREE_EV_SPAWNED, "/web", -1) <
	    find_event(f, 0, TREE_EV_SPAWNED, "/web/a", -1));
	assert_true(find_event(f, 0, TREE_EV_SPAWNED, "/web/a", -1) <
	    find_event(f, 0, TREE_EV_SPAWNED, "/web/c", -1));
	/* a runs before b starts; the supervisor runs last. */
	assert_true(find_event(f, 0, TREE_EV_STATE, "/web/a", NODE_RUNNING) <
	    find_event(f, 0, TREE_EV_STATE, "/web/b", NODE_RUNNING));
	assert_true(find_event(f, 0, TREE_EV_STATE, "/web/b", NODE_RUNNING) <
	    find_event(f, 0, TREE_EV_STATE, "/web/c", NODE_RUNNING));
	assert_true(find_event(f, 0, TREE_EV_STATE, "/web/c", NODE_RUNNING) <
	    find_event(f, 0, TREE_EV_STATE, "/web", NODE_RUNNING));
}

static void
test_cancel_stops_children_in_reverse_order_before_the_parent(void **state)
{
	struct fixture *f = *state;
	struct node *web;
	size_t mark;

	web = spawn_ok(f, "{\"name\":\"web\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"a\",\"kind\":\"sleep\"},"
	    "{\"name\":\"b\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"x\",\"kind\":\"tick\"}]},"
	    "{\"name\":\"c\",\"kind\":\"sleep\"}]}");
	mark = f->nev;
	assert_int_equal(tree_cancel(f->tree, web, "deploy", NULL), 0);
	assert_int_equal(web->state, NODE_EXITED);
	assert_int_equal(f->violations, 0);
	/* Reverse start order of termination: c, then b (after x), then a,
	 * and /web last. */
	long c = find_event(f, mark, TREE_EV_STATE, "/web/c", NODE_EXITED);
	long x = find_event(f, mark, TREE_EV_STATE, "/web/b/x", NODE_EXITED);
	long b = find_event(f, mark, TREE_EV_STATE, "/web/b", NODE_EXITED);
	long a = find_event(f, mark, TREE_EV_STATE, "/web/a", NODE_EXITED);
	long w = find_event(f, mark, TREE_EV_STATE, "/web", NODE_EXITED);
	assert_true(c >= 0 && x >= 0 && b >= 0 && a >= 0 && w >= 0);
	assert_true(c < x && x < b && b < a && a < w);
	/* The parent announced stopping before any child moved. */
	assert_true(find_event(f, mark, TREE_EV_STATE, "/web", NODE_STOPPING)
	    < c);
}

static void
test_cause_chain_names_the_origin_at_every_depth(void **state)
{
	struct fixture *f = *state;
	struct node *web;

	web = spawn_ok(f, "{\"name\":\"web\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"b\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"x\",\"kind\":\"sleep\"}]}]}");
	tree_cancel(f->tree, web, "deploy", NULL);
	assert_string_equal(cause_text(web->cause), "cancelled: deploy");
	assert_string_equal(cause_text(lookup(f, "/web/b")->cause),
	    "parent cancelled: /web: cancelled: deploy");
	assert_string_equal(cause_text(lookup(f, "/web/b/x")->cause),
	    "parent cancelled: /web: cancelled: deploy");
}

static void
test_cancel_without_reason_and_of_terminated_node(void **state)
{
	struct fixture *f = *state;
	struct node *n = spawn_ok(f, "{\"name\":\"s\",\"kind\":\"sleep\"}");
	size_t mark;

	assert_int_equal(tree_cancel(f->tree, n, NULL, NULL), 0);
	assert_string_equal(cause_text(n->cause), "cancelled");
	mark = f->nev;
	/* A no-op: no event, same cause. */
	assert_int_equal(tree_cancel(f->tree, n, "again", NULL), 0);
	assert_int_equal(f->nev, mark);
	assert_string_equal(cause_text(n->cause), "cancelled");
}

static void
test_spawn_errors_leave_the_tree_unchanged(void **state)
{
	struct fixture *f = *state;
	struct proto_err err;
	size_t nodes;

	spawn_ok(f, "{\"name\":\"w\",\"kind\":\"sleep\"}");
	spawn_ok(f, "{\"name\":\"sup\",\"kind\":\"supervisor\"}");
	nodes = f->tree->stats.nodes;

	assert_null(spawn_json(f, "{\"parent\":\"/nope\",\"name\":\"a\","
	    "\"kind\":\"sleep\"}", &err));
	assert_int_equal(err.code, PROTO_NOT_FOUND);
	assert_non_null(strstr(err.message, "/nope"));

	assert_null(spawn_json(f, "{\"parent\":\"/w\",\"name\":\"a\","
	    "\"kind\":\"sleep\"}", &err));
	assert_int_equal(err.code, PROTO_CONFLICT);
	assert_non_null(strstr(err.message, "/w is a worker"));

	assert_null(spawn_json(f, "{\"name\":\"w\",\"kind\":\"tick\"}", &err));
	assert_int_equal(err.code, PROTO_EXISTS);

	tree_cancel(f->tree, lookup(f, "/sup"), NULL, NULL);
	assert_null(spawn_json(f, "{\"parent\":\"/sup\",\"name\":\"a\","
	    "\"kind\":\"sleep\"}", &err));
	assert_int_equal(err.code, PROTO_CONFLICT);
	assert_non_null(strstr(err.message, "exited"));

	assert_int_equal(f->tree->stats.nodes, nodes);
}

static void
test_node_limit_counts_the_whole_subtree(void **state)
{
	struct fixture *f = *state;
	struct proto_err err;

	f->tree->lim.max_nodes = 3;
	assert_null(spawn_json(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"a\",\"kind\":\"sleep\"},"
	    "{\"name\":\"b\",\"kind\":\"sleep\"}]}", &err));
	assert_int_equal(err.code, PROTO_LIMIT);
	assert_int_equal(f->tree->stats.nodes, 1);
	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"a\",\"kind\":\"sleep\"}]}");
	assert_int_equal(f->tree->stats.nodes, 3);
}

static void
test_remove_needs_terminated_and_announces_children_first(void **state)
{
	struct fixture *f = *state;
	struct proto_err err;
	struct node *s;
	size_t mark;

	s = spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"a\",\"kind\":\"sleep\"}]}");
	assert_int_equal(tree_remove(f->tree, s, &err), -1);
	assert_int_equal(err.code, PROTO_CONFLICT);
	assert_int_equal(tree_remove(f->tree, f->tree->root, &err), -1);
	tree_cancel(f->tree, s, NULL, NULL);
	mark = f->nev;
	assert_int_equal(tree_remove(f->tree, s, &err), 0);
	assert_true(find_event(f, mark, TREE_EV_REMOVED, "/s/a", -1) <
	    find_event(f, mark, TREE_EV_REMOVED, "/s", -1));
	assert_null(lookup(f, "/s"));
	assert_null(lookup(f, "/s/a"));
	assert_int_equal(f->tree->stats.nodes, 1);
	/* The name is free again, with a new id. */
	assert_true(spawn_ok(f, "{\"name\":\"s\",\"kind\":\"sleep\"}")->id >
	    2);
}

static void
test_cancel_root_stops_children_and_root_stays_running(void **state)
{
	struct fixture *f = *state;
	struct node *a, *b;

	a = spawn_ok(f, "{\"name\":\"a\",\"kind\":\"sleep\"}");
	b = spawn_ok(f, "{\"name\":\"b\",\"kind\":\"tick\"}");
	tree_cancel(f->tree, f->tree->root, "all", NULL);
	assert_int_equal(f->tree->root->state, NODE_RUNNING);
	assert_int_equal(a->state, NODE_EXITED);
	assert_int_equal(b->state, NODE_EXITED);
	assert_string_equal(cause_text(a->cause),
	    "parent cancelled: /: cancelled: all");
	assert_true(tree_idle(f->tree));
	/* New children are still welcome. */
	assert_int_equal(spawn_ok(f, "{\"name\":\"c\",\"kind\":\"sleep\"}")
	    ->state, NODE_RUNNING);
}

static void
test_deadline_cancels_with_deadline_exceeded(void **state)
{
	struct fixture *f = *state;
	struct node *s;

	s = spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"timeout_ms\":30,\"children\":[{\"name\":\"a\","
	    "\"kind\":\"sleep\",\"timeout_ms\":100000}]}");
	run_for(f, 150);
	assert_int_equal(s->state, NODE_EXITED);
	assert_string_equal(cause_text(s->cause), "deadline exceeded");
	/* The child's own deadline is later; its ancestor's wins. */
	assert_string_equal(cause_text(lookup(f, "/s/a")->cause),
	    "parent cancelled: /s: deadline exceeded");
}

static void
test_sleep_with_ms_exits_zero_and_is_not_restarted(void **state)
{
	struct fixture *f = *state;
	struct node *s = spawn_ok(f, "{\"name\":\"s\",\"kind\":\"sleep\","
	    "\"ms\":10}");

	run_for(f, 100);
	assert_int_equal(s->state, NODE_EXITED);
	assert_int_equal(s->exit.kind, EXIT_CODE);
	assert_int_equal(s->exit.value, 0);
	assert_string_equal(cause_text(s->cause), "exited with code 0");
	assert_int_equal(s->restarts, 0);
}

static void
test_ten_thousand_node_tree_is_cancelled_completely(void **state)
{
	struct fixture *f = *state;
	size_t size = 64 + 10000 * 40, off;
	char *text = malloc(size);
	struct node *big;

	off = (size_t)snprintf(text, size, "{\"name\":\"big\","
	    "\"kind\":\"supervisor\",\"children\":[");
	for (int i = 0; i < 10000; i++)
		off += (size_t)snprintf(text + off, size - off,
		    "%s{\"name\":\"n%d\",\"kind\":\"sleep\"}", i ? "," : "", i);
	snprintf(text + off, size - off, "]}");
	big = spawn_ok(f, text);
	free(text);
	assert_int_equal(big->state, NODE_RUNNING);
	assert_int_equal(f->tree->stats.by_state[NODE_RUNNING], 10002);
	tree_cancel(f->tree, big, NULL, NULL);
	assert_int_equal(big->state, NODE_EXITED);
	assert_int_equal(f->tree->stats.by_state[NODE_EXITED], 10001);
	assert_int_equal(f->violations, 0);
	assert_true(tree_idle(f->tree));
}

static void
test_shutdown_cancels_everything_and_refuses_spawns(void **state)
{
	struct fixture *f = *state;
	struct proto_err err;
	struct node *a = spawn_ok(f, "{\"name\":\"a\",\"kind\":\"sleep\"}");

	tree_shutdown(f->tree);
	assert_int_equal(a->state, NODE_EXITED);
	assert_string_equal(cause_text(a->cause), "daemon shutdown");
	assert_null(spawn_json(f, "{\"name\":\"b\",\"kind\":\"sleep\"}", &err));
	assert_int_equal(err.code, PROTO_CONFLICT);
}

static void
test_restart_keeps_id_and_counts(void **state)
{
	struct fixture *f = *state;
	struct node *s;
	uint64_t id;

	s = spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"a\",\"kind\":\"tick\"}]}");
	id = lookup(f, "/s/a")->id;
	assert_int_equal(tree_restart(f->tree, s, NULL), 0);
	assert_int_equal(s->state, NODE_RUNNING);
	assert_int_equal(s->restarts, 1);
	assert_int_equal(lookup(f, "/s/a")->id, id);
	assert_int_equal(lookup(f, "/s/a")->restarts, 1);
	assert_int_equal(lookup(f, "/s/a")->state, NODE_RUNNING);
	/* A terminated node starts again too. */
	tree_cancel(f->tree, s, NULL, NULL);
	assert_int_equal(tree_restart(f->tree, s, NULL), 0);
	assert_int_equal(s->state, NODE_RUNNING);
	assert_int_equal(s->restarts, 2);
	assert_null(s->cause);
	assert_int_equal(f->violations, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_supervisor_children_start_in_order_and_announce_parents_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_stops_children_in_reverse_order_before_the_parent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cause_chain_names_the_origin_at_every_depth,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_without_reason_and_of_terminated_node,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_spawn_errors_leave_the_tree_unchanged,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_node_limit_counts_the_whole_subtree,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_remove_needs_terminated_and_announces_children_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_root_stops_children_and_root_stays_running,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_deadline_cancels_with_deadline_exceeded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sleep_with_ms_exits_zero_and_is_not_restarted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ten_thousand_node_tree_is_cancelled_completely,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_shutdown_cancels_everything_and_refuses_spawns,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_keeps_id_and_counts,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
