/*
 * Cgroups (v2): the subtree arbord owns and the cgroup of each node in it.
 * Where a writable cgroup v2 hierarchy is found (systemd's Delegate=yes,
 * root on the unified hierarchy, or --cgroup PATH), the layout is
 *
 *   ROOT/arbord         arbord itself, when ROOT was its own cgroup
 *   ROOT/tree           the root supervisor "/"
 *   ROOT/tree/web/w1    the node /web/w1: the cgroup tree mirrors the tree
 *
 * An exec node's cgroup lives for one run: made before its vfork, entered
 * by the child before its exec, removed once the run ended (it is empty
 * then). A supervisor's is made when the first run below it needs it and
 * removed when the supervisor terminates. Limits are written when a cgroup
 * is made, and again on a reload. Module state, one per process (like the
 * reaper): cgroup_init makes it, cgroup_teardown kills what is left and
 * removes the tree. The exec module and the daemon call it; the tree never
 * does. Without cgroups every call is a no-op and exec keeps its process
 * group, subreaper, /proc scan and sentinel (docs/exec.md).
 */
#ifndef CGROUP_H
#define CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "err.h"

struct event_base;
struct node;
struct node_spec;

#define CGROUP_MOUNTINFO   "/proc/self/mountinfo"
#define CGROUP_SELF_CGROUP "/proc/self/cgroup"

struct cgroup_config {
	const char *path;        /* --cgroup; NULL: find one */
	bool disabled;           /* --no-cgroup */
	const char *mountinfo;   /* NULL: CGROUP_MOUNTINFO */
	const char *self_cgroup; /* NULL: CGROUP_SELF_CGROUP */
};

/* Accounting of one cgroup (or, without one, of the processes exec
 * knows); -1 where unknown. */
struct cgroup_acct {
	int64_t cpu_usec;
	int64_t memory_bytes;
	int64_t memory_peak_bytes;
	int64_t tasks;
	int64_t oom_kills;
};

/* One run's cgroup: its directory (its files are opened relative to
 * ROOT/tree's fd, no walk from /), and its cgroup.procs while the child
 * is being started (it enters through it). A run holds no fd of its
 * cgroup after that: each fd a run holds is copied into every later
 * start's child and closed by its exec. */
struct cgroup_run {
	char *dir;    /* owned; NULL: no cgroup */
	int fd;       /* owned: its cgroup.procs while starting, else -1 */
	bool removed; /* cgroup_run_remove removed it */
};

/* --- pure helpers (unit-tested on fake files) --------------------------- */

/* The cgroup2 mount point in a mountinfo file, into buf; -1 when none. */
int cgroup_find_mount(const char *mountinfo, char *buf, size_t size);
/* The "0::" path of a /proc/PID/cgroup file ("/system.slice/x"); -1
 * when there is none (a v1-only host). */
int cgroup_find_own(const char *self_cgroup, char *buf, size_t size);
/* Where arbord may make cgroups: dir into buf, and *own when that is
 * arbord's own cgroup (it must then move into a leaf). -1 with a reason
 * a person can read. */
int cgroup_detect(const char *mountinfo, const char *self_cgroup, char *buf,
    size_t size, bool *own, char *reason, size_t rsize);
/* One node name as a cgroup directory name: names holding a "." (every
 * interface file does: cgroup.procs, memory.max) or beginning with "_"
 * get a "_" in front, so no name can be taken for an interface file and
 * no two names meet. Returns the length, or -1 when it does not fit. */
int cgroup_escape(const char *name, char *buf, size_t size);
/* ROOT/tree plus each escaped name of a node path ("/web/w1"). */
int cgroup_path_dir(const char *root, const char *path, char *buf, size_t size);
/* The value of key in a "key value" file (cpu.stat, memory.events); -1
 * when absent. */
int cgroup_keyed(const char *text, const char *key, int64_t *out);

/* --- the module --------------------------------------------------------- */

/* Finds and sets up the hierarchy; never fails the daemon: without one it
 * logs why, once, and cgroups are unavailable. -1 only when out of
 * memory. */
int cgroup_init(struct event_base *base, const struct cgroup_config *cfg);
/* Kills what is left below ROOT/tree and removes it (orderly exit). */
void cgroup_teardown(void);

bool cgroup_available(void);
/* The `stats.cgroups` object (PROTOCOL.md). */
json_t *cgroup_stats_json(void);
/* Refuses (invalid_params, naming the field and the controller) a spec
 * whose limits the host cannot apply; the whole subtree is checked. */
int cgroup_check_spec(const struct node_spec *spec, struct proto_err *err);

/* The node's cgroup directory (NULL-free, owned by the caller), or NULL
 * without cgroups or memory. */
char *cgroup_node_dir(const struct node *n);
/* Makes n's cgroup (and its ancestors', with their limits), writes n's
 * limits and opens its cgroup.procs (run->fd, which the caller closes
 * once the child entered) for the child to enter: *run is the caller's,
 * ended with cgroup_run_end. 0 without cgroups (run->dir NULL). */
int cgroup_node_prepare(const struct node *n, struct cgroup_run *run,
    struct proto_err *err);
/* Writes n's limits again, every one its controllers allow (the unset
 * ones back to the kernel's default): a reload changed them. Nothing
 * when n has no cgroup now. */
void cgroup_node_apply(const struct node *n);
/* Removes a supervisor's cgroup (it terminated or was removed). */
void cgroup_node_remove(const struct node *n);

/* One run's cgroup. */
int cgroup_watch(const struct cgroup_run *r); /* inotify wd; -1: poll */
void cgroup_unwatch(int wd);
/* 1 populated, 0 empty; an unreadable file counts as empty. */
int cgroup_populated(const struct cgroup_run *r);
/* A cgroup.procs fd of its own for a health check to enter it; -1. */
int cgroup_open_procs(const struct cgroup_run *r);
/* The stop signal to every process in it; SIGKILL goes through
 * cgroup.kill. */
void cgroup_signal(const struct cgroup_run *r, int sig);
void cgroup_kill(const struct cgroup_run *r);
/* Up to max pids of its processes; -1 when unreadable. */
int cgroup_pids(const struct cgroup_run *r, pid_t *v, int max);
/* Removes it now: 0 when it was empty, -1 with errno (EBUSY: it holds
 * processes, or cgroups of its own). */
int cgroup_run_remove(struct cgroup_run *r);
/* Closes and forgets it; with remove, removes the (empty) cgroup too
 * unless that was done, and logs when it cannot. */
void cgroup_run_end(struct cgroup_run *r, bool remove);
/* Accounting from its files; tasks from pids.current or cgroup.procs. */
void cgroup_acct_read(const struct cgroup_run *r, struct cgroup_acct *a);
/* The same, and with v up to max of its pids from the same read of
 * cgroup.procs: how many, or -1 (v NULL, or unreadable). */
int cgroup_acct_read_pids(const struct cgroup_run *r, struct cgroup_acct *a,
    pid_t *v, int max);
/* What a run that ended used (its cgroup is empty: no memory or tasks
 * to read): cpu (unless cpu is false: then -1), peak, OOM kills. */
void
cgroup_acct_final(const struct cgroup_run *r, struct cgroup_acct *a, bool cpu);
/* Adds the five view fields of a (null where -1). */
void cgroup_acct_json(const struct cgroup_acct *a, json_t *view);
/* A supervisor's accounting, from its cgroup (all -1 without one). */
void cgroup_sup_acct(const struct node *n, struct cgroup_acct *a);
/* A supervisor's view fields, from its cgroup (all null without one, or
 * when not fresh: nothing is read then). */
void cgroup_sup_view(const struct node *n, json_t *view, bool fresh);
/* Whether memory.events can say an OOM kill happened. */
bool cgroup_has_memory(void);

/* exec's hook: the cgroup.events of watch wd changed. */
void cgroup_set_changed(void (*fn)(int wd));

#endif
