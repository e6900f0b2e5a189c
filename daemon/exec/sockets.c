/*
 * Listening sockets held for nodes (sockets.h says who owns what): opening
 * them as systemd's socket units do (SO_REUSEADDR for tcp, SO_REUSEPORT
 * when asked, a stale unix socket file replaced, mode and owner set),
 * closing them, and lending copies to a worker's start.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "node.h"
#include "sockets.h"

struct sock_held {
	int fd;        /* owned */
	bool has_file; /* bound a path: removed when closed */
	dev_t dev;     /* the socket file bound, so only it is removed */
	ino_t ino;
};

struct sock_set {
	struct spec_sockets *spec; /* owned copy: what it was opened from */
	struct sock_held *v;       /* owned, spec->n of them */
};

/* --- opening ------------------------------------------------------------ */

static int __attribute__((format(printf, 3, 4)))
sock_fail(struct proto_err *err, int e, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	proto_errf(err, PROTO_SPAWN_FAILED, "cannot %s: %s", what, strerror(e));
	if (err != NULL)
		err->sys_errno = e;
	return -1;
}

/* A user or group name, or a number; -1 with *e set when unknown. */
static int
sock_resolve(const char *name, bool group, unsigned *id)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (group) {
		struct group *gr = getgrnam(name);

		if (gr != NULL) {
			*id = gr->gr_gid;
			return 0;
		}
	} else {
		struct passwd *pw = getpwnam(name);

		if (pw != NULL) {
			*id = pw->pw_uid;
			return 0;
		}
	}
	v = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && *end == '\0' &&
	    v < (unsigned)-1) {
		*id = (unsigned)v;
		return 0;
	}
	if (errno == 0)
		errno = ENOENT;
	return -1;
}

/* The directories above path, as a socket unit makes them (0755); a
 * failure shows in bind. */
static void
sock_mkdirs(const char *path)
{
	char buf[sizeof((struct sockaddr_un *)0)->sun_path];
	size_t len = strlen(path);

	if (len >= sizeof buf)
		return;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return;
		*p = '/';
	}
}

/* Removes a socket file nobody listens on any more, as a restarted
 * daemon finds its own; a live one is left for bind to refuse. */
static void
sock_unlink_stale(const struct spec_socket *s, const char *path)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode))
		return;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	         0)) == -1)
		return;
	rc = connect(fd, (const struct sockaddr *)&s->addr, s->addrlen);
	if (rc == -1 && errno == ECONNREFUSED)
		unlink(path);
	close(fd);
}

static int
sock_open_unix_file(const struct spec_socket *s, struct sock_held *h,
    struct proto_err *err)
{
	const char *path = s->listen + 5;
	unsigned uid = (unsigned)-1, gid = (unsigned)-1;
	struct stat st;
	mode_t old;
	int rc;

	if (s->owner != NULL && sock_resolve(s->owner, false, &uid) == -1)
		return sock_fail(err, errno, "find user \"%s\" for %s",
		    s->owner, s->listen);
	if (s->group != NULL && sock_resolve(s->group, true, &gid) == -1)
		return sock_fail(err, errno, "find group \"%s\" for %s",
		    s->group, s->listen);
	sock_mkdirs(path);
	sock_unlink_stale(s, path);
	/* The file is made with its mode: no moment where others could
	 * connect to it under a wider one. */
	old = umask((mode_t)(~s->mode & 0777));
	rc = bind(h->fd, (const struct sockaddr *)&s->addr, s->addrlen);
	umask(old);
	if (rc == -1)
		return sock_fail(err, errno, "bind %s", s->listen);
	if (lstat(path, &st) == 0) {
		h->has_file = true;
		h->dev = st.st_dev;
		h->ino = st.st_ino;
	}
	if ((uid != (unsigned)-1 || gid != (unsigned)-1) &&
	    lchown(path, (uid_t)uid, (gid_t)gid) == -1)
		return sock_fail(err, errno, "chown %s", s->listen);
	return 0;
}

static void
sock_close_held(const struct spec_socket *s, struct sock_held *h)
{
	struct stat st;

	if (h->fd == -1)
		return;
	/* Only the file this socket bound: a later one at the same path
	 * (another node's, another daemon's) stays. */
	if (h->has_file && lstat(s->listen + 5, &st) == 0 &&
	    st.st_dev == h->dev && st.st_ino == h->ino)
		unlink(s->listen + 5);
	close(h->fd);
	h->fd = -1;
	h->has_file = false;
}

static int
sock_open_one(const struct spec_socket *s, struct sock_held *h,
    struct proto_err *err)
{
	int type = s->type == SPEC_SOCK_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int one = 1;

	/* Blocking, as systemd passes them: the program decides. */
	if ((h->fd = socket(s->addr.ss_family, type | SOCK_CLOEXEC, 0)) == -1)
		return sock_fail(err, errno, "create a socket for %s",
		    s->listen);
	if (s->type == SPEC_SOCK_TCP &&
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
		return sock_fail(err, errno, "set SO_REUSEADDR on %s",
		    s->listen);
	if (s->reuse_port &&
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == -1)
		return sock_fail(err, errno, "set SO_REUSEPORT on %s",
		    s->listen);
	if (s->mode >= 0) {
		if (sock_open_unix_file(s, h, err) == -1)
			return -1;
	} else if (bind(h->fd, (const struct sockaddr *)&s->addr, s->addrlen) ==
	    -1) {
		return sock_fail(err, errno, "bind %s", s->listen);
	}
	if (type == SOCK_STREAM && listen(h->fd, s->backlog) == -1)
		return sock_fail(err, errno, "listen on %s", s->listen);
	return 0;
}

static void
sock_set_free(struct sock_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; set->v != NULL && i < set->spec->n; i++)
		sock_close_held(&set->spec->v[i], &set->v[i]);
	free(set->v);
	spec_sockets_free(set->spec);
	free(set);
}

/* -1 with err filled, located: "LOC.sockets[i]: cannot bind ...". */
static int
sock_set_open(const struct spec_sockets *list, const char *loc,
    struct sock_set **out, struct proto_err *err)
{
	struct sock_set *set;
	bool oom;

	*out = NULL;
	if (list == NULL || list->n == 0)
		return 0;
	if ((set = calloc(1, sizeof *set)) == NULL ||
	    (set->spec = spec_sockets_dup(list, &oom)) == NULL ||
	    (set->v = calloc(list->n, sizeof *set->v)) == NULL) {
		sock_set_free(set);
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < list->n; i++)
		set->v[i].fd = -1;
	for (size_t i = 0; i < list->n; i++) {
		if (sock_open_one(&list->v[i], &set->v[i], err) == -1) {
			proto_err_prefix(err, "%s%ssockets[%zu]", loc,
			    loc[0] != '\0' ? "." : "", i);
			sock_set_free(set);
			return -1;
		}
	}
	*out = set;
	return 0;
}

/* --- a subtree, at spawn ------------------------------------------------ */

static bool
sock_subtree_any(const struct node_spec *s)
{
	if (s->sockets != NULL && s->sockets->n > 0)
		return true;
	if (s->kind == KIND_SUPERVISOR)
		for (size_t i = 0; i < s->u.sup.nchildren; i++)
			if (sock_subtree_any(s->u.sup.children[i]))
				return true;
	return false;
}

/* Pre-order, as tree_link creates nodes; loc names the node in errors. */
static int
sock_subtree_walk(const struct node_spec *s, struct sock_set **v, size_t count,
    size_t *i, char *loc, size_t loclen, struct proto_err *err)
{
	size_t len = strlen(loc);

	if (*i >= count)
		return proto_errf(err, PROTO_INTERNAL, "spec count mismatch");
	if (sock_set_open(s->sockets, loc, &v[(*i)++], err) == -1)
		return -1;
	if (s->kind != KIND_SUPERVISOR)
		return 0;
	for (size_t k = 0; k < s->u.sup.nchildren; k++) {
		snprintf(loc + len, loclen - len, "%schildren[%zu]",
		    len > 0 ? "." : "", k);
		if (sock_subtree_walk(s->u.sup.children[k], v, count, i, loc,
		        loclen, err) == -1)
			return -1;
	}
	loc[len] = '\0';
	return 0;
}

int
sock_subtree_open(const struct node_spec *spec, size_t count,
    struct sock_set ***out, struct proto_err *err)
{
	struct sock_set **v;
	char loc[256] = "";
	size_t i = 0;

	*out = NULL;
	if (!sock_subtree_any(spec))
		return 0;
	if ((v = calloc(count, sizeof *v)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (sock_subtree_walk(spec, v, count, &i, loc, sizeof loc, err) == -1) {
		sock_subtree_free(v, count);
		return -1;
	}
	*out = v;
	return 0;
}

void
sock_subtree_free(struct sock_set **v, size_t count)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		sock_set_free(v[i]);
	free(v);
}

/* --- a node ----------------------------------------------------------- */

int
sock_node_open(struct node *n, struct proto_err *err)
{
	if (n->socks != NULL &&
	    spec_sockets_equal(n->socks->spec, n->spec->sockets))
		return 0;
	/* Closed first: the new list may bind the same addresses. */
	sock_node_close(n);
	return sock_set_open(n->spec->sockets, "", &n->socks, err);
}

void
sock_node_close(struct node *n)
{
	sock_set_free(n->socks);
	n->socks = NULL;
}

/* --- what a worker gets ------------------------------------------------- */

size_t
sock_pass_count(const struct node *n)
{
	size_t c = 0;

	for (; n != NULL; n = n->parent)
		if (n->socks != NULL)
			c += n->socks->spec->n;
	return c;
}

/* The sets from the outermost down to n. */
static size_t
sock_pass_chain(const struct node *n, const struct sock_set **chain)
{
	size_t depth = 0;

	for (; n != NULL; n = n->parent)
		if (n->socks != NULL)
			chain[depth++] = n->socks;
	return depth;
}

int
sock_pass_get(const struct node *n, int fd_min, struct sock_pass *p)
{
	const struct sock_set *chain[PROTO_DEPTH_MAX + 2];
	size_t total = sock_pass_count(n), namelen = 0, depth, k = 0;
	char *w;
	int e;

	memset(p, 0, sizeof *p);
	if (total == 0)
		return 0;
	depth = sock_pass_chain(n, chain);
	for (size_t d = 0; d < depth; d++)
		for (size_t i = 0; i < chain[d]->spec->n; i++)
			namelen += strlen(chain[d]->spec->v[i].name) + 1;
	if ((p->fds = malloc(total * sizeof *p->fds)) == NULL ||
	    (p->var_fds = malloc(32)) == NULL ||
	    (p->var_names = malloc(sizeof "LISTEN_FDNAMES=" + namelen)) == NULL)
		goto fail;
	snprintf(p->var_fds, 32, "LISTEN_FDS=%zu", total);
	w = p->var_names + strlen(strcpy(p->var_names, "LISTEN_FDNAMES="));
	for (size_t d = depth; d > 0; d--) {
		const struct sock_set *set = chain[d - 1];

		for (size_t i = 0; i < set->spec->n; i++) {
			/* Above the fds the child sets up, so its dup2s
			 * clobber none of them. */
			if ((p->fds[k] = fcntl(set->v[i].fd, F_DUPFD_CLOEXEC,
			         fd_min)) == -1)
				goto fail;
			p->n = ++k;
			w += strlen(strcpy(w, set->spec->v[i].name));
			if (k < total)
				*w++ = ':';
		}
	}
	*w = '\0';
	return 0;
fail:
	e = errno;
	sock_pass_free(p);
	errno = e;
	return -1;
}

void
sock_pass_free(struct sock_pass *p)
{
	for (size_t i = 0; i < p->n; i++)
		close(p->fds[i]);
	free(p->fds);
	free(p->var_fds);
	free(p->var_names);
	memset(p, 0, sizeof *p);
}
