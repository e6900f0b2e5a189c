/*
 * Exec workers: external programs started with vfork, each in its own
 * session and process group. A worker owns its main process, the daemon's
 * ends of its done, ready and output pipes, its grace and poll timers, the
 * escaped descendants it found, and its output ring (kept across restarts,
 * so `logs` shows why the last run ended). A run ends only when the main
 * process was reaped, its group is empty, the escaped descendants are gone
 * and the output reached end of file; then it holds nothing but the ring
 * and the view data (exit, rusage, pid of the last run). docs/exec.md says
 * which mechanism covers which way of escaping.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "exec.h"
#include "log.h"
#include "node.h"
#include "reaper.h"
#include "ring.h"
#include "sentinel.h"
#include "timer.h"
#include "tree.h"
#include "worker.h"

#define EXEC_DONE_FD 3
#define EXEC_READY_FD 4
#define EXEC_FD_MIN 10			/* child-side fds live above this */
#define EXEC_READ_MAX (64 * 1024)	/* per output callback */
#define EXEC_POLL_MIN_MS 5
#define EXEC_POLL_MAX_MS 100

extern char **environ;

struct exec_desc {
	pid_t pid;
	unsigned long long start;	/* /proc start time: guards reuse */
};

struct exec {
	struct node *node;		/* borrowed */
	struct exec *next, *prev;	/* the live list */
	pid_t pid;			/* main process; 0 once reaped */
	pid_t pgid;			/* its group (= pid of the last run) */
	int done_fd;			/* owned: write end, -1 closed */
	int ready_fd;			/* owned: read end, -1 closed */
	int out_fd;			/* owned: read end, -1 at EOF */
	struct event *out_ev;		/* owned */
	struct event *ready_ev;		/* owned */
	struct event *grace;		/* owned: SIGKILL when it fires */
	struct event *poll;		/* owned: re-check of leftovers */
	struct exec_desc *descs;	/* owned: escaped descendants */
	size_t ndescs, capdescs;
	struct ring ring;		/* owned, kept across runs */
	int status;			/* wait status of the main process */
	struct rusage ru;
	int poll_ms;
	bool live;			/* the run has not ended */
	bool reaped;			/* main process reaped */
	bool group_gone;		/* never signal the pgid again */
	bool stop_sent;			/* stop signal sent (cancel/leftovers) */
	bool killed;			/* SIGKILL sent: grace is over */
	bool scan_want;			/* wants a /proc scan */
	bool scanned;			/* scanned once after the main exit */
	bool recheck;			/* iteration mark */
	bool has_rusage;
};

static struct {
	struct exec *live;		/* borrowed: workers with a run */
	struct event *scan_ev;		/* owned: one /proc scan per turn */
	pid_t self;
} ex;

static void exec_check(struct exec *w);
static void exec_scan_cb(evutil_socket_t, short, void *);

/* --- lists ------------------------------------------------------------ */

static void
list_add(struct exec **head, struct exec *w)
{
	w->prev = NULL;
	w->next = *head;
	if (*head != NULL)
		(*head)->prev = w;
	*head = w;
}

static void
list_del(struct exec **head, struct exec *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
}

/* --- the launch: everything the child needs, built before vfork ------- */

enum exec_stage { STAGE_SETUP, STAGE_CHDIR, STAGE_EXEC };

struct exec_fail {
	int stage;
	int err;
};

struct exec_launch {
	char *const *argv;		/* borrowed from the spec */
	char **envp;			/* owned array, strings borrowed */
	char **cands;			/* owned array of owned paths */
	size_t ncands;
	const char *cwd;		/* borrowed; NULL: the daemon's */
	int devnull, out_w, done_r, ready_w, err_w;	/* borrowed */
	pid_t ppid;
	char var_pid[64];
	char var_id[64];
	char var_path[PROTO_PATH_MAX + 16];
};

static const char *const exec_own_keys[] = {
	"ARBOR_DAEMON_PID", "ARBOR_ID", "ARBOR_PATH", "ARBOR_DONE_FD",
	"ARBOR_READY_FD", NULL
};

static size_t
env_keylen(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq != NULL ? (size_t)(eq - s) : strlen(s);
}

static bool
env_is_own(const char *s)
{
	size_t k = env_keylen(s);

	for (int i = 0; exec_own_keys[i] != NULL; i++)
		if (strlen(exec_own_keys[i]) == k &&
		    strncmp(exec_own_keys[i], s, k) == 0)
			return true;
	return false;
}

static bool
env_in(char *const *list, const char *s)
{
	size_t k = env_keylen(s);

	for (; list != NULL && *list != NULL; list++)
		if (env_keylen(*list) == k && strncmp(*list, s, k) == 0)
			return true;
	return false;
}

static void
launch_free(struct exec_launch *l)
{
	if (l == NULL)
		return;
	free(l->envp);
	for (size_t i = 0; i < l->ncands; i++)
		free(l->cands[i]);
	free(l->cands);
	free(l);
}

/* The paths to try for argv[0], as execvp would: PATH from the spec's env,
 * else the daemon's, else /bin:/usr/bin. */
static int
launch_paths(struct exec_launch *l, const struct spec_exec *sx)
{
	const char *name = sx->argv[0], *path = NULL, *p, *end;
	size_t n = 1;

	if (strchr(name, '/') != NULL) {
		if ((l->cands = calloc(1, sizeof *l->cands)) == NULL ||
		    (l->cands[0] = strdup(name)) == NULL)
			return -1;
		l->ncands = 1;
		return 0;
	}
	for (char *const *e = sx->env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	if (path == NULL)
		path = getenv("PATH");
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path; *p != '\0'; p++)
		if (*p == ':')
			n++;
	if ((l->cands = calloc(n, sizeof *l->cands)) == NULL)
		return -1;
	for (p = path;; p = end + 1) {
		size_t dlen;

		end = strchr(p, ':');
		dlen = end != NULL ? (size_t)(end - p) : strlen(p);
		if (dlen == 0) {
			p = ".";
			dlen = 1;
		}
		if ((l->cands[l->ncands] = malloc(dlen + strlen(name) + 2)) ==
		    NULL)
			return -1;
		sprintf(l->cands[l->ncands++], "%.*s/%s", (int)dlen, p, name);
		if (end == NULL)
			break;
	}
	return 0;
}

static struct exec_launch *
launch_new(struct node *n)
{
	const struct spec_exec *sx = &n->spec->u.exec;
	struct exec_launch *l;
	char path[PROTO_PATH_MAX];
	size_t nenv = 0, nspec = 0, i = 0;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	l->argv = sx->argv;
	l->cwd = sx->cwd;
	l->ppid = ex.self;
	snprintf(l->var_pid, sizeof l->var_pid, "ARBOR_DAEMON_PID=%ld",
	    (long)ex.self);
	snprintf(l->var_id, sizeof l->var_id, "ARBOR_ID=%llu",
	    (unsigned long long)n->id);
	snprintf(l->var_path, sizeof l->var_path, "ARBOR_PATH=%s",
	    node_path(n, path, sizeof path));
	for (char **e = environ; e != NULL && *e != NULL; e++)
		nenv++;
	for (char *const *e = sx->env; e != NULL && *e != NULL; e++)
		nspec++;
	if ((l->envp = calloc(nenv + nspec + 6, sizeof *l->envp)) == NULL)
		goto fail;
	/* Ours first: the sentinel reads only the start of an environment. */
	l->envp[i++] = l->var_pid;
	l->envp[i++] = l->var_id;
	l->envp[i++] = l->var_path;
	l->envp[i++] = (char *)"ARBOR_DONE_FD=3";
	if (sx->ready == READY_FD)
		l->envp[i++] = (char *)"ARBOR_READY_FD=4";
	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (!env_is_own(*e) && !env_in(sx->env, *e))
			l->envp[i++] = *e;
	for (char *const *e = sx->env; e != NULL && *e != NULL; e++)
		if (!env_is_own(*e))
			l->envp[i++] = *e;
	l->envp[i] = NULL;
	if (launch_paths(l, sx) == -1)
		goto fail;
	return l;
fail:
	launch_free(l);
	return NULL;
}

/* Between vfork and exec: only system calls, no allocation, no return. */
static void __attribute__((noreturn, noinline))
exec_child(const struct exec_launch *l)
{
	struct exec_fail f = { STAGE_SETUP, 0 };
	struct sigaction sa;
	sigset_t none;
	int saved = ENOENT, eacces = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	if (setsid() == -1 || prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		goto fail;
	if (getppid() != l->ppid)
		_exit(127);	/* the daemon died already */
	if (dup2(l->devnull, 0) == -1 || dup2(l->out_w, 1) == -1 ||
	    dup2(l->out_w, 2) == -1 || dup2(l->done_r, EXEC_DONE_FD) == -1 ||
	    (l->ready_w != -1 && dup2(l->ready_w, EXEC_READY_FD) == -1))
		goto fail;
	/* Whatever the daemon holds without O_CLOEXEC stays with it. */
	close_range(l->ready_w != -1 ? EXEC_READY_FD + 1 : EXEC_READY_FD,
	    ~0U, CLOSE_RANGE_CLOEXEC);
	if (l->cwd != NULL && chdir(l->cwd) == -1) {
		f.stage = STAGE_CHDIR;
		goto fail;
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	f.stage = STAGE_EXEC;
	for (size_t i = 0; i < l->ncands; i++) {
		execve(l->cands[i], l->argv, l->envp);
		switch (errno) {
		case EACCES:
			eacces = 1;
			/* FALLTHROUGH */
		case ENOENT:
		case ENOTDIR:
		case ESTALE:
		case ENODEV:
		case ETIMEDOUT:
		case ELOOP:
		case ENAMETOOLONG:
			continue;
		default:
			saved = errno;
			eacces = 0;
			i = l->ncands;
			break;
		}
	}
	errno = eacces ? EACCES : saved;
fail:
	f.err = errno;
	if (write(l->err_w, &f, sizeof f) == -1)
		_exit(126);
	_exit(127);
}

/* --- fds ----------------------------------------------------------------- */

static void
fd_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* Moves a child-side fd above the ones the child sets up, so no dup2 of
 * the child clobbers another. */
static int
fd_high(int *fd)
{
	int nfd;

	if (*fd >= EXEC_FD_MIN)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, EXEC_FD_MIN)) == -1)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

static int
fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* --- /proc ---------------------------------------------------------------- */

struct proc_ent {
	pid_t pid, ppid, pgid;
	unsigned long long start;
	long long arbor_id;		/* orphans: ARBOR_ID, -1 none, -2 n/a */
	bool mark;
};

static int
proc_stat(pid_t pid, struct proc_ent *e)
{
	char path[64], buf[1024], state, *p;
	ssize_t r;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 1, " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
	    "%*u %*d %*d %*d %*d %*d %*d %llu", &state, &e->ppid, &e->pgid,
	    &e->start) != 4)
		return -1;
	e->pid = pid;
	return state == 'Z' || state == 'X' ? -1 : 0;
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
	char path[64], buf[16384];
	ssize_t r;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	for (char *e = buf; e < buf + r; e += strlen(e) + 1)
		if (strncmp(e, "ARBOR_ID=", 9) == 0)
			return atoll(e + 9);
	return -1;
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
		if (v[n].ppid == ex.self && !reaper_watched(pid) &&
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

static void
exec_signal_all(struct exec *w, int sig)
{
	if (w->pid > 0 && !w->reaped) {
		pid_t g = getpgid(w->pid);

		if (g != w->pgid)
			kill(w->pid, sig);
	}
	if (!w->group_gone && w->pgid > 0) {
		kill(-w->pgid, sig);
		if (sig != SIGKILL)
			kill(-w->pgid, SIGCONT);
	}
	for (size_t i = 0; i < w->ndescs; i++) {
		kill(w->descs[i].pid, sig);
		if (sig != SIGKILL)
			kill(w->descs[i].pid, SIGCONT);
	}
}

static void
exec_scan_request(struct exec *w)
{
	w->scan_want = true;
	if (ex.scan_ev != NULL)
		event_active(ex.scan_ev, EV_TIMEOUT, 1);
}

static void
exec_close_done(struct exec *w)
{
	fd_close(&w->done_fd);
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

/* The stop: the done handle first (the broadcast), then the stop signal,
 * then SIGKILL once the grace is over. */
static void
exec_stop(struct exec *w)
{
	int64_t ms = w->node->spec->shutdown_ms;
	struct timeval tv;

	if (w->stop_sent)
		return;
	w->stop_sent = true;
	exec_close_done(w);
	exec_signal_all(w, w->node->spec->u.exec.stop_signal);
	exec_scan_request(w);
	if (ms <= 0) {
		exec_kill(w);
		return;
	}
	tv = clock_tv(ms);
	if ((w->grace = evtimer_new(w->node->tree->base, exec_grace_cb, w))
	    == NULL || evtimer_add(w->grace, &tv) == -1)
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

	if (w->poll == NULL && (w->poll = evtimer_new(w->node->tree->base,
	    exec_poll_cb, w)) == NULL)
		fatalx("cannot arm a timer");
	if (evtimer_pending(w->poll, NULL))
		return;
	w->poll_ms = w->poll_ms == 0 ? EXEC_POLL_MIN_MS : w->poll_ms * 2;
	if (w->poll_ms > EXEC_POLL_MAX_MS)
		w->poll_ms = EXEC_POLL_MAX_MS;
	tv = clock_tv(w->poll_ms);
	evtimer_add(w->poll, &tv);
}

/* --- descendants ----------------------------------------------------------- */

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
		int sig = w->killed ? SIGKILL : w->node->spec->u.exec.stop_signal;

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

			if (v[i].mark || v[i].ppid == ex.self || v[i].ppid <= 1)
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

static void
exec_scan_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc_ent *v = NULL;
	size_t n = 0;
	struct exec *w;

	if (proc_read_all(&v, &n) == -1)
		log_warn("cannot read /proc; escaped descendants are not "
		    "found");
	for (w = ex.live; w != NULL; w = w->next) {
		if (!w->scan_want)
			continue;
		w->scan_want = false;
		if (v != NULL)
			exec_scan_one(w, v, n);
		if (w->reaped)
			w->scanned = true;
		w->recheck = true;
	}
	free(v);
	/* Checks may end runs (and start new ones): start over each time. */
	for (;;) {
		for (w = ex.live; w != NULL && !w->recheck; w = w->next)
			;
		if (w == NULL)
			break;
		w->recheck = false;
		exec_check(w);
	}
}

/* --- the end of a run ------------------------------------------------------ */

/* Releases the run: fds, events, registrations. With kill, whatever is
 * still running gets SIGKILL (only when the daemon tears down). */
static void
exec_release(struct exec *w, bool kill_left)
{
	if (kill_left && w->live) {
		exec_signal_all(w, SIGKILL);
		if (w->pid > 0 && !w->reaped)
			reaper_unwatch(w->pid);
	}
	exec_close_done(w);
	timer_clear(&w->ready_ev);
	fd_close(&w->ready_fd);
	timer_clear(&w->out_ev);
	fd_close(&w->out_fd);
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
	if (w->live) {
		list_del(&ex.live, w);
		w->live = false;
	}
}

static void
exec_finish(struct exec *w)
{
	struct node *n = w->node;
	struct node_exit ex_ = { .kind = EXIT_NONE };

	if (WIFEXITED(w->status)) {
		ex_.kind = EXIT_CODE;
		ex_.value = WEXITSTATUS(w->status);
	} else if (WIFSIGNALED(w->status)) {
		ex_.kind = EXIT_SIGNAL;
		ex_.value = WTERMSIG(w->status);
	}
	exec_release(w, false);
	/* Last: the node may start a new run (on this same struct). */
	node_work_ended(n, ex_);
}

/* Reads what is there; at end of file closes the pipe. Returns how much
 * was read, -1 at EOF. */
static ssize_t
exec_read_output(struct exec *w)
{
	static char buf[EXEC_READ_MAX];
	struct tree_event ev;
	ssize_t r;

	r = read(w->out_fd, buf, sizeof buf);
	if (r > 0) {
		ring_write(&w->ring, buf, (size_t)r);
		memset(&ev, 0, sizeof ev);
		ev.type = TREE_EV_OUTPUT;
		ev.node = w->node;
		ev.data = buf;
		ev.len = (size_t)r;
		tree_emit(w->node->tree, &ev);
		return r;
	}
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	timer_clear(&w->out_ev);
	fd_close(&w->out_fd);
	return -1;
}

static void
exec_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec *w = arg;

	if (exec_read_output(w) == -1)
		exec_check(w);
}

/* Decides whether the run is over; if not, what to wait for. */
static void
exec_check(struct exec *w)
{
	bool group;

	if (!w->live || !w->reaped)
		return;		/* SIGCHLD for the main process comes first */
	if (!w->scanned) {
		/* Escapees are looked for once the main process is gone. */
		if (!w->stop_sent)
			exec_close_done(w);
		exec_scan_request(w);
		return;
	}
	group = exec_group_alive(w);
	exec_desc_prune(w);
	if (group || w->ndescs > 0) {
		/* Ended on its own but left processes behind: stop them. */
		exec_stop(w);
		exec_poll_arm(w);
		return;
	}
	if (w->out_fd != -1) {
		/* Everything is gone: what is in the pipe is all there is,
		 * unless some process we never found holds its write end. */
		for (int i = 0; i < 64 && w->out_fd != -1; i++)
			if (exec_read_output(w) == 0)
				break;
		if (w->out_fd != -1 && !w->killed) {
			if (w->grace == NULL && !w->stop_sent)
				exec_stop(w);
			if (!w->killed) {
				exec_poll_arm(w);
				return;
			}
		}
		if (w->out_fd != -1) {
			char path[PROTO_PATH_MAX];

			log_warnx("%s: an unknown process holds its output "
			    "open; closing it", node_path(w->node, path,
			    sizeof path));
			timer_clear(&w->out_ev);
			fd_close(&w->out_fd);
		}
	}
	exec_finish(w);
}

static void
exec_reaped_cb(pid_t pid, int status, const struct rusage *ru, void *arg)
{
	struct exec *w = arg;

	w->reaped = true;
	w->pid = 0;
	w->status = status;
	w->ru = *ru;
	w->has_rusage = true;
	exec_check(w);
}

/* After any reap: a group member or escapee may have gone with it. */
static void
exec_after_reap(void)
{
	struct exec *w;
	bool any = false;

	for (w = ex.live; w != NULL; w = w->next)
		if (w->reaped && w->scanned) {
			w->recheck = true;
			any = true;
		}
	if (!any)
		return;
	for (;;) {
		for (w = ex.live; w != NULL && !w->recheck; w = w->next)
			;
		if (w == NULL)
			break;
		w->recheck = false;
		exec_check(w);
	}
}

/* A new sentinel learns everything again. */
static void
exec_replay(void)
{
	for (struct exec *w = ex.live; w != NULL; w = w->next) {
		if (!w->group_gone && w->pgid > 0)
			sentinel_add_group(w->pgid);
		for (size_t i = 0; i < w->ndescs; i++)
			sentinel_add_pid(w->descs[i].pid);
	}
}

/* --- ready ------------------------------------------------------------------ */

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
		fd_close(&w->ready_fd);
		return;
	}
	/* Kept open and drained, so a second line is no SIGPIPE. */
	if (memchr(buf, '\n', (size_t)r) != NULL &&
	    w->node->state == NODE_STARTING)
		node_work_ready(w->node);
}

/* --- worker_ops ------------------------------------------------------------- */

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
	if (ring_init(&w->ring, RING_DEFAULT_CAP) == -1) {
		free(w);
		return NULL;
	}
	w->node = n;
	return w;
}

static void
exec_reset(struct exec *w)
{
	struct ring ring = w->ring;
	struct node *n = w->node;

	memset(w, 0, sizeof *w);
	w->ring = ring;
	w->node = n;
	w->done_fd = w->ready_fd = w->out_fd = -1;
}

static void
exec_drop(struct exec *w)
{
	ring_free(&w->ring);
	free(w);
}

/* vfork in a frame of its own: the child never returns from it, and no
 * local of the caller lives across it to be clobbered. */
static pid_t
exec_vfork(struct exec_launch *l)
{
	pid_t pid = vfork();

	if (pid == 0)
		exec_child(l);
	return pid;
}

static int
exec_start(struct node *n, bool *ready, struct proto_err *err)
{
	const struct spec_exec *sx = &n->spec->u.exec;
	int done[2] = { -1, -1 }, out[2] = { -1, -1 }, rdy[2] = { -1, -1 };
	int errp[2] = { -1, -1 }, devnull = -1, e;
	struct exec_launch *l = NULL;
	struct exec_fail f;
	sigset_t all, old;
	struct exec *w;
	bool fresh;
	pid_t pid;
	ssize_t r;

	if (!reaper_ready())
		return proto_errf(err, PROTO_INTERNAL,
		    "exec workers need the daemon's reaper");
	if (ex.scan_ev == NULL)
		return proto_errf(err, PROTO_INTERNAL,
		    "exec workers need exec_init");
	if ((w = exec_take(n, &fresh)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	exec_reset(w);
	n->work = NULL;

	if ((l = launch_new(n)) == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		goto fail;
	}
	if (pipe2(done, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(errp, O_CLOEXEC) == -1 ||
	    (sx->ready == READY_FD && pipe2(rdy, O_CLOEXEC) == -1) ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    fd_high(&done[0]) == -1 || fd_high(&out[1]) == -1 ||
	    fd_high(&errp[1]) == -1 || fd_high(&devnull) == -1 ||
	    (rdy[1] != -1 && fd_high(&rdy[1]) == -1) ||
	    fd_nonblock(out[0]) == -1 ||
	    (rdy[0] != -1 && fd_nonblock(rdy[0]) == -1)) {
		e = errno;
		proto_errf(err, PROTO_SPAWN_FAILED, "cannot start \"%s\": "
		    "%s", sx->argv[0], strerror(e));
		err->sys_errno = e;
		goto fail;
	}
	l->devnull = devnull;
	l->out_w = out[1];
	l->done_r = done[0];
	l->ready_w = rdy[1];
	l->err_w = errp[1];

	/* No handler of the daemon's may run in the child, which shares our
	 * memory until it execs: block everything across the vfork. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = exec_vfork(l);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	fd_close(&done[0]);
	fd_close(&out[1]);
	fd_close(&rdy[1]);
	fd_close(&errp[1]);
	fd_close(&devnull);
	if (pid == -1) {
		proto_errf(err, PROTO_SPAWN_FAILED, "cannot start \"%s\": "
		    "vfork: %s", sx->argv[0], strerror(e));
		err->sys_errno = e;
		goto fail;
	}
	/* The child has exec'd (EOF) or written why not and exited. */
	do
		r = read(errp[0], &f, sizeof f);
	while (r == -1 && errno == EINTR);
	fd_close(&errp[0]);
	if (r == (ssize_t)sizeof f) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		if (f.stage == STAGE_CHDIR)
			proto_errf(err, PROTO_SPAWN_FAILED, "cannot change "
			    "to directory \"%s\": %s", sx->cwd,
			    strerror(f.err));
		else if (f.stage == STAGE_EXEC)
			proto_errf(err, PROTO_SPAWN_FAILED, "cannot execute "
			    "\"%s\": %s", sx->argv[0], strerror(f.err));
		else
			proto_errf(err, PROTO_SPAWN_FAILED, "cannot set up "
			    "\"%s\": %s", sx->argv[0], strerror(f.err));
		err->sys_errno = f.err;
		goto fail;
	}
	launch_free(l);
	l = NULL;

	w->pid = w->pgid = pid;
	w->done_fd = done[1];
	w->out_fd = out[0];
	w->ready_fd = rdy[0];
	if (reaper_watch(pid, exec_reaped_cb, w) == -1 ||
	    (w->out_ev = event_new(n->tree->base, w->out_fd,
	    EV_READ | EV_PERSIST, exec_out_cb, w)) == NULL ||
	    event_add(w->out_ev, NULL) == -1 ||
	    (w->ready_fd != -1 && ((w->ready_ev = event_new(n->tree->base,
	    w->ready_fd, EV_READ | EV_PERSIST, exec_ready_cb, w)) == NULL ||
	    event_add(w->ready_ev, NULL) == -1))) {
		reaper_unwatch(pid);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		timer_clear(&w->out_ev);
		timer_clear(&w->ready_ev);
		fd_close(&w->done_fd);
		fd_close(&w->out_fd);
		fd_close(&w->ready_fd);
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		goto fail_fds_done;
	}
	sentinel_add_group(pid);
	w->live = true;
	list_add(&ex.live, w);
	n->work = w;
	*ready = sx->ready == READY_EXEC;
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char path[PROTO_PATH_MAX];

		log_debug("%s: started %s (pid %ld)", node_path(n, path,
		    sizeof path), sx->argv[0], (long)pid);
	}
	return 0;

fail:
	fd_close(&done[0]);
	fd_close(&done[1]);
	fd_close(&out[0]);
	fd_close(&out[1]);
	fd_close(&rdy[0]);
	fd_close(&rdy[1]);
	fd_close(&errp[0]);
	fd_close(&errp[1]);
	fd_close(&devnull);
	launch_free(l);
fail_fds_done:
	w->pid = w->pgid = 0;
	w->group_gone = true;
	if (fresh) {
		exec_drop(w);
	} else {
		/* Earlier output stays readable; no process, fd or timer. */
		n->work = w;
	}
	return -1;
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

static void
exec_view(const struct node *n, json_t *view)
{
	const struct exec *w = n->work;
	json_t *argv = json_array();

	for (char *const *a = n->spec->u.exec.argv; a != NULL && *a != NULL;
	    a++)
		json_array_append_new(argv, json_string(*a));
	json_object_set_new(view, "argv", argv);
	if (w == NULL)
		return;
	if (w->live && !w->reaped && w->pid > 0)
		json_object_set_new(view, "pid", json_integer(w->pid));
	if (w->pgid > 0)
		json_object_set_new(view, "pgid", json_integer(w->pgid));
	if (w->has_rusage && !w->live)
		json_object_set_new(view, "rusage", json_pack(
		    "{s:I,s:I,s:I}",
		    "user_ms", (json_int_t)w->ru.ru_utime.tv_sec * 1000 +
		    w->ru.ru_utime.tv_usec / 1000,
		    "system_ms", (json_int_t)w->ru.ru_stime.tv_sec * 1000 +
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
exec_logs(const struct node *n, size_t bytes, json_t **data, int *truncated)
{
	const struct exec *w = n->work;

	*data = ring_json_tail(w != NULL ? &w->ring : NULL, bytes, truncated);
	return *data == NULL ? -1 : 0;
}

int
exec_init(struct event_base *base)
{
	ex.self = getpid();
	if ((ex.scan_ev = event_new(base, -1, 0, exec_scan_cb, NULL)) == NULL)
		return -1;
	reaper_set_after(exec_after_reap);
	sentinel_set_replay(exec_replay);
	return 0;
}

void
exec_teardown(void)
{
	struct exec *w;

	while ((w = ex.live) != NULL) {
		exec_release(w, true);
		w->node->work = NULL;
		exec_drop(w);
	}
	timer_clear(&ex.scan_ev);
	reaper_set_after(NULL);
	sentinel_set_replay(NULL);
}

const struct worker_ops worker_exec_ops = {
	.name = "exec",
	.start = exec_start,
	.cancel = exec_cancel,
	.view = exec_view,
	.free = exec_free,
	.logs = exec_logs,
};
