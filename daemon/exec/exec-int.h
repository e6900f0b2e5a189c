/*
 * What exec.c, exec-spawn.c and exec-proc.c share: the worker's record and
 * the module's state. A worker owns its main process, the daemon's ends of
 * its done, ready and output pipes, its grace and poll timers, the escaped
 * descendants it found, and its output ring (kept across restarts, so
 * `logs` shows why the last run ended). A run ends only when the main
 * process was reaped, its group is empty, the escaped descendants are gone
 * and the output reached end of file; then it holds nothing but the ring
 * and the view data (exit, rusage, pid of the last run). docs/exec.md says
 * which mechanism covers which way of escaping.
 */
#ifndef EXEC_INT_H
#define EXEC_INT_H

#include <stdbool.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <event2/util.h>

#include "cgroup.h"
#include "err.h"
#include "ring.h"

struct event;
struct node;

struct exec_desc {
	pid_t pid;
	unsigned long long start; /* /proc start time: guards reuse */
};

struct exec {
	struct node *node;       /* borrowed */
	LIST_ENTRY(exec) entry;  /* the live list */
	pid_t pid;               /* main process; 0 once reaped */
	pid_t pgid;              /* its group (= pid of the last run) */
	int done_fd;             /* owned: write end, -1 closed */
	int ready_fd;            /* owned: read end, -1 closed */
	int out_fd;              /* owned: read end, -1 at EOF */
	struct event *out_ev;    /* owned */
	struct event *ready_ev;  /* owned */
	struct event *grace;     /* owned: SIGKILL when it fires */
	struct event *poll;      /* owned: re-check of leftovers */
	struct exec_desc *descs; /* owned: escaped descendants */
	size_t ndescs, capdescs;
	struct cgroup_run cg;    /* owned: this run's cgroup; dir NULL: none */
	int cg_wd;               /* inotify watch of its cgroup.events */
	struct cgroup_acct last; /* of the last run, once it ended */
	bool has_last;
	struct ring ring; /* owned, kept across runs */
	int status;       /* wait status of the main process */
	struct rusage ru;
	int poll_ms;
	bool live;       /* the run has not ended */
	bool reaped;     /* main process reaped */
	bool group_gone; /* never signal the pgid again */
	bool stop_sent;  /* stop signal sent (cancel/leftovers) */
	bool killed;     /* SIGKILL sent: grace is over */
	bool scan_want;  /* wants a /proc scan */
	bool scanned;    /* scanned once after the main exit */
	bool recheck;    /* iteration mark */
	bool has_rusage;
};

/* Module state, one per process: made by exec_init. */
struct exec_module {
	LIST_HEAD(, exec) live; /* borrowed: workers with a run */
	struct event *scan_ev;  /* owned: one /proc scan per turn */
	pid_t self;             /* arbord's pid */
	bool has_nofile;        /* workers get nofile, not arbord's */
	struct rlimit nofile;
};

extern struct exec_module exec_mod;

/* exec-spawn.c: the child, started and past its exec. */
struct exec_spawned {
	pid_t pid;
	int done_w; /* the daemon's ends: the caller's */
	int out_r;
	int ready_r;          /* -1 without readiness by fd */
	struct cgroup_run cg; /* the caller's: its cgroup; dir NULL: none */
};

/* Starts n's program; -1 with err filled (the errno too) when it could not
 * be started, holding nothing then. */
int exec_spawn(struct node *n, struct exec_spawned *sp, struct proto_err *err);
void exec_fd_close(int *fd);

/* exec-proc.c: the run's processes, timers and output. */
void exec_track(struct exec *w); /* the run is live */
void exec_check(struct exec *w);
void exec_stop(struct exec *w);
void exec_release(struct exec *w, bool kill_left);
void exec_reaped_cb(pid_t pid, int status, const struct rusage *ru, void *arg);
void exec_out_cb(evutil_socket_t fd, short what, void *arg);
void exec_scan_cb(evutil_socket_t fd, short what, void *arg);
void exec_after_reap(void);
void exec_replay(void);
void exec_cgroup_changed(int wd);
/* exec.c: the accounting of w's run (or its last). */
void exec_acct(const struct exec *w, struct cgroup_acct *a);

#endif
