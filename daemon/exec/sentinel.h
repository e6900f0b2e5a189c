/*
 * The sentinel: a tiny child process that outlives arbord just long enough
 * to kill what arbord started. arbord holds the only write end of a pipe
 * to it and registers process groups and escaped pids on it; when that
 * pipe reaches end of file (arbord died, even by kill -9) the sentinel
 * SIGKILLs every registered group and pid, then every process whose
 * environment carries ARBOR_DAEMON_PID=<arbord's pid>, and exits. Module
 * state, like the reaper: one per daemon.
 */
#ifndef SENTINEL_H
#define SENTINEL_H

#include <sys/types.h>

struct event_base;

/* Forks the sentinel; call before anything else is open. */
int sentinel_start(void);
/* Watches it from the loop (restarts it if it dies); after reaper_init. */
int sentinel_attach(struct event_base *base);
/* Orderly exit: tells it to go without killing anything. */
void sentinel_stop(void);

void sentinel_add_group(pid_t pgid);
void sentinel_del_group(pid_t pgid);
void sentinel_add_pid(pid_t pid);
void sentinel_del_pid(pid_t pid);

/* The cgroup.kill file of arbord's cgroup tree: written first when
 * arbord dies (cgroup.c). */
void sentinel_set_cgroup_kill(const char *path);

/* exec.c's hook to register everything again with a new sentinel. */
void sentinel_set_replay(void (*fn)(void));

pid_t sentinel_pid(void);

#endif
