/*
 * The processes of an exec worker's run and how it ends: its main process
 * (reaped through the reaper), its process group, the escaped descendants
 * found in /proc, the stop (done handle, stop signal, SIGKILL once the
 * grace is over), the poll for what is left, and draining its output. A
 * run ends here (exec_check), and only when all of those are gone.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "exec-int.h"
#include "health.h"
#include "log.h"
#include "node.h"
#include "procenv.h"
#include "reaper.h"
#include "ring.h"
#include "sentinel.h"
#include "timer.h"
#include "tree.h"

#define EXEC_POLL_MIN_MS 5
#define EXEC_POLL_MAX_MS 100

struct exec_module exec_mod;

/* Checks the workers marked for it. Checks may end runs (and start new
 * ones): start over each time. */
static void
exec_recheck(void)
{
	struct exec *w;

	for (;;) {
		for (w = LIST_FIRST(&exec_mod.live); w != NULL && !w->recheck;
		     w = LIST_NEXT(w, entry))
			;
		if (w == NULL)
			break;
		w->recheck = false;
		exec_check(w);
	}
}

/* --- /proc ---------------------------------------------------------------- */

struct proc_ent {
	pid_t pid, ppid, pgid;
	unsigned long long start;
	long long arbor_id; /* orphans: ARBOR_ID, -1 none, -2 n/a */
	bool mark;
};

/* Reads /proc/PID/NAME into buf (size bytes, NUL-terminated); how much
 * was read, or -1 when nothing could be. */
static ssize_t
proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t r;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, buf, size - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	return r;
}

static int
proc_stat(pid_t pid, struct proc_ent *e)
{
	char buf[1024], state, *p;

	if (proc_read(pid, "stat", buf, sizeof buf) == -1)
		return -1;
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 1,
	        " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
	        "%*u %*d %*d %*d %*d %*d %*d %llu",
	        &state, &e->ppid, &e->pgid, &e->start) != 4)
		return -1;
	e->pid = pid;
	return state == 'Z' || state == 'X' ? -1 : 0;
}

pid_t
exec_proc_parent(pid_t pid)
{
	struct proc_ent e;

	return proc_stat(pid, &e) == 0 ? e.ppid : -1;
}

/* Live (not zombie) and the same process we found. */
static bool
desc_alive(const struct exec_desc *d)
{
	struct proc_ent e;

	return proc_stat(d->pid, &e) == 0 && e.start == d->start;
}

static long long
proc_arbor_id(pid_t pid)
{
	char val[32];
	ssize_t len;

	/* Wherever the process put it: the whole environment is read. */
	if ((len = procenv_get(pid, "ARBOR_ID", val, sizeof val)) < 0 ||
	    (size_t)len >= sizeof val)
		return -1;
	return atoll(val);
}

static int
proc_cmp(const void *a, const void *b)
{
	const struct proc_ent *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct proc_ent *
proc_find(struct proc_ent *v, size_t n, pid_t pid)
{
	struct proc_ent key = { .pid = pid };

	return bsearch(&key, v, n, sizeof *v, proc_cmp);
}

static int
proc_read_all(struct proc_ent **out, size_t *nout)
{
	struct proc_ent *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atol(de->d_name);
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				free(v);
				closedir(dir);
				return -1;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof v[n]);
		if (proc_stat(pid, &v[n]) == -1)
			continue;
		v[n].arbor_id = -2;
		if (v[n].ppid == exec_mod.self && !reaper_watched(pid) &&
		    pid != sentinel_pid())
			v[n].arbor_id = proc_arbor_id(pid);
		n++;
	}
	closedir(dir);
	qsort(v, n, sizeof *v, proc_cmp);
	*out = v;
	*nout = n;
	return 0;
}

/* --- signalling ----------------------------------------------------------- */

static bool
exec_group_alive(struct exec *w)
{
	if (w->group_gone || w->pgid <= 0)
		return false;
	if (kill(-w->pgid, 0) == -1 && errno == ESRCH) {
		/* Only once the main process was reaped can the group id go
		 * to someone else; from then on it is never signalled. */
		if (w->reaped) {
			w->group_gone = true;
			sentinel_del_group(w->pgid);
		}
		return false;
	}
	return true;
}

/* --- the rest of a cgroup ---------------------------------------------- */

/* The stop signal reaches the processes of a run's cgroup that left its
 * process group this long after the group, at the latest. */
#define EXEC_SWEEP_MS 200

static void
exec_sweep_cancel(struct exec *w)
{
	if (w->sweep_sig == 0)
		return;
	TAILQ_REMOVE(&exec_mod.sweeps, w, sweep);
	w->sweep_sig = 0;
}

/* The stop signal owed to the processes of the cgroup outside the run's
 * process group (which had it): escaped ones (setsid), and any other. */
static void
exec_sweep(struct exec *w)
{
	pid_t pids[1024];
	int sig = w->sweep_sig, n;

	exec_sweep_cancel(w);
	if (sig == 0 || w->cg.dir == NULL || w->cg.removed ||
	    (n = cgroup_pids(&w->cg, pids, 1024)) <= 0)
		return;
	for (int i = 0; i < n; i++)
		if (getpgid(pids[i]) != w->pgid) {
			kill(pids[i], sig);
			kill(pids[i], SIGCONT);
		}
}

static void
exec_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	int64_t now = clock_mono_ms();
	struct exec *w;
	struct timeval tv;

	while (
	    (w = TAILQ_FIRST(&exec_mod.sweeps)) != NULL && w->sweep_due <= now)
		exec_sweep(w);
	if (w != NULL) {
		tv = clock_tv(w->sweep_due - now);
		evtimer_add(exec_mod.sweep_ev, &tv);
	}
}

int
exec_sweep_init(struct event_base *base)
{
	TAILQ_INIT(&exec_mod.sweeps);
	exec_mod.sweep_ev = evtimer_new(base, exec_sweep_cb, NULL);
	return exec_mod.sweep_ev != NULL ? 0 : -1;
}

void
exec_sweep_free(void)
{
	while (!TAILQ_EMPTY(&exec_mod.sweeps))
		exec_sweep_cancel(TAILQ_FIRST(&exec_mod.sweeps));
	timer_clear(&exec_mod.sweep_ev);
}

/* The main process (if it left its group) and its process group, with
 * SIGCONT after any signal but SIGKILL, so a stopped process gets it. */
static void
exec_signal_group(struct exec *w, int sig)
{
	if (w->pid > 0 && !w->reaped && getpgid(w->pid) != w->pgid)
		kill(w->pid, sig);
	if (!w->group_gone && w->pgid > 0) {
		kill(-w->pgid, sig);
		if (sig != SIGKILL)
			kill(-w->pgid, SIGCONT);
	}
}

/*
 * The stop signal of a run with a cgroup: its process group at once (as
 * without a cgroup: two calls), the rest of its cgroup once the main
 * process has gone, or EXEC_SWEEP_MS later if it has not (exec_sweep).
 * Reading the cgroup's members at every stop (three calls, and the
 * kernel's walk of its tasks) was a sixth of a stop's cost, for runs that
 * almost never have a process outside their group.
 */
static void
exec_stop_group(struct exec *w, int sig)
{
	struct timeval tv = clock_tv(EXEC_SWEEP_MS);

	exec_signal_group(w, sig);
	if (w->sweep_sig != 0)
		return;
	w->sweep_sig = sig;
	w->sweep_due = clock_mono_ms() + EXEC_SWEEP_MS;
	if (TAILQ_EMPTY(&exec_mod.sweeps))
		evtimer_add(exec_mod.sweep_ev, &tv);
	TAILQ_INSERT_TAIL(&exec_mod.sweeps, w, sweep);
}

static void
exec_signal_all(struct exec *w, int sig)
{
	/* With a cgroup: everything in it, wherever it went (SIGKILL by
	 * cgroup.kill: no pid is looked up, so none is raced); the stop
	 * signal to the group first while the main process lives. */
	if (w->cg.dir != NULL) {
		if (sig != SIGKILL && !w->reaped && w->pid > 0 &&
		    !w->group_gone && w->pgid > 0) {
			exec_stop_group(w, sig);
			return;
		}
		exec_sweep_cancel(w);
		cgroup_signal(&w->cg, sig);
		return;
	}
	exec_signal_group(w, sig);
	for (size_t i = 0; i < w->ndescs; i++) {
		kill(w->descs[i].pid, sig);
		if (sig != SIGKILL)
			kill(w->descs[i].pid, SIGCONT);
	}
}

static void
exec_scan_request(struct exec *w)
{
	if (w->cg.dir != NULL)
		return; /* its cgroup holds every descendant */
	w->scan_want = true;
	if (exec_mod.scan_ev != NULL)
		event_active(exec_mod.scan_ev, EV_TIMEOUT, 1);
}

static void
exec_close_done(struct exec *w)
{
	exec_fd_close(&w->done_fd);
}

static void
exec_kill(struct exec *w)
{
	w->killed = true;
	timer_clear(&w->grace);
	exec_signal_all(w, SIGKILL);
	exec_scan_request(w);
}

static void
exec_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec *w = arg;
	char path[PROTO_PATH_MAX];

	log_info("%s: grace of %lld ms is over; SIGKILL",
	    node_path(w->node, path, sizeof path),
	    (long long)w->node->spec->shutdown_ms);
	exec_kill(w);
	exec_check(w);
}

int
exec_stop_signal(const struct exec *w)
{
	/* A hung program's core or stack says where it hung. */
	if (w->nt != NULL && w->nt->wd_fired)
		return SIGABRT;
	return w->node->spec->u.exec.stop_signal;
}

/* The stop: the done handle first (the broadcast), then the stop signal,
 * then SIGKILL once the grace is over. */
void
exec_stop(struct exec *w)
{
	int64_t ms = w->node->spec->shutdown_ms;
	struct timeval tv;

	if (w->stop_sent)
		return;
	w->stop_sent = true;
	exec_notify_stop(w);
	health_stop(w->health);
	exec_close_done(w);
	exec_signal_all(w, exec_stop_signal(w));
	exec_scan_request(w);
	if (ms <= 0) {
		exec_kill(w);
		return;
	}
	tv = clock_tv(ms);
	w->grace_due = clock_mono_ms() + ms;
	if ((w->grace = evtimer_new(w->node->tree->base, exec_grace_cb, w)) ==
	        NULL ||
	    evtimer_add(w->grace, &tv) == -1)
		fatalx("cannot arm a timer");
}

static void
exec_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec *w = arg;

	/* Once killed, anything still there may have forked since. */
	if (w->killed)
		exec_scan_request(w);
	exec_check(w);
}

static void
exec_poll_arm(struct exec *w)
{
	struct timeval tv;

	if (w->poll == NULL &&
	    (w->poll = evtimer_new(w->node->tree->base, exec_poll_cb, w)) ==
	        NULL)
		fatalx("cannot arm a timer");
	if (evtimer_pending(w->poll, NULL))
		return;
	w->poll_ms = w->poll_ms == 0 ? EXEC_POLL_MIN_MS : w->poll_ms * 2;
	if (w->poll_ms > EXEC_POLL_MAX_MS)
		w->poll_ms = EXEC_POLL_MAX_MS;
	tv = clock_tv(w->poll_ms);
	evtimer_add(w->poll, &tv);
}

/* --- descendants -----------------------------------------------------------
 */

static void
exec_desc_add(struct exec *w, const struct proc_ent *e)
{
	struct exec_desc *v;

	for (size_t i = 0; i < w->ndescs; i++)
		if (w->descs[i].pid == e->pid && w->descs[i].start == e->start)
			return;
	if (w->ndescs == w->capdescs) {
		size_t cap = w->capdescs ? w->capdescs * 2 : 4;

		if ((v = realloc(w->descs, cap * sizeof *v)) == NULL) {
			/* Not remembered, but killed all the same. */
			kill(e->pid, SIGKILL);
			return;
		}
		w->descs = v;
		w->capdescs = cap;
	}
	w->descs[w->ndescs].pid = e->pid;
	w->descs[w->ndescs].start = e->start;
	w->ndescs++;
	sentinel_add_pid(e->pid);
	if (w->stop_sent) {
		int sig = w->killed ? SIGKILL : exec_stop_signal(w);

		kill(e->pid, sig);
		if (sig != SIGKILL)
			kill(e->pid, SIGCONT);
	}
}

static void
exec_desc_prune(struct exec *w)
{
	for (size_t i = 0; i < w->ndescs;) {
		if (desc_alive(&w->descs[i])) {
			i++;
			continue;
		}
		sentinel_del_pid(w->descs[i].pid);
		w->descs[i] = w->descs[--w->ndescs];
	}
}

/* Finds w's processes outside its group: descendants (by ppid chains) of
 * its main process, its group and the descendants already known, and the
 * orphans reparented to arbord that carry its ARBOR_ID or none at all. */
static void
exec_scan_one(struct exec *w, struct proc_ent *v, size_t n)
{
	bool changed = true;

	for (size_t i = 0; i < n; i++) {
		struct proc_ent *e = &v[i];

		e->mark = (w->pid > 0 && e->pid == w->pid) ||
		    (!w->group_gone && e->pgid == w->pgid) ||
		    e->arbor_id == (long long)w->node->id ||
		    (e->arbor_id == -1 && w->reaped);
		for (size_t k = 0; !e->mark && k < w->ndescs; k++)
			e->mark = w->descs[k].pid == e->pid &&
			    w->descs[k].start == e->start;
	}
	while (changed) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			struct proc_ent *p;

			if (v[i].mark || v[i].ppid == exec_mod.self ||
			    v[i].ppid <= 1)
				continue;
			if ((p = proc_find(v, n, v[i].ppid)) != NULL &&
			    p->mark) {
				v[i].mark = true;
				changed = true;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].mark && v[i].pid != w->pid && v[i].pgid != w->pgid)
			exec_desc_add(w, &v[i]);
	/* Claimed: another worker does not take the same orphans. */
	for (size_t i = 0; i < n; i++)
		if (v[i].mark && v[i].arbor_id == -1)
			v[i].arbor_id = (long long)w->node->id;
}

void
exec_scan_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc_ent *v = NULL;
	size_t n = 0;
	struct exec *w;

	if (proc_read_all(&v, &n) == -1)
		log_warn("cannot read /proc; escaped descendants are not "
		         "found");
	LIST_FOREACH(w, &exec_mod.live, entry) {
		if (!w->scan_want)
			continue;
		w->scan_want = false;
		if (v != NULL)
			exec_scan_one(w, v, n);
		if (w->reaped && !w->scanned) {
			w->scanned = true;
			exec_mod.nleftover++;
		}
		w->recheck = true;
	}
	free(v);
	exec_recheck();
}

/* --- the end of a run ------------------------------------------------------
 */

/* Releases the run: fds, events, registrations. With kill, whatever is
 * still running gets SIGKILL (only when the daemon tears down). */
void
exec_release(struct exec *w, bool kill_left)
{
	if (kill_left && w->live) {
		exec_signal_all(w, SIGKILL);
		if (w->pid > 0 && !w->reaped)
			reaper_unwatch(w->pid);
	}
	exec_sweep_cancel(w);
	health_stop(w->health);
	exec_close_done(w);
	exec_notify_close(w);
	timer_clear(&w->ready_ev);
	exec_fd_close(&w->ready_fd);
	exec_out_release(w);
	timer_clear(&w->grace);
	timer_clear(&w->poll);
	for (size_t i = 0; i < w->ndescs; i++)
		sentinel_del_pid(w->descs[i].pid);
	free(w->descs);
	w->descs = NULL;
	w->ndescs = w->capdescs = 0;
	if (!w->group_gone && w->pgid > 0)
		sentinel_del_group(w->pgid);
	w->group_gone = true;
	if (w->cg.dir != NULL) {
		if (w->cg_wd >= 0)
			idmap_del(&exec_mod.by_wd, (uint64_t)w->cg_wd);
		cgroup_unwatch(w->cg_wd);
		w->cg_wd = -1;
		/* At teardown it is killed (cgroup_teardown removes it);
		 * at the end of a run it is empty. */
		cgroup_run_end(&w->cg, !kill_left || !w->live);
	}
	if (w->live) {
		if (w->reaped && w->scanned)
			exec_mod.nleftover--;
		LIST_REMOVE(w, entry);
		w->live = false;
	}
}

/* The run has begun: its group is registered with the sentinel and the
 * worker is in the live list, where scans, reaps and teardown find it. */
void
exec_track(struct exec *w)
{
	w->cg_wd = -1; /* watched once it outlives its main process */
	w->strays0 = reaper_strays();
	w->cg_shared = false;
	sentinel_add_group(w->pgid);
	w->live = true;
	LIST_INSERT_HEAD(&exec_mod.live, w, entry);
}

static void
exec_finish(struct exec *w)
{
	struct node *n = w->node;
	/* The main process is reaped by now (pid 0); its group kept its pid. */
	struct node_exit ex_ = { .kind = EXIT_NONE, .pid = w->pgid };

	/* What it said last (ERRNO=, STATUS=) belongs to its end. */
	exec_notify_drain(w);
	if (w->nt != NULL)
		ex_.err_no = w->nt->err_no;
	if (WIFEXITED(w->status)) {
		ex_.kind = EXIT_CODE;
		ex_.value = WEXITSTATUS(w->status);
	} else if (WIFSIGNALED(w->status)) {
		ex_.kind = EXIT_SIGNAL;
		ex_.value = WTERMSIG(w->status);
	}
	/* What the run used: read before its cgroup went (exec_cg_over). */
	if (w->cg.dir != NULL) {
		if (w->last.memory_peak_bytes == -1 && w->has_rusage)
			w->last.memory_peak_bytes = (int64_t)w->ru.ru_maxrss *
			    1024;
	} else
		exec_acct(w, &w->last);
	w->has_last = true;
	if (w->last.oom_kills > 0 && ex_.kind == EXIT_SIGNAL &&
	    ex_.value == SIGKILL && !w->killed)
		ex_.oom = true;
	w->last.memory_bytes = 0;
	w->last.tasks = 0;
	exec_release(w, false);
	/* Last: the node may start a new run (on this same struct). */
	node_work_ended(n, ex_);
}

/* Whether the run's cgroup still holds a process. Its cgroup.events is
 * watched only from the first time it does once the main process was
 * reaped: most runs end with their main process and never need a watch
 * (two system calls a run, and a path walk). A change between the read
 * and the watch is caught by reading again. */
static bool
exec_cg_busy(struct exec *w)
{
	if (!cgroup_populated(&w->cg))
		return false;
	if (w->cg_wd >= 0)
		return true;
	if ((w->cg_wd = cgroup_watch(&w->cg)) >= 0 &&
	    idmap_put(&exec_mod.by_wd, (uint64_t)w->cg_wd, w) == -1) {
		/* Out of memory: its end is polled instead. */
		cgroup_unwatch(w->cg_wd);
		w->cg_wd = -1;
	}
	return w->cg_wd < 0 || cgroup_populated(&w->cg);
}

/*
 * The run's CPU time, when its main process's rusage is all of it: the
 * main process waited for every process of the run (no stray was reaped
 * by arbord meanwhile, from any run: a subreaper's orphans are its; the
 * reaper counts a round's strays before it tells the owners, and none has
 * ended since, unreaped: out of the cgroup, not counted yet), no check ran
 * in its cgroup, and the cgroup was empty at the reap. Then its own time
 * and its waited children's are what cpu.stat would say, and the read of
 * cpu.stat, with the kernel's statistics flush it costs (a sixth of a
 * stop's CPU), is spared. -1 when cpu.stat must be read.
 */
static int64_t
exec_ru_cpu(const struct exec *w)
{
	if (!w->has_rusage || w->cg_shared || w->health != NULL ||
	    reaper_strays() != w->strays0 || reaper_pending())
		return -1;
	return (int64_t)w->ru.ru_utime.tv_sec * 1000000 +
	    w->ru.ru_utime.tv_usec + (int64_t)w->ru.ru_stime.tv_sec * 1000000 +
	    w->ru.ru_stime.tv_usec;
}

/* The run's end is its cgroup becoming empty. What it used is read
 * first, then the cgroup is removed: the removal of an empty cgroup is
 * the test (one call, where a read of cgroup.events and then the rmdir
 * were two), and only a refused one (EBUSY) asks cgroup.events. */
static bool
exec_cg_over(struct exec *w)
{
	int64_t cpu = exec_ru_cpu(w);

	if (w->cg.removed)
		return true;
	cgroup_acct_final(&w->cg, &w->last, cpu < 0);
	if (cgroup_run_remove(&w->cg) == 0 || errno != EBUSY) {
		if (cpu >= 0)
			w->last.cpu_usec = cpu;
		return true;
	}
	/* Not empty, or it holds cgroups of its own (removed, or said so,
	 * at the end of the run): from now on cpu.stat is the measure. */
	w->cg_shared = true;
	if (exec_cg_busy(w))
		return false;
	/* Emptied between the refused removal and the look at
	 * cgroup.events (its last processes were ending): what it used is
	 * read again, cpu.stat included, before it goes. */
	cgroup_acct_final(&w->cg, &w->last, true);
	(void)cgroup_run_remove(&w->cg);
	return true;
}

/* Decides whether the run is over; if not, what to wait for. */
void
exec_check(struct exec *w)
{
	bool group;

	if (!w->live || !w->reaped)
		return; /* SIGCHLD for the main process comes first */
	if (w->cg.dir != NULL) {
		if (!exec_cg_over(w)) {
			/* The main process went first: the rest of the
			 * cgroup gets the stop signal it is owed now. */
			if (w->sweep_sig != 0)
				exec_sweep(w);
			exec_stop(w);
			if (w->cg_wd < 0)
				exec_poll_arm(w);
			return;
		}
	} else if (!w->scanned) {
		/* Escapees are looked for once the main process is gone. */
		if (!w->stop_sent)
			exec_close_done(w);
		exec_scan_request(w);
		return;
	} else {
		group = exec_group_alive(w);
		exec_desc_prune(w);
		if (group || w->ndescs > 0) {
			/* Ended on its own but left processes behind: stop
			 * them. */
			exec_stop(w);
			exec_poll_arm(w);
			return;
		}
	}
	if (!exec_out_done(w)) {
		/* Everything is gone: what is in the pipes is all there is,
		 * unless some process we never found holds a write end. */
		for (int k = 0; k < EXEC_NSTREAMS; k++)
			for (int i = 0; i < 64 && w->out[k].fd != -1; i++)
				if (exec_out_read(&w->out[k]) == 0)
					break;
		if (!exec_out_done(w) && !w->killed) {
			if (w->grace == NULL && !w->stop_sent)
				exec_stop(w);
			if (!w->killed) {
				exec_poll_arm(w);
				return;
			}
		}
		if (!exec_out_done(w)) {
			char path[PROTO_PATH_MAX];

			log_warnx("%s: an unknown process holds its output "
			          "open; closing it",
			    node_path(w->node, path, sizeof path));
			exec_out_release(w);
		}
	}
	exec_finish(w);
}

void
exec_reaped_cb(pid_t pid, int status, const struct rusage *ru, void *arg)
{
	struct exec *w = arg;

	w->reaped = true;
	w->pid = 0;
	/* Its end is its exit's, not a watchdog's that fires meanwhile. */
	exec_notify_stop(w);
	w->status = status;
	w->ru = *ru;
	w->has_rusage = true;
	exec_check(w);
}

/* After any reap: a group member or escapee may have gone with it. */
void
exec_after_reap(void)
{
	struct exec *w;

	/* Most reaps are of main processes, checked by their own
	 * callback: the walk is only for runs waiting on leftovers. */
	if (exec_mod.nleftover == 0)
		return;
	LIST_FOREACH(w, &exec_mod.live, entry)
		if (w->reaped && w->scanned)
			w->recheck = true;
	exec_recheck();
}

/* inotify: the cgroup.events of a run changed (it may be empty now). */
void
exec_cgroup_changed(int wd)
{
	struct exec *w;

	if (wd >= 0 && (w = idmap_get(&exec_mod.by_wd, (uint64_t)wd)) != NULL)
		exec_check(w);
}

/* A new sentinel learns everything again. */
void
exec_replay(void)
{
	struct exec *w;

	LIST_FOREACH(w, &exec_mod.live, entry) {
		if (!w->group_gone && w->pgid > 0)
			sentinel_add_group(w->pgid);
		for (size_t i = 0; i < w->ndescs; i++)
			sentinel_add_pid(w->descs[i].pid);
	}
	health_replay();
}

void
exec_group_pids(const struct exec *w, json_t *pids)
{
	struct proc_ent *v = NULL;
	size_t n = 0;

	if (w->group_gone || w->pgid <= 0 || proc_read_all(&v, &n) == -1)
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i].pgid == w->pgid)
			json_array_append_new(pids, json_integer(v[i].pid));
	free(v);
}
