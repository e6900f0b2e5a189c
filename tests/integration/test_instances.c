/*
 * Instances end to end: an exec spec with `instances` spawns numbered
 * copies under an implicit supervisor, each with ARBOR_INSTANCE and the
 * node's held sockets; `scale` adds and removes them; --state, reload and
 * apply keep and change the count; a rolling restart of instances behind
 * one held TCP socket drops no request; a rolling restart waits for each
 * child's health check to pass before the next.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

/* A small HTTP server on the listening socket it inherits as fd 3: the
 * first argv[1] requests get 500, the others 200 with its instance in
 * the body. Ready once it holds the socket; on SIGTERM it stops
 * accepting, ends the request in hand, and exits, leaving the queued
 * connections to the others. */
static const char server_py[] =
    "import os, signal, socket, sys\n"
    "fail = int(sys.argv[1])\n"
    "s = socket.socket(fileno=3)\n"
    "s.settimeout(0.1)\n"
    "stop = []\n"
    "signal.signal(signal.SIGTERM, lambda *a: stop.append(1))\n"
    "os.write(int(os.environ['ARBOR_READY_FD']), b'up\\n')\n"
    "n = 0\n"
    "while not stop:\n"
    "    try:\n"
    "        c, _ = s.accept()\n"
    "    except (socket.timeout, InterruptedError):\n"
    "        continue\n"
    "    c.settimeout(5)\n"
    "    try:\n"
    "        data = b''\n"
    "        while b'\\r\\n\\r\\n' not in data:\n"
    "            d = c.recv(4096)\n"
    "            if not d:\n"
    "                break\n"
    "            data += d\n"
    "        n += 1\n"
    "        code = b'500 Failing' if n <= fail else b'200 OK'\n"
    "        body = os.environ.get('ARBOR_INSTANCE', '-').encode()\n"
    "        c.sendall(b'HTTP/1.0 ' + code + b'\\r\\nContent-Length: ' +\n"
    "            str(len(body)).encode() + b'\\r\\nConnection: close'\n"
    "            b'\\r\\n\\r\\n' + body)\n"
    "    except OSError:\n"
    "        pass\n"
    "    c.close()\n";

static char tmpdir[256];

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/arbor-inst-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return h_setup(state);
}

static int
setup_dir(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/arbor-inst-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	if (D.pid > 0)
		h_teardown(state);
	D.pid = 0;
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static bool
have_python(void)
{
	return system("python3 -c 'import socket' >/dev/null 2>&1") == 0;
}

static json_t *
inspect(int fd, const char *path, int depth)
{
	return h_ok(fd, "inspect", json_pack("{s:s,s:i}", "path", path,
	    "depth", depth));
}

static json_int_t
num_at(int fd, const char *path, const char *key)
{
	json_t *v = inspect(fd, path, 0);
	json_int_t n = h_num(v, key);

	json_decref(v);
	return n;
}

static bool
exists(int fd, const char *path)
{
	json_t *r = h_call(fd, "inspect", json_pack("{s:s}", "path", path));
	bool yes = json_object_get(r, "result") != NULL;

	json_decref(r);
	return yes;
}

/* Under h_call's own 10 s, so a slow start is a timeout error that says
 * so, not "no answer". */
static void
wait_running(int fd, const char *path)
{
	json_decref(h_ok(fd, "wait", json_pack("{s:s,s:s,s:i}", "path", path,
	    "for", "running", "timeout_ms", 8000)));
}

static bool
list_has(const json_t *r, const char *key, const char *path)
{
	const json_t *list = json_object_get(r, key), *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), path) == 0)
			return true;
	return false;
}

/* A sh worker that sleeps: {"name", "kind": "exec", "argv", "instances"}. */
static json_t *
sleeper(const char *name, int instances)
{
	return json_pack("{s:s,s:s,s:s,s:[s,s,s],s:i}", "name", name, "kind",
	    "exec", "restart", "permanent", "argv", "sh", "-c",
	    "exec sleep 600", "instances", instances);
}

static void
test_instances_are_numbered_with_their_index_and_share_sockets(void **state)
{
	char script[600], file[400], buf[256], sock0[64] = "";
	int fd = h_connect(&D), port = h_free_port();
	json_t *r, *kids;
	FILE *f;

	snprintf(script, sizeof script,
	    "f=%s/i.$ARBOR_INSTANCE; "
	    "echo \"$ARBOR_INSTANCE $LISTEN_FDS $LISTEN_FDNAMES "
	    "$(readlink /proc/$$/fd/3)\" >$f.tmp; mv $f.tmp $f; "
	    "exec sleep 600",
	    tmpdir);
	snprintf(buf, sizeof buf, "tcp:127.0.0.1:%d", port);
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s,s],s:i,s:[{s:s,s:s}],"
	    "s:{s:s}}", "name", "web", "kind", "exec", "argv", "sh", "-c",
	    script, "instances", 3, "sockets", "name", "http", "listen", buf,
	    "env", "A", "1"));
	/* The node is the implicit supervisor. */
	assert_string_equal(h_str(r, "kind"), "supervisor");
	assert_int_equal(h_num(r, "instances"), 3);
	assert_string_equal(h_str(r, "strategy"), "one_for_one");
	json_decref(r);
	wait_running(fd, "/web");
	r = inspect(fd, "/web", 1);
	kids = json_object_get(r, "children");
	assert_int_equal(json_array_size(kids), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *k = json_array_get(kids, i);
		char want[32];

		snprintf(want, sizeof want, "/web/%zu", i);
		assert_string_equal(h_str(k, "path"), want);
		assert_string_equal(h_str(k, "kind"), "exec");
		assert_string_equal(h_str(k, "state"), "running");
	}
	json_decref(r);
	/* Each has its index, the env of the spec, and the one socket. */
	for (int i = 0; i < 3; i++) {
		int idx = -1, nfds = 0;
		char names[64] = "", sock[64] = "";

		snprintf(file, sizeof file, "%s/i.%d", tmpdir, i);
		for (int t = 0; t < 1000 && access(file, F_OK) != 0; t++)
			sleep_ms(10);
		assert_non_null(f = fopen(file, "r"));
		assert_int_equal(fscanf(f, "%d %d %63s %63s", &idx, &nfds,
		                     names, sock),
		    4);
		fclose(f);
		assert_int_equal(idx, i);
		assert_int_equal(nfds, 1);
		assert_string_equal(names, "http");
		assert_non_null(strstr(sock, "socket:["));
		if (i == 0)
			snprintf(sock0, sizeof sock0, "%s", sock);
		assert_string_equal(sock, sock0);
	}
	/* Nothing else goes under the instances' supervisor. */
	assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:s}",
	                     "parent", "/web", "name", "x", "kind", "sleep"),
	                     NULL),
	    -32003);
	close(fd);
}

static void
test_scale_adds_instances_and_removes_the_highest(void **state)
{
	int fd = h_connect(&D);
	json_int_t p0, p1, p2;
	json_t *r;

	json_decref(h_ok(fd, "spawn", sleeper("web", 2)));
	wait_running(fd, "/web");
	p0 = num_at(fd, "/web/0", "pid");
	p1 = num_at(fd, "/web/1", "pid");
	r = h_ok(fd, "scale", json_pack("{s:s,s:i}", "path", "/web",
	    "instances", 4));
	assert_int_equal(h_num(r, "instances"), 4);
	assert_true(list_has(r, "added", "/web/2"));
	assert_true(list_has(r, "added", "/web/3"));
	assert_int_equal(json_array_size(json_object_get(r, "removed")), 0);
	json_decref(r);
	wait_running(fd, "/web/3");
	/* The others were left alone. */
	assert_int_equal(num_at(fd, "/web/0", "pid"), p0);
	assert_int_equal(num_at(fd, "/web/1", "pid"), p1);
	p2 = num_at(fd, "/web/2", "pid");
	assert_true(p2 > 0);
	/* Down: answered once the highest are gone. */
	r = h_ok(fd, "scale", json_pack("{s:s,s:i}", "path", "/web",
	    "instances", 1));
	assert_int_equal(h_num(r, "instances"), 1);
	assert_int_equal(h_num(r, "child_count"), 1);
	assert_int_equal(json_array_size(json_object_get(r, "removed")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r,
	                        "removed"),
	                        0)),
	    "/web/3");
	json_decref(r);
	assert_false(exists(fd, "/web/1"));
	assert_false(exists(fd, "/web/3"));
	assert_int_equal(num_at(fd, "/web/0", "pid"), p0);
	assert_true(kill((pid_t)p2, 0) == -1 && errno == ESRCH);
	/* The same count: nothing to do. */
	r = h_ok(fd, "scale", json_pack("{s:s,s:i}", "path", "/web",
	    "instances", 1));
	assert_int_equal(json_array_size(json_object_get(r, "added")) +
	        json_array_size(json_object_get(r, "removed")),
	    0);
	json_decref(r);
	close(fd);
}

static void
test_bad_instances_are_refused(void **state)
{
	int fd = h_connect(&D);
	const char *kind;
	json_t *s;

	s = sleeper("w", 0);
	assert_int_equal(h_err(fd, "spawn", s, &kind), -32602);
	assert_int_equal(h_err(fd, "spawn", sleeper("w", 1001), &kind),
	    -32602);
	s = sleeper("w", 1);
	json_object_set_new(s, "instances", json_string("2"));
	assert_int_equal(h_err(fd, "spawn", s, &kind), -32602);
	assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:i}", "name",
	                     "w", "kind", "sleep", "instances", 2),
	                     &kind),
	    -32602);
	assert_false(exists(fd, "/w"));
	json_decref(h_ok(fd, "spawn", sleeper("w", 1)));
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "s",
	    "kind", "sleep")));
	assert_int_equal(h_err(fd, "scale", json_pack("{s:s,s:i}", "path",
	                     "/w", "instances", 0),
	                     &kind),
	    -32602);
	assert_int_equal(h_err(fd, "scale", json_pack("{s:s,s:i}", "path",
	                     "/w", "instances", 1001),
	                     &kind),
	    -32602);
	assert_int_equal(h_err(fd, "scale", json_pack("{s:s}", "path", "/w"),
	                     &kind),
	    -32602);
	/* Not an instanced node: a conflict. */
	assert_int_equal(h_err(fd, "scale", json_pack("{s:s,s:i}", "path",
	                     "/s", "instances", 2),
	                     &kind),
	    -32003);
	assert_int_equal(h_err(fd, "scale", json_pack("{s:s,s:i}", "path",
	                     "/w/0", "instances", 2),
	                     &kind),
	    -32003);
	assert_int_equal(h_err(fd, "scale", json_pack("{s:s,s:i}", "path",
	                     "/nope", "instances", 2),
	                     &kind),
	    -32001);
	close(fd);
}

/* kill -9 of the daemon, then a new one with the same args. */
static void
kill9_and_start(const char *const *args)
{
	kill(D.pid, SIGKILL);
	waitpid(D.pid, NULL, 0);
	D.pid = 0;
	unlink(D.sock);
	rmdir(D.dir);
	h_start(&D, args);
}

static void
test_instances_come_back_from_state(void **state)
{
	char st[300];
	const char *args[] = { "--state", st, NULL };
	json_t *r, *s;
	int fd;

	snprintf(st, sizeof st, "%s/state.json", tmpdir);
	h_start(&D, args);
	fd = h_connect(&D);
	s = sleeper("web", 3);
	json_object_set_new(s, "max_restarts", json_integer(40));
	json_decref(h_ok(fd, "spawn", s));
	wait_running(fd, "/web");
	/* Answered once it is on disk. */
	json_decref(h_ok(fd, "scale", json_pack("{s:s,s:i}", "path", "/web",
	    "instances", 2)));
	close(fd);
	kill9_and_start(args);
	fd = h_connect(&D);
	wait_running(fd, "/web");
	r = inspect(fd, "/web", 1);
	assert_string_equal(h_str(r, "kind"), "supervisor");
	assert_int_equal(h_num(r, "instances"), 2);
	assert_int_equal(json_array_size(json_object_get(r, "children")), 2);
	assert_int_equal(h_num(json_object_get(r, "intensity"),
	                     "max_restarts"),
	    40);
	json_decref(r);
	assert_false(exists(fd, "/web/2"));
	/* Up again, and kept too. */
	json_decref(h_ok(fd, "scale", json_pack("{s:s,s:i}", "path", "/web",
	    "instances", 4)));
	close(fd);
	kill9_and_start(args);
	fd = h_connect(&D);
	wait_running(fd, "/web");
	assert_int_equal(num_at(fd, "/web", "instances"), 4);
	assert_true(exists(fd, "/web/3"));
	close(fd);
}

static void
test_reload_and_apply_scale_without_restarting_the_others(void **state)
{
	char cfg[300];
	const char *args[] = { "--config", cfg, NULL };
	json_int_t p0, p1;
	json_t *r, *spec;
	char *text;
	int fd;

	snprintf(cfg, sizeof cfg, "%s/arbor.json", tmpdir);
	spec = sleeper("web", 2);
	text = json_dumps(spec, 0);
	write_file(cfg, text);
	free(text);
	h_start(&D, args);
	fd = h_connect(&D);
	wait_running(fd, "/web");
	p0 = num_at(fd, "/web/0", "pid");
	p1 = num_at(fd, "/web/1", "pid");
	json_object_set_new(spec, "instances", json_integer(3));
	text = json_dumps(spec, 0);
	write_file(cfg, text);
	free(text);
	r = h_ok(fd, "reload", NULL);
	assert_true(list_has(r, "spawned", "/web/2"));
	assert_true(list_has(r, "updated", "/web"));
	assert_int_equal(json_array_size(json_object_get(r, "restarted")), 0);
	json_decref(r);
	wait_running(fd, "/web/2");
	assert_int_equal(num_at(fd, "/web/0", "pid"), p0);
	assert_int_equal(num_at(fd, "/web/1", "pid"), p1);
	assert_int_equal(num_at(fd, "/web", "instances"), 3);
	json_object_set_new(spec, "instances", json_integer(1));
	text = json_dumps(spec, 0);
	write_file(cfg, text);
	free(text);
	r = h_ok(fd, "reload", NULL);
	assert_true(list_has(r, "cancelled", "/web/1"));
	assert_true(list_has(r, "cancelled", "/web/2"));
	json_decref(r);
	assert_false(exists(fd, "/web/1"));
	assert_int_equal(num_at(fd, "/web/0", "pid"), p0);
	json_decref(spec);

	/* apply, on a client's node, the same way (no prune needed). */
	spec = sleeper("api", 1);
	json_decref(h_ok(fd, "apply", json_pack("{s:[O]}", "specs", spec)));
	wait_running(fd, "/api/0");
	p0 = num_at(fd, "/api/0", "pid");
	json_object_set_new(spec, "instances", json_integer(3));
	json_decref(h_ok(fd, "apply", json_pack("{s:[O]}", "specs", spec)));
	wait_running(fd, "/api/2");
	json_object_set_new(spec, "instances", json_integer(2));
	json_decref(h_ok(fd, "apply", json_pack("{s:[O]}", "specs", spec)));
	assert_false(exists(fd, "/api/2"));
	assert_int_equal(num_at(fd, "/api/0", "pid"), p0);
	assert_int_equal(num_at(fd, "/api/0", "restarts"), 0);
	json_decref(spec);
	close(fd);
}

/* One GET on a new connection: the status code, or -1. */
static int
http_get(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 5, 0 };
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	char buf[512];
	size_t len = 0;
	ssize_t n;
	int s, code = -1;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    write(s, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
		close(s);
		return -1;
	}
	while (len < sizeof buf - 1 &&
	    (n = read(s, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(s);
	if (sscanf(buf, "HTTP/1.0 %d", &code) != 1)
		return -1;
	return code;
}

static void
test_rolling_restart_behind_a_held_socket_drops_no_request(void **state)
{
	char script[400], listen[64];
	const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":"
	                   "\"restart\",\"params\":{\"path\":\"/web\","
	                   "\"rolling\":true}}\n";
	int fd = h_connect(&D), port = h_free_port(), ok = 0, failed = 0;
	json_int_t before[3];
	json_t *r, *res;

	if (!have_python()) {
		close(fd);
		skip();
	}
	snprintf(script, sizeof script, "%s/server.py", tmpdir);
	write_file(script, server_py);
	snprintf(listen, sizeof listen, "tcp:127.0.0.1:%d", port);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s,s],s:s,s:i,"
	                                        "s:[{s:s,s:s}]}",
	    "name", "web", "kind", "exec", "argv", "python3", script, "0",
	    "ready", "fd", "instances", 3, "sockets", "name", "http", "listen",
	    listen)));
	wait_running(fd, "/web");
	for (int i = 0; i < 3; i++) {
		char p[16];

		snprintf(p, sizeof p, "/web/%d", i);
		before[i] = num_at(fd, p, "pid");
	}
	assert_int_equal(http_get(port), 200);
	h_send_raw(fd, req, sizeof req - 1);
	for (;;) {
		if (http_get(port) == 200)
			ok++;
		else
			failed++;
		if ((r = h_recv(fd, 0)) != NULL)
			break;
	}
	res = json_object_get(r, "result");
	assert_non_null(res);
	assert_int_equal(json_array_size(json_object_get(res, "restarted")),
	    3);
	json_decref(r);
	for (int i = 0; i < 3; i++) {
		char p[16];

		snprintf(p, sizeof p, "/web/%d", i);
		assert_true(num_at(fd, p, "pid") != before[i]);
	}
	print_message("rolling restart of 3 instances: %d requests, %d "
	              "failed\n",
	    ok + failed, failed);
	assert_int_equal(failed, 0);
	assert_true(ok > 3);
	close(fd);
}

/* A child of /h with its own socket on port, checked over HTTP there,
 * failing its first 3 requests in each run. */
static json_t *
checked_child(const char *name, const char *script, int port)
{
	char listen[64], url[64];

	snprintf(listen, sizeof listen, "tcp:127.0.0.1:%d", port);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
	return json_pack("{s:s,s:s,s:s,s:[s,s,s],s:s,s:[{s:s}],"
	                 "s:{s:s,s:i,s:i,s:i}}",
	    "name", name, "kind", "exec", "restart", "permanent", "argv",
	    "python3", script, "3", "ready", "fd", "sockets", "listen", listen,
	    "health", "http", url, "interval_ms", 50, "failures", 50,
	    "timeout_ms", 1000);
}

static const char *
health_of(const json_t *v)
{
	return h_str(json_object_get(v, "health"), "state");
}

static void
test_rolling_restart_waits_for_each_child_to_be_healthy(void **state)
{
	char script[400];
	const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":78,\"method\":"
	                   "\"restart\",\"params\":{\"path\":\"/h\","
	                   "\"rolling\":true}}\n";
	int fd = h_connect(&D), fd2 = h_connect(&D);
	int pa = h_free_port(), pb;
	bool a_waited = false;
	json_int_t a0, b0;
	json_t *r, *res;

	if (!have_python()) {
		close(fd);
		close(fd2);
		skip();
	}
	do
		pb = h_free_port();
	while (pb == pa);
	snprintf(script, sizeof script, "%s/server.py", tmpdir);
	write_file(script, server_py);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[o,o]}", "name",
	    "h", "kind", "supervisor", "children",
	    checked_child("a", script, pa), checked_child("b", script, pb))));
	wait_running(fd, "/h");
	/* Both healthy before the roll (20 s at most). */
	for (int64_t until = h_now_ms() + 20000;;) {
		json_t *a = inspect(fd, "/h/a", 0), *b = inspect(fd, "/h/b", 0);
		bool both = strcmp(health_of(a), "healthy") == 0 &&
		    strcmp(health_of(b), "healthy") == 0;

		json_decref(a);
		json_decref(b);
		if (both)
			break;
		if (h_now_ms() > until)
			fail_msg("/h/a and /h/b not both healthy in 20 s");
		sleep_ms(10);
	}
	a0 = num_at(fd, "/h/a", "pid");
	b0 = num_at(fd, "/h/b", "pid");
	h_send_raw(fd, req, sizeof req - 1);
	/* Until a is healthy in its new run, b keeps its process. */
	for (;;) {
		json_t *v = inspect(fd2, "/h", 1), *kids;
		const json_t *a, *b;

		kids = json_object_get(v, "children");
		a = json_array_get(kids, 0);
		b = json_array_get(kids, 1);
		if (h_num(a, "pid") != a0 &&
		    strcmp(health_of(a), "healthy") != 0) {
			a_waited = true;
			assert_int_equal(h_num(b, "pid"), b0);
		}
		if (h_num(b, "pid") != b0)
			assert_string_equal(health_of(a), "healthy");
		json_decref(v);
		if ((r = h_recv(fd, 5)) != NULL)
			break;
	}
	res = json_object_get(r, "result");
	assert_non_null(res);
	assert_true(list_has(res, "restarted", "/h/a"));
	assert_true(list_has(res, "restarted", "/h/b"));
	json_decref(r);
	/* a was seen restarted and not yet healthy: the roll waited. */
	assert_true(a_waited);
	/* And b is healthy at the answer. */
	r = inspect(fd, "/h/b", 0);
	assert_string_equal(health_of(r), "healthy");
	assert_true(h_num(r, "pid") != b0);
	json_decref(r);
	close(fd2);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_instances_are_numbered_with_their_index_and_share_sockets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_scale_adds_instances_and_removes_the_highest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_instances_are_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_instances_come_back_from_state, setup_dir, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reload_and_apply_scale_without_restarting_the_others,
		    setup_dir, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rolling_restart_behind_a_held_socket_drops_no_request,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rolling_restart_waits_for_each_child_to_be_healthy,
		    setup, teardown),
	};
	const char *filter = getenv("ARBOR_TEST_FILTER");

	if (filter != NULL)
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
