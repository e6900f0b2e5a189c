/*
 * The reaper (reaper.h): the SIGCHLD event, the index of watched pids, and
 * the count of strays.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <event2/event.h>

#include "index.h"
#include "log.h"
#include "reaper.h"
#include "timer.h"

struct reaper_watch {
	reaper_cb *cb;
	void *arg; /* borrowed */
};

static struct {
	struct event *ev;     /* owned: SIGCHLD */
	struct idmap watches; /* pid -> owned struct reaper_watch */
	void (*after)(void);
	uint64_t strays;
	int ready;
} reaper;

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
		w->cb(pid, status, &ru, w->arg);
		free(w);
	}
	if (reaped > 0 && reaper.after != NULL)
		reaper.after();
}

int
reaper_init(struct event_base *base)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("cannot become a child subreaper; orphaned "
		         "grandchildren go to init");
	idmap_init(&reaper.watches);
	if ((reaper.ev = evsignal_new(base, SIGCHLD, reaper_sigchld_cb,
	         NULL)) == NULL ||
	    evsignal_add(reaper.ev, NULL) == -1) {
		log_warnx("cannot watch SIGCHLD");
		return -1;
	}
	reaper.ready = 1;
	/* Children that ended before the watch began. */
	event_active(reaper.ev, EV_SIGNAL, 1);
	return 0;
}

void
reaper_free(void)
{
	/* Watches are owned by whoever still holds pids; at exit nobody
	 * does, but free what is left. Only the slot array can be walked by
	 * deleting, so the callers unwatched theirs already. */
	timer_clear(&reaper.ev);
	idmap_free(&reaper.watches);
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
	free(idmap_del(&reaper.watches, (uint64_t)pid));
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

uint64_t
reaper_strays(void)
{
	return reaper.strays;
}
