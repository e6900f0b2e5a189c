/*
 * GET /v1/logs end to end, with a plain socket client: the logs answer as
 * JSON, its errors (a missing node is 404), and with follow the SSE stream:
 * the recent lines first, then live ones, of a whole subtree and of one
 * stream, and a client that does not read bounded and dropped.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static int port;
static char portarg[64];

static int
setup(void **state)
{
	const char *args[] = { "--http", portarg, NULL };

	port = h_free_port();
	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
	h_start(&D, args);
	return 0;
}

static int
teardown(void **state)
{
	char gate[512];
	int status;

	snprintf(gate, sizeof gate, "%s/gate", D.dir);
	unlink(gate);
	status = h_stop(&D);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return 0;
}

static int
get(const char *target)
{
	int fd = h_tcp_connect(port, 1000);
	char *req;
	int n;

	n = asprintf(&req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n",
	    target, port);
	assert_true(n > 0);
	h_send_raw(fd, req, (size_t)n);
	free(req);
	return fd;
}

/* The whole answer (HTTP/1.0: to EOF): its status, its body in *body. */
static int
get_all(const char *target, char **body)
{
	int fd = get(target), status = 0;
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *sep;
	ssize_t n;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		if (poll(&pfd, 1, 10000) != 1)
			fail_msg("no answer from the HTTP server");
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &status), 1);
	sep = strstr(buf, "\r\n\r\n");
	assert_non_null(sep);
	*body = strdup(sep + 4);
	free(buf);
	return status;
}

static json_t *
get_json(const char *target, int want)
{
	char *body;
	json_t *j;

	assert_int_equal(get_all(target, &body), want);
	j = json_loads(body, 0, NULL);
	if (j == NULL)
		fail_msg("not JSON: %s", body);
	free(body);
	return j;
}

/* An SSE stream being read: what came so far, split into messages. */
struct sse {
	int fd;
	char buf[1 << 20];
	size_t len;
	bool head; /* the headers were read */
	bool eof;
};

/* The next message ("event" and "data"), or false at EOF or after 10 s.
 * Comment-only messages are skipped. */
static bool
sse_next(struct sse *s, char *event, size_t esize, json_t **data)
{
	for (;;) {
		char *p;

		s->buf[s->len] = '\0';
		if (!s->head && (p = strstr(s->buf, "\r\n\r\n")) != NULL) {
			assert_non_null(strstr(s->buf, " 200 "));
			assert_non_null(strstr(s->buf,
			    "Content-Type: text/event-stream"));
			s->len -= (size_t)(p + 4 - s->buf);
			memmove(s->buf, p + 4, s->len + 1);
			s->head = true;
			continue;
		}
		if (s->head && (p = strstr(s->buf, "\n\n")) != NULL) {
			char *ev, *d;

			*p = '\0';
			ev = strstr(s->buf, "event: ");
			d = strstr(s->buf, "data: ");
			snprintf(event, esize, "message");
			if (ev != NULL)
				snprintf(event, esize, "%.*s",
				    (int)strcspn(ev + 7, "\n"), ev + 7);
			*data = NULL;
			if (d != NULL) {
				d[6 + strcspn(d + 6, "\n")] = '\0';
				if ((*data = json_loads(d + 6, 0, NULL)) ==
				    NULL)
					fail_msg("bad SSE data: %s", d);
			}
			s->len -= (size_t)(p + 2 - s->buf);
			memmove(s->buf, p + 2, s->len + 1);
			if (d == NULL && ev == NULL)
				continue;
			return true;
		}
		if (s->eof)
			return false;
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		if (poll(&pfd, 1, 10000) != 1)
			return false;
		ssize_t r = read(s->fd, s->buf + s->len,
		    sizeof s->buf - s->len - 1);
		if (r <= 0)
			s->eof = true;
		else
			s->len += (size_t)r;
	}
}

/* Reads messages until one whose lines hold want; each batch's lines are
 * appended to seen (one string each, "path|stream|text"). */
static bool
sse_until(struct sse *s, const char *want, json_t *seen)
{
	char event[32];
	json_t *d;

	while (sse_next(s, event, sizeof event, &d)) {
		bool found = false;
		size_t i;
		json_t *l;

		if (strcmp(event, "message") == 0) {
			assert_true(json_is_integer(json_object_get(d,
			    "t_ms")));
			assert_true(json_is_integer(json_object_get(d, "run")));
			json_array_foreach(json_object_get(d, "lines"), i, l)
			{
				char line[512];

				snprintf(line, sizeof line, "%s|%s|%s",
				    h_str(d, "path"), h_str(d, "stream"),
				    json_string_value(l));
				json_array_append_new(seen, json_string(line));
				if (strstr(json_string_value(l), want))
					found = true;
			}
		}
		json_decref(d);
		if (found)
			return true;
	}
	return false;
}

static int
index_of(json_t *seen, const char *line)
{
	size_t i;
	json_t *l;

	json_array_foreach(seen, i, l)
	if (strcmp(json_string_value(l), line) == 0)
		return (int)i;
	return -1;
}

/* A number of `stats`, polled until it is n, for up to ms. */
static json_int_t
stat_until(int fd, const char *key, json_int_t n, int ms)
{
	int64_t end = h_now_ms() + ms;
	json_int_t v = h_stat(fd, key);

	while (v != n && h_now_ms() < end) {
		usleep(10000);
		v = h_stat(fd, key);
	}
	return v;
}

/* A sample of /metrics (name with its labels, as printed). */
static long long
metric(const char *name)
{
	char *body, *p;
	long long v = -1;
	size_t len = strlen(name);

	assert_int_equal(get_all("/metrics", &body), 200);
	for (p = body; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, name, len) == 0 && p[len] == ' ') {
			v = atoll(p + len + 1);
			break;
		}
	}
	free(body);
	if (v < 0)
		fail_msg("no metric %s", name);
	return v;
}

static void
spawn_sh(int fd, const char *parent, const char *name, const char *script)
{
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s,s]}",
	    "parent", parent, "name", name, "kind", "exec", "argv", "sh", "-c",
	    script)));
}

/* Polls logs of path until its data holds want, for up to 10 s. */
static void
logs_hold(int fd, const char *path, const char *want)
{
	for (int i = 0; i < 1000; i++) {
		json_t *r = h_ok(fd, "logs", json_pack("{s:s}", "path", path));
		bool ok = strstr(h_str(r, "data"), want) != NULL;

		json_decref(r);
		if (ok)
			return;
		usleep(10000);
	}
	fail_msg("%s never printed %s", path, want);
}

static void
test_logs_answer_as_json_and_its_errors(void **state)
{
	int fd = h_connect(&D);
	json_t *j, *recs;
	char *body;

	char script[1024], gate[512];
	FILE *f;

	/* Two pipes, each line stamped when arbord reads it: the stderr
	 * line is written once arbord has read the stdout ones (the test
	 * saw them, then made the gate file), so the merged order is
	 * certain. */
	snprintf(gate, sizeof gate, "%s/gate", D.dir);
	snprintf(script, sizeof script, "echo one; echo two; "
	    "while [ ! -e %s ]; do sleep 0.01; done; echo oops >&2; "
	    "exec sleep 60", gate);
	spawn_sh(fd, "/", "w", script);
	logs_hold(fd, "/w", "two");
	assert_non_null(f = fopen(gate, "w"));
	fclose(f);
	logs_hold(fd, "/w", "oops");

	j = get_json("/v1/logs?path=/w&lines=2", 200);
	assert_string_equal(h_str(j, "data"), "two\noops\n");
	assert_true(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);

	j = get_json("/v1/logs?path=/w&stream=stdout&records=true", 200);
	assert_string_equal(h_str(j, "data"), "one\ntwo\n");
	recs = json_object_get(j, "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_string_equal(h_str(json_array_get(recs, 1), "text"), "two");
	assert_string_equal(h_str(json_array_get(recs, 1), "stream"),
	    "stdout");
	assert_string_equal(h_str(json_array_get(recs, 1), "path"), "/w");
	assert_int_equal(h_num(json_array_get(recs, 1), "run"), 1);
	json_decref(j);

	/* A supervisor's: its subtree's lines, each with its path. */
	j = get_json("/v1/logs?path=/&lines=1", 200);
	assert_string_equal(h_str(j, "data"), "/w | oops\n");
	json_decref(j);

	j = get_json("/v1/logs?path=/nope", 404);
	assert_string_equal(h_str(json_object_get(j, "error"), "kind"),
	    "not_found");
	json_decref(j);
	j = get_json("/v1/logs?path=/nope&follow=1", 404);
	json_decref(j);
	json_decref(get_json("/v1/logs", 400));
	json_decref(get_json("/v1/logs?path=/w&lines=many", 400));
	json_decref(get_json("/v1/logs?path=/w&follow=maybe", 400));
	json_decref(get_json("/v1/logs?path=/w&stream=stdin", 400));
	json_decref(get_json("/v1/logs?path=/w&colour=red", 400));
	assert_int_equal(get_all("/v1/logs?path=/w&lines=1&lines=2", &body),
	    400);
	free(body);
	h_close(fd);
}

static void
test_logs_follow_sends_recent_lines_then_live_ones_of_a_subtree(void **state)
{
	int fd = h_connect(&D);
	struct sse *s = calloc(1, sizeof *s);
	json_t *seen = json_array();
	char event[32];
	json_t *d;

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "web",
	    "kind", "supervisor")));
	spawn_sh(fd, "/web", "a", "echo old-a; echo old-err >&2; exec sleep 60");
	spawn_sh(fd, "/", "other", "echo old-other; exec sleep 60");
	logs_hold(fd, "/web/a", "old-err");
	logs_hold(fd, "/other", "old-other");

	s->fd = get("/v1/logs?path=/web&follow=1&lines=10");
	assert_int_equal(h_stat_until(fd, "subscriptions", 1), 1);
	/* Live: a line of a node spawned since, in the subtree; one
	 * outside it is not sent. */
	spawn_sh(fd, "/", "other2", "echo new-other; exec sleep 60");
	logs_hold(fd, "/other2", "new-other");
	spawn_sh(fd, "/web", "b", "echo new-b; exec sleep 60");
	assert_true(sse_until(s, "new-b", seen));
	/* The two streams' first lines in either order: two pipes. */
	assert_true(index_of(seen, "/web/a|stdout|old-a") < 2);
	assert_true(index_of(seen, "/web/a|stderr|old-err") < 2);
	assert_int_equal(index_of(seen, "/web/b|stdout|new-b"), 2);
	assert_int_equal(json_array_size(seen), 3);
	close(s->fd);
	free(s);
	json_decref(seen);

	/* One stream: stderr only, and a restart's lines say their run. */
	s = calloc(1, sizeof *s);
	seen = json_array();
	s->fd = get("/v1/logs?path=/web/a&follow=1&stream=stderr");
	assert_true(sse_until(s, "old-err", seen));
	json_decref(h_ok(fd, "restart", json_pack("{s:s}", "path", "/web/a")));
	for (;;) {
		assert_true(sse_next(s, event, sizeof event, &d));
		if (d != NULL && h_num(d, "run") == 2) {
			assert_string_equal(h_str(d, "stream"), "stderr");
			assert_string_equal(json_string_value(json_array_get(
			                        json_object_get(d, "lines"), 0)),
			    "old-err");
			json_decref(d);
			break;
		}
		json_decref(d);
	}
	close(s->fd);
	free(s);
	json_decref(seen);
	h_close(fd);
}

static void
test_logs_follow_of_a_client_that_does_not_read_is_bounded(void **state)
{
	int fd = h_connect(&D), small = 4096, big = 1 << 20, c;
	struct sse *s = calloc(1, sizeof *s);
	char event[32];
	long rss0, rss1, rss_max;
	long long queued;
	json_t *d;
	bool overflow = false;

	c = h_tcp_connect(port, 1000);
	setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	h_send_raw(c, "GET /v1/logs?path=/&follow=1 HTTP/1.0\r\n\r\n", 41);
	assert_int_equal(h_stat_until(fd, "subscriptions", 1), 1);
	rss0 = h_rss_kib(D.pid);
	/* 24 MiB of short lines, far past the 4 MiB of output the history
	 * holds: the stream falls behind it and is dropped. */
	spawn_sh(fd, "/", "chatty",
	    "i=0; while [ $i -lt 300000 ]; do "
	    "echo \"line $i of a chatty worker, well over the pace\"; "
	    "i=$((i+1)); done; exec sleep 60");
	/* Read by a loaded ASan daemon, the megabytes take a while. */
	assert_int_equal(stat_until(fd, "subscriptions", 0, 60000), 0);
	/* What waits for it: the pace's 256 KiB and an event's lines, not
	 * the megabytes printed. */
	queued = metric("arbor_http_queued_bytes");
	if (queued > 2 * 1024 * 1024)
		fail_msg("%lld bytes queued for the stream", queued);
	/* Under the sanitizers (ARBOR_TEST_RSS_KIB set) their quarantine
	 * keeps freed memory resident: only their bound holds there. */
	rss1 = h_rss_kib(D.pid);
	rss_max = getenv("ARBOR_TEST_RSS_KIB") != NULL ?
	    atol(getenv("ARBOR_TEST_RSS_KIB")) :
	    16 * 1024;
	if (rss1 - rss0 > rss_max)
		fail_msg("RSS grew by %ld KiB", rss1 - rss0);
	/* Read now: lines, then the overflow, then the end; with a window
	 * as small as the one that made it fall behind this would take a
	 * minute (8 KiB per delayed ACK). */
	setsockopt(c, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(c, IPPROTO_TCP, TCP_WINDOW_CLAMP, &big, sizeof big);
	s->fd = c;
	s->head = false;
	while (sse_next(s, event, sizeof event, &d)) {
		if (strcmp(event, "overflow") == 0)
			overflow = true;
		else
			assert_false(overflow);
		json_decref(d);
	}
	assert_true(overflow);
	assert_true(s->eof);
	close(c);
	free(s);
	h_close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_logs_answer_as_json_and_its_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_logs_follow_sends_recent_lines_then_live_ones_of_a_subtree,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_logs_follow_of_a_client_that_does_not_read_is_bounded,
		    setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
