/*
 * The reaper (reaper.h): the SIGCHLD event, the index of watched pids, and
 * the count of strays. SIGCHLD is blocked and read from a signalfd: a
 * stop of 1,000 workers is 1,000 SIGCHLDs, and a handler (libevent's
 * writes a byte to a socket pair, then the loop reads it) costs a signal
 * frame and two system calls each. Children get an empty mask before
 * their exec (exec-spawn.c, sentinel.c). Without signalfd, libevent's
 * signal event.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "index.h"
#include "log.h"
#include "reaper.h"
#include "timer.h"

struct reaper_watch {
	reaper_cb *cb;
	void *arg; /* borrowed */
};

/* A watched child reaped in this round, its owner told at the round's
 * end: by then every stray of the round is counted (an orphan that ended
 * with a run's main process is reaped after it, being the younger
 * child, and the run's CPU accounting asks whether strays went). */
struct reaper_done {
	pid_t pid;
	int status;
	struct rusage ru;
	struct reaper_watch *w; /* owned; NULL once unwatched meanwhile */
};

static struct {
	struct event *ev;     /* owned: SIGCHLD (its signalfd, or a signal) */
	int sfd;              /* owned: signalfd of SIGCHLD, -1: none */
	bool unblock;         /* SIGCHLD was not blocked before */
	struct idmap watches; /* pid -> owned struct reaper_watch */
	void (*after)(void);
	uint64_t strays;
	int ready;
	struct reaper_done *done; /* owned; kept from round to round */
	size_t ndone, capdone;
} reaper = { .sfd = -1 };

static int
reaper_defer(pid_t pid, int status, const struct rusage *ru,
    struct reaper_watch *w)
{
	if (reaper.ndone == reaper.capdone) {
		size_t cap = reaper.capdone ? 2 * reaper.capdone : 64;
		struct reaper_done *d = realloc(reaper.done, cap * sizeof *d);

		if (d == NULL)
			return -1;
		reaper.done = d;
		reaper.capdone = cap;
	}
	reaper.done[reaper.ndone++] = (struct reaper_done){ pid, status, *ru,
		w };
	return 0;
}

static void
reaper_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct reaper_watch *w;
	struct rusage ru;
	int status, reaped = 0;
	pid_t pid;

	for (;;) {
		pid = wait4(-1, &status, WNOHANG, &ru);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		reaped++;
		if ((w = idmap_del(&reaper.watches, (uint64_t)pid)) == NULL) {
			reaper.strays++;
			log_debug("reaped stray pid %ld", (long)pid);
			continue;
		}
		if (reaper_defer(pid, status, &ru, w) == -1) {
			/* Out of memory: told now, as it was reaped. */
			w->cb(pid, status, &ru, w->arg);
			free(w);
		}
	}
	/* The array does not move meanwhile: only the loop above adds. */
	for (size_t i = 0; i < reaper.ndone; i++) {
		struct reaper_done *d = &reaper.done[i];

		if ((w = d->w) == NULL)
			continue;
		d->w = NULL;
		w->cb(d->pid, d->status, &d->ru, w->arg);
		free(w);
	}
	reaper.ndone = 0;
	if (reaped > 0 && reaper.after != NULL)
		reaper.after();
}

static void
reaper_sfd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct signalfd_siginfo si[16];

	/* Emptied first: a child that ends after this read raises the fd
	 * again, so none is left unreaped. */
	while (read(reaper.sfd, si, sizeof si) > 0)
		;
	reaper_sigchld_cb(SIGCHLD, EV_SIGNAL, arg);
}

/* SIGCHLD blocked and read from a signalfd; -1 (nothing changed) when
 * the kernel has none. */
static int
reaper_sfd_open(struct event_base *base)
{
	sigset_t chld, old;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &old) == -1)
		return -1;
	reaper.unblock = !sigismember(&old, SIGCHLD);
	if ((reaper.sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) ==
	        -1 ||
	    (reaper.ev = event_new(base, reaper.sfd, EV_READ | EV_PERSIST,
	         reaper_sfd_cb, NULL)) == NULL ||
	    event_add(reaper.ev, NULL) == -1) {
		timer_clear(&reaper.ev);
		if (reaper.sfd != -1)
			close(reaper.sfd);
		reaper.sfd = -1;
		if (reaper.unblock)
			sigprocmask(SIG_UNBLOCK, &chld, NULL);
		reaper.unblock = false;
		return -1;
	}
	return 0;
}

int
reaper_init(struct event_base *base)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("cannot become a child subreaper; orphaned "
		         "grandchildren go to init");
	idmap_init(&reaper.watches);
	if (reaper_sfd_open(base) == -1 &&
	    ((reaper.ev = evsignal_new(base, SIGCHLD, reaper_sigchld_cb,
	          NULL)) == NULL ||
	        evsignal_add(reaper.ev, NULL) == -1)) {
		log_warnx("cannot watch SIGCHLD");
		return -1;
	}
	reaper.ready = 1;
	/* Children that ended before the watch began. */
	event_active(reaper.ev, reaper.sfd != -1 ? EV_READ : EV_SIGNAL, 1);
	return 0;
}

void
reaper_free(void)
{
	/* Watches are owned by whoever still holds pids; at exit nobody
	 * does, but free what is left. Only the slot array can be walked by
	 * deleting, so the callers unwatched theirs already. */
	timer_clear(&reaper.ev);
	if (reaper.sfd != -1) {
		close(reaper.sfd);
		reaper.sfd = -1;
	}
	if (reaper.unblock) {
		sigset_t chld;

		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		reaper.unblock = false;
	}
	idmap_free(&reaper.watches);
	free(reaper.done);
	reaper.done = NULL;
	reaper.ndone = reaper.capdone = 0;
	reaper.ready = 0;
}

int
reaper_ready(void)
{
	return reaper.ready;
}

int
reaper_watch(pid_t pid, reaper_cb *cb, void *arg)
{
	struct reaper_watch *w;

	if ((w = malloc(sizeof *w)) == NULL)
		return -1;
	w->cb = cb;
	w->arg = arg;
	if (idmap_put(&reaper.watches, (uint64_t)pid, w) == -1) {
		free(w);
		return -1;
	}
	return 0;
}

void
reaper_unwatch(pid_t pid)
{
	struct reaper_watch *w = idmap_del(&reaper.watches, (uint64_t)pid);

	/* A watched pid is a live child, even one whose number an ended
	 * child of this round had: that one's notice stays. */
	if (w != NULL) {
		free(w);
		return;
	}
	/* Reaped in this round, its owner not told yet: not told at all. */
	for (size_t i = 0; i < reaper.ndone; i++)
		if (reaper.done[i].pid == pid && reaper.done[i].w != NULL) {
			free(reaper.done[i].w);
			reaper.done[i].w = NULL;
		}
}

int
reaper_watched(pid_t pid)
{
	return idmap_get(&reaper.watches, (uint64_t)pid) != NULL;
}

void
reaper_set_after(void (*fn)(void))
{
	reaper.after = fn;
}

bool
reaper_pending(void)
{
	siginfo_t si;

	/* WNOWAIT: looked at, left for reaper_sigchld_cb. */
	memset(&si, 0, sizeof si);
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid != 0;
}

uint64_t
reaper_strays(void)
{
	return reaper.strays;
}
