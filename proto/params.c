/*
 * Params of every method but spawn, read strictly into typed structs with
 * their defaults, so handlers never look at raw JSON.
 */
#include <string.h>

#include "fields.h"
#include "names.h"
#include "params.h"
#include "spec-inst.h"
#include "path.h"

/* Absent params read as {}: json_object_get(NULL, ...) finds nothing. */
static int
params_object(const json_t *params, const char *const *allowed,
    struct proto_err *err)
{
	if (params == NULL)
		return (0);
	if (json_is_array(params))
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "params must be an object, not an array"));
	return (proto_fields_check(params, "params", allowed, err));
}

static int
params_get_path(const json_t *params, bool required, const char **path,
    struct proto_err *err)
{
	if (proto_get_string(params, "path", required, path, err) != 0)
		return (-1);
	return (proto_path_check(*path, "path", err));
}

int
params_none(const json_t *params, struct proto_err *err)
{
	if (params == NULL)
		return (0);
	if (json_is_array(params)) {
		if (json_array_size(params) != 0)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "this method takes no params, got an array of %zu",
			    json_array_size(params)));
		return (0);
	}
	if (!json_is_object(params))
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "params must be an object"));
	if (json_object_size(params) != 0)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "unknown field \"%.64s\" in params; this method takes "
		    "none",
		    json_object_iter_key(json_object_iter((json_t *)params))));
	return (0);
}

int
params_path(const json_t *params, struct params_path *p, struct proto_err *err)
{
	static const char *const allowed[] = { "path", NULL };

	memset(p, 0, sizeof *p);
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, true, &p->path, err) != 0)
		return (-1);
	return (0);
}

int
params_scale(const json_t *params, struct params_scale *p,
    struct proto_err *err)
{
	static const char *const allowed[] = { "path", "instances", NULL };
	int64_t n = 0;

	memset(p, 0, sizeof *p);
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, true, &p->path, err) != 0 ||
	    proto_get_int(params, "instances", true, 1, SPEC_INSTANCES_MAX, &n,
	        err) != 0)
		return (-1);
	p->instances = (uint32_t)n;
	return (0);
}

int
params_restart(const json_t *params, struct params_restart *p,
    struct proto_err *err)
{
	static const char *const allowed[] = { "path", "rolling", NULL };

	memset(p, 0, sizeof *p);
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, true, &p->path, err) != 0 ||
	    proto_get_bool(params, "rolling", false, &p->rolling, err) != 0)
		return (-1);
	return (0);
}

int
params_cancel(const json_t *params, struct params_cancel *p,
    struct proto_err *err)
{
	static const char *const allowed[] = {
		"path",
		"reason",
		"wait",
		"remove",
		NULL,
	};
	json_t *reason;

	memset(p, 0, sizeof *p);
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, true, &p->path, err) != 0 ||
	    proto_get_string(params, "reason", false, &p->reason, err) != 0 ||
	    proto_get_bool(params, "wait", false, &p->wait, err) != 0 ||
	    proto_get_bool(params, "remove", false, &p->remove, err) != 0)
		return (-1);
	if (p->reason != NULL) {
		reason = json_object_get(params, "reason");
		if (json_string_length(reason) > PARAMS_REASON_MAX)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"reason\" must be at most %d bytes, got "
			    "%zu",
			    PARAMS_REASON_MAX, json_string_length(reason)));
		if (strlen(p->reason) != json_string_length(reason))
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"reason\" contains a NUL character"));
	}
	return (0);
}

int
params_inspect(const json_t *params, struct params_inspect *p,
    struct proto_err *err)
{
	static const char *const allowed[] = { "path", "depth", NULL };
	int64_t depth = 0;

	memset(p, 0, sizeof *p);
	p->path = "/";
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, false, &p->path, err) != 0 ||
	    proto_get_int(params, "depth", false, -1, PROTO_DEPTH_MAX, &depth,
	        err) != 0)
		return (-1);
	p->depth = (int)depth;
	return (0);
}

int
params_logs(const json_t *params, struct params_logs *p, struct proto_err *err)
{
	static const char *const allowed[] = { "path", "bytes", "lines",
		"stream", "since_ms", "records", NULL };
	static const char *const streams[] = { "both", "stdout", "stderr",
		NULL };

	memset(p, 0, sizeof *p);
	p->bytes = -1;
	p->lines = -1;
	p->stream = LOGS_BOTH;
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, true, &p->path, err) != 0 ||
	    proto_get_int(params, "bytes", false, 1, PARAMS_LOGS_MAX, &p->bytes,
	        err) != 0 ||
	    proto_get_int(params, "lines", false, 0, PARAMS_LOGS_LINES_MAX,
	        &p->lines, err) != 0 ||
	    proto_get_enum(params, "stream", false, streams, &p->stream, err) !=
	        0 ||
	    proto_get_int(params, "since_ms", false, 0, INT64_MAX, &p->since_ms,
	        err) != 0 ||
	    proto_get_bool(params, "records", false, &p->records, err) != 0)
		return (-1);
	/* Without lines, the tail is measured in bytes as it always was. */
	if (p->lines == -1 && p->bytes == -1)
		p->bytes = 4096;
	return (0);
}

int
params_reopen(const json_t *params, struct params_reopen *p,
    struct proto_err *err)
{
	static const char *const allowed[] = { "path", NULL };

	memset(p, 0, sizeof *p);
	p->path = "/";
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, false, &p->path, err) != 0)
		return (-1);
	return (0);
}

int
params_watch(const json_t *params, struct params_watch *p,
    struct proto_err *err)
{
	static const char *const allowed[] = {
		"path",
		"output",
		"since",
		NULL,
	};
	int64_t since = -1;

	memset(p, 0, sizeof *p);
	p->path = "/";
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, false, &p->path, err) != 0 ||
	    proto_get_bool(params, "output", false, &p->output, err) != 0 ||
	    proto_get_int(params, "since", false, 0, INT64_MAX, &since, err) !=
	        0)
		return (-1);
	if (since >= 0) {
		p->has_since = true;
		p->since = (uint64_t)since;
	}
	return (0);
}

int
params_unwatch(const json_t *params, struct params_unwatch *p,
    struct proto_err *err)
{
	static const char *const allowed[] = { "subscription", NULL };
	int64_t sub = 0;

	memset(p, 0, sizeof *p);
	if (params_object(params, allowed, err) != 0 ||
	    proto_get_int(params, "subscription", true, 0, INT64_MAX, &sub,
	        err) != 0)
		return (-1);
	p->subscription = (uint64_t)sub;
	return (0);
}

int
params_wait(const json_t *params, struct params_wait *p, struct proto_err *err)
{
	static const char *const allowed[] = {
		"path",
		"for",
		"timeout_ms",
		NULL,
	};
	static const char *const fors[] = { "terminated", "running", NULL };
	int wait_for = WAIT_TERMINATED;

	memset(p, 0, sizeof *p);
	p->timeout_ms = -1;
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, true, &p->path, err) != 0 ||
	    proto_get_enum(params, "for", false, fors, &wait_for, err) != 0 ||
	    proto_get_ms(params, "timeout_ms", false, &p->timeout_ms, err) != 0)
		return (-1);
	p->wait_for = wait_for;
	return (0);
}

int
params_signal(const json_t *params, struct params_signal *p,
    struct proto_err *err)
{
	static const char *const allowed[] = { "path", "signal", "all", NULL };
	json_t *sig;

	memset(p, 0, sizeof *p);
	if (params_object(params, allowed, err) != 0 ||
	    params_get_path(params, true, &p->path, err) != 0 ||
	    proto_get_bool(params, "all", false, &p->all, err) != 0)
		return (-1);
	if ((sig = json_object_get(params, "signal")) == NULL)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "missing field \"signal\" (a name like \"USR1\" or a "
		    "number)"));
	if (json_is_integer(sig)) {
		if (json_integer_value(sig) < 1 ||
		    json_integer_value(sig) > PARAMS_SIGNAL_MAX)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"signal\" must be a number from 1 to %d, "
			    "got %" JSON_INTEGER_FORMAT,
			    PARAMS_SIGNAL_MAX, json_integer_value(sig)));
		p->signal = (int)json_integer_value(sig);
		return (0);
	}
	if (!json_is_string(sig) ||
	    (p->signal = proto_signal_parse(json_string_value(sig))) == -1)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"signal\" must be a signal name like \"USR1\" or "
		    "\"SIGHUP\", or a number, got %.40s%s%.40s%s",
		    json_is_string(sig) ? "\"" : "",
		    json_is_string(sig) ? json_string_value(sig) : "a ",
		    json_is_string(sig)      ? "" :
		        json_is_boolean(sig) ? "boolean" :
		        json_is_null(sig)    ? "null" :
		                               "non-string",
		    json_is_string(sig) ? "\"" : ""));
	return (0);
}
