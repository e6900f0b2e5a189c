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
#include <sys/wait.h>
#include <unistd.h>

#include "exec-int.h"
#include "node.h"
#include "spec.h"

#define EXEC_DONE_FD  3
#define EXEC_READY_FD 4
#define EXEC_FD_MIN   10 /* child-side fds live above this */

extern char **environ;

/* --- the launch: everything the child needs, built before vfork ------- */

enum exec_stage { STAGE_SETUP, STAGE_CGROUP, STAGE_CHDIR, STAGE_EXEC };

struct exec_fail {
	int stage;
	int err;
};

struct exec_launch {
	char *const *argv; /* borrowed from the spec */
	char **envp;       /* owned array, strings borrowed */
	char **cands;      /* owned array of owned paths */
	size_t ncands;
	const char *cwd; /* borrowed; NULL: the daemon's */
	int devnull, out_w, done_r, ready_w, err_w; /* borrowed */
	int cg_procs; /* borrowed: its cgroup.procs, -1: no cgroup */
	pid_t ppid;
	bool has_nofile; /* set the workers' RLIMIT_NOFILE */
	struct rlimit nofile;
	char var_pid[64];
	char var_id[64];
	char var_path[PROTO_PATH_MAX + 16];
};

static const char *const exec_own_keys[] = {
	"ARBOR_DAEMON_PID",
	"ARBOR_ID",
	"ARBOR_PATH",
	"ARBOR_DONE_FD",
	"ARBOR_READY_FD",
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
	l->cg_procs = -1;
	l->ppid = exec_mod.self;
	l->has_nofile = exec_mod.has_nofile;
	l->nofile = exec_mod.nofile;
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
		_exit(127); /* the daemon died already */
	/* Into its cgroup before anything else runs: whatever it forks from
	 * here on is born inside. */
	if (l->cg_procs != -1 && write(l->cg_procs, "0", 1) != 1) {
		f.stage = STAGE_CGROUP;
		goto fail;
	}
	if (dup2(l->devnull, 0) == -1 || dup2(l->out_w, 1) == -1 ||
	    dup2(l->out_w, 2) == -1 || dup2(l->done_r, EXEC_DONE_FD) == -1 ||
	    (l->ready_w != -1 && dup2(l->ready_w, EXEC_READY_FD) == -1))
		goto fail;
	/* Whatever the daemon holds without O_CLOEXEC stays with it. */
	close_range(l->ready_w != -1 ? EXEC_READY_FD + 1 : EXEC_READY_FD, ~0U,
	    CLOSE_RANGE_CLOEXEC);
	/* The fd limit arbord was started with, not the one it raised for
	 * itself: a program that sizes tables or loops by it (or breaks
	 * with fds over 1023, select) sees what it would have seen. */
	if (l->has_nofile && setrlimit(RLIMIT_NOFILE, &l->nofile) == -1)
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
	int done[2], out[2], rdy[2], errp[2];
	int devnull;
};

static void
pipes_close(struct exec_pipes *p)
{
	for (int i = 0; i < 2; i++) {
		exec_fd_close(&p->done[i]);
		exec_fd_close(&p->out[i]);
		exec_fd_close(&p->rdy[i]);
		exec_fd_close(&p->errp[i]);
	}
	exec_fd_close(&p->devnull);
}

/* Opens them all, the child's ends above what the child sets up and the
 * daemon's read ends non-blocking; -1 with errno set. */
static int
pipes_open(struct exec_pipes *p, bool ready)
{
	if (pipe2(p->done, O_CLOEXEC) == -1 || pipe2(p->out, O_CLOEXEC) == -1 ||
	    pipe2(p->errp, O_CLOEXEC) == -1 ||
	    (ready && pipe2(p->rdy, O_CLOEXEC) == -1) ||
	    (p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    fd_high(&p->done[0]) == -1 || fd_high(&p->out[1]) == -1 ||
	    fd_high(&p->errp[1]) == -1 || fd_high(&p->devnull) == -1 ||
	    (p->rdy[1] != -1 && fd_high(&p->rdy[1]) == -1) ||
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
	exec_fd_close(&p->rdy[1]);
	exec_fd_close(&p->errp[1]);
	exec_fd_close(&p->devnull);
	return pid;
}

/* The child has exec'd (EOF) or written why not and exited: 0, or -1
 * with err filled and the child reaped. */
static int
spawn_wait_exec(struct exec_pipes *p, pid_t pid, const struct spec_exec *sx,
    struct proto_err *err)
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
	if (f.stage == STAGE_CGROUP)
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot move \"%s\" into its cgroup: %s", sx->argv[0],
		    strerror(f.err));
	else if (f.stage == STAGE_CHDIR)
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot change to "
		    "directory \"%s\": %s",
		    sx->cwd, strerror(f.err));
	else if (f.stage == STAGE_EXEC)
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot execute \"%s\": "
		    "%s",
		    sx->argv[0], strerror(f.err));
	else
		proto_errf(err, PROTO_SPAWN_FAILED,
		    "cannot set up \"%s\": "
		    "%s",
		    sx->argv[0], strerror(f.err));
	err->sys_errno = f.err;
	return -1;
}

int
exec_spawn(struct node *n, struct exec_spawned *sp, struct proto_err *err)
{
	const struct spec_exec *sx = &n->spec->u.exec;
	struct exec_pipes p = {
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

	if ((l = launch_new(n)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	/* Its cgroup (with its limits) first: the child enters it. */
	if (cgroup_node_prepare(n, &cg, &l->cg_procs, err) == -1) {
		launch_free(l);
		return -1;
	}
	if (pipes_open(&p, sx->ready == READY_FD) == -1)
		spawn_errno(err, sx->argv[0], "", errno);
	else if ((pid = spawn_child(l, &p, &e)) == -1)
		spawn_errno(err, sx->argv[0], "vfork: ", e);
	else if (spawn_wait_exec(&p, pid, sx, err) == 0) {
		sp->pid = pid;
		sp->done_w = p.done[1];
		sp->out_r = p.out[0];
		sp->ready_r = p.rdy[0];
		sp->cg = cg;
		p.done[1] = p.out[0] = p.rdy[0] = -1;
		cg.dir = NULL;
		cg.fd = -1;
		rc = 0;
	}
	exec_fd_close(&l->cg_procs);
	/* Not started: its child, if any, was reaped. */
	cgroup_run_end(&cg, true);
	pipes_close(&p);
	launch_free(l);
	return rc;
}
