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

static void poll_state(int fd, const char *path, const char *state,
    int min_restarts, int timeout_ms);

/* Under valgrind (ARBOR_VALGRIND) the daemon takes a few ms between
 * stamping a child's end and arming its backoff: delays measured as
 * due_ms - ended_ms come out that much longer. */
static int64_t
slack_ms(void)
{
	return getenv("ARBOR_VALGRIND") != NULL ? 10 : 0;
}

/* arbord's stderr, at level info, for the tests that read what it says
 * of each backoff (a poll of the view may miss one of a few ms). */
static char logpath[64];

static int
setup_with_log(void **state)
{
	const char *args[] = { "--log-level", "info", NULL };
	int fd;

	snprintf(logpath, sizeof logpath, "/tmp/arbor-sup-log-XXXXXX");
	fd = mkstemp(logpath);
	assert_true(fd != -1);
	h_start_stderr(&D, args, fd);
	close(fd);
	return 0;
}

static int
teardown_with_log(void **state)
{
	unlink(logpath);
	return h_teardown(state);
}

#define MAX_LOGGED 64

/* The delays arbord chose for path's restarts as its log says them
 * ("PATH: restarting in N ms (restart K)"): delays[K - 1]; returns the
 * highest K said (all of 1..K are there, the log is in order). */
static int
logged_delays(const char *path, int64_t *delays)
{
	char line[512], key[128];
	FILE *f = fopen(logpath, "r");
	int got = 0;

	assert_non_null(f);
	snprintf(key, sizeof key, "%s: restarting in ", path);
	while (fgets(line, sizeof line, f) != NULL) {
		const char *p = strstr(line, key);
		long long ms;
		unsigned k;

		if (p == NULL || sscanf(p + strlen(key), "%lld ms (restart %u)",
		    &ms, &k) != 2 || k < 1 || k > MAX_LOGGED)
			continue;
		delays[k - 1] = ms;
		if ((int)k > got)
			got = (int)k;
	}
	fclose(f);
	return got;
}

/* The first n backoff delays of a node that crash-loops, from the log
 * (every one); and each backoff seen in the view meanwhile shows the same
 * delay as due_ms - ended_ms (at least one is seen). */
static void
sample_delays(int fd, const char *path, int64_t *delays, int n)
{
	int64_t logged[MAX_LOGGED], seen_delay[MAX_LOGGED];
	bool seen[MAX_LOGGED] = { false };
	int got = 0, compared = 0;

	assert_true(n <= MAX_LOGGED);
	for (int i = 0; i < 20000 && (got < n || compared == 0); i++) {
		json_t *v = inspect(fd, path);
		json_int_t k = h_num(v, "restarts");

		/* In backoff after k restarts: the delay of restart k + 1. */
		if (strcmp(h_str(v, "state"), "backoff") == 0 && k >= 0 &&
		    k < MAX_LOGGED) {
			seen[k] = true;
			seen_delay[k] = h_num(v, "due_ms") - h_num(v,
			    "ended_ms");
		}
		json_decref(v);
		if (i % 10 == 0) {
			got = logged_delays(path, logged);
			compared = 0;
			for (int j = 0; j < got; j++)
				if (seen[j]) {
					if (seen_delay[j] != logged[j])
						fail_msg("restart %d: the view "
						    "says %lld ms, the log %lld",
						    j + 1,
						    (long long)seen_delay[j],
						    (long long)logged[j]);
					compared++;
				}
		}
		usleep(1000);
	}
	if (got < n || compared == 0)
		fail_msg("saw %d of %d backoffs (%d in the view)", got, n,
		    compared);
	memcpy(delays, logged, (size_t)n * sizeof *delays);
}

static void
test_backoff_doubles_per_restart_and_is_capped(void **state)
{
	int fd = h_connect(&D);
	int64_t d[6];
	json_t *r;

	/* The cap is also how long a run must stay up to reset the backoff:
	 * 500 ms, so a loaded machine that stalls a 5 ms run does not. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[{s:s,s:s,s:i,s:s,"
	    "s:i,s:i}]}", "name", "s", "kind", "supervisor", "max_restarts",
	    1000, "children", "name", "c", "kind", "fail", "after_ms", 5,
	    "restart", "permanent", "backoff_ms", 40, "backoff_max_ms", 500));
	json_decref(r);
	sample_delays(fd, "/s/c", d, 6);
	/* Each within [3/4, 1] of 40, 80, 160, 320, then the cap of 500. */
	assert_in_range(d[0], 30, 40 + slack_ms());
	assert_in_range(d[1], 60, 80 + slack_ms());
	assert_in_range(d[2], 120, 160 + slack_ms());
	assert_in_range(d[3], 240, 320 + slack_ms());
	assert_in_range(d[4], 375, 500 + slack_ms());
	assert_in_range(d[5], 375, 500 + slack_ms());
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
	/* Four restarts of /slow/c, some 0.6 s: the window slid over them. */
	poll_state(fd, "/slow/c", "running", 4, 10000);
	r = inspect(fd, "/slow");
	assert_string_equal(h_str(r, "state"), "running");
	in = json_object_get(r, "intensity");
	assert_int_equal(h_num(in, "max_restarts"), 2);
	assert_true(h_num(in, "recent_restarts") <= 2);
	json_decref(r);
	poll_state(fd, "/fast", "failed", 0, 8000);
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
	    "timeout_ms", 8000));

	assert_string_equal(h_str(r, "state"), state);
	json_decref(r);
}

static void
test_ordered_start_waits_for_readiness(void **state)
{
	int fd = h_connect(&D);
	char go[300], script[400];
	json_t *r, *a, *b;
	int64_t t_go;

	/* a says it is ready once the test made the file go; b must wait
	 * for it. */
	snprintf(go, sizeof go, "%s/go", D.dir);
	snprintf(script, sizeof script, "while [ ! -e %s ]; do sleep 0.01; "
	    "done; echo up >&$ARBOR_READY_FD; exec sleep 100", go);
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s,s:s,s:[s,s,s]},"
	    "{s:s,s:s}]}", "name", "s", "kind", "supervisor", "children",
	    "name", "a", "kind", "exec", "ready", "fd", "argv", "sh", "-c",
	    script, "name", "b", "kind", "tick"));
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
	{
		struct timespec ts;
		FILE *f;

		/* The daemon's started_ms are wall-clock milliseconds. */
		clock_gettime(CLOCK_REALTIME, &ts);
		t_go = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		assert_non_null(f = fopen(go, "w"));
		fclose(f);
	}
	wait_state(fd, "/s", "running");
	unlink(go);
	a = inspect(fd, "/s/a");
	b = inspect(fd, "/s/b");
	assert_true(h_num(a, "started_ms") <= t_go);
	assert_true(h_num(b, "started_ms") >= t_go);
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
	for (int i = 0; i < 500; i++) {
		r = inspect(fd, "/never");
		if (h_num(r, "restarts") >= 1) {
			json_decref(r);
			break;
		}
		json_decref(r);
		assert_true(i < 499);
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
	for (int i = 0; i < 500; i++) {
		r = inspect(fd, "/s/bad");
		if (strcmp(h_str(r, "state"), "backoff") == 0) {
			assert_int_equal(h_num(json_object_get(r, "exit"),
			    "code"), 3);
			json_decref(r);
			break;
		}
		json_decref(r);
		assert_true(i < 499);
		usleep(20000);
	}
	/* A signal arbord did not send is abnormal: restarted. */
	wait_state(fd, "/s/victim", "running");
	r = inspect(fd, "/s/victim");
	pid = (int)h_num(r, "pid");
	json_decref(r);
	assert_true(pid > 0);
	kill(pid, SIGKILL);
	for (int i = 0; i < 1000; i++) {
		r = inspect(fd, "/s/victim");
		if (h_num(r, "restarts") == 1 && strcmp(h_str(r, "state"),
		    "running") == 0) {
			assert_true(h_num(r, "pid") != pid);
			json_decref(r);
			break;
		}
		json_decref(r);
		assert_true(i < 999);
		usleep(10000);
	}
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s", "wait",
	    1));
	json_decref(r);
	close(fd);
}


/* --- Defects found from outside (issue: supervision made exact) ------ */

/* Ready only once TERM is ignored (sleep inherits that), so a stop that
 * follows readiness always spends the grace. */
#define IGNORES_TERM "trap '' TERM; echo up >&$ARBOR_READY_FD; exec sleep 100"

/* Polls path until its state is `state` (and, when min_restarts >= 0,
 * restarts >= min_restarts); fails after timeout_ms. */
static void
poll_state(int fd, const char *path, const char *state, int min_restarts,
    int timeout_ms)
{
	json_t *r = NULL;

	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		r = inspect(fd, path);
		if (strcmp(h_str(r, "state"), state) == 0 &&
		    h_num(r, "restarts") >= min_restarts) {
			json_decref(r);
			return;
		}
		json_decref(r);
		usleep(20000);
	}
	r = h_ok(fd, "inspect", json_pack("{s:s,s:i}", "path", "/", "depth",
	    -1));
	fail_msg("%s never became %s (restarts >= %d) in %d ms; tree: %s",
	    path, state, min_restarts, timeout_ms, json_dumps(r,
	    JSON_COMPACT));
}

/* No node is waiting in backoff without a timer that will start it: its
 * own due_ms, or its parent's group_due_ms. */
static void
assert_no_timerless_backoff(const json_t *v, const json_t *parent)
{
	const json_t *kids = json_object_get(v, "children");
	size_t i;
	json_t *k;

	if (strcmp(h_str(v, "state"), "backoff") == 0 &&
	    json_object_get(v, "due_ms") == NULL &&
	    (parent == NULL || json_object_get(parent, "group_due_ms") ==
	    NULL))
		fail_msg("%s waits in backoff with no timer", h_str(v, "path"));
	json_array_foreach(kids, i, k)
		assert_no_timerless_backoff(k, v);
}

static void
check_tree_has_timers(int fd, const char *path)
{
	json_t *r = h_ok(fd, "inspect", json_pack("{s:s,s:i}", "path", path,
	    "depth", -1));

	assert_no_timerless_backoff(r, NULL);
	json_decref(r);
}

static void
test_rest_for_one_keeps_restarting_while_a_member_spends_its_grace(
    void **state)
{
	int fd = h_connect(&D);
	json_t *r;

	/* b fails: {b, c} restart while c spends its grace; a fails
	 * meanwhile: {a, b, c}. c's one stop is counted once. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:i,s:[{s:s,s:s,"
	    "s:i,s:s},{s:s,s:s,s:i,s:s},{s:s,s:s,s:s,s:s,s:i,s:[s,s,s]}]}",
	    "name", "g", "kind", "supervisor", "strategy", "rest_for_one",
	    "max_restarts", 10, "period_ms", 60000, "children",
	    "name", "a", "kind", "fail", "after_ms", 600, "restart",
	    "permanent",
	    "name", "b", "kind", "fail", "after_ms", 100, "restart",
	    "permanent",
	    "name", "c", "kind", "exec", "ready", "fd", "restart", "permanent",
	    "shutdown_ms", 1500, "argv", "sh", "-c", IGNORES_TERM));
	json_decref(r);
	for (int i = 0; i < 8; i++) {
		usleep(250000);
		check_tree_has_timers(fd, "/g");
	}
	/* The group came back after c's grace: c runs again. */
	poll_state(fd, "/g/c", "running", 1, 10000);
	check_tree_has_timers(fd, "/g");
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/g",
	    "wait", 1)));
	close(fd);
}

static void
test_client_restart_of_a_held_child_waits_for_its_group(void **state)
{
	int fd = h_connect(&D);
	json_t *r;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:[{s:s,s:s,s:s,"
	    "s:s,s:i,s:[s,s,s]},{s:s,s:s,s:i,s:i,s:s},{s:s,s:s,s:s}]}",
	    "name", "g", "kind", "supervisor", "strategy", "one_for_all",
	    "max_restarts", 10, "children",
	    "name", "a", "kind", "exec", "ready", "fd", "restart",
	    "permanent", "shutdown_ms", 2000, "argv", "sh", "-c",
	    IGNORES_TERM,
	    "name", "b", "kind", "fail", "after_ms", 300, "backoff_ms", 1000,
	    "restart", "permanent",
	    "name", "c", "kind", "sleep", "restart", "permanent"));
	json_decref(r);
	poll_state(fd, "/g/a", "stopping", 0, 8000);
	/* While a stops, restarts of b and c leave them to the group. */
	r = h_ok(fd, "restart", json_pack("{s:s}", "path", "/g/b"));
	assert_string_equal(h_str(r, "state"), "backoff");
	json_decref(r);
	r = h_ok(fd, "restart", json_pack("{s:s}", "path", "/g/c"));
	assert_string_equal(h_str(r, "state"), "backoff");
	json_decref(r);
	r = inspect(fd, "/g/a");
	assert_string_equal(h_str(r, "state"), "stopping");
	json_decref(r);
	/* a is killed after its grace; then the whole group starts, and
	 * again after b's next failure. */
	poll_state(fd, "/g/a", "running", 1, 10000);
	poll_state(fd, "/g/c", "running", 1, 8000);
	poll_state(fd, "/g/a", "running", 2, 10000);
	check_tree_has_timers(fd, "/g");
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/g",
	    "wait", 1)));
	close(fd);
}

static void
test_child_restarted_by_client_follows_its_parents_group_stop(
    void **state)
{
	int fd = h_connect(&D);
	json_t *r;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:[{s:s,s:s,s:i,"
	    "s:s,s:i},{s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:i,s:[s,s,s]}]}]}",
	    "name", "top", "kind", "supervisor", "strategy", "one_for_all",
	    "max_restarts", 100, "children",
	    "name", "a", "kind", "fail", "after_ms", 1500, "restart",
	    "permanent", "backoff_ms", 100,
	    "name", "p", "kind", "supervisor", "restart", "permanent",
	    "children", "name", "x", "kind", "exec", "ready", "fd", "restart",
	    "permanent", "shutdown_ms", 3000, "argv", "sh", "-c",
	    IGNORES_TERM));
	json_decref(r);
	/* x is restarted well within a's 1.5 s (a slow start of x would
	 * leave the group to stop it first), and spends its 3 s grace
	 * past a's failure. */
	poll_state(fd, "/top/p/x", "running", 0, 8000);
	r = h_ok(fd, "restart", json_pack("{s:s}", "path", "/top/p/x"));
	assert_string_equal(h_str(r, "state"), "stopping");
	json_decref(r);
	/* a fails while x spends its grace; /top holds p, p waits for x,
	 * and x, once killed, waits for the group instead of starting. */
	poll_state(fd, "/top/p/x", "running", 2, 10000);
	poll_state(fd, "/top/p", "running", 1, 8000);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/top",
	    "wait", 1)));
	close(fd);
}

static void
test_cancel_with_remove_is_answered_while_the_parent_restarts(
    void **state)
{
	int fd = h_connect(&D);
	json_t *r;
	const char *kind;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:i,"
	    "s:[s,s,s]}]}", "name", "p", "kind", "supervisor", "children",
	    "name", "x", "kind", "exec", "ready", "fd", "restart", "permanent",
	    "shutdown_ms", 300, "argv", "sh", "-c", IGNORES_TERM));
	json_decref(r);
	poll_state(fd, "/p/x", "running", 0, 8000);
	json_decref(h_ok(fd, "restart", json_pack("{s:s}", "path", "/p/x")));
	json_decref(h_ok(fd, "restart", json_pack("{s:s}", "path", "/p")));
	/* Answered once x is terminated and removed; p starts again
	 * without it. */
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/p/x",
	    "remove", 1));
	json_decref(r);
	assert_int_equal(h_err(fd, "inspect", json_pack("{s:s}", "path",
	    "/p/x"), &kind), -32001);
	poll_state(fd, "/p", "running", 1, 8000);
	r = inspect(fd, "/p");
	assert_int_equal(h_num(r, "child_count"), 0);
	json_decref(r);
	close(fd);
}

static void
test_cancelled_child_is_not_started_by_its_group(void **state)
{
	int fd = h_connect(&D);
	json_t *r;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:[{s:s,s:s,s:i,"
	    "s:i,s:s},{s:s,s:s,s:s}]}", "name", "g", "kind", "supervisor",
	    "strategy", "one_for_all", "max_restarts", 10, "children",
	    "name", "a", "kind", "fail", "after_ms", 200, "backoff_ms", 800,
	    "restart", "permanent",
	    "name", "b", "kind", "tick", "restart", "permanent"));
	json_decref(r);
	poll_state(fd, "/g/b", "backoff", 0, 8000);
	r = h_ok(fd, "cancel", json_pack("{s:s,s:s,s:b}", "path", "/g/b",
	    "reason", "operator", "wait", 1));
	assert_string_equal(h_str(r, "state"), "exited");
	json_decref(r);
	poll_state(fd, "/g/a", "running", 1, 8000);
	r = inspect(fd, "/g/b");
	assert_string_equal(h_str(r, "state"), "exited");
	assert_string_equal(h_str(r, "cause"), "cancelled: operator");
	assert_int_equal(h_num(r, "restarts"), 0);
	json_decref(r);
	/* A client's restart brings it back. */
	json_decref(h_ok(fd, "restart", json_pack("{s:s}", "path", "/g/b")));
	poll_state(fd, "/g/b", "running", 1, 8000);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/g",
	    "wait", 1)));
	close(fd);
}

static void
test_lone_exec_spawn_that_cannot_start_creates_nothing(void **state)
{
	int fd = h_connect(&D);
	const char *kind;
	json_t *r;

	/* /g waits out a group restart; /s is still starting. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:i,s:i,"
	    "s:s},{s:s,s:s}]}", "name", "g", "kind", "supervisor", "strategy",
	    "one_for_all", "children", "name", "a", "kind", "fail", "after_ms",
	    50, "backoff_ms", 5000, "restart", "permanent", "name", "b",
	    "kind", "tick"));
	json_decref(r);
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s,s:s,s:[s,s]}]}",
	    "name", "s", "kind", "supervisor", "children", "name", "w",
	    "kind", "exec", "ready", "fd", "argv", "sleep", "100"));
	json_decref(r);
	poll_state(fd, "/g/a", "backoff", 0, 8000);
	const char *parents[] = { "/g", "/s" };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:s,"
		    "s:[s]}", "parent", parents[i], "name", "typo", "kind",
		    "exec", "argv", "no-such-program-arbor"), &kind), -32006);
		assert_string_equal(kind, "spawn_failed");
		assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:s,"
		    "s:s,s:[s]}", "parent", parents[i], "name", "nodir",
		    "kind", "exec", "cwd", "/no/such/dir", "argv", "true"),
		    &kind), -32006);
		r = inspect(fd, parents[i]);
		assert_int_equal(h_num(r, "child_count"), 2 - i);
		json_decref(r);
	}
	/* A program that exists joins the start order. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s]}", "parent",
	    "/s", "name", "ok", "kind", "exec", "argv", "sleep", "100"));
	assert_string_equal(h_str(r, "state"), "starting");
	json_decref(r);
	r = inspect(fd, "/");
	assert_string_equal(h_str(r, "state"), "running");
	json_decref(r);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/",
	    "wait", 1)));
	close(fd);
}

/* Reads events from w until one for path goes from -> to; returns its
 * cause (a new reference) or fails after timeout_ms. */
static json_t *
expect_state_event(int w, const char *path, const char *from,
    const char *to, int timeout_ms)
{
	for (;;) {
		json_t *m = h_recv(w, timeout_ms), *p;

		if (m == NULL)
			fail_msg("no event %s: %s -> %s", path, from, to);
		p = json_object_get(m, "params");
		if (p != NULL && strcmp(h_str(p, "type"), "state") == 0 &&
		    strcmp(h_str(p, "path"), path) == 0 &&
		    strcmp(h_str(p, "from"), from) == 0 &&
		    strcmp(h_str(p, "to"), to) == 0) {
			json_t *c = json_incref(json_object_get(p, "cause"));

			json_decref(m);
			/* Every move into a state of rest or stop says why. */
			if (strcmp(to, "starting") != 0 && strcmp(to,
			    "running") != 0 && !json_is_string(c))
				fail_msg("%s: %s -> %s has no cause", path, from,
				    to);
			return c;
		}
		json_decref(m);
	}
}

static void
test_supervisor_over_intensity_is_seen_failing_before_its_restart(
    void **state)
{
	int fd = h_connect(&D), w = h_connect(&D);
	json_t *r, *c;

	json_decref(h_ok(w, "watch", json_pack("{s:s}", "path", "/")));
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:[{s:s,"
	    "s:s,s:i,s:s,s:i}]}", "name", "g", "kind", "supervisor",
	    "restart", "permanent", "max_restarts", 1, "backoff_ms", 300,
	    "backoff_max_ms", 300, "children", "name", "c", "kind", "fail",
	    "after_ms", 20, "restart", "permanent", "backoff_ms", 1));
	json_decref(r);
	c = expect_state_event(w, "/g/c", "running", "backoff", 8000);
	assert_string_equal(json_string_value(c), "exited with code 1");
	json_decref(c);
	c = expect_state_event(w, "/g", "running", "stopping", 8000);
	assert_string_equal(json_string_value(c), "restart intensity exceeded");
	json_decref(c);
	c = expect_state_event(w, "/g", "stopping", "failed", 8000);
	assert_string_equal(json_string_value(c), "restart intensity exceeded");
	json_decref(c);
	c = expect_state_event(w, "/g", "failed", "backoff", 8000);
	json_decref(c);
	c = expect_state_event(w, "/g", "backoff", "starting", 8000);
	json_decref(c);
	r = h_ok(fd, "stats", NULL);
	assert_true(h_num(json_object_get(r, "exits"), "intensity") >= 2);
	json_decref(r);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/g",
	    "wait", 1)));
	close(w);
	close(fd);
}

static void
test_crash_causes_say_what_happened_and_are_counted(void **state)
{
	int fd = h_connect(&D), w = h_connect(&D);
	char go[300], script[400];
	json_t *r, *c;
	FILE *f;

	/* e exits once the test made the file go: an event of e's before
	 * the last of v's would be passed over by the wait for v's. */
	snprintf(go, sizeof go, "%s/go", D.dir);
	snprintf(script, sizeof script, "while [ ! -e %s ]; do sleep 0.01; "
	    "done; exit 3", go);
	json_decref(h_ok(w, "watch", json_pack("{s:s}", "path", "/")));
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[{s:s,s:s,s:s,s:i,"
	    "s:[s,s]},{s:s,s:s,s:s,s:i,s:[s,s,s]}]}", "name", "s", "kind",
	    "supervisor", "max_restarts", 100, "children",
	    "name", "v", "kind", "exec", "restart", "permanent", "backoff_ms",
	    1, "argv", "sleep", "100",
	    "name", "e", "kind", "exec", "restart", "temporary", "backoff_ms",
	    1, "argv", "sh", "-c", script));
	json_decref(r);
	for (int i = 0; i < 3; i++) {
		poll_state(fd, "/s/v", "running", i, 8000);
		r = inspect(fd, "/s/v");
		assert_int_equal(kill((pid_t)h_num(r, "pid"), SIGKILL), 0);
		json_decref(r);
		c = expect_state_event(w, "/s/v", "running", "backoff", 8000);
		assert_string_equal(json_string_value(c),
		    "killed by signal KILL");
		json_decref(c);
	}
	assert_non_null(f = fopen(go, "w"));
	fclose(f);
	c = expect_state_event(w, "/s/e", "running", "exited", 8000);
	unlink(go);
	assert_string_equal(json_string_value(c), "exited with code 3");
	json_decref(c);
	r = h_ok(fd, "stats", NULL);
	assert_int_equal(h_num(json_object_get(r, "exits"), "signal"), 3);
	assert_int_equal(h_num(json_object_get(r, "exits"), "exit"), 1);
	json_decref(r);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s",
	    "wait", 1)));
	close(w);
	close(fd);
}

static void
test_root_intensity_is_an_option(void **state)
{
	const char *args[] = { "--root-intensity", "1/60s", NULL };
	struct daemon_proc d2;
	json_t *r;
	int fd;

	h_start(&d2, args);
	fd = h_connect(&d2);
	r = inspect(fd, "/");
	assert_int_equal(h_num(json_object_get(r, "intensity"),
	    "max_restarts"), 1);
	assert_int_equal(h_num(json_object_get(r, "intensity"), "period_ms"),
	    60000);
	json_decref(r);
	/* One restart allowed: the second failure gives up on the child. */
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:s,s:i}",
	    "name", "f", "kind", "fail", "after_ms", 10, "restart",
	    "permanent", "backoff_ms", 1)));
	poll_state(fd, "/f", "failed", 1, 8000);
	r = inspect(fd, "/f");
	assert_string_equal(h_str(r, "cause"), "restart intensity exceeded");
	json_decref(r);
	close(fd);
	assert_int_equal(h_stop(&d2), 0);
}

/* A child of /r that is ready 150 ms after it starts; with fail_again,
 * a second run exits 1 before it is ready. */
static json_t *
roll_child(const char *name, const char *flag)
{
	char script[512];

	if (flag != NULL)
		snprintf(script, sizeof script,
		    "[ -e %s ] && exit 1; : >%s; sleep 0.15; "
		    "echo ok >&$ARBOR_READY_FD; exec sleep 100",
		    flag, flag);
	else
		snprintf(script, sizeof script,
		    "sleep 0.15; echo ok >&$ARBOR_READY_FD; exec sleep 100");
	return json_pack("{s:s,s:s,s:s,s:[s,s,s],s:s,s:i}", "name", name,
	    "kind", "exec", "restart", "permanent", "argv", "sh", "-c", script,
	    "ready", "fd", "backoff_ms", 50);
}

static json_int_t
pid_of(int fd, const char *path)
{
	json_t *v = inspect(fd, path);
	json_int_t pid = h_num(v, "pid");

	json_decref(v);
	return pid;
}

static void
test_rolling_restart_takes_one_child_at_a_time(void **state)
{
	static const char *const kids[] = { "/r/a", "/r/b", "/r/c" };
	const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	    "\"restart\",\"params\":{\"path\":\"/r\",\"rolling\":true}}\n";
	int fd = h_connect(&D), fd2 = h_connect(&D), most_down = 0;
	json_int_t before[3];
	json_t *r, *res;
	int64_t t0;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[o,o,o]}", "name", "r",
	    "kind", "supervisor", "children", roll_child("a", NULL),
	    roll_child("b", NULL), roll_child("c", NULL)));
	json_decref(r);
	json_decref(h_ok(fd, "wait", json_pack("{s:s,s:s,s:i}", "path",
	    "/r/c", "for", "running", "timeout_ms", 8000)));
	for (int i = 0; i < 3; i++)
		before[i] = pid_of(fd, kids[i]);
	h_send_raw(fd, req, sizeof req - 1);
	t0 = h_now_ms();
	/* Meanwhile, never more than one child is away. */
	for (;;) {
		json_t *v = h_ok(fd2, "inspect", json_pack("{s:s,s:i}", "path",
		    "/r", "depth", 1));
		json_t *ch = json_object_get(v, "children");
		int down = 0;

		for (size_t i = 0; i < json_array_size(ch); i++)
			down += strcmp(h_str(json_array_get(ch, i), "state"),
			    "running") != 0;
		json_decref(v);
		if (down > most_down)
			most_down = down;
		if ((r = h_recv(fd, 20)) != NULL)
			break;
		if (h_now_ms() - t0 > 30000)
			fail_msg("no answer to the rolling restart in 30 s");
	}
	res = json_object_get(r, "result");
	assert_non_null(res);
	assert_int_equal(json_array_size(json_object_get(res, "restarted")),
	    3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(json_string_value(json_array_get(
		    json_object_get(res, "restarted"), (size_t)i)), kids[i]);
		assert_true(pid_of(fd, kids[i]) != before[i]);
	}
	json_decref(r);
	assert_int_equal(most_down, 1);
	close(fd2);
	close(fd);
}

static void
test_rolling_restart_stops_at_a_child_that_does_not_come_back(
    void **state)
{
	char flag[64];
	const char *kind;
	int fd = h_connect(&D);
	json_int_t c_pid;
	json_t *r;

	snprintf(flag, sizeof flag, "/tmp/arbor-roll-%ld", (long)getpid());
	unlink(flag);
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[o,o,o]}", "name", "r",
	    "kind", "supervisor", "max_restarts", 100, "children",
	    roll_child("a", NULL), roll_child("b", flag),
	    roll_child("c", NULL)));
	json_decref(r);
	json_decref(h_ok(fd, "wait", json_pack("{s:s,s:s,s:i}", "path",
	    "/r/c", "for", "running", "timeout_ms", 8000)));
	c_pid = pid_of(fd, "/r/c");
	r = h_call(fd, "restart", json_pack("{s:s,s:b}", "path", "/r",
	    "rolling", 1));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r,
	    "error"), "code")), -32003);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r, "error"), "message")), "/r/b did not come back"));
	json_decref(r);
	/* The children after it are left as they were. */
	assert_int_equal(pid_of(fd, "/r/c"), c_pid);
	/* A worker has no children to roll. */
	assert_int_equal(h_err(fd, "restart", json_pack("{s:s,s:b}", "path",
	    "/r/a", "rolling", 1), &kind), -32003);
	unlink(flag);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_backoff_doubles_per_restart_and_is_capped,
		    setup_with_log, teardown_with_log),
		cmocka_unit_test_setup_teardown(
		    test_backoff_resets_once_the_child_stayed_up, setup_with_log,
		    teardown_with_log),
		cmocka_unit_test_setup_teardown(
		    test_intensity_is_a_sliding_window, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_manual_restarts_are_not_counted, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_starts_a_terminated_node_again, h_setup,
		    h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_rolling_restart_takes_one_child_at_a_time, h_setup,
		    h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_rolling_restart_stops_at_a_child_that_does_not_come_back,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_deadline_is_inherited_down_the_tree, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_ordered_start_waits_for_readiness, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_start_timeout_counts_as_a_failure, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_exec_restart_types_by_how_the_program_ended, h_setup,
		    h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_rest_for_one_keeps_restarting_while_a_member_spends_its_grace,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_client_restart_of_a_held_child_waits_for_its_group,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_child_restarted_by_client_follows_its_parents_group_stop,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_with_remove_is_answered_while_the_parent_restarts,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancelled_child_is_not_started_by_its_group,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_lone_exec_spawn_that_cannot_start_creates_nothing,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_supervisor_over_intensity_is_seen_failing_before_its_restart,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_crash_causes_say_what_happened_and_are_counted,
		    h_setup, h_teardown),
		cmocka_unit_test(test_root_intensity_is_an_option),
	};

	/* ARBOR_TEST_FILTER=*group*: only the tests whose names match. */
	if (getenv("ARBOR_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ARBOR_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
