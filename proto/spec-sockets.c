/*
 * The `sockets` field: parsing (addresses turned into sockaddrs here, so a
 * typo is invalid_params and never a failed start), copies, the way back
 * to JSON and comparison. Every value is stored as it takes effect, the
 * defaults filled in, so a spec read back from spec_to_json (the state
 * file) equals the one it was written from.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "fields.h"
#include "spec-sockets.h"

static const char *const sock_fields[] = {
	"name",
	"listen",
	"backlog",
	"reuse_port",
	"mode",
	"owner",
	"group",
	NULL,
};

static const char *const sock_type_names[] = { "tcp", "udp", "unix" };

bool
spec_fdname_valid(const char *name)
{
	const char *p;

	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 127 ||
		    *p == ':')
			return false;
	return p - name <= SPEC_FDNAME_MAX;
}

/* The listen text made a valid fdname: each ':' (the separator of
 * LISTEN_FDNAMES) and each byte systemd would refuse becomes '_'. */
static char *
sock_default_name(const char *listen)
{
	size_t len = strlen(listen);
	char *name;

	if (len > SPEC_FDNAME_MAX)
		len = SPEC_FDNAME_MAX;
	if ((name = malloc(len + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)listen[i];

		name[i] = c < ' ' || c >= 127 || c == ':' ? '_' : (char)c;
	}
	name[len] = '\0';
	return name;
}

static int
sock_bad_listen(const char *what, const char *listen, struct proto_err *err)
{
	return proto_errf(err, PROTO_INVALID_PARAMS,
	    "field \"%s\" must be \"tcp:HOST:PORT\", \"udp:HOST:PORT\" (HOST "
	    "an IPv4 address or an [IPv6] one) or \"unix:/PATH\" "
	    "(\"unix:@NAME\" abstract), got \"%.64s\"",
	    what, listen);
}

/* "HOST:PORT" with a numeric host: a.b.c.d or [v6]. */
static int
sock_parse_inet(const char *hp, struct spec_socket *s)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = hp;
	size_t hlen;
	unsigned long port;
	char *end;

	if (*hp == '[') {
		const char *rb = strchr(hp, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		h = hp + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(hp, ':')) == NULL)
			return -1;
		hlen = (size_t)(colon - hp);
	}
	if (hlen == 0 || hlen >= sizeof host)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return -1;
	memset(&s->addr, 0, sizeof s->addr);
	if (*hp == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s->addr;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -1;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		s->addrlen = sizeof *a6;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&s->addr;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -1;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		s->addrlen = sizeof *a4;
	}
	return 0;
}

/* "/path" or "@abstract" */
static int
sock_parse_unix(const char *p, struct spec_socket *s)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;
	size_t len = strlen(p);

	if ((p[0] != '/' && p[0] != '@') || len < 2 ||
	    len >= sizeof un->sun_path)
		return -1;
	memset(&s->addr, 0, sizeof s->addr);
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, p, len);
	if (p[0] == '@') {
		un->sun_path[0] = '\0';
		s->addrlen =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		s->addrlen = (socklen_t)(offsetof(struct sockaddr_un,
		                             sun_path) +
		    len + 1);
	}
	return 0;
}

static int
sock_parse_address(const char *what, const char *listen, struct spec_socket *s,
    struct proto_err *err)
{
	int rc = -1;

	if (strncmp(listen, "tcp:", 4) == 0) {
		s->type = SPEC_SOCK_TCP;
		rc = sock_parse_inet(listen + 4, s);
	} else if (strncmp(listen, "udp:", 4) == 0) {
		s->type = SPEC_SOCK_UDP;
		rc = sock_parse_inet(listen + 4, s);
	} else if (strncmp(listen, "unix:", 5) == 0) {
		s->type = SPEC_SOCK_UNIX;
		rc = sock_parse_unix(listen + 5, s);
	}
	return rc == 0 ? 0 : sock_bad_listen(what, listen, err);
}

static bool
sock_has_path(const struct spec_socket *s)
{
	return s->type == SPEC_SOCK_UNIX && s->listen[5] == '/';
}

static int
sock_parse_string(const json_t *o, const char *key, size_t i, char **out,
    struct proto_err *err)
{
	const char *v = NULL;
	char what[48];

	snprintf(what, sizeof what, "sockets[%zu].%s", i, key);
	if (proto_get_string(o, key, false, &v, err) != 0) {
		/* Say which entry: the reader named only the key. */
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be a string", what);
	}
	if (v == NULL)
		return 0;
	if (strlen(v) != json_string_length(json_object_get(o, key)) ||
	    v[0] == '\0' || strlen(v) > 4096)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be a non-empty string without NUL, of "
		    "at most 4096 bytes",
		    what);
	if ((*out = strdup(v)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	return 0;
}

static int
sock_parse_mode(const json_t *o, size_t i, struct spec_socket *s,
    struct proto_err *err)
{
	const json_t *m = json_object_get(o, "mode");
	const char *v;
	char *end;
	unsigned long mode;

	s->mode = sock_has_path(s) ? SPEC_SOCK_MODE_DEF : -1;
	if (m == NULL)
		return 0;
	v = json_is_string(m) ? json_string_value(m) : "";
	mode = strtoul(v, &end, 8);
	if (*v < '0' || *v > '7' || *end != '\0' || mode > 0777 ||
	    strlen(v) > 4)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"sockets[%zu].mode\" must be an octal string like "
		    "\"0660\", at most \"0777\"",
		    i);
	s->mode = (int)mode;
	return 0;
}

/* Fields that apply to some types only are refused on the others. */
static int
sock_check_applies(const json_t *o, size_t i, const struct spec_socket *s,
    struct proto_err *err)
{
	static const char *const path_only[] = { "mode", "owner", "group" };
	const char *type = sock_type_names[s->type];

	for (size_t k = 0; k < 3; k++)
		if (json_object_get(o, path_only[k]) != NULL &&
		    !sock_has_path(s))
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"sockets[%zu].%s\" applies to unix "
			    "sockets with a path only",
			    i, path_only[k]);
	if (json_object_get(o, "backlog") != NULL && s->type == SPEC_SOCK_UDP)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"sockets[%zu].backlog\" applies to stream "
		    "sockets (tcp, unix), not %s",
		    i, type);
	if (json_object_get(o, "reuse_port") != NULL &&
	    s->type == SPEC_SOCK_UNIX)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"sockets[%zu].reuse_port\" applies to tcp and udp "
		    "sockets, not %s",
		    i, type);
	return 0;
}

static int
sock_parse_one(const json_t *o, size_t i, struct spec_socket *s,
    struct proto_err *err)
{
	const char *listen = NULL, *name = NULL;
	int64_t backlog = SOMAXCONN;
	char what[48];

	s->mode = -1;
	snprintf(what, sizeof what, "sockets[%zu]", i);
	if (!json_is_object(o))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be an object with \"listen\"", what);
	if (proto_fields_check(o, what, sock_fields, err) != 0)
		return -1;
	snprintf(what, sizeof what, "sockets[%zu].listen", i);
	if (proto_get_string(o, "listen", false, &listen, err) != 0 ||
	    listen == NULL)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be a string like \"tcp:127.0.0.1:8080\"",
		    what);
	if (strlen(listen) != json_string_length(json_object_get(o, "listen")))
		return sock_bad_listen(what, "(with a NUL)", err);
	if ((s->listen = strdup(listen)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (sock_parse_address(what, listen, s, err) != 0)
		return -1;
	snprintf(what, sizeof what, "sockets[%zu].name", i);
	if (proto_get_string(o, "name", false, &name, err) != 0)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be a string", what);
	if (name != NULL &&
	    (strlen(name) != json_string_length(json_object_get(o, "name")) ||
	        !spec_fdname_valid(name)))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be printable ASCII without \":\", at "
		    "most %d bytes (it goes into LISTEN_FDNAMES)",
		    what, SPEC_FDNAME_MAX);
	s->name = name != NULL ? strdup(name) : sock_default_name(listen);
	if (s->name == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (sock_check_applies(o, i, s, err) != 0)
		return -1;
	if (s->type != SPEC_SOCK_UDP) {
		if (proto_get_int(o, "backlog", false, 1, SPEC_BACKLOG_MAX,
		        &backlog, err) != 0)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"sockets[%zu].backlog\" must be an integer "
			    "from 1 to %d",
			    i, SPEC_BACKLOG_MAX);
		s->backlog = (int)backlog;
	}
	if (proto_get_bool(o, "reuse_port", false, &s->reuse_port, err) != 0)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"sockets[%zu].reuse_port\" must be true or false",
		    i);
	if (sock_parse_mode(o, i, s, err) != 0 ||
	    sock_parse_string(o, "owner", i, &s->owner, err) != 0 ||
	    sock_parse_string(o, "group", i, &s->group, err) != 0)
		return -1;
	return 0;
}

int
spec_sockets_parse(const json_t *obj, struct spec_sockets **out,
    struct proto_err *err)
{
	const json_t *arr = json_object_get(obj, "sockets");
	struct spec_sockets *s;
	size_t n;

	*out = NULL;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"sockets\" must be an array of objects with "
		    "\"listen\"");
	if ((n = json_array_size(arr)) == 0)
		return 0;
	if (n > SPEC_SOCKETS_MAX)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"sockets\" has %zu sockets, more than %d", n,
		    SPEC_SOCKETS_MAX);
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->v = calloc(n, sizeof *s->v)) == NULL) {
		free(s);
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	*out = s;
	for (size_t i = 0; i < n; i++) {
		s->n++;
		if (sock_parse_one(json_array_get(arr, i), i, &s->v[i], err) !=
		    0)
			return -1;
		for (size_t k = 0; k < i; k++)
			if (strcmp(s->v[k].listen, s->v[i].listen) == 0)
				return proto_errf(err, PROTO_INVALID_PARAMS,
				    "field \"sockets[%zu].listen\" \"%.64s\" "
				    "is listed twice",
				    i, s->v[i].listen);
	}
	return 0;
}

static void
sock_clear(struct spec_socket *s)
{
	free(s->name);
	free(s->listen);
	free(s->owner);
	free(s->group);
}

void
spec_sockets_free(struct spec_sockets *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		sock_clear(&s->v[i]);
	free(s->v);
	free(s);
}

static int
sock_strdup(char **dst, const char *src)
{
	*dst = NULL;
	return src != NULL && (*dst = strdup(src)) == NULL ? -1 : 0;
}

struct spec_sockets *
spec_sockets_dup(const struct spec_sockets *s, bool *oom)
{
	struct spec_sockets *c;

	*oom = false;
	if (s == NULL)
		return NULL;
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->v = calloc(s->n, sizeof *c->v)) == NULL)
		goto fail;
	for (size_t i = 0; i < s->n; i++) {
		struct spec_socket *d = &c->v[i];

		*d = s->v[i];
		/* Borrowed until copied: a failure frees only copies. */
		d->name = d->listen = d->owner = d->group = NULL;
		c->n++;
		if (sock_strdup(&d->name, s->v[i].name) == -1 ||
		    sock_strdup(&d->listen, s->v[i].listen) == -1 ||
		    sock_strdup(&d->owner, s->v[i].owner) == -1 ||
		    sock_strdup(&d->group, s->v[i].group) == -1)
			goto fail;
	}
	return c;
fail:
	if (c != NULL && c->v == NULL) {
		free(c);
		c = NULL;
	}
	spec_sockets_free(c);
	*oom = true;
	return NULL;
}

static int
sock_set(json_t *o, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, key, v);
}

int
spec_sockets_to_json(const struct spec_sockets *s, json_t *obj)
{
	json_t *arr;

	if (s == NULL || s->n == 0)
		return 0;
	if ((arr = json_array()) == NULL ||
	    json_object_set_new(obj, "sockets", arr) != 0)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		const struct spec_socket *k = &s->v[i];
		json_t *o = json_object();
		char mode[8];

		if (o == NULL || json_array_append_new(arr, o) != 0 ||
		    sock_set(o, "name", json_string(k->name)) != 0 ||
		    sock_set(o, "listen", json_string(k->listen)) != 0 ||
		    (k->type != SPEC_SOCK_UDP &&
		        sock_set(o, "backlog", json_integer(k->backlog)) !=
		            0) ||
		    (k->type != SPEC_SOCK_UNIX &&
		        sock_set(o, "reuse_port",
		            json_boolean(k->reuse_port)) != 0))
			return -1;
		snprintf(mode, sizeof mode, "%04o", (unsigned)k->mode & 0777);
		if ((k->mode >= 0 &&
		        sock_set(o, "mode", json_string(mode)) != 0) ||
		    (k->owner != NULL &&
		        sock_set(o, "owner", json_string(k->owner)) != 0) ||
		    (k->group != NULL &&
		        sock_set(o, "group", json_string(k->group)) != 0))
			return -1;
	}
	return 0;
}

static bool
sock_str_equal(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
spec_sockets_equal(const struct spec_sockets *a, const struct spec_sockets *b)
{
	size_t na = a != NULL ? a->n : 0, nb = b != NULL ? b->n : 0;

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		const struct spec_socket *x = &a->v[i], *y = &b->v[i];

		if (strcmp(x->name, y->name) != 0 ||
		    strcmp(x->listen, y->listen) != 0 ||
		    x->backlog != y->backlog ||
		    x->reuse_port != y->reuse_port || x->mode != y->mode ||
		    !sock_str_equal(x->owner, y->owner) ||
		    !sock_str_equal(x->group, y->group))
			return false;
	}
	return true;
}
