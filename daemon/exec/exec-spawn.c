/*
 * Starting an exec worker's program: everything the child needs (argv,
 * environment, the paths to try, the fds) is built before vfork, and the
 * child's set-up between vfork and exec happens in one place, in order
 * (exec_child). A failure there reaches the daemon through a pipe as a
 * stage and an errno, and becomes the sentence spawn answers with.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec-int.h"
#include "ident.h"
#include "node.h"
#include "spec-ident.h"
#include "sockets.h"
#include "spec.h"

/* The child's fds: the listen fds from 3 (systemd's SD_LISTEN_FDS_START),
 * then the done and ready fds; every fd the child dup2s from lives at or
 * above the floor, so no dup2 clobbers another. */
#define EXEC_LISTEN_FD 3
#define EXEC_FD_MIN    10 /* the floor without sockets */
#define EXEC_PID_KEY   "LISTEN_PID="

/* The raw calls: glibc's setuid and friends would signal every thread of
 * the process to change them all, and a vfork child is not the process.
 * Where 16-bit ids had the plain names, the 32-bit calls have others. */
#ifdef SYS_setresuid32
#define EXEC_SYS_SETRESUID SYS_setresuid32
#define EXEC_SYS_SETRESGID SYS_setresgid32
#define EXEC_SYS_SETGROUPS SYS_setgroups32
#else
#define EXEC_SYS_SETRESUID SYS_setresuid
#define EXEC_SYS_SETRESGID SYS_setresgid
#define EXEC_SYS_SETGROUPS SYS_setgroups
#endif

extern char **environ;

/* --- the launch: everything the child needs, built before vfork ------- */

/* In the order the child goes through them. */
enum exec_stage {
	STAGE_SETUP,
	STAGE_CGROUP,
	STAGE_RLIMIT,
	STAGE_NICE,
	STAGE_OOM,
	STAGE_GROUPS,
	STAGE_GID,
	STAGE_UID,
	STAGE_NNP,
	STAGE_CHDIR,
	STAGE_EXEC
};

struct exec_fail {
	int stage;
	int err;
	int what; /* STAGE_RLIMIT: the index into rlims */
};

struct exec_rlim {
	int spec;     /* enum spec_rlim */
	int resource; /* RLIMIT_* */
	struct rlimit rl;
};

struct exec_launch {
	char *const *argv; /* borrowed from the spec */
	char **envp;       /* owned array, strings borrowed */
	char **cands;      /* owned array of owned paths */
	size_t ncands;
	const char *cwd; /* borrowed; NULL: the daemon's */
	int devnull, out_w, done_r, ready_w, err_w; /* borrowed */
	struct sock_pass pass; /* owned: the listen fds and their variables */
	int done_fd, ready_fd; /* where the child puts them */
	int fd_min;            /* child-side fds live at or above it */
	int stderr_w;          /* borrowed */
	bool merge_err; /* stderr into the stdout pipe (a health check) */
	int cg_procs;   /* its cgroup.procs (a check's own, else borrowed
	                   from the run's prepare), -1: no cgroup */
	pid_t ppid;
	struct exec_rlim rlims[SPEC_RLIM__COUNT]; /* set in this order */
	size_t nrlims;
	struct ident_creds cr; /* owned */
	int umask;             /* -1: arbord's */
	bool has_nice, nnp;
	int nice;
	char oom[16];      /* written to /proc/self/oom_score_adj */
	size_t oom_len;    /* 0: left as it is */
	char *var_user[4]; /* owned: HOME, USER, LOGNAME, SHELL, or NULL */
	char var_pid[64];
	char var_id[64];
	char var_path[PROTO_PATH_MAX + 16];
	char var_notify[128]; /* NOTIFY_SOCKET */
	char var_wd_usec[48]; /* WATCHDOG_USEC */
	char var_wd_pid[48];  /* WATCHDOG_PID, its digits written by the
	                         child (env_put_pid) */
	char *wd_pid_at;      /* where they go; NULL: no watchdog */
	char var_done[32];
	char var_ready[32];
	char var_listen_pid[sizeof EXEC_PID_KEY + 20]; /* digits: the child's */
};

static const char *const exec_own_keys[] = {
	"ARBOR_DAEMON_PID",
	"ARBOR_ID",
	"ARBOR_PATH",
	"ARBOR_DONE_FD",
	"ARBOR_READY_FD",
	/* systemd's, which belong to arbord's own service when it runs
	 * under systemd: a worker gets only those of its own node. */
	"NOTIFY_SOCKET",
	"WATCHDOG_USEC",
	"WATCHDOG_PID",
	"LISTEN_FDS",
	"LISTEN_PID",
	"LISTEN_FDNAMES",
	NULL,
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
	sock_pass_free(&l->pass);
	free(l->envp);
	ident_creds_free(&l->cr);
	for (size_t i = 0; i < 4; i++)
		free(l->var_user[i]);
	for (size_t i = 0; i < l->ncands; i++)
		free(l->cands[i]);
	free(l->cands);
	free(l);
}

/* The paths to try for argv[0], as execvp would: PATH from the spec's env,
 * else the daemon's, else /bin:/usr/bin. */
static int
launch_paths(struct exec_launch *l, const char *name, char *const *env)
{
	const char *path = NULL, *p, *end;
	size_t n = 1;

	if (strchr(name, '/') != NULL) {
		if ((l->cands = calloc(1, sizeof *l->cands)) == NULL ||
		    (l->cands[0] = strdup(name)) == NULL)
			return -1;
		l->ncands = 1;
		return 0;
	}
	for (char *const *e = env; e != NULL && *e != NULL; e++)
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

/* NOTIFY_SOCKET, and WATCHDOG_USEC and WATCHDOG_PID with a watchdog. */
static size_t
launch_notify_env(struct exec_launch *l, const struct exec_spawned *sp,
    size_t i)
{
	if (sp->notify_addr == NULL)
		return i;
	snprintf(l->var_notify, sizeof l->var_notify, "NOTIFY_SOCKET=%s",
	    sp->notify_addr);
	l->envp[i++] = l->var_notify;
	if (sp->watchdog_ms <= 0)
		return i;
	snprintf(l->var_wd_usec, sizeof l->var_wd_usec, "WATCHDOG_USEC=%lld",
	    (long long)sp->watchdog_ms * 1000);
	l->envp[i++] = l->var_wd_usec;
	l->wd_pid_at = l->var_wd_pid +
	    snprintf(l->var_wd_pid, sizeof l->var_wd_pid, "WATCHDOG_PID=");
	l->envp[i++] = l->var_wd_pid;
	return i;
}

static const char *const exec_user_keys[4] = { "HOME", "USER", "LOGNAME",
	"SHELL" };

static rlim_t
launch_rlim(uint64_t v)
{
	return v == SPEC_RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)v;
}

/* The identity and limits, resolved, and what the child writes for
 * them. Without a nofile of its own a worker gets the limit arbord was
 * started with. -1 with err filled. */
static int
launch_ident(struct exec_launch *l, const struct node *n, struct proto_err *err)
{
	struct spec_ident eff;
	const char *val[4];

	ident_effective(n->parent, n->spec, &eff);
	if (ident_resolve(&eff, &l->cr, err) == -1)
		return -1;
	for (int k = 0; k < SPEC_RLIM__COUNT; k++) {
		struct exec_rlim *r = &l->rlims[l->nrlims];

		r->spec = k;
		r->resource = spec_rlimit_defs[k].resource;
		if (eff.rlimits[k].set) {
			r->rl.rlim_cur = launch_rlim(eff.rlimits[k].soft);
			r->rl.rlim_max = launch_rlim(eff.rlimits[k].hard);
		} else if (k == SPEC_RLIM_NOFILE && exec_mod.has_nofile) {
			r->rl = exec_mod.nofile;
		} else {
			continue;
		}
		l->nrlims++;
	}
	l->umask = eff.umask;
	l->has_nice = eff.has_nice;
	l->nice = eff.nice;
	l->nnp = eff.no_new_privs == 1;
	if (eff.has_oom)
		l->oom_len = (size_t)snprintf(l->oom, sizeof l->oom, "%d\n",
		    eff.oom_score_adj);
	if (eff.user == NULL)
		return 0;
	val[0] = l->cr.home;
	val[1] = val[2] = l->cr.name;
	val[3] = l->cr.shell;
	for (int i = 0; i < 4; i++) {
		size_t k = strlen(exec_user_keys[i]), v = strlen(val[i]);

		if ((l->var_user[i] = malloc(k + v + 2)) == NULL)
			return proto_errf(err, PROTO_INTERNAL, "out of memory");
		memcpy(l->var_user[i], exec_user_keys[i], k);
		l->var_user[i][k] = '=';
		memcpy(l->var_user[i] + k + 1, val[i], v + 1);
	}
	return 0;
}

static bool
env_is_user(const char *s)
{
	size_t k = env_keylen(s);

	for (int i = 0; i < 4; i++)
		if (strlen(exec_user_keys[i]) == k &&
		    strncmp(exec_user_keys[i], s, k) == 0)
			return true;
	return false;
}

static void
spawn_errno(struct proto_err *err, const char *argv0, const char *what, int e);

/* The child's environment: arbord's variables first (the sentinel finds
 * ARBOR_DAEMON_PID soonest there), then arbord's own environment less
 * what the spec or the user's identity replaces, then the spec's; -1
 * when out of memory. */
static int
launch_env(struct exec_launch *l, struct node *n, bool ready,
    const struct exec_spawned *sp, bool check)
{
	const struct spec_exec *sx = &n->spec->u.exec;
	char path[PROTO_PATH_MAX];
	size_t nenv = 0, nspec = 0, i = 0;

	snprintf(l->var_done, sizeof l->var_done, "ARBOR_DONE_FD=%d",
	    l->done_fd);
	snprintf(l->var_ready, sizeof l->var_ready, "ARBOR_READY_FD=%d",
	    l->ready_fd);
	memcpy(l->var_listen_pid, EXEC_PID_KEY, sizeof EXEC_PID_KEY);
	snprintf(l->var_pid, sizeof l->var_pid, "ARBOR_DAEMON_PID=%ld",
	    (long)exec_mod.self);
	snprintf(l->var_id, sizeof l->var_id, "ARBOR_ID=%llu",
	    (unsigned long long)n->id);
	snprintf(l->var_path, sizeof l->var_path, "ARBOR_PATH=%s",
	    node_path(n, path, sizeof path));
	for (char **e = environ; e != NULL && *e != NULL; e++)
		nenv++;
	for (char *const *e = sx->env; e != NULL && *e != NULL; e++)
		nspec++;
	if ((l->envp = calloc(nenv + nspec + 16, sizeof *l->envp)) == NULL)
		return -1;
	l->envp[i++] = l->var_pid;
	l->envp[i++] = l->var_id;
	l->envp[i++] = l->var_path;
	l->envp[i++] = l->var_done;
	if (ready)
		l->envp[i++] = l->var_ready;
	if (l->pass.n > 0) {
		l->envp[i++] = l->pass.var_fds;
		l->envp[i++] = l->var_listen_pid; /* filled in the child */
		l->envp[i++] = l->pass.var_names;
	}
	if (!check)
		i = launch_notify_env(l, sp, i);
	/* A worker with a user of its own gets that user's HOME, USER,
	 * LOGNAME and SHELL, as under systemd's User=, not arbord's. */
	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (!env_is_own(*e) && !env_in(sx->env, *e) &&
		    (l->var_user[0] == NULL || !env_is_user(*e)))
			l->envp[i++] = *e;
	for (int k = 0; k < 4; k++)
		if (l->var_user[k] != NULL && !env_in(sx->env, l->var_user[k]))
			l->envp[i++] = l->var_user[k];
	for (char *const *e = sx->env; e != NULL && *e != NULL; e++)
		if (!env_is_own(*e))
			l->envp[i++] = *e;
	l->envp[i] = NULL;
	return 0;
}

static struct exec_launch *
launch_new(struct node *n, char *const *argv, bool ready,
    const struct exec_spawned *sp, bool check, struct proto_err *err)
{
	const struct spec_exec *sx = &n->spec->u.exec;
	struct exec_launch *l;

	if ((l = calloc(1, sizeof *l)) == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return NULL;
	}
	l->argv = argv;
	l->merge_err = check;
	l->cwd = sx->cwd;
	l->cg_procs = -1;
	l->ppid = exec_mod.self;
	if (launch_ident(l, n, err) == -1) {
		launch_free(l);
		return NULL;
	}
	/* A health check gets no listen fds: they are the worker's. */
	l->done_fd = EXEC_LISTEN_FD + (check ? 0 : (int)sock_pass_count(n));
	l->ready_fd = l->done_fd + 1;
	l->fd_min = l->ready_fd + 1 > EXEC_FD_MIN ? l->ready_fd + 1 :
	                                            EXEC_FD_MIN;
	if (!check && sock_pass_get(n, l->fd_min, &l->pass) == -1) {
		spawn_errno(err, argv[0], "listen fds: ", errno);
		launch_free(l);
		return NULL;
	}
	if (launch_env(l, n, ready, sp, check) == -1 ||
	    launch_paths(l, argv[0], sx->env) == -1)
		goto fail;
	return l;
fail:
	proto_errf(err, PROTO_INTERNAL, "out of memory");
	launch_free(l);
	return NULL;
}

/* The child's identity and limits, in the order that keeps the power to
 * set each until it is set: limits (raising a hard one needs root), nice
 * and oom_score_adj (lowering them does), umask, then groups, gid, uid,
 * and no_new_privs last. Only system calls; -1 with f filled. */
static int
exec_child_ident(const struct exec_launch *l, struct exec_fail *f)
{
	ssize_t w;
	int fd;

	f->stage = STAGE_RLIMIT;
	for (size_t i = 0; i < l->nrlims; i++) {
		f->what = (int)i;
		if (setrlimit(l->rlims[i].resource, &l->rlims[i].rl) == -1)
			return -1;
	}
	f->stage = STAGE_NICE;
	if (l->has_nice && setpriority(PRIO_PROCESS, 0, l->nice) == -1)
		return -1;
	f->stage = STAGE_OOM;
	if (l->oom_len > 0) {
		if ((fd = open("/proc/self/oom_score_adj",
		         O_WRONLY | O_CLOEXEC)) == -1)
			return -1;
		w = write(fd, l->oom, l->oom_len);
		if (w != (ssize_t)l->oom_len) {
			if (w >= 0)
				errno = EIO;
			return -1; /* fd closes at exec or _exit */
		}
		close(fd);
	}
	if (l->umask >= 0)
		umask((mode_t)l->umask);
	f->stage = STAGE_GROUPS;
	if (l->cr.set_groups &&
	    syscall(EXEC_SYS_SETGROUPS, l->cr.ngroups, l->cr.groups) == -1)
		return -1;
	f->stage = STAGE_GID;
	if (l->cr.set_gid &&
	    syscall(EXEC_SYS_SETRESGID, l->cr.gid, l->cr.gid, l->cr.gid) == -1)
		return -1;
	f->stage = STAGE_UID;
	if (l->cr.set_uid &&
	    syscall(EXEC_SYS_SETRESUID, l->cr.uid, l->cr.uid, l->cr.uid) == -1)
		return -1;
	/* A change of credentials clears the parent-death signal. */
	if ((l->cr.set_uid || l->cr.set_gid) &&
	    prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		return -1;
	if (getppid() != l->ppid)
		_exit(127);
	f->stage = STAGE_NNP;
	if (l->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return 0;
}

/* Writes the calling process's pid in decimal, NUL-terminated, into
 * slot (size bytes, 21 hold any pid): for a variable whose value only the
 * child knows (LISTEN_PID, WATCHDOG_PID), its key already in front of
 * slot. Async-signal-safe: a child between vfork and exec may call it. */
static void
env_put_pid(char *slot, size_t size)
{
	char digits[24];
	size_t n = 0, i = 0;
	unsigned long v = (unsigned long)getpid();

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && n < sizeof digits);
	if (size == 0)
		return;
	while (n > 0 && i + 1 < size)
		slot[i++] = digits[--n];
	slot[i] = '\0';
}

/* Between vfork and exec: only system calls, no allocation, no return.
 * l is the daemon's, shared until the exec: the child writes only its
 * pid into l's variables. Longer than most functions, on purpose: the
 * order of its steps is what matters (the cgroup first, the fds, who it
 * runs as, the cwd as that user, the exec), and it reads best as one
 * list. */
static void __attribute__((noreturn, noinline))
exec_child(struct exec_launch *l)
{
	struct exec_fail f = { STAGE_SETUP, 0, 0 };
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
		_exit(127); /* the daemon died already */
	/* Into its cgroup before anything else runs: whatever it forks from
	 * here on is born inside. */
	if (l->cg_procs != -1 && write(l->cg_procs, "0", 1) != 1) {
		f.stage = STAGE_CGROUP;
		goto fail;
	}
	if (l->wd_pid_at != NULL)
		env_put_pid(l->wd_pid_at,
		    sizeof l->var_wd_pid -
		        (size_t)(l->wd_pid_at - l->var_wd_pid));
	if (dup2(l->devnull, 0) == -1 || dup2(l->out_w, 1) == -1 ||
	    dup2(l->stderr_w, 2) == -1)
		goto fail;
	for (size_t i = 0; i < l->pass.n; i++)
		if (dup2(l->pass.fds[i], EXEC_LISTEN_FD + (int)i) == -1)
			goto fail;
	if (dup2(l->done_r, l->done_fd) == -1 ||
	    (l->ready_w != -1 && dup2(l->ready_w, l->ready_fd) == -1))
		goto fail;
	/* Whatever the daemon holds without O_CLOEXEC stays with it. */
	close_range((unsigned)(l->ready_w != -1 ? l->ready_fd + 1 :
	                                          l->ready_fd),
	    ~0U, CLOSE_RANGE_CLOEXEC);
	if (l->pass.n > 0)
		env_put_pid(l->var_listen_pid + sizeof EXEC_PID_KEY - 1,
		    sizeof l->var_listen_pid - (sizeof EXEC_PID_KEY - 1));
	/* The fd limit arbord was started with (unless the spec says), not
	 * the one it raised for itself: a program that sizes tables or loops
	 * by it (or breaks with fds over 1023, select) sees what it would
	 * have seen. The cwd is entered as the worker's user. */
	if (exec_child_ident(l, &f) == -1)
		goto fail;
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

void
exec_fd_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* Moves a child-side fd above the ones the child sets up, so no dup2 of
 * the child clobbers another. */
static int
fd_high(int *fd, int min)
{
	int nfd;

	if (*fd >= min)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, min)) == -1)
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

/* The pipes of one start; -1: not open, or handed over. */
struct exec_pipes {
	int done[2], out[2], rdy[2], errp[2], serr[2];
	int devnull;
};

static void
pipes_close(struct exec_pipes *p)
{
	for (int i = 0; i < 2; i++) {
		exec_fd_close(&p->done[i]);
		exec_fd_close(&p->out[i]);
		exec_fd_close(&p->serr[i]);
		exec_fd_close(&p->rdy[i]);
		exec_fd_close(&p->errp[i]);
	}
	exec_fd_close(&p->devnull);
}

/* Opens them all, the child's ends above what the child sets up and the
 * daemon's read ends non-blocking; -1 with errno set. */
static int
pipes_open(struct exec_pipes *p, bool ready, int min)
{
	if (pipe2(p->done, O_CLOEXEC) == -1 || pipe2(p->out, O_CLOEXEC) == -1 ||
	    pipe2(p->serr, O_CLOEXEC) == -1 ||
	    pipe2(p->errp, O_CLOEXEC) == -1 ||
	    (ready && pipe2(p->rdy, O_CLOEXEC) == -1) ||
	    (p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    fd_high(&p->done[0], min) == -1 || fd_high(&p->out[1], min) == -1 ||
	    fd_high(&p->serr[1], min) == -1 || fd_nonblock(p->serr[0]) == -1 ||
	    fd_high(&p->errp[1], min) == -1 ||
	    fd_high(&p->devnull, min) == -1 ||
	    (p->rdy[1] != -1 && fd_high(&p->rdy[1], min) == -1) ||
	    fd_nonblock(p->out[0]) == -1 ||
	    (p->rdy[0] != -1 && fd_nonblock(p->rdy[0]) == -1))
		return -1;
	return 0;
}

static void
spawn_errno(struct proto_err *err, const char *argv0, const char *what, int e)
{
	proto_errf(err, PROTO_SPAWN_FAILED, "cannot start \"%s\": %s%s", argv0,
	    what, strerror(e));
	err->sys_errno = e;
}

/* vfork with every signal blocked: no handler of the daemon's may run in
 * the child, which shares our memory until it execs. Then the child's
 * ends are closed. -1 with *e set when vfork failed. */
static pid_t
spawn_child(struct exec_launch *l, struct exec_pipes *p, int *e)
{
	sigset_t all, old;
	pid_t pid;

	l->devnull = p->devnull;
	l->out_w = p->out[1];
	l->stderr_w = l->merge_err ? p->out[1] : p->serr[1];
	l->done_r = p->done[0];
	l->ready_w = p->rdy[1];
	l->err_w = p->errp[1];
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = exec_vfork(l);
	*e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	exec_fd_close(&p->done[0]);
	exec_fd_close(&p->out[1]);
	exec_fd_close(&p->serr[1]);
	exec_fd_close(&p->rdy[1]);
	exec_fd_close(&p->errp[1]);
	exec_fd_close(&p->devnull);
	return pid;
}

/* The child has exec'd (EOF) or written why not and exited: 0, or -1
 * with err filled and the child reaped. */
/* What the child could not do, as spawn answers it. */
static void
spawn_stage_err(const struct exec_launch *l, const struct exec_fail *f,
    const struct spec_exec *sx, struct proto_err *err)
{
	const char *a0 = l->argv[0], *e = strerror(f->err);

	switch (f->stage) {
	case STAGE_CGROUP:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot move \"%s\" into its cgroup: %s", a0, e);
		break;
	case STAGE_RLIMIT:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot set rlimits.%s of \"%s\": %s",
		    f->what >= 0 && (size_t)f->what < l->nrlims ?
		        spec_rlimit_defs[l->rlims[f->what].spec].name :
		        "?",
		    a0, e);
		break;
	case STAGE_NICE:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot set nice %d for \"%s\": %s", l->nice, a0, e);
		break;
	case STAGE_OOM:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot set oom_score_adj for \"%s\": %s", a0, e);
		break;
	case STAGE_GROUPS:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot set supplementary groups for \"%s\": %s", a0, e);
		break;
	case STAGE_GID:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot set group (gid %ld) for \"%s\": %s",
		    (long)l->cr.gid, a0, e);
		break;
	case STAGE_UID:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot set user (uid %ld) for \"%s\": %s", (long)l->cr.uid,
		    a0, e);
		break;
	case STAGE_NNP:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot set no_new_privs for \"%s\": %s", a0, e);
		break;
	case STAGE_CHDIR:
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot change to directory \"%s\": %s", sx->cwd, e);
		break;
	case STAGE_EXEC:
		proto_errf(err, PROTO_SPAWN_FAILED, "cannot execute \"%s\": %s",
		    a0, e);
		break;
	default:
		proto_errf(err, PROTO_SPAWN_FAILED, "cannot set up \"%s\": %s",
		    a0, e);
		break;
	}
	err->sys_errno = f->err;
}

static int
spawn_wait_exec(struct exec_pipes *p, pid_t pid, const struct exec_launch *l,
    const struct spec_exec *sx, struct proto_err *err)
{
	struct exec_fail f;
	ssize_t r;

	do
		r = read(p->errp[0], &f, sizeof f);
	while (r == -1 && errno == EINTR);
	exec_fd_close(&p->errp[0]);
	if (r != (ssize_t)sizeof f)
		return 0;
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	spawn_stage_err(l, &f, sx, err);
	return -1;
}

/* The worker's program, or (argv not the spec's, no readiness) one of its
 * health checks: both go through the same launch and child set-up, so a
 * check gets whatever the worker gets (environment, cwd, and the node's
 * identity and cgroup where it has them). */
static int
exec_spawn_argv(struct node *n, char *const *argv, bool ready, bool check,
    struct exec_spawned *sp, struct proto_err *err)
{
	const struct spec_exec *sx = &n->spec->u.exec;
	struct exec_pipes p = {
		{ -1, -1 },
		{ -1, -1 },
		{ -1, -1 },
		{ -1, -1 },
		{ -1, -1 },
		-1,
	};
	struct exec_launch *l;
	int rc = -1, e;
	struct cgroup_run cg;
	pid_t pid;

	cg.dir = NULL;
	cg.fd = -1;
	cg.removed = false;
	if ((l = launch_new(n, argv, ready, sp, check, err)) == NULL)
		return -1;
	/* Its cgroup (with its limits) first: the child enters it. A health
	 * check goes into the cgroup of the run it checks, when it has one:
	 * accounted and limited with it, and killed with it. */
	if (check) {
		const struct exec *w = n->work;

		l->cg_procs = w != NULL ? cgroup_open_procs(&w->cg) : -1;
	} else if (cgroup_node_prepare(n, &cg, err) == -1) {
		launch_free(l);
		return -1;
	} else
		l->cg_procs = cg.fd; /* the run's, closed once entered */
	if (pipes_open(&p, ready, l->fd_min) == -1)
		spawn_errno(err, argv[0], "", errno);
	else if ((pid = spawn_child(l, &p, &e)) == -1)
		spawn_errno(err, argv[0], "vfork: ", e);
	else if (spawn_wait_exec(&p, pid, l, sx, err) == 0) {
		sp->pid = pid;
		sp->done_w = p.done[1];
		sp->out_r = p.out[0];
		sp->err_r = check ? -1 : p.serr[0];
		sp->ready_r = p.rdy[0];
		/* The child is in: every fd a run holds would be copied and
		 * closed again by the exec of each later start. */
		exec_fd_close(&cg.fd);
		sp->cg = cg;
		p.done[1] = p.out[0] = p.rdy[0] = -1;
		if (!check)
			p.serr[0] = -1;
		cg.dir = NULL;
		cg.fd = -1;
		rc = 0;
	}
	if (check)
		exec_fd_close(&l->cg_procs);
	/* Not started: its child, if any, was reaped. */
	cgroup_run_end(&cg, true);
	pipes_close(&p);
	launch_free(l);
	return rc;
}

int
exec_spawn(struct node *n, struct exec_spawned *sp, struct proto_err *err)
{
	const struct spec_exec *sx = &n->spec->u.exec;

	return exec_spawn_argv(n, sx->argv, sx->ready == READY_FD, false, sp,
	    err);
}

int
exec_spawn_check(struct node *n, char *const *argv, struct exec_spawned *sp,
    struct proto_err *err)
{
	memset(sp, 0, sizeof *sp);
	return exec_spawn_argv(n, argv, false, true, sp, err);
}
