/*
 * Exec workers: external programs started with vfork (exec-spawn.c), each
 * in its own session and process group, followed until their run ends
 * (exec-proc.c). This file is the worker's life as the tree sees it: its
 * worker_ops, its record kept across runs, readiness, and the module's
 * process-wide set-up. exec-int.h says what a worker owns.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "exec-int.h"
#include "ident.h"
#include "exec.h"
#include "journal.h"
#include "health.h"
#include "log.h"
#include "node.h"
#include "reaper.h"
#include "ring.h"
#include "sentinel.h"
#include "timer.h"
#include "tree.h"
#include "worker.h"

/* --- ready ------------------------------------------------------------------
 */

static void
exec_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec *w = arg;
	char buf[512];
	ssize_t r;

	r = read(w->ready_fd, buf, sizeof buf);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		/* EOF without a line is not ready: the start timeout is. */
		timer_clear(&w->ready_ev);
		exec_fd_close(&w->ready_fd);
		return;
	}
	/* Kept open and drained, so a second line is no SIGPIPE. */
	if (memchr(buf, '\n', (size_t)r) != NULL &&
	    w->node->state == NODE_STARTING) {
		exec_notify_ready(w);
		node_work_ready(w->node);
	}
}

/* --- worker_ops -------------------------------------------------------------
 */

/* The previous run's record when there is one (its ring goes on), else a
 * new one. */
static struct exec *
exec_take(struct node *n, bool *fresh)
{
	struct exec *w = n->work;

	*fresh = w == NULL;
	if (w != NULL)
		return w;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return NULL;
	w->node = n;
	exec_out_init(w);
	return w;
}

/* A new run on the record: the rings, counters and run number go on. */
static void
exec_reset(struct exec *w)
{
	struct ring rings[EXEC_NSTREAMS];
	struct exec_out_stats ostats = w->ostats;
	struct exec_notify *nt = w->nt;
	struct health *h = w->health;
	struct node *n = w->node;
	uint32_t run = w->run;

	for (int i = 0; i < EXEC_NSTREAMS; i++)
		rings[i] = w->out[i].ring;
	memset(w, 0, sizeof *w);
	w->nt = nt;
	w->health = h;
	w->node = n;
	exec_out_init(w);
	for (int i = 0; i < EXEC_NSTREAMS; i++)
		w->out[i].ring = rings[i];
	w->ostats = ostats;
	w->run = run;
	w->done_fd = w->ready_fd = -1;
	w->cg_wd = -1;
	w->cg.fd = -1;
}

static void
exec_drop(struct exec *w)
{
	health_free(w->health);
	exec_notify_free(w);
	exec_out_drop(w);
	free(w);
}

/* Takes over the started child: its fds, the reaper's watch and the events
 * on its output and readiness. -1 (the child killed and reaped, nothing
 * held) when out of memory. */
static int
exec_watch(struct exec *w, const struct exec_spawned *sp, struct proto_err *err)
{
	struct event_base *base = w->node->tree->base;
	pid_t pid = sp->pid;

	w->pid = w->pgid = pid;
	w->done_fd = sp->done_w;
	w->cg = sp->cg;
	w->ready_fd = sp->ready_r;
	if (reaper_watch(pid, exec_reaped_cb, w) == 0 &&
	    exec_out_watch(w, sp->out_r, sp->err_r) == 0 &&
	    (w->ready_fd == -1 ||
	        ((w->ready_ev = event_new(base, w->ready_fd,
	              EV_READ | EV_PERSIST, exec_ready_cb, w)) != NULL &&
	            event_add(w->ready_ev, NULL) == 0)))
		return 0;
	reaper_unwatch(pid);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	if (w->cg.dir != NULL) {
		cgroup_kill(&w->cg);
		cgroup_run_end(&w->cg, true);
	}
	timer_clear(&w->ready_ev);
	exec_fd_close(&w->done_fd);
	exec_out_release(w);
	exec_fd_close(&w->ready_fd);
	return proto_errf(err, PROTO_INTERNAL, "out of memory");
}

/* A start that failed leaves no process, fd or timer; a worker that ran
 * before keeps its record, so its earlier output stays readable. */
static void
exec_start_failed(struct exec *w, bool fresh)
{
	w->pid = w->pgid = 0;
	w->group_gone = true;
	exec_notify_close(w);
	exec_out_release(w);
	if (fresh)
		exec_drop(w);
	else
		w->node->work = w;
}

/* What the child gets besides the spec: the run's notify socket, opened
 * first since the program may speak at once, and the watchdog. */
static int
exec_prepare(struct exec *w, const struct spec_exec *sx,
    struct exec_spawned *sp, struct proto_err *err)
{
	memset(sp, 0, sizeof *sp);
	sp->watchdog_ms = sx->watchdog_ms;
	if (!exec_notify_wanted(sx))
		return 0;
	if (exec_notify_open(w, err) == -1)
		return -1;
	sp->notify_addr = w->nt->addr;
	return 0;
}

static int
exec_start(struct node *n, bool *ready, struct proto_err *err)
{
	const struct spec_exec *sx = &n->spec->u.exec;
	struct exec_spawned sp;
	struct exec *w = NULL;
	bool fresh = false;
	int rc = -1;

	if (!reaper_ready())
		proto_errf(err, PROTO_INTERNAL,
		    "exec workers need the daemon's reaper");
	else if (exec_mod.scan_ev == NULL)
		proto_errf(err, PROTO_INTERNAL, "exec workers need exec_init");
	else if ((w = exec_take(n, &fresh)) == NULL)
		proto_errf(err, PROTO_INTERNAL, "out of memory");
	else {
		exec_reset(w);
		n->work = NULL;
		exec_out_begin(w);
		if (exec_prepare(w, sx, &sp, err) == 0 &&
		    exec_spawn(n, &sp, err) == 0 &&
		    exec_watch(w, &sp, err) == 0)
			rc = 0;
	}
	if (rc == 0) {
		exec_track(w);
		n->work = w;
		*ready = sx->ready == READY_EXEC;
		if (*ready)
			exec_notify_ready(w);
		if (log_enabled(LOG_LEVEL_DEBUG)) {
			char path[PROTO_PATH_MAX];

			log_debug("%s: started %s (pid %ld)",
			    node_path(n, path, sizeof path), sx->argv[0],
			    (long)sp.pid);
		}
	} else if (w != NULL) {
		exec_start_failed(w, fresh);
	}
	return rc;
}

static void
exec_cancel(struct node *n)
{
	struct exec *w = n->work;

	if (w == NULL || !w->live)
		return;
	exec_stop(w);
	exec_check(w);
}

/* Health checks run while the node is running, from the moment it
 * became so. */
static void
exec_running(struct node *n)
{
	struct exec *w = n->work;
	char path[PROTO_PATH_MAX];

	if (w == NULL || !w->live || w->stop_sent ||
	    n->spec->u.exec.health == NULL)
		return;
	if (health_start(&w->health, n) == -1)
		log_warnx("%s: out of memory; its health is not checked",
		    node_path(n, path, sizeof path));
}

/* A reload changed the policy: a changed check starts over, a removed
 * one is forgotten. */
static void
exec_policy(struct node *n)
{
	struct exec *w = n->work;

	if (w == NULL)
		return;
	health_stop(w->health);
	if (n->spec->u.exec.health == NULL) {
		health_free(w->health);
		w->health = NULL;
		return;
	}
	if (n->state == NODE_RUNNING)
		exec_running(n);
}

/* A rolling restart waits for this after running, when there is a check. */
static bool
exec_healthy(const struct node *n)
{
	const struct exec *w = n->work;

	if (n->spec->u.exec.health == NULL)
		return true;
	return w != NULL && health_passing(w->health);
}

/* --- accounting -------------------------------------------------------------
 */

/* CPU time (us) and resident bytes of one live process, from /proc. */
static int
exec_proc_usage(pid_t pid, int64_t *cpu_usec, int64_t *rss)
{
	static long tick, page;
	unsigned long long ut, st;
	long long pages;
	char path[64], buf[1024], *p;
	ssize_t r;
	int fd;

	if (tick == 0) {
		tick = sysconf(_SC_CLK_TCK);
		page = sysconf(_SC_PAGESIZE);
	}
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
	        "%*d %*d %*d %*d %*d %*d %*u %*u %lld",
	        &ut, &st, &pages) != 3 ||
	    tick <= 0)
		return -1;
	*cpu_usec += (int64_t)((ut + st) * 1000000ULL / (unsigned long)tick);
	*rss += (int64_t)pages * page;
	return 0;
}

static int64_t
exec_tv_usec(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000 + tv->tv_usec;
}

/* Without a cgroup (or its memory controller): what /proc says of the
 * processes the worker knows, its main process and escaped descendants
 * (group members it did not scan for are not counted). */
static void
exec_acct_proc(const struct exec *w, struct cgroup_acct *a)
{
	int64_t cpu = 0, rss = 0, n = 0;

	if (w->pid > 0 && !w->reaped &&
	    exec_proc_usage(w->pid, &cpu, &rss) == 0)
		n++;
	for (size_t i = 0; i < w->ndescs; i++)
		if (exec_proc_usage(w->descs[i].pid, &cpu, &rss) == 0)
			n++;
	if (w->reaped && w->has_rusage)
		cpu += exec_tv_usec(&w->ru.ru_utime) +
		    exec_tv_usec(&w->ru.ru_stime);
	a->cpu_usec = cpu;
	a->memory_bytes = rss;
	a->tasks = n;
	if (w->reaped && w->has_rusage)
		a->memory_peak_bytes = (int64_t)w->ru.ru_maxrss * 1024;
}

void
exec_acct(const struct exec *w, struct cgroup_acct *a)
{
	pid_t pids[256];
	int n;

	a->cpu_usec = a->memory_bytes = a->memory_peak_bytes = a->tasks =
	    a->oom_kills = -1;
	if (w == NULL)
		return;
	if (!w->live) {
		if (w->has_last)
			*a = w->last;
		return;
	}
	if (w->cg.dir == NULL) {
		exec_acct_proc(w, a);
		return;
	}
	if (w->cg.removed) {
		/* Emptied and removed; its output is being drained. */
		*a = w->last;
		return;
	}
	if (cgroup_has_memory()) {
		cgroup_acct_read(&w->cg, a);
		n = -2;
	} else
		n = cgroup_acct_read_pids(&w->cg, a, pids, 256);
	if (a->memory_bytes == -1) {
		/* No memory controller: RSS of what is in the cgroup. */
		int64_t cpu = 0, rss = 0;

		if (n == -2)
			n = cgroup_pids(&w->cg, pids, 256);

		for (int i = 0; i < n; i++)
			exec_proc_usage(pids[i], &cpu, &rss);
		a->memory_bytes = n >= 0 ? rss : -1;
		if (w->reaped && w->has_rusage)
			a->memory_peak_bytes = (int64_t)w->ru.ru_maxrss * 1024;
	}
}

void
exec_node_acct(const struct node *n, struct cgroup_acct *a)
{
	exec_acct(n->work, a);
}

static void
exec_acct_view(const struct node *n, json_t *view, bool fresh)
{
	struct cgroup_acct acct;
	const struct exec *w = n->work;

	if (fresh || (w != NULL && !w->live))
		exec_acct(w, &acct);
	else
		acct.cpu_usec = acct.memory_bytes = acct.memory_peak_bytes =
		    acct.tasks = acct.oom_kills = -1;
	cgroup_acct_json(&acct, view);
}

static void
exec_view(const struct node *n, json_t *view)
{
	const struct exec *w = n->work;
	json_t *argv = json_array();

	json_object_set_new(view, "health",
	    health_view(w != NULL ? w->health : NULL, n));

	for (char *const *a = n->spec->u.exec.argv; a != NULL && *a != NULL;
	     a++)
		json_array_append_new(argv, json_string(*a));
	json_object_set_new(view, "argv", argv);
	if (exec_notify_wanted(&n->spec->u.exec))
		exec_notify_view(w, n->spec->u.exec.watchdog_ms, view);
	if (w == NULL)
		return;
	if (w->live && !w->reaped && w->pid > 0)
		json_object_set_new(view, "pid", json_integer(w->pid));
	if (w->pgid > 0)
		json_object_set_new(view, "pgid", json_integer(w->pgid));
	exec_out_view(w, view);
	if (w->has_rusage && !w->live)
		json_object_set_new(view, "rusage",
		    json_pack("{s:I,s:I,s:I}", "user_ms",
		        (json_int_t)w->ru.ru_utime.tv_sec * 1000 +
		            w->ru.ru_utime.tv_usec / 1000,
		        "system_ms",
		        (json_int_t)w->ru.ru_stime.tv_sec * 1000 +
		            w->ru.ru_stime.tv_usec / 1000,
		        "max_rss_kb", (json_int_t)w->ru.ru_maxrss));
}

static void
exec_free(struct node *n)
{
	struct exec *w = n->work;

	if (w == NULL)
		return;
	exec_release(w, true);
	n->work = NULL;
	exec_drop(w);
}

static int
exec_reopen(struct node *n)
{
	struct exec *w = n->work;

	if (w == NULL || !w->live)
		return 0;
	return exec_out_reopen(w);
}

/* What `all` reaches: the group, the main process if it left it, and the
 * escaped descendants found so far. Where the node has a cgroup, this is
 * the place to read its cgroup.procs instead (cgroup.kill is no use: it
 * only kills). */
static void
exec_signal_targets(const struct exec *w, json_t *pids)
{
	bool main_listed = false;
	size_t i;
	json_t *v;

	exec_group_pids(w, pids);
	json_array_foreach(pids, i, v)
		if (json_integer_value(v) == w->pid)
			main_listed = true;
	if (!main_listed)
		json_array_append_new(pids, json_integer(w->pid));
	for (i = 0; i < w->ndescs; i++)
		json_array_append_new(pids, json_integer(w->descs[i].pid));
}

int
exec_signal(struct node *n, int sig, bool all, json_t **pids,
    struct proto_err *err)
{
	const struct exec *w = n->work;
	char path[PROTO_PATH_MAX];
	json_t *v;
	size_t i;

	*pids = NULL;
	node_path(n, path, sizeof path);
	if (n->spec->kind != KIND_EXEC)
		return proto_errf(err, PROTO_CONFLICT,
		    "%s is a %s; only exec nodes have processes to signal",
		    path, spec_kind_names[n->spec->kind]);
	if (w == NULL || !w->live || w->reaped || w->pid <= 0)
		return proto_errf(err, PROTO_CONFLICT,
		    "%s has no running process (it is %s)", path,
		    node_state_names[node_wire_state(n)]);
	if ((*pids = json_array()) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (!all) {
		if (kill(w->pid, sig) == -1) {
			json_decref(*pids);
			*pids = NULL;
			return proto_errf(err, PROTO_CONFLICT,
			    "cannot signal %s (pid %ld): %s", path,
			    (long)w->pid, strerror(errno));
		}
		json_array_append_new(*pids, json_integer(w->pid));
		return 0;
	}
	/* Listed before the signal, which may end some of them. */
	/* With a cgroup, everything in it: nothing escapes by setsid. */
	if (w->cg.dir != NULL) {
		pid_t cg[1024];
		int k = cgroup_pids(&w->cg, cg, 1024);

		for (int j = 0; j < k; j++)
			json_array_append_new(*pids, json_integer(cg[j]));
		cgroup_signal(&w->cg, sig);
		return 0;
	}
	exec_signal_targets(w, *pids);
	if (!w->group_gone)
		kill(-w->pgid, sig);
	json_array_foreach(*pids, i, v)
		if (getpgid((pid_t)json_integer_value(v)) != w->pgid)
			kill((pid_t)json_integer_value(v), sig);
	return 0;
}

int
exec_init(struct event_base *base)
{
	exec_mod.self = getpid();
	idmap_init(&exec_mod.by_wd);
	exec_mod.nleftover = 0;
	if ((exec_mod.scan_ev = event_new(base, -1, 0, exec_scan_cb, NULL)) ==
	        NULL ||
	    exec_sweep_init(base) == -1 || journal_attach(base) == -1)
		return -1;
	if (ident_attach(base) == -1)
		return -1;
	reaper_set_after(exec_after_reap);
	sentinel_set_replay(exec_replay);
	cgroup_set_changed(exec_cgroup_changed);
	return 0;
}

void
exec_set_child_nofile(const struct rlimit *rl)
{
	exec_mod.nofile = *rl;
	exec_mod.has_nofile = true;
}

void
exec_teardown(void)
{
	struct exec *w;

	while ((w = LIST_FIRST(&exec_mod.live)) != NULL) {
		exec_release(w, true);
		w->node->work = NULL;
		exec_drop(w);
	}
	timer_clear(&exec_mod.scan_ev);
	exec_sweep_free();
	idmap_free(&exec_mod.by_wd);
	ident_detach();
	exec_out_teardown();
	journal_flush();
	journal_detach();
	health_teardown();
	reaper_set_after(NULL);
	sentinel_set_replay(NULL);
}

const struct worker_ops worker_exec_ops = {
	.name = "exec",
	.start = exec_start,
	.cancel = exec_cancel,
	.view = exec_view,
	.acct = exec_acct_view,
	.free = exec_free,
	.lines = exec_lines,
	.reopen = exec_reopen,
	.running = exec_running,
	.policy = exec_policy,
	.healthy = exec_healthy,
};
