/*
 * Big answers are streamed (issue 12): while `inspect` of a 100,000-node
 * tree is written on one connection, another connection's ping is
 * answered promptly; the answer is whole when nothing changes, valid and
 * consistent with docs/protocol-notes.md when the tree changes under it;
 * GET /v1/tree streams the same way; a client that reads slowly does not
 * grow arbord's memory, and one that leaves mid-answer leaves nothing.
 * Under valgrind (ARBOR_VALGRIND) the tree is 10,000 nodes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static int sups, kids;
static int port;
static char portarg[64];

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
sizes(void)
{
	bool slow = getenv("ARBOR_VALGRIND") != NULL;

	sups = slow ? 2 : 10;
	kids = slow ? 5000 : 10000;
}

/* Worst ping allowed while a big answer that took total_ms streams: a
 * fixed bound, or a quarter of the whole answer's time when that is more
 * (a loaded machine under ASan slows the stream and the pings alike). A
 * daemon that wrote the answer before the ping would make the first
 * ping wait about the whole of it. */
static double
ping_bound_ms(double total_ms)
{
	double fixed = getenv("ARBOR_VALGRIND") != NULL ? 1000 : 200;

	return total_ms / 4 > fixed ? total_ms / 4 : fixed;
}


static int
setup(void **state)
{
	const char *args[] = { "--http", portarg, NULL };

	sizes();
	port = h_free_port();
	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
	h_start(&D, args);
	return 0;
}

/* Stops D, which must exit 0. With 100,000 nodes to cancel and free, and
 * then LeakSanitizer's scan of their heap, a loaded machine takes more
 * than h_stop's 5 s before its SIGKILL: 60 s here. */
static int
teardown(void **state)
{
	int64_t t0 = h_now_ms();
	int status = -1, i;

	if (D.pid <= 0)
		return 0;
	kill(D.pid, SIGTERM);
	for (i = 0; i < 6000; i++) {
		if (waitpid(D.pid, &status, WNOHANG) == D.pid)
			break;
		usleep(10000);
	}
	if (i == 6000) {
		kill(D.pid, SIGKILL);
		waitpid(D.pid, &status, 0);
	}
	D.pid = 0;
	unlink(D.sock);
	rmdir(D.dir);
	if (i == 6000)
		fail_msg("arbord did not exit in 60 s after SIGTERM");
	print_message("arbord exited in %lld ms after SIGTERM\n",
	    (long long)(h_now_ms() - t0));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return 0;
}

/* The result of a call that must succeed, waited for up to 2 min: what
 * spawns or removes a whole supervisor of 10,000 children takes longer
 * than h_call's 10 s under valgrind on a loaded machine. */
static json_t *
ok_slow(int fd, const char *method, json_t *params)
{
	static json_int_t id = 900000;
	json_t *req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "2.0", "id",
	    ++id, "method", method, "params", params), *resp, *result;
	char *text = json_dumps(req, JSON_COMPACT);

	json_decref(req);
	h_send_raw(fd, text, strlen(text));
	h_send_raw(fd, "\n", 1);
	free(text);
	while ((resp = h_recv(fd, 120000)) != NULL &&
	    h_num(resp, "id") != id)
		json_decref(resp);
	if (resp == NULL)
		fail_msg("no answer to %s in 2 min", method);
	if ((result = json_object_get(resp, "result")) == NULL) {
		text = json_dumps(resp, 0);
		fail_msg("%s failed: %s", method, text);
	}
	json_incref(result);
	json_decref(resp);
	return result;
}

/* /s0 .. /s{sups-1}, each a supervisor of `kids` sleep actors, running. */
static void
build_tree(int fd)
{
	for (int s = 0; s < sups; s++) {
		json_t *children = json_array(), *r;
		char name[32];

		for (int i = 0; i < kids; i++) {
			snprintf(name, sizeof name, "c%d", i);
			json_array_append_new(children,
			    json_pack("{s:s,s:s}", "name", name, "kind",
				"sleep"));
		}
		snprintf(name, sizeof name, "s%d", s);
		r = ok_slow(fd, "spawn",
		    json_pack("{s:s,s:s,s:o}", "name", name, "kind",
			"supervisor", "children", children));
		json_decref(r);
		snprintf(name, sizeof name, "/s%d", s);
		r = ok_slow(fd, "wait",
		    json_pack("{s:s,s:s,s:i}", "path", name, "for", "running",
			"timeout_ms", 60000));
		json_decref(r);
	}
}


/* A growing buffer of what a connection sent. */
struct buf {
	char *data;
	size_t len, cap;
};

/* Room for a whole answer of the tree up front: a realloc of many MiB
 * while pings are timed (slow under the sanitizers) would be counted
 * against the daemon. */
static void
buf_reserve(struct buf *b)
{
	b->cap = (size_t)sups * (kids + 1) * 256 + (1 << 20);
	b->data = malloc(b->cap);
	assert_non_null(b->data);
}

/* Reads what is there (up to max bytes); -1 on EOF. */
static int
buf_read(struct buf *b, int fd, size_t max)
{
	ssize_t r;

	if (b->cap - b->len < max + 1) {
		while (b->cap - b->len < max + 1)
			b->cap = b->cap ? b->cap * 2 : 1 << 20;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	r = recv(fd, b->data + b->len, max, MSG_DONTWAIT);
	if (r == 0)
		return -1;
	if (r < 0) {
		assert_true(errno == EAGAIN || errno == EINTR);
		return 0;
	}
	b->len += (size_t)r;
	b->data[b->len] = '\0';
	return 0;
}

static bool
buf_line_done(const struct buf *b)
{
	return b->len > 0 && b->data[b->len - 1] == '\n';
}

static void
send_line(int fd, const char *line)
{
	h_send_raw(fd, line, strlen(line));
}

static const char inspect_all[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
				  "\"inspect\",\"params\":{\"path\":\"/\","
				  "\"depth\":-1}}\n";

/* Nodes in a view; checks on the way that ids are unique (seen), paths
 * are their parent's plus their name, and children come in id order. */
static long
check_view(const json_t *v, const char *parent_path, json_t *seen)
{
	const json_t *kids_v = json_object_get(v, "children"), *c;
	const char *path = h_str(v, "path"), *name = h_str(v, "name");
	char want[4200], key[32];
	json_int_t last = 0;
	long n = 1;
	size_t i;

	assert_non_null(path);
	assert_non_null(name);
	if (parent_path != NULL) {
		snprintf(want, sizeof want, "%s/%s",
		    strcmp(parent_path, "/") == 0 ? "" : parent_path, name);
		assert_string_equal(path, want);
	}
	snprintf(key, sizeof key, "%lld", (long long)h_num(v, "id"));
	assert_null(json_object_get(seen, key));
	json_object_set_new(seen, key, json_true());
	assert_non_null(h_str(v, "state"));
	assert_non_null(json_object_get(v, "child_count"));
	json_array_foreach(kids_v, i, c)
	{
		assert_true(h_num(c, "id") > last);
		last = h_num(c, "id");
		n += check_view(c, path, seen);
	}
	return n;
}

/* (a), (b): a ping on a second connection is answered promptly while
 * the whole tree streams on the first, and the answer has every node. */
static void
test_ping_while_inspect_streams(void **state)
{
	int a = h_connect(&D), b = h_connect(&D);
	struct buf in = { 0 }, pb = { 0 };
	double t0 = 0, worst = 0, start, total;
	bool waiting = false;
	long pings = 0, nodes;
	json_t *v, *seen = json_object();
	json_error_t jerr;

	build_tree(b);
	buf_reserve(&in);
	start = now_ms();
	send_line(a, inspect_all);
	while (!buf_line_done(&in)) {
		struct pollfd p[2] = { { .fd = a, .events = POLLIN },
			{ .fd = b, .events = POLLIN } };

		if (!waiting) {
			send_line(b,
			    "{\"jsonrpc\":\"2.0\",\"id\":2,"
			    "\"method\":\"ping\"}\n");
			t0 = now_ms();
			waiting = true;
		}
		assert_true(poll(p, 2, 10000) > 0);
		if (p[0].revents)
			assert_int_equal(buf_read(&in, a, 1 << 16), 0);
		if (p[1].revents) {
			assert_int_equal(buf_read(&pb, b, 4096), 0);
			if (buf_line_done(&pb)) {
				double ms = now_ms() - t0;

				if (ms > worst)
					worst = ms;
				pings++;
				pb.len = 0;
				waiting = false;
			}
		}
		assert_true(now_ms() - start < 120000);
	}
	total = now_ms() - start;
	print_message("inspect of %d nodes: %zu bytes in %.0f ms; %ld pings, "
		      "worst %.1f ms (bound %.0f ms)\n",
	    sups * (kids + 1) + 1, in.len, total, pings, worst,
	    ping_bound_ms(total));
	assert_true(pings >= 2);
	assert_true(worst < ping_bound_ms(total));
	v = json_loadb(in.data, in.len, 0, &jerr);
	if (v == NULL)
		fail_msg("the streamed answer does not parse: %s", jerr.text);
	assert_int_equal(h_num(v, "id"), 1);
	nodes = check_view(json_object_get(v, "result"), NULL, seen);
	assert_int_equal(nodes, (long)sups * (kids + 1) + 1);
	json_decref(v);
	json_decref(seen);
	free(in.data);
	free(pb.data);
	h_close(a);
	h_close(b);
}

/* (c): spawns, cancels and removals while the answer streams, read a
 * slice at a time: the answer is valid JSON of inspect's shape, has each
 * node once, leaves out what was removed before it was written, and
 * every node that was never touched is there. */
static void
test_inspect_while_tree_changes(void **state)
{
	int a = h_connect(&D), b = h_connect(&D);
	struct buf in = { 0 };
	json_t *v, *r, *seen = json_object(), *res, *s, *gone = json_object();
	json_error_t jerr;
	int step = 0, removed = 0;
	long nodes;
	size_t i;
	char path[64], name[32];

	build_tree(b);
	send_line(a, inspect_all);
	while (!buf_line_done(&in)) {
		struct pollfd p = { .fd = a, .events = POLLIN };

		assert_true(poll(&p, 1, 10000) > 0);
		assert_int_equal(buf_read(&in, a, 32 * 1024), 0);
		/* Between slices: one change of each kind in turn, in every
		 * supervisor, before and after the walk passes it. */
		switch (step++ % 4) {
		case 0: /* a new child at the end of a supervisor */
			snprintf(path, sizeof path, "/s%d", step % sups);
			snprintf(name, sizeof name, "new%d", step);
			r = h_call(b, "spawn",
			    json_pack("{s:s,s:s,s:s}", "parent", path, "name",
				name, "kind", "sleep"));
			break;
		case 1: /* a child cancelled: its state changes */
			snprintf(path, sizeof path, "/s%d/c%d", step % sups,
			    step * 7 % kids);
			r = h_call(b, "cancel",
			    json_pack("{s:s,s:b}", "path", path, "wait", 1));
			break;
		case 2: /* a child removed */
			snprintf(path, sizeof path, "/s%d/c%d", step % sups,
			    step * 13 % kids);
			r = h_call(b, "cancel",
			    json_pack("{s:s,s:b}", "path", path, "remove",
				1));
			if (json_object_get(r, "result") != NULL) {
				json_object_set_new(gone, path, json_true());
				removed++;
			}
			break;
		default: /* a new supervisor at the root */
			snprintf(name, sizeof name, "x%d", step);
			r = h_call(b, "spawn",
			    json_pack("{s:s,s:s}", "name", name, "kind",
				"supervisor"));
			break;
		}
		assert_non_null(r);
		json_decref(r);
		if (step == 40) {
			/* A whole supervisor and its children go. */
			snprintf(path, sizeof path, "/s%d", sups / 2);
			r = ok_slow(b, "cancel",
			    json_pack("{s:s,s:b}", "path", path, "remove", 1));
			json_decref(r);
		}
	}
	v = json_loadb(in.data, in.len, 0, &jerr);
	if (v == NULL)
		fail_msg("the streamed answer does not parse: %s", jerr.text);
	res = json_object_get(v, "result");
	assert_string_equal(h_str(res, "path"), "/");
	nodes = check_view(res, NULL, seen);
	print_message("%d changes while %zu bytes streamed; %ld nodes in the "
		      "answer\n",
	    step, in.len, nodes);
	assert_true(step > 40);
	/* Every original child of a supervisor that stayed is there
	 * unless it was removed (before the walk reached it); new
	 * supervisors have no children. */
	snprintf(name, sizeof name, "/s%d", sups / 2);
	json_array_foreach(json_object_get(res, "children"), i, s)
	{
		const char *p = h_str(s, "path");
		json_t *c;
		size_t j;
		long orig = 0, want = kids;

		if (strncmp(p, "/x", 2) == 0) {
			assert_int_equal(json_array_size(json_object_get(s,
					     "children")),
			    0);
			continue;
		}
		if (strcmp(p, name) == 0)
			continue; /* removed while the walk was in it, maybe */
		json_array_foreach(json_object_get(s, "children"), j, c)
		if (h_str(c, "name")[0] == 'c')
			orig++;
		for (int k = 0; k < kids; k++) {
			snprintf(path, sizeof path, "%s/c%d", p, k);
			if (json_object_get(gone, path) != NULL)
				want--;
		}
		/* A child removed after the walk wrote it stays in. */
		assert_true(orig >= want && orig <= kids);
	}
	print_message("%d children removed during the walk\n", removed);
	assert_true(nodes <= (long)sups * (kids + 1) + 1 + step);
	json_decref(v);
	json_decref(seen);
	json_decref(gone);
	/* The daemon is fine and answers in order. */
	r = h_ok(b, "ping", NULL);
	json_decref(r);
	free(in.data);
	h_close(a);
	h_close(b);
}

/* A batch of big inspects streams too, one member after another. */
static void
test_batch_of_big_inspects(void **state)
{
	int a = h_connect(&D), b = h_connect(&D);
	struct buf in = { 0 };
	long rss0, rss, worst = 0;
	json_t *v, *m;
	json_error_t jerr;
	size_t i;
	char batch[4096];
	int off;

	build_tree(b);
	rss0 = h_rss_kib(D.pid);
	off = snprintf(batch, sizeof batch, "[");
	for (int k = 0; k < 8; k++)
		off += snprintf(batch + off, sizeof batch - (size_t)off,
		    "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"inspect\","
		    "\"params\":{\"path\":\"/\",\"depth\":-1}}",
		    k ? "," : "", k);
	snprintf(batch + off, sizeof batch - (size_t)off,
	    ",{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"ping\"}]\n");
	send_line(a, batch);
	while (!buf_line_done(&in)) {
		struct pollfd p = { .fd = a, .events = POLLIN };

		assert_true(poll(&p, 1, 10000) > 0);
		assert_int_equal(buf_read(&in, a, 1 << 16), 0);
		if ((rss = h_rss_kib(D.pid) - rss0) > worst)
			worst = rss;
	}
	print_message("batch of 8 inspects: %zu bytes, RSS growth %ld KiB\n",
	    in.len, worst);
	v = json_loadb(in.data, in.len, 0, &jerr);
	if (v == NULL)
		fail_msg("the batch answer does not parse: %s", jerr.text);
	assert_int_equal(json_array_size(v), 9);
	json_array_foreach(v, i, m)
	{
		json_t *seen = json_object();

		if (h_num(m, "id") == 99) {
			assert_non_null(json_object_get(m, "result"));
		} else {
			assert_int_equal(check_view(json_object_get(m,
						    "result"),
					     NULL, seen),
			    (long)sups * (kids + 1) + 1);
		}
		json_decref(seen);
	}
	if (getenv("ARBOR_TEST_RSS_KIB") == NULL)
		assert_true(worst < 16 * 1024);
	json_decref(v);
	free(in.data);
	h_close(a);
	h_close(b);
}


/* The body of a chunked reply, in place; its length. */
static size_t
dechunk(char *body, size_t len)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long n = strtoul(body + in, &end, 16);

		assert_true(end > body + in);
		assert_true(strncmp(end, "\r\n", 2) == 0);
		in = (size_t)(end - body) + 2;
		if (n == 0)
			return out;
		assert_true(in + n + 2 <= len);
		memmove(body + out, body + in, n);
		out += n;
		in += n + 2;
	}
}

/* (d): GET /v1/tree streams as a chunked reply, and a ping on the socket
 * is answered meanwhile. */
static void
test_http_tree_streams(void **state)
{
	int h, b = h_connect(&D);
	struct buf in = { 0 }, pb = { 0 };
	double t0 = 0, worst = 0, start, total;
	bool waiting = false, eof = false;
	long pings = 0;
	json_t *v, *seen = json_object();
	json_error_t jerr;
	char *body;
	size_t len;
	char req[128];

	/* Host with the port: arbord refuses other servers' names (421). */
	snprintf(req, sizeof req, "GET /v1/tree?path=/&depth=-1 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", port);
	build_tree(b);
	buf_reserve(&in);
	/* Connected once the tree is built: a connection that sends no
	 * request for --http-request-timeout (10 s) is closed, and building
	 * 100,000 nodes may take that long on a loaded machine. */
	h = h_tcp_connect(port, 200);
	start = now_ms();
	h_send_raw(h, req, strlen(req));
	while (!eof) {
		struct pollfd p[2] = { { .fd = h, .events = POLLIN },
			{ .fd = b, .events = POLLIN } };

		if (!waiting) {
			send_line(b,
			    "{\"jsonrpc\":\"2.0\",\"id\":2,"
			    "\"method\":\"ping\"}\n");
			t0 = now_ms();
			waiting = true;
		}
		assert_true(poll(p, 2, 10000) > 0);
		if (p[0].revents)
			eof = buf_read(&in, h, 1 << 16) == -1;
		if (p[1].revents) {
			assert_int_equal(buf_read(&pb, b, 4096), 0);
			if (buf_line_done(&pb)) {
				if (now_ms() - t0 > worst)
					worst = now_ms() - t0;
				pings++;
				pb.len = 0;
				waiting = false;
			}
		}
	}
	total = now_ms() - start;
	print_message("GET /v1/tree: %zu bytes in %.0f ms; %ld pings, worst "
		      "%.1f ms (bound %.0f ms)\n",
	    in.len, total, pings, worst, ping_bound_ms(total));
	assert_true(pings >= 2);
	assert_true(worst < ping_bound_ms(total));
	assert_true(strncmp(in.data, "HTTP/1.1 200", 12) == 0);
	assert_non_null(strstr(in.data, "Transfer-Encoding: chunked"));
	body = strstr(in.data, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	len = dechunk(body, in.len - (size_t)(body - in.data));
	v = json_loadb(body, len, 0, &jerr);
	if (v == NULL)
		fail_msg("the /v1/tree body does not parse: %s", jerr.text);
	assert_int_equal(check_view(v, NULL, seen),
	    (long)sups * (kids + 1) + 1);
	json_decref(v);
	json_decref(seen);
	free(in.data);
	free(pb.data);
	close(h);
	h_close(b);
}

/* (e): a client that reads the big answer slowly does not grow arbord's
 * RSS past the bound; one that leaves mid-answer (socket and HTTP)
 * leaves nothing behind. */
static void
test_slow_reader_and_leaver(void **state)
{
	int a, b = h_connect(&D), h, fds0;
	struct buf in = { 0 };
	long rss0, worst = 0, bound_kib = 16 * 1024;
	double start;
	json_t *r;
	char req[128];

	build_tree(b);
	if (getenv("ARBOR_TEST_RSS_KIB") != NULL)
		bound_kib = atol(getenv("ARBOR_TEST_RSS_KIB"));
	fds0 = h_fd_count_settled(D.pid);
	rss0 = h_rss_kib(D.pid);
	a = h_connect(&D);
	send_line(a, inspect_all);
	/* 8 KiB (2 KiB under valgrind) every 5 ms for 2 s: a fraction of
	 * the answer. */
	start = now_ms();
	while (now_ms() - start < 2000) {
		long rss;

		usleep(5000);
		assert_int_equal(buf_read(&in, a,
				     getenv("ARBOR_VALGRIND") ? 2048 : 8192),
		    0);
		if ((rss = h_rss_kib(D.pid) - rss0) > worst)
			worst = rss;
	}
	print_message("slow reader: %zu bytes read in 2 s, RSS growth %ld "
		      "KiB\n",
	    in.len, worst);
	assert_false(buf_line_done(&in));
	assert_true(worst < bound_kib);
	/* It leaves mid-answer; so does an HTTP client. */
	h_close(a);
	h = h_tcp_connect(port, 200);
	snprintf(req, sizeof req, "GET /v1/tree?depth=-1 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", port);
	h_send_raw(h, req, strlen(req));
	in.len = 0;
	while (in.len < 256 * 1024) {
		struct pollfd p = { .fd = h, .events = POLLIN };

		assert_true(poll(&p, 1, 10000) > 0);
		assert_int_equal(buf_read(&in, h, 1 << 16), 0);
	}
	close(h);
	/* Nothing left: no connection, no fd, and the daemon answers (once
	 * it has seen both go: 10 s at most). */
	for (int i = 0; i < 1000; i++) {
		r = h_ok(b, "stats", NULL);
		if (h_num(r, "connections") == 1 &&
		    h_fd_count(D.pid) == fds0) {
			json_decref(r);
			break;
		}
		json_decref(r);
		usleep(10000);
	}
	r = h_ok(b, "stats", NULL);
	assert_int_equal(h_num(r, "connections"), 1);
	json_decref(r);
	assert_int_equal(h_fd_count(D.pid), fds0);
	free(in.data);
	h_close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_ping_while_inspect_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_inspect_while_tree_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_of_big_inspects,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_tree_streams, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_and_leaver,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
