/*
 * Random operations against a real arbord, driven by one seed: random trees
 * of every kind and strategy, several clients pipelining spawn, cancel,
 * restart, remove, wait and inspect on random paths, and a watch on "/"
 * whose events keep a model of the tree. Every event is checked against
 * the model (states, `from`, the terminated-after-descendants rule, causes,
 * nothing after `removed`, no client cancel undone by a group restart),
 * every answer against the contract (known errors, answered in time), the
 * tree is scanned for wedges (backoff with no timer, stopping with nothing
 * left to wait for), and at the end the daemon must settle, stop
 * everything, give its fds back and exit 0 leaving no process of the run.
 *
 * The seed, the duration and the cause check come from the command line
 * (--seed N, --seconds S, --no-strict-causes) or from ARBOR_RANDOM_SEED and
 * ARBOR_RANDOM_SECONDS; `make check` runs the short default. A seed fixes
 * every random choice; what the daemon's timing makes of them can still
 * vary a little from run to run, so run a failing seed a few times.
 * docs/faults.md says what each check means.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* --- options ---------------------------------------------------------- */

static unsigned long r_seed = 1;
static int r_seconds = 12;
static bool r_strict_causes = true;
static int r_nclients = 3;
static bool r_verbose;
/* Set when the run got to its verdict without a violation. */
static bool r_passed;

/* Live nodes the clients keep the tree under. */
#define R_MAX_LIVE 45
/* Requests a client keeps in flight. */
#define R_MAX_INFLIGHT 12
/* Any answer comes within this. */
#define R_ANSWER_MS 10000
/* Slack on top of what a stop may take (scheduling on a busy machine). */
#define R_SLACK_MS 3000
/* A backoff or start that nothing explains is a wedge after this long. */
#define R_WEDGE_MS 3000
#define R_PATH_MAX 256

/* --- time and randomness ---------------------------------------------- */


static int64_t
r_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
r_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* splitmix64: one stream for the specs, one per client, all from the seed,
 * so what one client draws does not shift what another does. */
struct r_rng {
	uint64_t s;
};

static uint64_t
r_next(struct r_rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int
r_range(struct r_rng *g, int lo, int hi)
{
	return lo + (int)(r_next(g) % (uint64_t)(hi - lo + 1));
}

static bool
r_chance(struct r_rng *g, int percent)
{
	return r_range(g, 0, 99) < percent;
}

static struct r_rng r_spec_rng;

/* --- what this run started: found by its marker ----------------------- */

/* Every exec spec carries ARBOR_FAULT_TAG=r_tag, as in test_faults.c. */
static char r_tag[64];
static pid_t r_daemon_pid;

static bool
r_has_tag(pid_t pid)
{
	static char buf[65536];
	char path[64];
	ssize_t n, len = 0, i;
	size_t tl = strlen("ARBOR_FAULT_TAG=");
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	while ((size_t)len < sizeof buf - 1 && (n = read(fd, buf + len,
	    sizeof buf - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	for (i = 0; i < len; i += (ssize_t)strlen(buf + i) + 1)
		if (strncmp(buf + i, "ARBOR_FAULT_TAG=", tl) == 0)
			return strcmp(buf + i + tl, r_tag) == 0;
	return false;
}

/* Live processes of this run; up to max of their pids into pids. */
static int
r_tagged(pid_t *pids, int max)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		pid_t p = (pid_t)atol(de->d_name);

		if (p <= 0 || !r_has_tag(p))
			continue;
		if (pids != NULL && n < max)
			pids[n] = p;
		n++;
	}
	closedir(dir);
	return n;
}

static void
r_kill_tagged(void)
{
	pid_t pids[512];
	int n;

	for (int pass = 0; pass < 100; pass++) {
		if ((n = r_tagged(pids, 512)) == 0)
			return;
		for (int i = 0; i < n && i < 512; i++)
			kill(pids[i], SIGKILL);
		r_sleep_ms(10);
	}
}

/* The hard timeout: whatever happened, the daemon (by its pid) goes, and
 * the seed is said. */
static void
r_alarm(int sig)
{
	static char msg[160];
	int n;

	(void)sig;
	if (r_daemon_pid > 0)
		kill(r_daemon_pid, SIGKILL);
	n = snprintf(msg, sizeof msg, "# HARD TIMEOUT: test_random --seed %lu "
	    "--seconds %d did not finish\n", r_seed, r_seconds);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	_exit(1);
}

/* --- violations ------------------------------------------------------- */

enum r_check {
	C_STATE_NAME,		/* a state outside the six */
	C_FROM,			/* `from` is not the model's state */
	C_TERMINATED_EARLY,	/* terminated while a descendant is not */
	C_REVIVED_UNDER_DEAD,	/* left terminated under a terminated ancestor */
	C_CAUSE,		/* into stopping/backoff/exited/failed, no cause */
	C_AFTER_REMOVED,	/* an event for a removed or unknown id */
	C_REMOVED_ALIVE,	/* removed while it or a descendant lives */
	C_CANCEL_UNDONE,	/* a client's cancel undone by a group restart */
	C_EVENT_STREAM,		/* seq, gap, overflow, spawned twice */
	C_ERROR_CODE,		/* an error the contract does not allow there */
	C_RESULT,		/* a result that breaks the contract */
	C_NO_ANSWER,		/* not answered in time */
	C_STUCK_STOPPING,	/* stopping longer than its graces allow */
	C_WEDGE,		/* backoff/starting/stopping nothing explains */
	C_END,			/* the final cancel, removal, fds, exit, strays */
	C__COUNT
};

static const char *const r_check_names[C__COUNT] = {
	[C_STATE_NAME] = "state-name",
	[C_FROM] = "from-matches-model",
	[C_TERMINATED_EARLY] = "terminated-after-descendants",
	[C_REVIVED_UNDER_DEAD] = "no-start-under-terminated",
	[C_CAUSE] = "cause-on-stop",
	[C_AFTER_REMOVED] = "nothing-after-removed",
	[C_REMOVED_ALIVE] = "removed-only-when-terminated",
	[C_CANCEL_UNDONE] = "cancel-not-undone",
	[C_EVENT_STREAM] = "event-stream",
	[C_ERROR_CODE] = "error-codes",
	[C_RESULT] = "results",
	[C_NO_ANSWER] = "answered-in-time",
	[C_STUCK_STOPPING] = "stop-within-grace",
	[C_WEDGE] = "no-wedge",
	[C_END] = "clean-end",
};

static int r_count[C__COUNT];
/* Details printed per check; the rest are only counted. */
#define R_DETAILS 4

static int64_t r_t0;

static void r_dump_context(const char *path);

static void __attribute__((format(printf, 3, 4)))
r_violation(enum r_check c, const char *path, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	r_count[c]++;
	if (r_count[c] > R_DETAILS && !r_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "# VIOLATION %s (seed %lu, t=%.1fs): %s\n",
	    r_check_names[c], r_seed, (double)(h_now_ms() - r_t0) / 1000, msg);
	if (path != NULL)
		r_dump_context(path);
}

/* --- specs the test made, by path ------------------------------------- */

enum r_kind { K_SUP, K_EXEC, K_SLEEP, K_TICK, K_FAIL };

struct r_info {
	char path[R_PATH_MAX];
	enum r_kind kind;
	int shutdown_ms;
	int backoff_max_ms;
	int start_timeout_ms;
	bool stubborn;		/* ignores TERM: stops only at its SIGKILL */
	char strategy[16];
};

/* Each allocated on its own: nodes of the model point to theirs. */
static struct r_info **r_infos;
static int r_ninfos, r_capinfos;
static int r_max_backoff_ms = 0, r_max_shutdown_ms = 0;

static struct r_info *
r_info_add(const char *path)
{
	struct r_info *info = calloc(1, sizeof *info);

	assert_non_null(info);
	if (r_ninfos == r_capinfos) {
		r_capinfos = r_capinfos ? r_capinfos * 2 : 256;
		r_infos = realloc(r_infos, (size_t)r_capinfos *
		    sizeof *r_infos);
		assert_non_null(r_infos);
	}
	snprintf(info->path, R_PATH_MAX, "%s", path);
	r_infos[r_ninfos++] = info;
	return info;
}

static const struct r_info *
r_info_find(const char *path)
{
	/* Names are never reused in a run, so a path is one node. */
	for (int i = r_ninfos - 1; i >= 0; i--)
		if (strcmp(r_infos[i]->path, path) == 0)
			return r_infos[i];
	return NULL;
}

/* --- the model, kept from the watch's events ----------------------------*/

enum { S_STARTING, S_RUNNING, S_BACKOFF, S_STOPPING, S_EXITED, S_FAILED,
    S__COUNT };
static const char *const r_state_names[S__COUNT] = { "starting", "running",
    "backoff", "stopping", "exited", "failed" };

struct m_node {
	json_int_t id;
	char path[R_PATH_MAX];
	int depth;			/* the root is 0 */
	int state;
	bool removed;
	const struct r_info *info;	/* NULL for the root */
	int64_t state_ms;		/* when the model last saw it move */
	bool stuck_reported;
	/* A client's cancel ended it (cause "cancelled..."): when. */
	int64_t cancelled_end_ms;
	char last_cause[96];
	/* The last restart a client sent for it or an ancestor. */
	int64_t restart_sent_ms;
	/* The last new start of an ancestor (whole-parent restart). */
	int64_t ancestor_start_ms;
	/* Wedge scans: since when nothing explains its state. */
	int64_t unexplained_ms;
	bool wedge_reported;
};

static struct m_node *m_nodes;
static int m_n, m_cap;

static bool
r_terminated(int s)
{
	return s == S_EXITED || s == S_FAILED;
}

static int
r_state_of(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < S__COUNT; i++)
		if (strcmp(name, r_state_names[i]) == 0)
			return i;
	return -1;
}

static struct m_node *
m_by_id(json_int_t id)
{
	for (int i = m_n - 1; i >= 0; i--)
		if (m_nodes[i].id == id)
			return &m_nodes[i];
	return NULL;
}

static struct m_node *
m_by_path(const char *path)
{
	for (int i = m_n - 1; i >= 0; i--)
		if (!m_nodes[i].removed && strcmp(m_nodes[i].path, path) == 0)
			return &m_nodes[i];
	return NULL;
}

/* Whether d is a strict descendant of the node at path a. */
static bool
r_below(const char *d, const char *a)
{
	size_t al = strlen(a);

	if (strcmp(a, "/") == 0)
		return strcmp(d, "/") != 0;
	return strncmp(d, a, al) == 0 && d[al] == '/';
}

static struct m_node *
m_add(json_int_t id, const char *path)
{
	struct m_node *m;

	if (m_n == m_cap) {
		m_cap = m_cap ? m_cap * 2 : 256;
		m_nodes = realloc(m_nodes, (size_t)m_cap * sizeof *m_nodes);
		assert_non_null(m_nodes);
	}
	m = &m_nodes[m_n++];
	memset(m, 0, sizeof *m);
	m->id = id;
	snprintf(m->path, sizeof m->path, "%s", path);
	for (const char *p = path; *p != '\0'; p++)
		m->depth += *p == '/';
	if (strcmp(path, "/") == 0)
		m->depth = 0;
	m->state = S_STARTING;
	m->state_ms = h_now_ms();
	m->info = r_info_find(path);
	return m;
}

static int
m_live_count(void)
{
	int n = 0;

	for (int i = 0; i < m_n; i++)
		n += !m_nodes[i].removed;
	return n;
}

/* The longest a stop of the subtree at m may take: the graces along the
 * deepest chain of it, each child stopped at once with its own. */
static int
m_stop_bound(const struct m_node *m)
{
	int best = 0;

	for (int i = 0; i < m_n; i++) {
		const struct m_node *d = &m_nodes[i];
		int sum = 0;

		if (d->removed || (d != m && !r_below(d->path, m->path)))
			continue;
		/* Sum the graces from m down to d. */
		for (int j = 0; j < m_n; j++) {
			const struct m_node *a = &m_nodes[j];

			if (a->removed || a->info == NULL)
				continue;
			if ((a == m || r_below(a->path, m->path)) && (a == d ||
			    r_below(d->path, a->path)))
				sum += a->info->shutdown_ms;
		}
		if (sum > best)
			best = sum;
	}
	return best;
}

/* --- the last events, for reports ------------------------------------- */

#define R_RING 512
static char *r_ring[R_RING];
static unsigned r_ring_next;

static void
r_ring_add(const char *line)
{
	free(r_ring[r_ring_next % R_RING]);
	r_ring[r_ring_next % R_RING] = strdup(line);
	r_ring_next++;
}

/* --- connections ------------------------------------------------------ */

enum r_op { OP_SPAWN, OP_CANCEL, OP_RESTART, OP_REMOVE, OP_WAIT, OP_INSPECT,
    OP_OTHER, OP__COUNT };
static const char *const r_op_names[OP__COUNT] = { "spawn", "cancel",
    "restart", "remove", "wait", "inspect", "other" };

struct r_req {
	long id;
	enum r_op op;
	char path[R_PATH_MAX];
	bool wait, remove;
	int want;		/* wait: S_RUNNING, or -1 for terminated */
	int64_t sent_ms, deadline_ms;
	bool overdue;		/* reported; its answer may still come */
	char *text;
};

struct r_conn {
	int fd;
	char *buf;
	size_t len, cap;
	struct r_req reqs[64];
	int nreqs;
	int64_t next_ms;
	struct r_rng rng;
};

static struct daemon_proc r_d;
static struct r_conn r_clients[16];
static struct r_conn r_watch, r_check;
/* A scan's answer is awaited on r_check: a report does not ask there. */
static bool r_scanning;
static long r_next_id = 1;

static struct {
	long sent[OP__COUNT], ok[OP__COUNT], errors[OP__COUNT];
	long events, states, causeless;
	long spawned_nodes, scans;
	int64_t max_latency_ms;
	char max_latency_req[256];
	/* The answer closest to its bound: how much of it was left. */
	int64_t min_margin_ms, min_margin_bound_ms;
	char min_margin_req[256];
} r_stats;

static void
r_conn_open(struct r_conn *c, uint64_t stream)
{
	memset(c, 0, sizeof *c);
	c->fd = h_connect(&r_d);
	c->rng.s = ((uint64_t)r_seed << 8) ^ (stream * 0x2545f4914f6cdd1dULL);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

static void
r_conn_close(struct r_conn *c)
{
	if (c->fd > 0)
		close(c->fd);
	c->fd = -1;
	for (int i = 0; i < c->nreqs; i++)
		free(c->reqs[i].text);
	c->nreqs = 0;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void
r_send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 100);
			continue;
		}
		if (w <= 0)
			fail_msg("send to arbord: %s (seed %lu)",
			    strerror(errno), r_seed);
		p += w;
		len -= (size_t)w;
	}
}

/* Reads what is there; false on EOF. */
static bool
r_fill(struct r_conn *c)
{
	for (;;) {
		ssize_t r;

		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = realloc(c->buf, c->cap);
			assert_non_null(c->buf);
		}
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r > 0) {
			c->len += (size_t)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		return false;
	}
}

/* The next whole line of c as JSON (into *raw as text), NULL if none. */
static json_t *
r_line(struct r_conn *c, char **raw)
{
	char *nl = c->buf != NULL ? memchr(c->buf, '\n', c->len) : NULL;
	size_t n;
	json_error_t jerr;
	json_t *msg;

	if (nl == NULL)
		return NULL;
	n = (size_t)(nl - c->buf);
	msg = json_loadb(c->buf, n, 0, &jerr);
	if (msg == NULL)
		fail_msg("bad JSON from arbord: %s (seed %lu)", jerr.text,
		    r_seed);
	if (raw != NULL) {
		*raw = strndup(c->buf, n);
	}
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return msg;
}

/* Sends a request on c and keeps it in c's list. */
static struct r_req *
r_send(struct r_conn *c, enum r_op op, const char *method, json_t *params,
    const char *path, int64_t bound_ms)
{
	json_t *req = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id",
	    (json_int_t)r_next_id, "method", method);
	struct r_req *q;
	char *text;

	assert_true(c->nreqs < 64);
	if (params != NULL)
		json_object_set_new(req, "params", params);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	q = &c->reqs[c->nreqs++];
	memset(q, 0, sizeof *q);
	q->id = r_next_id++;
	q->op = op;
	snprintf(q->path, sizeof q->path, "%s", path ? path : "");
	q->sent_ms = h_now_ms();
	q->deadline_ms = q->sent_ms + bound_ms;
	q->text = text;
	r_stats.sent[op]++;
	if (r_verbose)
		fprintf(stderr, "# -> %s\n", text);
	r_send_all(c->fd, text, strlen(text));
	r_send_all(c->fd, "\n", 1);
	return q;
}

/* --- checking events against the model -------------------------------- */

static void
r_dump_context(const char *path)
{
	struct r_conn *c = &r_check;
	char parent[R_PATH_MAX], *slash;
	int shown = 0;
	unsigned i;

	/* The subtree around it, asked on the checker's own connection. */
	snprintf(parent, sizeof parent, "%s", path);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
		*slash = '\0';
	else
		snprintf(parent, sizeof parent, "%s", path);
	if (c->fd > 0 && !r_scanning) {
		json_t *req = json_pack("{s:s,s:I,s:s,s:{s:s,s:i}}", "jsonrpc",
		    "2.0", "id", (json_int_t)0, "method", "inspect", "params",
		    "path", parent, "depth", -1);
		char *text = json_dumps(req, JSON_COMPACT);
		int64_t until = h_now_ms() + 5000;

		json_decref(req);
		r_send_all(c->fd, text, strlen(text));
		r_send_all(c->fd, "\n", 1);
		free(text);
		while (h_now_ms() < until) {
			struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
			json_t *msg;

			if ((msg = r_line(c, NULL)) != NULL) {
				char *t = json_dumps(json_object_get(msg,
				    "result") ? json_object_get(msg, "result") :
				    msg, JSON_INDENT(1) | JSON_COMPACT);

				fprintf(stderr, "#   inspect %s depth -1:\n%s\n",
				    parent, t);
				free(t);
				json_decref(msg);
				break;
			}
			poll(&pfd, 1, 100);
			if (!r_fill(c))
				break;
		}
	}
	fprintf(stderr, "#   last events under %s:\n", parent);
	for (i = r_ring_next; i > 0 && r_ring_next - i < R_RING && shown < 50;
	    i--) {
		const char *e = r_ring[(i - 1) % R_RING];
		char needle[R_PATH_MAX + 16];

		char needle2[R_PATH_MAX + 16];

		/* The node itself, or below it ("/a/b" is not "/a/bc"). */
		snprintf(needle, sizeof needle, "\"path\":\"%s\"", parent);
		snprintf(needle2, sizeof needle2, "\"path\":\"%s/", parent);
		if (e != NULL && (strcmp(parent, "/") == 0 || strstr(e, needle)
		    != NULL || strstr(e, needle2) != NULL)) {
			fprintf(stderr, "#     %s\n", e);
			shown++;
		}
	}
}

/* A node moved into m's parent's new start: its children may start again. */
static void
m_mark_ancestor_start(const struct m_node *m, int64_t now)
{
	for (int i = 0; i < m_n; i++)
		if (!m_nodes[i].removed && r_below(m_nodes[i].path, m->path))
			m_nodes[i].ancestor_start_ms = now;
}

static void
r_on_spawned(json_t *ev, const char *path, json_int_t id)
{
	char parent[R_PATH_MAX], *slash;
	struct m_node *p, *m;

	if (m_by_id(id) != NULL) {
		r_violation(C_EVENT_STREAM, path, "spawned twice: id %lld %s",
		    (long long)id, path);
		return;
	}
	snprintf(parent, sizeof parent, "%s", path);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	p = m_by_path(parent);
	if (p == NULL)
		r_violation(C_EVENT_STREAM, path, "%s spawned before its "
		    "parent %s (or under a removed one)", path, parent);
	else if (r_terminated(p->state))
		r_violation(C_REVIVED_UNDER_DEAD, path, "%s spawned under %s, "
		    "which is %s", path, parent, r_state_names[p->state]);
	m = m_add(id, path);
	r_stats.spawned_nodes++;
	if (m->info == NULL)
		r_violation(C_EVENT_STREAM, path, "spawned %s, which no client "
		    "asked for", path);
	(void)ev;
}

static void
r_on_state(json_t *ev, const char *path, json_int_t id)
{
	struct m_node *m = m_by_id(id);
	const char *fs = h_str(ev, "from"), *ts = h_str(ev, "to");
	const char *cause = h_str(ev, "cause");
	int from = r_state_of(fs), to = r_state_of(ts);
	int64_t now = h_now_ms();

	r_stats.states++;
	if (m == NULL || m->removed) {
		r_violation(C_AFTER_REMOVED, path, "state event %s -> %s for "
		    "id %lld (%s), %s", fs, ts, (long long)id, path, m == NULL ?
		    "never spawned" : "already removed");
		return;
	}
	if (from < 0 || to < 0) {
		r_violation(C_STATE_NAME, path, "%s: state event %s -> %s",
		    path, fs ? fs : "(null)", ts ? ts : "(null)");
		return;
	}
	if (from != m->state)
		r_violation(C_FROM, path, "%s: event from %s, but the model "
		    "has it %s", path, fs, r_state_names[m->state]);
	if (from == to)
		r_violation(C_EVENT_STREAM, path, "%s: event %s -> %s", path,
		    fs, ts);
	if ((to == S_STOPPING || to == S_BACKOFF || r_terminated(to)) &&
	    (cause == NULL || *cause == '\0')) {
		r_stats.causeless++;
		if (r_strict_causes)
			r_violation(C_CAUSE, path, "%s: %s -> %s without a "
			    "cause", path, fs, ts);
	}
	if (r_terminated(to)) {
		for (int i = 0; i < m_n; i++) {
			struct m_node *d = &m_nodes[i];

			if (!d->removed && !r_terminated(d->state) &&
			    r_below(d->path, m->path)) {
				r_violation(C_TERMINATED_EARLY, path, "%s "
				    "became %s while %s is %s", path, ts,
				    d->path, r_state_names[d->state]);
				break;
			}
		}
	}
	if (r_terminated(from) && !r_terminated(to)) {
		for (int i = 0; i < m_n; i++) {
			struct m_node *a = &m_nodes[i];

			if (!a->removed && r_terminated(a->state) &&
			    r_below(m->path, a->path)) {
				r_violation(C_REVIVED_UNDER_DEAD, path, "%s "
				    "went %s -> %s while its ancestor %s is "
				    "%s", path, fs, ts, a->path,
				    r_state_names[a->state]);
				break;
			}
		}
		/* A client (or a deadline) stopped it; only a client restart
		 * (of it or an ancestor, sent about then or later) or a new
		 * start of an ancestor may start it again, never its parent's
		 * group restart or ordered start. */
		if (m->cancelled_end_ms != 0 && to == S_STARTING &&
		    m->restart_sent_ms < m->cancelled_end_ms - 2000 &&
		    m->ancestor_start_ms < m->cancelled_end_ms)
			r_violation(C_CANCEL_UNDONE, path, "%s was stopped "
			    "for good (exited, cause '%s') and its parent "
			    "started it again (%s -> starting) with no client "
			    "restart of it and no new start of its parent",
			    path, m->last_cause, fs);
	}
	snprintf(m->last_cause, sizeof m->last_cause, "%s", cause ? cause :
	    "null");
	/* Stops that no supervisor may undo: a client's cancel, one of an
	 * ancestor's, a deadline. */
	if (r_terminated(to))
		m->cancelled_end_ms = cause != NULL && (strncmp(cause,
		    "cancelled", 9) == 0 || strncmp(cause, "parent cancelled",
		    16) == 0 || strcmp(cause, "deadline exceeded") == 0) ?
		    now : 0;
	if (to == S_STARTING && m->info != NULL && m->info->kind == K_SUP)
		m_mark_ancestor_start(m, now);
	m->state = to;
	m->state_ms = now;
	m->stuck_reported = false;
	m->unexplained_ms = 0;
}

static void
r_on_removed(json_t *ev, const char *path, json_int_t id)
{
	struct m_node *m = m_by_id(id);

	if (m == NULL || m->removed) {
		r_violation(C_AFTER_REMOVED, path, "removed event for id %lld "
		    "(%s), %s", (long long)id, path, m == NULL ?
		    "never spawned" : "removed twice");
		return;
	}
	if (!r_terminated(m->state))
		r_violation(C_REMOVED_ALIVE, path, "%s removed while %s", path,
		    r_state_names[m->state]);
	for (int i = 0; i < m_n; i++)
		if (!m_nodes[i].removed && r_below(m_nodes[i].path, m->path)) {
			r_violation(C_REMOVED_ALIVE, path, "%s removed before "
			    "its descendant %s", path, m_nodes[i].path);
			break;
		}
	m->removed = true;
	(void)ev;
}

static json_int_t r_last_seq;

static void
r_on_event(json_t *params, const char *raw)
{
	const char *type = h_str(params, "type"), *path = h_str(params,
	    "path");
	json_int_t seq = h_num(params, "seq"), id = h_num(params, "id");

	r_stats.events++;
	r_ring_add(raw);
	if (r_verbose)
		fprintf(stderr, "# <- %s\n", raw);
	if (seq <= r_last_seq)
		r_violation(C_EVENT_STREAM, NULL, "seq %lld after %lld",
		    (long long)seq, (long long)r_last_seq);
	r_last_seq = seq;
	if (type == NULL) {
		r_violation(C_EVENT_STREAM, NULL, "event without a type: %s",
		    raw);
	} else if (strcmp(type, "spawned") == 0 && path != NULL) {
		r_on_spawned(params, path, id);
	} else if (strcmp(type, "state") == 0 && path != NULL) {
		r_on_state(params, path, id);
	} else if (strcmp(type, "removed") == 0 && path != NULL) {
		r_on_removed(params, path, id);
	} else {
		r_violation(C_EVENT_STREAM, NULL, "unexpected event: %s", raw);
	}
}

/* --- checking answers against the contract ----------------------------- */

static const struct {
	int code;
	const char *kinds[2];
} r_codes[] = {
	{ -32700, { "parse_error" } },
	{ -32600, { "invalid_request", "too_large" } },
	{ -32601, { "method_not_found" } },
	{ -32602, { "invalid_params" } },
	{ -32603, { "internal" } },
	{ -32001, { "not_found" } },
	{ -32002, { "exists" } },
	{ -32003, { "conflict", "forbidden" } },
	{ -32004, { "limit" } },
	{ -32005, { "timeout" } },
	{ -32006, { "spawn_failed" } },
};

/* The error kinds a well-formed request of each op may get here. */
static bool
r_error_allowed(const struct r_req *q, const char *kind)
{
	if (strcmp(kind, "not_found") == 0)
		return q->op != OP_OTHER;
	if (strcmp(kind, "conflict") == 0)
		return q->op == OP_SPAWN || q->op == OP_RESTART ||
		    q->op == OP_REMOVE || q->op == OP_CANCEL;
	if (strcmp(kind, "timeout") == 0)
		return q->op == OP_WAIT;
	return false;
}

static void
r_check_view(const struct r_req *q, const json_t *v)
{
	const char *path = h_str(v, "path");

	if (!json_is_object(v) || path == NULL || !json_is_integer(
	    json_object_get(v, "id")) || r_state_of(h_str(v, "state")) < 0) {
		r_violation(C_RESULT, q->path, "not a node view: %s -> %s",
		    q->text, json_dumps(v, JSON_COMPACT));
		return;
	}
	if (strcmp(path, q->path) != 0)
		r_violation(C_RESULT, q->path, "view of %s for %s", path,
		    q->text);
}

static void
r_check_answer(struct r_req *q, json_t *msg, const char *raw)
{
	json_t *err = json_object_get(msg, "error");
	json_t *res = json_object_get(msg, "result");
	int64_t lat = h_now_ms() - q->sent_ms;

	if (r_verbose)
		fprintf(stderr, "# <= %.300s\n", raw);

	if (lat > r_stats.max_latency_ms) {
		r_stats.max_latency_ms = lat;
		snprintf(r_stats.max_latency_req, sizeof
		    r_stats.max_latency_req, "%s", q->text);
	}
	if (r_stats.min_margin_req[0] == '\0' || q->deadline_ms - h_now_ms() <
	    r_stats.min_margin_ms) {
		r_stats.min_margin_ms = q->deadline_ms - h_now_ms();
		r_stats.min_margin_bound_ms = q->deadline_ms - q->sent_ms;
		snprintf(r_stats.min_margin_req, sizeof r_stats.min_margin_req,
		    "%s", q->text);
	}
	if (q->overdue)
		fprintf(stderr, "# late answer after %lld ms to %s\n",
		    (long long)lat, q->text);
	else if (h_now_ms() > q->deadline_ms)
		r_violation(C_NO_ANSWER, q->path, "answered after %lld ms, "
		    "bound %lld ms: %s", (long long)lat, (long long)
		    (q->deadline_ms - q->sent_ms), q->text);
	if ((err == NULL) == (res == NULL) || strcmp(h_str(msg, "jsonrpc") ?
	    h_str(msg, "jsonrpc") : "", "2.0") != 0) {
		r_violation(C_RESULT, q->path, "malformed answer %s to %s",
		    raw, q->text);
		return;
	}
	if (err != NULL) {
		int code = (int)h_num(err, "code");
		const char *kind = h_str(json_object_get(err, "data"), "kind");
		const char *message = h_str(err, "message");
		bool known = false;

		r_stats.errors[q->op]++;
		for (size_t i = 0; i < sizeof r_codes / sizeof r_codes[0]; i++)
			if (r_codes[i].code == code)
				for (int k = 0; k < 2; k++)
					known |= kind != NULL &&
					    r_codes[i].kinds[k] != NULL &&
					    strcmp(kind, r_codes[i].kinds[k])
					    == 0;
		if (!known || message == NULL || strlen(message) < 5)
			r_violation(C_ERROR_CODE, q->path, "unknown error %s "
			    "to %s", raw, q->text);
		else if (!r_error_allowed(q, kind))
			r_violation(C_ERROR_CODE, q->path, "error %s to %s",
			    raw, q->text);
		return;
	}
	r_stats.ok[q->op]++;
	switch (q->op) {
	case OP_SPAWN:
	case OP_RESTART:
	case OP_INSPECT:
		r_check_view(q, res);
		break;
	case OP_CANCEL:
		r_check_view(q, res);
		if ((q->wait || q->remove) && strcmp(q->path, "/") != 0 &&
		    !r_terminated(r_state_of(h_str(res, "state"))))
			r_violation(C_RESULT, q->path, "cancel with wait "
			    "answered with a view in state %s, not the "
			    "terminated one: %s", h_str(res, "state"), q->text);
		break;
	case OP_WAIT:
		r_check_view(q, res);
		if ((q->want == S_RUNNING && r_state_of(h_str(res, "state")) !=
		    S_RUNNING) || (q->want != S_RUNNING && !r_terminated(
		    r_state_of(h_str(res, "state")))))
			r_violation(C_RESULT, q->path, "wait answered with "
			    "a view in state %s: %s", h_str(res, "state"),
			    q->text);
		break;
	case OP_REMOVE:
		if (!json_is_object(res) || json_object_size(res) != 0)
			r_violation(C_RESULT, q->path, "remove answered %s",
			    raw);
		break;
	default:
		break;
	}
}

static void
r_on_answer(struct r_conn *c, json_t *msg, const char *raw)
{
	json_t *idj = json_object_get(msg, "id");

	if (json_object_get(msg, "method") != NULL) {
		r_violation(C_RESULT, NULL, "a notification on a connection "
		    "that never watched: %s", raw);
		return;
	}
	for (int i = 0; i < c->nreqs; i++) {
		if (!json_is_integer(idj) || json_integer_value(idj) !=
		    c->reqs[i].id)
			continue;
		r_check_answer(&c->reqs[i], msg, raw);
		free(c->reqs[i].text);
		c->reqs[i] = c->reqs[--c->nreqs];
		return;
	}
	r_violation(C_RESULT, NULL, "answer to no request of this connection: "
	    "%s", raw);
}

/* Requests past their bound fail once; a late answer is still matched. */
static void
r_check_deadlines(struct r_conn *c, int64_t now)
{
	for (int i = 0; i < c->nreqs; i++) {
		struct r_req *q = &c->reqs[i];
		struct m_node *m;

		if (now <= q->deadline_ms || q->overdue)
			continue;
		m = m_by_path(q->path);
		q->overdue = true;
		r_violation(C_NO_ANSWER, q->path, "no answer within %lld ms "
		    "to %s (the node is %s)", (long long)(q->deadline_ms -
		    q->sent_ms), q->text, m == NULL ? "gone" :
		    r_state_names[m->state]);
	}
}

/* Reads every connection and handles what came, waiting at most
 * timeout_ms for something. */
static void
r_pump(int timeout_ms)
{
	struct pollfd pfds[18];
	struct r_conn *conns[18];
	int n = 0;

	conns[n] = &r_watch;
	pfds[n++] = (struct pollfd){ .fd = r_watch.fd, .events = POLLIN };
	for (int i = 0; i < r_nclients; i++) {
		if (r_clients[i].fd <= 0)
			continue;
		conns[n] = &r_clients[i];
		pfds[n++] = (struct pollfd){ .fd = r_clients[i].fd,
		    .events = POLLIN };
	}
	if (poll(pfds, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
		fail_msg("poll: %s", strerror(errno));
	/* Events first: an answer's effects are then in the model. */
	for (int i = 0; i < n; i++) {
		struct r_conn *c = conns[i];
		json_t *msg;
		char *raw;

		if (pfds[i].revents == 0)
			continue;
		if (!r_fill(c))
			fail_msg("arbord closed a connection (seed %lu)",
			    r_seed);
		while ((msg = r_line(c, &raw)) != NULL) {
			if (c == &r_watch) {
				if (json_object_get(msg, "method") != NULL)
					r_on_event(json_object_get(msg,
					    "params"), raw);
			} else {
				r_on_answer(c, msg, raw);
			}
			json_decref(msg);
			free(raw);
		}
	}
	for (int i = 0; i < r_nclients; i++)
		r_check_deadlines(&r_clients[i], h_now_ms());
}

/* Stops that take longer than their graces and the slack. */
static void
r_check_stuck(int64_t now)
{
	for (int i = 0; i < m_n; i++) {
		struct m_node *m = &m_nodes[i];
		int bound;

		if (m->removed || m->state != S_STOPPING || m->stuck_reported)
			continue;
		bound = m_stop_bound(m) + R_SLACK_MS + 2000;
		if (now - m->state_ms > bound) {
			m->stuck_reported = true;
			r_violation(C_STUCK_STOPPING, m->path, "%s has been "
			    "stopping for %lld ms (its graces allow %d ms)",
			    m->path, (long long)(now - m->state_ms), bound -
			    R_SLACK_MS - 2000);
		}
	}
}

/* --- random specs ----------------------------------------------------- */

static int r_name_seq;

static json_t *r_gen(const char *parent, int levels, bool in_group);

static void
r_common(struct r_rng *g, json_t *s, struct r_info *info, bool worker)
{
	static const char *const restarts[] = { "permanent", "transient",
	    "temporary" };
	int b = r_range(g, 10, 150), bmax = r_range(g, b, 1500);

	json_object_set_new(s, "restart", json_string(restarts[r_range(g, 0,
	    2)]));
	info->shutdown_ms = worker ? r_range(g, 50, 600) : r_range(g, 0, 300);
	json_object_set_new(s, "shutdown_ms", json_integer(
	    info->shutdown_ms));
	json_object_set_new(s, "backoff_ms", json_integer(b));
	json_object_set_new(s, "backoff_max_ms", json_integer(bmax));
	info->backoff_max_ms = bmax;
	if (r_chance(g, 8))
		json_object_set_new(s, "timeout_ms", json_integer(r_range(g,
		    300, 4000)));
	if (bmax > r_max_backoff_ms)
		r_max_backoff_ms = bmax;
	if (info->shutdown_ms > r_max_shutdown_ms)
		r_max_shutdown_ms = info->shutdown_ms;
}

static json_t *
r_argv(const char *a0, const char *a1, const char *a2)
{
	json_t *a = json_array();

	json_array_append_new(a, json_string(a0));
	if (a1 != NULL)
		json_array_append_new(a, json_string(a1));
	if (a2 != NULL)
		json_array_append_new(a, json_string(a2));
	return a;
}

static void
r_gen_exec(struct r_rng *g, json_t *s, struct r_info *info, bool in_group)
{
	char script[128];
	/* Under a group strategy, more crashes and more stubborn siblings:
	 * group restarts that take a while, for clients to run into. */
	int v = in_group ? r_range(g, 25, 91) : r_range(g, 0, 99);

	info->kind = K_EXEC;
	json_object_set_new(s, "kind", json_string("exec"));
	json_object_set_new(s, "env", json_pack("{s:s}", "ARBOR_FAULT_TAG",
	    r_tag));
	if (v < 25) {
		json_object_set_new(s, "argv", r_argv("sleep", "1000", NULL));
	} else if (v < 50) {
		/* Crashes after a short run. */
		snprintf(script, sizeof script, "sleep 0.%03d; exit 3",
		    r_range(g, 20, 900));
		json_object_set_new(s, "argv", r_argv("sh", "-c", script));
	} else if (v < 72) {
		/* Ignores TERM: only the SIGKILL after its grace stops it. */
		json_object_set_new(s, "argv", r_argv("sh", "-c",
		    "trap '' TERM; sleep 1000"));
		info->shutdown_ms = r_range(g, 50, 400);
		info->stubborn = true;
		json_object_set_new(s, "shutdown_ms", json_integer(
		    info->shutdown_ms));
	} else if (v < 85) {
		/* Says it is ready on its ready fd after a moment. */
		snprintf(script, sizeof script, "sleep 0.%03d; echo ready "
		    ">&$ARBOR_READY_FD; exec sleep 1000", r_range(g, 5, 300));
		json_object_set_new(s, "argv", r_argv("sh", "-c", script));
		json_object_set_new(s, "ready", json_string("fd"));
	} else if (v < 92) {
		/* Never ready: its start times out. */
		json_object_set_new(s, "argv", r_argv("sleep", "1000", NULL));
		json_object_set_new(s, "ready", json_string("fd"));
		info->start_timeout_ms = r_range(g, 100, 800);
		json_object_set_new(s, "start_timeout_ms", json_integer(
		    info->start_timeout_ms));
	} else {
		/* Ends well after a moment. */
		snprintf(script, sizeof script, "sleep 0.%03d", r_range(g, 20,
		    900));
		json_object_set_new(s, "argv", r_argv("sh", "-c", script));
	}
}

static void
r_gen_actor(struct r_rng *g, json_t *s, struct r_info *info)
{
	int v = r_range(g, 0, 2);

	if (v == 0) {
		info->kind = K_SLEEP;
		json_object_set_new(s, "kind", json_string("sleep"));
		if (r_chance(g, 60))
			json_object_set_new(s, "ms", json_integer(r_range(g,
			    10, 2000)));
	} else if (v == 1) {
		info->kind = K_TICK;
		json_object_set_new(s, "kind", json_string("tick"));
		json_object_set_new(s, "interval_ms", json_integer(r_range(g,
		    20, 500)));
	} else {
		info->kind = K_FAIL;
		json_object_set_new(s, "kind", json_string("fail"));
		json_object_set_new(s, "after_ms", json_integer(r_range(g, 0,
		    800)));
		json_object_set_new(s, "code", json_integer(r_chance(g, 15) ?
		    0 : r_range(g, 1, 3)));
	}
}

/* A random spec to be created at parent/<name>, at most levels deep. */
static json_t *
r_gen(const char *parent, int levels, bool in_group)
{
	static const char *const strategies[] = { "one_for_one", "one_for_all",
	    "rest_for_one" };
	struct r_rng *g = &r_spec_rng;
	char name[32], path[R_PATH_MAX];
	struct r_info *info;
	json_t *s;
	int v = r_range(g, 0, 99);

	snprintf(name, sizeof name, "n%d", ++r_name_seq);
	snprintf(path, sizeof path, "%s/%s", strcmp(parent, "/") == 0 ? "" :
	    parent, name);
	info = r_info_add(path);
	s = json_pack("{s:s}", "name", name);
	if (levels > 1 && v < 40) {
		json_t *kids = json_array();
		int n = r_range(g, 1, 4);
		int strategy = r_chance(g, 25) ? 0 : r_range(g, 1, 2);

		info->kind = K_SUP;
		snprintf(info->strategy, sizeof info->strategy, "%s",
		    strategies[strategy]);
		json_object_set_new(s, "kind", json_string("supervisor"));
		json_object_set_new(s, "strategy", json_string(
		    strategies[strategy]));
		json_object_set_new(s, "max_restarts", json_integer(r_range(g,
		    0, 4)));
		json_object_set_new(s, "period_ms", json_integer(r_range(g,
		    200, 5000)));
		r_common(g, s, info, false);
		for (int i = 0; i < n; i++)
			json_array_append_new(kids, r_gen(path, levels - 1,
			    strategy != 0));
		json_object_set_new(s, "children", kids);
	} else if (v < 75) {
		r_common(g, s, info, true);
		r_gen_exec(g, s, info, in_group);
	} else {
		r_common(g, s, info, true);
		r_gen_actor(g, s, info);
	}
	if (info->shutdown_ms > r_max_shutdown_ms)
		r_max_shutdown_ms = info->shutdown_ms;
	return s;
}

/* --- random operations ------------------------------------------------ */

/* A random live node other than the root, biased toward children of
 * group strategies and, when terminated is set, toward terminated ones. */
static struct m_node *
r_pick(struct r_rng *g, bool prefer_group, bool prefer_terminated)
{
	int cand[1024], n = 0, ngroup = 0, nterm = 0, nhot = 0;
	int group[1024], term[1024], hot[1024];

	for (int i = 0; i < m_n && n < 1024; i++) {
		struct m_node *m = &m_nodes[i];
		struct m_node *p;
		char parent[R_PATH_MAX], *slash;

		if (m->removed || m->depth == 0)
			continue;
		cand[n++] = i;
		if (r_terminated(m->state))
			term[nterm++] = i;
		snprintf(parent, sizeof parent, "%s", m->path);
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
			*slash = '\0';
		else
			continue;
		p = m_by_path(parent);
		if (p == NULL || p->info == NULL || strcmp(p->info->strategy,
		    "one_for_one") == 0)
			continue;
		group[ngroup++] = i;
		/* Hot: in a group whose stop or restart is under way, where
		 * a client's cancel or restart meets the supervisor's own. */
		for (int j = 0; j < m_n; j++) {
			struct m_node *sib = &m_nodes[j];

			if (!sib->removed && sib->depth == m->depth &&
			    (sib->state == S_STOPPING || sib->state ==
			    S_BACKOFF || p->state == S_STOPPING) &&
			    r_below(sib->path, p->path)) {
				hot[nhot++] = i;
				break;
			}
		}
	}
	if (n == 0)
		return NULL;
	if (prefer_group && nhot > 0 && r_chance(g, 40))
		return &m_nodes[hot[r_range(g, 0, nhot - 1)]];
	if (prefer_terminated && nterm > 0 && r_chance(g, 70))
		return &m_nodes[term[r_range(g, 0, nterm - 1)]];
	if (prefer_group && ngroup > 0 && r_chance(g, 60))
		return &m_nodes[group[r_range(g, 0, ngroup - 1)]];
	return &m_nodes[cand[r_range(g, 0, n - 1)]];
}

/* A running worker under a supervisor (not the root) that ignores TERM. */
static struct m_node *
r_pick_stubborn(struct r_rng *g)
{
	int cand[1024], n = 0;

	for (int i = 0; i < m_n && n < 1024; i++) {
		struct m_node *m = &m_nodes[i];

		if (!m->removed && m->info != NULL && m->info->stubborn &&
		    m->depth >= 2 && m->state == S_RUNNING)
			cand[n++] = i;
	}
	return n == 0 ? NULL : &m_nodes[cand[r_range(g, 0, n - 1)]];
}

/* A supervisor that may take a child: the root or a live one not too
 * deep. */
static struct m_node *
r_pick_parent(struct r_rng *g)
{
	int cand[1024], n = 0;

	for (int i = 0; i < m_n && n < 1024; i++) {
		struct m_node *m = &m_nodes[i];

		if (m->removed || m->depth > 2)
			continue;
		if (m->depth == 0 || (m->info != NULL && m->info->kind == K_SUP
		    && !r_terminated(m->state)))
			cand[n++] = i;
	}
	if (n == 0)
		return NULL;
	/* The root half the time: new subtrees of full depth. */
	if (r_chance(g, 50))
		return m_by_path("/");
	return &m_nodes[cand[r_range(g, 0, n - 1)]];
}

static void
r_op_spawn(struct r_conn *c)
{
	struct m_node *p = r_pick_parent(&c->rng);
	json_t *spec;
	char path[R_PATH_MAX];

	if (p == NULL)
		return;
	spec = r_gen(p->path, 3 - p->depth, p->info != NULL &&
	    strcmp(p->info->strategy, "one_for_one") != 0);
	if (snprintf(path, sizeof path, "%s/%s", p->depth == 0 ? "" : p->path,
	    h_str(spec, "name")) >= (int)sizeof path)
		fail_msg("path too long under %s", p->path);
	json_object_set_new(spec, "parent", json_string(p->path));
	r_send(c, OP_SPAWN, "spawn", spec, path, R_ANSWER_MS);
}

static void
r_op_cancel(struct r_conn *c, struct m_node *m, bool force_remove)
{
	struct r_rng *g = &c->rng;
	json_t *params = json_pack("{s:s}", "path", m->path);
	bool wait = r_chance(g, 40), remove = force_remove || r_chance(g, 25);
	struct r_req *q;
	int bound = R_ANSWER_MS;

	if (r_chance(g, 50))
		json_object_set_new(params, "reason", json_string(
		    r_chance(g, 50) ? "random" : "deploy 42"));
	if (wait)
		json_object_set_new(params, "wait", json_true());
	if (remove)
		json_object_set_new(params, "remove", json_true());
	/* A stop takes its graces; the rest is slack. */
	if (wait || remove)
		bound = m_stop_bound(m) + r_max_shutdown_ms + R_SLACK_MS;
	q = r_send(c, OP_CANCEL, "cancel", params, m->path, bound);
	q->wait = wait;
	q->remove = remove;
}

static void
r_op_restart(struct r_conn *c, struct m_node *m)
{
	int64_t now = h_now_ms();

	m->restart_sent_ms = now;
	for (int i = 0; i < m_n; i++)
		if (!m_nodes[i].removed && r_below(m_nodes[i].path, m->path))
			m_nodes[i].restart_sent_ms = now;
	r_send(c, OP_RESTART, "restart", json_pack("{s:s}", "path", m->path),
	    m->path, R_ANSWER_MS);
}

static void
r_op_wait(struct r_conn *c, struct m_node *m)
{
	struct r_rng *g = &c->rng;
	bool running = r_chance(g, 50);
	int t = r_range(g, 50, 1500);
	struct r_req *q;

	q = r_send(c, OP_WAIT, "wait", json_pack("{s:s,s:s,s:i}", "path",
	    m->path, "for", running ? "running" : "terminated", "timeout_ms",
	    t), m->path, t + R_SLACK_MS);
	q->want = running ? S_RUNNING : -1;
}

static void
r_op_inspect(struct r_conn *c, struct m_node *m)
{
	static const int depths[] = { 0, 1, -1 };

	r_send(c, OP_INSPECT, "inspect", json_pack("{s:s,s:i}", "path",
	    m->path, "depth", depths[r_range(&c->rng, 0, 2)]), m->path,
	    R_ANSWER_MS);
}

/* One random operation from c. */
static void
r_op(struct r_conn *c)
{
	struct r_rng *g = &c->rng;
	int live = m_live_count();
	int v = r_range(g, 0, 99);
	struct m_node *m;

	if (live < 4 || (live < R_MAX_LIVE && v < 22)) {
		r_op_spawn(c);
		return;
	}
	if (live >= R_MAX_LIVE && v < 30) {
		/* Too many: a whole top-level subtree goes. */
		for (int tries = 0; tries < 8; tries++)
			if ((m = r_pick(g, false, true)) != NULL && m->depth ==
			    1) {
				r_op_cancel(c, m, true);
				return;
			}
	}
	if (v < 3) {
		/* A path that is not there. */
		char path[64];

		snprintf(path, sizeof path, "/gone%d", r_range(g, 0, 999));
		r_send(c, OP_INSPECT, "inspect", json_pack("{s:s}", "path",
		    path), path, R_ANSWER_MS);
		return;
	}
	if (v < 42) {
		if ((m = r_pick(g, true, false)) != NULL)
			r_op_cancel(c, m, false);
	} else if (v < 66) {
		/* Half of them at a stubborn worker under a supervisor: its
		 * restart takes its whole grace, long enough for its parent
		 * to stop around it, for a sibling's failure in a group or, at
		 * once, for a client's restart of the parent. */
		if (r_chance(g, 50) && (m = r_pick_stubborn(g)) != NULL) {
			char parent[R_PATH_MAX], *slash;
			struct m_node *p;

			r_op_restart(c, m);
			snprintf(parent, sizeof parent, "%s", m->path);
			if ((slash = strrchr(parent, '/')) != NULL)
				*slash = '\0';
			if (r_chance(g, 40) && (p = m_by_path(parent)) != NULL)
				r_op_restart(c, p);
		} else if ((m = r_pick(g, true, false)) != NULL) {
			r_op_restart(c, m);
		}
	} else if (v < 78) {
		if ((m = r_pick(g, false, true)) != NULL)
			r_send(c, OP_REMOVE, "remove", json_pack("{s:s}",
			    "path", m->path), m->path, R_ANSWER_MS);
	} else if (v < 89) {
		if ((m = r_pick(g, true, false)) != NULL)
			r_op_wait(c, m);
	} else {
		if ((m = r_pick(g, false, false)) != NULL)
			r_op_inspect(c, m);
	}
}

/* --- wedge scans ------------------------------------------------------ */

/* Whether a timer is due: a due_ms not long past (a timer that fired and
 * moved nothing is no reason). */
static bool
r_due(const json_t *v, const char *key, int64_t wall)
{
	json_t *d = json_object_get(v, key);

	return json_is_integer(d) && json_integer_value(d) > wall - 1500;
}

/* Whether v moves by itself, looking only down: a program still running
 * (its start timeout or its grace bounds it), a timer, children at work. */
static bool
r_moving(const json_t *v, int64_t wall)
{
	json_t *kids = json_object_get(v, "children");

	switch (r_state_of(h_str(v, "state"))) {
	case S_STARTING:
		if (json_is_integer(json_object_get(v, "pid")))
			return true;
		for (size_t j = 0; j < json_array_size(kids); j++)
			if (r_moving(json_array_get(kids, j), wall))
				return true;
		return false;
	case S_BACKOFF:
		return r_due(v, "due_ms", wall);
	case S_STOPPING:
		/* Its program, or a child still at work; a child held in
		 * backoff is not at work, and a stop does not wait for it. */
		if (json_is_integer(json_object_get(v, "pid")))
			return true;
		for (size_t j = 0; j < json_array_size(kids); j++) {
			int ks = r_state_of(h_str(json_array_get(kids, j),
			    "state"));

			if (ks != S_BACKOFF && !r_terminated(ks))
				return true;
		}
		return false;
	default:
		return false;
	}
}

/* A settled node (running, exited, failed) needs no reason; one in
 * backoff, starting or stopping needs one that will move it: it moves by
 * itself, or its parent's group timer is due, or its parent waits for its
 * own turn for a reason, or a sibling ahead of it in the ordered start is
 * moving (or, for a held node, a sibling is still stopping). anc holds
 * the ancestors, root first; d of them. */
static bool
r_explained(const json_t *v, const json_t *const *anc, int d, int64_t wall)
{
	int st = r_state_of(h_str(v, "state"));
	const json_t *p = d > 0 ? anc[d - 1] : NULL;
	json_t *kids;
	int pst;

	if (st == S_RUNNING || r_terminated(st))
		return true;
	if (r_moving(v, wall) || p == NULL || st == S_STOPPING)
		return r_moving(v, wall);
	pst = r_state_of(h_str(p, "state"));
	if (st == S_BACKOFF && r_due(p, "group_due_ms", wall))
		return true;
	if ((pst == S_BACKOFF || pst == S_STARTING) && r_explained(p, anc,
	    d - 1, wall))
		return true;
	kids = json_object_get(p, "children");
	for (size_t j = 0; j < json_array_size(kids); j++) {
		json_t *s = json_array_get(kids, j);
		int ss = r_state_of(h_str(s, "state"));

		if (s == v)
			break;
		if (ss != S_RUNNING && !r_terminated(ss) && r_moving(s, wall))
			return true;
	}
	if (st == S_BACKOFF)
		for (size_t j = 0; j < json_array_size(kids); j++)
			if (r_state_of(h_str(json_array_get(kids, j),
			    "state")) == S_STOPPING)
				return true;
	return false;
}

/* Walks a view; a node nothing explains starts (or keeps) its clock, and
 * one past its bound is a wedge. Returns how many are unexplained. */
static int
r_scan_view(json_t *v, const json_t **anc, int d, int64_t now, int64_t wall)
{
	json_t *kids = json_object_get(v, "children");
	struct m_node *m = m_by_id(h_num(v, "id"));
	int bad = 0, bound;

	if (d < 32) {
		anc[d] = v;
		for (size_t j = 0; j < json_array_size(kids); j++)
			bad += r_scan_view(json_array_get(kids, j), anc, d + 1,
			    now, wall);
	}
	if (m == NULL || m->removed || m->depth == 0)
		return bad;
	/* The events are behind the view: nothing to judge yet. */
	if (r_state_of(h_str(v, "state")) != m->state)
		return bad;
	if (r_explained(v, (const json_t *const *)anc, d, wall)) {
		m->unexplained_ms = 0;
		return bad;
	}
	bad++;
	if (m->unexplained_ms == 0)
		m->unexplained_ms = now;
	bound = m->state == S_STOPPING && m->info != NULL ?
	    m->info->shutdown_ms + 2000 : R_WEDGE_MS;
	if (!m->wedge_reported && now - m->unexplained_ms > bound) {
		char *t = json_dumps(v, JSON_COMPACT);

		m->wedge_reported = true;
		r_violation(C_WEDGE, m->path, "%s has been %s for %lld ms "
		    "with nothing to move it (no pending due_ms or "
		    "group_due_ms, no pid, no live child, no sibling ahead "
		    "at work): %s", m->path, r_state_names[m->state],
		    (long long)(now - m->state_ms), t);
		free(t);
	}
	return bad;
}

/* Inspects the whole tree on the checker's connection (the others are
 * pumped meanwhile) and scans it; the unexplained count, -1 on no answer. */
static int
r_scan(void)
{
	struct r_conn *c = &r_check;
	json_t *req = json_pack("{s:s,s:I,s:s,s:{s:s,s:i}}", "jsonrpc", "2.0",
	    "id", (json_int_t)r_next_id++, "method", "inspect", "params",
	    "path", "/", "depth", -1);
	char *text = json_dumps(req, JSON_COMPACT);
	int64_t until = h_now_ms() + R_ANSWER_MS;
	int bad = -1;

	json_decref(req);
	r_send_all(c->fd, text, strlen(text));
	r_send_all(c->fd, "\n", 1);
	r_scanning = true;
	while (h_now_ms() < until) {
		json_t *msg = r_line(c, NULL);
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

		/* The clients' answers are read as they come, not after the
		 * view: their latency is the daemon's, not this wait's. */
		r_pump(0);
		if (msg != NULL) {
			r_scanning = false;
			/* Events up to now first, so the model is as new as
			 * the view or newer. */
			r_pump(0);
			r_pump(0);
			const json_t *anc[33];

			bad = r_scan_view(json_object_get(msg, "result"), anc,
			    0, h_now_ms(), r_wall_ms());
			json_decref(msg);
			break;
		}
		if (poll(&pfd, 1, 20) > 0 && !r_fill(c))
			fail_msg("arbord closed the checker (seed %lu)",
			    r_seed);
	}
	r_scanning = false;
	if (bad < 0)
		r_violation(C_NO_ANSWER, "/", "no answer within %d ms to %s",
		    R_ANSWER_MS, text);
	free(text);
	r_stats.scans++;
	return bad;
}

/* --- the run ---------------------------------------------------------- */

/* Requests of c still within their bound. */
static int
r_pending(const struct r_conn *c)
{
	int n = 0;

	for (int i = 0; i < c->nreqs; i++)
		n += !c->reqs[i].overdue;
	return n;
}

static int
r_inflight(void)
{
	int n = 0;

	for (int i = 0; i < r_nclients; i++)
		n += r_pending(&r_clients[i]);
	return n;
}

/* A ping on c, answered: what c asked before has been handled. */
static void
r_sync(struct r_conn *c)
{
	long id = r_send(c, OP_OTHER, "ping", NULL, "", R_ANSWER_MS)->id;
	bool pending = true;

	while (pending) {
		r_pump(20);
		pending = false;
		for (int i = 0; i < c->nreqs; i++)
			pending |= c->reqs[i].id == id && !c->reqs[i].overdue;
	}
}

static void
random_operations_keep_the_contract_and_leave_no_wedge(void **state)
{
	const char *const args[] = { NULL };
	int64_t end, next_scan, now;
	int baseline_fds, fds = -1, status = -1, i;
	json_t *r;
	int fd;

	(void)state;
	snprintf(r_tag, sizeof r_tag, "random-%ld-%lu", (long)getpid(),
	    r_seed);
	r_spec_rng.s = r_seed * 0x9e3779b97f4a7c15ULL + 1;
	fprintf(stderr, "# test_random --seed %lu --seconds %d%s (tag %s)\n",
	    r_seed, r_seconds, r_strict_causes ? "" : " --no-strict-causes",
	    r_tag);
	h_start(&r_d, args);
	r_daemon_pid = r_d.pid;
	alarm((unsigned)r_seconds + 120);

	/* One exec start and end before the baseline, as test_faults does,
	 * so what the first one allocates for good is in it. */
	fd = h_connect(&r_d);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s],s:{s:s}}",
	    "name", "warm", "kind", "exec", "argv", "true", "env",
	    "ARBOR_FAULT_TAG", r_tag)));
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b,s:b}", "path",
	    "/warm", "wait", 1, "remove", 1)));
	r = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/"));
	h_close(fd);
	baseline_fds = h_fd_count_settled(r_d.pid);

	m_add(h_num(r, "id"), "/")->state = S_RUNNING;
	json_decref(r);
	r_conn_open(&r_watch, 100);
	r_conn_open(&r_check, 101);
	for (i = 0; i < r_nclients; i++)
		r_conn_open(&r_clients[i], (uint64_t)i + 1);
	{
		/* The watch answers before any event. */
		struct r_req *q = r_send(&r_watch, OP_OTHER, "watch",
		    json_pack("{s:s}", "path", "/"), "/", R_ANSWER_MS);
		json_t *msg = NULL;

		(void)q;
		while (msg == NULL && h_now_ms() < r_watch.reqs[0].deadline_ms) {
			struct pollfd pfd = { .fd = r_watch.fd,
			    .events = POLLIN };

			poll(&pfd, 1, 50);
			r_fill(&r_watch);
			msg = r_line(&r_watch, NULL);
		}
		if (msg == NULL || json_object_get(msg, "result") == NULL)
			fail_msg("watch was not answered (seed %lu)", r_seed);
		r_last_seq = h_num(json_object_get(msg, "result"), "seq");
		json_decref(msg);
		free(r_watch.reqs[0].text);
		r_watch.nreqs = 0;
	}

	/* Operations. */
	r_t0 = h_now_ms();
	end = r_t0 + (int64_t)r_seconds * 1000;
	next_scan = r_t0 + 1000;
	while ((now = h_now_ms()) < end) {
		int64_t wake = end;

		for (i = 0; i < r_nclients; i++) {
			struct r_conn *c = &r_clients[i];

			if (now >= c->next_ms) {
				int burst = r_range(&c->rng, 1, 3);

				for (int k = 0; k < burst && r_pending(c) <
				    R_MAX_INFLIGHT && c->nreqs < 60; k++)
					r_op(c);
				c->next_ms = now + r_range(&c->rng, 20, 250);
			}
			if (c->next_ms < wake)
				wake = c->next_ms;
		}
		r_pump((int)(wake > now ? (wake - now > 50 ? 50 : wake - now) :
		    0));
		now = h_now_ms();
		r_check_stuck(now);
		if (now >= next_scan) {
			r_scan();
			next_scan = h_now_ms() + 1000;
		}
	}
	fprintf(stderr, "# operations stopped after %.1f s; settling\n",
	    (double)(h_now_ms() - r_t0) / 1000);

	/* Answers still owed come within their bounds. */
	while (r_inflight() > 0)
		r_pump(50);

	/* Settle: within the longest backoff, the longest grace and 3 s,
	 * every node is settled or on its way with a reason. */
	{
		int64_t window = r_max_backoff_ms + r_max_shutdown_ms + 3000;
		int64_t until = h_now_ms() + window;
		int bad = 0;

		while (h_now_ms() < until) {
			bad = r_scan();
			r_check_stuck(h_now_ms());
			if (bad == 0)
				break;
			r_pump(250);
		}
		if (bad > 0)
			r_violation(C_WEDGE, NULL, "%d nodes not settled %lld ms "
			    "after the operations stopped", bad,
			    (long long)window);
	}

	/* Everything stops, in its graces. */
	{
		struct m_node *root = m_by_path("/");
		int bound = m_stop_bound(root) + r_max_shutdown_ms +
		    R_SLACK_MS;
		struct r_req *q;

		q = r_send(&r_clients[0], OP_CANCEL, "cancel", json_pack(
		    "{s:s,s:s,s:b}", "path", "/", "reason", "end of run",
		    "wait", 1), "/", bound);
		q->wait = true;
		while (r_pending(&r_clients[0]) > 0)
			r_pump(50);
		r_sync(&r_clients[0]);
		r_pump(100);
		for (i = 0; i < m_n; i++)
			if (!m_nodes[i].removed && m_nodes[i].depth > 0 &&
			    !r_terminated(m_nodes[i].state)) {
				r_violation(C_END, m_nodes[i].path, "%s is "
				    "%s after cancel / with wait answered",
				    m_nodes[i].path,
				    r_state_names[m_nodes[i].state]);
				break;
			}
		/* The tree goes, so the daemon holds nothing of the run. */
		for (i = 0; i < m_n; i++)
			if (!m_nodes[i].removed && m_nodes[i].depth == 1)
				r_send(&r_clients[0], OP_REMOVE, "remove",
				    json_pack("{s:s}", "path", m_nodes[i].path),
				    m_nodes[i].path, R_ANSWER_MS);
		while (r_pending(&r_clients[0]) > 0)
			r_pump(50);
		/* The removed events come on the watch, after the answers
		 * on the client: 10 s at most. */
		for (int64_t until = h_now_ms() + 10000; h_now_ms() < until &&
		    m_live_count() > 1;)
			r_pump(50);
		if (m_live_count() > 1)
			r_violation(C_END, "/", "%d nodes not removed after "
			    "removing every child of the root",
			    m_live_count() - 1);
	}
	int64_t elapsed = h_now_ms() - r_t0;

	/* The daemon's fds are back where they were with no client. */
	r_conn_close(&r_watch);
	r_conn_close(&r_check);
	for (i = 0; i < r_nclients; i++)
		r_conn_close(&r_clients[i]);
	/* Once it has seen the clients go: 10 s at most. */
	for (i = 0; i < 1000; i++) {
		if ((fds = h_fd_count(r_d.pid)) == baseline_fds)
			break;
		r_sleep_ms(10);
	}
	if (fds != baseline_fds)
		r_violation(C_END, NULL, "arbord has %d fds open, %d at the "
		    "start", fds, baseline_fds);

	/* shutdown: answered, then exit 0. */
	fd = h_connect(&r_d);
	json_decref(h_ok(fd, "shutdown", NULL));
	for (i = 0; i < 1500; i++) {
		if (waitpid(r_d.pid, &status, WNOHANG) == r_d.pid)
			break;
		r_sleep_ms(10);
	}
	h_close(fd);
	if (i == 1500) {
		r_violation(C_END, NULL, "arbord did not exit within 15 s of "
		    "shutdown");
		h_stop(&r_d);
	} else {
		r_d.pid = 0;
		unlink(r_d.sock);
		rmdir(r_d.dir);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			r_violation(C_END, NULL, "arbord ended with status "
			    "%#x after shutdown", status);
	}
	r_daemon_pid = 0;
	/* The sentinel's sweep after the daemon: 5 s at most. */
	for (i = 0; i < 500 && r_tagged(NULL, 0) > 0; i++)
		r_sleep_ms(10);
	if ((i = r_tagged(NULL, 0)) > 0)
		r_violation(C_END, NULL, "%d processes of the run outlived "
		    "arbord", i);

	/* Figures and the verdict. */
	{
		long sent = 0, errs = 0, total = 0;
		int failed = 0;

		for (i = 0; i < OP__COUNT; i++) {
			sent += r_stats.sent[i];
			errs += r_stats.errors[i];
		}
		fprintf(stderr, "# seed %lu: %.1f s, %ld requests (%.0f/s), "
		    "%ld errors answered, %ld events (%ld state), %ld nodes "
		    "spawned, %ld scans, slowest answer %lld ms\n", r_seed,
		    (double)elapsed / 1000, sent, (double)sent * 1000 /
		    (double)(elapsed > 0 ? elapsed : 1), errs, r_stats.events,
		    r_stats.states, r_stats.spawned_nodes, r_stats.scans,
		    (long long)r_stats.max_latency_ms);
		fprintf(stderr, "#  slowest: %.200s\n#  closest to its bound "
		    "(%lld ms left of %lld ms): %.200s\n",
		    r_stats.max_latency_req, (long long)r_stats.min_margin_ms,
		    (long long)r_stats.min_margin_bound_ms,
		    r_stats.min_margin_req);
		fprintf(stderr, "#  by op:");
		for (i = 0; i < OP__COUNT; i++)
			fprintf(stderr, " %s %ld/%ld", r_op_names[i],
			    r_stats.ok[i], r_stats.sent[i]);
		fprintf(stderr, " (ok/sent)\n");
		fprintf(stderr, "#  transitions into stopping/backoff/exited/"
		    "failed without a cause: %ld%s\n", r_stats.causeless,
		    r_strict_causes ? "" : " (not enforced)");
		for (i = 0; i < C__COUNT; i++) {
			fprintf(stderr, "%s %d - %s%s", r_count[i] ? "not ok" :
			    "ok", i + 1, r_check_names[i], r_count[i] ? "" :
			    "\n");
			if (r_count[i])
				fprintf(stderr, " (%d times)\n", r_count[i]);
			total += r_count[i];
			failed += r_count[i] > 0;
		}
		fprintf(stderr, "# seed %lu: %d passed, %d failed\n", r_seed,
		    C__COUNT - failed, failed);
		if (total > 0)
			fail_msg("%ld violations; reproduce with test_random "
			    "--seed %lu --seconds %d", total, r_seed,
			    r_seconds);
	}
	r_passed = true;
}

static int
r_teardown(void **state)
{
	(void)state;
	/* However it failed (an assertion, a harness call), the last word
	 * is the seed that reproduces it. */
	if (!r_passed)
		fprintf(stderr, "# test_random failed: reproduce with "
		    "test_random --seed %lu --seconds %d%s\n", r_seed,
		    r_seconds, r_strict_causes ? "" : " --no-strict-causes");
	if (r_d.pid > 0)
		h_stop(&r_d);
	r_daemon_pid = 0;
	r_kill_tagged();
	return 0;
}

static void
r_usage(void)
{
	fprintf(stderr, "usage: test_random [--seed N] [--seconds S] "
	    "[--clients N] [--no-strict-causes] [--verbose]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
		    random_operations_keep_the_contract_and_leave_no_wedge,
		    r_teardown),
	};

	if (getenv("ARBOR_RANDOM_SEED") != NULL)
		r_seed = strtoul(getenv("ARBOR_RANDOM_SEED"), NULL, 0);
	if (getenv("ARBOR_RANDOM_SECONDS") != NULL)
		r_seconds = atoi(getenv("ARBOR_RANDOM_SECONDS"));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			r_seed = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			r_seconds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
			r_nclients = atoi(argv[++i]);
		else if (strcmp(argv[i], "--strict-causes") == 0)
			r_strict_causes = true;
		else if (strcmp(argv[i], "--no-strict-causes") == 0)
			r_strict_causes = false;
		else if (strcmp(argv[i], "--verbose") == 0)
			r_verbose = true;
		else
			r_usage();
	}
	if (r_seconds < 1 || r_nclients < 3 || r_nclients > 16)
		r_usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, r_alarm);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
