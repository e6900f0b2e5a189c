/*
 * The `health` field of exec specs (spec-health.h): parsing, with numeric
 * addresses only, and the way back to JSON, copies and comparison.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "spec-health.h"
#include "spec.h"

const char *const spec_health_kind_names[] = {
	"exec",
	"http",
	"tcp",
	NULL,
};

static const char *const spec_health_fields[] = {
	"exec",
	"http",
	"tcp",
	"interval_ms",
	"timeout_ms",
	"failures",
	"start_grace_ms",
	NULL,
};

#define SPEC_HEALTH_PATH_MAX 2048

/* A message about a field of the health object names it as
 * "health.FIELD", so a child's error reads children[2].health.FIELD. */
static int
health_err_prefix(struct proto_err *err)
{
	char old[PROTO_ERR_MESSAGE_MAX];

	if (err == NULL || strncmp(err->message, "field \"", 7) != 0 ||
	    strncmp(err->message, "field \"health", 13) == 0)
		return -1;
	memcpy(old, err->message, sizeof old);
	old[sizeof old - 1] = '\0';
	/* Cut to fit: the field's name comes first, so it stays. */
	old[sizeof old - 8] = '\0';
	snprintf(err->message, sizeof err->message, "field \"health.%.240s",
	    old + 7);
	return -1;
}

static int
health_bad(struct proto_err *err, const char *field, const char *fmt,
    const char *got)
{
	return proto_errf(err, PROTO_INVALID_PARAMS,
	    "field \"health.%s\" %s, got \"%.80s\"", field, fmt, got);
}

/* HOST is an IPv4 literal, [IPv6] literal or localhost; copies its
 * numeric form into h->host. s..end is the host as written. */
static int
health_host(struct spec_health *h, const char *s, size_t len)
{
	char buf[SPEC_HEALTH_HOST_MAX];
	unsigned char addr[16];

	if (len == 9 && strncmp(s, "localhost", 9) == 0) {
		strcpy(h->host, "127.0.0.1");
		return 0;
	}
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		if (len - 2 >= sizeof buf)
			return -1;
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1)
			return -1;
	} else {
		if (len >= sizeof buf)
			return -1;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET, buf, addr) != 1)
			return -1;
	}
	strcpy(h->host, buf);
	return 0;
}

static int
health_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "HOST:PORT" or, with http, "HOST[:PORT]"; the host's end is the last
 * ':' outside brackets. */
static int
health_authority(struct spec_health *h, const char *s, size_t len,
    bool need_port)
{
	size_t hostlen = len;
	const char *colon = NULL;

	for (size_t i = len; i > 0; i--) {
		if (s[i - 1] == ']')
			break;
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	}
	h->port = 80;
	if (colon != NULL) {
		hostlen = (size_t)(colon - s);
		if (health_port(colon + 1, len - hostlen - 1, &h->port) == -1)
			return -1;
	} else if (need_port) {
		return -1;
	}
	return health_host(h, s, hostlen);
}

static int
health_parse_http(struct spec_health *h, const char *url, struct proto_err *err)
{
	const char *auth, *end;
	const char *msg = "must be a URL http://HOST[:PORT]/PATH where HOST is "
	                  "an IP address or localhost (arbord does no DNS "
	                  "lookup)";

	if (strncmp(url, "https://", 8) == 0)
		return health_bad(err, "http",
		    "must be plain http://; HTTPS is not supported", url);
	if (strncmp(url, "http://", 7) != 0)
		return health_bad(err, "http", msg, url);
	auth = url + 7;
	end = auth + strcspn(auth, "/?#");
	if (health_authority(h, auth, (size_t)(end - auth), false) == -1)
		return health_bad(err, "http", msg, url);
	if (*end == '#')
		end = "";
	if (strlen(end) > SPEC_HEALTH_PATH_MAX)
		return health_bad(err, "http", "has a path that is too long",
		    url);
	for (const char *p = end; *p != '\0' && *p != '#'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return health_bad(err, "http",
			    "must not contain spaces or control characters",
			    url);
	if (*end == '?')
		h->path = malloc(strcspn(end, "#") + 2);
	else
		h->path = malloc(strcspn(end, "#") + 1);
	if (h->path == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (*end == '?' || *end == '\0' || *end == '#')
		sprintf(h->path, "/%.*s", (int)strcspn(end, "#"), end);
	else
		sprintf(h->path, "%.*s", (int)strcspn(end, "#"), end);
	return 0;
}

static int
health_parse_argv(struct spec_health *h, const json_t *argv,
    struct proto_err *err)
{
	size_t i, n;
	json_t *arg;

	if (!json_is_array(argv) || (n = json_array_size(argv)) == 0)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"health.exec\" must be a non-empty array of "
		    "strings");
	if (n > SPEC_ARGV_MAX)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"health.exec\" has more than %d arguments",
		    SPEC_ARGV_MAX);
	if ((h->argv = calloc(n + 1, sizeof *h->argv)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	json_array_foreach(argv, i, arg) {
		if (!json_is_string(arg) ||
		    strlen(json_string_value(arg)) != json_string_length(arg) ||
		    json_string_length(arg) > SPEC_STRING_MAX ||
		    (i == 0 && json_string_length(arg) == 0))
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"health.exec\" must be an array of "
			    "strings without NUL, starting with a program; "
			    "element %zu is not",
			    i);
		if ((h->argv[i] = strdup(json_string_value(arg))) == NULL)
			return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	return 0;
}

static int
health_parse_kind(struct spec_health *h, const json_t *obj,
    struct proto_err *err)
{
	const char *s = NULL;
	json_t *v;
	int found = 0;

	for (int k = 0; k < HEALTH__KINDS; k++)
		if (json_object_get(obj, spec_health_kind_names[k]) != NULL) {
			h->kind = (uint8_t)k;
			found++;
		}
	if (found != 1)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"health\" must have exactly one of \"exec\", "
		    "\"http\" or \"tcp\"");
	if (h->kind == HEALTH_EXEC)
		return health_parse_argv(h, json_object_get(obj, "exec"), err);
	v = json_object_get(obj, spec_health_kind_names[h->kind]);
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    json_string_length(v) > SPEC_HEALTH_PATH_MAX + 128)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"health.%s\" must be a non-empty string",
		    spec_health_kind_names[h->kind]);
	s = json_string_value(v);
	if ((h->target = strdup(s)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (h->kind == HEALTH_HTTP)
		return health_parse_http(h, s, err);
	if (health_authority(h, s, strlen(s), true) == -1)
		return health_bad(err, "tcp",
		    "must be HOST:PORT where HOST is an IP address ([::1] for "
		    "IPv6) or localhost (arbord does no DNS lookup)",
		    s);
	return 0;
}

static int
health_parse_times(struct spec_health *h, const json_t *obj,
    struct proto_err *err)
{
	int64_t failures = SPEC_HEALTH_FAILURES;

	if (proto_get_ms(obj, "interval_ms", false, &h->interval_ms, err) !=
	        0 ||
	    proto_get_ms(obj, "timeout_ms", false, &h->timeout_ms, err) != 0 ||
	    proto_get_ms(obj, "start_grace_ms", false, &h->start_grace_ms,
	        err) != 0 ||
	    proto_get_int(obj, "failures", false, 1, SPEC_HEALTH_FAILURES_MAX,
	        &failures, err) != 0)
		return health_err_prefix(err);
	h->failures = (uint32_t)failures;
	if (h->interval_ms < SPEC_HEALTH_MIN_MS)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"health.interval_ms\" must be at least %d",
		    SPEC_HEALTH_MIN_MS);
	if (h->timeout_ms < 1)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"health.timeout_ms\" must be at least 1");
	return 0;
}

int
spec_health_parse(const json_t *obj, struct spec_health **out,
    struct proto_err *err)
{
	json_t *v = json_object_get(obj, "health");
	struct spec_health *h;

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"health\" must be an object like {\"http\": "
		    "\"http://127.0.0.1:8080/health\"}");
	if (proto_fields_check(v, "health", spec_health_fields, err) != 0)
		return health_err_prefix(err);
	if ((h = calloc(1, sizeof *h)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	h->interval_ms = SPEC_HEALTH_INTERVAL_MS;
	h->timeout_ms = SPEC_HEALTH_TIMEOUT_MS;
	h->failures = SPEC_HEALTH_FAILURES;
	if (health_parse_kind(h, v, err) != 0 ||
	    health_parse_times(h, v, err) != 0) {
		spec_health_free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void
spec_health_free(struct spec_health *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; h->argv != NULL && h->argv[i] != NULL; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h->target);
	free(h->path);
	free(h);
}

int
spec_health_to_json(const struct spec_health *h, json_t *obj)
{
	json_t *o, *v;

	if (h == NULL)
		return 0;
	if ((o = json_object()) == NULL ||
	    json_object_set_new(obj, "health", o) != 0)
		return -1;
	if (h->kind == HEALTH_EXEC) {
		if ((v = json_array()) == NULL ||
		    json_object_set_new(o, "exec", v) != 0)
			return -1;
		for (size_t i = 0; h->argv[i] != NULL; i++)
			if (json_array_append_new(v, json_string(h->argv[i])) !=
			    0)
				return -1;
	} else if (json_object_set_new(o, spec_health_kind_names[h->kind],
	               json_string(h->target)) != 0) {
		return -1;
	}
	if (json_object_set_new(o, "interval_ms",
	        json_integer(h->interval_ms)) != 0 ||
	    json_object_set_new(o, "timeout_ms", json_integer(h->timeout_ms)) !=
	        0 ||
	    json_object_set_new(o, "failures", json_integer(h->failures)) !=
	        0 ||
	    json_object_set_new(o, "start_grace_ms",
	        json_integer(h->start_grace_ms)) != 0)
		return -1;
	return 0;
}

int
spec_health_dup(const struct spec_health *h, struct spec_health **out)
{
	struct spec_health *c;
	size_t n = 0;

	*out = NULL;
	if (h == NULL)
		return 0;
	if ((c = malloc(sizeof *c)) == NULL)
		return -1;
	*c = *h;
	c->argv = NULL;
	c->target = c->path = NULL;
	if (h->argv != NULL) {
		while (h->argv[n] != NULL)
			n++;
		if ((c->argv = calloc(n + 1, sizeof *c->argv)) == NULL)
			goto fail;
		for (size_t i = 0; i < n; i++)
			if ((c->argv[i] = strdup(h->argv[i])) == NULL)
				goto fail;
	}
	if ((h->target != NULL && (c->target = strdup(h->target)) == NULL) ||
	    (h->path != NULL && (c->path = strdup(h->path)) == NULL))
		goto fail;
	*out = c;
	return 0;
fail:
	spec_health_free(c);
	return -1;
}

static bool
health_str_equal(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
spec_health_equal(const struct spec_health *a, const struct spec_health *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->kind != b->kind || a->interval_ms != b->interval_ms ||
	    a->timeout_ms != b->timeout_ms ||
	    a->start_grace_ms != b->start_grace_ms ||
	    a->failures != b->failures ||
	    !health_str_equal(a->target, b->target))
		return false;
	for (i = 0; a->argv != NULL && a->argv[i] != NULL; i++)
		if (b->argv == NULL ||
		    !health_str_equal(a->argv[i], b->argv[i]))
			return false;
	return a->argv == NULL || b->argv[i] == NULL;
}
