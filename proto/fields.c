/*
 * Strict readers for the fields of a JSON object: each names the field and
 * the type it wanted, so a client can fix its request from the message.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "fields.h"

/* A short rendering of what the client sent, for "got ..." in messages. */
static const char *
proto_describe(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, size, "\"%.40s%s\"", json_string_value(v),
		    json_string_length(v) > 40 ? "..." : "");
		break;
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%.17g", json_real_value(v));
		/* 5.0 prints as "5": say it was not an integer. */
		if (strpbrk(buf, ".eEn") == NULL && strlen(buf) + 2 < size)
			strcat(buf, ".0");
		break;
	case JSON_TRUE:
		snprintf(buf, size, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "false");
		break;
	case JSON_NULL:
		snprintf(buf, size, "null");
		break;
	case JSON_OBJECT:
		snprintf(buf, size, "an object");
		break;
	case JSON_ARRAY:
	default:
		snprintf(buf, size, "an array");
		break;
	}
	return (buf);
}

int
proto_fields_check(const json_t *obj, const char *what,
    const char *const *allowed, struct proto_err *err)
{
	const char *key;
	json_t *value;
	char got[64];
	size_t i;

	if (!json_is_object(obj))
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s must be an object, got %s", what,
		    obj == NULL ? "nothing" :
		                  proto_describe(obj, got, sizeof got)));
	json_object_foreach((json_t *)obj, key, value) {
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], key) == 0)
				break;
		}
		if (allowed[i] == NULL)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "unknown field \"%.64s\" in %s", key, what));
	}
	return (0);
}

/* The value at key, or NULL: missing and not required (returns 0), or
 * missing and required (returns -1 with the error). */
static int
proto_get(const json_t *obj, const char *key, bool required, json_t **v,
    struct proto_err *err)
{
	*v = json_object_get(obj, key);
	if (*v == NULL && required)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "missing field \"%s\"", key));
	return (0);
}

static int
proto_type_error(const char *key, const char *want, const json_t *v,
    struct proto_err *err)
{
	char got[64];

	return (proto_errf(err, PROTO_INVALID_PARAMS,
	    "field \"%s\" must be %s, got %s", key, want,
	    proto_describe(v, got, sizeof got)));
}

int
proto_get_string(const json_t *obj, const char *key, bool required,
    const char **out, struct proto_err *err)
{
	json_t *v;

	if (proto_get(obj, key, required, &v, err) != 0)
		return (-1);
	if (v == NULL)
		return (0);
	if (!json_is_string(v))
		return (proto_type_error(key, "a string", v, err));
	*out = json_string_value(v);
	return (0);
}

int
proto_get_bool(const json_t *obj, const char *key, bool required, bool *out,
    struct proto_err *err)
{
	json_t *v;

	if (proto_get(obj, key, required, &v, err) != 0)
		return (-1);
	if (v == NULL)
		return (0);
	if (!json_is_boolean(v))
		return (proto_type_error(key, "true or false", v, err));
	*out = json_is_true(v);
	return (0);
}

int
proto_get_int(const json_t *obj, const char *key, bool required, int64_t min,
    int64_t max, int64_t *out, struct proto_err *err)
{
	json_t *v;
	json_int_t n;

	if (proto_get(obj, key, required, &v, err) != 0)
		return (-1);
	if (v == NULL)
		return (0);
	if (!json_is_integer(v))
		return (proto_type_error(key, "an integer", v, err));
	n = json_integer_value(v);
	if (n < min || n > max)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be between %" PRId64 " and %" PRId64
		    ", got %" JSON_INTEGER_FORMAT,
		    key, min, max, n));
	*out = n;
	return (0);
}

int
proto_get_ms(const json_t *obj, const char *key, bool required, int64_t *out,
    struct proto_err *err)
{
	json_t *v;
	json_int_t n;

	if (proto_get(obj, key, required, &v, err) != 0)
		return (-1);
	if (v == NULL)
		return (0);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return (proto_type_error(key,
		    "a non-negative integer of milliseconds", v, err));
	n = json_integer_value(v);
	if (n > PROTO_DURATION_MAX_MS)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be at most %lld ms (30 days), got %" JSON_INTEGER_FORMAT,
		    key, PROTO_DURATION_MAX_MS, n));
	*out = n;
	return (0);
}

int
proto_get_enum(const json_t *obj, const char *key, bool required,
    const char *const *choices, int *out, struct proto_err *err)
{
	json_t *v;
	const char *s;
	char list[160], got[64];
	size_t i, used;
	int n;

	if (proto_get(obj, key, required, &v, err) != 0)
		return (-1);
	if (v == NULL)
		return (0);
	if (json_is_string(v)) {
		s = json_string_value(v);
		for (i = 0; choices[i] != NULL; i++) {
			if (strcmp(choices[i], s) == 0 &&
			    strlen(s) == json_string_length(v)) {
				*out = (int)i;
				return (0);
			}
		}
	}

	used = 0;
	list[0] = '\0';
	for (i = 0; choices[i] != NULL && used < sizeof list; i++) {
		n = snprintf(list + used, sizeof list - used, "%s\"%s\"",
		    i == 0 ? "" : ", ", choices[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return (proto_errf(err, PROTO_INVALID_PARAMS,
	    "field \"%s\" must be one of %s, got %s", key, list,
	    proto_describe(v, got, sizeof got)));
}
