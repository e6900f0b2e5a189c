/*
 * Supervision, seen through the tree's event hook: restart types,
 * strategies, intensity and escalation, backoff, start timeouts. Periods
 * are small so each case runs in well under a second.
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
#include "supervisor.h"
#include "tree.h"
#include "tree_fixture.h"

/* Steps the loop until all of paths are running with restarts >= min, so
 * the checks that follow do not depend on how fast this machine is. */
static void
run_until_restarted(struct fixture *f, const char *const *paths,
    uint32_t min, int max_ms)
{
	for (int t = 0; t < max_ms; t += 2) {
		bool done = true;

		for (const char *const *p = paths; *p != NULL; p++) {
			struct node *n = lookup(f, *p);

			if (n->restarts < min || n->state != NODE_RUNNING)
				done = false;
		}
		if (done)
			return;
		run_for(f, 2);
	}
	fail_msg("not restarted within %d ms", max_ms);
}

static void
test_permanent_child_is_restarted_with_same_id(void **state)
{
	struct fixture *f = *state;
	struct node *c;
	uint64_t id;

	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\",\"max_restarts\":100,"
	    "\"children\":[{\"name\":\"c\",\"kind\":\"fail\",\"after_ms\":5,"
	    "\"code\":0,\"restart\":\"permanent\",\"backoff_ms\":1,"
	    "\"backoff_max_ms\":2}]}");
	c = lookup(f, "/s/c");
	id = c->id;
	run_for(f, 100);
	assert_true(c->restarts >= 2);
	assert_int_equal(lookup(f, "/s/c")->id, id);
	assert_int_equal(f->violations, 0);
}

static void
test_transient_child_restarts_only_after_abnormal_end(void **state)
{
	struct fixture *f = *state;
	struct node *ok, *bad;

	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\",\"max_restarts\":100,"
	    "\"children\":[{\"name\":\"ok\",\"kind\":\"fail\",\"after_ms\":5,"
	    "\"code\":0,\"backoff_ms\":1},"
	    "{\"name\":\"bad\",\"kind\":\"fail\",\"after_ms\":5,"
	    "\"code\":2,\"backoff_ms\":1,\"backoff_max_ms\":2}]}");
	ok = lookup(f, "/s/ok");
	bad = lookup(f, "/s/bad");
	run_for(f, 100);
	assert_int_equal(ok->state, NODE_EXITED);
	assert_int_equal(ok->restarts, 0);
	assert_int_equal(ok->exit.value, 0);
	assert_true(bad->restarts >= 2);
}

static void
test_temporary_child_is_never_restarted(void **state)
{
	struct fixture *f = *state;
	struct node *t;

	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"t\",\"kind\":\"fail\",\"after_ms\":5,"
	    "\"restart\":\"temporary\"}]}");
	t = lookup(f, "/s/t");
	run_for(f, 60);
	assert_int_equal(t->state, NODE_EXITED);
	assert_int_equal(t->exit.value, 1);
	assert_int_equal(t->restarts, 0);
}

static void
test_cancelled_child_is_not_restarted(void **state)
{
	struct fixture *f = *state;
	struct node *c;

	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"c\",\"kind\":\"tick\","
	    "\"restart\":\"permanent\"}]}");
	c = lookup(f, "/s/c");
	tree_cancel(f->tree, c, NULL, NULL);
	run_for(f, 30);
	assert_int_equal(c->state, NODE_EXITED);
	assert_int_equal(c->restarts, 0);
	assert_int_equal(lookup(f, "/s")->state, NODE_RUNNING);
}

static void
test_one_for_all_restarts_every_sibling_in_order(void **state)
{
	struct fixture *f = *state;
	size_t mark;

	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"strategy\":\"one_for_all\",\"children\":["
	    "{\"name\":\"a\",\"kind\":\"tick\"},"
	    "{\"name\":\"b\",\"kind\":\"fail\",\"after_ms\":10,"
	    "\"restart\":\"temporary\"},"
	    "{\"name\":\"c\",\"kind\":\"fail\",\"after_ms\":40,"
	    "\"backoff_ms\":5},"
	    "{\"name\":\"d\",\"kind\":\"tick\"}]}");
	mark = f->nev;
	run_until_restarted(f, (const char *const[]){ "/s/a", "/s/c", "/s/d",
	    NULL }, 1, 2000);
	/* c failed: d then a were stopped (b, temporary, had ended), and
	 * both came back, a before c before d. */
	assert_int_equal(lookup(f, "/s/a")->restarts, 1);
	assert_int_equal(lookup(f, "/s/c")->restarts, 1);
	assert_int_equal(lookup(f, "/s/d")->restarts, 1);
	assert_int_equal(lookup(f, "/s/b")->state, NODE_EXITED);
	assert_true(find_event(f, mark, TREE_EV_STATE, "/s/d", NODE_STOPPING) <
	    find_event(f, mark, TREE_EV_STATE, "/s/a", NODE_STOPPING));
	long a = find_event(f, mark, TREE_EV_STATE, "/s/a", NODE_RUNNING);
	long c = find_event(f, mark, TREE_EV_STATE, "/s/c", NODE_RUNNING);
	long d = find_event(f, mark, TREE_EV_STATE, "/s/d", NODE_RUNNING);
	assert_true(a >= 0 && a < c && c < d);
}

static void
test_rest_for_one_restarts_the_failed_child_and_later_ones(void **state)
{
	struct fixture *f = *state;

	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"strategy\":\"rest_for_one\",\"children\":["
	    "{\"name\":\"a\",\"kind\":\"tick\"},"
	    "{\"name\":\"b\",\"kind\":\"fail\",\"after_ms\":40,"
	    "\"backoff_ms\":5},"
	    "{\"name\":\"c\",\"kind\":\"tick\"}]}");
	run_until_restarted(f, (const char *const[]){ "/s/b", "/s/c", NULL },
	    1, 2000);
	assert_int_equal(lookup(f, "/s/a")->restarts, 0);
	assert_int_equal(lookup(f, "/s/b")->restarts, 1);
	assert_int_equal(lookup(f, "/s/c")->restarts, 1);
}

static void
test_a_failure_while_a_group_waits_rearms_its_one_timer(void **state)
{
	struct fixture *f = *state;

	/* y fails first and its group (y) waits 100 ms; x fails while it
	 * waits, and its group (x, y) waits 5 ms: one timer, re-armed. */
	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"strategy\":\"rest_for_one\",\"max_restarts\":100,"
	    "\"children\":["
	    "{\"name\":\"x\",\"kind\":\"fail\",\"after_ms\":30,"
	    "\"backoff_ms\":5,\"backoff_max_ms\":5},"
	    "{\"name\":\"y\",\"kind\":\"fail\",\"after_ms\":10,"
	    "\"backoff_ms\":100,\"backoff_max_ms\":100}]}");
	run_until_restarted(f, (const char *const[]){ "/s/x", "/s/y", NULL },
	    1, 2000);
	/* The first group's timer, had it been left armed, would fire now. */
	run_for(f, 150);
	assert_int_equal(lookup(f, "/s")->state, NODE_RUNNING);
	assert_int_equal(f->violations, 0);
}

static void
test_intensity_exceeded_fails_supervisor_and_escalates_two_levels(
    void **state)
{
	struct fixture *f = *state;
	struct node *top, *mid;

	top = spawn_ok(f, "{\"name\":\"top\",\"kind\":\"supervisor\","
	    "\"max_restarts\":0,\"restart\":\"temporary\",\"children\":["
	    "{\"name\":\"mid\",\"kind\":\"supervisor\",\"max_restarts\":2,"
	    "\"period_ms\":5000,\"children\":["
	    "{\"name\":\"w\",\"kind\":\"fail\",\"after_ms\":2,"
	    "\"backoff_ms\":1,\"backoff_max_ms\":1}]}]}");
	mid = lookup(f, "/top/mid");
	run_for(f, 150);
	/* w: two restarts allowed, the third failure fails mid; top allows
	 * none, so it fails too; the root keeps top as failed. */
	assert_int_equal(lookup(f, "/top/mid/w")->restarts, 2);
	assert_int_equal(mid->state, NODE_FAILED);
	assert_string_equal(cause_text(mid->cause),
	    "restart intensity exceeded");
	assert_int_equal(top->state, NODE_FAILED);
	assert_int_equal(f->tree->root->state, NODE_RUNNING);
	assert_int_equal(f->violations, 0);
}

static void
test_root_marks_child_failed_when_intensity_exceeded(void **state)
{
	struct fixture *f = *state;
	struct node *w;

	f->tree->root->spec->u.sup.max_restarts = 1;
	w = spawn_ok(f, "{\"name\":\"w\",\"kind\":\"fail\",\"after_ms\":2,"
	    "\"backoff_ms\":1,\"backoff_max_ms\":1}");
	run_for(f, 60);
	assert_int_equal(w->state, NODE_FAILED);
	assert_int_equal(w->restarts, 1);
	assert_int_equal(f->tree->root->state, NODE_RUNNING);
}

static void
test_backoff_doubles_and_is_capped(void **state)
{
	struct fixture *f = *state;
	struct node *c;

	spawn_ok(f, "{\"name\":\"s\",\"kind\":\"supervisor\",\"max_restarts\":100,"
	    "\"children\":[{\"name\":\"c\",\"kind\":\"fail\",\"after_ms\":0,"
	    "\"backoff_ms\":8,\"backoff_max_ms\":40}]}");
	c = lookup(f, "/s/c");
	c->running_mono = 0;
	int64_t d[6];
	for (int i = 0; i < 6; i++)
		d[i] = sup_backoff_next(c);
	/* [6,8], [12,16], [24,32], then capped at [30,40]. */
	assert_in_range(d[0], 6, 8);
	assert_in_range(d[1], 12, 16);
	assert_in_range(d[2], 24, 32);
	assert_in_range(d[3], 30, 40);
	assert_in_range(d[5], 30, 40);
}

static void
test_cancel_of_a_held_supervisor_ends_its_held_children(void **state)
{
	struct fixture *f = *state;
	struct node *p, *x;

	spawn_ok(f, "{\"name\":\"top\",\"kind\":\"supervisor\","
	    "\"strategy\":\"one_for_all\",\"children\":["
	    "{\"name\":\"a\",\"kind\":\"fail\",\"after_ms\":5,"
	    "\"restart\":\"permanent\",\"backoff_ms\":400,"
	    "\"backoff_max_ms\":400},"
	    "{\"name\":\"p\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"x\",\"kind\":\"tick\"}]}]}");
	p = lookup(f, "/top/p");
	x = lookup(f, "/top/p/x");
	run_for(f, 50);
	assert_int_equal(p->state, NODE_HELD);
	assert_int_equal(x->state, NODE_HELD);
	assert_int_equal(tree_cancel(f->tree, p, "gone", NULL), 0);
	assert_int_equal(p->state, NODE_EXITED);
	assert_int_equal(x->state, NODE_EXITED);
	assert_string_equal(cause_text(x->cause),
	    "parent cancelled: /top/p: cancelled: gone");
	assert_int_equal(f->violations, 0);
	/* The group starts without them: p stays as the client left it. */
	run_for(f, 600);
	assert_true(lookup(f, "/top/a")->restarts >= 1);
	assert_int_equal(p->state, NODE_EXITED);
	assert_int_equal(f->violations, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_cancel_of_a_held_supervisor_ends_its_held_children,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_permanent_child_is_restarted_with_same_id, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_transient_child_restarts_only_after_abnormal_end, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_temporary_child_is_never_restarted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancelled_child_is_not_restarted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_one_for_all_restarts_every_sibling_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rest_for_one_restarts_the_failed_child_and_later_ones,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_failure_while_a_group_waits_rearms_its_one_timer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_intensity_exceeded_fails_supervisor_and_escalates_two_levels,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_root_marks_child_failed_when_intensity_exceeded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_backoff_doubles_and_is_capped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
