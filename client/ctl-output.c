/* What arborctl prints: JSON for scripts, and for people a tree or table
 * of node views and key/value lists, tolerant of any JSON the daemon sends. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/* Deeper than PROTO_DEPTH_MAX allows, so only odd JSON is cut short. */
#define OUT_TREE_DEPTH 64
#define OUT_KEY_WIDTH  13
#define OUT_RESET      "\033[0m"

struct out_widths {
	int name;
	int kind;
	int state;
	int pid;
	int restarts;
};

/* Guides: continuing, a child, the last child, nothing. Four columns each. */
struct out_guides {
	const char *pipe;
	const char *tee;
	const char *elbow;
	const char *blank;
};

static const struct out_guides out_utf8 = {
	"\u2502   ",
	"\u251c\u2500\u2500 ",
	"\u2514\u2500\u2500 ",
	"    ",
};
static const struct out_guides out_ascii = {
	"|   ",
	"|-- ",
	"`-- ",
	"    ",
};
#define OUT_GUIDE_COLS 4

void
ctl_json_print(struct ctl *c, const json_t *v)
{
	(void)c;
	if (json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
		fputs("null", stdout);
	putchar('\n');
}

/* A string field, NULL when absent or not a string. */
const char *
ctl_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/*
 * Strings from the daemon carry what clients gave it (names of causes,
 * reasons); control characters become "?" so none of them can drive the
 * terminal.
 */
void
ctl_put_safe(FILE *fp, const char *s, size_t len)
{
	size_t i;
	unsigned char ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, fp);
	}
}

static void
out_put_str(const char *s)
{
	ctl_put_safe(stdout, s, strlen(s));
}

const char *
ctl_state_color(const char *state)
{
	static const struct {
		const char *state;
		const char *sgr;
	} colors[] = {
		{ "running", "\033[32m" },  /* green */
		{ "starting", "\033[36m" }, /* cyan */
		{ "backoff", "\033[33m" },  /* yellow */
		{ "stopping", "\033[33m" },
		{ "exited", "\033[2m" },    /* dim: done, no harm */
		{ "failed", "\033[1;31m" }, /* bold red */
	};
	size_t i;

	for (i = 0; i < sizeof colors / sizeof colors[0]; i++) {
		if (strcmp(colors[i].state, state) == 0)
			return colors[i].sgr;
	}
	return NULL;
}

/* state padded to width (0: no padding), coloured when wanted. */
static void
out_put_state(struct ctl *c, const char *state, int width)
{
	const char *sgr = NULL;
	int len;

	if (state == NULL)
		state = "-";
	len = (int)strlen(state);
	if (c->color && !c->json)
		sgr = ctl_state_color(state);
	if (sgr != NULL)
		fputs(sgr, stdout);
	out_put_str(state);
	if (sgr != NULL)
		fputs(OUT_RESET, stdout);
	if (width > len)
		printf("%*s", width - len, "");
}

/* Any JSON value on one line: null as "-", strings bare. */
static void
out_put_value(const json_t *v)
{
	char *s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		ctl_put_safe(stdout, json_string_value(v),
		    json_string_length(v));
		break;
	case JSON_INTEGER:
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", stdout);
		break;
	case JSON_FALSE:
		fputs("false", stdout);
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		if ((s = json_dumps(v, JSON_COMPACT)) != NULL) {
			out_put_str(s);
			free(s);
			break;
		}
		/* FALLTHROUGH */
	default:
		fputs("-", stdout);
		break;
	}
}

/* An integer field as text, "-" when absent or not an integer. */
static const char *
out_int(const json_t *obj, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

static const char *
out_strfield(const json_t *obj, const char *key)
{
	const char *s = ctl_str(obj, key);

	return s != NULL && *s != '\0' ? s : "-";
}

/* "exit 1", "signal KILL", or the object as it came. */
static void
out_put_exit(const json_t *exit)
{
	const json_t *code = json_object_get(exit, "code");
	const char *sig = ctl_str(exit, "signal");

	if (json_is_integer(code))
		printf("exit %" JSON_INTEGER_FORMAT, json_integer_value(code));
	else if (sig != NULL) {
		fputs("signal ", stdout);
		out_put_str(sig);
	} else
		out_put_value(exit);
}

/* The last column: why it stopped and how its work ended. */
static void
out_put_cause(const json_t *view)
{
	const char *cause = ctl_str(view, "cause");
	const json_t *exit = json_object_get(view, "exit");
	bool has_exit = exit != NULL && !json_is_null(exit);

	if (cause != NULL && *cause != '\0') {
		out_put_str(cause);
		if (has_exit) {
			fputs(" (", stdout);
			out_put_exit(exit);
			fputs(")", stdout);
		}
	} else if (has_exit)
		out_put_exit(exit);
	else
		fputs("-", stdout);
}

char *
ctl_fmt_ago(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, size, "-");
	else if (ms < 1000)
		snprintf(buf, size, "%" PRId64 "ms", ms);
	else if (s < 60)
		snprintf(buf, size, "%" PRId64 ".%" PRId64 "s", s,
		    ms % 1000 / 100);
	else if (s < 3600)
		snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", s / 60,
		    s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", s / 3600,
		    s % 3600 / 60);
	else
		snprintf(buf, size, "%" PRId64 "d%02" PRId64 "h", s / 86400,
		    s % 86400 / 3600);
	return buf;
}

char *
ctl_fmt_bytes(int64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t i;

	if (n < 1024) {
		snprintf(buf, size, "%" PRId64 " B", n);
		return buf;
	}
	for (i = 0; i < 3 && v >= 1024 * 1024; i++)
		v /= 1024;
	snprintf(buf, size, "%.1f %s", v / 1024, units[i]);
	return buf;
}

void
ctl_kv(struct ctl *c, const char *key, const char *value)
{
	(void)c;
	printf("%-*s ", OUT_KEY_WIDTH, key);
	out_put_str(value != NULL ? value : "-");
	putchar('\n');
}

void
ctl_kv_state(struct ctl *c, const char *key, const char *state)
{
	printf("%-*s ", OUT_KEY_WIDTH, key);
	out_put_state(c, state, 0);
	putchar('\n');
}

void
ctl_kv_json(struct ctl *c, const char *key, const json_t *v)
{
	(void)c;
	printf("%-*s ", OUT_KEY_WIDTH, key);
	if (v == NULL || json_is_null(v))
		fputs("-", stdout);
	else
		out_put_value(v);
	putchar('\n');
}

/* Tree and table rows. */

static int
out_max(int a, int b)
{
	return a > b ? a : b;
}

static const char *
out_name(const json_t *view, int depth)
{
	/* The top of a drawing says where it is; the rest just their name. */
	if (depth == 0 && ctl_str(view, "path") != NULL)
		return out_strfield(view, "path");
	return out_strfield(view, "name");
}

static void
out_widths_add(struct out_widths *w, const json_t *view, int name_cols)
{
	char buf[32];

	w->name = out_max(w->name, name_cols);
	w->kind = out_max(w->kind, (int)strlen(out_strfield(view, "kind")));
	w->state = out_max(w->state, (int)strlen(out_strfield(view, "state")));
	w->pid = out_max(w->pid,
	    (int)strlen(out_int(view, "pid", buf, sizeof buf)));
	w->restarts = out_max(w->restarts,
	    (int)strlen(out_int(view, "restarts", buf, sizeof buf)));
}

static void
out_widths_init(struct out_widths *w)
{
	w->name = 4; /* the headings' widths */
	w->kind = 4;
	w->state = 5;
	w->pid = 3;
	w->restarts = 8;
}

/* Children drawn only as a count, when the depth asked for stopped here. */
static json_int_t
out_hidden_children(const json_t *view)
{
	const json_t *n = json_object_get(view, "child_count");

	if (json_object_get(view, "children") != NULL || !json_is_integer(n))
		return 0;
	return json_integer_value(n);
}

static void
out_tree_widths(struct out_widths *w, const json_t *view, int depth)
{
	const json_t *children, *child;
	char buf[64];
	size_t i;
	int cols = depth * OUT_GUIDE_COLS;

	out_widths_add(w, view, cols + (int)strlen(out_name(view, depth)));
	if (depth + 1 >= OUT_TREE_DEPTH)
		return;
	if (out_hidden_children(view) > 0) {
		snprintf(buf, sizeof buf, "(%" JSON_INTEGER_FORMAT " more)",
		    out_hidden_children(view));
		w->name = out_max(w->name,
		    cols + OUT_GUIDE_COLS + (int)strlen(buf));
	}
	children = json_object_get(view, "children");
	json_array_foreach(children, i, child) {
		if (json_is_object(child))
			out_tree_widths(w, child, depth + 1);
	}
}

static void
out_header(const struct out_widths *w)
{
	printf("%-*s  %-*s  %-*s  %*s  %*s  %s\n", w->name, "NAME", w->kind,
	    "KIND", w->state, "STATE", w->pid, "PID", w->restarts, "RESTARTS",
	    "CAUSE");
}

/* One row; the name column starts with cols columns of guides already
 * printed. */
static void
out_row(struct ctl *c, const struct out_widths *w, const json_t *view,
    const char *name, int cols)
{
	char pid[32], restarts[32];

	out_put_str(name);
	cols += (int)strlen(name);
	printf("%*s  %-*s  ", out_max(w->name - cols, 0), "", w->kind,
	    out_strfield(view, "kind"));
	out_put_state(c, out_strfield(view, "state"), w->state);
	printf("  %*s  %*s  ", w->pid, out_int(view, "pid", pid, sizeof pid),
	    w->restarts, out_int(view, "restarts", restarts, sizeof restarts));
	out_put_cause(view);
	putchar('\n');
}

static void
out_guides(struct ctl *c, const bool *last, int depth)
{
	const struct out_guides *g = c->utf8 ? &out_utf8 : &out_ascii;
	int i;

	for (i = 1; i < depth; i++)
		fputs(last[i] ? g->blank : g->pipe, stdout);
	if (depth > 0)
		fputs(last[depth] ? g->elbow : g->tee, stdout);
}

static void
out_tree_rows(struct ctl *c, const struct out_widths *w, const json_t *view,
    bool *last, int depth)
{
	const json_t *children, *child;
	size_t i, n, shown, drawn = 0;
	json_int_t hidden;

	out_guides(c, last, depth);
	out_row(c, w, view, out_name(view, depth), depth * OUT_GUIDE_COLS);
	if (depth + 1 >= OUT_TREE_DEPTH)
		return;

	children = json_object_get(view, "children");
	n = json_array_size(children);
	for (i = 0, shown = 0; i < n; i++)
		shown += json_is_object(json_array_get(children, i));
	json_array_foreach(children, i, child) {
		if (!json_is_object(child))
			continue;
		last[depth + 1] = ++drawn == shown;
		out_tree_rows(c, w, child, last, depth + 1);
	}
	if ((hidden = out_hidden_children(view)) > 0) {
		last[depth + 1] = true;
		out_guides(c, last, depth + 1);
		printf("(%" JSON_INTEGER_FORMAT " more)\n", hidden);
	}
}

/* A subtree as a tree under a header, the view at its top. */
void
ctl_print_tree(struct ctl *c, const json_t *view)
{
	bool last[OUT_TREE_DEPTH + 1];
	struct out_widths w;

	if (!json_is_object(view)) {
		out_put_value(view);
		putchar('\n');
		return;
	}
	memset(last, 0, sizeof last);
	out_widths_init(&w);
	out_tree_widths(&w, view, 0);
	out_header(&w);
	out_tree_rows(c, &w, view, last, 0);
}

/* Node views as a table, one row each, named by path. */
void
ctl_print_views(struct ctl *c, json_t *const *views, size_t n)
{
	struct out_widths w;
	size_t i;

	out_widths_init(&w);
	for (i = 0; i < n; i++)
		out_widths_add(&w, views[i],
		    (int)strlen(out_name(views[i], 0)));
	out_header(&w);
	for (i = 0; i < n; i++) {
		if (json_is_object(views[i]))
			out_row(c, &w, views[i], out_name(views[i], 0), 0);
	}
}

/* An epoch time in ms as local time (the date too when not today), and
 * how long ago or how soon: "started 12:01:02 (3h05m ago)". */
static void
out_kv_time(struct ctl *c, const char *key, const json_t *v)
{
	struct timespec now;
	struct tm tm, today;
	time_t t, tnow;
	json_int_t ms;
	int64_t now_ms;
	char when[64], ago[32];

	if (!json_is_integer(v)) {
		ctl_kv_json(c, key, v);
		return;
	}
	ms = json_integer_value(v);
	t = (time_t)(ms / 1000);
	clock_gettime(CLOCK_REALTIME, &now);
	tnow = now.tv_sec;
	if (localtime_r(&t, &tm) == NULL ||
	    localtime_r(&tnow, &today) == NULL ||
	    strftime(when, sizeof when,
	        tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday ?
	            "%H:%M:%S" :
	            "%Y-%m-%d %H:%M:%S",
	        &tm) == 0) {
		ctl_kv_json(c, key, v);
		return;
	}
	now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (ms <= now_ms)
		printf("%-*s %s (%s ago)\n", OUT_KEY_WIDTH, key, when,
		    ctl_fmt_ago(now_ms - ms, ago, sizeof ago));
	else
		printf("%-*s %s (in %s)\n", OUT_KEY_WIDTH, key, when,
		    ctl_fmt_ago(ms - now_ms, ago, sizeof ago));
}

/* A field kinds add, read for people: *_ms as a duration, *_bytes as a
 * size, cpu_usec as CPU time; the rest as it came. */
static void
out_kv_extra(struct ctl *c, const char *key, const json_t *v)
{
	size_t len = strlen(key);
	char name[64], buf[32];
	const char *k;
	const json_t *e;
	bool first = true;

	if (json_is_object(v)) {
		/* A small object (health, output, notify, rusage): its
		 * members on one line, as k=v. */
		printf("%-*s ", OUT_KEY_WIDTH, key);
		json_object_foreach((json_t *)v, k, e) {
			printf("%s%s=", first ? "" : " ", k);
			if (json_is_null(e))
				fputs("-", stdout);
			else
				out_put_value(e);
			first = false;
		}
		putchar('\n');
		return;
	}
	if (len >= sizeof name || (!json_is_integer(v) && !json_is_null(v))) {
		ctl_kv_json(c, key, v);
		return;
	}
	if (len > 3 && strcmp(key + len - 3, "_ms") == 0) {
		snprintf(name, sizeof name, "%.*s", (int)(len - 3), key);
		ctl_kv(c, name,
		    json_is_null(v) ?
		        NULL :
		        ctl_fmt_ago(json_integer_value(v), buf, sizeof buf));
	} else if (len > 6 && strcmp(key + len - 6, "_bytes") == 0) {
		snprintf(name, sizeof name, "%.*s", (int)(len - 6), key);
		ctl_kv(c, name,
		    json_is_null(v) ?
		        NULL :
		        ctl_fmt_bytes(json_integer_value(v), buf, sizeof buf));
	} else if (strcmp(key, "cpu_usec") == 0) {
		ctl_kv(c, "cpu",
		    json_is_null(v) ? NULL :
		                      ctl_fmt_ago(json_integer_value(v) / 1000,
		                          buf, sizeof buf));
	} else
		ctl_kv_json(c, key, v);
}

/* One node as key/value lines, then its subtree when it has children. */
void
ctl_print_node(struct ctl *c, const json_t *view)
{
	static const char *const first[] = {
		"path",
		"id",
		"name",
		"kind",
		"state",
		"restart",
		"restarts",
		"pid",
		"started_ms",
		"exit",
		"cause",
		"child_count",
		NULL,
	};
	const char *const *k;
	const char *key;
	const json_t *v;

	if (!json_is_object(view)) {
		out_put_value(view);
		putchar('\n');
		return;
	}
	/* The fields every view has, in a fixed order, "-" when missing;
	 * then whatever else this kind adds, as it came. */
	for (k = first; *k != NULL; k++) {
		v = json_object_get(view, *k);
		if (strcmp(*k, "state") == 0)
			ctl_kv_state(c, "state", ctl_str(view, "state"));
		else if (strcmp(*k, "started_ms") == 0)
			out_kv_time(c, "started", v);
		else if (strcmp(*k, "exit") == 0 && json_is_object(v)) {
			printf("%-*s ", OUT_KEY_WIDTH, "exit");
			out_put_exit(v);
			putchar('\n');
		} else
			ctl_kv_json(c, *k, v);
	}
	json_object_foreach((json_t *)view, key, v) {
		for (k = first; *k != NULL; k++) {
			if (strcmp(*k, key) == 0)
				break;
		}
		if (*k != NULL || strcmp(key, "children") == 0)
			continue;
		if (strcmp(key, "ended_ms") == 0 || strcmp(key, "due_ms") == 0)
			out_kv_time(c,
			    strcmp(key, "due_ms") == 0 ? "due" : "ended", v);
		else
			out_kv_extra(c, key, v);
	}
	if (json_array_size(json_object_get(view, "children")) > 0 ||
	    out_hidden_children(view) > 0) {
		putchar('\n');
		ctl_print_tree(c, view);
	}
}

/*
 * The replies of ctl_call_many, in order: with --json each result or
 * error object on its line; for people, errors on stderr and, when views,
 * the results as one table. Returns the first failing exit status.
 */
int
ctl_print_replies(struct ctl *c, json_t **replies, size_t n, bool views)
{
	json_t **rows, *r;
	size_t i, nrows = 0;
	int rc = CTL_EXIT_OK, one;

	if ((rows = calloc(n > 0 ? n : 1, sizeof *rows)) == NULL)
		return ctl_oom();
	for (i = 0; i < n; i++) {
		if (replies[i] == NULL)
			continue; /* never answered; already said */
		if ((r = ctl_result(c, replies[i], &one)) != NULL) {
			if (c->json)
				ctl_json_print(c, r);
			else if (views)
				rows[nrows++] = r;
		}
		if (rc == CTL_EXIT_OK)
			rc = one;
	}
	if (nrows > 0)
		ctl_print_views(c, rows, nrows);
	free(rows);
	return rc;
}
