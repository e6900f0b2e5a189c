/*
 * Reaping every child of the daemon. arbord is a child subreaper, so
 * orphaned grandchildren of its workers are reparented to it; one SIGCHLD
 * event reaps them all (no zombie ever stays), hands the status and rusage
 * of a watched pid to its owner, and counts the rest as strays. Signals are
 * process-wide, so there is one reaper per process: module state, set up
 * once by the daemon.
 */
#ifndef REAPER_H
#define REAPER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

struct event_base;

/* Called from the loop once pid was reaped, after every child that had
 * ended by then was reaped too (strays counted); the watch is gone by
 * then. */
typedef void
reaper_cb(pid_t pid, int status, const struct rusage *ru, void *arg);

/* Becomes a child subreaper and watches SIGCHLD on base. */
int reaper_init(struct event_base *base);
void reaper_free(void);
int reaper_ready(void); /* 1 once reaper_init succeeded */

int reaper_watch(pid_t pid, reaper_cb *cb, void *arg); /* -1: ENOMEM */
void reaper_unwatch(pid_t pid);
int reaper_watched(pid_t pid); /* 1: someone waits for pid */
/* Called after each round of reaping (children of others may have gone
 * with it): exec re-checks the process groups it waits for. */
void reaper_set_after(void (*fn)(void));

uint64_t reaper_strays(void); /* children reaped that nobody watched */
/* Whether a child has ended and is not reaped yet (a stray among them is
 * not in reaper_strays until the next round of reaping). */
bool reaper_pending(void);

#endif
