/*
 * bench: the client of bench/run (issue 7). One program, one subcommand per
 * measure; each talks newline-delimited JSON-RPC to arbord over its unix
 * socket (pipelined, with a window, responses parsed with jansson and
 * matched by id) and prints one raw JSON line per measure and run:
 *   {"bench","measure","unit","value", "floor"|"peer"?, "ratio"?,
 *    "target","op","limit", "extra"?}
 * `aggregate` folds the raw lines of several runs into one line per measure
 * (median, min, max, ratio, met), `markdown` makes the table of
 * docs/performance.md from those, `check-json` validates them.
 *
 *   bench tree SOCKET SUPS CHILDREN
 *   bench exec SOCKET N
 *   bench cgexec SOCKET N FLOOR_CGROUP [SPEC_EXTRA [USER]]  (arbord has
 *                                                --cgroup; as USER)
 *   bench rate SOCKET N SECONDS WINDOW            (ping and inspect)
 *   bench concurrency SOCKET CONNS SECONDS WINDOW
 *   bench idle SOCKET N SECONDS
 *   bench health SOCKET N SECONDS             (HTTP checks every 1 s)
 *   bench rolling SOCKET N                    (restart --rolling of N
 *                                               HTTP instances under load)
 *   bench latency SOCKET CHILDREN RUNS
 *   bench stream SOCKET SUPS CHILDREN
 *   bench peers SOCKET N SECONDS PEER.json
 *   bench aggregate < raw > final
 *   bench markdown < final
 *   bench check-json < lines
 *   bench kill-marked       (SIGKILL to every `sleep $BENCH_MARKER`)
 *
 * Every sleep it starts (through arbord or directly) has argv
 * `sleep $BENCH_MARKER` (default 1000.PID) so bench/run can find and kill
 * exactly those by pid; the processes it starts itself it kills on any
 * exit, and SIGALRM bounds each subcommand ($BENCH_TIMEOUT s, default 300).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char marker[64];
static pid_t *floor_pids;
static int nfloor_pids;

static void
kill_floor(void)
{
	for (int i = 0; i < nfloor_pids; i++)
		if (floor_pids[i] > 0)
			kill(floor_pids[i], SIGKILL);
	for (int i = 0; i < nfloor_pids; i++)
		if (floor_pids[i] > 0)
			waitpid(floor_pids[i], NULL, 0);
	nfloor_pids = 0;
}

static void
on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "bench: time limit reached\n";
	for (int i = 0; i < nfloor_pids; i++)
		if (floor_pids[i] > 0)
			kill(floor_pids[i], SIGKILL);
	if (write(2, m, sizeof m - 1) < 0) {
	}
	_exit(124);
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- /proc ---- */

/* Processes whose command line is "sleep <marker>"; with kill9, each
 * gets SIGKILL (by its pid). */
static int
scan_marked(int kill9)
{
	char path[300], buf[256];
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0, fd;
	ssize_t r;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		r = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (r > 6) {
			buf[r] = '\0';
			if (strcmp(buf, "sleep") == 0 &&
			    strcmp(buf + 6, marker) == 0) {
				n++;
				if (kill9)
					kill((pid_t)atol(de->d_name), SIGKILL);
			}
		}
	}
	if (d != NULL)
		closedir(d);
	return n;
}

static long
proc_rss_bytes(long pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static int
count_marked(void)
{
	return scan_marked(0);
}

/* utime + stime, in clock ticks. */
/* CPU time of the process's main thread in ms (schedstat: ns), -1. */
static double
proc_cpu_ms(long pid)
{
	char path[64];
	unsigned long long ns;
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "/proc/%ld/schedstat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	ok = fscanf(f, "%llu", &ns) == 1;
	fclose(f);
	return ok ? (double)ns / 1e6 : -1;
}

/* This process's CPU (user and system) in ms. */
static double
self_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static long
proc_ticks(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* after ")": state(3) ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/* ---- connections ---- */

struct conn {
	int fd;
	char *in, *out;
	size_t inlen, incap, inoff;
	size_t outlen, outoff, outcap;
	long next_id;	/* next request id */
	long sent, done, errors;
	long *answered;	/* per-connection counters for concurrency */
};

static struct conn *
conn_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct conn *c = calloc(1, sizeof *c);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		die("connect %s: %s", path, strerror(errno));
	c->incap = 1 << 20;
	c->in = malloc(c->incap);
	c->outcap = 1 << 16;
	c->out = malloc(c->outcap);
	c->next_id = 1;
	return c;
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void
conn_append(struct conn *c, const char *s, size_t len)
{
	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	while (c->outlen + len + 1 > c->outcap)
		c->out = realloc(c->out, c->outcap *= 2);
	memcpy(c->out + c->outlen, s, len);
	c->outlen += len;
}

/* Queues one request; returns its id. params is a JSON text or NULL. */
static long
conn_request(struct conn *c, const char *method, const char *params)
{
	char head[128];
	long id = c->next_id++;
	int n;

	n = snprintf(head, sizeof head,
	    "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"", id, method);
	conn_append(c, head, (size_t)n);
	if (params != NULL) {
		conn_append(c, ",\"params\":", 10);
		conn_append(c, params, strlen(params));
	}
	conn_append(c, "}\n", 2);
	c->sent++;
	return id;
}

static int
conn_want_write(struct conn *c)
{
	return c->outoff < c->outlen;
}

/* Writes what it can; reads what there is. -1 on EOF or error. */
static int
conn_io(struct conn *c, short revents)
{
	ssize_t r;

	if ((revents & POLLOUT) || conn_want_write(c)) {
		while (c->outoff < c->outlen) {
			r = write(c->fd, c->out + c->outoff,
			    c->outlen - c->outoff);
			if (r > 0) {
				c->outoff += (size_t)r;
				continue;
			}
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			return -1;
		}
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (c->inoff > 0) {
			memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
			c->inlen -= c->inoff;
			c->inoff = 0;
		}
		for (;;) {
			if (c->incap - c->inlen < 65536)
				c->in = realloc(c->in, c->incap *= 2);
			r = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
			if (r > 0) {
				c->inlen += (size_t)r;
				if (c->incap - c->inlen > 0)
					break;
				continue;
			}
			if (r == 0)
				return -1;
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
	}
	return 0;
}

/* The next complete message, parsed; NULL when none is buffered. */
static json_t *
conn_next(struct conn *c)
{
	char *nl;
	json_t *j;
	json_error_t err;

	for (;;) {
		if (c->inoff >= c->inlen)
			return NULL;
		nl = memchr(c->in + c->inoff, '\n', c->inlen - c->inoff);
		if (nl == NULL)
			return NULL;
		size_t len = (size_t)(nl - (c->in + c->inoff));
		const char *s = c->in + c->inoff;
		c->inoff += len + 1;
		if (len == 0)
			continue;
		if ((j = json_loadb(s, len, 0, &err)) == NULL)
			die("bad JSON from arbord: %s", err.text);
		return j;
	}
}

static long
msg_id(json_t *j)
{
	json_t *id = json_object_get(j, "id");

	return json_is_integer(id) ? (long)json_integer_value(id) : -1;
}

static void
check_result(json_t *j, const char *what)
{
	json_t *e = json_object_get(j, "error");

	if (e != NULL) {
		char *s = json_dumps(e, JSON_COMPACT);
		die("%s: error %s", what, s);
	}
	if (json_object_get(j, "result") == NULL)
		die("%s: no result", what);
}

typedef void (*notify_fn)(json_t *j, void *arg);

/* Sends what is queued and waits for the answer with that id; other
 * messages (notifications) go to fn. Returns the response (owned). */
static json_t *
conn_wait_id(struct conn *c, long id, notify_fn fn, void *arg, double limit_ms)
{
	double end = now_ms() + limit_ms;
	struct pollfd p = { .fd = c->fd };
	json_t *j;

	if (conn_io(c, 0) == -1)	/* send at once */
		die("arbord closed the connection");
	for (;;) {
		while ((j = conn_next(c)) != NULL) {
			long got = msg_id(j);
			if (got == id) {
				c->done++;
				return j;
			}
			if (got == -1 && json_object_get(j, "method") && fn)
				fn(j, arg);
			else if (got != -1)
				c->done++;
			json_decref(j);
		}
		if (now_ms() > end)
			die("no answer to request %ld within %.0f ms", id,
			    limit_ms);
		p.events = POLLIN | (conn_want_write(c) ? POLLOUT : 0);
		if (poll(&p, 1, 100) == -1 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (conn_io(c, p.revents) == -1)
			die("arbord closed the connection");
	}
}

static json_t *
call(struct conn *c, const char *method, const char *params, double limit_ms)
{
	long id = conn_request(c, method, params);
	json_t *j = conn_wait_id(c, id, NULL, NULL, limit_ms);

	check_result(j, method);
	return j;
}

static long
daemon_pid(struct conn *c)
{
	json_t *j = call(c, "ping", NULL, 10000);
	long pid = (long)json_integer_value(
	    json_object_get(json_object_get(j, "result"), "pid"));

	json_decref(j);
	if (pid <= 0)
		die("ping gave no pid");
	return pid;
}

/*
 * The pipelined pump over one or more connections: keeps up to `window`
 * requests in flight on each, `total` in all per connection (0 = no limit),
 * until `secs` seconds passed. Responses are matched by id (each must be
 * the answer to a request in flight, with a result).
 */
struct pump {
	const char *method;
	const char *params;
	long total;	/* per connection; 0 = until the time runs out */
	long window;
	double secs;
};

static double
pump_run(struct conn **cs, int nc, const struct pump *pp)
{
	struct pollfd *ps = calloc((size_t)nc, sizeof *ps);
	double t0 = now_ms(), end = t0 + pp->secs * 1e3, t;
	int active = nc;
	char *stop = calloc((size_t)nc, 1);
	json_t *j;

	for (int i = 0; i < nc; i++) {
		cs[i]->sent = cs[i]->done = 0;
		ps[i].fd = cs[i]->fd;
	}
	while (active > 0) {
		t = now_ms();
		for (int i = 0; i < nc; i++) {
			struct conn *c = cs[i];

			if (stop[i] == 2)
				continue;
			if (t >= end)
				stop[i] = 1;
			while (!stop[i] && c->sent - c->done < pp->window &&
			    (pp->total == 0 || c->sent < pp->total))
				conn_request(c, pp->method, pp->params);
			if (c->done == c->sent &&
			    (stop[i] || (pp->total && c->done >= pp->total))) {
				stop[i] = 2;
				active--;
				ps[i].fd = -1;
				continue;
			}
			ps[i].events = POLLIN |
			    (conn_want_write(c) ? POLLOUT : 0);
		}
		if (active == 0)
			break;
		if (poll(ps, (nfds_t)nc, 1000) == -1 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (int i = 0; i < nc; i++) {
			struct conn *c = cs[i];

			if (ps[i].fd == -1 || ps[i].revents == 0)
				continue;
			if (conn_io(c, ps[i].revents) == -1)
				die("connection %d closed", i);
			while ((j = conn_next(c)) != NULL) {
				long id = msg_id(j);

				/* ids are next_id-sent .. next_id-1 */
				if (id < c->next_id - c->sent ||
				    id >= c->next_id)
					die("answer with unknown id %ld", id);
				if (json_object_get(j, "result") == NULL)
					c->errors++;
				c->done++;
				json_decref(j);
			}
			if (c->errors)
				die("%s: %ld error answers", pp->method,
				    c->errors);
		}
	}
	free(ps);
	free(stop);
	return now_ms() - t0;
}

/* ---- raw output ---- */

static void
emit(const char *bench, const char *measure, const char *unit, double value,
    const char *basekey, double base, double ratio, const char *target,
    const char *op, double limit, json_t *extra)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:f,s:s,s:s,s:f}", "bench", bench,
	    "measure", measure, "unit", unit, "value", value, "target", target,
	    "op", op, "limit", limit);

	if (basekey != NULL) {
		json_object_set_new(o, basekey, json_real(base));
		json_object_set_new(o, "ratio", json_real(ratio));
	}
	if (extra != NULL)
		json_object_set_new(o, "extra", extra);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

/* ---- subcommands ---- */

/* 1. tree: SUPS supervisors of CHILDREN sleep actors each, pipelined. */
static int
cmd_tree(const char *sock, int sups, int children)
{
	struct conn *c = conn_open(sock);
	long pid = daemon_pid(c), rss0, rss1, first_id = 0;
	double t0, t_spawn, t_running, t_cancel;
	size_t cap = (size_t)children * 40 + 256, off;
	char *params = malloc(cap), name[32];
	struct pollfd p = { .fd = c->fd };
	json_t *j;
	long nodes = (long)sups * children + sups;

	rss0 = proc_rss_bytes(pid);
	/* Queue all requests first, then time from the first byte sent. */
	for (int s = 0; s < sups; s++) {
		off = (size_t)snprintf(params, cap,
		    "{\"name\":\"s%d\",\"kind\":\"supervisor\",\"children\":[",
		    s);
		for (int i = 0; i < children; i++)
			off += (size_t)snprintf(params + off, cap - off,
			    "%s{\"name\":\"c%d\",\"kind\":\"sleep\"}",
			    i ? "," : "", i);
		snprintf(params + off, cap - off, "]}");
		long id = conn_request(c, "spawn", params);
		if (s == 0)
			first_id = id;
	}
	c->done = 0;
	t0 = now_ms();
	long got = 0;
	while (got < sups) {
		p.events = POLLIN | (conn_want_write(c) ? POLLOUT : 0);
		if (poll(&p, 1, 1000) == -1 && errno != EINTR)
			die("poll");
		if (conn_io(c, p.revents | (conn_want_write(c) ? POLLOUT : 0))
		    == -1)
			die("arbord closed the connection");
		while ((j = conn_next(c)) != NULL) {
			long id = msg_id(j);
			if (id < first_id || id >= first_id + sups)
				die("tree: unexpected answer id %ld", id);
			check_result(j, "spawn");
			got++;
			json_decref(j);
		}
		if (now_ms() - t0 > 120000)
			die("tree: spawns not answered within 120 s");
	}
	t_spawn = now_ms() - t0;
	/* Every supervisor running (all its children started). */
	for (int s = 0; s < sups; s++) {
		snprintf(name, sizeof name, "/s%d", s);
		snprintf(params, cap, "{\"path\":\"%s\",\"for\":\"running\","
		    "\"timeout_ms\":120000}", name);
		conn_request(c, "wait", params);
	}
	long last = c->next_id - 1;
	for (long id = last - sups + 1; id <= last; id++) {
		j = conn_wait_id(c, id, NULL, NULL, 130000);
		check_result(j, "wait");
		json_decref(j);
	}
	t_running = now_ms() - t0;
	rss1 = proc_rss_bytes(pid);

	t0 = now_ms();
	j = call(c, "cancel", "{\"path\":\"/\",\"wait\":true}", 120000);
	t_cancel = now_ms() - t0;
	json_decref(j);
	j = call(c, "stats", NULL, 10000);
	json_t *bs = json_object_get(json_object_get(j, "result"), "by_state");
	long alive = 0;
	const char *k;
	json_t *v;
	json_object_foreach(bs, k, v)
		if (strcmp(k, "exited") && strcmp(k, "failed"))
			alive += (long)json_integer_value(v);
	json_decref(j);
	if (alive > 1)	/* the root stays running */
		die("tree: %ld nodes not terminated after cancel", alive - 1);

	emit("tree", "spawn_all_answered", "ms", t_spawn, NULL, 0, 0,
	    "<= 2000 ms", "le", 2000,
	    json_pack("{s:i,s:i,s:f}", "supervisors", sups, "children",
	    children, "until_all_running_ms", t_running));
	emit("tree", "rss_per_node", "bytes", (double)(rss1 - rss0) / nodes,
	    NULL, 0, 0, "<= 500 bytes/node", "le", 500,
	    json_pack("{s:f,s:f,s:I}", "rss_before_mib", rss0 / 1048576.0,
	    "rss_after_mib", rss1 / 1048576.0, "nodes", (json_int_t)nodes));
	emit("tree", "cancel_root_wait", "ms", t_cancel, NULL, 0, 0,
	    "<= 1000 ms", "le", 1000, NULL);
	free(params);
	conn_close(c);
	return 0;
}

/*
 * stream (issue 12): the tree as `tree` builds it (SUPS supervisors of
 * CHILDREN sleep actors); then one connection reads `inspect` of `/` with
 * depth -1 as fast as it can while a second sends one ping at a time:
 * the worst ping, and arbord's VmRSS growth over the answer, sampled
 * every 2 ms.
 */
static int
cmd_stream(const char *sock, int sups, int children)
{
	struct conn *c = conn_open(sock), *a;
	long pid = daemon_pid(c), rss0, rss, rss_max, pings = 0, first_id = 0;
	size_t cap = (size_t)children * 40 + 256, off, bytes = 0;
	char *params = malloc(cap), name[32], *buf, tail[32] = "", last = 0;
	long nodes = (long)sups * children + sups + 1, seen = 0;
	double t0, t_ping = 0, worst = 0, t_sample = 0, t_all;
	int waiting = 0;
	json_t *j;
	static const char key[] = "\"child_count\":";

	for (int s = 0; s < sups; s++) {
		off = (size_t)snprintf(params, cap,
		    "{\"name\":\"s%d\",\"kind\":\"supervisor\",\"children\":[",
		    s);
		for (int i = 0; i < children; i++)
			off += (size_t)snprintf(params + off, cap - off,
			    "%s{\"name\":\"c%d\",\"kind\":\"sleep\"}",
			    i ? "," : "", i);
		snprintf(params + off, cap - off, "]}");
		long id = conn_request(c, "spawn", params);
		if (s == 0)
			first_id = id;
	}
	for (long id = first_id; id < first_id + sups; id++) {
		j = conn_wait_id(c, id, NULL, NULL, 120000);
		check_result(j, "spawn");
		json_decref(j);
	}
	for (int s = 0; s < sups; s++) {
		snprintf(name, sizeof name, "/s%d", s);
		snprintf(params, cap, "{\"path\":\"%s\",\"for\":\"running\","
		    "\"timeout_ms\":120000}", name);
		j = call(c, "wait", params, 130000);
		check_result(j, "wait");
		json_decref(j);
	}
	free(params);

	a = conn_open(sock);
	buf = malloc(1 << 20);
	rss0 = rss_max = proc_rss_bytes(pid);
	t0 = now_ms();
	conn_request(a, "inspect", "{\"path\":\"/\",\"depth\":-1}");
	conn_io(a, POLLOUT);
	for (;;) {
		struct pollfd p[2] = { { .fd = a->fd, .events = POLLIN },
			{ .fd = c->fd, .events = POLLIN } };
		ssize_t r;

		if (!waiting) {
			conn_request(c, "ping", NULL);
			conn_io(c, POLLOUT);
			t_ping = now_ms();
			waiting = 1;
		}
		if (poll(p, 2, 10000) <= 0)
			die("stream: no answer for 10 s");
		if (p[0].revents) {
			/* Counted, not kept: the answer of 1M nodes is
			 * about 200 MB. */
			while ((r = read(a->fd, buf, 1 << 20)) > 0) {
				char *q = buf, *end = buf + r, joint[64];
				size_t tl = strlen(tail), hl, kl = sizeof key - 1;

				/* A key cut between two reads: any match in
				 * the last kl-1 bytes before and the first
				 * kl-1 after spans the cut. */
				hl = (size_t)r < kl - 1 ? (size_t)r : kl - 1;
				memcpy(joint, tail, tl);
				memcpy(joint + tl, buf, hl);
				joint[tl + hl] = '\0';
				for (q = joint; (q = strstr(q, key)) != NULL;
				    q++)
					seen++;
				for (q = buf; (q = memmem(q, (size_t)(end - q),
				    key, kl)) != NULL; q += kl)
					seen++;
				tl = (size_t)r < kl - 1 ? (size_t)r : kl - 1;
				memcpy(tail, end - tl, tl);
				tail[tl] = '\0';
				bytes += (size_t)r;
				last = buf[r - 1];
			}
			if (r == 0)
				die("stream: arbord closed the connection");
			if (last == '\n')
				break;
		}
		if (p[1].revents) {
			if (conn_io(c, POLLIN) == -1)
				die("stream: arbord closed the connection");
			while ((j = conn_next(c)) != NULL) {
				check_result(j, "ping");
				json_decref(j);
				if (now_ms() - t_ping > worst)
					worst = now_ms() - t_ping;
				pings++;
				waiting = 0;
			}
		}
		if (now_ms() - t_sample >= 2) {
			t_sample = now_ms();
			if ((rss = proc_rss_bytes(pid)) > rss_max)
				rss_max = rss;
		}
	}
	t_all = now_ms() - t0;
	if ((rss = proc_rss_bytes(pid)) > rss_max)
		rss_max = rss;
	if (seen != nodes)
		die("stream: %ld nodes in the answer, want %ld", seen, nodes);
	emit("stream", "ping_worst_during_inspect", "ms", worst, NULL, 0, 0,
	    "<= 20 ms", "le", 20,
	    json_pack("{s:I,s:I,s:f,s:I}", "nodes", (json_int_t)nodes,
	    "answer_bytes", (json_int_t)bytes, "answer_ms", t_all, "pings",
	    (json_int_t)pings));
	emit("stream", "rss_growth_during_inspect", "MiB",
	    (double)(rss_max - rss0) / 1048576.0, NULL, 0, 0, "<= 16 MiB",
	    "le", 16,
	    json_pack("{s:f,s:f}", "rss_before_mib", rss0 / 1048576.0,
	    "rss_max_mib", rss_max / 1048576.0));
	free(buf);
	conn_close(a);
	conn_close(c);
	return 0;
}

static void
wait_marked(int want, double limit_ms, const char *what)
{
	double end = now_ms() + limit_ms;

	while (count_marked() != want) {
		if (now_ms() > end)
			die("%s: %d processes, want %d", what, count_marked(),
			    want);
		usleep(1000);
	}
}

/*
 * floor_observe: the bench sees arbord's workers only through /proc (how
 * many processes carry the marker), and sees the floor's the same way,
 * inside the same timed intervals: the scan is part of both sides' time,
 * and the /proc/PID entries it leaves in the kernel's dentry cache, which
 * each reap must then invalidate (release_task, about a sixth of the
 * CPU of 1,000 stops), are paid by both.
 */

/* Pipelines n spawns of exec `sleep MARKER` at the root (/NAMEi), each
 * with the fields in extra ("" or ",\"k\":v...") and the members of
 * $BENCH_EXEC_SPEC added (`"user":"nobody"`, to measure a start that
 * switches users). */
static void
spawn_execs_with(struct conn *c, int n, const char *prefix, const char *extra)
{
	const char *env = getenv("BENCH_EXEC_SPEC");
	char params[1024];
	long first = c->next_id;

	for (int i = 0; i < n; i++) {
		snprintf(params, sizeof params, "{\"name\":\"%s%d\",\"kind\":"
		    "\"exec\",\"argv\":[\"sleep\",\"%s\"]%s%s%s}", prefix, i,
		    marker, extra, env != NULL && *env != '\0' ? "," : "",
		    env != NULL ? env : "");
		conn_request(c, "spawn", params);
	}
	for (long id = first; id < first + n; id++) {
		json_t *j = conn_wait_id(c, id, NULL, NULL, 60000);
		check_result(j, "spawn exec");
		json_decref(j);
	}
}

static void
spawn_execs(struct conn *c, int n, const char *prefix)
{
	spawn_execs_with(c, n, prefix, "");
}

/* 2. exec: n exec workers vs posix_spawn + kill + waitpid. */
static int
cmd_exec(const char *sock, int n)
{
	struct conn *c = conn_open(sock);
	double t0, t_spawn, t_cancel, f_spawn, f_stop;
	json_t *j;

	(void)daemon_pid(c);
	if (count_marked() != 0)
		die("exec: stray processes with marker %s", marker);
	t0 = now_ms();
	spawn_execs(c, n, "b");
	wait_marked(n, 60000, "exec spawn");
	t_spawn = now_ms() - t0;
	t0 = now_ms();
	j = call(c, "cancel", "{\"path\":\"/\",\"wait\":true}", 60000);
	json_decref(j);
	wait_marked(0, 60000, "exec cancel");
	t_cancel = now_ms() - t0;

	floor_pids = calloc((size_t)n, sizeof *floor_pids);
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		char *args[] = { "sleep", marker, NULL };

		if (posix_spawnp(&floor_pids[i], "sleep", NULL, NULL, args,
		    environ))
			die("posix_spawnp failed");
		nfloor_pids = i + 1;
	}
	/* Observed as arbord's are (floor_observe). */
	wait_marked(n, 60000, "exec floor spawn");
	f_spawn = now_ms() - t0;
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		kill(floor_pids[i], SIGTERM);
	for (int i = 0; i < n; i++) {
		waitpid(floor_pids[i], NULL, 0);
		floor_pids[i] = 0;
	}
	wait_marked(0, 60000, "exec floor stop");
	f_stop = now_ms() - t0;
	nfloor_pids = 0;

	emit("exec", "spawn_until_running", "ms", t_spawn, "floor", f_spawn,
	    t_spawn / f_spawn, "ratio <= 1.3", "ratio_le", 1.3,
	    json_pack("{s:i}", "n", n));
	emit("exec", "cancel_until_gone", "ms", t_cancel, "floor", f_stop,
	    t_cancel / f_stop, "ratio <= 2", "ratio_le", 2,
	    json_pack("{s:i}", "n", n));
	conn_close(c);
	return 0;
}

/* 3. ping and inspect rates over one connection. */
static int
cmd_rate(const char *sock, long n, double secs, long window)
{
	struct conn *c = conn_open(sock);
	struct pump pp = { "ping", NULL, n, window, secs };
	double ms;
	json_t *j;

	(void)daemon_pid(c);
	ms = pump_run(&c, 1, &pp);
	emit("ping", "pipelined_1conn", "req/s", c->done / (ms / 1e3), NULL, 0,
	    0, ">= 200000 req/s", "ge", 200000,
	    json_pack("{s:I,s:I,s:f}", "requests", (json_int_t)c->done,
	    "window", (json_int_t)window, "seconds", ms / 1e3));

	j = call(c, "spawn", "{\"name\":\"target\",\"kind\":\"sleep\"}",
	    10000);
	json_decref(j);
	pp.method = "inspect";
	pp.params = "{\"path\":\"/target\"}";
	ms = pump_run(&c, 1, &pp);
	emit("inspect", "pipelined_1conn", "req/s", c->done / (ms / 1e3), NULL,
	    0, 0, ">= 100000 req/s", "ge", 100000,
	    json_pack("{s:I,s:I,s:f}", "requests", (json_int_t)c->done,
	    "window", (json_int_t)window, "seconds", ms / 1e3));
	conn_close(c);
	return 0;
}

/* 4. concurrency: conns connections pipelining pings at once, against one
 * connection measured in the same run. */
static int
cmd_concurrency(const char *sock, int nc, double secs, long window)
{
	struct conn **cs = calloc((size_t)nc, sizeof *cs);
	struct pump one = { "ping", NULL, 0, 256, secs };
	struct pump many = { "ping", NULL, 0, window, secs };
	double ms, single, total, mean;
	long sum = 0, mn = -1, mx = 0;

	cs[0] = conn_open(sock);
	(void)daemon_pid(cs[0]);
	ms = pump_run(cs, 1, &one);
	single = cs[0]->done / (ms / 1e3);
	for (int i = 1; i < nc; i++)
		cs[i] = conn_open(sock);
	ms = pump_run(cs, nc, &many);
	for (int i = 0; i < nc; i++) {
		sum += cs[i]->done;
		if (mn < 0 || cs[i]->done < mn)
			mn = cs[i]->done;
		if (cs[i]->done > mx)
			mx = cs[i]->done;
	}
	total = sum / (ms / 1e3);
	mean = (double)sum / nc;
	emit("concurrency", "ping_100conn_total", "req/s", total, "floor",
	    single, total / single, "ratio >= 0.7 (within 30% of 1 conn)",
	    "ratio_ge", 0.7,
	    json_pack("{s:i,s:I}", "connections", nc, "window",
	    (json_int_t)window));
	emit("concurrency", "min_conn_share", "of mean", mn / mean, NULL, 0, 0,
	    ">= 0.5 (no starved connection)", "ge", 0.5,
	    json_pack("{s:I,s:I,s:f}", "min_completions", (json_int_t)mn,
	    "max_completions", (json_int_t)mx, "mean_completions", mean));
	for (int i = 0; i < nc; i++)
		conn_close(cs[i]);
	free(cs);
	return 0;
}

/* 5. idle: n exec workers, secs with no request. */
static int
cmd_idle(const char *sock, int n, double secs)
{
	struct conn *c = conn_open(sock);
	long pid = daemon_pid(c), t0, t1, rss;
	json_t *j;

	spawn_execs(c, n, "i");
	wait_marked(n, 60000, "idle spawn");
	usleep(1000000);	/* let the starts settle */
	t0 = proc_ticks(pid);
	usleep((useconds_t)(secs * 1e6));
	t1 = proc_ticks(pid);
	rss = proc_rss_bytes(pid);
	emit("idle", "cpu_ticks", "ticks", (double)(t1 - t0), NULL, 0, 0,
	    "== 0 ticks", "le", 0,
	    json_pack("{s:i,s:f,s:l}", "workers", n, "seconds", secs,
	    "ticks_per_s", sysconf(_SC_CLK_TCK)));
	emit("idle", "rss_with_workers", "MiB", rss / 1048576.0, NULL, 0, 0,
	    "<= 8 MiB", "le", 8, json_pack("{s:i}", "workers", n));
	j = call(c, "cancel", "{\"path\":\"/\",\"wait\":true}", 60000);
	json_decref(j);
	wait_marked(0, 30000, "idle cancel");
	conn_close(c);
	return 0;
}

/* The target of the health bench: a forked HTTP/1.0 server on a free
 * loopback port answering 200 to anything, one connection at a time.
 * Killed with the floor processes. */
static int
health_server(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	pid_t pid;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) == -1)
		die("health: cannot listen: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die("health: fork: %s", strerror(errno));
	if (pid == 0) {
		static const char ans[] = "HTTP/1.0 200 OK\r\n"
		    "Content-Length: 0\r\n\r\n";
		char buf[4096];

		alarm(0);
		signal(SIGTERM, SIG_DFL);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (fd == -1)
				continue;
			/* The request comes at once; a client that
			 * says nothing gets nothing. */
			if (poll(&p, 1, 1000) == 1 &&
			    read(fd, buf, sizeof buf) > 0 &&
			    write(fd, ans, sizeof ans - 1) < 0) {
			}
			close(fd);
		}
	}
	close(lfd);
	floor_pids = calloc(1, sizeof *floor_pids);
	floor_pids[0] = pid;
	nfloor_pids = 1;
	return ntohs(sa.sin_port);
}

/* 5b. health: n exec workers, each with an HTTP check every second
 * against one small server; arbord's CPU over secs. */
static int
cmd_health(const char *sock, int n, double secs)
{
	struct conn *c = conn_open(sock);
	long pid = daemon_pid(c), t0, t1, hz = sysconf(_SC_CLK_TCK);
	int port = health_server(), healthy = 0;
	char extra[256];
	json_t *j, *kids, *k;
	size_t i;
	double pct;

	snprintf(extra, sizeof extra, ",\"health\":{\"http\":"
	    "\"http://127.0.0.1:%d/health\",\"interval_ms\":1000}", port);
	spawn_execs_with(c, n, "h", extra);
	wait_marked(n, 60000, "health spawn");
	/* The first checks come one interval after each start. */
	usleep(2000000);
	t0 = proc_ticks(pid);
	usleep((useconds_t)(secs * 1e6));
	t1 = proc_ticks(pid);
	j = call(c, "inspect", "{\"path\":\"/\",\"depth\":1}", 60000);
	kids = json_object_get(json_object_get(j, "result"), "children");
	json_array_foreach(kids, i, k)
	{
		const char *st = json_string_value(json_object_get(
		    json_object_get(k, "health"), "state"));

		healthy += st != NULL && strcmp(st, "healthy") == 0;
	}
	json_decref(j);
	if (healthy != n)
		die("health: %d of %d nodes are healthy", healthy, n);
	pct = 100.0 * (double)(t1 - t0) / ((double)hz * secs);
	emit("health", "cpu_http_checks_1s", "% of a core", pct, NULL, 0, 0,
	    "<= 5 %", "le", 5,
	    json_pack("{s:i,s:f,s:i,s:l}", "workers", n, "seconds", secs,
	    "interval_ms", 1000, "ticks", t1 - t0));
	j = call(c, "cancel", "{\"path\":\"/\",\"wait\":true}", 60000);
	json_decref(j);
	wait_marked(0, 30000, "health cancel");
	kill_floor();
	conn_close(c);
	return 0;
}

/* 5c. rolling: the instances' server. It accepts on the listening socket
 * it inherits (fd 3, shared by every instance and made non-blocking, so an
 * instance that loses the race for a connection goes back to poll), says
 * it is ready once it holds it, and on SIGTERM stops accepting, answers
 * the request in hand and exits: queued connections are the others'. */
static volatile sig_atomic_t serve_stop;
static const char *self_exe(void);

static void
serve_term(int sig)
{
	(void)sig;
	serve_stop = 1;
}

static int
cmd_http_serve(void)
{
	static const char ans[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n"
	    "Connection: close\r\n\r\nok";
	struct sigaction sa = { .sa_handler = serve_term,
		.sa_flags = SA_RESTART };
	const char *rfd = getenv("ARBOR_READY_FD"), *nfds = getenv("LISTEN_FDS");
	struct pollfd lp = { .fd = 3, .events = POLLIN };
	char buf[4096];

	if (nfds == NULL || atoi(nfds) < 1)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_NONBLOCK);
	if (rfd != NULL && write(atoi(rfd), "up\n", 3) < 0)
		return 1;
	while (!serve_stop) {
		size_t len = 0;
		int fd;

		if (poll(&lp, 1, 100) != 1)
			continue;
		if ((fd = accept4(3, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		/* The request, up to its blank line (5 s at most); the
		 * SIGTERM that interrupts it does not drop it. */
		for (;;) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			ssize_t r;
			int pr = poll(&p, 1, 5000);

			if (pr == -1 && errno == EINTR)
				continue;
			if (pr != 1)
				break;
			if ((r = read(fd, buf + len, sizeof buf - 1 - len)) ==
			        -1 &&
			    errno == EINTR)
				continue;
			if (r <= 0)
				break;
			len += (size_t)r;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL ||
			    len == sizeof buf - 1)
				break;
		}
		if (len > 0 && write(fd, ans, sizeof ans - 1) < 0) {
		}
		close(fd);
	}
	return 0;
}

/* One GET on a new connection to 127.0.0.1:port; 0 for a 200. */
static int
http_get_once(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	struct timeval tv = { 5, 0 };
	char buf[512];
	size_t len = 0;
	ssize_t r;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
		close(fd);
		return -1;
	}
	while (len < sizeof buf - 1 &&
	    (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	close(fd);
	return strncmp(buf, "HTTP/1.0 200 ", 13) == 0 ? 0 : -1;
}

static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		die("free port: %s", strerror(errno));
	close(fd);
	return ntohs(sa.sin_port);
}

/* 5c. rolling: n instances of the server above behind one held socket;
 * one client sends GETs, one after another, while `restart --rolling`
 * of the instances runs: the failed requests (target 0) and the time the
 * roll takes. */
static int
cmd_rolling(const char *sock, int n)
{
	struct conn *c = conn_open(sock);
	int port = free_port(), ok = 0, failed = 0, before = 0;
	char params[8192];
	double t0, t_roll;
	long id;
	json_t *j = NULL, *res;

	snprintf(params, sizeof params,
	    "{\"name\":\"web\",\"kind\":\"exec\",\"argv\":[\"%s\","
	    "\"http-serve\"],\"instances\":%d,\"ready\":\"fd\","
	    "\"sockets\":[{\"name\":\"http\",\"listen\":"
	    "\"tcp:127.0.0.1:%d\"}]}",
	    self_exe(), n, port);
	json_decref(call(c, "spawn", params, 30000));
	json_decref(call(c, "wait",
	    "{\"path\":\"/web\",\"for\":\"running\",\"timeout_ms\":30000}",
	    31000));
	/* Load first, so the roll starts under it. */
	for (t0 = now_ms(); now_ms() - t0 < 300;)
		before += http_get_once(port) == 0;
	if (before == 0)
		die("rolling: the instances answer nothing");
	id = conn_request(c, "restart",
	    "{\"path\":\"/web\",\"rolling\":true}");
	t0 = now_ms();
	if (conn_io(c, 0) == -1)
		die("arbord closed the connection");
	while (j == NULL) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };

		if (http_get_once(port) == 0)
			ok++;
		else
			failed++;
		if (poll(&p, 1, 0) == 1 && conn_io(c, p.revents) == -1)
			die("arbord closed the connection");
		while ((j = conn_next(c)) != NULL && msg_id(j) != id)
			json_decref(j);
		if (now_ms() - t0 > 120000)
			die("rolling: no answer within 120 s");
	}
	t_roll = now_ms() - t0;
	check_result(j, "restart --rolling");
	res = json_object_get(json_object_get(j, "result"), "restarted");
	if ((int)json_array_size(res) != n)
		die("rolling: %zu of %d instances restarted",
		    json_array_size(res), n);
	json_decref(j);
	emit("rolling", "failed_requests", "requests", failed, NULL, 0, 0,
	    "== 0", "le", 0,
	    json_pack("{s:i,s:i}", "instances", n, "requests", ok + failed));
	emit("rolling", "rolling_restart", "ms", t_roll, NULL, 0, 0, "-",
	    "none", 0, json_pack("{s:i,s:f}", "instances", n, "per_instance_ms",
	    t_roll / n));
	json_decref(call(c, "cancel", "{\"path\":\"/\",\"wait\":true}",
	    60000));
	conn_close(c);
	return 0;
}

/* 6. latency: cancel of a watched subtree, time to each child's exited. */
struct lat {
	double t0;
	double *at;	/* per child, ms after t0; <0 until seen */
	int n, seen, overflow, overflows, gap;
	long long resume;	/* seq of the overflow event */
	const char *prefix;
	size_t plen;
};

static void
lat_event(json_t *j, void *arg)
{
	struct lat *l = arg;
	json_t *p = json_object_get(j, "params");
	const char *type = json_string_value(json_object_get(p, "type"));
	const char *to = json_string_value(json_object_get(p, "to"));
	const char *path = json_string_value(json_object_get(p, "path"));
	double t = now_ms();

	if (type && strcmp(type, "overflow") == 0) {
		l->overflow = 1;
		l->overflows++;
		l->resume = json_integer_value(json_object_get(p, "seq"));
		return;
	}
	if (type && strcmp(type, "gap") == 0) {
		l->gap = 1;
		return;
	}
	if (!type || strcmp(type, "state") || !to || strcmp(to, "exited") ||
	    !path || strncmp(path, l->prefix, l->plen))
		return;
	int i = atoi(path + l->plen);
	if (i < 0 || i >= l->n || l->at[i] >= 0)
		return;
	l->at[i] = t - l->t0;
	l->seen++;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double q)
{
	double x = q * (double)n;
	size_t i = (size_t)x;

	if ((double)i < x)
		i++;	/* ceil, without libm */

	return v[i == 0 ? 0 : i - 1];
}

static int
cmd_latency(const char *sock, int children, int runs)
{
	struct conn *c = conn_open(sock);
	size_t cap = (size_t)children * 40 + 256, off;
	char *params = malloc(cap), prefix[64];
	double *all = malloc(sizeof(double) * (size_t)children * runs);
	double p50r[64], p99r[64], maxr[64];
	struct lat l = { 0 };
	struct pollfd p = { .fd = c->fd };
	json_t *j;
	size_t nall = 0;

	if (runs > 64)
		runs = 64;
	(void)daemon_pid(c);
	l.at = malloc(sizeof(double) * (size_t)children);
	l.n = children;
	for (int r = 0; r < runs; r++) {
		off = (size_t)snprintf(params, cap,
		    "{\"name\":\"lat%d\",\"kind\":\"supervisor\",\"children\":[",
		    r);
		for (int i = 0; i < children; i++)
			off += (size_t)snprintf(params + off, cap - off,
			    "%s{\"name\":\"c%d\",\"kind\":\"sleep\"}",
			    i ? "," : "", i);
		snprintf(params + off, cap - off, "]}");
		json_decref(call(c, "spawn", params, 60000));
		snprintf(params, cap, "{\"path\":\"/lat%d\",\"for\":\"running\","
		    "\"timeout_ms\":60000}", r);
		json_decref(call(c, "wait", params, 70000));
		snprintf(params, cap, "{\"path\":\"/lat%d\"}", r);
		json_decref(call(c, "watch", params, 10000));
		snprintf(prefix, sizeof prefix, "/lat%d/c", r);
		l.prefix = prefix;
		l.plen = strlen(prefix);
		l.seen = 0;
		l.overflow = 0;
		l.gap = 0;
		for (int i = 0; i < children; i++)
			l.at[i] = -1;
		snprintf(params, cap, "{\"path\":\"/lat%d\"}", r);
		conn_request(c, "cancel", params);
		l.t0 = now_ms();
		double end = l.t0 + 60000;
		while (l.seen < children) {
			p.events = POLLIN | (conn_want_write(c) ? POLLOUT : 0);
			if (poll(&p, 1, 100) == -1 && errno != EINTR)
				die("poll");
			if (conn_io(c, p.revents) == -1)
				die("arbord closed the connection");
			while ((j = conn_next(c)) != NULL) {
				if (msg_id(j) == -1)
					lat_event(j, &l);
				else
					check_result(j, "cancel");
				json_decref(j);
			}
			if (l.gap)
				die("latency: the events after an overflow "
				    "were gone (gap) after %d", l.seen);
			if (l.overflow) {
				/* The daemon dropped this slow subscriber
				 * (1 MiB queued): resubscribe from where it
				 * stopped, as a client must. */
				l.overflow = 0;
				snprintf(params, cap, "{\"path\":\"/lat%d\","
				    "\"since\":%lld}", r, l.resume);
				conn_request(c, "watch", params);
			}
			if (now_ms() > end)
				die("latency: %d of %d exited events",
				    l.seen, children);
		}
		qsort(l.at, (size_t)children, sizeof(double), cmp_double);
		p50r[r] = pct(l.at, (size_t)children, 0.50);
		p99r[r] = pct(l.at, (size_t)children, 0.99);
		maxr[r] = l.at[children - 1];
		memcpy(all + nall, l.at, sizeof(double) * (size_t)children);
		nall += (size_t)children;
	}
	qsort(all, nall, sizeof(double), cmp_double);
	/* Already pooled across runs: one final-style line per percentile. */
	const char *names[] = { "p50", "p99", "max" };
	double vals[] = { pct(all, nall, 0.5), pct(all, nall, 0.99),
	    all[nall - 1] };
	double *per[] = { p50r, p99r, maxr };
	for (int k = 0; k < 3; k++) {
		double mn = per[k][0], mx = per[k][0];
		for (int r = 1; r < runs; r++) {
			if (per[k][r] < mn)
				mn = per[k][r];
			if (per[k][r] > mx)
				mx = per[k][r];
		}
		char m[64];
		snprintf(m, sizeof m, "cancel_to_exited_%s", names[k]);
		json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:f,s:f,s:f,s:s,s:n,"
		    "s:{s:i,s:I,s:i}}", "bench", "latency", "measure", m,
		    "unit", "ms", "runs", runs, "median", vals[k], "min", mn,
		    "max", mx, "target", "none (report)", "met", "extra",
		    "nodes_per_run", children, "samples", (json_int_t)nall,
		    "overflows_resubscribed", l.overflows);
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	fflush(stdout);
	free(all);
	free(l.at);
	free(params);
	conn_close(c);
	return 0;
}

/* 7. peers: arbor's side of the supervisord comparison; PEER.json is what
 * bench/supervisord-bench.py printed in the same run. */
static int
cmd_peers(const char *sock, int n, double secs, const char *peerfile)
{
	struct conn *c = conn_open(sock);
	long pid = daemon_pid(c), rss, cnt = 0;
	size_t cap = (size_t)n * 120 + 256, off;
	char *params = malloc(cap);
	double t0, t_start, t_stop, t, single, piped;
	json_error_t err;
	json_t *peer = json_load_file(peerfile, 0, &err);

	if (peer == NULL)
		die("peers: %s: %s", peerfile, err.text);
	off = (size_t)snprintf(params, cap,
	    "{\"name\":\"grp\",\"kind\":\"supervisor\",\"children\":[");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(params + off, cap - off,
		    "%s{\"name\":\"p%d\",\"kind\":\"exec\",\"argv\":[\"sleep\","
		    "\"%s\"],\"shutdown_ms\":1000}", i ? "," : "", i, marker);
	snprintf(params + off, cap - off, "]}");
	t0 = now_ms();
	json_decref(call(c, "spawn", params, 60000));
	json_decref(call(c, "wait", "{\"path\":\"/grp\",\"for\":\"running\","
	    "\"timeout_ms\":60000}", 70000));
	t_start = now_ms() - t0;
	wait_marked(n, 10000, "peers spawn");
	rss = proc_rss_bytes(pid);

	/* inspect of one node: one at a time, then pipelined. */
	t0 = now_ms();
	while ((t = now_ms()) - t0 < secs * 1e3) {
		json_decref(call(c, "inspect", "{\"path\":\"/grp/p0\"}", 10000));
		cnt++;
	}
	single = cnt / ((now_ms() - t0) / 1e3);
	struct pump pp = { "inspect", "{\"path\":\"/grp/p0\"}", 0, 256, secs };
	t = pump_run(&c, 1, &pp);
	piped = c->done / (t / 1e3);

	t0 = now_ms();
	json_decref(call(c, "cancel", "{\"path\":\"/grp\",\"wait\":true}",
	    60000));
	t_stop = now_ms() - t0;
	wait_marked(0, 10000, "peers cancel");

	double p_start = json_real_value(json_object_get(peer, "start_ms"));
	double p_stop = json_real_value(json_object_get(peer, "stop_ms"));
	double p_rate = json_real_value(json_object_get(peer, "info_per_s"));
	double p_rss = json_real_value(json_object_get(peer, "rss_mib"));
	json_t *py = json_object_get(peer, "arbor_inspect_py_per_s");

	emit("peers", "start_group_until_running", "ms", t_start, "peer",
	    p_start, p_start / t_start, "speedup >= 10", "ratio_ge", 10,
	    json_pack("{s:i}", "n", n));
	emit("peers", "stop_group_until_stopped", "ms", t_stop, "peer", p_stop,
	    p_stop / t_stop, "speedup >= 10", "ratio_ge", 10,
	    json_pack("{s:i}", "n", n));
	emit("peers", "status_query_1_at_a_time", "req/s", single, "peer",
	    p_rate, single / p_rate, "speedup >= 10", "ratio_ge", 10,
	    py && json_is_number(py) ? json_pack("{s:f}",
	    "arbor_from_python_per_s", json_number_value(py)) : NULL);
	emit("peers", "status_query_pipelined", "req/s", piped, "peer", p_rate,
	    piped / p_rate, "speedup >= 10", "ratio_ge", 10, NULL);
	emit("peers", "daemon_rss_with_programs", "MiB", rss / 1048576.0,
	    "peer", p_rss, p_rss / (rss / 1048576.0),
	    "none (report; ratio = peer/arbor)", "none", 0, NULL);
	json_decref(peer);
	free(params);
	conn_close(c);
	return 0;
}

/* ---- aggregation, Markdown, validation ---- */

static json_t *
stats_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;

	return json_pack("{s:f,s:f,s:f}", "median", med, "min", v[0], "max",
	    v[n - 1]);
}

static char *
read_line_stdin(void)
{
	static char *buf;
	static size_t cap;

	if (getline(&buf, &cap, stdin) == -1)
		return NULL;
	return buf;
}

static int
cmd_aggregate(void)
{
	json_t *groups = json_array(), *j;
	json_error_t err;
	char *line;

	/* Keep the order of first appearance. */
	while ((line = read_line_stdin()) != NULL) {
		if (line[0] == '\n' || line[0] == '\0')
			continue;
		if ((j = json_loads(line, 0, &err)) == NULL)
			die("aggregate: %s: %s", err.text, line);
		if (json_object_get(j, "median") != NULL) {
			/* already final (latency) */
			json_array_append_new(groups, json_pack("{s:o}",
			    "final", j));
			continue;
		}
		const char *b = json_string_value(json_object_get(j, "bench"));
		const char *m = json_string_value(json_object_get(j, "measure"));
		size_t i;
		json_t *g = NULL;
		json_array_foreach(groups, i, g) {
			const char *gb = json_string_value(json_object_get(g, "b"));
			const char *gm = json_string_value(json_object_get(g, "m"));
			if (gb && strcmp(gb, b) == 0 && strcmp(gm, m) == 0)
				break;
			g = NULL;
		}
		if (g == NULL) {
			g = json_pack("{s:s,s:s,s:[]}", "b", b, "m", m, "runs");
			json_array_append_new(groups, g);
		}
		json_array_append_new(json_object_get(g, "runs"), j);
	}
	size_t gi;
	json_t *g;
	json_array_foreach(groups, gi, g) {
		json_t *out;

		if ((out = json_object_get(g, "final")) != NULL) {
			json_incref(out);
		} else {
			json_t *runs = json_object_get(g, "runs");
			json_t *r0 = json_array_get(runs, 0);
			int n = (int)json_array_size(runs);
			double *v = calloc((size_t)n, sizeof *v);
			const char *op = json_string_value(
			    json_object_get(r0, "op"));
			double limit = json_number_value(
			    json_object_get(r0, "limit"));
			const char *basekey = json_object_get(r0, "floor") ?
			    "floor" : json_object_get(r0, "peer") ? "peer" : NULL;

			out = json_pack("{s:O,s:O,s:O,s:i}", "bench",
			    json_object_get(r0, "bench"), "measure",
			    json_object_get(r0, "measure"), "unit",
			    json_object_get(r0, "unit"), "runs", n);
			for (int i = 0; i < n; i++)
				v[i] = json_number_value(json_object_get(
				    json_array_get(runs, i), "value"));
			json_t *s = stats_of(v, n);
			json_object_update(out, s);
			double med = json_real_value(json_object_get(s, "median"));
			json_decref(s);
			json_object_set(out, "target",
			    json_object_get(r0, "target"));
			double ratio = 0;
			if (basekey) {
				for (int i = 0; i < n; i++)
					v[i] = json_number_value(json_object_get(
					    json_array_get(runs, i), basekey));
				json_object_set_new(out, basekey, stats_of(v, n));
				for (int i = 0; i < n; i++)
					v[i] = json_number_value(json_object_get(
					    json_array_get(runs, i), "ratio"));
				s = stats_of(v, n);
				ratio = json_real_value(json_object_get(s,
				    "median"));
				json_object_set_new(out, "ratio", json_real(ratio));
				json_object_set_new(out, "ratio_range",
				    json_pack("[f,f]", json_real_value(
				    json_object_get(s, "min")), json_real_value(
				    json_object_get(s, "max"))));
				json_decref(s);
			}
			json_t *met;
			if (strcmp(op, "le") == 0)
				met = json_boolean(med <= limit);
			else if (strcmp(op, "ge") == 0)
				met = json_boolean(med >= limit);
			else if (strcmp(op, "ratio_le") == 0)
				met = json_boolean(ratio <= limit);
			else if (strcmp(op, "ratio_ge") == 0)
				met = json_boolean(ratio >= limit);
			else
				met = json_null();
			json_object_set_new(out, "met", met);
			/* extra: medians of numeric fields */
			json_t *x0 = json_object_get(r0, "extra");
			if (x0 != NULL) {
				json_t *xo = json_object();
				const char *k;
				json_t *xv;
				json_object_foreach(x0, k, xv) {
					if (!json_is_number(xv)) {
						/* a label, e.g. cgexec's user */
						json_object_set(xo, k, xv);
						continue;
					}
					for (int i = 0; i < n; i++)
						v[i] = json_number_value(
						    json_object_get(json_object_get(
						    json_array_get(runs, i), "extra"),
						    k));
					qsort(v, (size_t)n, sizeof *v, cmp_double);
					json_object_set_new(xo, k, json_real(
					    n % 2 ? v[n / 2] :
					    (v[n / 2 - 1] + v[n / 2]) / 2));
				}
				json_object_set_new(out, "extra", xo);
			}
			free(v);
		}
		char *str = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER
		    | JSON_REAL_PRECISION(6));
		printf("%s\n", str);
		free(str);
		json_decref(out);
	}
	json_decref(groups);
	return 0;
}

static void
fmt_num(char *buf, size_t size, double v)
{
	double a = v < 0 ? -v : v;

	if (a >= 10000)
		snprintf(buf, size, "%.0f", v);
	else if (a >= 100)
		snprintf(buf, size, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, size, "%.1f", v);
	else
		snprintf(buf, size, "%.2f", v);
}

static void
fmt_stats(char *buf, size_t size, json_t *o)
{
	char a[32], b[32], c[32];

	fmt_num(a, sizeof a, json_number_value(json_object_get(o, "median")));
	fmt_num(b, sizeof b, json_number_value(json_object_get(o, "min")));
	fmt_num(c, sizeof c, json_number_value(json_object_get(o, "max")));
	snprintf(buf, size, "%s (%s–%s)", a, b, c);
}

static int
cmd_markdown(void)
{
	char *line, a[128], b[160], r[32];
	json_error_t err;
	json_t *j, *base, *met;

	printf("| bench | measure | arbor: median (min–max) | unit | "
	    "floor / peer: median (min–max) | ratio | target | met |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
	while ((line = read_line_stdin()) != NULL) {
		if (line[0] == '\n')
			continue;
		if ((j = json_loads(line, 0, &err)) == NULL)
			die("markdown: %s", err.text);
		fmt_stats(a, sizeof a, j);
		base = json_object_get(j, "floor");
		const char *bk = "floor";
		if (base == NULL) {
			base = json_object_get(j, "peer");
			bk = "peer";
		}
		if (base != NULL) {
			char t[128];
			fmt_stats(t, sizeof t, base);
			snprintf(b, sizeof b, "%s %s", bk, t);
			fmt_num(r, sizeof r, json_number_value(
			    json_object_get(j, "ratio")));
		} else {
			snprintf(b, sizeof b, "–");
			snprintf(r, sizeof r, "–");
		}
		met = json_object_get(j, "met");
		printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n",
		    json_string_value(json_object_get(j, "bench")),
		    json_string_value(json_object_get(j, "measure")), a,
		    json_string_value(json_object_get(j, "unit")), b, r,
		    json_string_value(json_object_get(j, "target")),
		    json_is_true(met) ? "yes" : json_is_false(met) ? "**no**" :
		    "–");
		json_decref(j);
	}
	return 0;
}

/* Each line must be a JSON object with the final fields. */
static int
cmd_check_json(void)
{
	char *line;
	json_error_t err;
	json_t *j;
	int n = 0, bad = 0;
	static const char *need[] = { "bench", "measure", "unit", "median",
	    "min", "max", "target", "met" };

	while ((line = read_line_stdin()) != NULL) {
		n++;
		if ((j = json_loads(line, 0, &err)) == NULL ||
		    !json_is_object(j)) {
			fprintf(stderr, "check-json: line %d: %s\n", n,
			    j ? "not an object" : err.text);
			bad++;
			continue;
		}
		for (size_t i = 0; i < sizeof need / sizeof *need; i++)
			if (json_object_get(j, need[i]) == NULL) {
				fprintf(stderr, "check-json: line %d: no \"%s\"\n",
				    n, need[i]);
				bad++;
			}
		if (!json_is_number(json_object_get(j, "median")))
			bad++;
		json_decref(j);
	}
	if (n == 0) {
		fprintf(stderr, "check-json: no lines\n");
		return 1;
	}
	return bad ? 1 : 0;
}

/* 9. spawn: n permanent sleep actors, one spawn request each, pipelined
 * window deep, timed until the last is answered. With --state every
 * answer waits for its change to be on disk (group commit); with base
 * (the same run without --state, from a first daemon) the figure is
 * set beside it. */
static int
cmd_spawn(const char *sock, int n, long window, const char *basefile)
{
	struct conn *c = conn_open(sock);
	struct pollfd pf = { .fd = c->fd };
	char params[128];
	double t0, ms, rate;
	json_t *j, *base = NULL, *stats;
	json_int_t writes;

	(void)daemon_pid(c);
	c->sent = c->done = 0;
	t0 = now_ms();
	while (c->done < n) {
		while (c->sent < n && c->sent - c->done < window) {
			snprintf(params, sizeof params,
			    "{\"name\":\"s%ld\",\"kind\":\"sleep\","
			    "\"restart\":\"permanent\"}",
			    c->sent);
			conn_request(c, "spawn", params);
		}
		pf.events = POLLIN | (conn_want_write(c) ? POLLOUT : 0);
		if (poll(&pf, 1, 1000) == -1 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (conn_io(c, pf.revents) == -1)
			die("spawn: connection closed");
		while ((j = conn_next(c)) != NULL) {
			check_result(j, "spawn");
			c->done++;
			json_decref(j);
		}
	}
	ms = now_ms() - t0;
	rate = n / (ms / 1e3);
	stats = call(c, "stats", NULL, 10000);
	writes = json_integer_value(json_object_get(json_object_get(stats,
	    "result"), "state_writes"));
	json_decref(stats);
	if (basefile == NULL) {
		emit("spawn", "pipelined_no_state", "spawns/s", rate, NULL, 0, 0,
		    "none (the base of spawn with_state)", "none", 0,
		    json_pack("{s:i,s:I}", "n", n, "window",
		    (json_int_t)window));
	} else {
		json_error_t err;
		double plain;

		if ((base = json_load_file(basefile, 0, &err)) == NULL)
			die("spawn: %s: %s", basefile, err.text);
		plain = json_number_value(json_object_get(base, "value"));
		emit("spawn", "pipelined_with_state", "spawns/s", rate, "floor",
		    plain, rate / plain, "ratio >= 0.5 of without --state",
		    "ratio_ge", 0.5,
		    json_pack("{s:i,s:I,s:I}", "n", n, "window",
		    (json_int_t)window, "state_writes", writes));
		json_decref(base);
	}
	conn_close(c);
	return 0;
}

/* ---- workers' output (issue 16) ---- */

/* The worker of both output measures: `yes`-like, LINE (100 bytes with
 * its newline) until BYTES were written, as fast as it can. */
#define LOGS_LINE \
	"arbor-logs-bench-0123456789-0123456789-0123456789-0123456789-" \
	"0123456789-012345678901234567890\n"

static int
cmd_yes(long long bytes)
{
	static char buf[64 * 1024];
	size_t len = sizeof LOGS_LINE - 1, n = sizeof buf / len * len;

	for (size_t i = 0; i + len <= sizeof buf; i += len)
		memcpy(buf + i, LOGS_LINE, len);
	while (bytes > 0) {
		size_t w = bytes < (long long)n ? (size_t)bytes : n;
		ssize_t r = write(1, buf, w);

		if (r <= 0)
			return 1;
		bytes -= r;
	}
	return 0;
}

/* A line every ms milliseconds, until killed. */
static int
cmd_ticker(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	char line[64];
	long i = 0;

	for (;;) {
		int n = snprintf(line, sizeof line, "tick %ld\n", i++);

		if (write(1, line, (size_t)n) <= 0)
			return 1;
		nanosleep(&ts, NULL);
	}
}

static const char *
self_exe(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);

	if (n <= 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	path[n] = '\0';
	return path;
}

/* The same worker with its stdout on a file: the floor. Both sides are
 * timed until what they wrote is deleted again: arbord's rotation
 * deletes all but the last max_bytes x (keep + 1) while the worker runs,
 * so the floor's one file is deleted within its time too (freeing a
 * file's pages is a tenth of the work on ext4). */
static double
logs_floor(const char *file, long long bytes)
{
	char arg[32];
	double t0 = now_ms();
	pid_t pid;
	int st;

	snprintf(arg, sizeof arg, "%lld", bytes);
	if ((pid = fork()) == 0) {
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
		    0640);

		if (fd == -1 || dup2(fd, 1) == -1)
			_exit(127);
		execl(self_exe(), "bench", "yes", arg, (char *)NULL);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &st, 0) != pid || st != 0)
		die("logs: the floor worker failed");
	unlink(file);
	return now_ms() - t0;
}

/* 10. logs: a worker writing BYTES as fast as it can into a log file
 * through arbord, against the same worker writing straight to a file in
 * the same directory; meanwhile another client's ping and arbord's RSS. */
static int
cmd_logs(const char *sock, const char *dir, long long bytes)
{
	struct conn *c = conn_open(sock), *pc = conn_open(sock);
	long pid = daemon_pid(c), rss0, rss, peak = 0;
	char params[1024], file[512], floor_file[512];
	double t0, t, f, worst = 0;
	int done = 0;
	json_t *j;

	snprintf(file, sizeof file, "%s/arbord-logs.log", dir);
	snprintf(floor_file, sizeof floor_file, "%s/floor.log", dir);
	f = logs_floor(floor_file, bytes);
	usleep(200000);
	rss0 = proc_rss_bytes(pid);
	snprintf(params, sizeof params,
	    "{\"name\":\"yes\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"argv\":[\"%s\",\"yes\",\"%lld\"],\"log\":{\"file\":\"%s\","
	    "\"journal\":false}}",
	    self_exe(), bytes, file);
	t0 = now_ms();
	json_decref(call(c, "spawn", params, 60000));
	while (!done) {
		double p0 = now_ms(), dt;
		const char *state;

		json_decref(call(pc, "ping", NULL, 60000));
		if ((dt = now_ms() - p0) > worst)
			worst = dt;
		if ((rss = proc_rss_bytes(pid)) > peak)
			peak = rss;
		j = call(c, "inspect", "{\"path\":\"/yes\"}", 60000);
		state = json_string_value(json_object_get(
		    json_object_get(j, "result"), "state"));
		done = state != NULL && strcmp(state, "exited") == 0;
		json_decref(j);
		usleep(10000);
	}
	/* What is left of the files, as the floor deletes its own (the
	 * one arbord still has open is freed when it closes it, below). */
	for (int k = 0; k <= 5; k++) {
		char name[600];

		snprintf(name, sizeof name, k ? "%s.%d" : "%s", file, k);
		unlink(name);
	}
	t = now_ms() - t0;
	emit("logs", "file_sink_throughput", "MiB/s",
	    bytes / 1048576.0 / (t / 1e3), "floor",
	    bytes / 1048576.0 / (f / 1e3), f / t, ">= 0.7x writing straight "
	    "to a file", "ratio_ge", 0.7,
	    json_pack("{s:I,s:f,s:f}", "bytes", (json_int_t)bytes, "ms", t,
	    "floor_ms", f));
	emit("logs", "ping_worst_during_flood", "ms", worst, NULL, 0, 0,
	    "<= 20 ms", "le", 20, NULL);
	emit("logs", "rss_growth_during_flood", "MiB",
	    (peak - rss0) / 1048576.0, NULL, 0, 0, "<= 16 MiB", "le", 16,
	    NULL);
	json_decref(call(c, "remove", "{\"path\":\"/yes\"}", 60000));
	conn_close(pc);
	conn_close(c);
	return 0;
}

/* 11. journal: n workers each printing a line every 10 ms into a
 * journal socket this bench binds and drains; arbord's CPU over secs. */
static int
cmd_journal(const char *sock, const char *jsock, int n, double secs)
{
	struct conn *c = conn_open(sock);
	long pid = daemon_pid(c), t0, t1, first = c->next_id;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, big = 8 * 1024 * 1024, counts[2];
	char params[1024];
	pid_t drain;
	long got = 0, in0, in1;
	/* The drain's count, read by this process around the window. */
	volatile long *shared = mmap(NULL, sizeof(long),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double lines_s, cpu;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", jsock);
	unlink(jsock);
	if (shared == MAP_FAILED)
		die("journal: mmap: %s", strerror(errno));
	*shared = 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    pipe(counts) == -1)
		die("journal: cannot bind %s: %s", jsock, strerror(errno));
	if ((drain = fork()) == 0) {
		static char buf[1 << 17];
		struct timeval tv = { 1, 0 };
		long k = 0;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		for (;;) {
			ssize_t r = recv(fd, buf, sizeof buf, 0);

			if (r < 0 && errno == EAGAIN)
				break;
			/* A datagram holds one entry or several; each
			 * has one ARBOR_STREAM field. */
			for (char *p = buf; r > 0 &&
			     (p = memmem(p, (size_t)(buf + r - p),
			          "\nARBOR_STREAM=", 14)) != NULL;
			     p += 14)
				*shared = ++k;
		}
		if (write(counts[1], &k, sizeof k) != sizeof k)
			_exit(1);
		_exit(0);
	}
	close(counts[1]);
	for (int i = 0; i < n; i++) {
		snprintf(params, sizeof params,
		    "{\"name\":\"t%d\",\"kind\":\"exec\",\"argv\":[\"%s\","
		    "\"ticker\",\"10\"],\"log\":{\"journal\":true}}",
		    i, self_exe());
		conn_request(c, "spawn", params);
	}
	for (long id = first; id < first + n; id++) {
		json_t *j = conn_wait_id(c, id, NULL, NULL, 60000);

		check_result(j, "spawn ticker");
		json_decref(j);
	}
	usleep(1000000); /* let the starts settle */
	t0 = proc_ticks(pid);
	in0 = *shared;
	usleep((useconds_t)(secs * 1e6));
	t1 = proc_ticks(pid);
	in1 = *shared;
	json_decref(call(c, "cancel", "{\"path\":\"/\",\"wait\":true}",
	    60000));
	if (read(counts[0], &got, sizeof got) != sizeof got)
		got = -1;
	waitpid(drain, NULL, 0);
	close(fd);
	unlink(jsock);
	/* The cost is per line: arbord's CPU over the window per entry
	 * journald got in it, times the 100,000 lines a second of 1,000
	 * workers, whatever rate the workers reached on this machine. */
	munmap((void *)shared, sizeof(long));
	lines_s = (double)(in1 - in0) / secs;
	cpu = 100.0 * (double)(t1 - t0) / (secs * sysconf(_SC_CLK_TCK));
	emit("journal", "cpu_per_1000_workers_100_lines_per_s", "% of a core",
	    lines_s > 0 ? cpu / lines_s * 100000.0 : 1e9, NULL, 0, 0,
	    "<= 10 %", "le", 10,
	    json_pack("{s:i,s:f,s:f,s:f,s:f,s:I}", "workers", n, "seconds",
	    secs, "lines_per_s", lines_s, "cpu_percent", cpu,
	    "us_per_line", lines_s > 0 ? cpu * 1e4 / lines_s : 0.0,
	    "entries_received", (json_int_t)got));
	conn_close(c);
	return 0;
}

/* The identity a floor child takes, as arbord's child does for a spec
 * with "user": resolved once here (arbord resolves it per spawn). */
struct floor_ident {
	bool set;
	uid_t uid;
	gid_t gid;
	gid_t groups[256];
	int ngroups;
};

static void
floor_ident_resolve(const char *user, struct floor_ident *id)
{
	struct passwd *pw;

	id->set = false;
	if (*user == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL)
		die("cgexec: no user %s", user);
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	id->ngroups = 256;
	if (getgrouplist(pw->pw_name, pw->pw_gid, id->groups, &id->ngroups) ==
	    -1)
		die("cgexec: the groups of %s", user);
	id->set = true;
}

/* The floor of a worker with a cgroup of its own, as a plain C loop does
 * it: mkdir, open its cgroup.procs, vfork, the child writes "0" there,
 * takes the user's groups, gid and uid (raw calls, as arbord's child) and
 * execs; stopping is SIGTERM, waitpid and rmdir. */
static pid_t
floor_cg_spawn(const char *dir, const struct floor_ident *id)
{
	char path[512];
	char *args[] = { "sleep", marker, NULL };
	pid_t pid;
	int fd;

	if (mkdir(dir, 0755) == -1)
		die("cgexec: mkdir %s: %s", dir, strerror(errno));
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		die("cgexec: %s: %s", path, strerror(errno));
	pid = vfork();
	if (pid == 0) {
		if (write(fd, "0", 1) != 1)
			_exit(126);
		if (id->set &&
		    (syscall(SYS_setgroups, id->ngroups, id->groups) == -1 ||
		        syscall(SYS_setresgid, id->gid, id->gid, id->gid) ==
		            -1 ||
		        syscall(SYS_setresuid, id->uid, id->uid, id->uid) ==
		            -1))
			_exit(125);
		execvp("sleep", args);
		_exit(127);
	}
	close(fd);
	if (pid == -1)
		die("cgexec: vfork failed");
	return pid;
}

/* 2b. cgexec: n exec workers, each with its cgroup (arbord runs with
 * --cgroup) and, with user, running as that user, against the floor of
 * the same work in a plain loop below floor_root; extra goes into every
 * spec too. */
static int
cmd_cgexec(const char *sock, int n, const char *floor_root, const char *extra,
    const char *user)
{
	struct conn *c = conn_open(sock);
	double t0, t_spawn, t_cancel, f_spawn, f_stop, c0, c_spawn, c_cancel;
	double fc_spawn, fc_stop;
	char dir[512], fields[512];
	struct floor_ident id;
	json_t *j, *st;
	long pid = daemon_pid(c);
	st = call(c, "stats", NULL, 10000);
	if (!json_is_true(json_object_get(json_object_get(json_object_get(st,
	        "result"), "cgroups"), "available")))
		die("cgexec: arbord has no cgroups");
	json_decref(st);
	if (count_marked() != 0)
		die("cgexec: stray processes with marker %s", marker);
	floor_ident_resolve(user, &id);
	snprintf(fields, sizeof fields, "%s%s%s%s", extra,
	    *user != '\0' ? ",\"user\":\"" : "", user, *user != '\0' ? "\"" : "");
	c0 = proc_cpu_ms(pid);
	t0 = now_ms();
	spawn_execs_with(c, n, "g", fields);
	wait_marked(n, 60000, "cgexec spawn");
	t_spawn = now_ms() - t0;
	c_spawn = proc_cpu_ms(pid) - c0;
	c0 = proc_cpu_ms(pid);
	t0 = now_ms();
	j = call(c, "cancel", "{\"path\":\"/\",\"wait\":true}", 60000);
	json_decref(j);
	wait_marked(0, 60000, "cgexec cancel");
	t_cancel = now_ms() - t0;
	c_cancel = proc_cpu_ms(pid) - c0;

	if (mkdir(floor_root, 0755) == -1 && errno != EEXIST)
		die("cgexec: mkdir %s: %s", floor_root, strerror(errno));
	floor_pids = calloc((size_t)n, sizeof *floor_pids);
	c0 = self_cpu_ms();
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		snprintf(dir, sizeof dir, "%s/f%d", floor_root, i);
		floor_pids[i] = floor_cg_spawn(dir, &id);
		nfloor_pids = i + 1;
	}
	wait_marked(n, 60000, "cgexec floor spawn");
	f_spawn = now_ms() - t0;
	fc_spawn = self_cpu_ms() - c0;
	c0 = self_cpu_ms();
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		kill(floor_pids[i], SIGTERM);
	for (int i = 0; i < n; i++) {
		waitpid(floor_pids[i], NULL, 0);
		floor_pids[i] = 0;
		snprintf(dir, sizeof dir, "%s/f%d", floor_root, i);
		if (rmdir(dir) == -1)
			die("cgexec: rmdir %s: %s", dir, strerror(errno));
	}
	wait_marked(0, 60000, "cgexec floor stop");
	f_stop = now_ms() - t0;
	fc_stop = self_cpu_ms() - c0;
	nfloor_pids = 0;
	rmdir(floor_root);

	/* arbord_cpu_ms, floor_cpu_ms: arbord's own CPU and the loop's
	 * (the vfork children's time before their exec is theirs) over the
	 * same intervals: less noisy than wall time on a shared machine. */
	emit("cgexec", "spawn_until_running", "ms", t_spawn, "floor", f_spawn,
	    t_spawn / f_spawn, "ratio <= 1.3", "ratio_le", 1.3,
	    json_pack("{s:i,s:s,s:f,s:f}", "n", n, "user", user,
	    "arbord_cpu_ms", c_spawn, "floor_cpu_ms", fc_spawn));
	emit("cgexec", "cancel_until_gone", "ms", t_cancel, "floor", f_stop,
	    t_cancel / f_stop, "ratio <= 1.3", "ratio_le", 1.3,
	    json_pack("{s:i,s:s,s:f,s:f}", "n", n, "user", user,
	    "arbord_cpu_ms", c_cancel, "floor_cpu_ms", fc_stop));
	if (*extra != '\0')
		fprintf(stderr, "bench: cgexec specs with %s\n", extra);
	conn_close(c);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench tree SOCKET SUPS CHILDREN\n"
	    "       bench exec SOCKET N\n"
	    "       bench cgexec SOCKET N FLOOR_CGROUP [SPEC_EXTRA [USER]]\n"
	    "       bench rate SOCKET N SECONDS WINDOW\n"
	    "       bench concurrency SOCKET CONNS SECONDS WINDOW\n"
	    "       bench idle SOCKET N SECONDS\n"
	    "       bench health SOCKET N SECONDS\n"
	    "       bench rolling SOCKET N\n"
	    "       bench latency SOCKET CHILDREN RUNS\n"
	    "       bench stream SOCKET SUPS CHILDREN\n"
	    "       bench spawn SOCKET N WINDOW [BASE.json]\n"
	    "       bench peers SOCKET N SECONDS PEER.json\n"
	    "       bench logs SOCKET DIR BYTES\n"
	    "       bench journal SOCKET JOURNAL_SOCKET N SECONDS\n"
	    "       bench aggregate|markdown|check-json < LINES\n"
	    "       bench kill-marked\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *m = getenv("BENCH_MARKER"), *tl = getenv("BENCH_TIMEOUT");
	struct sigaction sa = { .sa_handler = on_alarm };

	if (argc < 2)
		usage();
	/* The workers of the output measures: no alarm, no handlers. */
	if (strcmp(argv[1], "yes") == 0 && argc == 3)
		return cmd_yes(atoll(argv[2]));
	if (strcmp(argv[1], "ticker") == 0 && argc == 3)
		return cmd_ticker(atoi(argv[2]));
	if (strcmp(argv[1], "http-serve") == 0 && argc == 2)
		return cmd_http_serve();
	snprintf(marker, sizeof marker, "%s", m && *m ? m : "");
	if (marker[0] == '\0')
		snprintf(marker, sizeof marker, "1000.%ld", (long)getpid());
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm(tl ? (unsigned)atoi(tl) : 300);
	atexit(kill_floor);

	const char *cmd = argv[1];
	if (strcmp(cmd, "aggregate") == 0)
		return cmd_aggregate();
	if (strcmp(cmd, "markdown") == 0)
		return cmd_markdown();
	if (strcmp(cmd, "check-json") == 0)
		return cmd_check_json();
	if (strcmp(cmd, "kill-marked") == 0) {
		/* bench/run's cleanup: SIGKILL, by pid, to what is left. */
		int n = scan_marked(1);
		if (n > 0)
			fprintf(stderr, "bench: killed %d leftover sleep %s\n",
			    n, marker);
		return 0;
	}
	if (strcmp(cmd, "logs") == 0 && argc == 5)
		return cmd_logs(argv[2], argv[3], atoll(argv[4]));
	if (strcmp(cmd, "journal") == 0 && argc == 6)
		return cmd_journal(argv[2], argv[3], atoi(argv[4]),
		    atof(argv[5]));
	if (strcmp(cmd, "tree") == 0 && argc == 5)
		return cmd_tree(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (strcmp(cmd, "exec") == 0 && argc == 4)
		return cmd_exec(argv[2], atoi(argv[3]));
	if (strcmp(cmd, "cgexec") == 0 && argc >= 5 && argc <= 7)
		return cmd_cgexec(argv[2], atoi(argv[3]), argv[4],
		    argc >= 6 ? argv[5] : "", argc == 7 ? argv[6] : "");
	if (strcmp(cmd, "rate") == 0 && argc == 6)
		return cmd_rate(argv[2], atol(argv[3]), atof(argv[4]),
		    atol(argv[5]));
	if (strcmp(cmd, "concurrency") == 0 && argc == 6)
		return cmd_concurrency(argv[2], atoi(argv[3]), atof(argv[4]),
		    atol(argv[5]));
	if (strcmp(cmd, "idle") == 0 && argc == 5)
		return cmd_idle(argv[2], atoi(argv[3]), atof(argv[4]));
	if (strcmp(cmd, "health") == 0 && argc == 5)
		return cmd_health(argv[2], atoi(argv[3]), atof(argv[4]));
	if (strcmp(cmd, "rolling") == 0 && argc == 4)
		return cmd_rolling(argv[2], atoi(argv[3]));
	if (strcmp(cmd, "spawn") == 0 && (argc == 5 || argc == 6))
		return cmd_spawn(argv[2], atoi(argv[3]), atol(argv[4]),
		    argc == 6 ? argv[5] : NULL);
	if (strcmp(cmd, "stream") == 0 && argc == 5)
		return cmd_stream(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (strcmp(cmd, "latency") == 0 && argc == 5)
		return cmd_latency(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (strcmp(cmd, "peers") == 0 && argc == 6)
		return cmd_peers(argv[2], atoi(argv[3]), atof(argv[4]), argv[5]);
	usage();
	return 2;
}
