/*
 * Health checks and the signal method, end to end: HTTP checks against a
 * small python3 server worker, TCP checks against a listener of the
 * test's, exec checks (exit codes, timeouts that leave no process),
 * start_grace_ms, failures in a row as node failures counted in the
 * intensity, health in inspect, /v1/tree, /metrics and events, checks in
 * flight cancelled with their node; signals to a main process and to a
 * whole group.
 */
#include <errno.h>
#include <netinet/in.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

/* The worker: answers 500 while the file argv[2] exists, else 200; says
 * it is ready once it listens. */
static const char server_py[] =
    "import http.server, os, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        code = 500 if os.path.exists(sys.argv[2]) else 200\n"
    "        self.send_response(code)\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b'ok')\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "s = http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H)\n"
    "os.write(int(os.environ['ARBOR_READY_FD']), b'up\\n')\n"
    "s.serve_forever()\n";

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool
have_python(void)
{
	return system("python3 -c 'import http.server' >/dev/null 2>&1") == 0;
}

static void
path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", D.dir, name);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static json_t *
inspect(int fd, const char *path)
{
	return h_ok(fd, "inspect", json_pack("{s:s}", "path", path));
}

/* Polls the node's view (10 s at most) until its health is in state
 * and, when given, its last_error starts with err. The view, owned. */
static json_t *
wait_health(int fd, const char *path, const char *state, const char *err)
{
	for (int i = 0; i < 1000; i++) {
		json_t *v = inspect(fd, path), *h = json_object_get(v, "health");
		const char *le = h_str(h, "last_error");

		if (h != NULL && strcmp(h_str(h, "state"), state) == 0 &&
		    (err == NULL ||
		        (le != NULL && strncmp(le, err, strlen(err)) == 0)))
			return v;
		json_decref(v);
		sleep_ms(10);
	}
	fail_msg("%s never became %s (%s)", path, state, err ? err : "");
	return NULL;
}


/* Gone and reaped (a zombie still answers kill 0), within 10 s. */
static bool
pid_gone(pid_t pid)
{
	for (int i = 0; i < 1000; i++) {
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return true;
		sleep_ms(10);
	}
	return false;
}

/* The same of a whole process group: the sleeps a check left in its
 * group are killed with it, but reaped a moment later by whoever
 * inherited them. */
static bool
group_gone(pid_t pgid)
{
	return pid_gone(-pgid);
}

/* A TCP listener on a free loopback port; its port in *port. It accepts
 * nothing: each check's connection stays in its backlog, which is as
 * long as the system allows (with a short one, the checks that come once
 * it is full hang and fail as timeouts). */
static int
listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, SOMAXCONN), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Waits for an event of type on fd's subscription matching to (or any),
 * for up to 10 s; the params, owned. */
static json_t *
next_event(int fd, const char *type, const char *key, const char *value)
{
	int64_t end = h_now_ms() + 10000;

	while (h_now_ms() < end) {
		json_t *msg = h_recv(fd, 1000), *p;

		if (msg == NULL)
			continue;
		p = json_object_get(msg, "params");
		if (p != NULL && strcmp(h_str(p, "type"), type) == 0 &&
		    (key == NULL || (h_str(p, key) != NULL &&
		                        strcmp(h_str(p, key), value) == 0))) {
			json_incref(p);
			json_decref(msg);
			return p;
		}
		json_decref(msg);
	}
	fail_msg("no %s event with %s = %s", type, key ? key : "-",
	    value ? value : "-");
	return NULL;
}

/* --- HTTP ----------------------------------------------------------------- */

static void
test_http_check_restarts_on_500s_and_the_supervisor_gives_up(void **state)
{
	char script[512], flag[512], url[64], portstr[16];
	int fd = h_connect(&D), w = h_connect(&D), port = h_free_port();
	json_t *r, *v, *h, *ev, *st;

	if (!have_python()) {
		h_close(fd);
		h_close(w);
		skip();
	}
	path_in(script, sizeof script, "server.py");
	path_in(flag, sizeof flag, "fail");
	write_file(script, server_py);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
	snprintf(portstr, sizeof portstr, "%d", port);
	json_decref(h_ok(w, "watch", json_pack("{s:s}", "path", "/s")));
	/* One restart allowed in a minute: the second failure fails /s,
	 * for good (temporary: the root's restart of a failed transient /s,
	 * 100 ms later, would run /s/web again under the test's checks). */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:i,s:[{s:s,s:s,s:s,"
	    "s:s,s:[s,s,s,s],s:{s:s,s:i,s:i}}]}", "name", "s", "kind",
	    "supervisor", "restart", "temporary",
	    "max_restarts", 1, "period_ms", 60000, "children", "name", "web",
	    "kind", "exec", "restart", "permanent", "ready", "fd", "argv",
	    "python3", script, portstr, flag, "health", "http", url,
	    "interval_ms", 50, "failures", 2));
	json_decref(r);
	v = wait_health(fd, "/s/web", "healthy", NULL);
	h = json_object_get(v, "health");
	assert_int_equal(h_num(h, "failures"), 0);
	assert_true(json_is_null(json_object_get(h, "last_error")));
	json_decref(v);
	ev = next_event(w, "health", "to", "healthy");
	assert_string_equal(h_str(ev, "from"), "starting");
	assert_string_equal(h_str(ev, "path"), "/s/web");
	json_decref(ev);

	write_file(flag, "");
	ev = next_event(w, "health", "to", "unhealthy");
	assert_string_equal(h_str(ev, "last_error"), "HTTP 500");
	assert_int_equal(h_num(ev, "failures"), 1);
	json_decref(ev);
	ev = next_event(w, "state", "cause", "health check failed: HTTP 500");
	json_decref(ev);
	/* Restarted once, failed again: over the intensity. */
	r = h_wait(fd, "/s", "terminated", 30000);
	assert_string_equal(h_str(r, "state"), "failed");
	json_decref(r);
	v = inspect(fd, "/s/web");
	assert_int_equal(h_num(v, "restarts"), 1);
	assert_string_equal(h_str(json_object_get(v, "health"), "state"),
	    "unhealthy");
	json_decref(v);
	/* The first end is counted as health's; the second as the
	 * intensity's, which it exceeded. */
	st = h_ok(fd, "stats", NULL);
	assert_int_equal(h_num(json_object_get(st, "exits"), "health"), 1);
	assert_true(h_num(json_object_get(st, "exits"), "intensity") >= 1);
	json_decref(st);
	h_close(w);
	h_close(fd);
}

/* --- TCP ------------------------------------------------------------------ */

static void
test_tcp_check_follows_a_listener(void **state)
{
	int fd = h_connect(&D), port, lfd = listener(&port);
	char addr[64];
	json_t *v;

	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:i,"
	    "s:i}}", "name", "t", "kind", "exec", "argv", "sleep", "100",
	    "health", "tcp", addr, "interval_ms", 50, "failures", 1000)));
	json_decref(wait_health(fd, "/t", "healthy", NULL));
	close(lfd);
	v = wait_health(fd, "/t", "unhealthy", "connection refused");
	assert_string_equal(h_str(v, "state"), "running");
	json_decref(v);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/t",
	    "wait", 1)));
	h_close(fd);
}

/* --- exec ----------------------------------------------------------------- */

static void
test_exec_check_exit_status_and_output(void **state)
{
	char flag[512], cmd[1024];
	int fd = h_connect(&D);
	json_t *v;

	path_in(flag, sizeof flag, "down");
	snprintf(cmd, sizeof cmd,
	    "if [ -e %s ]; then echo 'db is down'; exit 3; fi", flag);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s],s:{s:[s,s,s],"
	    "s:i,s:i}}", "name", "e", "kind", "exec", "argv", "sleep", "100",
	    "health", "exec", "sh", "-c", cmd, "interval_ms", 20, "failures",
	    1000)));
	json_decref(wait_health(fd, "/e", "healthy", NULL));
	write_file(flag, "");
	v = wait_health(fd, "/e", "unhealthy", "exit 3");
	assert_string_equal(
	    h_str(json_object_get(v, "health"), "last_error"),
	    "exit 3: db is down");
	json_decref(v);
	unlink(flag);
	json_decref(wait_health(fd, "/e", "healthy", NULL));
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/e",
	    "wait", 1)));
	h_close(fd);
}

/* Each check writes its pid; every one of them, and the sleeps they left
 * in their group, must be gone. */
static void
assert_checks_gone(const char *pidfile)
{
	FILE *f = fopen(pidfile, "r");
	long pid;
	int n = 0;

	assert_non_null(f);
	while (fscanf(f, "%ld", &pid) == 1) {
		assert_true(pid_gone((pid_t)pid));
		assert_true(group_gone((pid_t)pid));
		n++;
	}
	fclose(f);
	assert_true(n > 0);
}

static void
test_exec_check_timeout_kills_its_group_and_leaves_nothing(void **state)
{
	char pids[512], cmd[1024];
	int fd = h_connect(&D), base;
	json_t *v, *st;

	json_decref(h_ok(fd, "ping", NULL));
	base = h_fd_count_settled(D.pid);
	path_in(pids, sizeof pids, "pids");
	snprintf(cmd, sizeof cmd, "echo $$ >> %s; sleep 30 & sleep 30", pids);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s],"
	    "s:{s:[s,s,s],s:i,s:i,s:i}}", "name", "slow", "kind", "exec",
	    "restart", "temporary", "argv", "sleep", "100", "health", "exec",
	    "sh", "-c", cmd, "interval_ms", 20, "timeout_ms", 500, "failures",
	    2)));
	/* Two timeouts in a row: the node fails, and is not restarted.
	 * (500 ms: time enough for a check to write its pid first, when
	 * loaded.) */
	v = h_wait(fd, "/slow", "terminated", 30000);
	assert_string_equal(h_str(v, "state"), "exited");
	assert_string_equal(h_str(v, "cause"), "health check failed: timeout");
	assert_string_equal(h_str(json_object_get(v, "health"), "last_error"),
	    "timeout");
	json_decref(v);
	assert_checks_gone(pids);
	assert_int_equal(h_fd_count_settled(D.pid), base);
	st = h_ok(fd, "stats", NULL);
	assert_int_equal(h_num(json_object_get(st, "exits"), "health"), 1);
	json_decref(st);
	h_close(fd);
}

static void
test_start_grace_keeps_it_starting_and_uncounted(void **state)
{
	int fd = h_connect(&D);
	json_t *v, *h;

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s],s:{s:[s],"
	    "s:i,s:i,s:i}}", "name", "g", "kind", "exec", "argv", "sleep",
	    "100", "health", "exec", "false", "interval_ms", 20, "failures", 1,
	    "start_grace_ms", 600000)));
	v = wait_health(fd, "/g", "starting", "exit 1");
	h = json_object_get(v, "health");
	assert_int_equal(h_num(h, "failures"), 0);
	assert_string_equal(h_str(v, "state"), "running");
	json_decref(v);
	/* The same without the grace: the first failure ends it. */
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s],"
	    "s:{s:[s],s:i,s:i}}", "name", "ng", "kind", "exec", "restart",
	    "temporary", "argv", "sleep", "100", "health", "exec", "false",
	    "interval_ms", 20, "failures", 1)));
	v = h_wait(fd, "/ng", "terminated", 30000);
	assert_string_equal(h_str(v, "cause"), "health check failed: exit 1");
	json_decref(v);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/",
	    "wait", 1)));
	h_close(fd);
}

/* --- cancel with a check in flight ----------------------------------------- */

static void
test_checks_in_flight_are_cancelled_with_their_node(void **state)
{
	char started[512], cmd[2048], addr[64];
	int fd = h_connect(&D), base, port, lfd = listener(&port);
	struct stat sb;
	FILE *f;
	long pid = 0;

	json_decref(h_ok(fd, "ping", NULL));
	base = h_fd_count_settled(D.pid);
	path_in(started, sizeof started, "started");
	snprintf(cmd, sizeof cmd, "echo $$ > %s.new; mv %s.new %s; exec sleep 30",
	    started, started, started);
	/* The listener accepts nothing and answers nothing: the HTTP check
	 * hangs; so does the exec check. */
	snprintf(addr, sizeof addr, "http://127.0.0.1:%d/", port);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s],s:{s:[s,s,s],"
	    "s:i,s:i}}", "name", "x", "kind", "exec", "argv", "sleep", "100",
	    "health", "exec", "sh", "-c", cmd, "interval_ms", 10, "timeout_ms",
	    60000)));
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:i,"
	    "s:i}}", "name", "h", "kind", "exec", "argv", "sleep", "100",
	    "health", "http", addr, "interval_ms", 10, "timeout_ms", 60000)));
	for (int i = 0; i < 2000 && stat(started, &sb) == -1; i++)
		sleep_ms(10);
	/* The HTTP check is in flight once its connection waits in the
	 * listener's backlog. */
	{
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, 20000), 1);
	}
	f = fopen(started, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/",
	    "wait", 1)));
	assert_true(pid_gone((pid_t)pid));
	close(lfd);
	assert_int_equal(h_fd_count_settled(D.pid), base);
	h_close(fd);
}

/* arbord killed with a check in flight: the sentinel kills the check's
 * group, as it does the workers'. */
static void
test_check_in_flight_dies_with_a_killed_daemon(void **state)
{
	char started[512], cmd[2048];
	int fd = h_connect(&D), status;
	struct stat sb;
	long pid = 0, gc = 0;
	FILE *f;

	path_in(started, sizeof started, "started");
	/* The check and a child of it, in its group, both hang. */
	snprintf(cmd, sizeof cmd,
	    "sleep 30 & echo $$ $! > %s.new; mv %s.new %s; wait", started,
	    started, started);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s],s:{s:[s,s,s],"
	    "s:i,s:i}}", "name", "x", "kind", "exec", "argv", "sleep", "100",
	    "health", "exec", "sh", "-c", cmd, "interval_ms", 10, "timeout_ms",
	    60000)));
	for (int i = 0; i < 2000 && stat(started, &sb) == -1; i++)
		sleep_ms(10);
	f = fopen(started, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &pid, &gc), 2);
	fclose(f);
	h_close(fd);
	kill(D.pid, SIGKILL);
	waitpid(D.pid, &status, 0);
	D.pid = 0;
	assert_true(pid_gone((pid_t)pid));
	assert_true(pid_gone((pid_t)gc));
	unlink(started);
	unlink(D.sock);
	rmdir(D.dir);
	h_start(&D, NULL); /* for the teardown */
}

/* --- spec ----------------------------------------------------------------- */

static void
test_bad_health_specs_are_invalid_params_naming_the_field(void **state)
{
	int fd = h_connect(&D);
	const char *kind;
	json_t *r;
	static const char *const bad[] = {
		"{\"http\": \"http://example.com/\"}",
		"{\"http\": \"https://127.0.0.1/\"}",
		"{\"tcp\": \"127.0.0.1\"}",
		"{\"tcp\": \"127.0.0.1:1\", \"http\": \"http://[::1]/\"}",
		"{\"exec\": []}",
		"{\"exec\": [\"true\"], \"interval_ms\": 1}",
		"{\"exec\": [\"true\"], \"failures\": 0}",
		"{\"exec\": [\"true\"], \"every\": 1}",
		"\"http://127.0.0.1/\"",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *hv = json_loads(bad[i], JSON_DECODE_ANY, NULL);

		assert_non_null(hv);
		assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:[s],"
		    "s:o}", "name", "b", "kind", "exec", "argv", "true",
		    "health", hv), &kind), -32602);
		assert_string_equal(kind, "invalid_params");
	}
	/* A child's error says where. */
	r = h_call(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s,s:[s],"
	    "s:{s:[s],s:i}}]}", "name", "s", "kind", "supervisor", "children",
	    "name", "c", "kind", "exec", "argv", "true", "health", "exec",
	    "true", "interval_ms", 1));
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r, "error"), "message")),
	    "children[0].health.interval_ms"));
	json_decref(r);
	/* Not on other kinds. */
	assert_int_equal(h_err(fd, "spawn", json_pack("{s:s,s:s,s:{s:[s]}}",
	    "name", "t", "kind", "tick", "health", "exec", "true"), NULL),
	    -32602);
	/* Without a check, null; with one, in full in the view. */
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s]}", "name", "n",
	    "kind", "exec", "argv", "sleep", "100"));
	assert_true(json_is_null(json_object_get(r, "health")));
	json_decref(r);
	r = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s],s:{s:s}}", "name",
	    "l", "kind", "exec", "argv", "sleep", "100", "health", "tcp",
	    "localhost:1"));
	assert_string_equal(h_str(json_object_get(r, "health"), "state"),
	    "starting");
	json_decref(r);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/",
	    "wait", 1)));
	h_close(fd);
}

/* --- monitoring ------------------------------------------------------------ */

static int http_port;

static int
setup_http(void **state)
{
	char arg[64];
	const char *args[] = { "--http", arg, NULL };

	http_port = h_free_port();
	snprintf(arg, sizeof arg, "127.0.0.1:%d", http_port);
	h_start(&D, args);
	return 0;
}

/* GET target; the whole answer, owned. */
static char *
http_get(const char *target)
{
	int fd = h_tcp_connect(http_port, 1000);
	size_t cap = 1 << 16, len = 0;
	char req[256], *buf = malloc(cap);
	ssize_t n;

	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", target);
	h_send_raw(fd, req, strlen(req));
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
	h_close(fd);
	buf[len] = '\0';
	return buf;
}

static void
test_health_shows_in_tree_metrics_and_events(void **state)
{
	int fd = h_connect(&D), w = h_connect(&D);
	char *body;
	json_t *ev;

	json_decref(h_ok(w, "watch", json_pack("{s:s}", "path", "/")));
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s],s:{s:[s],"
	    "s:i}}", "name", "n", "kind", "exec", "argv", "sleep", "100",
	    "health", "exec", "true", "interval_ms", 20)));
	ev = next_event(w, "health", "to", "healthy");
	assert_string_equal(h_str(ev, "path"), "/n");
	assert_int_equal(h_num(ev, "failures"), 0);
	assert_true(json_is_null(json_object_get(ev, "last_error")));
	json_decref(ev);
	body = http_get("/v1/tree?path=/n");
	assert_non_null(strstr(body, "\"health\""));
	assert_non_null(strstr(body, "\"healthy\""));
	free(body);
	body = http_get("/metrics");
	assert_non_null(strstr(body, "arbor_node_healthy{path=\"/n\"} 1\n"));
	assert_non_null(strstr(body, "arbor_health_checks_total{result=\"ok\"}"));
	assert_non_null(strstr(body, "arbor_exits_total{cause=\"health\"}"));
	free(body);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/",
	    "wait", 1)));
	body = http_get("/metrics");
	assert_null(strstr(body, "arbor_node_healthy{path=\"/n\"}"));
	free(body);
	h_close(w);
	h_close(fd);
}

/* --- reload ---------------------------------------------------------------- */

static char conf_path[600];

static int
setup_config(void **state)
{
	char dir[] = "/tmp/arbor-health-conf-XXXXXX";
	const char *args[] = { "--config", conf_path, NULL };

	assert_non_null(mkdtemp(dir));
	snprintf(conf_path, sizeof conf_path, "%s/tree.json", dir);
	write_file(conf_path, "[{\"name\": \"w\", \"kind\": \"exec\", "
	    "\"argv\": [\"sleep\", \"100\"]}]");
	h_start(&D, args);
	return 0;
}

static int
teardown_config(void **state)
{
	char dir[600];

	h_teardown(state);
	unlink(conf_path);
	snprintf(dir, sizeof dir, "%s", conf_path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	return 0;
}

static void
test_reload_applies_a_health_change_without_a_restart(void **state)
{
	int fd = h_connect(&D);
	json_t *before, *r, *v;

	json_decref(h_wait(fd, "/w", "running", 30000));
	before = inspect(fd, "/w");
	assert_true(json_is_null(json_object_get(before, "health")));
	write_file(conf_path, "[{\"name\": \"w\", \"kind\": \"exec\", "
	    "\"argv\": [\"sleep\", \"100\"], \"health\": {\"exec\": "
	    "[\"true\"], \"interval_ms\": 20}}]");
	r = h_ok(fd, "reload", NULL);
	assert_int_equal(json_array_size(json_object_get(r, "updated")), 1);
	assert_int_equal(json_array_size(json_object_get(r, "restarted")), 0);
	json_decref(r);
	v = wait_health(fd, "/w", "healthy", NULL);
	assert_int_equal(h_num(v, "pid"), h_num(before, "pid"));
	assert_int_equal(h_num(v, "restarts"), 0);
	json_decref(v);
	/* And taken away again. */
	write_file(conf_path, "[{\"name\": \"w\", \"kind\": \"exec\", "
	    "\"argv\": [\"sleep\", \"100\"]}]");
	json_decref(h_ok(fd, "reload", NULL));
	v = inspect(fd, "/w");
	assert_true(json_is_null(json_object_get(v, "health")));
	assert_int_equal(h_num(v, "pid"), h_num(before, "pid"));
	json_decref(v);
	json_decref(before);
	h_close(fd);
}

/* --- signal --------------------------------------------------------------- */

static bool
wait_file(const char *path)
{
	struct stat sb;

	for (int i = 0; i < 2000; i++) {
		if (stat(path, &sb) == 0)
			return true;
		sleep_ms(10);
	}
	return false;
}

static void
test_signal_reaches_the_main_process_or_the_whole_group(void **state)
{
	char got[512], gc[512], cmd[2048];
	int fd = h_connect(&D);
	json_t *r, *v;

	path_in(got, sizeof got, "got");
	path_in(gc, sizeof gc, "gc");
	/* The main process and a child in its group both trap USR2; the
	 * child says when it is ready. */
	snprintf(cmd, sizeof cmd,
	    "trap 'echo main > %s' USR1 USR2; "
	    "(trap 'echo child > %s' USR2; echo up >&$ARBOR_READY_FD; "
	    "while :; do sleep 0.05; done) & "
	    "while :; do sleep 0.05; done",
	    got, gc);
	v = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s,s]}", "name",
	    "p", "kind", "exec", "ready", "fd", "argv", "sh", "-c", cmd));
	json_decref(v);
	json_decref(h_wait(fd, "/p", "running", 30000));
	v = inspect(fd, "/p");

	r = h_ok(fd, "signal", json_pack("{s:s,s:s}", "path", "/p", "signal",
	    "SIGUSR1"));
	assert_string_equal(h_str(r, "signal"), "USR1");
	assert_int_equal(json_array_size(json_object_get(r, "pids")), 1);
	assert_int_equal(json_integer_value(json_array_get(
	    json_object_get(r, "pids"), 0)), h_num(v, "pid"));
	json_decref(r);
	assert_true(wait_file(got));
	unlink(got);

	r = h_ok(fd, "signal", json_pack("{s:s,s:i,s:b}", "path", "/p",
	    "signal", SIGUSR2, "all", 1));
	assert_true(json_array_size(json_object_get(r, "pids")) >= 2);
	json_decref(r);
	assert_true(wait_file(gc));
	assert_true(wait_file(got));
	json_decref(v);

	/* Bad names; nodes with no process. */
	assert_int_equal(h_err(fd, "signal", json_pack("{s:s,s:s}", "path",
	    "/p", "signal", "SIGNOPE"), NULL), -32602);
	assert_int_equal(h_err(fd, "signal", json_pack("{s:s,s:i}", "path",
	    "/p", "signal", 0), NULL), -32602);
	assert_int_equal(h_err(fd, "signal", json_pack("{s:s}", "path", "/p"),
	    NULL), -32602);
	assert_int_equal(h_err(fd, "signal", json_pack("{s:s,s:s}", "path",
	    "/", "signal", "HUP"), NULL), -32003);
	assert_int_equal(h_err(fd, "signal", json_pack("{s:s,s:s}", "path",
	    "/nope", "signal", "HUP"), NULL), -32001);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/p",
	    "wait", 1)));
	assert_int_equal(h_err(fd, "signal", json_pack("{s:s,s:s}", "path",
	    "/p", "signal", "HUP"), NULL), -32003);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s}", "name", "t",
	    "kind", "tick")));
	assert_int_equal(h_err(fd, "signal", json_pack("{s:s,s:s}", "path",
	    "/t", "signal", "HUP"), NULL), -32003);
	h_close(fd);
}

static void
test_arborctl_signal(void **state)
{
	const char *ctl = getenv("ARBORCTL");
	char got[512], cmd[2048];
	int fd = h_connect(&D);

	if (ctl == NULL) {
		h_close(fd);
		skip();
	}
	path_in(got, sizeof got, "got");
	snprintf(cmd, sizeof cmd,
	    "trap 'echo hup > %s' HUP; echo up >&$ARBOR_READY_FD; "
	    "while :; do sleep 0.05; done",
	    got);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s,s]}",
	    "name", "c", "kind", "exec", "ready", "fd", "argv", "sh", "-c",
	    cmd)));
	json_decref(h_wait(fd, "/c", "running", 30000));
	snprintf(cmd, sizeof cmd, "%s -s %s signal --all HUP /c >/dev/null",
	    ctl, D.sock);
	assert_int_equal(system(cmd), 0);
	assert_true(wait_file(got));
	snprintf(cmd, sizeof cmd, "%s -s %s signal BOGUS /c 2>/dev/null", ctl,
	    D.sock);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof cmd, "%s -s %s signal HUP / 2>/dev/null", ctl,
	    D.sock);
	assert_int_equal(WEXITSTATUS(system(cmd)), 1);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/c",
	    "wait", 1)));
	h_close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_http_check_restarts_on_500s_and_the_supervisor_gives_up,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_tcp_check_follows_a_listener, h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_exec_check_exit_status_and_output, h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_exec_check_timeout_kills_its_group_and_leaves_nothing,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_start_grace_keeps_it_starting_and_uncounted, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_checks_in_flight_are_cancelled_with_their_node,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_check_in_flight_dies_with_a_killed_daemon, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_bad_health_specs_are_invalid_params_naming_the_field,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_health_shows_in_tree_metrics_and_events, setup_http,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_reload_applies_a_health_change_without_a_restart,
		    setup_config, teardown_config),
		cmocka_unit_test_setup_teardown(
		    test_signal_reaches_the_main_process_or_the_whole_group,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(test_arborctl_signal, h_setup,
		    h_teardown_files),
	};

	if (getenv("ARBOR_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ARBOR_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
