/*
 * Fault tests: a real arbord on a private socket, fed what a careless or
 * hostile client sends (disconnects mid-request and mid-batch, garbage,
 * NUL bytes, invalid UTF-8, deep nesting, half a message, floods of
 * connections, running out of fds, signals). After each, the daemon must
 * still answer ping, and its fds, RSS and child processes must be back
 * where they were before. Worker faults are tests of the same shape: exec
 * workers that crash-loop, flood their output, close their done fd, fork
 * 200 children or a fork bomb, or run while the daemon gets signals; each
 * worker carries ARBOR_FAULT_TAG=<this test run> in its environment, so
 * what a test started is found (and, on failure, killed) by that marker.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
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

/* --- what a test started: found by its marker ------------------------- */

/* Every worker a test spawns gets ARBOR_FAULT_TAG=f_tag in its
 * environment, and so does whatever it forks; the daemon itself does not. */
static char f_tag[64];

/* A process's environment (NUL-separated variables) into buf; its length,
 * or -1 (gone, or a kernel thread). */
static ssize_t
f_environ(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n, len = 0;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)len < size - 1 && (n = read(fd, buf + len, size - 1 -
	    (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

/* The value of variable name in pid's environment. */
static bool
f_getenv_of(pid_t pid, const char *name, char *val, size_t size)
{
	static char buf[65536];
	ssize_t len = f_environ(pid, buf, sizeof buf), i;
	size_t nl = strlen(name);

	for (i = 0; i < len; i += (ssize_t)strlen(buf + i) + 1)
		if (strncmp(buf + i, name, nl) == 0 && buf[i + nl] == '=') {
			snprintf(val, size, "%s", buf + i + nl + 1);
			return true;
		}
	return false;
}

static bool
f_comm_is(pid_t pid, const char *comm)
{
	char path[64], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, comm) == 0;
}

/* Whether pid's command line, its arguments joined by spaces, is cmd. */
static bool
f_cmdline_is(pid_t pid, const char *cmd)
{
	char path[64], buf[256];
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	if (buf[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strcmp(buf, cmd) == 0;
}

/* Live processes of this run (running cmd, unless NULL); up to max of
 * their pids into pids. A zombie has no environment and is not counted. */
static int
f_tagged(const char *cmd, pid_t *pids, int max)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	char val[64];
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		pid_t p = (pid_t)atol(de->d_name);

		if (p <= 0 || !f_getenv_of(p, "ARBOR_FAULT_TAG", val,
		    sizeof val) || strcmp(val, f_tag) != 0)
			continue;
		if (cmd != NULL && !f_cmdline_is(p, cmd))
			continue;
		if (pids != NULL && n < max)
			pids[n] = p;
		n++;
	}
	closedir(dir);
	return n;
}

/* SIGKILL, by pid, to whatever of this run is still alive; passes until
 * none is left (a fork bomb forks between two scans), at most 2 s. */
static void
f_kill_tagged(void)
{
	pid_t pids[512];
	int i, n, pass;

	for (pass = 0; pass < 200; pass++) {
		if ((n = f_tagged(NULL, pids, 512)) == 0)
			return;
		for (i = 0; i < n && i < 512; i++)
			kill(pids[i], SIGKILL);
		f_sleep_ms(10);
	}
}

/* Processes (zombies too: RLIMIT_NPROC counts them) whose real uid is uid. */
static int
f_uid_procs(uid_t uid)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	char path[64], line[256];
	unsigned long ruid;
	int n = 0;
	FILE *f;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		long p = atol(de->d_name);

		if (p <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/status", p);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "Uid: %lu", &ruid) == 1) {
				n += ruid == (unsigned long)uid;
				break;
			}
		fclose(f);
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
	assert_null(h_recv(fd, 10000));
	close(fd);
}

static void
f_baseline(const struct daemon_proc *d, struct f_baseline *b)
{
	f_ping(d);
	b->fds = h_fd_count_settled(d->pid);
	b->rss_kb = h_rss_kib(d->pid);
	b->children = f_children(d->pid);
	assert_true(b->fds > 0 && b->rss_kb > 0);
}

/* The daemon answers, and holds what it held before the fault. */
static void
f_check_back(const struct daemon_proc *d, const struct f_baseline *b)
{
	int fds = -1, i;
	long rss;

	/* Closed connections first, so a connection limit has room (a
	 * refused one lingers 1 s; 10 s at most on a loaded machine). */
	for (i = 0; i < 1000; i++) {
		if ((fds = h_fd_count(d->pid)) == b->fds)
			break;
		f_sleep_ms(10);
	}
	if (fds != b->fds)
		fail_msg("daemon has %d fds open, %d before", fds, b->fds);
	f_ping(d);
	f_sleep_ms(20);
	assert_int_equal(h_fd_count(d->pid), b->fds);
	rss = h_rss_kib(d->pid);
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
	/* A test that failed half-way may leave workers behind. */
	f_kill_tagged();
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

/* The same for a peer that went on writing after its error: the daemon
 * closes once its lingering is over, and what the peer wrote since is
 * unread then, so the kernel may say ECONNRESET instead of EOF. */
static void
f_expect_closed(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;
	char c;

	assert_int_equal(poll(&pfd, 1, timeout_ms), 1);
	r = recv(fd, &c, 1, 0);
	if (r != 0 && !(r == -1 && errno == ECONNRESET))
		fail_msg("not closed: recv %zd (%s)", r, strerror(errno));
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

	h_skip_under_valgrind("its fds and RSS are valgrind's too");

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
	t0 = h_now_ms();
	f_send(half, "{\"jsonrpc\":\"2.0\",", 17);
	/* Bytes trickling in do not extend a message's time: the daemon
	 * hangs up while they still come. It answers at 300 ms, then reads
	 * and drops for its 1 s of lingering before it closes: 10 s of
	 * trickle leaves a loaded machine its margin and is still far more
	 * than any timeout that trickling would extend. */
	for (i = 0; i < 100; i++) {
		if (send(slow, " ", 1, MSG_NOSIGNAL) != 1)
			break;
		f_sleep_ms(100);
	}
	assert_true(i < 100);
	r = f_recv_one(half, 5000);
	waited = h_now_ms() - t0;
	assert_non_null(r);
	assert_int_equal(f_error_code(r), -32600);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r, "error"), "message")), "idle-timeout"));
	json_decref(r);
	f_expect_eof(half, 5000);
	assert_true(waited >= 250);
	r = f_recv_one(slow, 5000);
	assert_int_equal(f_error_code(r), -32600);
	json_decref(r);
	f_expect_closed(slow, 5000);
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

	h_skip_under_valgrind("its fds and RSS are valgrind's too");

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

	h_skip_under_valgrind("its fds and RSS are valgrind's too");

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

/* --- worker faults ---------------------------------------------------- */

/* An exec node spec whose workers carry this run's marker. */
static json_t *
f_exec(const char *name, const char *const *argv)
{
	json_t *a = json_array();

	for (; *argv != NULL; argv++)
		json_array_append_new(a, json_string(*argv));
	return json_pack("{s:s,s:s,s:o,s:{s:s}}", "name", name, "kind", "exec",
	    "argv", a, "env", "ARBOR_FAULT_TAG", f_tag);
}

#define F_ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static json_t *
f_with(json_t *spec, const char *key, json_int_t value)
{
	json_object_set_new(spec, key, json_integer(value));
	return spec;
}

/* cancel with wait and remove: the view of the terminated node, and how
 * long it took in *ms. */
static json_t *
f_cancel(int fd, const char *path, int64_t *ms)
{
	int64_t t0 = h_now_ms();
	json_t *r = h_ok(fd, "cancel", json_pack("{s:s,s:b,s:b}", "path", path,
	    "wait", 1, "remove", 1));

	if (ms != NULL)
		*ms = h_now_ms() - t0;
	return r;
}

/* The exit of a view: its signal name ("TERM"), or "code N". */
static const char *
f_exit(const json_t *view)
{
	static char buf[64];
	json_t *e = json_object_get(view, "exit");

	if (json_is_string(json_object_get(e, "signal")))
		return json_string_value(json_object_get(e, "signal"));
	snprintf(buf, sizeof buf, "code %lld", (long long)json_integer_value(
	    json_object_get(e, "code")));
	return buf;
}

/* Nothing the test started is alive: a process already sent SIGKILL may
 * take a moment to be gone on a loaded machine, so at most 2 s. */
static void
f_assert_none_left(const char *what)
{
	int n, i;

	for (i = 0; i < 200 && (n = f_tagged(NULL, NULL, 0)) != 0; i++)
		f_sleep_ms(10);
	if (n != 0)
		fail_msg("%s: %d processes of the test are still alive", what,
		    n);
}

/* One exec start and end before the baseline, so what the first one
 * allocates for good (index slots, buffers) is in it. */
static void
f_warm_exec(const struct daemon_proc *d)
{
	int fd = h_connect(d);

	json_decref(h_ok(fd, "spawn", f_exec("warm", F_ARGV("true"))));
	json_decref(f_cancel(fd, "/warm", NULL));
	h_close(fd);
}

static long
f_ticks_ms(unsigned long long ticks)
{
	return (long)(ticks * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
}

/* The delays of a crash loop, as sup_backoff_next() picks them: base
 * doubled per restart up to max, less up to a quarter of jitter. */
static int64_t
f_backoff_delay(int64_t base, int64_t max, int k, bool shortest)
{
	int64_t d = base;

	while (k-- > 0 && d < max)
		d *= 2;
	if (d > max)
		d = max;
	return shortest && d >= 4 ? d - d / 4 : d;
}

/* Restarts that fit in elapsed ms: at most with every delay at its
 * shortest and runs taking no time; at least with every delay at its
 * longest and each run, its end and its start again costing cost ms. */
static int
f_backoff_restarts(int64_t base, int64_t max, int64_t cost, int64_t elapsed,
    bool most)
{
	int64_t t = 0;
	int n = 0;

	for (;;) {
		t += f_backoff_delay(base, max, n, most) + (most ? 0 : cost);
		if (t > elapsed)
			return n;
		n++;
	}
}

static void
a_crash_looping_worker_is_restarted_at_the_backoff_pace_not_in_a_spin(
    void **state)
{
	enum { BASE = 20, MAX = 200, WINDOW = 2000 };
	static const char *const loops[2] = { "/loop_true", "/loop_exit1" };
	struct daemon_proc d;
	struct f_baseline b;
	unsigned long long cpu0, cpu1;
	int64_t t_first, t0, elapsed;
	long ppid, used_ms;
	json_t *child, *v;
	int fd, i, most, least;

	f_start(&d, NULL);
	f_warm_exec(&d);
	f_baseline(&d, &b);
	fd = h_connect(&d);
	/* Two programs that end at once, each under a supervisor that
	 * never gives up within the window: exit 0 restarted because
	 * permanent, exit 1 because transient and abnormal. */
	child = f_with(f_with(f_exec("c", F_ARGV("true")), "backoff_ms", BASE),
	    "backoff_max_ms", MAX);
	json_object_set_new(child, "restart", json_string("permanent"));
	/* The loops run from the spawn on: the most restarts are counted
	 * from before it, the least from after both answers. */
	t_first = h_now_ms();
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:i,s:[o]}",
	    "name", "loop_true", "kind", "supervisor", "max_restarts", 1000,
	    "period_ms", 60000, "children", child)));
	child = f_with(f_with(f_exec("c", F_ARGV("sh", "-c", "exit 1")),
	    "backoff_ms", BASE), "backoff_max_ms", MAX);
	json_object_set_new(child, "restart", json_string("transient"));
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:i,s:[o]}",
	    "name", "loop_exit1", "kind", "supervisor", "max_restarts", 1000,
	    "period_ms", 60000, "children", child)));
	t0 = h_now_ms();
	assert_int_equal(f_stat(d.pid, &ppid, &cpu0), 0);
	f_sleep_ms(WINDOW);
	assert_int_equal(f_stat(d.pid, &ppid, &cpu1), 0);
	elapsed = h_now_ms() - t0;

	used_ms = f_ticks_ms(cpu1 - cpu0);
	if (used_ms * 4 > elapsed)
		fail_msg("daemon used %ld ms of CPU in %lld ms of crash loops",
		    used_ms, (long long)elapsed);
	/* Delays 20, 40, 80, 160, then 200 each: a dozen restarts in 2 s,
	 * where a restart without backoff would make thousands. The most
	 * count the time until the answer that says how many (restarts go
	 * on meanwhile); the least the time until it was asked, with each
	 * run, its end and its start again costing 250 ms, which a loaded
	 * machine under ASan may take: still 5 restarts, past the first
	 * steps of the backoff. */
	for (i = 0; i < 2; i++) {
		char path[64];
		json_int_t restarts;
		int64_t asked = h_now_ms();

		snprintf(path, sizeof path, "%s/c", loops[i]);
		v = h_ok(fd, "inspect", json_pack("{s:s}", "path", path));
		restarts = json_integer_value(json_object_get(v, "restarts"));
		most = f_backoff_restarts(BASE, MAX, 0, h_now_ms() - t_first,
		    true) + 1;
		least = f_backoff_restarts(BASE, MAX, 250, asked - t0, false);
		if (restarts < least || restarts > most)
			fail_msg("%s: %lld restarts in %lld ms, backoff allows "
			    "%d to %d", path, (long long)restarts,
			    (long long)elapsed, least, most);
		print_message("%s: %lld restarts in %lld ms\n", path,
		    (long long)restarts, (long long)elapsed);
		assert_string_not_equal(json_string_value(json_object_get(v,
		    "state")), "failed");
		json_decref(v);
		v = h_ok(fd, "inspect", json_pack("{s:s}", "path", loops[i]));
		assert_string_equal(json_string_value(json_object_get(v,
		    "state")), "running");
		json_decref(v);
	}
	print_message("crash loops: %ld ms CPU in %lld ms; restarts allowed "
	    "%d..%d\n", used_ms, (long long)elapsed, least, most);
	for (i = 0; i < 2; i++)
		json_decref(f_cancel(fd, loops[i], NULL));
	f_assert_none_left("after the crash loops");
	h_close(fd);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* RSS a daemon may reach during a fault: ARBOR_TEST_RSS_KIB when set
 * (sanitizer builds), else the baseline and the usual slack. */
static long
f_rss_bound_kb(const struct f_baseline *b)
{
	const char *env = getenv("ARBOR_TEST_RSS_KIB");

	return env != NULL ? atol(env) : b->rss_kb + F_RSS_SLACK_KB;
}

static void
a_worker_printing_without_end_leaves_rss_bounded_and_ping_fast(void **state)
{
	struct daemon_proc d;
	struct f_baseline b;
	int64_t t0, dt, worst = 0, end;
	long rss, peak = 0;
	json_t *v;
	const char *data;
	int fd, pings = 0;

	f_start(&d, NULL);
	f_warm_exec(&d);
	f_baseline(&d, &b);
	fd = h_connect(&d);
	json_decref(h_ok(fd, "spawn", f_exec("flood", F_ARGV("yes",
	    "arbor-fault-flood"))));
	end = h_now_ms() + 1000;
	while (h_now_ms() < end) {
		t0 = h_now_ms();
		json_decref(h_ok(fd, "ping", NULL));
		if ((dt = h_now_ms() - t0) > worst)
			worst = dt;
		pings++;
		if ((rss = h_rss_kib(d.pid)) > peak)
			peak = rss;
		f_sleep_ms(20);
	}
	/* It really flooded: more than the ring holds, and still runs. The
	 * flood never ends: a daemon it starved would not answer at all,
	 * where one that takes it a read at a time answers in
	 * milliseconds; 2 s leaves a loaded machine its scheduling. */
	v = h_ok(fd, "logs", json_pack("{s:s,s:i}", "path", "/flood", "bytes",
	    200));
	assert_true(json_is_true(json_object_get(v, "truncated")));
	data = json_string_value(json_object_get(v, "data"));
	assert_non_null(data);
	assert_non_null(strstr(data, "arbor-fault-flood\narbor-fault-flood\n"));
	json_decref(v);
	v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/flood"));
	assert_string_equal(json_string_value(json_object_get(v, "state")),
	    "running");
	json_decref(v);
	print_message("flood: %d pings, slowest %lld ms, peak RSS %ld kB "
	    "(baseline %ld kB, bound %ld kB)\n", pings, (long long)worst, peak,
	    b.rss_kb, f_rss_bound_kb(&b));
	if (worst >= 2000)
		fail_msg("slowest ping took %lld ms during the flood",
		    (long long)worst);
	if (peak > f_rss_bound_kb(&b))
		fail_msg("daemon RSS reached %ld kB during the flood (from "
		    "%ld kB)", peak, b.rss_kb);
	v = f_cancel(fd, "/flood", NULL);
	assert_string_equal(f_exit(v), "TERM");
	json_decref(v);
	f_assert_none_left("after the flood");
	h_close(fd);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* Waits (up to 10 s) until the worker pid runs sleep without its done fd.
 * The spawn answer can come before the child has exec'd: until then its
 * environment is arbord's, without ARBOR_DONE_FD. */
static void
f_wait_deaf(pid_t pid)
{
	char val[16] = "", path[64];
	int i;

	for (i = 0; i < 1000; i++) {
		if (val[0] == '\0' &&
		    f_getenv_of(pid, "ARBOR_DONE_FD", val, sizeof val))
			snprintf(path, sizeof path, "/proc/%ld/fd/%s", (long)pid,
			    val);
		if (val[0] != '\0' && f_comm_is(pid, "sleep") &&
		    access(path, F_OK) != 0)
			return;
		f_sleep_ms(10);
	}
	if (val[0] == '\0')
		fail_msg("worker %ld has no ARBOR_DONE_FD", (long)pid);
	fail_msg("worker %ld still holds its done fd %s", (long)pid, val);
}

static void
a_worker_that_closed_its_done_fd_is_still_stopped_by_signal_within_grace(
    void **state)
{
	/* The shell closes the fd $ARBOR_DONE_FD names, then execs sleep,
	 * which ignores TERM when the shell was told to. */
	static const char deaf[] = "eval \"exec ${ARBOR_DONE_FD}<&-\"; "
	    "exec sleep 1000";
	static const char stubborn[] = "trap '' TERM; "
	    "eval \"exec ${ARBOR_DONE_FD}<&-\"; exec sleep 1000";
	struct daemon_proc d;
	struct f_baseline b;
	int64_t ms;
	json_t *v;
	int fd;

	f_start(&d, NULL);
	f_warm_exec(&d);
	f_baseline(&d, &b);
	fd = h_connect(&d);

	/* Deaf to the done fd: the stop signal still ends it, at once. */
	v = h_ok(fd, "spawn", f_with(f_exec("deaf", F_ARGV("sh", "-c", deaf)),
	    "shutdown_ms", 3000));
	f_wait_deaf((pid_t)json_integer_value(json_object_get(v, "pid")));
	json_decref(v);
	v = f_cancel(fd, "/deaf", &ms);
	assert_string_equal(f_exit(v), "TERM");
	if (ms >= 3000)
		fail_msg("deaf worker took %lld ms to stop, grace 3000 ms",
		    (long long)ms);
	json_decref(v);
	f_assert_none_left("deaf worker");

	/* Deaf and ignoring TERM: SIGKILL when the grace runs out. */
	v = h_ok(fd, "spawn", f_with(f_exec("stubborn", F_ARGV("sh", "-c",
	    stubborn)), "shutdown_ms", 400));
	f_wait_deaf((pid_t)json_integer_value(json_object_get(v, "pid")));
	json_decref(v);
	/* Not before the grace, and at its end, not after the sleep 1000:
	 * 5 s of slack for the SIGKILL and the reap on a loaded machine. */
	v = f_cancel(fd, "/stubborn", &ms);
	assert_string_equal(f_exit(v), "KILL");
	if (ms < 400 || ms > 400 + 5000)
		fail_msg("stubborn worker stopped after %lld ms, grace 400 ms",
		    (long long)ms);
	json_decref(v);
	f_assert_none_left("deaf worker ignoring TERM");
	h_close(fd);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

static void
a_worker_with_200_children_leaves_none_after_cancel(void **state)
{
	struct daemon_proc d;
	struct f_baseline b;
	int64_t ms;
	json_t *v;
	int fd, n = 0;

	f_start(&d, NULL);
	f_warm_exec(&d);
	f_baseline(&d, &b);
	fd = h_connect(&d);
	json_decref(h_ok(fd, "spawn", f_with(f_exec("brood", F_ARGV("sh", "-c",
	    "for i in $(seq 200); do sleep 1000 & done; wait")), "shutdown_ms",
	    5000)));
	for (int64_t until = h_now_ms() + 30000; (n = f_tagged("sleep 1000",
	    NULL, 0)) < 200 && h_now_ms() < until;)
		f_sleep_ms(10);
	if (n != 200)
		fail_msg("the worker started %d of its 200 children", n);
	v = f_cancel(fd, "/brood", &ms);
	assert_string_equal(f_exit(v), "TERM");
	json_decref(v);
	/* Terminated means the whole group is gone: no waiting here. */
	f_assert_none_left("200 children");
	if (ms >= 5000)
		fail_msg("200 children took %lld ms to stop", (long long)ms);
	print_message("200 children: cancelled in %lld ms\n", (long long)ms);
	h_close(fd);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* A fork bomb, run the way an operator would contain one: as an
 * unprivileged user (RLIMIT_NPROC does not bind root), under
 * prlimit --nproc. The limit counts every process of that uid. */
static void
a_fork_bomb_under_rlimit_nproc_is_contained_and_cancelled(void **state)
{
	static const char bomb[] = "b() { b | b & }; b; exec sleep 1000";
	struct daemon_proc d;
	struct f_baseline b;
	struct passwd *pw;
	char reuid[32], regid[32], nproc[32];
	int64_t end, t0, dt, worst = 0, ms;
	int fd, before, limit, peak = 0, n, i;
	json_t *v, *spec;

	/* As root, setpriv drops to nobody; without setpriv, prlimit or the
	 * user, the bomb cannot be bounded safely and is not run. */
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL ||
	    system("setpriv --reuid=nobody --clear-groups prlimit --nproc=8:8 "
	    "true >/dev/null 2>&1") != 0) {
		print_message("fork bomb: needs root, user nobody, setpriv and "
		    "prlimit; skipped\n");
		skip();
		return;
	}
	before = f_uid_procs(pw->pw_uid);
	limit = before + 64;
	snprintf(reuid, sizeof reuid, "--reuid=%lu", (unsigned long)pw->pw_uid);
	snprintf(regid, sizeof regid, "--regid=%lu", (unsigned long)pw->pw_gid);
	snprintf(nproc, sizeof nproc, "--nproc=%d:%d", limit, limit);

	f_start(&d, NULL);
	f_warm_exec(&d);
	f_baseline(&d, &b);
	fd = h_connect(&d);
	spec = f_with(f_exec("bomb", F_ARGV("setpriv", reuid, regid,
	    "--clear-groups", "prlimit", nproc, "sh", "-c", bomb)),
	    "shutdown_ms", 1000);
	json_object_set_new(spec, "cwd", json_string("/"));
	json_decref(h_ok(fd, "spawn", spec));
	/* Counted every 5 ms, pinged every 20 ms, for 1 s. */
	end = h_now_ms() + 1000;
	for (i = 0; h_now_ms() < end; i++) {
		if ((n = f_uid_procs(pw->pw_uid)) > peak)
			peak = n;
		if (i % 4 == 0) {
			t0 = h_now_ms();
			json_decref(h_ok(fd, "ping", NULL));
			if ((dt = h_now_ms() - t0) > worst)
				worst = dt;
		}
		f_sleep_ms(5);
	}
	print_message("fork bomb: peak %d processes of uid %lu (limit %d), "
	    "slowest ping %lld ms\n", peak, (unsigned long)pw->pw_uid, limit,
	    (long long)worst);
	if (peak > limit)
		fail_msg("the bomb reached %d processes, limit %d", peak, limit);
	/* The limit bit: the shells said they could not fork ("Cannot
	 * fork"), whatever the samples above happened to catch. */
	v = h_ok(fd, "logs", json_pack("{s:s,s:i}", "path", "/bomb", "bytes",
	    65536));
	assert_non_null(strstr(json_string_value(json_object_get(v, "data")),
	    "fork"));
	json_decref(v);
	/* Served while the bomb takes the CPU (as the flood test). */
	if (worst >= 2000)
		fail_msg("slowest ping took %lld ms during the fork bomb",
		    (long long)worst);
	v = f_cancel(fd, "/bomb", &ms);
	json_decref(v);
	f_assert_none_left("the fork bomb");
	/* Killed shells may be zombies a moment longer (RLIMIT_NPROC counts
	 * them), until whoever they were left to reaps them: 5 s at most. */
	for (i = 0; i < 500 && (n = f_uid_procs(pw->pw_uid)) > before; i++)
		f_sleep_ms(10);
	if (n > before)
		fail_msg("%d processes of uid %lu left (%d before the bomb)", n,
		    (unsigned long)pw->pw_uid, before);
	print_message("fork bomb: cancelled in %lld ms\n", (long long)ms);
	h_close(fd);
	f_check_back(&d, &b);
	f_stop_clean(&d, SIGTERM);
}

/* Whether pid is still the process (not a zombie) that started at start. */
static bool
f_same_alive(pid_t pid, unsigned long long start)
{
	char path[64], buf[1024], *p, st;
	unsigned long long s;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return false;
	/* state, then 18 fields, then starttime (field 22). */
	if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
	    "%*d %*d %*d %*d %*d %*d %llu", &st, &s) != 2)
		return false;
	return st != 'Z' && (start == 0 || s == start);
}

static unsigned long long
f_starttime(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long s = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
		    "%*u %*d %*d %*d %*d %*d %*d %llu", &s);
	return s;
}

static void
hup_and_pipe_leave_workers_running_and_term_stops_all_with_exit_0(
    void **state)
{
	static const char stats[] = "{\"jsonrpc\":\"2.0\",\"id\":999,"
	    "\"method\":\"stats\"}\n";
	static const char *const names[4] = { "sleeper", "stubborn", "talker",
	    "brood" };
	struct daemon_proc d;
	struct {
		pid_t pid;
		unsigned long long start;
	} procs[64];
	json_t *v, *children, *spec;
	json_int_t pids[4];
	DIR *dir;
	struct dirent *de;
	int fd, i, nprocs = 0;
	long ppid;

	f_start(&d, NULL);
	fd = h_connect(&d);
	children = json_array();
	json_array_append_new(children, f_exec("sleeper", F_ARGV("sleep",
	    "1000")));
	json_array_append_new(children, f_with(f_exec("stubborn", F_ARGV("sh",
	    "-c", "trap '' TERM HUP PIPE; exec sleep 1000")), "shutdown_ms",
	    300));
	json_array_append_new(children, f_exec("talker", F_ARGV("sh", "-c",
	    "while :; do echo tick; sleep 0.01; done")));
	json_array_append_new(children, f_exec("brood", F_ARGV("sh", "-c",
	    "for i in $(seq 20); do sleep 1000 & done; wait")));
	spec = json_pack("{s:s,s:s,s:o}", "name", "svc", "kind", "supervisor",
	    "children", children);
	json_decref(h_ok(fd, "spawn", spec));
	json_decref(h_ok(fd, "wait", json_pack("{s:s,s:s,s:i}", "path", "/svc",
	    "for", "running", "timeout_ms", 5000)));
	for (i = 0; i < 1000 && f_tagged("sleep 1000", NULL, 0) < 22; i++)
		f_sleep_ms(10);
	assert_int_equal(f_tagged("sleep 1000", NULL, 0), 22);
	v = h_ok(fd, "inspect", json_pack("{s:s,s:i}", "path", "/svc", "depth",
	    1));
	for (i = 0; i < 4; i++)
		pids[i] = json_integer_value(json_object_get(json_array_get(
		    json_object_get(v, "children"), (size_t)i), "pid"));
	json_decref(v);

	for (i = 0; i < 50; i++) {
		kill(d.pid, i % 2 ? SIGHUP : SIGPIPE);
		json_decref(h_ok(fd, "ping", NULL));
	}
	h_send_raw(fd, stats, sizeof stats - 1);
	for (i = 0; i < 50; i++)
		kill(d.pid, i % 2 ? SIGHUP : SIGPIPE);
	json_decref(h_recv(fd, 10000));
	/* The same processes run: nothing was stopped or restarted. */
	for (i = 0; i < 4; i++) {
		char path[64];

		snprintf(path, sizeof path, "/svc/%s", names[i]);
		v = h_ok(fd, "inspect", json_pack("{s:s}", "path", path));
		assert_string_equal(json_string_value(json_object_get(v,
		    "state")), "running");
		assert_int_equal(json_integer_value(json_object_get(v, "pid")),
		    pids[i]);
		assert_int_equal(json_integer_value(json_object_get(v,
		    "restarts")), 0);
		json_decref(v);
	}
	assert_int_equal(f_tagged("sleep 1000", NULL, 0), 22);
	h_close(fd);

	/* Everything the daemon started, the sentinel included, by pid. */
	assert_non_null(dir = opendir("/proc"));
	while ((de = readdir(dir)) != NULL && nprocs < 64) {
		pid_t p = (pid_t)atol(de->d_name);

		if (p > 0 && f_stat(p, &ppid, NULL) == 0 && ppid == d.pid) {
			procs[nprocs].pid = p;
			procs[nprocs++].start = f_starttime(p);
		}
	}
	closedir(dir);
	assert_true(nprocs >= 5);	/* the sentinel and 4 workers */
	f_stop_clean(&d, SIGTERM);
	f_assert_none_left("after SIGTERM");
	for (i = 0; i < nprocs; i++) {
		int j;

		for (j = 0; j < 500 && f_same_alive(procs[i].pid,
		    procs[i].start); j++)
			f_sleep_ms(10);
		if (j == 500)
			fail_msg("process %ld of the daemon outlived it",
			    (long)procs[i].pid);
	}
}

/* Where name=... starts in pid's environment; -1 when it is not there. */
static ssize_t
f_env_offset(pid_t pid, const char *name)
{
	static char buf[65536];
	ssize_t len = f_environ(pid, buf, sizeof buf), i;
	size_t nl = strlen(name);

	for (i = 0; i < len; i += (ssize_t)strlen(buf + i) + 1)
		if (strncmp(buf + i, name, nl) == 0 && buf[i + nl] == '=')
			return i;
	return -1;
}

/* Issue 11: the sentinel read only the first 16 KiB of an environment, and
 * a shell re-exports its variables in its own order, so one 20 KB variable
 * in a worker's env pushed ARBOR_DAEMON_PID out of sight and a grandchild
 * that left the worker's group (setsid) outlived kill -9 of arbord. */
static void
kill_9_leaves_no_setsid_grandchild_behind_a_20k_variable(void **state)
{
	struct daemon_proc d;
	unsigned long long start;
	json_t *spec;
	char *big;
	pid_t gc[4];
	ssize_t off;
	int fd, i, n = 0, status;

	assert_non_null(big = malloc(20 * 1024 + 1));
	memset(big, 'x', 20 * 1024);
	big[20 * 1024] = '\0';
	f_start(&d, NULL);
	fd = h_connect(&d);
	spec = f_exec("escapee", F_ARGV("sh", "-c",
	    "setsid sleep 1000 & wait"));
	json_object_set_new(json_object_get(spec, "env"), "ARBOR_FAULT_BIG",
	    json_string(big));
	free(big);
	json_decref(h_ok(fd, "spawn", spec));
	h_close(fd);
	for (i = 0; i < 1000 && (n = f_tagged("sleep 1000", gc, 4)) < 1; i++)
		f_sleep_ms(10);
	assert_int_equal(n, 1);
	start = f_starttime(gc[0]);
	/* The case of the issue: the marker past the first 16 KiB. With
	 * another /bin/sh it may sit elsewhere; the test still holds. */
	off = f_env_offset(gc[0], "ARBOR_DAEMON_PID");
	assert_true(off >= 0);
	if (off < 16384)
		print_message("note: ARBOR_DAEMON_PID at byte %ld of the "
		    "grandchild's environment, not past 16 KiB\n", (long)off);

	kill(d.pid, SIGKILL);
	assert_int_equal(waitpid(d.pid, &status, 0), d.pid);
	memset(&f_current, 0, sizeof f_current);
	unlink(d.sock);
	rmdir(d.dir);
	for (i = 0; i < 500 && f_same_alive(gc[0], start); i++)
		f_sleep_ms(10);
	if (i == 500) {
		kill(gc[0], SIGKILL);
		fail_msg("setsid grandchild %ld outlived kill -9 of arbord by "
		    "5 s (ARBOR_DAEMON_PID at byte %ld of its environment)",
		    (long)gc[0], (long)off);
	}
	f_assert_none_left("after kill -9");
}

/* --- HTTP and fds ---------------------------------------------------- */

/* A TCP connection to 127.0.0.1:port, not waited for (many at once). */
static int
f_tcp_connect(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0 &&
	    errno != EINPROGRESS)
		fail_msg("connect to port %d: %s", port, strerror(errno));
	return fd;
}


/* The soft and hard "Max open files" of pid. */
static void
f_nofile_of(pid_t pid, long *soft, long *hard)
{
	char path[64], line[256];
	FILE *f;

	*soft = *hard = -1;
	snprintf(path, sizeof path, "/proc/%ld/limits", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "Max open files %ld %ld", soft, hard) == 2)
			break;
	fclose(f);
}

/* A sample of GET /metrics, over a fresh connection. */
static long long
f_metric(int port, const char *name)
{
	static char buf[65536];
	char req[128];
	size_t len = 0, n = strlen(name);
	ssize_t r;
	const char *p;
	int fd = f_tcp_connect(port);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	snprintf(req, sizeof req, "GET /metrics HTTP/1.0\r\nHost: "
	    "127.0.0.1:%d\r\n\r\n", port);
	assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	pfd.events = POLLIN;
	while (len < sizeof buf - 1 && poll(&pfd, 1, 5000) == 1 &&
	    (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, name)) != NULL; p += n)
		if ((p == buf || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	fail_msg("no %s in /metrics: %.200s", name, buf);
	return -1;
}

/* Counts into *refused the connections of fds (n) that arbord refused
 * (answered and closed: readable) and were not counted yet. */
static void
f_count_refused(const int *fds, int n, bool *seen, int *refused)
{
	for (int i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
		char buf[512];

		if (!seen[i] && poll(&pfd, 1, 0) == 1 &&
		    read(fds[i], buf, sizeof buf) >= 0) {
			seen[i] = true;
			(*refused)++;
		}
	}
}

/*
 * With a hard fd limit of 128, arbord raises its own soft limit to it
 * (workers get back the 64 it was started with) and keeps a reserve HTTP
 * never takes: 160 idle HTTP connections are partly refused (and counted),
 * and meanwhile the control socket serves 20 clients and 5 exec workers
 * start, none failing with EMFILE.
 */
static void
idle_http_connections_leave_fds_for_the_socket_and_spawns(void **state)
{
	static const struct rlimit lim = { 64, 128 };
	char portarg[64], name[16];
	/* Idle connections are not timed out while they are counted. */
	const char *args[] = { "--http", portarg, "--http-request-timeout",
	    "120s", NULL };
	struct daemon_proc d;
	int port = h_free_port(), http[160], ctl[20], i, refused = 0, fd;
	bool was_refused[160] = { false };
	long soft, hard;
	json_t *r;

	h_skip_under_valgrind("its nofile limit and fds are valgrind's too");

	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", port);
	h_child_nofile = &lim;
	f_start(&d, args);
	h_child_nofile = NULL;
	f_nofile_of(d.pid, &soft, &hard);
	assert_int_equal(soft, 128);
	assert_int_equal(hard, 128);
	for (i = 0; i < 160; i++)
		http[i] = f_tcp_connect(port);
	/* The refused ones are told and closed; the others stay open. The
	 * daemon takes them at its pace: until at least the 32 it has no
	 * fds for are refused (10 s at most), then what else it refused
	 * once its fds have settled. */
	for (int64_t until = h_now_ms() + 10000;;) {
		f_count_refused(http, 160, was_refused, &refused);
		if (refused >= 160 - 128 || h_now_ms() > until)
			break;
		f_sleep_ms(10);
	}
	fd = h_fd_count_settled(d.pid);
	f_count_refused(http, 160, was_refused, &refused);
	if (refused < 160 - 128 || refused == 160)
		fail_msg("%d of 160 HTTP connections refused", refused);
	if (fd >= 128 - 16)
		fail_msg("arbord holds %d fds, into its reserve", fd);
	/* The socket serves every client while HTTP is full. */
	for (i = 0; i < 20; i++) {
		ctl[i] = h_connect(&d);
		r = h_ok(ctl[i], "ping", NULL);
		json_decref(r);
	}
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "w%d", i);
		r = h_call(ctl[0], "spawn", f_exec(name, F_ARGV("sleep",
		    "60")));
		if (json_object_get(r, "error") != NULL)
			fail_msg("spawn %s: %s", name, json_string_value(
			    json_object_get(json_object_get(r, "error"),
			    "message")));
		json_decref(r);
	}
	/* Workers get the limit arbord was started with. */
	r = h_ok(ctl[0], "inspect", json_pack("{s:s}", "path", "/w0"));
	f_nofile_of((pid_t)json_integer_value(json_object_get(r, "pid")),
	    &soft, &hard);
	json_decref(r);
	assert_int_equal(soft, 64);
	assert_int_equal(hard, 128);
	for (i = 0; i < 160; i++)
		close(http[i]);
	for (i = 1; i < 20; i++)
		h_close(ctl[i]);
	fd = ctl[0];
	/* Once arbord has seen them go: until then it has no fd for
	 * /metrics either, and would refuse it too. */
	h_fd_count_settled(d.pid);
	assert_true(f_metric(port, "arbor_http_refused_total{reason=\"fds\"}")
	    >= refused);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "/w%d", i);
		json_decref(f_cancel(fd, name, NULL));
	}
	h_close(fd);
	f_stop_clean(&d, SIGTERM);
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
		F_CASE(idle_http_connections_leave_fds_for_the_socket_and_spawns),
		F_CASE(sighup_and_sigpipe_at_any_time_do_not_kill_the_daemon),
		F_CASE(sigterm_and_sigint_shut_down_cleanly_with_exit_0),
		F_CASE(a_crash_looping_worker_is_restarted_at_the_backoff_pace_not_in_a_spin),
		F_CASE(a_worker_printing_without_end_leaves_rss_bounded_and_ping_fast),
		F_CASE(a_worker_that_closed_its_done_fd_is_still_stopped_by_signal_within_grace),
		F_CASE(a_worker_with_200_children_leaves_none_after_cancel),
		F_CASE(a_fork_bomb_under_rlimit_nproc_is_contained_and_cancelled),
		F_CASE(hup_and_pipe_leave_workers_running_and_term_stops_all_with_exit_0),
		F_CASE(kill_9_leaves_no_setsid_grandchild_behind_a_20k_variable),
	};

	/* Keep ASan's quarantine small in the daemon, so RSS means what
	 * it holds. */
	if (getenv("ASAN_OPTIONS") != NULL) {
		char opts[1024];

		snprintf(opts, sizeof opts, "%s:quarantine_size_mb=16",
		    getenv("ASAN_OPTIONS"));
		setenv("ASAN_OPTIONS", opts, 1);
	}
	/* ARBOR_TEST_FILTER=*kill_9*: only the tests whose names match. */
	if (getenv("ARBOR_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ARBOR_TEST_FILTER"));
	signal(SIGPIPE, SIG_IGN);
	snprintf(f_tag, sizeof f_tag, "faults-%ld", (long)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
