/*
 * Health checks of exec nodes (health.h): the timer, the three kinds of
 * check, and what their results do to the node. One check at a time per
 * node, nothing blocking: HTTP and TCP are non-blocking sockets to numeric
 * addresses (the spec allows no names, so no DNS), an exec check is a
 * child the reaper hands back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cause.h"
#include "clock.h"
#include "exec-int.h"
#include "health.h"
#include "log.h"
#include "names.h"
#include "node.h"
#include "reaper.h"
#include "sentinel.h"
#include "spec.h"
#include "timer.h"
#include "tree.h"
#include "utf8.h"

#define HEALTH_LINE_MAX  256 /* HTTP status line, or a check's first line */
#define HEALTH_ERROR_MAX 160 /* last_error, bytes */
#define HEALTH_SHOWN_MAX 100 /* of a check's output, in last_error */
/* Checks start on ticks of the monotonic clock this far apart, so those
 * of many nodes share the loop's wake-ups (and their connections the
 * ones that follow): 1,000 checks a second cost a few dozen wake-ups, not
 * thousands. A check starts at most this much after it is due. */
#define HEALTH_TICK_MS 20

const char *const health_state_names[] = {
	[HEALTH_STARTING] = "starting",
	[HEALTH_HEALTHY] = "healthy",
	[HEALTH_UNHEALTHY] = "unhealthy",
	NULL,
};

/* One check in flight. An exec check whose health stopped before it was
 * reaped is an orphan: the module's, until the reaper hands it back. */
struct health_run {
	struct health *h;             /* borrowed; NULL once orphaned */
	LIST_ENTRY(health_run) entry; /* the module's orphans */
	uint8_t kind;                 /* enum health_kind */
	int fd;           /* owned: the socket, or the check's output */
	struct event *io; /* owned */
	int done_fd;      /* owned: exec, the check's done handle */
	pid_t pid;        /* exec: its process (and group); 0 once reaped */
	bool timed_out;   /* exec: killed at its timeout */
	bool connected;   /* http: the request is being written */
	char *req;        /* owned: http, the request */
	size_t reqlen, reqoff;
	char line[HEALTH_LINE_MAX]; /* what was read of the answer or
	                               output; NUL-terminated */
	size_t len;
};

struct health {
	struct node *node;        /* borrowed */
	LIST_ENTRY(health) entry; /* the module's list while checking */
	struct event *timer;      /* owned: the next check, or the
	                             timeout of the one in flight */
	struct health_run *run;   /* owned: the check in flight */
	int64_t began_mono;       /* checks began: start_grace_ms */
	uint32_t failures;        /* in a row, counted */
	uint8_t state;            /* enum health_state */
	bool checking;
	char last_error[HEALTH_ERROR_MAX]; /* "": none yet */
};

static struct {
	LIST_HEAD(, health) checking;    /* borrowed */
	LIST_HEAD(, health_run) orphans; /* owned */
	uint64_t ok, failed;
} health_mod;

static void health_timer_cb(evutil_socket_t, short, void *);
static void health_io_cb(evutil_socket_t, short, void *);

static const struct spec_health *
health_spec(const struct health *h)
{
	return h->node->spec->u.exec.health;
}

/* --- a run's resources ---------------------------------------------------- */

static void
run_close(struct health_run *r)
{
	struct linger lg = { 1, 0 };

	/* A socket is reset, not shut down: no FIN exchange, and no
	 * TIME_WAIT left on the checked server (HAProxy's nolinger). */
	if (r->fd != -1 && r->kind != HEALTH_EXEC)
		setsockopt(r->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	timer_clear(&r->io);
	exec_fd_close(&r->fd);
	exec_fd_close(&r->done_fd);
}

static void
run_free(struct health_run *r)
{
	run_close(r);
	free(r->req);
	free(r);
}

/* The check and whatever it started in its group. */
static void
run_kill(struct health_run *r)
{
	if (r->pid > 0) {
		kill(-r->pid, SIGKILL);
		kill(r->pid, SIGKILL);
	}
}

/* --- results -------------------------------------------------------------- */

static void
health_set_state(struct health *h, enum health_state to)
{
	struct tree_event ev;
	char path[PROTO_PATH_MAX];

	if (h->state == to)
		return;
	memset(&ev, 0, sizeof ev);
	ev.type = TREE_EV_HEALTH;
	ev.node = h->node;
	ev.health_from = h->state;
	ev.health_to = (uint8_t)to;
	ev.failures = h->failures;
	if (h->last_error[0] != '\0') {
		ev.data = h->last_error;
		ev.len = strlen(h->last_error);
	}
	h->state = (uint8_t)to;
	if (to == HEALTH_UNHEALTHY)
		log_warnx("%s: unhealthy: %s",
		    node_path(h->node, path, sizeof path), h->last_error);
	else
		log_info("%s: %s", node_path(h->node, path, sizeof path),
		    health_state_names[to]);
	tree_emit(h->node->tree, &ev);
}

static void
health_arm(struct health *h, int64_t ms)
{
	struct timeval tv = clock_tv(ms);

	if (h->timer == NULL &&
	    (h->timer = evtimer_new(h->node->tree->base, health_timer_cb, h)) ==
	        NULL)
		fatalx("cannot arm a timer");
	if (evtimer_add(h->timer, &tv) == -1)
		fatalx("cannot arm a timer");
}

/* The next check: interval_ms from now, on the next tick. */
static void
health_arm_next(struct health *h)
{
	int64_t now = clock_mono_ms(), due;

	due = now + health_spec(h)->interval_ms;
	due += (HEALTH_TICK_MS - due % HEALTH_TICK_MS) % HEALTH_TICK_MS;
	health_arm(h, due - now);
}

static void
health_unlist(struct health *h)
{
	if (h->checking) {
		LIST_REMOVE(h, entry);
		h->checking = false;
	}
}

/*
 * The check in flight ended (its run is freed here): the state moves,
 * and `failures` in a row fail the node, last, since that stops this
 * very health. why is NULL for a success.
 */
static void
health_result(struct health *h, const char *why)
{
	const struct spec_health *sh = health_spec(h);
	struct health_run *r = h->run;
	struct cause *c;

	h->run = NULL;
	if (r != NULL)
		run_free(r);
	if (h->timer != NULL)
		evtimer_del(h->timer);
	if (why == NULL) {
		health_mod.ok++;
		h->failures = 0;
		health_set_state(h, HEALTH_HEALTHY);
		health_arm_next(h);
		return;
	}
	health_mod.failed++;
	snprintf(h->last_error, sizeof h->last_error, "%s", why);
	proto_utf8_repair(h->last_error);
	/* In its grace, a node not yet healthy is still starting. */
	if (h->state == HEALTH_STARTING &&
	    clock_mono_ms() - h->began_mono < sh->start_grace_ms) {
		health_arm_next(h);
		return;
	}
	h->failures++;
	health_set_state(h, HEALTH_UNHEALTHY);
	if (h->failures < sh->failures) {
		health_arm_next(h);
		return;
	}
	health_unlist(h);
	if ((c = cause_new(CAUSE_HEALTH, "health check failed: %s",
	         h->last_error)) == NULL)
		fatalx("out of memory");
	node_work_failed(h->node, c);
	cause_unref(c);
}

/* "Connection refused", as people read it in a sentence. */
static void
health_fail_errno(struct health *h, int e)
{
	char buf[HEALTH_ERROR_MAX];

	snprintf(buf, sizeof buf, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] >= 'a' && buf[1] <= 'z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	health_result(h, buf);
}

/* --- HTTP and TCP --------------------------------------------------------- */

static int
health_sockaddr(const struct spec_health *sh, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(sh->host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(sh->port);
		*len = sizeof *s6;
		return inet_pton(AF_INET6, sh->host, &s6->sin6_addr) == 1 ? 0 :
		                                                            -1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(sh->port);
		*len = sizeof *s4;
		return inet_pton(AF_INET, sh->host, &s4->sin_addr) == 1 ? 0 :
		                                                          -1;
	}
}

static int
health_watch_fd(struct health_run *r, short what)
{
	timer_clear(&r->io);
	r->io = event_new(r->h->node->tree->base, r->fd, what | EV_PERSIST,
	    health_io_cb, r);
	return r->io != NULL && event_add(r->io, NULL) == 0 ? 0 : -1;
}

static int
health_http_request(struct health_run *r, const struct spec_health *sh)
{
	const char *auth = sh->target + 7; /* "http://" */
	int alen = (int)strcspn(auth, "/?#");
	int n;

	n = snprintf(NULL, 0,
	    "GET %s HTTP/1.0\r\nHost: %.*s\r\nUser-Agent: arbord-health\r\n"
	    "Connection: close\r\n\r\n",
	    sh->path, alen, auth);
	if (n < 0 || (r->req = malloc((size_t)n + 1)) == NULL)
		return -1;
	snprintf(r->req, (size_t)n + 1,
	    "GET %s HTTP/1.0\r\nHost: %.*s\r\nUser-Agent: arbord-health\r\n"
	    "Connection: close\r\n\r\n",
	    sh->path, alen, auth);
	r->reqlen = (size_t)n;
	return 0;
}

/* 2xx and 3xx are healthy; anything else names the status. */
static void
health_http_status(struct health *h, const char *line)
{
	char why[32];
	int code;

	if (strncmp(line, "HTTP/", 5) != 0 ||
	    sscanf(line + strcspn(line, " "), " %3d", &code) != 1) {
		health_result(h, "not an HTTP response");
		return;
	}
	if (code >= 200 && code < 400) {
		health_result(h, NULL);
		return;
	}
	snprintf(why, sizeof why, "HTTP %d", code);
	health_result(h, why);
}

/* Reads the answer as far as it came (the socket is edge-triggered:
 * until EAGAIN) and decides once the status line is whole. */
static void
health_http_read(struct health_run *r)
{
	struct health *h = r->h;
	ssize_t n;

	for (;;) {
		n = recv(r->fd, r->line + r->len, sizeof r->line - 1 - r->len,
		    0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			health_fail_errno(h, errno);
			return;
		}
		r->len += (size_t)n;
		r->line[r->len] = '\0';
		if (memchr(r->line, '\n', r->len) != NULL ||
		    r->len == sizeof r->line - 1 || (n == 0 && r->len > 0)) {
			health_http_status(h, r->line);
			return;
		}
		if (n == 0) {
			health_result(h, "connection closed before an answer");
			return;
		}
	}
}

/*
 * One edge-triggered event per connection, for reading and writing: one
 * registration for the whole check. HTTP learns whether the connect
 * worked from its first send (a refused connect fails it with the
 * connect's error), TCP from SO_ERROR.
 */
static void
health_sock_io(struct health_run *r, short what)
{
	struct health *h = r->h;
	socklen_t elen = sizeof(int);
	ssize_t n;
	int e = 0;

	if (r->kind == HEALTH_TCP) {
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1)
			e = errno;
		if (e != 0)
			health_fail_errno(h, e);
		else if (what & EV_WRITE)
			health_result(h, NULL);
		return;
	}
	while (r->reqoff < r->reqlen) {
		n = send(r->fd, r->req + r->reqoff, r->reqlen - r->reqoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == ENOTCONN))
			return;
		if (n == -1) {
			health_fail_errno(h, errno);
			return;
		}
		r->reqoff += (size_t)n;
	}
	health_http_read(r);
}

static void
health_begin_sock(struct health *h, struct health_run *r)
{
	const struct spec_health *sh = health_spec(h);
	struct sockaddr_storage ss;
	socklen_t len;

	if (health_sockaddr(sh, &ss, &len) == -1) {
		health_result(h, "bad address");
		return;
	}
	if (sh->kind == HEALTH_HTTP && health_http_request(r, sh) == -1) {
		health_result(h, "out of memory");
		return;
	}
	r->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (r->fd == -1) {
		health_fail_errno(h, errno);
		return;
	}
	if (connect(r->fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		health_fail_errno(h, errno);
		return;
	}
	/* Connected or not yet: the first edge says which. */
	if (health_watch_fd(r, EV_READ | EV_WRITE | EV_ET) == -1)
		health_result(h, "out of memory");
}

/* --- exec ------------------------------------------------------------------
 */

/* Keeps the first line of output (for last_error); drains the rest. */
static void
health_read_output(struct health_run *r)
{
	char scratch[4096];
	ssize_t n;

	while (r->fd != -1) {
		if (r->len < sizeof r->line - 1)
			n = read(r->fd, r->line + r->len,
			    sizeof r->line - 1 - r->len);
		else
			n = read(r->fd, scratch, sizeof scratch);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			timer_clear(&r->io);
			exec_fd_close(&r->fd);
			return;
		}
		if (r->len < sizeof r->line - 1) {
			r->len += (size_t)n;
			r->line[r->len] = '\0';
		}
	}
}

static void
health_exec_reaped(struct health *h, struct health_run *r, int status)
{
	char why[HEALTH_ERROR_MAX], first[HEALTH_SHOWN_MAX + 1];
	const char *sig;
	size_t k = 0;

	if (r->timed_out) {
		health_result(h, "timeout");
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		health_result(h, NULL);
		return;
	}
	/* The first line it wrote says more than its status. */
	health_read_output(r);
	for (size_t i = 0;
	     i < r->len && r->line[i] != '\n' && k < HEALTH_SHOWN_MAX; i++)
		first[k++] = (unsigned char)r->line[i] < 0x20 ? ' ' :
		                                                r->line[i];
	while (k > 0 && first[k - 1] == ' ')
		k--;
	first[k] = '\0';
	if (WIFEXITED(status))
		snprintf(why, sizeof why, "exit %d%s%s", WEXITSTATUS(status),
		    k > 0 ? ": " : "", first);
	else if ((sig = proto_signal_name(WTERMSIG(status))) != NULL)
		snprintf(why, sizeof why, "killed by signal %s", sig);
	else
		snprintf(why, sizeof why, "killed by signal %d",
		    WTERMSIG(status));
	health_result(h, why);
}

static void
health_reaped_cb(pid_t pid, int status, const struct rusage *ru, void *arg)
{
	struct health_run *r = arg;

	r->pid = 0;
	/* Nothing it started outlives it. */
	kill(-pid, SIGKILL);
	sentinel_del_group(pid);
	if (r->h == NULL) {
		LIST_REMOVE(r, entry);
		run_free(r);
		return;
	}
	health_exec_reaped(r->h, r, status);
}

static void
health_begin_exec(struct health *h, struct health_run *r)
{
	struct exec_spawned sp;
	struct proto_err err;

	if (exec_spawn_check(h->node, health_spec(h)->argv, &sp, &err) == -1) {
		health_result(h, err.message);
		return;
	}
	r->pid = sp.pid;
	r->fd = sp.out_r;
	r->done_fd = sp.done_w;
	sentinel_add_group(sp.pid);
	if (reaper_watch(sp.pid, health_reaped_cb, r) == -1) {
		run_kill(r);
		while (waitpid(sp.pid, NULL, 0) == -1 && errno == EINTR)
			;
		sentinel_del_group(sp.pid);
		r->pid = 0;
		health_result(h, "out of memory");
		return;
	}
	if (health_watch_fd(r, EV_READ) == -1)
		run_close(r); /* its status is enough */
}

/* --- the timer and the loop's callbacks ------------------------------------
 */

static void
health_begin(struct health *h)
{
	const struct spec_health *sh = health_spec(h);
	struct health_run *r;

	if ((r = calloc(1, sizeof *r)) == NULL) {
		health_result(h, "out of memory");
		return;
	}
	r->h = h;
	r->kind = sh->kind;
	r->fd = r->done_fd = -1;
	h->run = r;
	health_arm(h, sh->timeout_ms);
	if (sh->kind == HEALTH_EXEC)
		health_begin_exec(h, r);
	else
		health_begin_sock(h, r);
}

static void
health_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct health *h = arg;
	struct health_run *r = h->run;

	if (r == NULL) {
		health_begin(h);
		return;
	}
	if (r->kind != HEALTH_EXEC) {
		health_result(h, "timeout");
		return;
	}
	/* Its end comes with the reap. */
	r->timed_out = true;
	run_kill(r);
}

static void
health_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct health_run *r = arg;

	if (r->kind == HEALTH_EXEC)
		health_read_output(r);
	else
		health_sock_io(r, what);
}

/* --- the API ----------------------------------------------------------------
 */

int
health_start(struct health **hp, struct node *n)
{
	struct health *h = *hp;

	if (h == NULL) {
		if ((h = calloc(1, sizeof *h)) == NULL)
			return -1;
		*hp = h;
	}
	health_stop(h);
	h->node = n;
	h->failures = 0;
	h->began_mono = clock_mono_ms();
	health_set_state(h, HEALTH_STARTING);
	h->checking = true;
	LIST_INSERT_HEAD(&health_mod.checking, h, entry);
	/* The first check one interval in, as Docker and monit do: a
	 * program is given that long to start listening. */
	health_arm_next(h);
	return 0;
}

void
health_stop(struct health *h)
{
	struct health_run *r;

	if (h == NULL)
		return;
	timer_clear(&h->timer);
	health_unlist(h);
	if ((r = h->run) == NULL)
		return;
	h->run = NULL;
	if (r->pid > 0) {
		/* Killed now, reaped when the reaper gets to it. */
		run_kill(r);
		run_close(r);
		r->h = NULL;
		LIST_INSERT_HEAD(&health_mod.orphans, r, entry);
		return;
	}
	run_free(r);
}

void
health_free(struct health *h)
{
	if (h == NULL)
		return;
	health_stop(h);
	free(h);
}

bool
health_passing(const struct health *h)
{
	return h != NULL && h->checking && h->state == HEALTH_HEALTHY;
}

json_t *
health_view(const struct health *h, const struct node *n)
{
	if (n->spec->u.exec.health == NULL)
		return json_null();
	if (h == NULL)
		return json_pack("{s:s,s:i,s:n}", "state", "starting",
		    "failures", 0, "last_error");
	return json_pack("{s:s,s:i,s:o}", "state", health_state_names[h->state],
	    "failures", (int)h->failures, "last_error",
	    h->last_error[0] != '\0' ? json_string(h->last_error) :
	                               json_null());
}

void
health_foreach(void (
                   *fn)(void *arg, const struct node *n, enum health_state st),
    void *arg)
{
	struct health *h;

	LIST_FOREACH(h, &health_mod.checking, entry)
		fn(arg, h->node, (enum health_state)h->state);
}

uint64_t
health_checks_total(bool ok)
{
	return ok ? health_mod.ok : health_mod.failed;
}

void
health_replay(void)
{
	struct health_run *r;
	struct health *h;

	LIST_FOREACH(h, &health_mod.checking, entry)
		if (h->run != NULL && h->run->pid > 0)
			sentinel_add_group(h->run->pid);
	LIST_FOREACH(r, &health_mod.orphans, entry)
		sentinel_add_group(r->pid);
}

void
health_teardown(void)
{
	struct health_run *r;

	while ((r = LIST_FIRST(&health_mod.orphans)) != NULL) {
		LIST_REMOVE(r, entry);
		reaper_unwatch(r->pid);
		sentinel_del_group(r->pid);
		run_free(r);
	}
}
