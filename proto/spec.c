/*
 * Node specs: strict parsing of spawn params into struct node_spec trees,
 * and the way back to JSON, copies and comparison. The whole subtree is
 * checked here so the daemon never creates half of a bad spec.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* signal numbers beyond ISO C */
#endif

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "names.h"
#include "path.h"
#include "spec-ident.h"
#include "spec.h"
#include "utf8.h"

const char *const spec_kind_names[] = {
	"supervisor",
	"exec",
	"sleep",
	"tick",
	"fail",
	NULL,
};
const char *const spec_restart_names[] = {
	"permanent",
	"transient",
	"temporary",
	NULL,
};
const char *const spec_strategy_names[] = {
	"one_for_one",
	"one_for_all",
	"rest_for_one",
	NULL,
};
const char *const spec_ready_names[] = {
	"exec",
	"fd",
	"notify",
	NULL,
};

static const char *const spec_common_fields[] = {
	"name",
	"kind",
	"restart",
	"shutdown_ms",
	"timeout_ms",
	"backoff_ms",
	"backoff_max_ms",
	"start_timeout_ms",
	NULL,
};
static const char *const spec_sup_fields[] = {
	"strategy",
	"max_restarts",
	"period_ms",
	"children",
	"sockets",
	"log",
	NULL,
};
static const char *const spec_exec_fields[] = {
	"argv",
	"env",
	"cwd",
	"stop_signal",
	"ready",
	"watchdog_ms",
	"sockets",
	"log",
	"health",
	NULL,
};
static const char *const spec_sleep_fields[] = { "ms", NULL };
static const char *const spec_tick_fields[] = { "interval_ms", NULL };
static const char *const spec_fail_fields[] = { "after_ms", "code", NULL };

static const char *const *const spec_kind_fields[KIND__COUNT] = {
	[KIND_SUPERVISOR] = spec_sup_fields,
	[KIND_EXEC] = spec_exec_fields,
	[KIND_SLEEP] = spec_sleep_fields,
	[KIND_TICK] = spec_tick_fields,
	[KIND_FAIL] = spec_fail_fields,
};

/* Without limits from the caller, still refuse what no daemon should
 * build. */
static const struct spec_limits spec_default_limits = { 100000,
	PROTO_DEPTH_MAX };

/*
 * loc is the index of each child on the way down to the node being
 * parsed. A failure leaves it as it was, so spec_parse can say where the
 * error is once, at the top, however deep it was.
 */
struct spec_parser {
	const struct spec_limits *lim;
	size_t count;
	struct proto_err *err;
	size_t *loc;
	size_t nloc;
};

static int spec_parse_node(struct spec_parser *, const json_t *, int,
    const char **, struct node_spec **);

/* Out of memory is not the request's fault: no location either. */
static int
spec_oom(struct proto_err *err)
{
	return (proto_errf(err, PROTO_INTERNAL, "out of memory"));
}

static int
spec_in_list(const char *const *list, const char *key)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++) {
		if (strcmp(list[i], key) == 0)
			return (1);
	}
	return (0);
}

/* Formats loc, eliding the middle of a very deep one so the message
 * itself still fits. */
static void
spec_loc_format(const struct spec_parser *p, char *buf, size_t size)
{
	size_t i, used = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < p->nloc; i++) {
		if (p->nloc > 6 && i == 3) {
			n = snprintf(buf + used, size - used, "...");
			i = p->nloc - 4;
		} else
			n = snprintf(buf + used, size - used, "%schildren[%zu]",
			    (i == 0 || (p->nloc > 6 && i == p->nloc - 3)) ? "" :
			                                                    ".",
			    p->loc[i]);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

/*
 * Puts the location of the failing child in front of the message, so it
 * reads as a path into the request: a field error `field "argv" must
 * be ...` becomes `children[2].children[0].argv: must be ...`.
 */
static void
spec_err_locate(const struct spec_parser *p)
{
	struct proto_err *err = p->err;
	char old[PROTO_ERR_MESSAGE_MAX], loc[128];
	const char *end;
	int n;

	if (err == NULL || p->nloc == 0)
		return;
	spec_loc_format(p, loc, sizeof loc);
	memcpy(old, err->message, sizeof old);
	old[sizeof old - 1] = '\0';
	if (strncmp(old, "field \"", 7) == 0 &&
	    (end = strchr(old + 7, '"')) != NULL && end[1] == ' ')
		n = snprintf(err->message, sizeof err->message, "%s.%.*s: %s",
		    loc, (int)(end - (old + 7)), old + 7, end + 2);
	else
		n = snprintf(err->message, sizeof err->message, "%s: %s", loc,
		    old);
	if (n >= 0 && (size_t)n >= sizeof err->message)
		memcpy(err->message + sizeof err->message - 4, "...", 4);
	proto_utf8_repair(err->message);
}

/* Every key is known, and applies to this kind. */
static int
spec_check_fields(const json_t *obj, uint8_t kind, int depth, int top,
    struct proto_err *err)
{
	const char *key;
	json_t *value;
	int k, inst;

	json_object_foreach((json_t *)obj, key, value) {
		if ((inst = spec_inst_field(obj, kind, key, err)) != 0) {
			if (inst == -1)
				return (-1);
			continue;
		}
		if (spec_in_list(spec_common_fields, key) ||
		    spec_in_list(spec_kind_fields[kind], key) ||
		    ((kind == KIND_SUPERVISOR || kind == KIND_EXEC) &&
		        spec_in_list(spec_cgroup_fields, key)))
			continue;
		/* Identity and limits: an exec's own, a supervisor's the
		 * defaults of its subtree. */
		if (spec_in_list(spec_ident_fields, key)) {
			if (kind == KIND_EXEC || kind == KIND_SUPERVISOR)
				continue;
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"%s\" does not apply to kind \"%s\"", key,
			    spec_kind_names[kind]));
		}
		if (strcmp(key, "parent") == 0) {
			if (top)
				continue;
			if (depth == 0)
				return (proto_errf(err, PROTO_INVALID_PARAMS,
				    "field \"parent\" is not allowed here"));
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"parent\" is only allowed at the top of a "
			    "spec; children go under their parent"));
		}
		for (k = 0; k < KIND__COUNT; k++) {
			if (spec_in_list(spec_kind_fields[k], key))
				return (proto_errf(err, PROTO_INVALID_PARAMS,
				    "field \"%s\" does not apply to kind "
				    "\"%s\"",
				    key, spec_kind_names[kind]));
		}
		if (spec_in_list(spec_cgroup_fields, key))
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"%s\" does not apply to kind \"%s\"; "
			    "limits are for exec nodes and supervisors",
			    key, spec_kind_names[kind]));
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "unknown field \"%.64s\" in node spec", key));
	}
	return (0);
}

/* A string jansson holds may still have a NUL inside; C cannot pass it on. */
static int
spec_check_cstring(const json_t *v, const char *what, struct proto_err *err)
{
	size_t len;

	len = json_string_length(v);
	if (strlen(json_string_value(v)) != len)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s contains a NUL character", what));
	if (len > SPEC_STRING_MAX)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s is longer than %d bytes", what, SPEC_STRING_MAX));
	return (0);
}

static void
spec_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static int
spec_parse_argv(const json_t *obj, struct spec_exec *x, struct proto_err *err)
{
	json_t *argv, *arg;
	size_t i, n;
	char what[32];

	argv = json_object_get(obj, "argv");
	if (argv == NULL)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "missing field \"argv\"; an exec node needs a program"));
	if (!json_is_array(argv) || json_array_size(argv) == 0)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"argv\" must be a non-empty array of strings"));
	n = json_array_size(argv);
	if (n > SPEC_ARGV_MAX)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"argv\" has %zu arguments, more than %d", n,
		    SPEC_ARGV_MAX));
	x->argv = calloc(n + 1, sizeof *x->argv);
	if (x->argv == NULL)
		return (spec_oom(err));
	json_array_foreach(argv, i, arg) {
		snprintf(what, sizeof what, "argv[%zu]", i);
		if (!json_is_string(arg))
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"argv\" must be an array of strings; "
			    "%s is not a string",
			    what));
		if (spec_check_cstring(arg, what, err) != 0)
			return (-1);
		if (i == 0 && json_string_length(arg) == 0)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"argv\" must start with a program, "
			    "argv[0] is empty"));
		x->argv[i] = strdup(json_string_value(arg));
		if (x->argv[i] == NULL)
			return (spec_oom(err));
	}
	return (0);
}

static int
spec_parse_env(const json_t *obj, struct spec_exec *x, struct proto_err *err)
{
	json_t *env, *value;
	const char *key;
	size_t i, n, klen, vlen;
	char what[96];

	env = json_object_get(obj, "env");
	if (env == NULL)
		return (0);
	if (!json_is_object(env))
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"env\" must be an object of strings"));
	n = json_object_size(env);
	if (n == 0)
		return (0);
	if (n > SPEC_ENV_MAX)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"env\" has %zu variables, more than %d", n,
		    SPEC_ENV_MAX));
	x->env = calloc(n + 1, sizeof *x->env);
	if (x->env == NULL)
		return (spec_oom(err));
	i = 0;
	json_object_foreach(env, key, value) {
		klen = strlen(key);
		if (klen == 0)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"env\" has an empty variable name"));
		if (strchr(key, '=') != NULL)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"env\": variable name \"%.64s\" contains "
			    "\"=\"",
			    key));
		if (klen > SPEC_STRING_MAX)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"env\": a variable name is longer than %d "
			    "bytes",
			    SPEC_STRING_MAX));
		snprintf(what, sizeof what, "env.%.64s", key);
		if (!json_is_string(value))
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"env\" must be an object of strings; %s "
			    "is not a string",
			    what));
		if (spec_check_cstring(value, what, err) != 0)
			return (-1);
		vlen = json_string_length(value);
		x->env[i] = malloc(klen + 1 + vlen + 1);
		if (x->env[i] == NULL)
			return (spec_oom(err));
		memcpy(x->env[i], key, klen);
		x->env[i][klen] = '=';
		memcpy(x->env[i] + klen + 1, json_string_value(value),
		    vlen + 1);
		i++;
	}
	return (0);
}

static int
spec_parse_exec(const json_t *obj, struct spec_exec *x, struct proto_err *err)
{
	json_t *cwd;
	const char *sig = NULL;
	int ready = READY_EXEC;

	x->stop_signal = SIGTERM;
	x->ready = READY_EXEC;
	if (spec_parse_argv(obj, x, err) != 0 ||
	    spec_parse_env(obj, x, err) != 0)
		return (-1);

	cwd = json_object_get(obj, "cwd");
	if (cwd != NULL) {
		if (!json_is_string(cwd) || json_string_length(cwd) == 0)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"cwd\" must be a non-empty string"));
		if (spec_check_cstring(cwd, "field \"cwd\"", err) != 0)
			return (-1);
		x->cwd = strdup(json_string_value(cwd));
		if (x->cwd == NULL)
			return (spec_oom(err));
	}

	if (proto_get_string(obj, "stop_signal", false, &sig, err) != 0)
		return (-1);
	if (sig != NULL) {
		x->stop_signal = proto_signal_parse(sig);
		if (x->stop_signal == -1)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"stop_signal\" must be a signal name like "
			    "\"TERM\" or \"INT\", got \"%.32s\"",
			    sig));
	}
	if (proto_get_enum(obj, "ready", false, spec_ready_names, &ready,
	        err) != 0)
		return (-1);
	x->ready = (uint8_t)ready;
	if (proto_get_ms(obj, "watchdog_ms", false, &x->watchdog_ms, err) != 0)
		return (-1);
	return (spec_health_parse(obj, &x->health, err));
}

static int
spec_parse_actor(const json_t *obj, uint8_t kind, struct spec_actor *a,
    struct proto_err *err)
{
	int64_t code = SPEC_FAIL_CODE;

	a->ms = -1;
	a->interval_ms = SPEC_INTERVAL_MS;
	a->after_ms = 0;
	a->code = SPEC_FAIL_CODE;
	switch (kind) {
	case KIND_SLEEP:
		return (proto_get_ms(obj, "ms", false, &a->ms, err));
	case KIND_TICK:
		if (proto_get_ms(obj, "interval_ms", false, &a->interval_ms,
		        err) != 0)
			return (-1);
		if (a->interval_ms < 1)
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"interval_ms\" must be at least 1"));
		return (0);
	case KIND_FAIL:
		if (proto_get_ms(obj, "after_ms", false, &a->after_ms, err) !=
		        0 ||
		    proto_get_int(obj, "code", false, 0, 255, &code, err) != 0)
			return (-1);
		a->code = (int)code;
		return (0);
	}
	return (0);
}

struct spec_sibling {
	const char *name;
	size_t index;
};

static int
spec_sibling_cmp(const void *a, const void *b)
{
	const struct spec_sibling *x = a, *y = b;
	int c;

	c = strcmp(x->name, y->name);
	if (c != 0)
		return (c);
	/* Equal names keep request order: the later one is the repeat. */
	return ((x->index > y->index) - (x->index < y->index));
}

/* Sorting keeps 10,000 siblings at O(n log n). */
static int
spec_check_duplicates(struct spec_parser *p, const struct spec_sup *s)
{
	struct proto_err *err = p->err;
	struct spec_sibling *sorted;
	size_t i, first;

	if (s->nchildren < 2)
		return (0);
	sorted = calloc(s->nchildren, sizeof *sorted);
	if (sorted == NULL)
		return (spec_oom(err));
	for (i = 0; i < s->nchildren; i++) {
		sorted[i].name = s->children[i]->name;
		sorted[i].index = i;
	}
	qsort(sorted, s->nchildren, sizeof *sorted, spec_sibling_cmp);
	first = SIZE_MAX;
	for (i = 1; i < s->nchildren; i++) {
		/* Name the first repeat in request order. */
		if (strcmp(sorted[i - 1].name, sorted[i].name) == 0 &&
		    sorted[i].index < first)
			first = sorted[i].index;
	}
	free(sorted);
	if (first == SIZE_MAX)
		return (0);
	/* Located like any error of that child: children[4].name: ... */
	p->loc[p->nloc++] = first;
	return (proto_errf(err, PROTO_INVALID_PARAMS,
	    "field \"name\" \"%s\" is used twice", s->children[first]->name));
}

static int
spec_parse_sup(struct spec_parser *p, const json_t *obj, int depth,
    struct spec_sup *s)
{
	struct proto_err *err = p->err;
	json_t *children, *child;
	int64_t max_restarts = SPEC_MAX_RESTARTS;
	int strategy = STRATEGY_ONE_FOR_ONE, rc;
	size_t i, n;

	s->period_ms = SPEC_PERIOD_MS;
	if (proto_get_enum(obj, "strategy", false, spec_strategy_names,
	        &strategy, err) != 0 ||
	    proto_get_int(obj, "max_restarts", false, 0, SPEC_MAX_RESTARTS_MAX,
	        &max_restarts, err) != 0 ||
	    proto_get_ms(obj, "period_ms", false, &s->period_ms, err) != 0)
		return (-1);
	s->strategy = (uint8_t)strategy;
	s->max_restarts = (uint32_t)max_restarts;
	if (s->period_ms < 1)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"period_ms\" must be at least 1"));

	children = json_object_get(obj, "children");
	if (children == NULL)
		return (0);
	if (!json_is_array(children))
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"children\" must be an array of node specs"));
	n = json_array_size(children);
	if (n == 0)
		return (0);
	/* Where is plain from the message; the location would not fit. */
	if (depth + 1 > p->lim->max_depth) {
		p->nloc = 0;
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "children nest more than %d levels deep",
		    p->lim->max_depth));
	}
	/* Refuse an oversized spec before parsing any of it. */
	if (n > p->lim->max_nodes || p->count + n > p->lim->max_nodes) {
		p->nloc = 0;
		return (proto_errf(err, PROTO_LIMIT,
		    "spec has more than %zu nodes", p->lim->max_nodes));
	}
	s->children = calloc(n, sizeof *s->children);
	if (s->children == NULL)
		return (spec_oom(err));
	json_array_foreach(children, i, child) {
		p->loc[p->nloc++] = i;
		if (!json_is_object(child))
			return (proto_errf(err, PROTO_INVALID_PARAMS,
			    "must be a node spec object"));
		rc = spec_parse_node(p, child, depth + 1, NULL,
		    &s->children[i]);
		/* A child that failed halfway is ours to free too. */
		if (s->children[i] != NULL)
			s->nchildren++;
		if (rc != 0)
			return (-1);
		p->nloc--;
	}
	return (spec_check_duplicates(p, s));
}

/* The fields every kind has: restart type and the times. */
static int
spec_parse_common(const json_t *obj, struct node_spec *spec,
    struct proto_err *err)
{
	int restart = RESTART_TRANSIENT;

	if (proto_get_enum(obj, "restart", false, spec_restart_names, &restart,
	        err) != 0)
		return (-1);
	spec->restart = (uint8_t)restart;
	if (proto_get_ms(obj, "shutdown_ms", false, &spec->shutdown_ms, err) !=
	        0 ||
	    proto_get_ms(obj, "timeout_ms", false, &spec->timeout_ms, err) !=
	        0 ||
	    proto_get_ms(obj, "backoff_ms", false, &spec->backoff_ms, err) !=
	        0 ||
	    proto_get_ms(obj, "backoff_max_ms", false, &spec->backoff_max_ms,
	        err) != 0 ||
	    proto_get_ms(obj, "start_timeout_ms", false,
	        &spec->start_timeout_ms, err) != 0)
		return (-1);
	if (spec->backoff_ms > spec->backoff_max_ms)
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"backoff_ms\" must not be greater than "
		    "\"backoff_max_ms\" (%lld > %lld)",
		    (long long)spec->backoff_ms,
		    (long long)spec->backoff_max_ms));
	return (0);
}

static int
spec_parse_node(struct spec_parser *p, const json_t *obj, int depth,
    const char **parent_out, struct node_spec **out)
{
	struct proto_err *err = p->err;
	struct node_spec *spec;
	const char *name = NULL, *parent = "/";
	int kind = -1;
	int top = depth == 0 && parent_out != NULL;

	*out = NULL;
	if (!json_is_object(obj))
		return (proto_fields_check(obj, "node spec", spec_common_fields,
		    err));
	if (++p->count > p->lim->max_nodes) {
		p->nloc = 0;
		return (proto_errf(err, PROTO_LIMIT,
		    "spec has more than %zu nodes", p->lim->max_nodes));
	}

	/* The kind decides which other fields may be there. */
	if (proto_get_enum(obj, "kind", true, spec_kind_names, &kind, err) != 0)
		return (-1);
	if (spec_check_fields(obj, (uint8_t)kind, depth, top, err) != 0)
		return (-1);
	if (proto_get_string(obj, "name", true, &name, err) != 0 ||
	    proto_name_check(name, "name", err) != 0)
		return (-1);
	if (top) {
		if (proto_get_string(obj, "parent", false, &parent, err) != 0 ||
		    proto_path_check(parent, "parent", err) != 0)
			return (-1);
	}

	spec = calloc(1, sizeof *spec);
	if (spec == NULL)
		return (spec_oom(err));
	spec->kind = (uint8_t)kind;
	spec->shutdown_ms = SPEC_SHUTDOWN_MS;
	spec->timeout_ms = -1;
	spec->backoff_ms = SPEC_BACKOFF_MS;
	spec->backoff_max_ms = SPEC_BACKOFF_MAX_MS;
	spec->start_timeout_ms = SPEC_START_TIMEOUT_MS;
	/* From here spec_free copes with whatever was filled in. */
	*out = spec;

	spec->name = strdup(name);
	if (spec->name == NULL)
		return (spec_oom(err));
	if (spec_parse_common(obj, spec, err) != 0 ||
	    spec_ident_parse(obj, &spec->ident, err) != 0 ||
	    spec_log_parse(obj, &spec->log, err) != 0 ||
	    spec_cgroup_parse(obj, &spec->cgroup, err) != 0)
		return (-1);

	if ((spec->kind == KIND_SUPERVISOR || spec->kind == KIND_EXEC) &&
	    spec_sockets_parse(obj, &spec->sockets, err) != 0)
		return (-1);
	switch (spec->kind) {
	case KIND_SUPERVISOR:
		if (spec_parse_sup(p, obj, depth, &spec->u.sup) != 0)
			return (-1);
		break;
	case KIND_EXEC:
		if (spec_parse_exec(obj, &spec->u.exec, err) != 0)
			return (-1);
		break;
	default:
		if (spec_parse_actor(obj, spec->kind, &spec->u.actor, err) != 0)
			return (-1);
		break;
	}
	if (spec->kind == KIND_EXEC &&
	    spec_inst_wrap(obj, p->lim->max_nodes - p->count, out, &p->count,
	        err) != 0) {
		if (err != NULL && err->code == PROTO_LIMIT)
			p->nloc = 0;
		return (-1);
	}
	if (top)
		*parent_out = parent;
	return (0);
}

int
spec_parse(const json_t *obj, const struct spec_limits *lim,
    const char **parent_out, struct node_spec **out, size_t *count,
    struct proto_err *err)
{
	struct spec_parser p;
	struct node_spec *spec = NULL;
	const char *parent = "/";

	*out = NULL;
	memset(&p, 0, sizeof p);
	p.lim = lim != NULL ? lim : &spec_default_limits;
	p.err = err;
	if (!json_is_object(obj))
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "params must be an object (a node spec)"));
	if (p.lim->max_depth < 0 ||
	    (size_t)p.lim->max_depth >= SIZE_MAX / sizeof *p.loc - 1)
		return (proto_errf(err, PROTO_INTERNAL,
		    "spec depth limit %d is out of range", p.lim->max_depth));
	/* One more than the depth: a duplicate is located one level down. */
	p.loc = calloc((size_t)p.lim->max_depth + 2, sizeof *p.loc);
	if (p.loc == NULL)
		return (spec_oom(err));
	if (spec_parse_node(&p, obj, 0, parent_out != NULL ? &parent : NULL,
	        &spec) != 0) {
		if (err != NULL && err->code != PROTO_INTERNAL)
			spec_err_locate(&p);
		free(p.loc);
		spec_free(spec);
		return (-1);
	}
	free(p.loc);
	if (parent_out != NULL)
		*parent_out = parent;
	if (count != NULL)
		*count = p.count;
	*out = spec;
	return (0);
}

void
spec_free(struct node_spec *spec)
{
	size_t i;

	if (spec == NULL)
		return;
	switch (spec->kind) {
	case KIND_SUPERVISOR:
		for (i = 0; i < spec->u.sup.nchildren; i++)
			spec_free(spec->u.sup.children[i]);
		free(spec->u.sup.children);
		break;
	case KIND_EXEC:
		spec_strv_free(spec->u.exec.argv);
		spec_strv_free(spec->u.exec.env);
		free(spec->u.exec.cwd);
		spec_health_free(spec->u.exec.health);
		break;
	}
	spec_ident_free(spec->ident);
	spec_sockets_free(spec->sockets);
	spec_log_free(spec->log);
	spec_cgroup_free(spec->cgroup);
	spec_inst_free(spec->inst);
	free(spec->name);
	free(spec);
}

/* Adds key/value to obj, value stolen; a NULL value means out of memory. */
static int
spec_set(json_t *obj, const char *key, json_t *value)
{
	if (value == NULL)
		return (-1);
	return (json_object_set_new(obj, key, value));
}

static json_t *
spec_exec_to_json(const struct spec_exec *x, json_t *obj)
{
	json_t *argv, *env;
	const char *eq, *sig;
	size_t i;

	argv = json_array();
	if (spec_set(obj, "argv", argv) != 0)
		return (NULL);
	for (i = 0; x->argv != NULL && x->argv[i] != NULL; i++) {
		if (json_array_append_new(argv, json_string(x->argv[i])) != 0)
			return (NULL);
	}
	env = json_object();
	if (spec_set(obj, "env", env) != 0)
		return (NULL);
	for (i = 0; x->env != NULL && x->env[i] != NULL; i++) {
		eq = strchr(x->env[i], '=');
		if (eq == NULL)
			continue;
		if (json_object_setn_new(env, x->env[i],
		        (size_t)(eq - x->env[i]), json_string(eq + 1)) != 0)
			return (NULL);
	}
	if (x->cwd != NULL && spec_set(obj, "cwd", json_string(x->cwd)) != 0)
		return (NULL);
	sig = proto_signal_name(x->stop_signal);
	if (sig != NULL && spec_set(obj, "stop_signal", json_string(sig)) != 0)
		return (NULL);
	if (x->ready < READY__COUNT &&
	    spec_set(obj, "ready", json_string(spec_ready_names[x->ready])) !=
	        0)
		return (NULL);
	if (x->watchdog_ms > 0 &&
	    spec_set(obj, "watchdog_ms", json_integer(x->watchdog_ms)) != 0)
		return (NULL);
	if (spec_health_to_json(x->health, obj) != 0)
		return (NULL);
	return (obj);
}

static json_t *
spec_node_to_json(const struct node_spec *s)
{
	json_t *obj, *children, *child;
	size_t i;

	if (s->inst != NULL)
		return (spec_inst_to_json(s));
	obj = json_object();
	if (obj == NULL)
		return (NULL);
	if (spec_set(obj, "name", json_string(s->name)) != 0 ||
	    spec_set(obj, "kind",
	        json_string(s->kind < KIND__COUNT ? spec_kind_names[s->kind] :
	                                            "?")) != 0 ||
	    spec_set(obj, "restart",
	        json_string(s->restart < RESTART__COUNT ?
	                spec_restart_names[s->restart] :
	                "?")) != 0 ||
	    spec_set(obj, "shutdown_ms", json_integer(s->shutdown_ms)) != 0 ||
	    (s->timeout_ms != -1 &&
	        spec_set(obj, "timeout_ms", json_integer(s->timeout_ms)) !=
	            0) ||
	    spec_set(obj, "backoff_ms", json_integer(s->backoff_ms)) != 0 ||
	    spec_set(obj, "backoff_max_ms", json_integer(s->backoff_max_ms)) !=
	        0 ||
	    spec_set(obj, "start_timeout_ms",
	        json_integer(s->start_timeout_ms)) != 0 ||
	    spec_ident_to_json(s->ident, obj) != 0 ||
	    spec_sockets_to_json(s->sockets, obj) != 0 ||
	    spec_log_to_json(s->log, obj) != 0 ||
	    spec_cgroup_to_json(s->cgroup, obj) != 0)
		goto fail;

	switch (s->kind) {
	case KIND_SUPERVISOR:
		if (spec_set(obj, "strategy",
		        json_string(s->u.sup.strategy < STRATEGY__COUNT ?
		                spec_strategy_names[s->u.sup.strategy] :
		                "?")) != 0 ||
		    spec_set(obj, "max_restarts",
		        json_integer(s->u.sup.max_restarts)) != 0 ||
		    spec_set(obj, "period_ms",
		        json_integer(s->u.sup.period_ms)) != 0)
			goto fail;
		children = json_array();
		if (spec_set(obj, "children", children) != 0)
			goto fail;
		for (i = 0; i < s->u.sup.nchildren; i++) {
			child = spec_node_to_json(s->u.sup.children[i]);
			if (child == NULL ||
			    json_array_append_new(children, child) != 0)
				goto fail;
		}
		break;
	case KIND_EXEC:
		if (spec_exec_to_json(&s->u.exec, obj) == NULL)
			goto fail;
		break;
	case KIND_SLEEP:
		if (s->u.actor.ms != -1 &&
		    spec_set(obj, "ms", json_integer(s->u.actor.ms)) != 0)
			goto fail;
		break;
	case KIND_TICK:
		if (spec_set(obj, "interval_ms",
		        json_integer(s->u.actor.interval_ms)) != 0)
			goto fail;
		break;
	case KIND_FAIL:
		if (spec_set(obj, "after_ms",
		        json_integer(s->u.actor.after_ms)) != 0 ||
		    spec_set(obj, "code", json_integer(s->u.actor.code)) != 0)
			goto fail;
		break;
	}
	return (obj);

fail:
	json_decref(obj);
	return (NULL);
}

json_t *
spec_to_json(const struct node_spec *spec)
{
	if (spec == NULL)
		return (NULL);
	return (spec_node_to_json(spec));
}

static char **
spec_strv_dup(char *const *v)
{
	char **copy;
	size_t i, n;

	if (v == NULL)
		return (NULL);
	for (n = 0; v[n] != NULL; n++)
		;
	copy = calloc(n + 1, sizeof *copy);
	if (copy == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		copy[i] = strdup(v[i]);
		if (copy[i] == NULL) {
			spec_strv_free(copy);
			return (NULL);
		}
	}
	return (copy);
}

struct node_spec *
spec_dup(const struct node_spec *spec)
{
	struct node_spec *copy;
	const struct spec_sup *s;
	size_t i;
	bool oom;

	if (spec == NULL)
		return (NULL);
	copy = malloc(sizeof *copy);
	if (copy == NULL)
		return (NULL);
	*copy = *spec;
	copy->name = NULL;
	copy->ident = NULL;
	copy->sockets = NULL;
	copy->log = NULL;
	copy->cgroup = NULL;
	copy->inst = NULL;
	/* Drop the borrowed pointers first, so a failure frees only ours. */
	switch (spec->kind) {
	case KIND_SUPERVISOR:
		copy->u.sup.children = NULL;
		copy->u.sup.nchildren = 0;
		break;
	case KIND_EXEC:
		copy->u.exec.argv = NULL;
		copy->u.exec.env = NULL;
		copy->u.exec.cwd = NULL;
		copy->u.exec.health = NULL;
		break;
	}
	if ((spec->name != NULL && (copy->name = strdup(spec->name)) == NULL) ||
	    spec_ident_dup(spec->ident, &copy->ident) != 0 ||
	    ((copy->sockets = spec_sockets_dup(spec->sockets, &oom)) == NULL &&
	        oom) ||
	    spec_log_dup(spec->log, &copy->log) != 0 ||
	    spec_cgroup_dup(spec->cgroup, &copy->cgroup) == -1 ||
	    spec_inst_dup(spec->inst, &copy->inst) == -1)
		goto fail;

	switch (spec->kind) {
	case KIND_SUPERVISOR:
		s = &spec->u.sup;
		if (s->nchildren == 0)
			break;
		copy->u.sup.children = calloc(s->nchildren,
		    sizeof *copy->u.sup.children);
		if (copy->u.sup.children == NULL)
			goto fail;
		for (i = 0; i < s->nchildren; i++) {
			copy->u.sup.children[i] = spec_dup(s->children[i]);
			if (copy->u.sup.children[i] == NULL)
				goto fail;
			copy->u.sup.nchildren++;
		}
		break;
	case KIND_EXEC:
		if ((spec->u.exec.argv != NULL &&
		        (copy->u.exec.argv = spec_strv_dup(
		             spec->u.exec.argv)) == NULL) ||
		    (spec->u.exec.env != NULL &&
		        (copy->u.exec.env = spec_strv_dup(spec->u.exec.env)) ==
		            NULL) ||
		    (spec->u.exec.cwd != NULL &&
		        (copy->u.exec.cwd = strdup(spec->u.exec.cwd)) ==
		            NULL) ||
		    spec_health_dup(spec->u.exec.health,
		        &copy->u.exec.health) != 0)
			goto fail;
		break;
	}
	return (copy);

fail:
	spec_free(copy);
	return (NULL);
}

static bool
spec_strv_equal(char *const *a, char *const *b)
{
	size_t i;

	/* No env and an empty env are the same configuration. */
	if (a == NULL || b == NULL)
		return (
		    (a == NULL || a[0] == NULL) && (b == NULL || b[0] == NULL));
	for (i = 0; a[i] != NULL && b[i] != NULL; i++) {
		if (strcmp(a[i], b[i]) != 0)
			return (false);
	}
	return (a[i] == NULL && b[i] == NULL);
}

bool
spec_equal_shallow(const struct node_spec *a, const struct node_spec *b)
{
	if (a->restart != b->restart || a->shutdown_ms != b->shutdown_ms ||
	    a->timeout_ms != b->timeout_ms || a->backoff_ms != b->backoff_ms ||
	    a->backoff_max_ms != b->backoff_max_ms ||
	    a->start_timeout_ms != b->start_timeout_ms ||
	    !spec_log_equal(a->log, b->log) ||
	    !spec_cgroup_equal(a->cgroup, b->cgroup) ||
	    !spec_inst_equal(a->inst, b->inst))
		return (false);
	if (a->kind == KIND_SUPERVISOR && b->kind == KIND_SUPERVISOR &&
	    (a->u.sup.strategy != b->u.sup.strategy ||
	        a->u.sup.max_restarts != b->u.sup.max_restarts ||
	        a->u.sup.period_ms != b->u.sup.period_ms))
		return (false);
	if (a->kind == KIND_EXEC && b->kind == KIND_EXEC &&
	    (a->u.exec.stop_signal != b->u.exec.stop_signal ||
	        !spec_health_equal(a->u.exec.health, b->u.exec.health)))
		return (false);
	return (spec_same_work(a, b));
}

bool
spec_same_work(const struct node_spec *a, const struct node_spec *b)
{
	/* A worker runs as its identity says: a change restarts it (a
	 * supervisor's, its subtree). */
	/* An instanced supervisor's template is compared as policy: its
	 * instances, each a node of its own, carry the work. */
	if (a->kind != b->kind || (a->inst == NULL) != (b->inst == NULL) ||
	    !spec_ident_equal(a->ident, b->ident) ||
	    !spec_sockets_equal(a->sockets, b->sockets))
		return (false);
	switch (a->kind) {
	case KIND_EXEC:
		if (a->u.exec.ready != b->u.exec.ready ||
		    a->u.exec.watchdog_ms != b->u.exec.watchdog_ms)
			return (false);
		if ((a->u.exec.cwd == NULL) != (b->u.exec.cwd == NULL) ||
		    (a->u.exec.cwd != NULL &&
		        strcmp(a->u.exec.cwd, b->u.exec.cwd) != 0))
			return (false);
		return (spec_strv_equal(a->u.exec.argv, b->u.exec.argv) &&
		    spec_strv_equal(a->u.exec.env, b->u.exec.env));
	case KIND_SLEEP:
		return (a->u.actor.ms == b->u.actor.ms);
	case KIND_TICK:
		return (a->u.actor.interval_ms == b->u.actor.interval_ms);
	case KIND_FAIL:
		return (a->u.actor.after_ms == b->u.actor.after_ms &&
		    a->u.actor.code == b->u.actor.code);
	}
	return (true);
}
