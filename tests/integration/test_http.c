/*
 * HTTP monitoring end to end, with a minimal HTTP/1.x client on a plain
 * socket: every endpoint, every error status, the metrics as Prometheus
 * text, the token on POST /v1/rpc, deferred calls, SSE with Last-Event-ID,
 * and SSE clients that do not read.
 */
#include <arpa/inet.h>
#include <ctype.h>
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
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define TOKEN "s3cret-token"

/* D: the harness's daemon, started here with HTTP on. */
static int port;
static char portarg[64];

struct resp {
	int status;
	char *head;	/* owned: status line and headers */
	char *body;	/* owned */
	size_t len;
};


static void
start(bool token)
{
	const char *args[] = { "--http", portarg, "--http-token", TOKEN,
		NULL };

	port = h_free_port();
	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
	if (!token)
		args[2] = NULL;
	h_start(&D, args);
}

/* With the token and extra (NULL-terminated) arguments. */
static void
start_with(const char *const *extra)
{
	const char *args[16] = { "--http", portarg, "--http-token", TOKEN };
	int i = 4;

	port = h_free_port();
	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
	for (; extra != NULL && *extra != NULL && i < 15; extra++)
		args[i++] = *extra;
	args[i] = NULL;
	h_start(&D, args);
}

static int
setup(void **state)
{
	start(true);
	return 0;
}

static int
setup_no_token(void **state)
{
	start(false);
	return 0;
}

static int
teardown(void **state)
{
	int status = h_stop(&D);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return 0;
}


/* Sends an HTTP/1.0 request (extra: header lines, each ending in \r\n). */
static int
http_send(const char *method, const char *target, const char *extra,
    const char *body)
{
	int fd = h_tcp_connect(port, 1000);
	char *req;
	int n;

	n = asprintf(&req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n%s"
	    "Content-Length: %zu\r\n\r\n%s", method, target, port,
	    extra ? extra : "", body ? strlen(body) : 0, body ? body : "");
	assert_true(n > 0);
	h_send_raw(fd, req, (size_t)n);
	free(req);
	return fd;
}

/* Sends text as is, a whole request of the caller's making. */
static int
http_raw(const char *text)
{
	int fd = h_tcp_connect(port, 1000);

	h_send_raw(fd, text, strlen(text));
	return fd;
}

/* Reads to EOF (HTTP/1.0: the server closes) and splits the answer. */
static struct resp
http_read(int fd)
{
	struct resp r = { 0 };
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *sep;
	ssize_t n;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		/* A bound on a daemon busy with hundreds of streams. */
		if (poll(&pfd, 1, 30000) != 1)
			fail_msg("no answer from the HTTP server in 30 s");
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	h_close(fd);
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	assert_non_null(sep);
	*sep = '\0';
	r.head = strdup(buf);
	r.len = len - (size_t)(sep + 4 - buf);
	r.body = malloc(r.len + 1);
	memcpy(r.body, sep + 4, r.len + 1);
	assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &r.status), 1);
	free(buf);
	return r;
}

static struct resp
http(const char *method, const char *target, const char *extra,
    const char *body)
{
	return http_read(http_send(method, target, extra, body));
}

static void
resp_free(struct resp *r)
{
	free(r->head);
	free(r->body);
}

/* A header's value (in a static buffer), NULL when missing. */
static const char *
header(const struct resp *r, const char *name)
{
	static char value[512];
	const char *p = r->head;
	size_t nlen = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *end;

			while (*v == ' ')
				v++;
			end = strstr(v, "\r\n");
			snprintf(value, sizeof value, "%.*s",
			    (int)(end ? (size_t)(end - v) : strlen(v)), v);
			return value;
		}
	}
	return NULL;
}

static json_t *
body_json(const struct resp *r)
{
	json_error_t jerr;
	json_t *j = json_loadb(r->body, r->len, 0, &jerr);

	if (j == NULL)
		fail_msg("not JSON (%s): %s", jerr.text, r->body);
	return j;
}

/* A sample's value in /metrics (name with its labels, if any); -1 when
 * it is not there (or the request was refused: 503 when every connection
 * slot is taken). */
static int metric_refused; /* /metrics requests refused so (503) */

static long long
metric_try(const char *name)
{
	struct resp r = http("GET", "/metrics", NULL, NULL);

	if (r.status == 503)
		metric_refused++;
	size_t n = strlen(name);
	const char *p = r.body;
	long long v = -1;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			v = strtoll(p + n + 1, NULL, 10);
			break;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	resp_free(&r);
	return v;
}

static long long
metric(const char *name)
{
	long long v = metric_try(name);

	if (v == -1)
		fail_msg("no metric %s in /metrics", name);
	return v;
}

/* The daemon's fds, polled until there are at most n, for up to ms: a
 * closed connection's fd is released a loop turn after its client saw the
 * end. */
static int
fds_until(int n, int ms)
{
	int got = h_fd_count(D.pid);

	for (; got > n && ms > 0; ms -= 20) {
		usleep(20 * 1000);
		got = h_fd_count(D.pid);
	}
	return got;
}

/* Polls a metric until it is v, for up to ms; returns the last value. */
static long long
metric_until(const char *name, long long v, int ms)
{
	long long got = metric_try(name);

	/* A slot just freed may not be seen free yet: /metrics itself is
	 * then refused, and asked again. */
	for (; got != v && ms > 0; ms -= 20) {
		usleep(20 * 1000);
		got = metric_try(name);
	}
	if (got == -1)
		fail_msg("no metric %s in /metrics", name);
	return got;
}

/* A JSON error answer with that status. */
static void
expect_error(const char *method, const char *target, const char *extra,
    const char *body, int status)
{
	struct resp r = http(method, target, extra, body);
	json_t *j, *err;

	if (r.status != status)
		fail_msg("%s %s: %d, wanted %d: %s", method, target, r.status,
		    status, r.body);
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	j = body_json(&r);
	err = json_object_get(j, "error");
	assert_int_equal(json_integer_value(json_object_get(err, "status")),
	    status);
	assert_true(strlen(json_string_value(json_object_get(err,
	    "message"))) > 5);
	json_decref(j);
	resp_free(&r);
}

static void
test_healthz_dashboard_tree_stats(void **state)
{
	int fd = h_connect(&D);
	struct resp r;
	json_t *j, *kids;

	r = http("GET", "/healthz", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	assert_string_equal(header(&r, "Content-Type"),
	    "text/plain; charset=utf-8");
	resp_free(&r);

	r = http("GET", "/", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"),
	    "text/html; charset=utf-8");
	assert_non_null(strstr(r.body, "<!DOCTYPE html>"));
	assert_non_null(strstr(r.body, "new EventSource("));
	/* The tree comes in the page, '<' escaped. */
	assert_non_null(strstr(r.body, "var initial = {\"seq\":"));
	assert_null(strstr(r.body, "ARBOR_INITIAL"));
	assert_null(strstr(r.body, "http://"));	/* nothing external */
	resp_free(&r);

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s}]}",
	    "name", "web", "kind", "supervisor", "children", "name", "w1",
	    "kind", "tick")));
	r = http("GET", "/v1/tree?path=/web&depth=1", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	j = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "path")),
	    "/web");
	kids = json_object_get(j, "children");
	assert_int_equal(json_array_size(kids), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(kids, 0), "name")), "w1");
	json_decref(j);
	resp_free(&r);

	r = http("GET", "/v1/tree", NULL, NULL);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "path")),
	    "/");
	assert_null(json_object_get(j, "children"));	/* depth 0 */
	json_decref(j);
	resp_free(&r);

	r = http("GET", "/v1/stats", NULL, NULL);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "nodes")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "by_kind"), "tick")), 1);
	assert_true(json_is_integer(json_object_get(j, "rss_bytes")));
	json_decref(j);
	resp_free(&r);
	h_close(fd);
}

static void
test_errors_have_status_and_json_body(void **state)
{
	struct resp r;

	expect_error("GET", "/nope", NULL, NULL, 404);
	expect_error("GET", "/v1", NULL, NULL, 404);
	expect_error("GET", "/v1/tree?path=/missing", NULL, NULL, 404);
	expect_error("GET", "/v1/tree?depth=deep", NULL, NULL, 400);
	expect_error("GET", "/v1/tree?depth=99999", NULL, NULL, 400);
	expect_error("GET", "/v1/tree?path=no-slash", NULL, NULL, 400);
	expect_error("GET", "/v1/tree?colour=red", NULL, NULL, 400);
	expect_error("GET", "/v1/tree?depth=1&depth=2", NULL, NULL, 400);
	expect_error("GET", "/v1/stats?x=1", NULL, NULL, 400);
	expect_error("GET", "/v1/events?output=maybe", NULL, NULL, 400);
	expect_error("GET", "/v1/events", "Last-Event-ID: soon\r\n", NULL,
	    400);
	expect_error("DELETE", "/v1/tree", NULL, NULL, 405);
	expect_error("POST", "/metrics", NULL, "x", 405);
	expect_error("GET", "/v1/rpc", NULL, NULL, 405);
	expect_error("PUT", "/", NULL, "x", 405);
	r = http("POST", "/v1/stats", NULL, "{}");
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "GET, HEAD");
	resp_free(&r);
	r = http("GET", "/v1/rpc", NULL, NULL);
	assert_string_equal(header(&r, "Allow"), "POST");
	resp_free(&r);
}

static bool
metric_name_ok(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' ||
	    s[0] == ':'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' ||
		    s[i] == ':'))
			return false;
	return true;
}

/* Checks one sample line; returns its value, fills its name. */
static double
parse_sample(const char *line, char *name, size_t size, char *labels,
    size_t lsize)
{
	const char *p = line, *brace = strchr(line, '{');
	const char *space = strrchr(line, ' ');
	char *end;
	double v;

	assert_non_null(space);
	if (brace != NULL && brace < space) {
		const char *close = strchr(brace, '}');

		assert_non_null(close);
		assert_true(metric_name_ok(line, (size_t)(brace - line)));
		snprintf(name, size, "%.*s", (int)(brace - line), line);
		snprintf(labels, lsize, "%.*s", (int)(close - brace - 1),
		    brace + 1);
		/* name="value"(,name="value")* */
		p = brace + 1;
		while (p < close) {
			const char *eq = strchr(p, '=');

			assert_true(eq != NULL && eq < close);
			assert_true(metric_name_ok(p, (size_t)(eq - p)));
			assert_int_equal(eq[1], '"');
			p = strchr(eq + 2, '"');
			assert_true(p != NULL && p < close);
			p++;
			if (*p == ',')
				p++;
		}
		assert_true(p == close);
		assert_true(close + 1 == space);
	} else {
		assert_true(metric_name_ok(line, (size_t)(space - line)));
		snprintf(name, size, "%.*s", (int)(space - line), line);
		labels[0] = '\0';
	}
	v = strtod(space + 1, &end);
	assert_true(end != space + 1 && *end == '\0');
	return v;
}

static void
test_metrics_are_prometheus_text(void **state)
{
	int fd = h_connect(&D);
	struct resp r;
	char *line, *save, name[128], labels[256], typed[64][128];
	int ntyped = 0, samples = 0, exit_series = 0;
	double spawns = -1, running = -1, cancelled = -1;

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "s",
	    "kind", "sleep")));
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s",
	    "wait", 1)));
	r = http("GET", "/metrics", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	assert_true(r.len > 0 && r.body[r.len - 1] == '\n');
	for (line = strtok_r(r.body, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char type[32];

			assert_int_equal(sscanf(line + 7, "%127s %31s", name,
			    type), 2);
			assert_true(strcmp(type, "gauge") == 0 ||
			    strcmp(type, "counter") == 0);
			if (strcmp(type, "counter") == 0)
				assert_non_null(strstr(name, "_total"));
			assert_true(ntyped < 64);
			strcpy(typed[ntyped++], name);
			continue;
		}
		assert_int_not_equal(line[0], '#');
		double v = parse_sample(line, name, sizeof name, labels,
		    sizeof labels);
		bool found = false;

		/* Its TYPE came before it. */
		for (int i = 0; i < ntyped; i++)
			found |= strcmp(typed[i], name) == 0;
		if (!found)
			fail_msg("sample before its TYPE: %s", line);
		samples++;
		if (strcmp(name, "arbor_spawns_total") == 0)
			spawns = v;
		if (strcmp(name, "arbor_nodes") == 0 &&
		    strcmp(labels, "state=\"running\"") == 0)
			running = v;
		if (strcmp(name, "arbor_exits_total") == 0) {
			exit_series++;
			if (strcmp(labels, "cause=\"cancelled\"") == 0)
				cancelled = v;
		}
	}
	assert_true(samples > 20);
	assert_true(spawns == 1);
	assert_true(running == 1);	/* the root */
	assert_true(cancelled == 1);
	assert_true(exit_series <= 12);	/* a bounded set, not per path */
	{
		static const char *const want[] = {
			"arbor_nodes", "arbor_nodes_by_kind",
			"arbor_spawns_total", "arbor_exits_total",
			"arbor_restarts_total", "arbor_cancels_total",
			"arbor_connections", "arbor_subscriptions",
			"arbor_event_history_size", "arbor_event_seq",
			"arbor_resident_memory_bytes", "arbor_uptime_seconds",
			"arbor_http_requests_total",
		};

		for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
			bool found = false;

			for (int i = 0; i < ntyped; i++)
				found |= strcmp(typed[i], want[w]) == 0;
			if (!found)
				fail_msg("no metric %s", want[w]);
		}
	}
	resp_free(&r);
	h_close(fd);
}

static const char *const ping = "{\"jsonrpc\":\"2.0\",\"id\":7,"
    "\"method\":\"ping\"}";

/* Issue 11: three SIGKILLs from outside of a worker that is restarted each
 * time count `signal` three times, restarted ends included. */
static void
test_exits_total_counts_each_kill_of_a_restarted_worker(void **state)
{
	int fd = h_connect(&D);

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:[{s:s,s:s,"
	    "s:s,s:i,s:i,s:[s,s]}]}", "name", "s", "kind", "supervisor",
	    "max_restarts", 100, "children", "name", "v", "kind", "exec",
	    "restart", "permanent", "backoff_ms", 1, "backoff_max_ms", 1,
	    "argv", "sleep", "100")));
	for (int i = 0; i < 3; i++) {
		pid_t pid = 0;

		for (int t = 0; t < 500 && pid <= 0; t++) {
			json_t *r = h_ok(fd, "inspect", json_pack("{s:s}",
			    "path", "/s/v"));

			if (strcmp(h_str(r, "state"), "running") == 0 &&
			    h_num(r, "restarts") == i)
				pid = (pid_t)h_num(r, "pid");
			json_decref(r);
			if (pid <= 0)
				usleep(20 * 1000);
		}
		assert_true(pid > 0);
		assert_int_equal(kill(pid, SIGKILL), 0);
	}
	assert_int_equal(metric_until("arbor_exits_total{cause=\"signal\"}", 3,
	    10000), 3);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s",
	    "wait", 1)));
	close(fd);
}

static void
test_rpc_needs_the_token(void **state)
{
	struct resp r;
	json_t *j;

	expect_error("POST", "/v1/rpc", NULL, ping, 403);
	expect_error("POST", "/v1/rpc", "Authorization: Bearer wrong\r\n",
	    ping, 403);
	expect_error("POST", "/v1/rpc", "Authorization: Bearer " TOKEN
	    "x\r\n", ping, 403);
	expect_error("POST", "/v1/rpc", "Authorization: Basic " TOKEN "\r\n",
	    ping, 403);
	r = http("POST", "/v1/rpc", "Authorization: Bearer " TOKEN "\r\n",
	    ping);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "result"), "protocol")), 1);
	json_decref(j);
	resp_free(&r);
	/* Errors are JSON-RPC answers, as on the socket. */
	r = http("POST", "/v1/rpc", "Authorization: Bearer " TOKEN "\r\n",
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}");
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "error"), "code")), -32601);
	json_decref(j);
	resp_free(&r);
	r = http("POST", "/v1/rpc", "Authorization: Bearer " TOKEN "\r\n",
	    "{not json");
	j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "error"), "code")), -32700);
	json_decref(j);
	resp_free(&r);
	/* A notification has no answer. */
	r = http("POST", "/v1/rpc", "Authorization: Bearer " TOKEN "\r\n",
	    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
	assert_int_equal(r.status, 204);
	resp_free(&r);
}

static void
test_rpc_deferred_wait_and_batch(void **state)
{
	int fd = h_connect(&D), hf;
	struct resp r;
	json_t *j;

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "z",
	    "kind", "sleep")));
	hf = http_send("POST", "/v1/rpc", "Authorization: Bearer " TOKEN
	    "\r\n", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"wait\","
	    "\"params\":{\"path\":\"/z\"}},{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"method\":\"ping\"}]");
	/* Held (arbor_http_rpc_pending) before the cancel it waits on. */
	assert_int_equal(metric_until("arbor_http_rpc_pending", 1, 10000), 1);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s}", "path", "/z")));
	r = http_read(hf);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_int_equal(json_array_size(j), 2);
	json_decref(j);
	resp_free(&r);
	/* A client that goes away mid-wait leaves nothing behind. */
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "z2",
	    "kind", "sleep")));
	hf = http_send("POST", "/v1/rpc", "Authorization: Bearer " TOKEN
	    "\r\n", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"wait\","
	    "\"params\":{\"path\":\"/z2\"}}");
	assert_int_equal(metric_until("arbor_http_rpc_pending", 1, 10000), 1);
	close(hf);
	/* libevent 2.1's evhttp does not read a connection whose request
	 * is being answered, so the close is seen when the answer is
	 * written, once the wait ends: then nothing of it is left. */
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/z2",
	    "wait", 1)));
	assert_int_equal(metric_until("arbor_http_rpc_pending", 0, 10000), 0);
	/* watch needs a connection that stays open. */
	r = http("POST", "/v1/rpc", "Authorization: Bearer " TOKEN "\r\n",
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"watch\"}");
	j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "error"), "code")), -32003);
	json_decref(j);
	resp_free(&r);
	h_close(fd);
}

/* A deferred call sent as a notification (no id) gets no answer, so the
 * request is answered 204 at once; the call still runs to its end (a
 * cancel with wait and remove removes) and then nothing of it is left:
 * 200 of them, and the pending requests, fds and RSS are back where they
 * were. */
static void
test_rpc_deferred_notifications_leave_nothing(void **state)
{
	const char *auth = "Authorization: Bearer " TOKEN "\r\n";
	int fd = h_connect(&D), base_fds, i;
	long long base_rss;
	struct resp r;
	json_t *j;

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "n",
	    "kind", "sleep")));
	r = http("POST", "/v1/rpc", auth, "{\"jsonrpc\":\"2.0\","
	    "\"method\":\"ping\"}");
	resp_free(&r);
	base_fds = h_fd_count_settled(D.pid);
	base_rss = metric("arbor_resident_memory_bytes");
	for (i = 0; i < 200; i++) {
		r = http("POST", "/v1/rpc", auth, i % 2 == 0 ?
		    "{\"jsonrpc\":\"2.0\",\"method\":\"wait\","
		    "\"params\":{\"path\":\"/n\"}}" :
		    "[{\"jsonrpc\":\"2.0\",\"method\":\"wait\","
		    "\"params\":{\"path\":\"/n\"}},{\"jsonrpc\":\"2.0\","
		    "\"method\":\"ping\"}]");
		if (r.status != 204)
			fail_msg("notification %d: %d %s", i, r.status,
			    r.body);
		resp_free(&r);
	}
	assert_int_equal(metric("arbor_http_rpc_pending"), 200);
	r = http("POST", "/v1/rpc", auth, "{\"jsonrpc\":\"2.0\","
	    "\"method\":\"cancel\",\"params\":{\"path\":\"/n\","
	    "\"wait\":true,\"remove\":true}}");
	assert_int_equal(r.status, 204);
	resp_free(&r);
	assert_int_equal(metric_until("arbor_http_rpc_pending", 0, 15000), 0);
	j = h_call(fd, "inspect", json_pack("{s:s}", "path", "/n"));
	assert_non_null(json_object_get(j, "error"));
	json_decref(j);
	assert_int_equal(fds_until(base_fds, 10000), base_fds);
	/* A few pages of allocator slack, not 200 requests' worth; under
	 * the sanitizers (ARBOR_TEST_RSS_KIB set) their quarantine keeps
	 * freed memory resident, so only a bound on growth holds there. */
	assert_true(metric("arbor_resident_memory_bytes") <
	    base_rss + (getenv("ARBOR_TEST_RSS_KIB") != NULL ? 32 : 2) *
	        1024 * 1024);
	h_close(fd);
}

static void
test_rpc_is_forbidden_without_a_token(void **state)
{
	expect_error("POST", "/v1/rpc", NULL, ping, 403);
	expect_error("POST", "/v1/rpc", "Authorization: Bearer \r\n", ping,
	    403);
}

/* Reads SSE until n "data:" records were seen; returns them (JSON). */
static json_t *
sse_records(int fd, int n, char **head)
{
	static char buf[1 << 20];
	static size_t len;
	json_t *recs = json_array();
	char *p;

	if (head != NULL) {
		len = 0;
		*head = NULL;
	}
	for (;;) {
		buf[len] = '\0';
		if (head != NULL && *head == NULL &&
		    (p = strstr(buf, "\r\n\r\n")) != NULL) {
			*p = '\0';
			*head = strdup(buf);
			memmove(buf, p + 4, len - (size_t)(p + 4 - buf) + 1);
			len -= (size_t)(p + 4 - buf);
			continue;
		}
		while ((head == NULL || *head != NULL) &&
		    (int)json_array_size(recs) < n &&
		    (p = strstr(buf, "\n\n")) != NULL) {
			char *rec = buf, *data, *id;
			json_error_t jerr;
			json_t *j;

			*p = '\0';
			data = strstr(rec, "data: ");
			if (data != NULL) {
				char *nl = strchr(data, '\n');

				if (nl != NULL)
					*nl = '\0';
				j = json_loads(data + 6, 0, &jerr);
				if (j == NULL)
					fail_msg("bad SSE data: %s", data);
				id = strstr(rec, "id: ");
				assert_non_null(id);
				assert_int_equal(strtoll(id + 4, NULL, 10),
				    json_integer_value(json_object_get(j,
				    "seq")));
				json_array_append_new(recs, j);
			}
			len -= (size_t)(p + 2 - buf);
			memmove(buf, p + 2, len + 1);
		}
		if ((int)json_array_size(recs) >= n)
			return recs;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 10000) != 1)
			fail_msg("SSE: %zu of %d events", json_array_size(recs),
			    n);
		ssize_t r = read(fd, buf + len, sizeof buf - len - 1);
		if (r <= 0)
			return recs;
		len += (size_t)r;
	}
}

static void
test_sse_streams_events_and_resumes_from_last_event_id(void **state)
{
	int fd = h_connect(&D), s;
	char *head = NULL, extra[64];
	json_t *recs;
	json_int_t last, next;

	s = http_send("GET", "/v1/events?path=/e", NULL, NULL);
	assert_int_equal(h_stat_until(fd, "subscriptions", 1), 1);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "e",
	    "kind", "sleep")));
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "other",
	    "kind", "sleep")));
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/e",
	    "wait", 1)));
	recs = sse_records(s, 4, &head);
	assert_non_null(strstr(head, " 200 "));
	assert_non_null(strstr(head, "Content-Type: text/event-stream"));
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(recs, 0), "type")), "spawned");
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(recs, i), "path")), "/e");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(recs, 3), "to")), "exited");
	last = json_integer_value(json_object_get(json_array_get(recs, 1),
	    "seq"));
	next = json_integer_value(json_object_get(json_array_get(recs, 2),
	    "seq"));
	json_decref(recs);
	free(head);
	close(s);

	/* A reconnecting EventSource sends Last-Event-ID: the rest comes
	 * again. */
	snprintf(extra, sizeof extra, "Last-Event-ID: %lld\r\n",
	    (long long)last);
	s = http_send("GET", "/v1/events?path=/e", extra, NULL);
	recs = sse_records(s, 2, &head);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    recs, 0), "seq")), next);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(recs, 1), "to")), "exited");
	json_decref(recs);
	free(head);
	close(s);
	h_close(fd);
}

static void
test_sse_client_that_does_not_read_is_dropped(void **state)
{
	int fd = h_connect(&D), s, small = 4096, big = 1 << 20, i;
	char *head = NULL;
	json_t *recs, *last;

	s = h_tcp_connect(port, 1000);
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	h_send_raw(s, "GET /v1/events HTTP/1.0\r\n\r\n", 27);
	assert_int_equal(h_stat_until(fd, "subscriptions", 1), 1);
	/* Five events a node, well past what the kernel's buffers and the
	 * 65,536 events of the history hold: the history moves on without
	 * the stream, which is then dropped. */
	for (i = 0; i < 20; i++) {
		json_t *kids = json_array();
		char name[16];

		for (int k = 0; k < 1500; k++) {
			char cname[16];

			snprintf(cname, sizeof cname, "c%d", k);
			json_array_append_new(kids, json_pack("{s:s,s:s}",
			    "name", cname, "kind", "sleep"));
		}
		snprintf(name, sizeof name, "/b%d", i);
		json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:o}",
		    "name", name + 1, "kind", "supervisor", "children",
		    kids)));
		json_decref(h_ok(fd, "wait", json_pack("{s:s,s:s}", "path",
		    name, "for", "running")));
		json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b,s:b}",
		    "path", name, "wait", 1, "remove", 1)));
	}
	/* Dropped: no subscription left, and counted. */
	assert_int_equal(h_stat(fd, "subscriptions"), 0);
	assert_int_equal(metric("arbor_http_streams_dropped_total"), 1);
	/* Read now: a prefix of the events, then the overflow, then the
	 * end of the stream. A window as small as the one that made it fall
	 * behind would take a minute to drain (8 KiB per delayed ACK). */
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(s, IPPROTO_TCP, TCP_WINDOW_CLAMP, &big, sizeof big);
	recs = sse_records(s, 1000000, &head);
	assert_true(json_array_size(recs) > 0);
	last = json_array_get(recs, json_array_size(recs) - 1);
	assert_string_equal(json_string_value(json_object_get(last, "type")),
	    "overflow");
	json_decref(recs);
	free(head);
	close(s);
	h_close(fd);
}

/* The status of a raw request (its text printf'd with the port). */
static int
raw_status(const char *fmt, struct resp *out)
{
	char text[1024];
	struct resp r;
	int status;

	snprintf(text, sizeof text, fmt, port, port, port);
	r = http_read(http_raw(text));
	status = r.status;
	if (out != NULL)
		*out = r;
	else
		resp_free(&r);
	return status;
}

/* DNS rebinding and CSRF: a Host that names another server is 421, a POST
 * from a page of another origin 403, both with a JSON error; this
 * server's names work; every answer says no-store and nosniff. */
static void
test_host_and_origin_are_checked(void **state)
{
	static const char rpc[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\"}";
	char req[512];
	struct resp r;
	json_t *j;

	assert_int_equal(raw_status("GET /v1/stats HTTP/1.1\r\nHost: "
	    "evil.example:%d\r\nConnection: close\r\n\r\n", &r), 421);
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "error"), "status")), 421);
	json_decref(j);
	resp_free(&r);
	assert_int_equal(raw_status("GET /v1/stats HTTP/1.1\r\nHost: "
	    "127.0.0.1\r\nConnection: close\r\n\r\n", NULL), 421);
	assert_int_equal(raw_status("GET /v1/stats HTTP/1.1\r\nHost: "
	    "127.0.0.1:1%d\r\nConnection: close\r\n\r\n", NULL), 421);
	assert_int_equal(raw_status("GET /v1/stats HTTP/1.1\r\nHost: "
	    "localhost:%d\r\nConnection: close\r\n\r\n", NULL), 200);
	assert_int_equal(raw_status("GET /v1/stats HTTP/1.1\r\nHost: "
	    "LOCALHOST:%d\r\nConnection: close\r\n\r\n", NULL), 200);
	assert_int_equal(raw_status("GET /v1/stats HTTP/1.1\r\nHost: "
	    "[::1]:%d\r\nConnection: close\r\n\r\n", NULL), 200);
	/* HTTP/1.0 without Host: not a browser. */
	assert_int_equal(raw_status("GET /v1/stats HTTP/1.0\r\n\r\n", NULL),
	    200);
	/* POSTs: the right token is not enough from another origin. */
	r = http("POST", "/v1/rpc", "Authorization: Bearer " TOKEN "\r\n"
	    "Origin: http://evil.example\r\n", rpc);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	r = http("POST", "/v1/rpc", "Authorization: Bearer " TOKEN "\r\n"
	    "Origin: null\r\n", rpc);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	r = http("POST", "/v1/rpc", "Authorization: Bearer " TOKEN "\r\n"
	    "Sec-Fetch-Site: cross-site\r\n", rpc);
	assert_int_equal(r.status, 403);
	j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "error"), "status")), 403);
	json_decref(j);
	resp_free(&r);
	snprintf(req, sizeof req, "Authorization: Bearer " TOKEN "\r\n"
	    "Origin: http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin\r\n",
	    port);
	r = http("POST", "/v1/rpc", req, rpc);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* Headers on what a browser could be made to load. */
	r = http("GET", "/", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Cache-Control"), "no-store");
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	resp_free(&r);
	r = http("GET", "/v1/tree", NULL, NULL);
	assert_string_equal(header(&r, "Cache-Control"), "no-store");
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	resp_free(&r);
	r = http("GET", "/v1/nothing", NULL, NULL);
	assert_int_equal(r.status, 404);
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	resp_free(&r);
	assert_int_equal(metric("arbor_http_refused_total{reason=\"host\"}"),
	    3);
	assert_int_equal(metric("arbor_http_refused_total{reason=\"origin\"}"),
	    3);
	assert_int_equal(metric("arbor_http_requests_total{code=\"421\"}"),
	    3);
}

/* Is fd closed by the peer within ms (EOF or a reset, after whatever it
 * was sent)? */
static bool
closed_within(int fd, int ms)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, ms) != 1)
			return false;
		if ((n = read(fd, buf, sizeof buf)) <= 0)
			return true;
	}
}

/* --http-max-connections 8: 8 idle connections are held; the next ones
 * are told 503 and closed at once, and counted. */
static int
setup_max8(void **state)
{
	const char *args[] = { "--http-max-connections", "8", NULL };

	start_with(args);
	return 0;
}

static void
test_connections_over_the_cap_are_refused(void **state)
{
	int held[8], extra, i;
	struct resp r;

	h_skip_under_valgrind("it bounds RSS and times many slow clients");

	/* Connected (in the listen backlog, which is first in, first out)
	 * before the others: accepted first, however slow the daemon, so
	 * they are the eight that hold the slots. */
	for (i = 0; i < 8; i++)
		held[i] = h_tcp_connect(port, 1000);
	for (i = 0; i < 4; i++) {
		extra = http_raw("GET /healthz HTTP/1.0\r\n\r\n");
		r = http_read(extra);
		assert_int_equal(r.status, 503);
		assert_non_null(strstr(r.body, "too many HTTP connections"));
		resp_free(&r);
	}
	/* The held ones are still open. */
	for (i = 0; i < 8; i++) {
		struct pollfd pfd = { .fd = held[i], .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, 0), 0);
	}
	metric_refused = 0;
	h_close(held[0]);
	/* A slot is free again once the daemon saw the close (until then
	 * /metrics is refused too, and counted). */
	assert_int_equal(metric_until("arbor_http_connections", 8, 10000), 8);
	for (i = 1; i < 8; i++)
		h_close(held[i]);
	assert_int_equal(metric_until("arbor_http_connections", 1, 10000), 1);
	assert_int_equal(metric(
	    "arbor_http_refused_total{reason=\"connections\"}"),
	    4 + metric_refused);
}

/* --http-request-timeout 1s: headers or a body trickled, or nothing sent
 * at all, are closed after a second or two and counted; a client that
 * sends its request whole is served. */
static int
setup_timeout1s(void **state)
{
	const char *args[] = { "--http-request-timeout", "1s", NULL };

	start_with(args);
	return 0;
}

static void
test_requests_that_do_not_arrive_whole_are_timed_out(void **state)
{
	char req[256];
	int hdr, body, silent, i;
	bool closed = false;
	struct resp r;

	snprintf(req, sizeof req, "GET /v1/stats HTTP/1.1\r\nHost: "
	    "127.0.0.1:%d\r\n", port);
	hdr = http_raw(req);
	snprintf(req, sizeof req, "POST /v1/rpc HTTP/1.1\r\nHost: "
	    "127.0.0.1:%d\r\nAuthorization: Bearer " TOKEN "\r\n"
	    "Content-Length: 100\r\n\r\n{\"jsonrpc\"", port);
	body = http_raw(req);
	silent = h_tcp_connect(port, 1000);
	/* A header line every 200 ms: each read would reset a plain read
	 * timeout, not this one. Closed within 1-2 s (the sweep is once a
	 * second); 10 s is only a bound for a slow daemon. */
	for (i = 0; i < 50 && !closed; i++) {
		usleep(200 * 1000);
		closed = send(hdr, "X-A: b\r\n", 8, MSG_NOSIGNAL) < 0;
		if (!closed) {
			struct pollfd pfd = { .fd = hdr, .events = POLLIN };

			closed = poll(&pfd, 1, 0) == 1;
		}
	}
	if (!closed)
		fail_msg("trickled headers still open after 10 s");
	assert_true(closed_within(body, 10000));
	assert_true(closed_within(silent, 10000));
	h_close(hdr);
	h_close(body);
	h_close(silent);
	r = http("GET", "/v1/stats", NULL, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(metric("arbor_http_timeouts_total"), 3);
}

/* 60 clients POST an inspect of a 16,000-node subtree (about 3.3 MB: POST
 * /v1/rpc answers whole, more than the kernel's socket buffers take) and
 * never read. With --http-max-queued 1 MiB, once that much waits the
 * others get 503, so arbord holds one answer, not 60 (150 MB); one that is
 * over the 1 MiB a connection may have queued and is not taken for the
 * 1 s timeout is dropped, and everything queued is let go. A bigger
 * subtree is refused over POST (it would be built whole while the loop
 * waits); GET /v1/tree streams it, and the dashboard leaves it out. */
static int
setup_queued1m(void **state)
{
	const char *args[] = { "--http-max-queued", "1048576",
	    "--http-request-timeout", "1s", NULL };

	start_with(args);
	return 0;
}

static void
spawn_wide(int fd, const char *parent, int sups)
{
	char name[16];
	json_t *kids;

	for (int i = 0; i < sups; i++) {
		kids = json_array();
		for (int k = 0; k < 1000; k++) {
			snprintf(name, sizeof name, "c%d", k);
			json_array_append_new(kids, json_pack("{s:s,s:s}",
			    "name", name, "kind", "sleep"));
		}
		snprintf(name, sizeof name, "s%d", i);
		json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:o}",
		    "parent", parent, "name", name, "kind", "supervisor",
		    "children", kids)));
	}
}

static void
test_answers_queued_for_clients_that_do_not_read_are_bounded(void **state)
{
	const char *auth = "Authorization: Bearer " TOKEN "\r\n";
	static const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"inspect\",\"params\":{\"path\":\"/big/a\","
	    "\"depth\":-1}}";
	int fd = h_connect(&D), c[60], small = 4096, i;
	long long rss0, rss1, refused, queued;
	char req[512];
	struct resp t;

	h_skip_under_valgrind("it bounds RSS and times many slow clients");

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "big",
	    "kind", "supervisor")));
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s}", "parent",
	    "/big", "name", "a", "kind", "supervisor")));
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s}", "parent",
	    "/big", "name", "b", "kind", "supervisor")));
	spawn_wide(fd, "/big/a", 16);
	spawn_wide(fd, "/big/b", 4);
	/* 20,000 nodes: too big for POST, and left out of the dashboard. */
	t = http("POST", "/v1/rpc", auth, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"inspect\",\"params\":{\"path\":\"/big\","
	    "\"depth\":-1}}");
	assert_non_null(strstr(t.body, "-32004"));
	assert_non_null(strstr(t.body, "GET /v1/tree"));
	resp_free(&t);
	t = http("GET", "/", NULL, NULL);
	assert_int_equal(t.status, 200);
	assert_true(t.len < 64 * 1024);
	resp_free(&t);
	/* Once read whole first: what building one answer costs is in the
	 * baseline (and the heap it leaves is reused). */
	/* Whole, though building it may take the loop longer than the
	 * 1 s timeout (ASan, loaded): the wait for the client to take it
	 * starts once it is there. */
	t = http("POST", "/v1/rpc", auth, body);
	if (t.len <= 3 * 1024 * 1024)
		fail_msg("the subtree's answer: %d, %zu bytes: %.200s", t.status,
		    t.len, t.body);
	resp_free(&t);
	/* A batch of them is answered whole too, so its answers share the
	 * bound: the first is built, the others refused; small members all
	 * fit. */
	{
		char batch[8192];
		int off = snprintf(batch, sizeof batch, "[");
		json_t *arr, *m;
		size_t k, errors = 0, results = 0;

		for (i = 0; i < 40; i++)
			off += snprintf(batch + off, sizeof batch - (size_t)off,
			    "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
			    "\"inspect\",\"params\":{\"path\":\"/big/a\","
			    "\"depth\":-1}}",
			    i ? "," : "", 100 + i);
		for (i = 0; i < 20; i++)
			off += snprintf(batch + off, sizeof batch - (size_t)off,
			    ",{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
			    "\"inspect\",\"params\":{\"path\":\"/big\"}}",
			    200 + i);
		snprintf(batch + off, sizeof batch - (size_t)off, "]");
		t = http("POST", "/v1/rpc", auth, batch);
		assert_int_equal(t.status, 200);
		assert_true(t.len < 5 * 1024 * 1024);
		arr = body_json(&t);
		assert_int_equal(json_array_size(arr), 60);
		json_array_foreach(arr, k, m)
		{
			json_t *e = json_object_get(m, "error");

			if (e == NULL) {
				results++;
				continue;
			}
			errors++;
			assert_int_equal(json_integer_value(json_object_get(e,
					     "code")),
			    -32004);
			assert_non_null(strstr(json_string_value(
						   json_object_get(e, "message")),
			    "this batch's answers"));
		}
		assert_int_equal(errors, 39);
		assert_int_equal(results, 21);
		json_decref(arr);
		resp_free(&t);
	}
	rss0 = metric("arbor_resident_memory_bytes");
	snprintf(req, sizeof req, "POST /v1/rpc HTTP/1.0\r\n"
	    "Host: 127.0.0.1:%d\r\n%sContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", port, auth, strlen(body), body);
	for (i = 0; i < 60; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(c[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
		{
			struct sockaddr_in sin;

			memset(&sin, 0, sizeof sin);
			sin.sin_family = AF_INET;
			sin.sin_port = htons((uint16_t)port);
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			assert_int_equal(connect(c[i], (struct sockaddr *)&sin,
			    sizeof sin), 0);
		}
		h_send_raw(c[i], req, strlen(req));
		usleep(5 * 1000);
	}
	/* Until the refusals are counted (at most 20 s). */
	for (i = 0; i < 400 &&
	     metric("arbor_http_refused_total{reason=\"queued\"}") < 40;
	     i++)
		usleep(50 * 1000);
	refused = metric("arbor_http_refused_total{reason=\"queued\"}");
	queued = metric("arbor_http_queued_bytes");
	rss1 = metric("arbor_resident_memory_bytes");
	if (refused < 40)
		fail_msg("only %lld of 60 refused for the queue", refused);
	if (queued > 10 * 1024 * 1024)
		fail_msg("%lld bytes queued", queued);
	if (rss1 - rss0 > 64 * 1024 * 1024)
		fail_msg("RSS grew by %lld bytes", rss1 - rss0);
	/* Over 1 MiB each and not read for the 1 s timeout: dropped. */
	assert_int_equal(metric_until("arbor_http_queued_bytes", 0, 15000), 0);
	assert_true(metric("arbor_http_slow_dropped_total") >= 1);
	for (i = 0; i < 60; i++)
		close(c[i]);
	h_close(fd);
}

/* A connection whose receive window is small: set before the connect. */
static int
tcp_connect_small(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	return fd;
}

/* The figure, scaled to the default connection cap: 200 clients
 * ask for /v1/tree?depth=-1 of a 2,000-node tree (about 500 KB each) and
 * never read, or read a few bytes now and then. Each stream waits for its
 * slice to be taken, so what is queued stays a slice or so a connection
 * (it used to be the whole answer: 100 MB here), and the control socket
 * is served meanwhile. */
static void
test_tree_streams_clients_do_not_read_are_bounded(void **state)
{
	enum { N = 200 };
	int fd = h_connect(&D), c[N], i, round;
	long long rss0, rss, queued, worst_q = 0, worst_rss = 0;
	char req[256];
	struct resp t;

	h_skip_under_valgrind("it bounds RSS and times many slow clients");

	spawn_wide(fd, "/", 2);
	/* Once read whole: building one answer is in the baseline. */
	t = http("GET", "/v1/tree?depth=-1", NULL, NULL);
	assert_int_equal(t.status, 200);
	assert_true(t.len > 300 * 1024);
	resp_free(&t);
	rss0 = metric("arbor_resident_memory_bytes");
	snprintf(req, sizeof req, "GET /v1/tree?depth=-1 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", port);
	for (i = 0; i < N; i++) {
		c[i] = tcp_connect_small();
		h_send_raw(c[i], req, strlen(req));
	}
	for (round = 0; round < 10; round++) {
		char few[16];
		json_t *r;

		usleep(200 * 1000);
		/* Half of them take a few bytes now and then. */
		for (i = 0; i < N; i += 2)
			(void)recv(c[i], few, sizeof few, MSG_DONTWAIT);
		r = h_ok(fd, "ping", NULL);
		json_decref(r);
		queued = metric("arbor_http_queued_bytes");
		rss = metric("arbor_resident_memory_bytes") - rss0;
		if (queued > worst_q)
			worst_q = queued;
		if (rss > worst_rss)
			worst_rss = rss;
	}
	print_message("%d /v1/tree readers that do not read: %lld bytes "
		      "queued, RSS growth %lld KiB at worst\n",
	    N, worst_q, worst_rss / 1024);
	assert_int_equal(metric("arbor_http_connections"), N + 1);
	if (worst_q > (long long)N * 160 * 1024)
		fail_msg("%lld bytes queued for %d connections", worst_q, N);
	if (getenv("ARBOR_TEST_RSS_KIB") == NULL &&
	    worst_rss > 16 * 1024 * 1024)
		fail_msg("RSS grew by %lld bytes", worst_rss);
	for (i = 0; i < N; i++)
		close(c[i]);
	assert_int_equal(metric_until("arbor_http_connections", 1, 15000), 1);
	assert_int_equal(metric("arbor_http_queued_bytes"), 0);
	h_close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_healthz_dashboard_tree_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_errors_have_status_and_json_body, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_metrics_are_prometheus_text, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_exits_total_counts_each_kill_of_a_restarted_worker,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpc_needs_the_token,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_deferred_wait_and_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_deferred_notifications_leave_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_is_forbidden_without_a_token, setup_no_token,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_sse_streams_events_and_resumes_from_last_event_id,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sse_client_that_does_not_read_is_dropped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_host_and_origin_are_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_connections_over_the_cap_are_refused, setup_max8,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_requests_that_do_not_arrive_whole_are_timed_out,
		    setup_timeout1s, teardown),
		cmocka_unit_test_setup_teardown(
		    test_answers_queued_for_clients_that_do_not_read_are_bounded,
		    setup_queued1m, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tree_streams_clients_do_not_read_are_bounded, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	/* ARBOR_TEST_FILTER=*queued*: only the tests whose names match. */
	if (getenv("ARBOR_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ARBOR_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
