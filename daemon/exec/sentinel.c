/*
 * The sentinel (sentinel.h): the process itself (sentinel_main, which only
 * ever _exits) and arbord's side of its pipe: a buffer of registrations
 * written without blocking, and a restart when it dies.
 *
 * The pipe carries lines: "+g PGID", "-g PGID", "+p PID", "-p PID",
 * "+c PATH" (a cgroup.kill file: written first, it kills every worker in
 * arbord's cgroup tree at once, escaped or not), and "x" (exit without
 * killing).
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "procenv.h"
#include "reaper.h"
#include "sentinel.h"

static struct {
	pid_t pid; /* 0: none running */
	int fd;    /* owned: write end, -1: none */
	pid_t daemon_pid;
	struct event_base *base; /* borrowed */
	struct event *wev;       /* owned: writable */
	struct event *fev;       /* owned: the flush at the end of a turn */
	struct evbuffer *out;    /* owned: lines not yet written */
	void (*replay)(void);
	int stopping;
	char cgroup_kill[PATH_MAX]; /* "" : none */
} sen = { .fd = -1 };

/* --- the sentinel process ------------------------------------------- */

struct sen_set {
	pid_t *v;
	size_t n, cap;
};

static void
set_add(struct sen_set *s, pid_t p)
{
	pid_t *v;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == p)
			return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		if ((v = realloc(s->v, cap * sizeof *v)) == NULL)
			return;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = p;
}

static void
set_del(struct sen_set *s, pid_t p)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == p) {
			s->v[i] = s->v[--s->n];
			return;
		}
}

/* Processes whose environment says arbord (daemon_pid) started them,
 * wherever in it the marker sits. */
static int
sentinel_kill_marked(pid_t daemon_pid)
{
	char want[32], val[32];
	struct dirent *de;
	DIR *dir;
	int killed = 0;
	ssize_t n;

	snprintf(want, sizeof want, "%ld", (long)daemon_pid);
	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		pid_t p = (pid_t)atol(de->d_name);

		if (p <= 0 || p == getpid())
			continue;
		n = procenv_get(p, "ARBOR_DAEMON_PID", val, sizeof val);
		if (n == (ssize_t)strlen(want) && strcmp(val, want) == 0) {
			kill(p, SIGKILL);
			killed++;
		}
	}
	closedir(dir);
	return killed;
}

/*
 * What ps shows of the sentinel: "arbord: sentinel", not a second copy of
 * arbord's command line. prctl(PR_SET_NAME) sets only comm; ps's args
 * are read from the argument area of the process's memory, which is
 * overwritten here (the child's copy: the daemon's argv is untouched).
 * When the arguments are shorter than the title, the environment
 * strings that follow them are taken too: the sentinel never reads its
 * own environment.
 */
static void
sentinel_title(void)
{
	static const char title[] = "arbord: sentinel";
	extern char **environ;
	char *start = program_invocation_name, *end, buf[4096];
	size_t len = 0;
	ssize_t r;
	int fd;

	if (start == NULL ||
	    (fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)) == -1)
		return;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		len += (size_t)r;
	close(fd);
	if (len == 0)
		return;
	end = start + len;
	if (len < sizeof title && environ != NULL) {
		for (char **e = environ; *e != NULL && *e == end; e++)
			end += strlen(*e) + 1;
		environ = NULL;
	}
	memset(start, 0, (size_t)(end - start));
	memcpy(start, title,
	    (size_t)(end - start) > sizeof title ? sizeof title - 1 :
	                                           (size_t)(end - start) - 1);
}

/* One line of the pipe, "x" aside: a registration, or the cgroup.kill
 * file (cgkill, PATH_MAX bytes). */
static void
sentinel_line(const char *line, struct sen_set *groups, struct sen_set *pids,
    char *cgkill)
{
	pid_t p;

	if (strlen(line) < 4)
		return;
	if (line[0] == '+' && line[1] == 'c') {
		size_t len = strlen(line + 3);

		if (len < PATH_MAX)
			memcpy(cgkill, line + 3, len + 1);
		return;
	}
	if ((p = (pid_t)atol(line + 3)) <= 1)
		return;
	if (line[1] == 'g')
		(line[0] == '+' ? set_add : set_del)(groups, p);
	else if (line[1] == 'p')
		(line[0] == '+' ? set_add : set_del)(pids, p);
}

/* arbord is gone: nothing it started may survive it. The cgroup first:
 * nothing in it escapes. Then groups, then pids, then a few passes over
 * /proc for anything forked while we were killing. */
static void
sentinel_kill_all(const char *cgkill, const struct sen_set *groups,
    const struct sen_set *pids, pid_t daemon_pid)
{
	if (cgkill[0] != '\0') {
		int cfd = open(cgkill, O_WRONLY | O_CLOEXEC);

		if (cfd != -1) {
			if (write(cfd, "1", 1) != 1)
				(void)0;
			close(cfd);
		}
	}
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < groups->n; i++)
			kill(-groups->v[i], SIGKILL);
		for (size_t i = 0; i < pids->n; i++)
			kill(pids->v[i], SIGKILL);
		if (sentinel_kill_marked(daemon_pid) == 0 && pass > 0)
			break;
		usleep(20 * 1000);
	}
}

static void __attribute__((noreturn)) sentinel_main(int fd, pid_t daemon_pid)
{
	struct sen_set groups = { 0 }, pids = { 0 };
	char buf[4096], line[PATH_MAX + 8], cgkill[PATH_MAX] = "";
	size_t llen = 0;
	ssize_t r;

	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_NAME, "arbord-sentinel", 0, 0, 0);
	sentinel_title();
	if (dup2(fd, 0) == -1)
		_exit(1);
	/* Nothing of the daemon's but the pipe and stderr. */
	for (int i = 3; i < 1024; i++)
		close(i);
	fcntl(0, F_SETFL, 0); /* blocking */
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	for (;;) {
		r = read(0, buf, sizeof buf);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] != '\n') {
				if (llen < sizeof line - 1)
					line[llen++] = buf[i];
				continue;
			}
			line[llen] = '\0';
			llen = 0;
			if (line[0] == 'x')
				_exit(0);
			sentinel_line(line, &groups, &pids, cgkill);
		}
	}
	sentinel_kill_all(cgkill, &groups, &pids, daemon_pid);
	_exit(0);
}

/* --- arbord's side --------------------------------------------------- */

static void sentinel_died_cb(pid_t, int, const struct rusage *, void *);

static int
sentinel_fork(void)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("sentinel: pipe");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("sentinel: fork");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		sentinel_main(p[0], sen.daemon_pid);
	}
	close(p[0]);
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) == -1)
		log_warn("sentinel: O_NONBLOCK");
	sen.pid = pid;
	sen.fd = p[1];
	log_debug("sentinel started (pid %ld)", (long)pid);
	return 0;
}

int
sentinel_start(void)
{
	sen.daemon_pid = getpid();
	return sentinel_fork();
}

static void
sentinel_flush(void)
{
	if (sen.fd == -1 || sen.out == NULL)
		return;
	while (evbuffer_get_length(sen.out) > 0) {
		int r = evbuffer_write(sen.out, sen.fd);

		if (r > 0)
			continue;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno != EAGAIN)
			/* EPIPE: it died; SIGCHLD brings the new one. */
			evbuffer_drain(sen.out, evbuffer_get_length(sen.out));
		break;
	}
	if (sen.wev != NULL) {
		if (evbuffer_get_length(sen.out) > 0)
			event_add(sen.wev, NULL);
		else
			event_del(sen.wev);
	}
}

static void
sentinel_write_cb(evutil_socket_t fd, short what, void *arg)
{
	sentinel_flush();
}

static void
sentinel_close(void)
{
	if (sen.wev != NULL) {
		event_free(sen.wev);
		sen.wev = NULL;
	}
	if (sen.fd != -1) {
		close(sen.fd);
		sen.fd = -1;
	}
	if (sen.out != NULL)
		evbuffer_drain(sen.out, evbuffer_get_length(sen.out));
}

static int
sentinel_watch(void)
{
	if (reaper_watch(sen.pid, sentinel_died_cb, NULL) == -1)
		return -1;
	if ((sen.wev = event_new(sen.base, sen.fd, EV_WRITE, sentinel_write_cb,
	         NULL)) == NULL)
		return -1;
	return 0;
}

static void
sentinel_died_cb(pid_t pid, int status, const struct rusage *ru, void *arg)
{
	sen.pid = 0;
	if (sen.stopping)
		return;
	log_warnx("the sentinel (pid %ld) died; starting a new one", (long)pid);
	sentinel_close();
	if (sentinel_fork() == -1 || sentinel_watch() == -1) {
		log_warnx("no sentinel: grandchildren may outlive a crash");
		return;
	}
	if (sen.cgroup_kill[0] != '\0')
		sentinel_set_cgroup_kill(sen.cgroup_kill);
	if (sen.replay != NULL)
		sen.replay();
}

/* Registrations made in one turn of the loop (a cancel of 1,000 workers
 * makes 1,000) go out in one write, before the answers of that turn
 * (they are written when their sockets are next writable). */
static void
sentinel_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	sentinel_flush();
}

int
sentinel_attach(struct event_base *base)
{
	sen.base = base;
	if ((sen.out = evbuffer_new()) == NULL ||
	    (sen.fev = event_new(base, -1, 0, sentinel_flush_cb, NULL)) == NULL)
		return -1;
	if (sen.pid == 0)
		return 0;
	return sentinel_watch();
}

static void
sentinel_send(char op, char what, pid_t p)
{
	if (sen.fd == -1 || sen.out == NULL)
		return;
	evbuffer_add_printf(sen.out, "%c%c %ld\n", op, what, (long)p);
	if (sen.fev != NULL)
		event_active(sen.fev, EV_TIMEOUT, 1);
	else
		sentinel_flush();
}

void
sentinel_add_group(pid_t pgid)
{
	sentinel_send('+', 'g', pgid);
}

void
sentinel_del_group(pid_t pgid)
{
	sentinel_send('-', 'g', pgid);
}

void
sentinel_add_pid(pid_t pid)
{
	sentinel_send('+', 'p', pid);
}

void
sentinel_del_pid(pid_t pid)
{
	sentinel_send('-', 'p', pid);
}

void
sentinel_set_cgroup_kill(const char *path)
{
	if (path != sen.cgroup_kill)
		snprintf(sen.cgroup_kill, sizeof sen.cgroup_kill, "%s", path);
	if (sen.fd == -1 || sen.out == NULL)
		return;
	evbuffer_add_printf(sen.out, "+c %s\n", sen.cgroup_kill);
	sentinel_flush();
}

void
sentinel_set_replay(void (*fn)(void))
{
	sen.replay = fn;
}

pid_t
sentinel_pid(void)
{
	return sen.pid;
}

void
sentinel_stop(void)
{
	pid_t pid = sen.pid;

	sen.stopping = 1;
	if (sen.fd != -1) {
		/* Blocking now: what is queued, then "x", must arrive. */
		fcntl(sen.fd, F_SETFL, 0);
		if (sen.out != NULL)
			while (evbuffer_get_length(sen.out) > 0 &&
			    evbuffer_write(sen.out, sen.fd) > 0)
				;
		if (write(sen.fd, "x\n", 2) != 2)
			log_warn("sentinel: cannot tell it to exit");
	}
	sentinel_close();
	if (pid > 0) {
		reaper_unwatch(pid);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		sen.pid = 0;
	}
	if (sen.out != NULL) {
		evbuffer_free(sen.out);
		sen.out = NULL;
	}
	if (sen.fev != NULL) {
		event_free(sen.fev);
		sen.fev = NULL;
	}
}
