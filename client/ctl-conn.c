/* arborctl's connection to arbord: the socket path, requests out, framed
 * responses in, matched to their requests by id. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"
#include "jsonrpc.h"
#include "ctl.h"
#include "trust.h"

/* Requests in flight at once when a command sends many: enough to hide
 * the round trips, few enough that neither side's buffers fill up while
 * the other is not reading. */
#define CONN_WINDOW 64

#define CONN_READ_MIN 65536

static bool
conn_is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* PROTOCOL.md's order: -s, $ARBOR_SOCKET, then by user. */
static void
conn_resolve(struct ctl *c)
{
	char fallback[sizeof c->socket_buf];
	const char *env;
	int n;

	if (c->socket != NULL)
		return;
	if ((env = getenv("ARBOR_SOCKET")) != NULL && *env != '\0') {
		c->socket = env;
		return;
	}
	if (geteuid() == 0) {
		c->socket = "/run/arbor/arbord.sock";
		return;
	}
	snprintf(fallback, sizeof fallback, "/tmp/arbor-%lu/arbord.sock",
	    (unsigned long)getuid());
	env = getenv("XDG_RUNTIME_DIR");
	if (env == NULL || *env != '/') {
		memcpy(c->socket_buf, fallback, sizeof c->socket_buf);
		c->socket = c->socket_buf;
		return;
	}
	n = snprintf(c->socket_buf, sizeof c->socket_buf,
	    "%s/arbor/arbord.sock", env);
	c->socket = c->socket_buf;
	/*
	 * A daemon that could not use $XDG_RUNTIME_DIR listens on the
	 * fallback; follow it there, but only when that is the one socket
	 * that exists, so errors still name the usual place.
	 */
	if (n < 0 || (size_t)n >= sizeof c->socket_buf ||
	    (!conn_is_socket(c->socket_buf) && conn_is_socket(fallback)))
		memcpy(c->socket_buf, fallback, sizeof c->socket_buf);
}

/* Requests carry secrets (env): a socket, or a directory holding it,
 * that another user made or can replace is refused, as arbord refuses
 * such a directory. What does not exist is left to connect to report. */
static int
conn_trusted(const char *path)
{
	char dir[PATH_MAX];
	struct proto_err err;
	struct stat st;
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		slash[slash == dir ? 1 : 0] = '\0';
		if (lstat(dir, &st) == 0 &&
		    proto_trust_check(&st, geteuid(), true, "socket directory",
		        dir, &err) == -1)
			goto refuse;
	}
	if (lstat(path, &st) == 0 &&
	    proto_trust_check(&st, geteuid(), false, "socket", path, &err) ==
	        -1)
		goto refuse;
	return 0;
refuse:
	fprintf(stderr, "arborctl: %s\n", err.message);
	return -1;
}

static int
conn_open(struct ctl *c)
{
	struct sockaddr_un sun;
	size_t len;
	int fd, e;

	if (c->fd != -1)
		return 0;
	conn_resolve(c);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	len = strlen(c->socket);
	if (len >= sizeof sun.sun_path) {
		fprintf(stderr, "arborctl: socket path is too long: %s\n",
		    c->socket);
		return CTL_EXIT_USAGE;
	}
	memcpy(sun.sun_path, c->socket, len + 1);

	if (conn_trusted(c->socket) == -1)
		return CTL_EXIT_NODAEMON;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "arborctl: socket: %s\n", strerror(errno));
		return CTL_EXIT_NODAEMON;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
			fprintf(stderr, "arborctl: no daemon at %s\n",
			    c->socket);
		else
			fprintf(stderr, "arborctl: cannot connect to %s: %s\n",
			    c->socket, strerror(e));
		return CTL_EXIT_NODAEMON;
	}
	if (c->early == NULL && (c->early = json_object()) == NULL) {
		close(fd);
		return ctl_oom();
	}
	c->fd = fd;
	return 0;
}

void
ctl_close(struct ctl *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->off = c->len = c->size = 0;
	json_decref(c->early);
	c->early = NULL;
}

/* doing: "sending to", "reading from"; e: errno, 0 for end of file. */
static int
conn_gone(struct ctl *c, const char *doing, int e)
{
	fflush(stdout);
	if (e == 0 || e == EPIPE || e == ECONNRESET)
		fprintf(stderr,
		    "arborctl: the daemon at %s closed the "
		    "connection before answering\n",
		    c->socket);
	else
		fprintf(stderr, "arborctl: %s the daemon at %s: %s\n", doing,
		    c->socket, strerror(e));
	return CTL_EXIT_NODAEMON;
}

/* params is stolen, whatever happens. */
int
ctl_send(struct ctl *c, const char *method, json_t *params, json_int_t *id)
{
	json_t *msg;
	int rc;

	if ((rc = conn_open(c)) != 0) {
		json_decref(params);
		return rc;
	}
	*id = c->next_id++;
	if ((msg = proto_rpc_call(*id, method, params)) == NULL)
		return ctl_oom();
	rc = ctl_send_json(c, msg);
	json_decref(msg);
	return rc;
}

/* The next message from the daemon, blank lines skipped. */
static int
conn_next(struct ctl *c, json_t **out)
{
	struct proto_err err;
	enum proto_frame_status st;
	size_t line_len, consumed, size;
	ssize_t n;
	char *p;

	for (;;) {
		/* No buffer yet: NULL + 0 is undefined behaviour. */
		st = c->buf == NULL ?
		    PROTO_FRAME_MORE :
		    proto_frame_next(&c->framer, c->buf + c->off, c->len,
		        &line_len, &consumed);
		if (st == PROTO_FRAME_LINE) {
			p = c->buf + c->off;
			c->off += consumed;
			c->len -= consumed;
			if (line_len == 0)
				continue;
			proto_err_clear(&err);
			if ((*out = proto_rpc_decode(p, line_len, &err)) ==
			    NULL) {
				fflush(stdout);
				fprintf(stderr,
				    "arborctl: %s sent something "
				    "that is not JSON-RPC: %s\n",
				    c->socket, err.message);
				return CTL_EXIT_NODAEMON;
			}
			return 0;
		}
		if (st == PROTO_FRAME_TOO_LARGE) {
			fflush(stdout);
			fprintf(stderr,
			    "arborctl: %s sent a message too large "
			    "to read\n",
			    c->socket);
			return CTL_EXIT_NODAEMON;
		}

		/* Room to read: slide what is left to the front, then grow. */
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len);
			c->off = 0;
		}
		if (c->size - c->len < CONN_READ_MIN / 2) {
			size = c->size < CONN_READ_MIN ? CONN_READ_MIN :
			                                 c->size * 2;
			if ((p = realloc(c->buf, size)) == NULL)
				return ctl_oom();
			c->buf = p;
			c->size = size;
		}
		n = read(c->fd, c->buf + c->len, c->size - c->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return conn_gone(c, "reading from", errno);
		if (n == 0)
			return conn_gone(c, "reading from", 0);
		c->len += (size_t)n;
	}
}

int
ctl_next(struct ctl *c, json_t **out)
{
	return conn_next(c, out);
}

int
ctl_send_json(struct ctl *c, const json_t *msg)
{
	char *buf;
	size_t len, done = 0;
	ssize_t n;
	int rc;

	if ((rc = conn_open(c)) != 0)
		return rc;
	if ((buf = proto_rpc_encode(msg, &len)) == NULL)
		return ctl_oom();
	while (done < len) {
		/* MSG_NOSIGNAL: a daemon that went away is an error to
		 * report, not a SIGPIPE that kills us silently. */
		n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = conn_gone(c, "sending to", errno);
			free(buf);
			return rc;
		}
		done += (size_t)n;
	}
	free(buf);
	return 0;
}

/* The response to request id; others that arrive first wait in c->early
 * (answers to pipelined requests may come in any order). */
int
ctl_recv(struct ctl *c, json_int_t id, json_t **out)
{
	char key[32], other[32];
	json_t *msg, *mid;
	int rc;

	snprintf(key, sizeof key, "%lld", (long long)id);
	if ((msg = json_object_get(c->early, key)) != NULL) {
		*out = json_incref(msg);
		json_object_del(c->early, key);
		return 0;
	}
	for (;;) {
		if ((rc = conn_next(c, &msg)) != 0)
			return rc;
		/* Notifications (events) and batch answers are not ours. */
		if (!json_is_object(msg) ||
		    json_object_get(msg, "method") != NULL) {
			json_decref(msg);
			continue;
		}
		mid = json_object_get(msg, "id");
		if (json_is_integer(mid) && json_integer_value(mid) == id) {
			*out = msg;
			return 0;
		}
		/* An error with a null id answers a request the daemon could
		 * not read; the one we wait for is the best guess. */
		if ((mid == NULL || json_is_null(mid)) &&
		    json_object_get(msg, "error") != NULL) {
			*out = msg;
			return 0;
		}
		if (json_is_integer(mid) && json_integer_value(mid) > 0 &&
		    json_integer_value(mid) < c->next_id) {
			snprintf(other, sizeof other, "%lld",
			    (long long)json_integer_value(mid));
			json_object_set(c->early, other, msg);
		}
		json_decref(msg);
	}
}

/* Says what the daemon's error was: the message on stderr, the error
 * object on stdout for --json. */
int
ctl_report_error(struct ctl *c, const json_t *msg)
{
	const json_t *err, *code;
	const char *text;

	err = json_object_get(msg, "error");
	if (!json_is_object(err)) {
		fflush(stdout);
		fprintf(stderr,
		    "arborctl: %s answered with neither a result "
		    "nor an error\n",
		    c->socket);
		return CTL_EXIT_ERROR;
	}
	if (c->json)
		ctl_json_print(c, err);
	fflush(stdout);
	code = json_object_get(err, "code");
	text = json_string_value(json_object_get(err, "message"));
	fputs("arborctl: ", stderr);
	if (text != NULL && *text != '\0')
		ctl_put_safe(stderr, text, strlen(text));
	else
		fprintf(stderr, "the daemon answered with error %lld",
		    (long long)json_integer_value(code));
	fputc('\n', stderr);
	if (json_is_integer(code) && json_integer_value(code) == PROTO_TIMEOUT)
		return CTL_EXIT_TIMEOUT;
	return CTL_EXIT_ERROR;
}

/* The result of a response, borrowed from msg; NULL after reporting the
 * error. *rc is the exit status either way. */
json_t *
ctl_result(struct ctl *c, json_t *msg, int *rc)
{
	json_t *result;

	if ((result = json_object_get(msg, "result")) != NULL) {
		*rc = CTL_EXIT_OK;
		return result;
	}
	*rc = ctl_report_error(c, msg);
	return NULL;
}

/* One request, its answer. params is stolen; *result is a new reference
 * when the exit status is 0. */
int
ctl_call(struct ctl *c, const char *method, json_t *params, json_t **result)
{
	json_t *msg, *r;
	json_int_t id;
	int rc;

	*result = NULL;
	if ((rc = ctl_send(c, method, params, &id)) != 0)
		return rc;
	if ((rc = ctl_recv(c, id, &msg)) != 0)
		return rc;
	if ((r = ctl_result(c, msg, &rc)) != NULL)
		*result = json_incref(r);
	json_decref(msg);
	return rc;
}

/* One request whose result is a node view, printed as JSON or as a row.
 * params is stolen. */
int
ctl_call_view(struct ctl *c, const char *method, json_t *params)
{
	json_t *view;
	int rc;

	if ((rc = ctl_call(c, method, params, &view)) != 0)
		return rc;
	if (c->json)
		ctl_json_print(c, view);
	else
		ctl_print_views(c, &view, 1);
	json_decref(view);
	return CTL_EXIT_OK;
}

/*
 * n requests of one method, pipelined: replies[i] is the whole response to
 * params[i] (new references), NULL for those never answered. Every params
 * is stolen. Returns 0 once all are answered, else the connection's exit
 * status (already reported); errors inside replies are the caller's.
 */
int
ctl_call_many(struct ctl *c, const char *method, json_t **params, size_t n,
    json_t **replies)
{
	json_int_t *ids;
	size_t sent = 0, got = 0, i;
	int rc = 0;

	for (i = 0; i < n; i++)
		replies[i] = NULL;
	if ((ids = calloc(n > 0 ? n : 1, sizeof *ids)) == NULL) {
		for (i = 0; i < n; i++)
			json_decref(params[i]);
		return ctl_oom();
	}
	while (got < n) {
		if (sent < n && sent - got < CONN_WINDOW) {
			rc = ctl_send(c, method, params[sent], &ids[sent]);
			params[sent++] = NULL;
		} else {
			rc = ctl_recv(c, ids[got], &replies[got]);
			got++;
		}
		if (rc != 0)
			break;
	}
	for (i = sent; i < n; i++)
		json_decref(params[i]);
	free(ids);
	return rc;
}

/*
 * ctl_call_many, then every reply printed in order (views: results as a
 * table of nodes; else only --json shows them). The params are stolen, the
 * array stays the caller's. Returns the first failing exit status.
 */
int
ctl_call_each(struct ctl *c, const char *method, json_t **params, size_t n,
    bool views)
{
	json_t **replies;
	size_t i;
	int rc, printed;

	if ((replies = calloc(n > 0 ? n : 1, sizeof *replies)) == NULL) {
		for (i = 0; i < n; i++)
			json_decref(params[i]);
		return ctl_oom();
	}
	rc = ctl_call_many(c, method, params, n, replies);
	/* What did come back is shown even when the connection broke. */
	printed = ctl_print_replies(c, replies, n, views);
	if (rc == CTL_EXIT_OK)
		rc = printed;
	for (i = 0; i < n; i++)
		json_decref(replies[i]);
	free(replies);
	return rc;
}

/* method {"path": P} for each of the paths, checked before any is sent. */
int
ctl_call_paths(struct ctl *c, const char *method, int argc, char **argv,
    bool views)
{
	json_t **params;
	int i, rc;

	for (i = 0; i < argc; i++) {
		if ((rc = ctl_path_arg(c, &argv[i])) != 0)
			return rc;
	}
	if ((params = calloc(argc > 0 ? (size_t)argc : 1, sizeof *params)) ==
	    NULL)
		return ctl_oom();
	for (i = 0; i < argc; i++)
		params[i] = json_pack("{s:s}", "path", argv[i]);
	rc = ctl_call_each(c, method, params, (size_t)argc, views);
	free(params);
	return rc;
}
