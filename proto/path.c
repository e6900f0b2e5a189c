/*
 * Node names and paths: the one place that says what a valid name or path
 * is, and how to walk one.
 */
#include <string.h>

#include "path.h"

static int
proto_name_char(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-');
}

/* Why s[0..len) is not a name, or NULL when it is one. */
static const char *
proto_name_problem(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return ("is empty");
	if (len > PROTO_NAME_MAX)
		return ("is longer than 64 characters");
	if ((len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return ("is reserved; \".\" and \"..\" are not names");
	for (i = 0; i < len; i++) {
		if (!proto_name_char((unsigned char)s[i]))
			return ("has a character other than A-Z a-z 0-9 _ . -");
	}
	return (NULL);
}

bool
proto_name_valid(const char *s, size_t len)
{
	return (s != NULL && proto_name_problem(s, len) == NULL);
}

int
proto_name_check(const char *s, const char *what, struct proto_err *err)
{
	const char *problem;

	if (s == NULL)
		return (proto_errf(err, PROTO_INVALID_PARAMS, "%s is missing",
		    what));
	problem = proto_name_problem(s, strlen(s));
	if (problem != NULL)
		return (proto_errf(err, PROTO_INVALID_PARAMS, "%s \"%.80s\" %s",
		    what, s, problem));
	return (0);
}

int
proto_path_check(const char *path, const char *what, struct proto_err *err)
{
	const char *p, *slash, *problem;
	size_t len, n, depth;

	if (path == NULL)
		return (proto_errf(err, PROTO_INVALID_PARAMS, "%s is missing",
		    what));
	len = strlen(path);
	if (len == 0)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s is empty; a path starts with \"/\"", what));
	if (len > PROTO_PATH_MAX)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s is longer than %d bytes", what, PROTO_PATH_MAX));
	if (path[0] != '/')
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s \"%.80s\" does not start with \"/\"", what, path));
	if (len == 1)
		return (0);
	if (path[len - 1] == '/')
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s \"%.80s\" ends with \"/\"", what, path));

	depth = 0;
	for (p = path + 1; *p != '\0'; p += n + (p[n] == '/')) {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "%s \"%.80s\" has an empty component", what, path));
		if (++depth > PROTO_DEPTH_MAX)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "%s \"%.80s\" is deeper than %d levels", what, path,
			    PROTO_DEPTH_MAX));
		problem = proto_name_problem(p, n);
		if (problem != NULL)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "%s \"%.80s\": component \"%.*s\" %s", what, path,
			    (int)(n > 80 ? 80 : n), p, problem));
	}
	return (0);
}

const char *
proto_path_next(const char *path, size_t *pos, size_t *len)
{
	const char *p, *slash;

	p = path + *pos;
	while (*p == '/')
		p++;
	if (*p == '\0') {
		*pos = (size_t)(p - path);
		*len = 0;
		return (NULL);
	}
	slash = strchr(p, '/');
	*len = slash != NULL ? (size_t)(slash - p) : strlen(p);
	*pos = (size_t)(p - path) + *len;
	return (p);
}
