/*
 * Supervision seen by a client: backoff measured on the daemon's own
 * timestamps (ended_ms, due_ms), the sliding intensity window, manual
 * restarts not counted, restart of terminated nodes, deadlines.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static json_t *
inspect(int fd, const char *path)
{
	return h_ok(fd, "inspect", json_pack("{s:s}", "path", path));
}

/* Under valgrind (ARBOR_VALGRIND) the daemon takes a few ms between
 * stamping a child's end and arming its backoff: delays measured as
 * due_ms - ended_ms come out that much longer. */
static int64_t
slack_ms(void)
{
	return getenv("ARBOR_VALGRIND") != NULL ? 10 : 0;
}

/* Samples a node while it crash-loops and returns the first n backoff
 * delays it chose, as due_ms - ended_ms of each backoff. */
static void
sample_delays(int fd, const char *path, int64_t *delays, int n)
{
	int64_t last_due = 0;
	int got = 0;

	for (int i = 0; i < 20000 && got < n; i++) {
		json_t *v = inspect(fd, path);

		if (strcmp(h_str(v, "state"), "backoff") == 0 &&
		    h_num(v, "due_ms") != last_due) {
			last_due = h_num(v, "due_ms");
			delays[got++] = last_due - h_num(v, "ended_ms");
		}
		json_decref(v);
		usleep(1000);
	}
	if (got < n)
		fail_msg("saw %d of %d backoffs", got, n);
}

static void
test_backoff_doubles_per_restart_and_is_capped(void **state)
{
	int fd = h_connect(&D);
	int64_t d[5];
	json_t *r;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[{s:s,s:s,s:i,s:s,"
	    "s:i,s:i}]}", "name", "s", "kind", "supervisor", "max_restarts",
	    1000, "children", "name", "c", "kind", "fail", "after_ms", 5,
	    "restart", "permanent", "backoff_ms", 40, "backoff_max_ms", 200));
	json_decref(r);
	sample_delays(fd, "/s/c", d, 5);
	/* Each within [3/4, 1] of 40, 80, 160, then the cap of 200. */
	assert_in_range(d[0], 30, 40 + slack_ms());
	assert_in_range(d[1], 60, 80 + slack_ms());
	assert_in_range(d[2], 120, 160 + slack_ms());
	assert_in_range(d[3], 150, 200 + slack_ms());
	assert_in_range(d[4], 150, 200 + slack_ms());
	close(fd);
}

static void
test_backoff_resets_once_the_child_stayed_up(void **state)
{
	int fd = h_connect(&D);
	int64_t d[3];
	json_t *r;

	/* Up for 60 ms each time, longer than backoff_max_ms: no growth. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[{s:s,s:s,s:i,s:s,"
	    "s:i,s:i}]}", "name", "s", "kind", "supervisor", "max_restarts",
	    1000, "children", "name", "c", "kind", "fail", "after_ms", 60,
	    "restart", "permanent", "backoff_ms", 20, "backoff_max_ms", 50));
	json_decref(r);
	sample_delays(fd, "/s/c", d, 3);
	for (int i = 0; i < 3; i++)
		assert_in_range(d[i], 15, 20 + slack_ms());
	close(fd);
}

static void
test_intensity_is_a_sliding_window(void **state)
{
	int fd = h_connect(&D);
	json_t *r, *in;

	/* Two restarts per 300 ms allowed; one failure every ~150 ms stays
	 * under it for as long as it goes on. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:i,s:[{s:s,s:s,s:i,"
	    "s:s,s:i,s:i}]}", "name", "slow", "kind", "supervisor",
	    "max_restarts", 2, "period_ms", 300, "children", "name", "c",
	    "kind", "fail", "after_ms", 150, "restart", "permanent",
	    "backoff_ms", 1, "backoff_max_ms", 1));
	json_decref(r);
	/* The same, failing every ~5 ms, gives up on the third failure. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:i,s:s,s:[{s:s,s:s,"
	    "s:i,s:s,s:i,s:i}]}", "name", "fast", "kind", "supervisor",
	    "max_restarts", 2, "period_ms", 300, "restart", "temporary",
	    "children", "name", "c", "kind", "fail", "after_ms", 5,
	    "restart", "permanent", "backoff_ms", 1, "backoff_max_ms", 1));
	json_decref(r);
	usleep(1000 * 1000);
	r = inspect(fd, "/slow");
	assert_string_equal(h_str(r, "state"), "running");
	in = json_object_get(r, "intensity");
	assert_int_equal(h_num(in, "max_restarts"), 2);
	assert_true(h_num(in, "recent_restarts") <= 2);
	json_decref(r);
	r = inspect(fd, "/slow/c");
	assert_true(h_num(r, "restarts") >= 4);
	json_decref(r);
	r = inspect(fd, "/fast");
	assert_string_equal(h_str(r, "state"), "failed");
	assert_string_equal(h_str(r, "cause"), "restart intensity exceeded");
	json_decref(r);
	r = inspect(fd, "/fast/c");
	assert_int_equal(h_num(r, "restarts"), 2);
	assert_string_equal(h_str(r, "state"), "failed");
	json_decref(r);
	close(fd);
}

static void
test_manual_restarts_are_not_counted(void **state)
{
	int fd = h_connect(&D);
	json_t *r;
	json_int_t id;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[{s:s,s:s}]}", "name",
	    "s", "kind", "supervisor", "max_restarts", 1, "children", "name",
	    "t", "kind", "tick"));
	json_decref(r);
	r = inspect(fd, "/s/t");
	id = h_num(r, "id");
	json_decref(r);
	for (int i = 0; i < 5; i++) {
		r = h_ok(fd, "restart", json_pack("{s:s}", "path", "/s/t"));
		assert_string_equal(h_str(r, "state"), "running");
		json_decref(r);
	}
	r = inspect(fd, "/s/t");
	assert_int_equal(h_num(r, "restarts"), 5);
	assert_int_equal(h_num(r, "id"), id);
	json_decref(r);
	r = inspect(fd, "/s");
	assert_string_equal(h_str(r, "state"), "running");
	assert_int_equal(h_num(json_object_get(r, "intensity"),
	    "recent_restarts"), 0);
	json_decref(r);
	close(fd);
}

static void
test_restart_starts_a_terminated_node_again(void **state)
{
	int fd = h_connect(&D);
	const char *kind;
	json_t *r;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "name",
	    "s", "kind", "supervisor", "children", "name", "t", "kind",
	    "tick"));
	json_decref(r);
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s", "wait",
	    1));
	json_decref(r);
	/* A child of a terminated parent cannot come back on its own. */
	assert_int_equal(h_err(fd, "restart", json_pack("{s:s}", "path",
	    "/s/t"), &kind), -32003);
	assert_int_equal(h_err(fd, "restart", json_pack("{s:s}", "path", "/"),
	    &kind), -32003);
	r = h_ok(fd, "restart", json_pack("{s:s}", "path", "/s"));
	assert_string_equal(h_str(r, "state"), "running");
	assert_int_equal(h_num(r, "restarts"), 1);
	assert_true(json_is_null(json_object_get(r, "cause")));
	json_decref(r);
	r = inspect(fd, "/s/t");
	assert_string_equal(h_str(r, "state"), "running");
	assert_int_equal(h_num(r, "restarts"), 1);
	json_decref(r);
	close(fd);
}

static void
test_deadline_is_inherited_down_the_tree(void **state)
{
	int fd = h_connect(&D);
	json_t *r;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[{s:s,s:s,s:[{s:s,"
	    "s:s,s:s}]}]}", "name", "job", "kind", "supervisor", "timeout_ms",
	    100, "children", "name", "inner", "kind", "supervisor",
	    "children", "name", "w", "kind", "tick", "restart", "permanent"));
	json_decref(r);
	r = h_ok(fd, "wait", json_pack("{s:s,s:i}", "path", "/job",
	    "timeout_ms", 5000));
	assert_string_equal(h_str(r, "cause"), "deadline exceeded");
	json_decref(r);
	r = inspect(fd, "/job/inner/w");
	assert_string_equal(h_str(r, "state"), "exited");
	assert_string_equal(h_str(r, "cause"),
	    "parent cancelled: /job: deadline exceeded");
	assert_int_equal(h_num(r, "restarts"), 0);
	json_decref(r);
	close(fd);
}

static void
wait_state(int fd, const char *path, const char *state)
{
	json_t *r = h_ok(fd, "wait", json_pack("{s:s,s:s,s:i}", "path", path,
	    "for", strcmp(state, "running") == 0 ? "running" : "terminated",
	    "timeout_ms", 10000));

	assert_string_equal(h_str(r, "state"), state);
	json_decref(r);
}

static void
test_ordered_start_waits_for_readiness(void **state)
{
	int fd = h_connect(&D);
	json_t *r, *a, *b;

	/* a says it is ready 300 ms after it starts; b must wait for it. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s,s:s,s:[s,s,s]},"
	    "{s:s,s:s}]}", "name", "s", "kind", "supervisor", "children",
	    "name", "a", "kind", "exec", "ready", "fd", "argv", "sh", "-c",
	    "sleep 0.3; echo up >&$ARBOR_READY_FD; exec sleep 100",
	    "name", "b", "kind", "tick"));
	assert_string_equal(h_str(r, "state"), "starting");
	json_decref(r);
	a = inspect(fd, "/s/a");
	b = inspect(fd, "/s/b");
	assert_string_equal(h_str(a, "state"), "starting");
	assert_true(json_is_integer(json_object_get(a, "pid")));
	assert_string_equal(h_str(b, "state"), "starting");
	assert_true(json_is_null(json_object_get(b, "started_ms")));
	json_decref(a);
	json_decref(b);
	wait_state(fd, "/s", "running");
	a = inspect(fd, "/s/a");
	b = inspect(fd, "/s/b");
	assert_true(h_num(b, "started_ms") - h_num(a, "started_ms") >= 250);
	json_decref(a);
	json_decref(b);
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s", "wait",
	    1));
	json_decref(r);
	close(fd);
}

static void
test_start_timeout_counts_as_a_failure(void **state)
{
	int fd = h_connect(&D);
	json_t *r;

	/* Never ready: a temporary child is given up on, a transient one is
	 * restarted (it failed), each time stopped after its start timeout. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:[s,s]}", "name",
	    "never", "kind", "exec", "ready", "fd", "start_timeout_ms", 200,
	    "argv", "sleep", "100"));
	json_decref(r);
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:[s,s]}",
	    "name", "once", "kind", "exec", "restart", "temporary", "ready",
	    "fd", "start_timeout_ms", 200, "shutdown_ms", 100, "argv", "sleep",
	    "100"));
	json_decref(r);
	wait_state(fd, "/once", "failed");
	r = inspect(fd, "/once");
	assert_string_equal(h_str(r, "cause"), "start timeout");
	assert_int_equal(h_num(r, "restarts"), 0);
	json_decref(r);
	for (int i = 0; i < 100; i++) {
		r = inspect(fd, "/never");
		if (h_num(r, "restarts") >= 1) {
			json_decref(r);
			break;
		}
		json_decref(r);
		assert_true(i < 99);
		usleep(20000);
	}
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/never", "wait",
	    1));
	json_decref(r);
	close(fd);
}

static void
test_exec_restart_types_by_how_the_program_ended(void **state)
{
	int fd = h_connect(&D);
	json_t *r;
	int pid;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[{s:s,s:s,s:[s,s,s]},"
	    "{s:s,s:s,s:i,s:[s,s,s]},{s:s,s:s,s:[s,s]}]}", "name", "s",
	    "kind", "supervisor", "max_restarts", 100, "children",
	    "name", "ok", "kind", "exec", "argv", "sh", "-c", "exit 0",
	    "name", "bad", "kind", "exec", "backoff_ms", 10000, "argv", "sh",
	    "-c", "exit 3",
	    "name", "victim", "kind", "exec", "argv", "sleep", "100"));
	json_decref(r);
	wait_state(fd, "/s/ok", "exited");
	r = inspect(fd, "/s/ok");
	assert_int_equal(h_num(json_object_get(r, "exit"), "code"), 0);
	assert_int_equal(h_num(r, "restarts"), 0);
	json_decref(r);
	/* A non-zero exit: restarted (after its long backoff). */
	for (int i = 0; i < 100; i++) {
		r = inspect(fd, "/s/bad");
		if (strcmp(h_str(r, "state"), "backoff") == 0) {
			assert_int_equal(h_num(json_object_get(r, "exit"),
			    "code"), 3);
			json_decref(r);
			break;
		}
		json_decref(r);
		assert_true(i < 99);
		usleep(20000);
	}
	/* A signal arbord did not send is abnormal: restarted. */
	wait_state(fd, "/s/victim", "running");
	r = inspect(fd, "/s/victim");
	pid = (int)h_num(r, "pid");
	json_decref(r);
	assert_true(pid > 0);
	kill(pid, SIGKILL);
	for (int i = 0; i < 200; i++) {
		r = inspect(fd, "/s/victim");
		if (h_num(r, "restarts") == 1 && strcmp(h_str(r, "state"),
		    "running") == 0) {
			assert_true(h_num(r, "pid") != pid);
			json_decref(r);
			break;
		}
		json_decref(r);
		assert_true(i < 199);
		usleep(10000);
	}
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s", "wait",
	    1));
	json_decref(r);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_backoff_doubles_per_restart_and_is_capped, h_setup,
		    h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_backoff_resets_once_the_child_stayed_up, h_setup,
		    h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_intensity_is_a_sliding_window, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_manual_restarts_are_not_counted, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_starts_a_terminated_node_again, h_setup,
		    h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_deadline_is_inherited_down_the_tree, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_ordered_start_waits_for_readiness, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_start_timeout_counts_as_a_failure, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_exec_restart_types_by_how_the_program_ended, h_setup,
		    h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
