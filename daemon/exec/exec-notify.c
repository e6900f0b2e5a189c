/*
 * sd_notify for exec workers (systemd's NOTIFY_SOCKET protocol): each run
 * of a node with ready "notify" or a watchdog gets a datagram socket of
 * its own, in the abstract namespace (a worker running as another user
 * can send to it; no file to clean up). SO_PASSCRED makes the kernel say
 * who sent each message: only the run's main process and the pid it named
 * with MAINPID= are heard, as systemd's NotifyAccess=main; anything else
 * is counted and dropped. Fds sent along (FDSTORE, BARRIER) are closed at
 * once. The watchdog is a timer each WATCHDOG=1 re-arms; when it fires
 * the node's work failed (node_work_failed), which its parent handles
 * like a crash. The record is exec-int.h's struct exec_notify.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct ucred, SCM_CREDENTIALS */
#endif

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "cause.h"
#include "clock.h"
#include "exec-int.h"
#include "log.h"
#include "node.h"
#include "sdnotify.h"
#include "spec.h"
#include "timer.h"
#include "tree.h"

#define NOTIFY_BATCH   64  /* messages read per callback */
#define NOTIFY_MAX_FDS 253 /* SCM_MAX_FD */
#define NOTIFY_HOPS    64  /* parent links followed for MAINPID= */

bool
exec_notify_wanted(const struct spec_exec *sx)
{
	return sx->ready == READY_NOTIFY || sx->watchdog_ms > 0;
}

/* microseconds to milliseconds, rounded up: a deadline is never early */
static int64_t
notify_usec_ms(uint64_t usec)
{
	uint64_t ms = usec / 1000 + (usec % 1000 != 0);

	return ms > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)ms;
}

static const char *
notify_path(const struct exec *w, char *buf, size_t size)
{
	return node_path(w->node, buf, size);
}

static void
notify_set_status(struct exec *w, const char *s, size_t len)
{
	struct exec_notify *nt = w->nt;
	struct tree_event ev;
	char *copy = NULL;

	if (s != NULL && len > 0) {
		if (nt->status != NULL && strlen(nt->status) == len &&
		    memcmp(nt->status, s, len) == 0)
			return;
		if ((copy = strndup(s, len)) == NULL) {
			log_warnx("out of memory keeping a status");
			return;
		}
	} else if (nt->status == NULL)
		return;
	free(nt->status);
	nt->status = copy;
	memset(&ev, 0, sizeof ev);
	ev.type = TREE_EV_STATUS;
	ev.node = w->node;
	ev.data = copy;
	ev.len = copy != NULL ? len : 0;
	tree_emit(w->node->tree, &ev);
}

/* --- the watchdog --------------------------------------------------------- */

static void
notify_wd_arm(struct exec_notify *nt, int64_t ms)
{
	struct timeval tv = clock_tv(ms);

	if (evtimer_add(nt->wd, &tv) == -1)
		fatalx("cannot arm a timer");
	nt->wd_due = clock_mono_ms() + ms;
}

/* Counting from now, if it counts at all. */
static void
notify_wd_reset(struct exec *w)
{
	struct exec_notify *nt = w->nt;

	if (nt->wd == NULL)
		return;
	if (!nt->running || nt->wd_ms <= 0 || w->stop_sent || w->reaped) {
		evtimer_del(nt->wd);
		return;
	}
	notify_wd_arm(nt, nt->wd_ms);
}

/* The watchdog's failure: the node stops the work (exec_stop sends
 * SIGABRT, as systemd's WatchdogSignal=) and its parent decides. */
static void
notify_wd_fail(struct exec *w, const char *how)
{
	char path[PROTO_PATH_MAX];
	struct cause *c;

	log_warnx("%s: watchdog timeout (%s); SIGABRT",
	    notify_path(w, path, sizeof path), how);
	w->nt->wd_fired = true;
	if ((c = cause_new(CAUSE_WATCHDOG, "watchdog timeout")) == NULL)
		fatalx("out of memory");
	/* The run may end inside: nothing of w is touched after. */
	node_work_failed(w->node, c);
	cause_unref(c);
}

static void
notify_wd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec *w = arg;
	char how[64];

	snprintf(how, sizeof how, "no WATCHDOG=1 in %lld ms",
	    (long long)w->nt->wd_ms);
	notify_wd_fail(w, how);
}

/* --- who may speak ------------------------------------------------------- */

/* The run's main process (its pid is the group's, kept after the reap, so
 * a message sent just before exiting still counts) or its MAINPID=. */
static bool
notify_heard(const struct exec *w, pid_t pid)
{
	return pid > 0 &&
	    ((w->pgid > 0 && pid == w->pgid) ||
	        (w->nt->mainpid > 0 && pid == w->nt->mainpid));
}

/* MAINPID= may name only a process of the run: its main process, a member
 * of its group, or a descendant of the main process. */
static bool
notify_pid_of_run(const struct exec *w, pid_t pid)
{
	if (w->pgid <= 0 || pid == exec_mod.self)
		return false;
	if (pid == w->pgid || getpgid(pid) == w->pgid)
		return true;
	for (int i = 0; i < NOTIFY_HOPS && pid > 1; i++) {
		if ((pid = exec_proc_parent(pid)) == w->pgid)
			return true;
		if (pid == exec_mod.self)
			return false;
	}
	return false;
}

/* --- messages ------------------------------------------------------------ */

static void
notify_extend(struct exec *w, int64_t ms)
{
	struct exec_notify *nt = w->nt;
	int64_t due = clock_mono_ms() + ms;
	struct timeval tv = clock_tv(ms);

	if (w->node->state == NODE_STARTING)
		node_work_extend(w->node, ms);
	if (w->stop_sent && !w->killed && w->grace != NULL &&
	    due > w->grace_due) {
		if (evtimer_add(w->grace, &tv) == -1)
			fatalx("cannot arm a timer");
		w->grace_due = due;
	}
	if (nt->wd != NULL && evtimer_pending(nt->wd, NULL) && due > nt->wd_due)
		notify_wd_arm(nt, ms);
}

/* Acts on one message of the run's own; returns false once the run is
 * gone (a trigger, a readiness that ended it), so the caller stops. A
 * run that is ending only takes what it said, not what it asked for. */
static bool
notify_apply(struct exec *w, const struct sdnotify_msg *m, bool ending)
{
	struct exec_notify *nt = w->nt;
	struct node *n = w->node;
	unsigned gen = nt->gen;
	char path[PROTO_PATH_MAX];

	if (m->flags & SDN_MAINPID) {
		if (notify_pid_of_run(w, (pid_t)m->mainpid))
			nt->mainpid = (pid_t)m->mainpid;
		else
			log_warnx("%s: MAINPID=%ld ignored: not a process "
			          "of the worker",
			    notify_path(w, path, sizeof path), m->mainpid);
	}
	if (m->flags & SDN_STATUS)
		notify_set_status(w, m->status, m->status_len);
	if (m->flags & SDN_ERRNO)
		nt->err_no = m->err_no;
	if (m->flags & SDN_RELOADING)
		nt->reloading = true;
	if (m->flags & SDN_STOPPING) {
		if (!nt->stopping)
			log_info("%s: the program says it is stopping",
			    notify_path(w, path, sizeof path));
		nt->stopping = true;
	}
	if (ending)
		return false;
	if (m->flags & SDN_WATCHDOG_USEC) {
		nt->wd_ms = m->watchdog_usec == 0 ?
		    0 :
		    notify_usec_ms(m->watchdog_usec);
		notify_wd_reset(w);
	}
	if (m->flags & SDN_WATCHDOG)
		notify_wd_reset(w);
	if (m->flags & SDN_EXTEND)
		notify_extend(w, notify_usec_ms(m->extend_usec));
	if (m->flags & SDN_READY) {
		nt->reloading = false;
		if (n->spec->u.exec.ready == READY_NOTIFY &&
		    n->state == NODE_STARTING && !w->stop_sent) {
			exec_notify_ready(w);
			node_work_ready(n);
			if (nt->gen != gen || nt->fd == -1)
				return false;
		}
	}
	if ((m->flags & SDN_WATCHDOG_TRIGGER) && !w->stop_sent && !w->reaped) {
		notify_wd_fail(w, "WATCHDOG=trigger");
		return false;
	}
	return nt->gen == gen && nt->fd != -1;
}

/* Closes every fd a message carried; how many. */
static unsigned
notify_close_fds(struct msghdr *mh, pid_t *from)
{
	unsigned count = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL;
	     c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof uc);
			*from = uc.pid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < nfd; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
				    sizeof fd);
				close(fd);
				count++;
			}
		}
	}
	return count;
}

/* Reads one datagram; 0 when there was none, -1 when the run is gone. */
static int
notify_read_one(struct exec *w, bool ending)
{
	struct exec_notify *nt = w->nt;
	static char buf[SDNOTIFY_MSG_MAX];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(sizeof(int) * NOTIFY_MAX_FDS)];
	} ctl;
	struct iovec iov = { buf, sizeof buf };
	struct msghdr mh;
	struct sdnotify_msg m;
	char path[PROTO_PATH_MAX];
	pid_t from = 0;
	unsigned nfds;
	ssize_t r;

	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof ctl.b;
	r = recvmsg(nt->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (r == -1)
		return 0; /* EAGAIN; or an error a datagram socket does not
		             keep */
	nfds = notify_close_fds(&mh, &from);
	nt->fds_closed += nfds;
	if ((mh.msg_flags & MSG_TRUNC) == 0 &&
	    sdnotify_parse(buf, (size_t)r, &m) == 0 && m.flags == SDN_BARRIER &&
	    m.unknown == 0)
		return 1; /* systemd-notify's barrier: its fd closed is all */
	if (!notify_heard(w, from)) {
		nt->ignored++;
		if (!nt->warned_foreign)
			log_info("%s: sd_notify message from pid %ld "
			         "ignored: only the main process (pid %ld) "
			         "or its MAINPID= is heard",
			    notify_path(w, path, sizeof path), (long)from,
			    (long)w->pgid);
		nt->warned_foreign = true;
		return 1;
	}
	if ((mh.msg_flags & MSG_TRUNC) ||
	    sdnotify_parse(buf, (size_t)r, &m) == -1) {
		log_warnx("%s: sd_notify message ignored: %s",
		    notify_path(w, path, sizeof path),
		    (mh.msg_flags & MSG_TRUNC) ? "longer than 4096 bytes" :
		                                 "it holds a NUL byte");
		return 1;
	}
	/* A barrier's fd is closed as asked; any other is not kept. */
	if (nfds > 0 && !(m.flags & SDN_BARRIER) && !nt->warned_fds) {
		log_warnx("%s: sd_notify fd store not supported: %u fds "
		          "closed",
		    notify_path(w, path, sizeof path), nfds);
		nt->warned_fds = true;
	}
	return notify_apply(w, &m, ending) || ending ? 1 : -1;
}

static void
notify_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec *w = arg;

	/* A bounded batch: a chatty worker cannot hold the loop. */
	for (int i = 0; i < NOTIFY_BATCH; i++)
		if (notify_read_one(w, false) <= 0)
			break;
}

/* --- the run's socket ----------------------------------------------------- */

/* Binds fd to "\0arbor/DAEMON-PID/notify/NODE-ID", or to a name the
 * kernel picks if that is taken (another daemon with our pid in another
 * pid namespace); writes "@name" to addr. */
static int
notify_bind(int fd, const struct exec *w, char *addr, size_t size)
{
	struct sockaddr_un sa;
	socklen_t len;
	int n;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1,
	    "arbor/%ld/notify/%llu", (long)exec_mod.self,
	    (unsigned long long)w->node->id);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)n);
	if (bind(fd, (struct sockaddr *)&sa, len) == -1) {
		if (errno != EADDRINUSE)
			return -1;
		/* Autobind: an abstract name of the kernel's choice. */
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) == -1)
			return -1;
		len = sizeof sa;
		if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
			return -1;
		n = (int)(len - offsetof(struct sockaddr_un, sun_path)) - 1;
	}
	if (n < 1 || (size_t)n + 2 > size)
		return (errno = ENAMETOOLONG), -1;
	addr[0] = '@';
	memcpy(addr + 1, sa.sun_path + 1, (size_t)n);
	addr[n + 1] = '\0';
	return 0;
}

/* The per-run state starts again; counters and the record stay. */
static void
notify_new_run(struct exec *w)
{
	struct exec_notify *nt = w->nt;

	nt->gen++;
	nt->mainpid = 0;
	nt->err_no = 0;
	nt->running = false;
	nt->reloading = false;
	nt->stopping = false;
	nt->wd_fired = false;
	nt->warned_foreign = false;
	nt->warned_fds = false;
	nt->wd_ms = w->node->spec->u.exec.watchdog_ms;
	nt->wd_due = 0;
	/* A new run has said nothing yet. */
	notify_set_status(w, NULL, 0);
}

int
exec_notify_open(struct exec *w, struct proto_err *err)
{
	struct event_base *base = w->node->tree->base;
	struct exec_notify *nt = w->nt;
	int one = 1, fd, e;

	if (nt == NULL) {
		if ((nt = calloc(1, sizeof *nt)) == NULL)
			return proto_errf(err, PROTO_INTERNAL, "out of memory");
		nt->fd = -1;
		w->nt = nt;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	         0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == -1 ||
	    notify_bind(fd, w, nt->addr, sizeof nt->addr) == -1) {
		e = errno;
		if (fd != -1)
			close(fd);
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot start \"%s\": notify socket: %s",
		    w->node->spec->u.exec.argv[0], strerror(e));
		err->sys_errno = e;
		return -1;
	}
	nt->fd = fd;
	if ((nt->ev = event_new(base, fd, EV_READ | EV_PERSIST, notify_read_cb,
	         w)) == NULL ||
	    event_add(nt->ev, NULL) == -1 ||
	    (nt->wd = evtimer_new(base, notify_wd_cb, w)) == NULL) {
		exec_notify_close(w);
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	notify_new_run(w);
	return 0;
}

void
exec_notify_ready(struct exec *w)
{
	if (w->nt == NULL || w->nt->fd == -1)
		return;
	w->nt->running = true;
	notify_wd_reset(w);
}

void
exec_notify_stop(struct exec *w)
{
	if (w->nt != NULL && w->nt->wd != NULL)
		evtimer_del(w->nt->wd);
}

void
exec_notify_drain(struct exec *w)
{
	if (w->nt == NULL || w->nt->fd == -1)
		return;
	for (int i = 0; i < NOTIFY_BATCH; i++)
		if (notify_read_one(w, true) <= 0)
			break;
}

void
exec_notify_close(struct exec *w)
{
	struct exec_notify *nt = w->nt;

	if (nt == NULL)
		return;
	timer_clear(&nt->ev);
	timer_clear(&nt->wd);
	exec_fd_close(&nt->fd);
	nt->running = false;
}

void
exec_notify_free(struct exec *w)
{
	if (w->nt == NULL)
		return;
	exec_notify_close(w);
	free(w->nt->status);
	free(w->nt);
	w->nt = NULL;
}

void
exec_notify_view(const struct exec *w, int64_t watchdog_ms, json_t *view)
{
	/* Before a first start: what a run would begin with. */
	static const struct exec_notify none = { .fd = -1 };
	const struct exec_notify *nt = w != NULL && w->nt != NULL ? w->nt :
	                                                            &none;
	int64_t wd_ms = nt != &none ? nt->wd_ms : watchdog_ms;
	json_t *o;

	json_object_set_new(view, "status",
	    nt->status != NULL ? json_string(nt->status) : json_null());
	o = json_pack("{s:b,s:b,s:I,s:I}", "reloading", nt->reloading,
	    "stopping", nt->stopping, "ignored", (json_int_t)nt->ignored,
	    "fds_closed", (json_int_t)nt->fds_closed);
	if (o == NULL)
		return;
	json_object_set_new(o, "main_pid",
	    nt->mainpid > 0 ? json_integer(nt->mainpid) : json_null());
	json_object_set_new(o, "errno",
	    nt->err_no > 0 ? json_integer(nt->err_no) : json_null());
	json_object_set_new(o, "watchdog_ms",
	    wd_ms > 0 ? json_integer(wd_ms) : json_null());
	json_object_set_new(view, "notify", o);
}
