/*
 * arbord end to end over its socket: every error code, batches,
 * pipelining, waits, limits, clients that vanish, big trees, fd baselines,
 * exiting 0 after SIGTERM or shutdown, and what it logs per request.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static void
test_ping_says_version_protocol_pid_uptime(void **state)
{
	int fd = h_connect(&D);
	json_t *r = h_ok(fd, "ping", NULL);

	assert_int_equal(h_num(r, "protocol"), 1);
	assert_int_equal(h_num(r, "pid"), D.pid);
	assert_non_null(h_str(r, "version"));
	assert_true(json_is_integer(json_object_get(r, "uptime_ms")));
	json_decref(r);
	close(fd);
}

static void
expect_raw_error(int fd, const char *line, int code, const char *kind)
{
	json_t *resp, *err;

	h_send_raw(fd, line, strlen(line));
	resp = h_recv(fd, 5000);
	assert_non_null(resp);
	err = json_object_get(resp, "error");
	assert_non_null(err);
	assert_int_equal(h_num(err, "code"), code);
	assert_string_equal(h_str(json_object_get(err, "data"), "kind"), kind);
	json_decref(resp);
}

static void
test_bad_messages_get_their_error_and_the_connection_stays(void **state)
{
	int fd = h_connect(&D);
	json_t *r;

	expect_raw_error(fd, "{\"jsonrpc\":\"2.0\",\n", -32700, "parse_error");
	expect_raw_error(fd, "[1,\"x\" \n", -32700, "parse_error");
	expect_raw_error(fd, "\"just a string\"\n", -32600,
	    "invalid_request");
	expect_raw_error(fd, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":"
	    "\"ping\"}\n", -32600, "invalid_request");
	expect_raw_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":1}\n", -32600,
	    "invalid_request");
	expect_raw_error(fd, "[]\n", -32600, "invalid_request");
	expect_raw_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"nope\"}\n", -32601, "method_not_found");
	expect_raw_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\",\"extra\":1}\n", -32600, "invalid_request");
	/* A NUL byte and invalid UTF-8 are not JSON. */
	h_send_raw(fd, "{\"a\":\"\0\"}\n", 10);
	r = h_recv(fd, 5000);
	assert_int_equal(h_num(json_object_get(r, "error"), "code"), -32700);
	json_decref(r);
	expect_raw_error(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"\xff\xfe\"}\n", -32700, "parse_error");
	/* Blank lines are ignored, and the connection still works. */
	h_send_raw(fd, "\n\n\r\n", 4);
	r = h_ok(fd, "ping", NULL);
	json_decref(r);
	close(fd);
}

static void
test_invalid_params_not_found_exists_conflict(void **state)
{
	int fd = h_connect(&D);
	const char *kind;
	json_t *r;

	assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:i}",
	    "name", "a", "kind", "sleep", "bogus", 1), &kind), -32602);
	assert_string_equal(kind, "invalid_params");
	assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s}", "name",
	    "a/b", "kind", "sleep"), NULL), -32602);
	assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:i}", "name",
	    "a", "kind", "exec", "ms", 5), NULL), -32602);
	assert_int_equal(h_err(fd, "spawn", NULL, NULL), -32602);
	assert_int_equal(h_err(fd, "inspect", json_pack("{s:s}", "path",
	    "/missing"), &kind), -32001);
	assert_string_equal(kind, "not_found");
	assert_int_equal(h_err(fd, "inspect", json_pack("{s:s}", "path",
	    "no-slash"), NULL), -32602);

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "w",
	    "kind", "tick"));
	assert_string_equal(h_str(r, "state"), "running");
	assert_string_equal(h_str(r, "path"), "/w");
	json_decref(r);
	assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s}", "name",
	    "w", "kind", "sleep"), &kind), -32002);
	assert_string_equal(kind, "exists");
	assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:s}",
	    "parent", "/w", "name", "x", "kind", "sleep"), &kind), -32003);
	assert_string_equal(kind, "conflict");
	assert_int_equal(h_err(fd, "remove", json_pack("{s:s}", "path", "/w"),
	    &kind), -32003);
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/w", "remove",
	    1));
	assert_string_equal(h_str(r, "state"), "exited");
	json_decref(r);
	assert_int_equal(h_err(fd, "inspect", json_pack("{s:s}", "path", "/w"),
	    NULL), -32001);
	close(fd);
}

static void
test_batch_is_answered_as_one_array_without_notifications(void **state)
{
	int fd = h_connect(&D);
	const char *batch = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"nope\"},"
	    "5]\n";
	json_t *r;

	h_send_raw(fd, batch, strlen(batch));
	r = h_recv(fd, 5000);
	assert_true(json_is_array(r));
	/* ping, the unknown method and the invalid element; not the
	 * notification. */
	assert_int_equal(json_array_size(r), 3);
	json_decref(r);
	/* A batch of notifications only gets nothing back. */
	h_send_raw(fd, "[{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}]\n", 36);
	r = h_ok(fd, "ping", NULL);
	json_decref(r);
	close(fd);
}

static void
test_pipelined_requests_are_all_answered(void **state)
{
	int fd = h_connect(&D);
	char line[128];
	size_t n = 0;
	char *buf = malloc(2000 * sizeof line);
	json_t *r;

	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(buf + n, sizeof line, "{\"jsonrpc\":"
		    "\"2.0\",\"id\":%d,\"method\":\"ping\"}\n", 100000 + i);
	h_send_raw(fd, buf, n);
	free(buf);
	for (int i = 0; i < 2000; i++) {
		r = h_recv(fd, 5000);
		assert_non_null(r);
		assert_int_equal(h_num(r, "id"), 100000 + i);
		json_decref(r);
	}
	close(fd);
}

static void
test_too_large_message_is_refused_and_connection_closed(void **state)
{
	int fd = h_connect(&D), other = h_connect(&D);
	size_t big = 2 * 1024 * 1024;
	char *buf = malloc(big);
	json_t *r;

	memset(buf, 'x', big);
	buf[0] = '"';
	/* The daemon may close before reading it all. */
	send(fd, buf, big, MSG_NOSIGNAL);
	free(buf);
	r = h_recv(fd, 5000);
	assert_non_null(r);
	assert_int_equal(h_num(json_object_get(r, "error"), "code"), -32600);
	assert_string_equal(h_str(json_object_get(json_object_get(r, "error"),
	    "data"), "kind"), "too_large");
	json_decref(r);
	assert_null(h_recv(fd, 5000));
	close(fd);
	/* Everyone else is served as before. */
	r = h_ok(other, "ping", NULL);
	json_decref(r);
	close(other);
}

static void
test_wait_running_terminated_and_timeout(void **state)
{
	int fd = h_connect(&D), fd2 = h_connect(&D);
	const char *kind;
	json_t *r;

	/* Long enough that the 10 ms wait below ends first, even after
	 * three round trips to a daemon slowed by ASan or valgrind on a
	 * loaded machine (150 ms was not). */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i}", "name", "s",
	    "kind", "sleep", "ms", 2000));
	json_decref(r);
	r = h_ok(fd, "wait", json_pack("{s:s,s:s}", "path", "/s", "for",
	    "running"));
	assert_string_equal(h_str(r, "state"), "running");
	json_decref(r);
	assert_int_equal(h_err(fd, "wait", json_pack("{s:s,s:i}", "path",
	    "/s", "timeout_ms", 10), &kind), -32005);
	assert_string_equal(kind, "timeout");
	r = h_ok(fd, "wait", json_pack("{s:s,s:i}", "path", "/s",
	    "timeout_ms", 8000));
	assert_string_equal(h_str(r, "state"), "exited");
	assert_int_equal(h_num(json_object_get(r, "exit"), "code"), 0);
	json_decref(r);
	/* A wait on a node removed meanwhile is not_found. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "t", "kind",
	    "tick"));
	json_decref(r);
	json_t *req = json_pack("{s:s,s:i,s:s,s:{s:s}}", "jsonrpc", "2.0",
	    "id", 77, "method", "wait", "params", "path", "/t");
	char *text = json_dumps(req, JSON_COMPACT);
	h_send_raw(fd2, text, strlen(text));
	h_send_raw(fd2, "\n", 1);
	free(text);
	json_decref(req);
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/t", "remove",
	    1));
	json_decref(r);
	r = h_recv(fd2, 5000);
	assert_non_null(r);
	/* Either the wait saw the termination, or the removal. */
	assert_true(json_object_get(r, "result") != NULL ||
	    h_num(json_object_get(r, "error"), "code") == -32001);
	json_decref(r);
	close(fd);
	close(fd2);
}

static void
test_client_gone_mid_wait_and_mid_batch_leaves_nothing(void **state)
{
	int fd = h_connect(&D), base, i;
	json_int_t conns = 0;
	json_t *r;

	r = h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "t", "kind",
	    "tick"));
	json_decref(r);
	/* Settled: h_start's probe may not be closed yet, and a baseline
	 * that counts it is never reached again. */
	base = h_fd_count_settled(D.pid);
	for (i = 0; i < 50; i++) {
		int c = h_connect(&D);
		const char *w = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"wait\",\"params\":{\"path\":\"/t\"}},{\"jsonrpc\":\"2.0\","
		    "\"id\":2,\"method\":\"ping\"}]\n{\"jsonrpc\":\"2.0\",\"id\":3,"
		    "\"method\":\"wait\",\"params\":{\"path\":\"/\"}}\n";

		h_send_raw(c, w, strlen(w));
		close(c);
	}
	r = h_ok(fd, "ping", NULL);
	json_decref(r);
	/* Until the daemon has seen the 50 clients go (10 s at most). */
	for (i = 0; i < 1000; i++) {
		r = h_ok(fd, "stats", NULL);
		conns = h_num(r, "connections");
		json_decref(r);
		if (conns == 1 && h_fd_count(D.pid) == base)
			break;
		usleep(10000);
	}
	assert_int_equal(conns, 1);
	assert_int_equal(h_fd_count(D.pid), base);
	/* The waits went with their clients: cancelling fires nothing. */
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/t", "wait",
	    1));
	assert_string_equal(h_str(r, "state"), "exited");
	json_decref(r);
	close(fd);
}

static json_t *
big_spec(const char *name, int n)
{
	json_t *kids = json_array();
	char child[32];

	for (int i = 0; i < n; i++) {
		snprintf(child, sizeof child, "c%d", i);
		json_array_append_new(kids, json_pack("{s:s,s:s}", "name",
		    child, "kind", "sleep"));
	}
	return json_pack("{s:s,s:s,s:o}", "name", name, "kind", "supervisor",
	    "children", kids);
}

static void
test_ten_thousand_node_tree_spawned_in_one_call_is_cancelled(void **state)
{
	int fd = h_connect(&D);
	json_t *r, *kids;

	r = h_ok(fd, "spawn", big_spec("big", 10000));
	assert_string_equal(h_str(r, "state"), "running");
	assert_int_equal(h_num(r, "child_count"), 10000);
	json_decref(r);
	r = h_ok(fd, "cancel", json_pack("{s:s,s:b,s:s}", "path", "/big",
	    "wait", 1, "reason", "done"));
	assert_string_equal(h_str(r, "state"), "exited");
	json_decref(r);
	r = h_ok(fd, "inspect", json_pack("{s:s,s:i}", "path", "/big",
	    "depth", 1));
	kids = json_object_get(r, "children");
	assert_int_equal(json_array_size(kids), 10000);
	for (size_t i = 0; i < json_array_size(kids); i++) {
		json_t *k = json_array_get(kids, i);

		assert_string_equal(h_str(k, "state"), "exited");
		assert_string_equal(h_str(k, "cause"),
		    "parent cancelled: /big: cancelled: done");
	}
	json_decref(r);
	r = h_ok(fd, "stats", NULL);
	assert_int_equal(h_num(json_object_get(r, "by_state"), "exited"), 10001);
	json_decref(r);
	close(fd);
}

static void
test_fd_count_is_unchanged_after_spawning_and_cancelling_1000(void **state)
{
	int fd = h_connect(&D), before;
	json_t *r;

	r = h_ok(fd, "ping", NULL);
	json_decref(r);
	/* Settled: not counting h_start's probe, which may still be open. */
	before = h_fd_count_settled(D.pid);
	for (int round = 0; round < 2; round++) {
		char name[16];

		for (int i = 0; i < 500; i++) {
			snprintf(name, sizeof name, "n%d", i);
			/* Ticks and sleeps, each with a timer of its own. */
			r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i}", "name",
			    name, "kind", i % 2 ? "tick" : "sleep",
			    i % 2 ? "interval_ms" : "ms", 100000));
			json_decref(r);
		}
		r = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/",
		    "wait", 1));
		json_decref(r);
		for (int i = 0; i < 500; i++) {
			snprintf(name, sizeof name, "/n%d", i);
			r = h_ok(fd, "remove", json_pack("{s:s}", "path", name));
			json_decref(r);
		}
	}
	assert_int_equal(h_fd_count(D.pid), before);
	r = h_ok(fd, "stats", NULL);
	assert_int_equal(h_num(r, "nodes"), 1);
	json_decref(r);
	close(fd);
}

static void
test_sigterm_cancels_the_tree_and_exits_zero(void **state)
{
	int fd = h_connect(&D), status;
	json_t *r = h_ok(fd, "spawn", big_spec("s", 100));

	json_decref(r);
	close(fd);
	status = h_stop(&D);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	h_start(&D, NULL);	/* for teardown */
}

static void
test_shutdown_answers_then_exits_zero(void **state)
{
	int fd = h_connect(&D), status;
	struct stat st;
	json_t *r = h_ok(fd, "spawn", big_spec("s", 10));

	json_decref(r);
	r = h_ok(fd, "shutdown", NULL);
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	assert_int_equal(waitpid(D.pid, &status, 0), D.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The socket is gone with the daemon. */
	assert_int_equal(stat(D.sock, &st), -1);
	close(fd);
	rmdir(D.dir);
	h_start(&D, NULL);
}

static void
test_limits_on_nodes_and_connections(void **state)
{
	struct daemon_proc small;
	const char *args[] = { "--max-nodes", "5", "--max-connections", "2",
	    NULL };
	const char *kind;
	int a, b, c;
	json_t *r;

	h_start(&small, args);
	a = h_connect(&small);
	assert_int_equal(h_err(a, "spawn", big_spec("s", 5), &kind), -32004);
	assert_string_equal(kind, "limit");
	r = h_ok(a, "spawn", big_spec("s", 3));
	json_decref(r);
	b = h_connect(&small);
	r = h_ok(b, "ping", NULL);
	json_decref(r);
	c = h_connect(&small);
	r = h_recv(c, 5000);
	assert_non_null(r);
	assert_int_equal(h_num(json_object_get(r, "error"), "code"), -32004);
	json_decref(r);
	assert_null(h_recv(c, 5000));
	close(a);
	close(b);
	close(c);
	assert_int_equal(WEXITSTATUS(h_stop(&small)), 0);
}

/* A connection may keep 1,024 calls waiting (wait, cancel with wait,
 * scale, restart --rolling): the next is refused with limit, at once,
 * and the others are still answered. */
static void
test_a_connection_keeps_at_most_1024_calls_waiting(void **state)
{
	char *buf = malloc(1025 * 128), *p = buf;
	int fd = h_connect(&D), other, errors = 0, done = 0;
	json_t *r;

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "w1024",
	    "kind", "sleep")));
	for (int i = 0; i < 1025; i++)
		p += sprintf(p, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
		                "\"wait\",\"params\":{\"path\":\"/w1024\","
		                "\"for\":\"terminated\"}}\n",
		    1000 + i);
	h_send_raw(fd, buf, (size_t)(p - buf));
	free(buf);
	r = h_recv(fd, 5000);
	assert_non_null(r);
	assert_int_equal(h_num(r, "id"), 1000 + 1024);
	assert_int_equal(h_num(json_object_get(r, "error"), "code"), -32004);
	assert_non_null(strstr(h_str(json_object_get(r, "error"), "message"),
	    "too many calls waiting"));
	json_decref(r);
	/* The 1,024 are answered once the node ends. */
	other = h_connect(&D);
	json_decref(h_ok(other, "cancel", json_pack("{s:s}", "path",
	    "/w1024")));
	h_close(other);
	/* The count first: a read after the last answer would only wait
	 * out its timeout. */
	while (done + errors < 1024 && (r = h_recv(fd, 10000)) != NULL) {
		if (json_object_get(r, "result") != NULL)
			done++;
		else
			errors++;
		json_decref(r);
	}
	assert_int_equal(done, 1024);
	assert_int_equal(errors, 0);
	h_close(fd);
}

/* A daemon with its stderr in a file: stopped by pid however the test
 * ends. */
static struct daemon_proc logged;

static int
stop_logged(void **state)
{
	if (logged.pid > 0)
		h_stop(&logged);
	return 0;
}

/* Whether text holds line as a whole line. */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void
test_changes_are_logged_with_node_and_client_reads_only_at_debug(
    void **state)
{
	const char *args[] = { "--log-level", "info", NULL };
	char tmpl[] = "/tmp/arbor-log-XXXXXX", text[16384], want[256];
	long w1pid;
	int errfd, fd;
	ssize_t n;
	json_t *r;

	assert_true((errfd = mkstemp(tmpl)) >= 0);
	unlink(tmpl);
	h_start_stderr(&logged, args, errfd);
	fd = h_connect(&logged);
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s]}", "name", "w1",
	    "kind", "exec", "argv", "sleep", "100"));
	w1pid = (long)h_num(r, "pid");
	json_decref(r);
	json_decref(h_ok(fd, "inspect", json_pack("{s:s}", "path", "/w1")));
	json_decref(h_ok(fd, "ping", NULL));
	json_decref(h_ok(fd, "stats", NULL));
	json_decref(h_ok(fd, "wait", json_pack("{s:s,s:s}", "path", "/w1",
	    "for", "running")));
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/w1",
	    "wait", 1)));
	assert_int_equal(h_err(fd, "cancel", json_pack("{s:s}", "path",
	    "/nope"), NULL), -32001);
	h_close(fd);
	assert_int_equal(WEXITSTATUS(h_stop(&logged)), 0);
	n = pread(errfd, text, sizeof text - 1, 0);
	close(errfd);
	assert_true(n > 0);
	text[n] = '\0';

	/* stderr is a file: journald prefixes. The client is this test. */
	snprintf(want, sizeof want, "<6>spawn /w1 (exec) by pid %ld uid %ld",
	    (long)getpid(), (long)getuid());
	if (!has_line(text, want))
		fail_msg("no line \"%s\" in:\n%s", want, text);
	snprintf(want, sizeof want, "<6>cancel /w1 (wait) by pid %ld uid %ld",
	    (long)getpid(), (long)getuid());
	if (!has_line(text, want))
		fail_msg("no line \"%s\" in:\n%s", want, text);
	snprintf(want, sizeof want, "<6>cancel /nope by pid %ld uid %ld "
	    "failed: no node at /nope", (long)getpid(), (long)getuid());
	if (!has_line(text, want))
		fail_msg("no line \"%s\" in:\n%s", want, text);
	/* The end of a worker's run: path, pid, cause, and how it ended. */
	snprintf(want, sizeof want, "<6>/w1 (pid %ld): cancelled; signal TERM",
	    w1pid);
	if (!has_line(text, want))
		fail_msg("no line \"%s\" in:\n%s", want, text);
	/* Reads are not logged at info. */
	if (strstr(text, "<6>inspect ") != NULL ||
	    strstr(text, "<6>ping ") != NULL ||
	    strstr(text, "<6>stats ") != NULL ||
	    strstr(text, "<6>wait ") != NULL || strstr(text, "<7>") != NULL)
		fail_msg("a read-only request was logged at info:\n%s", text);
}

/* Reads the pty master m into text (size bytes) until it holds line as a
 * whole line; fails after 10 s (a worker's start and end on a loaded
 * machine under ASan). */
static void
pty_expect_line(int m, char *text, size_t size, const char *line)
{
	size_t len = strlen(text);
	int64_t until = h_now_ms() + 10000;

	while (!has_line(text, line)) {
		struct pollfd pfd = { .fd = m, .events = POLLIN };
		ssize_t n;

		if (h_now_ms() > until || len + 1 >= size)
			fail_msg("no line \"%s\" on the terminal:\n%s", line,
			    text);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = read(m, text + len, size - 1 - len)) <= 0)
			continue;
		len += (size_t)n;
		text[len] = '\0';
	}
}

/* Polls path until it is running with at least `restarts`; its pid. */
static long
running_pid(int fd, const char *path, int restarts)
{
	for (int i = 0; i < 500; i++) {
		json_t *r = h_ok(fd, "inspect", json_pack("{s:s}", "path",
		    path));
		long pid = strcmp(h_str(r, "state"), "running") == 0 &&
		        h_num(r, "restarts") >= restarts ?
		    (long)h_num(r, "pid") : 0;

		json_decref(r);
		if (pid > 0)
			return pid;
		usleep(20000);
	}
	fail_msg("%s never ran with %d restarts", path, restarts);
	return -1;
}

/* What an operator watching arbord in a terminal reads at the default
 * level (info): every end of a worker with its path, pid and how it ended,
 * every restart and give-up, and no journald <N> prefixes. */
static void
test_worker_ends_restarts_and_give_ups_are_logged_plainly_on_a_terminal(
    void **state)
{
	const char *args[] = { "--log-level", "info", NULL };
	char text[32768] = "", want[256];
	struct termios tio;
	long pid;
	int m, sl, fd;
	json_t *r;

	assert_true((m = posix_openpt(O_RDWR | O_NOCTTY)) >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_true((sl = open(ptsname(m), O_RDWR | O_NOCTTY)) >= 0);
	/* Lines as written: no \r added. */
	assert_int_equal(tcgetattr(sl, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(sl, TCSANOW, &tio), 0);
	/* Under journald the test's own stderr may say so; a terminal
	 * alone is what this is about. */
	unsetenv("JOURNAL_STREAM");
	h_start_stderr(&logged, args, sl);
	close(sl);
	fd = h_connect(&logged);

	/* An exit code, not restarted. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s,s]}", "name", "e",
	    "kind", "exec", "restart", "temporary", "argv", "sh", "-c",
	    "sleep 0.1; exit 3"));
	pid = (long)h_num(r, "pid");
	json_decref(r);
	snprintf(want, sizeof want, "/e (pid %ld): exited with code 3", pid);
	pty_expect_line(m, text, sizeof text, want);
	pty_expect_line(m, text, sizeof text,
	    "/e: not restarted (restart: temporary)");

	/* Two SIGKILLs from outside: a restart, then the give-up of the
	 * worker and of its supervisor (intensity 1). */
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:i,s:[{s:s,"
	    "s:s,s:s,s:i,s:i,s:[s,s]}]}", "name", "s", "kind", "supervisor",
	    "restart", "temporary", "max_restarts", 1, "period_ms", 60000,
	    "children", "name", "v", "kind", "exec", "restart", "permanent",
	    "backoff_ms", 1, "backoff_max_ms", 1, "argv", "sleep", "100")));
	pid = running_pid(fd, "/s/v", 0);
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	snprintf(want, sizeof want, "/s/v (pid %ld): killed by signal KILL",
	    pid);
	pty_expect_line(m, text, sizeof text, want);
	pty_expect_line(m, text, sizeof text,
	    "/s/v: restarting in 1 ms (restart 1)");
	pid = running_pid(fd, "/s/v", 1);
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	snprintf(want, sizeof want, "/s/v (pid %ld): killed by signal KILL",
	    pid);
	pty_expect_line(m, text, sizeof text, want);
	pty_expect_line(m, text, sizeof text,
	    "warning: /s/v: given up: restart intensity exceeded");
	pty_expect_line(m, text, sizeof text,
	    "warning: /s: restart intensity exceeded (more than 1 restarts "
	    "in 60000 ms); stopping its children");
	pty_expect_line(m, text, sizeof text,
	    "warning: /s: given up: restart intensity exceeded");
	/* Requests name their node. */
	snprintf(want, sizeof want, "spawn /s (supervisor) by pid %ld uid %ld",
	    (long)getpid(), (long)getuid());
	pty_expect_line(m, text, sizeof text, want);
	h_close(fd);
	assert_int_equal(WEXITSTATUS(h_stop(&logged)), 0);
	close(m);
	if (text[0] == '<' || strstr(text, "\n<") != NULL)
		fail_msg("a journald prefix on a terminal:\n%s", text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping_says_version_protocol_pid_uptime, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_messages_get_their_error_and_the_connection_stays, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_params_not_found_exists_conflict, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_batch_is_answered_as_one_array_without_notifications, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_requests_are_all_answered, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_too_large_message_is_refused_and_connection_closed, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_wait_running_terminated_and_timeout, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_client_gone_mid_wait_and_mid_batch_leaves_nothing, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_ten_thousand_node_tree_spawned_in_one_call_is_cancelled, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fd_count_is_unchanged_after_spawning_and_cancelling_1000, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_cancels_the_tree_and_exits_zero, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_answers_then_exits_zero, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_limits_on_nodes_and_connections, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_a_connection_keeps_at_most_1024_calls_waiting, h_setup, h_teardown),
		cmocka_unit_test_teardown(
		    test_changes_are_logged_with_node_and_client_reads_only_at_debug, stop_logged),
		cmocka_unit_test_teardown(
		    test_worker_ends_restarts_and_give_ups_are_logged_plainly_on_a_terminal, stop_logged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
