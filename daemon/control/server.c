/*
 * The control socket: a unix stream socket bound with a safe mode, accept
 * within limits, and the connections it owns.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "conn.h"
#include "daemon.h"
#include "jsonrpc.h"
#include "log.h"
#include "server.h"
#include "timer.h"
#include "trust.h"

/* A refused peer keeps its fd this long at most after its error was sent,
 * so it reads the error instead of a reset; beyond SERVER_LINGER_MAX at
 * once, refused peers are closed at once. */
#define SERVER_LINGER_MS  1000
#define SERVER_LINGER_MAX 64

/* A refused connection: its error sent and its write side shut down, read
 * and discarded until the peer closes or the time is up. */
struct server_linger {
	struct server *s;                /* borrowed */
	int fd;                          /* owned */
	struct event *ev;                /* owned */
	int64_t deadline_ms;             /* monotonic */
	LIST_ENTRY(server_linger) entry; /* server's lingering */
};

static void server_accept_cb(evutil_socket_t, short, void *);
static void server_resume_cb(evutil_socket_t, short, void *);
static void server_reap_cb(evutil_socket_t, short, void *);

/* Makes the socket's directory when it is missing (one level, 0700 for a
 * private runtime directory, as tmux does), and refuses one that another
 * user made or can write to: whoever can replace the socket gets every
 * request, secrets in env included. */
static int
server_mkdir(const char *path, struct proto_err *err)
{
	char dir[sizeof((struct sockaddr_un *)0)->sun_path];
	struct stat st;
	char *slash;

	if (strlen(path) >= sizeof dir)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "socket path %s is longer than %zu bytes", path,
		    sizeof dir - 1);
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return 0;
	if (slash == dir)
		slash++; /* the socket is in / */
	*slash = '\0';
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return proto_errf(err, PROTO_INTERNAL, "cannot create %s: %s",
		    dir, strerror(errno));
	if (lstat(dir, &st) == -1)
		return proto_errf(err, PROTO_INTERNAL, "cannot stat %s: %s",
		    dir, strerror(errno));
	return proto_trust_check(&st, geteuid(), true, "socket directory", dir,
	    err);
}

/* A socket file nobody answers on is stale and goes; one that answers
 * belongs to a live daemon and stays. */
static int
server_check_stale(const struct sockaddr_un *sun, struct proto_err *err)
{
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return proto_errf(err, PROTO_INTERNAL, "socket: %s",
		    strerror(errno));
	if (connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0) {
		close(fd);
		return proto_errf(err, PROTO_CONFLICT,
		    "another arbord is listening on %s", sun->sun_path);
	}
	close(fd);
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		return proto_errf(err, PROTO_INTERNAL,
		    "cannot remove stale "
		    "socket %s: %s",
		    sun->sun_path, strerror(errno));
	return 0;
}

static int
server_bind(struct server *s, const char *path, const char *group,
    struct proto_err *err)
{
	struct sockaddr_un sun;
	mode_t mask;
	gid_t gid = (gid_t)-1;
	int r;

	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr == NULL)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "no group named %s", group);
		gid = gr->gr_gid;
		s->have_group = true;
		s->group = gid;
		snprintf(s->group_name, sizeof s->group_name, "%s", group);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "socket path %s is longer than %zu bytes", path,
		    sizeof sun.sun_path - 1);
	strcpy(sun.sun_path, path);
	if (server_mkdir(path, err) == -1 ||
	    server_check_stale(&sun, err) == -1)
		return -1;
	if ((s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	         0)) == -1)
		return proto_errf(err, PROTO_INTERNAL, "socket: %s",
		    strerror(errno));
	/* The mode is right from the first moment the path exists. */
	mask = umask(group != NULL ? 0117 : 0177);
	r = bind(s->fd, (struct sockaddr *)&sun, sizeof sun);
	umask(mask);
	if (r == -1)
		return proto_errf(err, PROTO_INTERNAL, "bind %s: %s", path,
		    strerror(errno));
	if ((s->path = strdup(path)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (group != NULL &&
	    (chown(path, (uid_t)-1, gid) == -1 || chmod(path, 0660) == -1))
		return proto_errf(err, PROTO_INTERNAL,
		    "cannot give %s to group %s: %s", path, group,
		    strerror(errno));
	if (listen(s->fd, 512) == -1)
		return proto_errf(err, PROTO_INTERNAL, "listen %s: %s", path,
		    strerror(errno));
	return 0;
}

/* Who may connect to a socket systemd made: --socket-group, else the
 * file's group when its mode lets that group in (SocketGroup=). */
static int
server_adopt(struct server *s, int fd, const char *group, struct proto_err *err)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	struct stat st;
	struct group *gr;

	s->fd = fd;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "no group named %s", group);
		s->have_group = true;
		s->group = gr->gr_gid;
		snprintf(s->group_name, sizeof s->group_name, "%s", group);
		return 0;
	}
	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    sun.sun_path[0] == '/' && stat(sun.sun_path, &st) == 0 &&
	    (st.st_mode & 0060) == 0060 && st.st_gid != 0) {
		s->have_group = true;
		s->group = st.st_gid;
		if ((gr = getgrgid(st.st_gid)) != NULL)
			snprintf(s->group_name, sizeof s->group_name, "%s",
			    gr->gr_name);
		else
			snprintf(s->group_name, sizeof s->group_name, "%ld",
			    (long)st.st_gid);
	}
	log_info("serving on the socket systemd passed (%s)",
	    sun.sun_path[0] != '\0' ? sun.sun_path : "unnamed");
	return 0;
}

static struct server *
server_start(struct daemon *d, const char *path, int fd, const char *group,
    struct proto_err *err)
{
	struct server *s;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		if (fd != -1)
			close(fd);
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return NULL;
	}
	s->d = d;
	s->fd = -1;
	LIST_INIT(&s->conns);
	LIST_INIT(&s->dead);
	LIST_INIT(&s->lingering);
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((fd != -1 ? server_adopt(s, fd, group, err) :
	                server_bind(s, path, group, err)) == -1) {
		server_free(s);
		return NULL;
	}
	s->accept_ev = event_new(d->base, s->fd, EV_READ | EV_PERSIST,
	    server_accept_cb, s);
	s->resume_ev = event_new(d->base, -1, 0, server_resume_cb, s);
	s->reap_ev = event_new(d->base, -1, 0, server_reap_cb, s);
	if (s->accept_ev == NULL || s->resume_ev == NULL ||
	    s->reap_ev == NULL || event_add(s->accept_ev, NULL) == -1) {
		proto_errf(err, PROTO_INTERNAL, "cannot watch the socket");
		server_free(s);
		return NULL;
	}
	return s;
}

struct server *
server_new(struct daemon *d, const char *path, const char *group,
    struct proto_err *err)
{
	return server_start(d, path, -1, group, err);
}

struct server *
server_new_fd(struct daemon *d, int fd, const char *group,
    struct proto_err *err)
{
	return server_start(d, NULL, fd, group, err);
}

static void
server_reap(struct server *s)
{
	struct conn *c;

	while ((c = LIST_FIRST(&s->dead)) != NULL) {
		LIST_REMOVE(c, entry);
		conn_free(c);
	}
}

static void
server_linger_free(struct server_linger *l)
{
	LIST_REMOVE(l, entry);
	l->s->nlingering--;
	timer_clear(&l->ev);
	close(l->fd);
	free(l);
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	while (!LIST_EMPTY(&s->lingering))
		server_linger_free(LIST_FIRST(&s->lingering));
	while (!LIST_EMPTY(&s->conns))
		conn_close(LIST_FIRST(&s->conns));
	server_reap(s);
	timer_clear(&s->accept_ev);
	timer_clear(&s->resume_ev);
	timer_clear(&s->reap_ev);
	if (s->fd != -1)
		close(s->fd);
	if (s->path != NULL) {
		unlink(s->path);
		free(s->path);
	}
	if (s->reserve_fd != -1)
		close(s->reserve_fd);
	free(s);
}

void
server_stop_accepting(struct server *s)
{
	if (s->accept_ev != NULL)
		event_del(s->accept_ev);
	event_del(s->resume_ev);
}

int
server_access_check(uid_t uid, gid_t gid, uid_t self, bool have_group,
    gid_t group, const char *group_name, struct proto_err *err)
{
	struct passwd *pw;
	gid_t groups[256];
	int ngroups = 256;

	if (uid == 0 || uid == self || (have_group && gid == group))
		return 0;
	/* Supplementary groups: the peer's own list is not in SO_PEERCRED,
	 * so it is looked up from its user's entry (NSS). */
	if (have_group && (pw = getpwuid(uid)) != NULL &&
	    getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) != -1)
		for (int i = 0; i < ngroups; i++)
			if (groups[i] == group)
				return 0;
	if (have_group)
		return proto_errk(err, PROTO_CONFLICT, "forbidden",
		    "uid %ld is not allowed to control arbord (not root, not "
		    "uid %ld, not in group %s)",
		    (long)uid, (long)self, group_name);
	return proto_errk(err, PROTO_CONFLICT, "forbidden",
	    "uid %ld is not "
	    "allowed to control arbord (only root and uid %ld; start arbord "
	    "with --socket-group to let a group in)",
	    (long)uid, (long)self);
}

/* Reads and drops what a refused peer sends; closes once it closed (or
 * failed), or when its time is up. A close with its request unread would
 * make the kernel reset the connection, and the peer lose its error. */
static void
server_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server_linger *l = arg;
	struct timeval left;
	int64_t now;
	char buf[4096];
	ssize_t r;
	int i;

	if (what & EV_TIMEOUT) {
		server_linger_free(l);
		return;
	}
	for (i = 0; i < 16; i++) {
		if ((r = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		server_linger_free(l); /* EOF or an error */
		return;
	}
	if ((now = clock_mono_ms()) >= l->deadline_ms) {
		server_linger_free(l);
		return;
	}
	left = clock_tv(l->deadline_ms - now);
	event_add(l->ev, &left);
}

void
server_linger(struct server *s, int fd)
{
	struct timeval tv = clock_tv(SERVER_LINGER_MS);
	struct server_linger *l = NULL;

	shutdown(fd, SHUT_WR);
	if (s->nlingering >= SERVER_LINGER_MAX ||
	    (l = calloc(1, sizeof *l)) == NULL ||
	    (l->ev = event_new(s->d->base, fd, EV_READ, server_linger_cb, l)) ==
	        NULL) {
		free(l);
		close(fd);
		return;
	}
	l->s = s;
	l->fd = fd;
	l->deadline_ms = clock_mono_ms() + SERVER_LINGER_MS;
	LIST_INSERT_HEAD(&s->lingering, l, entry);
	s->nlingering++;
	event_add(l->ev, &tv);
}

/* Says why (err), then lingers (server_linger), without blocking: the
 * answer is tiny and the socket new, so one non-blocking write is
 * enough. */
static void
server_refuse_err(struct server *s, int fd, const struct proto_err *err)
{
	json_t *msg;
	char *buf;
	size_t len;

	s->refused++;
	msg = proto_rpc_error(NULL, err);
	if (msg != NULL && (buf = proto_rpc_encode(msg, &len)) != NULL) {
		if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("refused connection: %s", strerror(errno));
		free(buf);
	}
	json_decref(msg);
	server_linger(s, fd);
}

/* Over the connection limit: say so, then hang up. */
static void
server_refuse(struct server *s, int fd)
{
	struct proto_err err;

	proto_errf(&err, PROTO_LIMIT,
	    "too many connections (limit %zu, "
	    "--max-connections)",
	    s->d->cfg.max_connections);
	server_refuse_err(s, fd, &err);
}

/* Refuses (and closes) a peer that may not control the daemon. */
static int
server_peer_check(struct server *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct proto_err err;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("SO_PEERCRED");
		close(fd);
		return -1;
	}
	if (server_access_check(cred.uid, cred.gid, geteuid(), s->have_group,
	        s->group, s->group_name, &err) == 0)
		return 0;
	log_warnx("refused pid %ld: %s", (long)cred.pid, err.message);
	server_refuse_err(s, fd, &err);
	return -1;
}

static void
server_out_of_fds(struct server *s)
{
	struct timeval tv = { 0, 100 * 1000 };
	int fd;

	/* Spend the reserve to take the pending connection off the queue,
	 * then stop accepting for a moment instead of spinning on EMFILE. */
	/* Once per episode: it repeats every 100ms while it lasts. */
	if (!s->out_of_fds)
		log_warnx("out of file descriptors; pausing accept for 100ms "
		          "at a time until some are free");
	s->out_of_fds = true;
	if (s->reserve_fd != -1) {
		close(s->reserve_fd);
		s->reserve_fd = -1;
		if ((fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC)) != -1)
			close(fd);
	}
	event_del(s->accept_ev);
	event_add(s->resume_ev, &tv);
}

static void
server_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (s->reserve_fd == -1)
		s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!s->d->stopping)
		event_add(s->accept_ev, NULL);
}

static void
server_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;
	struct conn *c;
	int fd, i;

	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				server_out_of_fds(s);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (server_peer_check(s, fd) == -1)
			continue;
		if (s->nconns >= s->d->cfg.max_connections) {
			server_refuse(s, fd);
			continue;
		}
		if ((c = conn_new(s->d, s, fd)) == NULL) {
			log_warnx("out of memory for a connection");
			continue;
		}
		LIST_INSERT_HEAD(&s->conns, c, entry);
		s->nconns++;
		s->accepted++;
		s->out_of_fds = false;
	}
}

static void
server_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	server_reap(arg);
}

void
server_conn_dead(struct server *s, struct conn *c)
{
	LIST_REMOVE(c, entry);
	LIST_INSERT_HEAD(&s->dead, c, entry);
	s->nconns--;
	event_active(s->reap_ev, 0, 0);
}

int
server_output_empty(const struct server *s)
{
	const struct conn *c;

	LIST_FOREACH(c, &s->conns, entry)
		if (!conn_output_empty(c))
			return 0;
	return 1;
}
