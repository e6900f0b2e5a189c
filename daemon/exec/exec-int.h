/*
 * What exec.c, exec-spawn.c and exec-proc.c share: the worker's record and
 * the module's state. A worker owns its main process, the daemon's ends of
 * its done and ready pipes and its stdout and stderr pipes, its grace and
 * poll timers, the escaped descendants it found, its output rings (kept
 * across restarts, so `logs` shows why the last run ended) and, during a
 * run, references to its log files. A run ends only when the main process
 * was reaped, its group is empty, the escaped descendants are gone and both
 * output pipes reached end of file; then it holds nothing but the rings
 * and the view data (exit, rusage, pid of the last run, output counters).
 * docs/exec.md says which mechanism covers which way of escaping.
 */
#ifndef EXEC_INT_H
#define EXEC_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <event2/util.h>
#include <jansson.h>

#include "cgroup.h"
#include "err.h"
#include "index.h"
#include "lines.h"
#include "ring.h"
#include "worker.h"

struct event;
struct health;
struct node;

/* A worker's sd_notify side (exec-notify.c), for nodes with ready
 * "notify" or a watchdog: the run's datagram socket (NOTIFY_SOCKET), its
 * watchdog timer, and what the program said. Allocated at the first
 * start, kept across runs like the ring; the socket and timer live only
 * while a run does. */
struct exec_notify {
	int fd;              /* owned: the run's socket, -1 between runs */
	struct event *ev;    /* owned: reads fd */
	struct event *wd;    /* owned: the watchdog timer */
	char addr[108];      /* NOTIFY_SOCKET: "@name" (abstract) */
	char *status;        /* owned: the last STATUS=, NULL: none */
	pid_t mainpid;       /* MAINPID=, also heard from; 0: none */
	int err_no;          /* ERRNO=; 0: none */
	int64_t wd_ms;       /* the watchdog interval now; 0: off */
	int64_t wd_due;      /* monotonic ms the watchdog fires */
	uint64_t ignored;    /* messages from other processes, ever */
	uint64_t fds_closed; /* fds sent with messages, closed, ever */
	unsigned gen;        /* runs: a callback that outlived its run
	                        stops */
	bool running;        /* ready: the watchdog counts */
	bool reloading;      /* RELOADING=1 until READY=1 */
	bool stopping;       /* STOPPING=1 */
	bool wd_fired;       /* the stop is the watchdog's: SIGABRT */
	bool warned_foreign; /* logged once per run */
	bool warned_fds;
};

struct exec;
struct logfile;

enum { EXEC_STDOUT, EXEC_STDERR, EXEC_NSTREAMS };

/* One output stream of a worker (exec-out.c). */
struct exec_stream {
	struct exec *w;               /* borrowed: its worker */
	int fd;                       /* owned: read end, -1 at EOF */
	struct event *ev;             /* owned */
	struct lines lines;           /* owned: the line not ended yet */
	struct ring ring;             /* owned, kept across runs */
	struct logfile *file;         /* reference during a run; NULL: none */
	uint8_t which;                /* EXEC_STDOUT, EXEC_STDERR */
	bool big;                     /* its pipe was made bigger */
	bool ticking;                 /* read on the tick, not on each write */
	LIST_ENTRY(exec_stream) tick; /* the ticking streams, while so */
};

/* What happened to a worker's output, over all its runs. */
struct exec_out_stats {
	uint64_t lines[EXEC_NSTREAMS];
	uint64_t cut;             /* lines cut at LINES_MAX */
	uint64_t file_dropped;    /* bytes a file could not take */
	uint64_t journal_dropped; /* lines the journal did not take */
};

struct exec_desc {
	pid_t pid;
	unsigned long long start; /* /proc start time: guards reuse */
};

struct exec {
	struct node *node;       /* borrowed */
	LIST_ENTRY(exec) entry;  /* the live list */
	TAILQ_ENTRY(exec) sweep; /* exec_mod.sweeps, while sweep_sig */
	int64_t sweep_due;       /* monotonic ms */
	int sweep_sig;           /* stop signal still owed to the rest of
	                            its cgroup; 0: none */
	pid_t pid;               /* main process; 0 once reaped */
	pid_t pgid;              /* its group (= pid of the last run) */
	int done_fd;             /* owned: write end, -1 closed */
	int ready_fd;            /* owned: read end, -1 closed */
	struct event *ready_ev;  /* owned */
	struct event *grace;     /* owned: SIGKILL when it fires */
	struct event *poll;      /* owned: re-check of leftovers */
	struct exec_desc *descs; /* owned: escaped descendants */
	size_t ndescs, capdescs;
	struct exec_notify *nt; /* owned, kept across runs; NULL: none */
	int64_t grace_due;      /* monotonic ms the grace ends */
	struct exec_stream out[EXEC_NSTREAMS];
	struct exec_out_stats ostats;
	uint32_t run;            /* runs started, this one included */
	bool journal;            /* this run's lines go to the journal */
	struct health *health;   /* owned, kept across runs; NULL: never
	                            checked */
	int status;              /* wait status of the main process */
	struct cgroup_run cg;    /* owned: this run's cgroup; dir NULL: none */
	int cg_wd;               /* inotify watch of its cgroup.events once
	                            the main process left others; -1 */
	struct cgroup_acct last; /* of the last run, once it ended */
	bool has_last;
	struct rusage ru;
	uint64_t strays0; /* reaper_strays() when the run began */
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
	bool cg_shared; /* others than the main process's tree were in its
	                   cgroup (a check), or it was not empty at the reap */
};

/* Module state, one per process: made by exec_init. */
struct exec_module {
	LIST_HEAD(, exec) live; /* borrowed: workers with a run */
	struct idmap by_wd;     /* inotify wd -> live exec (borrowed) */
	size_t nleftover;       /* live, reaped and scanned: each reap may
	                           have been one of what they left */
	struct event *scan_ev;  /* owned: one /proc scan per turn */
	TAILQ_HEAD(, exec)
	sweeps;                 /* borrowed: stops owed to the rest of a
	                           cgroup, by due time (exec_sweep) */
	struct event *sweep_ev; /* owned: the first one's due time */
	pid_t self;             /* arbord's pid */
	bool has_nofile;        /* workers get nofile, not arbord's */
	struct rlimit nofile;
};

extern struct exec_module exec_mod;

/* exec-spawn.c: the child, started and past its exec. */
struct exec_spawned {
	const char *notify_addr; /* in: NOTIFY_SOCKET, NULL: none */
	int64_t watchdog_ms;     /* in: WATCHDOG_USEC, 0: none */
	pid_t pid;
	int done_w; /* the daemon's ends: the caller's */
	int out_r;
	int err_r;
	int ready_r;          /* -1 without readiness by fd */
	struct cgroup_run cg; /* the caller's: its cgroup; dir NULL: none */
};

/* Starts n's program; -1 with err filled (the errno too) when it could not
 * be started, holding nothing then. */
int exec_spawn(struct node *n, struct exec_spawned *sp, struct proto_err *err);
/* A health check of n's (health.c): argv instead of the spec's, no
 * readiness pipe, otherwise started exactly as the worker is. */
int exec_spawn_check(struct node *n, char *const *argv, struct exec_spawned *sp,
    struct proto_err *err);
void exec_fd_close(int *fd);

/* exec-proc.c: the run's processes, timers and output. */
int exec_sweep_init(struct event_base *base); /* exec_init */
void exec_sweep_free(void);                   /* exec_teardown */
void exec_track(struct exec *w);              /* the run is live */
void exec_check(struct exec *w);
void exec_stop(struct exec *w);
void exec_release(struct exec *w, bool kill_left);
void exec_reaped_cb(pid_t pid, int status, const struct rusage *ru, void *arg);
void exec_scan_cb(evutil_socket_t fd, short what, void *arg);
void exec_after_reap(void);
void exec_replay(void);
/* The signal a stop sends: the spec's, or SIGABRT for a watchdog's. */
int exec_stop_signal(const struct exec *w);
/* The parent of pid from /proc, or -1. */
pid_t exec_proc_parent(pid_t pid);

/* exec-notify.c: sd_notify. */
struct spec_exec;
bool exec_notify_wanted(const struct spec_exec *sx);
/* Opens the run's socket (a new record when w has none); -1 with err
 * filled (spawn_failed and the errno), holding nothing new. */
int exec_notify_open(struct exec *w, struct proto_err *err);
/* The run became ready: the watchdog starts counting. */
void exec_notify_ready(struct exec *w);
/* The run is being stopped: the watchdog is off. */
void exec_notify_stop(struct exec *w);
/* Reads what was sent before the run ended (an ERRNO= just before the
 * exit belongs to the cause). */
void exec_notify_drain(struct exec *w);
/* The run is over: the socket and the timer go, what was said stays. */
void exec_notify_close(struct exec *w);
void exec_notify_free(struct exec *w);
/* status and notify; w NULL before a first start. */
void exec_notify_view(const struct exec *w, int64_t watchdog_ms, json_t *view);

/* exec-out.c: the output streams and where their lines go. */
/* A new record's streams; NULL-safe teardown in exec_out_drop. */
void exec_out_init(struct exec *w);
/* Before a run: the effective `log` settings, the rings sized, the files
 * opened. */
void exec_out_begin(struct exec *w);
/* The run's pipes: events on them. -1 when out of memory. */
int exec_out_watch(struct exec *w, int out_r, int err_r);
/* Reads what is there on stream s; -1 at end of file (then closed). */
ssize_t exec_out_read(struct exec_stream *s);
/* Both pipes reached end of file. */
bool exec_out_done(const struct exec *w);
/* Closes the pipes (lines not ended come out) and the files. */
void exec_out_release(struct exec *w);
/* Frees the rings too: the record goes. */
void exec_out_drop(struct exec *w);
void exec_out_cb(evutil_socket_t fd, short what, void *arg);
/* At exit: the tick's timer. */
void exec_out_teardown(void);
/* Opens this worker's log files again, for `reopen`. */
int exec_out_reopen(struct exec *w);
/* worker_ops.lines and the view's "output". */
int exec_lines(const struct node *n, unsigned streams, int64_t since_ms,
    worker_line_fn *fn, void *arg, bool *lost);
void exec_out_view(const struct exec *w, json_t *view);
/* Appends to pids every live process of w's group, from /proc. */
void exec_group_pids(const struct exec *w, json_t *pids);
void exec_cgroup_changed(int wd);
/* exec.c: the accounting of w's run (or its last). */
void exec_acct(const struct exec *w, struct cgroup_acct *a);

#endif
