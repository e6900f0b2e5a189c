/*
 * Fault tests: a real arbord on a private socket, fed what a careless or
 * hostile client sends (disconnects mid-request and mid-batch, garbage,
 * NUL bytes, invalid UTF-8, deep nesting, half a message, floods of
 * connections, running out of fds, signals). After each, the daemon must
 * still answer ping, and its fds, RSS and child processes must be back
 * where they were before. Worker faults (exec) slot in as more tests of
 * the same shape: a fault, then f_check_back().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define F_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define F_ASAN 1
#endif
#endif

/* Memory a daemon may keep after a fault (allocator caches, and under
 * ASan its quarantine), beyond what it held after a first round. */
#ifdef F_ASAN
#define F_RSS_SLACK_KB (48 * 1024)
#else
#define F_RSS_SLACK_KB (6 * 1024)
#endif

struct f_baseline {
	int fds;
	long rss_kb;
	int children;
};

static void
f_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int64_t
f_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long
f_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Fields of /proc/PID/stat after the command: state is field 3. */
static int
f_stat(pid_t pid, long *ppid, unsigned long long *cpu_ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long utime, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime */
	if (sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
	    "%llu", ppid, &utime, &stime) != 3)
		return -1;
	if (cpu_ticks != NULL)
		*cpu_ticks = utime + stime;
	return 0;
}

/* Processes whose parent is pid (the sentinel, workers). */
static int
f_children(pid_t pid)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	long ppid;
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		pid_t p = (pid_t)atol(de->d_name);

		if (p > 0 && f_stat(p, &ppid, NULL) == 0 && ppid == pid)
			n++;
	}
	closedir(dir);
	return n;
}

static void
f_ping(const struct daemon_proc *d)
{
	int fd = h_connect(d);
	json_t *r = h_ok(fd, "ping", NULL);

	assert_int_equal(json_integer_value(json_object_get(r, "pid")),
	    d->pid);
	json_decref(r);
	/* Read to EOF after shutdown(), so the harness drops its buffer. */
	shutdown(fd, SHUT_WR);
	assert_null(h_recv(fd, 5000));
	close(fd);
}

static void
f_baseline(const struct daemon_proc *d, struct f_baseline *b)
{
	f_ping(d);
	f_sleep_ms(50);
	b->fds = h_fd_count(d->pid);
	b->rss_kb = f_rss_kb(d->pid);
	b->children = f_children(d->pid);
	assert_true(b->fds > 0 && b->rss_kb > 0);
}

/* The daemon answers, and holds what it held before the fault. */
static void
f_check_back(const struct daemon_proc *d, const struct f_baseline *b)
{
	int fds = -1, i;
	long rss;

	/* Closed connections first, so a connection limit has room. */
	for (i = 0; i < 300; i++) {
		if ((fds = h_fd_count(d->pid)) == b->fds)
			break;
		f_sleep_ms(10);
	}
	if (fds != b->fds)
		fail_msg("daemon has %d fds open, %d before", fds, b->fds);
	f_ping(d);
	f_sleep_ms(20);
	assert_int_equal(h_fd_count(d->pid), b->fds);
	rss = f_rss_kb(d->pid);
	if (rss > b->rss_kb + F_RSS_SLACK_KB)
		fail_msg("daemon RSS grew from %ld kB to %ld kB", b->rss_kb,
		    rss);
	assert_int_equal(f_children(d->pid), b->children);
}

/* A copy of the running test's daemon: f_teardown stops it (by its pid,
 * never another) when the test failed before f_stop_clean. */
static struct daemon_proc f_current;

static void
f_start(struct daemon_proc *d, const char *const *args)
{
	h_start(d, args);
	f_current = *d;
}

static int
f_teardown(void **state)
{
	if (f_current.pid > 0)
		h_stop(&f_current);
	memset(&f_current, 0, sizeof f_current);
	return 0;
}

/* Stops the daemon with signal sig; it must exit 0 (LeakSanitizer makes
 * a leak a non-zero exit) and leave no child behind. */
static void
f_stop_clean(struct daemon_proc *d, int sig)
{
	pid_t pid = d->pid;
	int status = -1, i;

	kill(pid, sig);
	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		f_sleep_ms(10);
	}
	if (i == 1000) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("arbord did not exit after signal %d", sig);
	}
	d->pid = 0;
	if (f_current.pid == pid)
		memset(&f_current, 0, sizeof f_current);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("arbord ended with status %#x after signal %d", status,
		    sig);
	unlink(d->sock);
	rmdir(d->dir);
}

/* Plain socket, no harness buffer: for tests with many connections. */
static int
f_connect(const struct daemon_proc *d)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, d->sock);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
		fail_msg("connect: %s", strerror(errno));
	return fd;
}

static void
f_send(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fail_msg("send: %s", strerror(errno));
		p += w;
		len -= (size_t)w;
	}
}

/* One line, for connections that get exactly one; NULL on EOF/timeout. */
static json_t *
f_recv_one(int fd, int timeout_ms)
{
	char buf[4096];
	size_t len = 0;

	while (len < sizeof buf - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return NULL;
		if ((r = recv(fd, buf + len, sizeof buf - 1 - len, 0)) <= 0)
			return NULL;
		len += (size_t)r;
		if (buf[len - 1] == '\n')
			return json_loadb(buf, len - 1, 0, NULL);
	}
	return NULL;
}

/* The connection was closed by the daemon: EOF, not a timeout. */
static void
f_expect_eof(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	assert_int_equal(poll(&pfd, 1, timeout_ms), 1);
	assert_int_equal(recv(fd, &c, 1, 0), 0);
}

static int
f_error_code(const json_t *resp)
{
	json_t *err = json_object_get(resp, "error");

	if (err == NULL)
		fail_msg("expected an error");
	return (int)json_integer_value(json_object_get(err, "code"));
}


/* --- disconnects ------------------------------------------------------ */

static void
f_disconnect_round(const struct daemon_proc *d)
{
	static const char half[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"meth";
	static const char wait_req[] = "{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"method\":\"wait\",\"params\":{\"path\":\"/s\","
	    "\"timeout_ms\":10000}}\n";
	static const char batch[] = "[{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"wait\",\"params\":{\"path\":\"/s\",\"timeout_ms\":10000}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"inspect\"}]\n";
	static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\"}\n";
	char *many;
	size_t i, n = 2000;
	int fd;

	for (i = 0; i < 30; i++) {
		fd = f_connect(d);
		f_send(fd, half, sizeof half - 1);
		close(fd);
		fd = f_connect(d);
		f_send(fd, wait_req, sizeof wait_req - 1);
		close(fd);
		fd = f_connect(d);
		f_send(fd, batch, sizeof batch - 1);
		close(fd);
		/* Cut off in the middle of a batch. */
		fd = f_connect(d);
		f_send(fd, batch, sizeof batch / 2);
		close(fd);
	}
	/* Pipelined requests whose answers are never read. */
	many = malloc(n * (sizeof ping - 1));
	assert_non_null(many);
	for (i = 0; i < n; i++)
		memcpy(many + i * (sizeof ping - 1), ping, sizeof ping - 1);
	for (i = 0; i < 5; i++) {
		fd = f_connect(d);
		f_send(fd, many, n * (sizeof ping - 1));
		close(fd);
	}
	free(many);
}

static void
clients_that_hang_up_mid_request_or_batch_leave_nothing_behind(void **state)
{
	struct daemon_proc d;
	struct f_baseline b;
	json_t *spec;
	int fd, i;

	f_start(&d, NULL);
	fd = h_connect(&d);
	spec = json_pack("{s:s,s:s}", "name", "s", "kind", "sleep");
	json_decref(h_ok(fd, "spawn", spec));
	close(fd);
	f_disconnect_round(&d);		/* first use of every path */
	f_baseline(&d, &b);
	for (i = 0; i < 3; i++)
		f_disconnect_round(&d);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* --- bad bytes -------------------------------------------------------- */

static void
garbage_nul_and_invalid_utf8_are_answered_and_the_connection_stays(
    void **state)
{
	struct daemon_proc d;
	struct f_baseline b;
	unsigned seed = 12345;
	char line[512];
	json_t *r;
	int fd, i, j, n;
	static const char nul[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\"\0}\n";
	static const char utf8[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"p\xff\xfeng\"}\n";
	static const char lone[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\",\"params\":{\"x\":\"\\ud800\"}}\n";

	f_start(&d, NULL);
	f_baseline(&d, &b);
	fd = f_connect(&d);
	for (i = 0; i < 300; i++) {
		n = 1 + (int)(rand_r(&seed) % (sizeof line - 2));
		line[0] = '#';
		for (j = 1; j < n; j++) {
			line[j] = (char)(1 + rand_r(&seed) % 255);
			if (line[j] == '\n')
				line[j] = ' ';
		}
		line[n] = '\n';
		f_send(fd, line, (size_t)n + 1);
		r = f_recv_one(fd, 5000);
		assert_non_null(r);
		assert_int_equal(f_error_code(r), -32700);
		json_decref(r);
	}
	f_send(fd, nul, sizeof nul - 1);
	r = f_recv_one(fd, 5000);
	assert_int_equal(f_error_code(r), -32700);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r, "error"), "message")), "NUL"));
	json_decref(r);
	f_send(fd, utf8, sizeof utf8 - 1);
	r = f_recv_one(fd, 5000);
	assert_int_equal(f_error_code(r), -32700);
	json_decref(r);
	f_send(fd, lone, sizeof lone - 1);
	r = f_recv_one(fd, 5000);
	assert_int_equal(f_error_code(r), -32700);
	json_decref(r);
	close(fd);

	/* The same connection still works after all that. */
	fd = h_connect(&d);
	for (i = 0; i < 20; i++)
		h_send_raw(fd, "\x01\x02garbage\n", 10);
	for (i = 0; i < 20; i++) {
		r = h_recv(fd, 5000);
		assert_int_equal(f_error_code(r), -32700);
		json_decref(r);
	}
	json_decref(h_ok(fd, "ping", NULL));
	close(fd);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* A name cut in the middle of a character in the error message used to
 * make the answer unencodable, and the daemon hung up instead. */
static void
a_long_multibyte_name_is_answered_with_invalid_params(void **state)
{
	struct daemon_proc d;
	char path[512];
	const char *kind;
	int fd, i, len;

	f_start(&d, NULL);
	fd = h_connect(&d);
	len = snprintf(path, sizeof path, "/");
	for (i = 0; i < 100; i++)
		len += snprintf(path + len, sizeof path - (size_t)len,
		    "\xc3\xa9");
	assert_int_equal(h_err(fd, "inspect", json_pack("{s:s}", "path",
	    path), &kind), -32602);
	assert_string_equal(kind, "invalid_params");
	json_decref(h_ok(fd, "ping", NULL));
	close(fd);
	f_stop_clean(&d, SIGTERM);
}

static void
nesting_100000_deep_is_a_parse_error_not_a_stack_overflow(void **state)
{
	struct daemon_proc d;
	struct f_baseline b;
	size_t n = 100000, i;
	char *buf = malloc(2 * n + 2);
	json_t *r, *spec, *cur, *child;
	const char *kind;
	int fd;

	assert_non_null(buf);
	f_start(&d, NULL);
	f_baseline(&d, &b);
	fd = h_connect(&d);
	/* Unclosed, then closed, arrays; then objects. */
	memset(buf, '[', n);
	buf[n] = '\n';
	h_send_raw(fd, buf, n + 1);
	r = h_recv(fd, 10000);
	assert_int_equal(f_error_code(r), -32700);
	json_decref(r);
	memset(buf + n, ']', n);
	buf[2 * n] = '\n';
	h_send_raw(fd, buf, 2 * n + 1);
	r = h_recv(fd, 10000);
	assert_int_equal(f_error_code(r), -32700);
	json_decref(r);
	for (i = 0; i + 5 <= n; i += 5)
		memcpy(buf + i, "{\"a\":", 5);
	buf[i] = '\n';
	h_send_raw(fd, buf, i + 1);
	r = h_recv(fd, 10000);
	assert_int_equal(f_error_code(r), -32700);
	json_decref(r);
	free(buf);

	/* Specs: children 40 deep, more than the 32 levels a tree has. */
	spec = json_pack("{s:s,s:s}", "name", "top", "kind", "supervisor");
	cur = spec;
	for (i = 0; i < 40; i++) {
		child = json_pack("{s:s,s:s}", "name", "c", "kind",
		    "supervisor");
		json_object_set_new(cur, "children", json_pack("[o]", child));
		cur = child;
	}
	assert_int_equal(h_err(fd, "spawn", spec, &kind), -32602);
	json_decref(h_ok(fd, "ping", NULL));
	close(fd);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* --- idle timeout ----------------------------------------------------- */

static void
half_a_message_then_silence_is_closed_after_the_idle_timeout(void **state)
{
	static const char *const args[] = { "--idle-timeout", "300ms", NULL };
	struct daemon_proc d;
	struct f_baseline b;
	int64_t t0, waited;
	json_t *r;
	int half, idle, slow, i;

	f_start(&d, args);
	f_baseline(&d, &b);
	idle = h_connect(&d);		/* connected, says nothing */
	half = f_connect(&d);
	slow = f_connect(&d);
	t0 = f_now_ms();
	f_send(half, "{\"jsonrpc\":\"2.0\",", 17);
	/* Bytes trickling in do not extend a message's time: the daemon
	 * hangs up while they still come. */
	for (i = 0; i < 20; i++) {
		if (send(slow, " ", 1, MSG_NOSIGNAL) != 1)
			break;
		f_sleep_ms(100);
	}
	assert_true(i < 20);
	r = f_recv_one(half, 3000);
	waited = f_now_ms() - t0;
	assert_non_null(r);
	assert_int_equal(f_error_code(r), -32600);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r, "error"), "message")), "idle-timeout"));
	json_decref(r);
	f_expect_eof(half, 3000);
	assert_true(waited >= 250);
	r = f_recv_one(slow, 3000);
	assert_int_equal(f_error_code(r), -32600);
	json_decref(r);
	f_expect_eof(slow, 3000);
	close(half);
	close(slow);

	/* An idle connection with nothing pending is never timed out, and
	 * whole messages sent slowly one after another are fine. */
	f_sleep_ms(400);
	for (i = 0; i < 3; i++) {
		json_decref(h_ok(idle, "ping", NULL));
		f_sleep_ms(200);
	}
	close(idle);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* --- floods ----------------------------------------------------------- */

/* Enough fds for n connections here and in the daemon, or skip. */
static int
f_want_fds(rlim_t n)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur >= n)
		return 1;
	if (rl.rlim_max < n)
		return 0;
	rl.rlim_cur = n;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

static void
a_thousand_connections_at_once_are_all_served(void **state)
{
	static const char *const args[] = { "--max-connections", "2000",
	    NULL };
	static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	    "\"ping\"}\n";
	enum { N = 1000 };
	struct daemon_proc d;
	struct f_baseline b;
	int *fds, i, round;
	json_t *r;

	if (!f_want_fds(N + 200)) {
		skip();
		return;
	}
	fds = calloc(N, sizeof *fds);
	assert_non_null(fds);
	f_start(&d, args);
	for (round = 0; round < 2; round++) {
		if (round == 1)
			f_baseline(&d, &b);
		for (i = 0; i < N; i++)
			fds[i] = f_connect(&d);
		for (i = 0; i < N; i++)
			f_send(fds[i], ping, sizeof ping - 1);
		for (i = 0; i < N; i++) {
			r = f_recv_one(fds[i], 10000);
			if (r == NULL)
				fail_msg("connection %d got no answer", i);
			assert_int_equal(json_integer_value(json_object_get(r,
			    "id")), 7);
			json_decref(r);
		}
		for (i = 0; i < N; i++)
			close(fds[i]);
	}
	f_check_back(&d, &b);
	free(fds);
	f_stop_clean(&d, SIGTERM);
}

static void
connections_over_the_limit_get_a_limit_error_and_are_closed(void **state)
{
	static const char *const args[] = { "--max-connections", "10", NULL };
	static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\"}\n";
	struct daemon_proc d;
	struct f_baseline b;
	int fds[30], i;
	json_t *r;

	f_start(&d, args);
	f_baseline(&d, &b);
	for (i = 0; i < 30; i++) {
		fds[i] = f_connect(&d);
		if (i < 10) {
			f_send(fds[i], ping, sizeof ping - 1);
			r = f_recv_one(fds[i], 5000);
			assert_non_null(json_object_get(r, "result"));
		} else {
			r = f_recv_one(fds[i], 5000);
			assert_int_equal(f_error_code(r), -32004);
			assert_true(json_is_null(json_object_get(r, "id")));
			f_expect_eof(fds[i], 5000);
		}
		json_decref(r);
	}
	for (i = 0; i < 30; i++)
		close(fds[i]);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

static void
out_of_fds_pauses_accept_without_spinning_and_recovers(void **state)
{
	struct daemon_proc d;
	struct f_baseline b;
	struct rlimit rl;
	unsigned long long t0, t1;
	long ppid;
	int fds[60], i;

	f_start(&d, NULL);
	f_baseline(&d, &b);
	/* Room for a few connections only. */
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, NULL, &rl), 0);
	rl.rlim_cur = (rlim_t)b.fds + 6;
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0);
	for (i = 0; i < 60; i++)
		fds[i] = f_connect(&d);
	f_sleep_ms(300);
	assert_int_equal(f_stat(d.pid, &ppid, &t0), 0);
	f_sleep_ms(1000);
	assert_int_equal(f_stat(d.pid, &ppid, &t1), 0);
	/* A spinning accept loop burns the whole second (100 ticks). */
	if (t1 - t0 > 20)
		fail_msg("daemon used %llu ticks of CPU in 1 s out of fds",
		    t1 - t0);
	assert_true(h_fd_count(d.pid) <= b.fds + 6);

	for (i = 0; i < 60; i++)
		close(fds[i]);
	f_sleep_ms(300);
	rl.rlim_cur = rl.rlim_max > 1024 ? 1024 : rl.rlim_max;
	assert_int_equal(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* --- signals ---------------------------------------------------------- */

static void
sighup_and_sigpipe_at_any_time_do_not_kill_the_daemon(void **state)
{
	static const char stats[] = "{\"jsonrpc\":\"2.0\",\"id\":999,"
	    "\"method\":\"stats\"}\n";
	struct daemon_proc d;
	struct f_baseline b;
	int fd, i;

	f_start(&d, NULL);
	f_baseline(&d, &b);
	fd = h_connect(&d);
	for (i = 0; i < 50; i++) {
		kill(d.pid, i % 2 ? SIGHUP : SIGPIPE);
		json_decref(h_ok(fd, "ping", NULL));
	}
	/* A burst while a request is in flight. */
	h_send_raw(fd, stats, sizeof stats - 1);
	for (i = 0; i < 50; i++)
		kill(d.pid, i % 2 ? SIGHUP : SIGPIPE);
	json_decref(h_recv(fd, 5000));
	json_decref(h_ok(fd, "ping", NULL));
	close(fd);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

static void
sigterm_and_sigint_shut_down_cleanly_with_exit_0(void **state)
{
	struct daemon_proc d;
	json_t *spec;
	int fd;

	f_start(&d, NULL);
	fd = h_connect(&d);
	spec = json_pack("{s:s,s:s,s:[{s:s,s:s},{s:s,s:s}]}", "name", "sup",
	    "kind", "supervisor", "children", "name", "a", "kind", "sleep",
	    "name", "b", "kind", "tick");
	json_decref(h_ok(fd, "spawn", spec));
	f_stop_clean(&d, SIGTERM);
	close(fd);

	f_start(&d, NULL);
	fd = h_connect(&d);
	json_decref(h_ok(fd, "ping", NULL));
	f_stop_clean(&d, SIGINT);
	close(fd);
}

int
main(void)
{
#define F_CASE(f) cmocka_unit_test_teardown(f, f_teardown)
	const struct CMUnitTest tests[] = {
		F_CASE(clients_that_hang_up_mid_request_or_batch_leave_nothing_behind),
		F_CASE(garbage_nul_and_invalid_utf8_are_answered_and_the_connection_stays),
		F_CASE(a_long_multibyte_name_is_answered_with_invalid_params),
		F_CASE(nesting_100000_deep_is_a_parse_error_not_a_stack_overflow),
		F_CASE(half_a_message_then_silence_is_closed_after_the_idle_timeout),
		F_CASE(a_thousand_connections_at_once_are_all_served),
		F_CASE(connections_over_the_limit_get_a_limit_error_and_are_closed),
		F_CASE(out_of_fds_pauses_accept_without_spinning_and_recovers),
		F_CASE(sighup_and_sigpipe_at_any_time_do_not_kill_the_daemon),
		F_CASE(sigterm_and_sigint_shut_down_cleanly_with_exit_0),
	};

	/* Keep ASan's quarantine small in the daemon, so RSS means what
	 * it holds. */
	if (getenv("ASAN_OPTIONS") != NULL) {
		char opts[1024];

		snprintf(opts, sizeof opts, "%s:quarantine_size_mb=16",
		    getenv("ASAN_OPTIONS"));
		setenv("ASAN_OPTIONS", opts, 1);
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
