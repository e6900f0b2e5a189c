/*
 * sd_notify for exec workers, seen by a client: ready "notify" and the
 * ordered start, STATUS in inspect, /v1/tree and the events, who is heard
 * (the main process, MAINPID=) and who is not, the watchdog (pets, its
 * silence, WATCHDOG=trigger, WATCHDOG_USEC), EXTEND_TIMEOUT_USEC, ERRNO,
 * RELOADING and STOPPING, fds sent along, and real programs written for
 * systemd (systemd-notify, redis-server --supervised systemd). The worker
 * is tests/helpers/notify, a script of sd_notify actions.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static char helper[1024];

/* What a gate runs: sh, as the same process (exec), waits for the file
 * $1, then execs the helper ($0) with the actions after it. */
static const char gate_sh[] =
    "while [ ! -e \"$1\" ]; do sleep 0.01; done; shift; exec \"$0\" \"$@\"";

/* The helper's path, then the actions, as a JSON argv. "gate:NAME" is
 * not the helper's: the actions after it wait until the test made the
 * file NAME in the daemon's directory (gate_open), still in the main
 * process. A step the test must see is held so, not timed by a sleep. */
static json_t *
script(const char *first, ...)
{
	json_t *a = json_array();
	va_list ap;

	json_array_append_new(a, json_string(helper));
	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
		char path[512];

		if (strncmp(s, "gate:", 5) != 0) {
			json_array_append_new(a, json_string(s));
			continue;
		}
		snprintf(path, sizeof path, "%s/%s", D.dir, s + 5);
		json_array_append_new(a, json_string("exec:sh"));
		json_array_append_new(a, json_string("-c"));
		json_array_append_new(a, json_string(gate_sh));
		json_array_append_new(a, json_string(helper));
		json_array_append_new(a, json_string(path));
	}
	va_end(ap);
	return a;
}

/* Lets the actions held by "gate:NAME" go. */
static void
gate_open(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", D.dir, name);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
}

/* sh -c TEXT with the helper as $0. */
static json_t *
shell(const char *text)
{
	return json_pack("[s,s,s,s]", "sh", "-c", text, helper);
}

static json_t *
spawn_exec(int fd, const char *name, json_t *argv, const char *ready,
    json_t *extra)
{
	json_t *spec = json_pack("{s:s,s:s,s:o}", "name", name, "kind", "exec",
	    "argv", argv);

	if (ready != NULL)
		json_object_set_new(spec, "ready", json_string(ready));
	if (extra != NULL) {
		json_object_update(spec, extra);
		json_decref(extra);
	}
	return h_ok(fd, "spawn", spec);
}

static json_t *
inspect(int fd, const char *path)
{
	return h_ok(fd, "inspect", json_pack("{s:s}", "path", path));
}


static json_t *
notify_of(const json_t *v)
{
	json_t *o = json_object_get(v, "notify");

	assert_non_null(o);
	return o;
}

/* Polls until the node's notify.KEY (or, with key NULL, status) is
 * what is wanted; the view that showed it. */
static json_t *
poll_notify(int fd, const char *path, const char *key, json_t *want, int ms)
{
	json_t *v = NULL;

	for (int i = 0; i < ms / 10; i++) {
		json_t *got;

		v = inspect(fd, path);
		got = key == NULL ? json_object_get(v, "status") :
		                    json_object_get(notify_of(v), key);
		if (got != NULL && json_equal(got, want)) {
			json_decref(want);
			return v;
		}
		json_decref(v);
		usleep(10000);
	}
	v = inspect(fd, path);
	fail_msg("%s: %s never became %s: %s", path, key ? key : "status",
	    json_dumps(want, JSON_ENCODE_ANY),
	    json_dumps(v, JSON_COMPACT));
	return NULL;
}

static bool
contains(const char *s, const char *what)
{
	return s != NULL && strstr(s, what) != NULL;
}

/* Polls path's logs until they hold what; the answer that showed it. */
static json_t *
logs_until(int fd, const char *path, const char *what, int ms)
{
	json_t *logs = NULL;

	for (int i = 0; i < ms / 10; i++) {
		logs = h_ok(fd, "logs", json_pack("{s:s}", "path", path));
		if (contains(h_str(logs, "data"), what))
			return logs;
		json_decref(logs);
		usleep(10000);
	}
	logs = h_ok(fd, "logs", json_pack("{s:s}", "path", path));
	fail_msg("%s: no '%s' in its logs: %s", path, what,
	    h_str(logs, "data"));
	return NULL;
}

static void
test_ready_notify_orders_the_start(void **state)
{
	int fd = h_connect(&D);
	json_t *a = json_pack("{s:s,s:s,s:s,s:o}", "name", "a", "kind", "exec",
	    "ready", "notify", "argv",
	    script("gate:ready", "send:READY=1", "sleep:-1", NULL));
	json_t *v;

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[o,{s:s,s:s}]}",
	    "name", "s", "kind", "supervisor", "children", a, "name", "b",
	    "kind", "sleep")));
	v = inspect(fd, "/s/a");
	assert_string_equal(h_str(v, "state"), "starting");
	assert_true(json_is_null(json_object_get(v, "status")));
	json_decref(v);
	/* b waits its turn: a is not ready until READY=1, which a sends
	 * only once the test saw both waiting. */
	v = inspect(fd, "/s/b");
	assert_true(json_is_null(json_object_get(v, "started_ms")));
	json_decref(v);
	gate_open("ready");
	v = h_wait(fd, "/s/b", "running", 20000);
	assert_string_equal(h_str(v, "state"), "running");
	json_decref(v);
	v = inspect(fd, "/s/a");
	assert_string_equal(h_str(v, "state"), "running");
	json_decref(v);
	close(fd);
}

static void
test_no_ready_fails_at_the_start_timeout(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	json_decref(spawn_exec(fd, "n", script("sleep:-1", NULL), "notify",
	    json_pack("{s:i,s:s}", "start_timeout_ms", 300, "restart",
	        "temporary")));
	v = h_wait(fd, "/n", "terminated", 20000);
	assert_string_equal(h_str(v, "state"), "failed");
	assert_string_equal(h_str(v, "cause"), "start timeout");
	json_decref(v);
	close(fd);
}

/* GET path on 127.0.0.1:port; the body as JSON. */
static json_t *
http_get_json(int port, const char *target)
{
	int fd = h_tcp_connect(port, 1000);
	char req[512], buf[65536], *body;
	size_t len = 0;
	ssize_t n;
	json_t *v;

	snprintf(req, sizeof req,
	    "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n", target, port);
	h_send_raw(fd, req, strlen(req));
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 10000) != 1)
			fail_msg("no answer from the HTTP server");
		if ((n = read(fd, buf + len, sizeof buf - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	h_close(fd);
	buf[len] = '\0';
	assert_non_null(body = strstr(buf, "\r\n\r\n"));
	v = json_loads(body + 4, 0, NULL);
	assert_non_null(v);
	return v;
}

static void
test_status_is_in_inspect_the_tree_and_the_events(void **state)
{
	struct daemon_proc d;
	char portarg[32];
	int port = h_free_port(), fd, wfd;
	const char *args[] = { "--http", portarg, NULL };
	json_t *v, *ev;
	bool seen = false;

	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
	h_start(&d, args);
	fd = h_connect(&d);
	wfd = h_connect(&d);
	json_decref(h_ok(wfd, "watch", json_pack("{s:s}", "path", "/")));
	json_decref(spawn_exec(fd, "x",
	    script("send:READY=1\nSTATUS=serving 2 clients", "sleep:-1",
	        NULL),
	    "notify", NULL));
	json_decref(h_wait(fd, "/x", "running", 20000));
	v = inspect(fd, "/x");
	assert_string_equal(h_str(v, "status"), "serving 2 clients");
	json_decref(v);
	v = http_get_json(port, "/v1/tree?path=/x");
	assert_string_equal(h_str(v, "status"), "serving 2 clients");
	json_decref(v);
	v = http_get_json(port, "/v1/tree?depth=1");
	assert_string_equal(h_str(json_array_get(json_object_get(v,
	                                             "children"),
	                              0),
	                        "status"),
	    "serving 2 clients");
	json_decref(v);
	/* The change is an event of its own (sent before the wait above
	 * was answered: 10 s is only a bound on a slow daemon's writes). */
	for (int i = 0; i < 50 && !seen; i++) {
		json_t *p;

		if ((ev = h_recv(wfd, 10000)) == NULL)
			break;
		p = json_object_get(ev, "params");
		if (p != NULL && contains(h_str(p, "type"), "status")) {
			assert_string_equal(h_str(p, "path"), "/x");
			assert_string_equal(h_str(p, "status"),
			    "serving 2 clients");
			seen = true;
		}
		json_decref(ev);
	}
	assert_true(seen);
	close(wfd);
	close(fd);
	assert_int_equal(h_stop(&d), 0);
}

static void
test_a_foreign_sender_is_ignored_and_counted(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	/* The shell is the main process; the helper it runs first is its
	 * child, not heard; the one it execs is the main process. */
	json_decref(spawn_exec(fd, "f",
	    shell("\"$0\" send:STATUS=foreign exit:0; "
	          "exec \"$0\" send:STATUS=main sleep:300 send:READY=1 "
	          "sleep:-1"),
	    "notify", NULL));
	v = h_wait(fd, "/f", "running", 20000);
	assert_string_equal(h_str(v, "status"), "main");
	assert_int_equal(h_num(notify_of(v), "ignored"), 1);
	json_decref(v);
	close(fd);
}

static void
test_mainpid_moves_who_is_heard(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	char gate[512];
	int i;

	/* A background child is named MAINPID= by the main process; then
	 * it is heard. It speaks once the test saw MAINPID= taken (before,
	 * it would be a foreign sender). */
	snprintf(gate, sizeof gate, "%s/child", D.dir);
	json_decref(spawn_exec(fd, "m",
	    json_pack("[s,s,s,s,s]", "sh", "-c",
	        "(while [ ! -e \"$1\" ]; do sleep 0.01; done; "
	        "exec \"$0\" send:STATUS=from-child sleep:-1) & "
	        "export CHILD=$!; "
	        "exec \"$0\" \"send:MAINPID={child}\nREADY=1\" sleep:-1",
	        helper, gate),
	    "notify", NULL));
	json_decref(h_wait(fd, "/m", "running", 20000));
	for (i = 0; i < 1000; i++) {
		json_int_t main_pid;

		v = inspect(fd, "/m");
		main_pid = h_num(notify_of(v), "main_pid");
		if (main_pid > 0 && main_pid != h_num(v, "pid"))
			break;
		json_decref(v);
		v = NULL;
		usleep(10000);
	}
	assert_non_null(v);
	json_decref(v);
	gate_open("child");
	v = poll_notify(fd, "/m", NULL, json_string("from-child"), 10000);
	assert_true(h_num(notify_of(v), "main_pid") > 0);
	assert_true(h_num(notify_of(v), "main_pid") != h_num(v, "pid"));
	assert_int_equal(h_num(notify_of(v), "ignored"), 0);
	json_decref(v);
	close(fd);
}

/* Whether an event of the node's history has a cause holding what: read
 * until one does, 10 s at most between two events (a pause of a slow
 * daemon is not the end of the history). */
static bool
history_has_cause(int fd, const char *path, const char *what)
{
	json_t *r = h_ok(fd, "watch", json_pack("{s:s,s:i}", "path", path,
	    "since", 0));
	bool found = false;
	json_t *ev;

	json_decref(r);
	while (!found && (ev = h_recv(fd, 10000)) != NULL) {
		json_t *p = json_object_get(ev, "params");

		if (p != NULL && contains(h_str(p, "cause"), what))
			found = true;
		json_decref(ev);
	}
	return found;
}

static void
test_watchdog_pets_keep_it_up_and_its_silence_is_a_failure(void **state)
{
	int fd = h_connect(&D), wfd = h_connect(&D);
	json_t *w = json_pack("{s:s,s:s,s:i,s:s,s:i,s:o}", "name", "w", "kind",
	    "exec", "watchdog_ms", 300, "restart", "permanent", "backoff_ms",
	    50, "argv", script("pet:50:40", "sleep:-1", NULL));
	json_t *v, *st;

	/* Temporary: failed, /s stays so (the root restarts a transient
	 * one 100 ms later, and /s/w with it, under the checks below). */
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:i,s:i,s:[o]}",
	    "name", "s", "kind", "supervisor", "restart", "temporary",
	    "max_restarts", 1, "period_ms", 60000, "children", w)));
	/* Three intervals in, still petted (for 2 s, so a late look still
	 * falls within the pets): up, never restarted. */
	usleep(900000);
	v = inspect(fd, "/s/w");
	assert_string_equal(h_str(v, "state"), "running");
	assert_int_equal(h_num(v, "restarts"), 0);
	assert_int_equal(h_num(notify_of(v), "watchdog_ms"), 300);
	json_decref(v);
	/* Then silent: a failure, restarted once, and the second one is
	 * over the intensity (1): the supervisor fails. */
	v = h_wait(fd, "/s", "terminated", 30000);
	assert_string_equal(h_str(v, "state"), "failed");
	assert_string_equal(h_str(v, "cause"), "restart intensity exceeded");
	json_decref(v);
	v = inspect(fd, "/s/w");
	assert_int_equal(h_num(v, "restarts"), 1);
	/* SIGABRT, as systemd's WatchdogSignal=. */
	assert_string_equal(h_str(json_object_get(v, "exit"), "signal"),
	    "ABRT");
	json_decref(v);
	assert_true(history_has_cause(wfd, "/s/w", "watchdog timeout"));
	st = h_ok(fd, "stats", NULL);
	assert_true(h_num(json_object_get(st, "exits"), "watchdog") >= 1);
	json_decref(st);
	close(wfd);
	close(fd);
}

static void
test_watchdog_trigger_fails_at_once(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	json_decref(spawn_exec(fd, "t",
	    script("send:READY=1", "sleep:200", "send:WATCHDOG=trigger",
	        "sleep:-1", NULL),
	    "notify",
	    json_pack("{s:s,s:i}", "restart", "temporary", "shutdown_ms",
	        2000)));
	v = h_wait(fd, "/t", "terminated", 20000);
	assert_true(contains(h_str(v, "cause"), "watchdog"));
	assert_string_equal(h_str(json_object_get(v, "exit"), "signal"),
	    "ABRT");
	json_decref(v);
	close(fd);
}

static void
test_watchdog_usec_changes_the_interval(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	/* Longer than the spec's 2 s: no pet needed for a while. The
	 * program says so at once; the spec's 2 s leave it time to, on a
	 * loaded machine. */
	json_decref(spawn_exec(fd, "l",
	    script("send:WATCHDOG_USEC=10000000", "sleep:-1", NULL), NULL,
	    json_pack("{s:i}", "watchdog_ms", 2000)));
	v = poll_notify(fd, "/l", "watchdog_ms", json_integer(10000), 10000);
	json_decref(v);
	usleep(2500000);
	v = inspect(fd, "/l");
	assert_string_equal(h_str(v, "state"), "running");
	assert_int_equal(h_num(v, "restarts"), 0);
	json_decref(v);
	/* Without watchdog_ms, the program can turn one on. */
	json_decref(spawn_exec(fd, "o",
	    script("send:READY=1\nWATCHDOG_USEC=100000", "sleep:-1", NULL),
	    "notify", json_pack("{s:s}", "restart", "temporary")));
	v = h_wait(fd, "/o", "terminated", 20000);
	assert_true(contains(h_str(v, "cause"), "watchdog"));
	json_decref(v);
	close(fd);
}

static void
test_watchdog_env_names_the_worker(void **state)
{
	int fd = h_connect(&D);
	char want[64];
	json_t *v, *logs;
	json_int_t pid;

	v = spawn_exec(fd, "e",
	    script("env:WATCHDOG_USEC", "env:WATCHDOG_PID", "env:NOTIFY_SOCKET",
	        "pet:50:1000", NULL),
	    NULL, json_pack("{s:i}", "watchdog_ms", 1000));
	pid = h_num(v, "pid");
	json_decref(v);
	/* NOTIFY_SOCKET is printed last. */
	logs = logs_until(fd, "/e", "NOTIFY_SOCKET=", 10000);
	assert_true(contains(h_str(logs, "data"), "WATCHDOG_USEC=1000000\n"));
	snprintf(want, sizeof want, "WATCHDOG_PID=%lld\n", (long long)pid);
	assert_true(contains(h_str(logs, "data"), want));
	assert_true(contains(h_str(logs, "data"), "NOTIFY_SOCKET=@"));
	json_decref(logs);
	/* Without notify nor watchdog, none of it. */
	json_decref(spawn_exec(fd, "p",
	    script("env:NOTIFY_SOCKET", "env:WATCHDOG_USEC", NULL), NULL,
	    NULL));
	logs = logs_until(fd, "/p", "WATCHDOG_USEC unset", 10000);
	assert_true(contains(h_str(logs, "data"), "NOTIFY_SOCKET unset"));
	assert_true(contains(h_str(logs, "data"), "WATCHDOG_USEC unset"));
	json_decref(logs);
	v = inspect(fd, "/p");
	assert_null(json_object_get(v, "status"));
	assert_null(json_object_get(v, "notify"));
	json_decref(v);
	close(fd);
}

static void
test_extend_timeout_usec_extends_the_start_timeout(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	/* It asks at once for 5 s, then is ready after 1.5 s, past its
	 * 1 s start timeout (which leaves it time to ask, when loaded). */
	json_decref(spawn_exec(fd, "x",
	    script("send:EXTEND_TIMEOUT_USEC=5000000", "sleep:1500",
	        "send:READY=1", "sleep:-1", NULL),
	    "notify",
	    json_pack("{s:i,s:s}", "start_timeout_ms", 1000, "restart",
	        "temporary")));
	v = h_wait(fd, "/x", "running", 20000);
	assert_string_equal(h_str(v, "state"), "running");
	assert_int_equal(h_num(v, "restarts"), 0);
	json_decref(v);
	close(fd);
}

static void
test_extend_timeout_usec_extends_the_grace(void **state)
{
	int fd = h_connect(&D);
	char cmd[1024];
	int64_t t0;
	json_t *v;

	/* It ignores SIGTERM and, once stopping (the gate is opened after
	 * the cancel: asked while running, it would not count), asks for
	 * 4 s more than its 1.5 s of grace. */
	snprintf(cmd, sizeof cmd, "trap '' TERM; exec \"$0\" send:READY=1 "
	    "exec:sh -c '%s' \"$0\" %s/stopping "
	    "send:EXTEND_TIMEOUT_USEC=4000000 sleep:-1", gate_sh, D.dir);
	json_decref(spawn_exec(fd, "g", shell(cmd), "notify",
	    json_pack("{s:i}", "shutdown_ms", 1500)));
	json_decref(h_wait(fd, "/g", "running", 20000));
	t0 = h_now_ms();
	json_decref(h_ok(fd, "cancel", json_pack("{s:s}", "path", "/g")));
	gate_open("stopping");
	/* Past its grace, still stopping. */
	if (h_now_ms() - t0 < 2500)
		usleep((useconds_t)(2500 - (h_now_ms() - t0)) * 1000);
	v = inspect(fd, "/g");
	assert_string_equal(h_str(v, "state"), "stopping");
	json_decref(v);
	v = h_wait(fd, "/g", "terminated", 20000);
	assert_string_equal(h_str(json_object_get(v, "exit"), "signal"),
	    "KILL");
	json_decref(v);
	close(fd);
}

static void
test_errno_is_shown_and_named_in_the_cause(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	/* It exits once the test saw it running with its errno. */
	json_decref(spawn_exec(fd, "r",
	    script("send:READY=1\nERRNO=2\nSTATUS=cannot open the file",
	        "gate:exit", "exit:1", NULL),
	    "notify", json_pack("{s:s}", "restart", "temporary")));
	v = poll_notify(fd, "/r", "errno", json_integer(2), 10000);
	assert_string_equal(h_str(v, "state"), "running");
	json_decref(v);
	gate_open("exit");
	v = h_wait(fd, "/r", "terminated", 20000);
	assert_true(contains(h_str(v, "cause"), "exited with code 1"));
	assert_true(contains(h_str(v, "cause"), "errno 2 ENOENT"));
	/* What it said last stays with the ended run. */
	assert_string_equal(h_str(v, "status"), "cannot open the file");
	json_decref(v);
	close(fd);
}

static void
test_reloading_and_stopping_are_shown(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	/* Each step once the test saw the one before. */
	json_decref(spawn_exec(fd, "z",
	    script("send:READY=1", "gate:reload",
	        "send:RELOADING=1\nMONOTONIC_USEC=1", "gate:ready",
	        "send:READY=1", "gate:stop", "send:STOPPING=1", "sleep:-1",
	        NULL),
	    "notify", NULL));
	json_decref(h_wait(fd, "/z", "running", 20000));
	gate_open("reload");
	json_decref(poll_notify(fd, "/z", "reloading", json_true(), 10000));
	gate_open("ready");
	json_decref(poll_notify(fd, "/z", "reloading", json_false(), 10000));
	gate_open("stop");
	v = poll_notify(fd, "/z", "stopping", json_true(), 10000);
	/* Said, not done: the node runs until the program ends. */
	assert_string_equal(h_str(v, "state"), "running");
	json_decref(v);
	close(fd);
}

static void
test_fds_sent_along_are_closed(void **state)
{
	int fd = h_connect(&D), before, after;
	json_t *v;

	json_decref(spawn_exec(fd, "d",
	    script("send:READY=1", "sleep:600", "sendfd:FDSTORE=1",
	        "sendfd:FDSTORE=1\nFDNAME=x", "sendfd:BARRIER=1", "sleep:-1",
	        NULL),
	    "notify", NULL));
	json_decref(h_wait(fd, "/d", "running", 20000));
	before = h_fd_count_settled(D.pid);
	v = poll_notify(fd, "/d", "fds_closed", json_integer(3), 5000);
	json_decref(v);
	after = h_fd_count_settled(D.pid);
	assert_int_equal(after, before);
	close(fd);
}

static bool
on_path(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static void
test_systemd_notify_runs_unchanged(void **state)
{
	int fd;
	json_t *v;

	if (!on_path("systemd-notify")) {
		print_message("systemd-notify not installed (Debian's "
		              "systemd package); skipped\n");
		skip();
	}
	/* It sends on behalf of its parent (the main process here) only
	 * with the privilege to: as another user it is a foreign sender. */
	if (getuid() != 0) {
		print_message("systemd-notify speaks for its parent only as "
		              "root; skipped\n");
		skip();
	}
	fd = h_connect(&D);
	json_decref(spawn_exec(fd, "sn",
	    json_pack("[s,s,s]", "sh", "-c",
	        "systemd-notify --ready --status='up and running' && "
	        "exec sleep 1000"),
	    "notify", NULL));
	v = h_wait(fd, "/sn", "running", 20000);
	assert_string_equal(h_str(v, "state"), "running");
	assert_string_equal(h_str(v, "status"), "up and running");
	json_decref(v);
	close(fd);
}

static void
test_redis_supervised_systemd_runs_unchanged(void **state)
{
	char port[16];
	int fd;
	json_t *v;

	if (!on_path("redis-server")) {
		print_message("redis-server not installed (scripts/deps.sh "
		              "installs it); skipped\n");
		skip();
	}
	snprintf(port, sizeof port, "%d", h_free_port());
	fd = h_connect(&D);
	json_decref(spawn_exec(fd, "redis",
	    json_pack("[s,s,s,s,s,s,s,s,s,s,s]", "redis-server",
	        "--supervised", "systemd", "--port", port, "--bind",
	        "127.0.0.1", "--save", "", "--dir", D.dir),
	    "notify", json_pack("{s:i}", "start_timeout_ms", 10000)));
	v = h_wait(fd, "/redis", "running", 30000);
	assert_string_equal(h_str(v, "state"), "running");
	assert_true(contains(h_str(v, "status"), "Ready"));
	json_decref(v);
	v = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/redis", "wait",
	    1));
	assert_string_equal(h_str(v, "state"), "exited");
	/* redis says STOPPING=1 on SIGTERM. */
	assert_true(json_is_true(json_object_get(notify_of(v), "stopping")));
	json_decref(v);
	close(fd);
}

static void
test_spec_fields_are_checked(void **state)
{
	int fd = h_connect(&D);
	json_t *v;

	assert_int_equal(h_err(fd, "spawn",
	                     json_pack("{s:s,s:s,s:[s],s:i}", "name", "a",
	                         "kind", "exec", "argv", "true", "watchdog_ms",
	                         -1),
	                     NULL),
	    -32602);
	assert_int_equal(h_err(fd, "spawn",
	                     json_pack("{s:s,s:s,s:i}", "name", "a", "kind",
	                         "sleep", "watchdog_ms", 100),
	                     NULL),
	    -32602);
	assert_int_equal(h_err(fd, "spawn",
	                     json_pack("{s:s,s:s,s:[s],s:s}", "name", "a",
	                         "kind", "exec", "argv", "true", "ready",
	                         "sd_notify"),
	                     NULL),
	    -32602);
	v = inspect(fd, "/");
	assert_int_equal(h_num(v, "child_count"), 0);
	json_decref(v);
	close(fd);
}

int
main(void)
{
	const char *top = getenv("abs_top_builddir");
	struct stat st;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_notify_orders_the_start,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_no_ready_fails_at_the_start_timeout, h_setup,
		    h_teardown_files),
		cmocka_unit_test(
		    test_status_is_in_inspect_the_tree_and_the_events),
		cmocka_unit_test_setup_teardown(
		    test_a_foreign_sender_is_ignored_and_counted, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(test_mainpid_moves_who_is_heard,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_watchdog_pets_keep_it_up_and_its_silence_is_a_failure,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_watchdog_trigger_fails_at_once, h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_watchdog_usec_changes_the_interval, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_watchdog_env_names_the_worker, h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_extend_timeout_usec_extends_the_start_timeout, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_extend_timeout_usec_extends_the_grace, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_errno_is_shown_and_named_in_the_cause, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_reloading_and_stopping_are_shown, h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(test_fds_sent_along_are_closed,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_systemd_notify_runs_unchanged, h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_redis_supervised_systemd_runs_unchanged, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(test_spec_fields_are_checked,
		    h_setup, h_teardown_files),
	};

	snprintf(helper, sizeof helper, "%s/tests/helpers/notify",
	    top != NULL ? top : ".");
	if (stat(helper, &st) == -1) {
		fprintf(stderr, "test_notify: %s not built\n", helper);
		return 77;
	}
	/* ARBOR_TEST_FILTER=*watchdog*: only the tests whose names match. */
	if (getenv("ARBOR_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ARBOR_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
