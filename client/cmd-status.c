/*
 * arborctl status (and its alias ls): the workers of a subtree, one line
 * each, with what an operator checks first. The rows and the table are
 * shared with top (ctl.h: status_*), which redraws them live.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static int status_run(struct ctl *, int, char **);

#define STATUS_USAGE                                                           \
	"[-a] [PATH]\n"                                                        \
	"\n"                                                                   \
	"  -a, --all  list supervisors too, not only workers\n"                \
	"PATH defaults to /; a bare name is the node under /. Columns:\n"      \
	"path, state, pid, uptime (since its last start, while running),\n"    \
	"restarts, last exit, CPU % (average since it started; top shows\n"    \
	"the current rate), memory, health and status text (sd_notify\n"       \
	"STATUS=); \"-\" when the daemon does not report it. --json prints\n"  \
	"one object per node.\n"

const struct ctl_cmd ctl_cmd_status = {
	.name = "status",
	.usage = "status " STATUS_USAGE,
	.summary = "list the workers of a subtree with state, uptime, CPU, "
	           "memory",
	.run = status_run,
};

const struct ctl_cmd ctl_cmd_ls = {
	.name = "ls",
	.usage = "ls " STATUS_USAGE,
	.summary = "the same as status",
	.run = status_run,
};

enum {
	COL_PATH,
	COL_STATE,
	COL_PID,
	COL_UPTIME,
	COL_RESTARTS,
	COL_EXIT,
	COL_CPU,
	COL_MEM,
	COL_HEALTH,
	COL_STATUS,
	COL__COUNT,
};

static const char *const status_heads[COL__COUNT] = {
	"PATH",
	"STATE",
	"PID",
	"UPTIME",
	"RESTARTS",
	"LAST EXIT",
	"CPU%",
	"MEM",
	"HEALTH",
	"STATUS",
};

/* Numbers read right-aligned. */
static const bool status_right[COL__COUNT] = {
	[COL_PID] = true,
	[COL_UPTIME] = true,
	[COL_RESTARTS] = true,
	[COL_CPU] = true,
	[COL_MEM] = true,
};

#define CELL_MAX 256

static int64_t
status_int(const json_t *view, const char *key)
{
	const json_t *v = json_object_get(view, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static int64_t
status_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* While running: since its last start (started_ms, the daemon's wall
 * clock, which is this machine's); -1 otherwise. Views stay free of
 * values that change by themselves, so this is reckoned here. */
static int64_t
status_uptime(const json_t *view)
{
	const char *state = ctl_str(view, "state");
	int64_t started = status_int(view, "started_ms"), now;

	if (state == NULL || strcmp(state, "running") != 0 || started < 0)
		return -1;
	now = status_wall_ms();
	return now > started ? now - started : 0;
}

static void
status_rows_walk(struct status_rows *r, const json_t *view, bool all)
{
	const json_t *children = json_object_get(view, "children"), *child;
	const char *kind = ctl_str(view, "kind");
	bool sup = kind != NULL && strcmp(kind, "supervisor") == 0;
	struct status_row *row;
	size_t i;

	if (!json_is_object(view))
		return;
	/* The root is no worker of anyone's. */
	if ((!sup || all) &&
	    !(sup && ctl_str(view, "path") != NULL &&
	        strcmp(ctl_str(view, "path"), "/") == 0)) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 32;

			if ((row = realloc(r->rows, cap * sizeof *row)) ==
			    NULL) {
				r->oom = true;
				return;
			}
			r->rows = row;
			r->cap = cap;
		}
		row = &r->rows[r->n++];
		memset(row, 0, sizeof *row);
		row->view = view;
		row->mem = status_int(view, "memory_bytes");
		row->uptime = status_uptime(view);
		row->cpu = -1;
		{
			int64_t cpu = status_int(view, "cpu_usec");

			/* Without two samples: the average of its run. */
			if (cpu >= 0 && row->uptime > 0)
				row->cpu = (double)cpu / 10.0 /
				    (double)row->uptime;
		}
	}
	json_array_foreach(children, i, child) {
		status_rows_walk(r, child, all);
	}
}

int
status_rows_build(struct status_rows *r, const json_t *view, bool all)
{
	memset(r, 0, sizeof *r);
	status_rows_walk(r, view, all);
	return r->oom ? -1 : 0;
}

void
status_rows_free(struct status_rows *r)
{
	free(r->rows);
	memset(r, 0, sizeof *r);
}

/* s into cell, control characters as "?" (strings quote clients). */
static void
cell_set(char *cell, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < CELL_MAX - 1; i++)
		cell[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		                                                       s[i];
	cell[i] = '\0';
}

/* Columns a cell takes: UTF-8 continuation bytes take none. */
static int
cell_cols(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void
status_cells(const struct status_row *row, char cells[][CELL_MAX])
{
	const json_t *v = row->view, *exit, *health;
	int64_t n;
	const char *s;
	char buf[64];

	for (int i = 0; i < COL__COUNT; i++)
		strcpy(cells[i], "-");
	if ((s = ctl_str(v, "path")) != NULL)
		cell_set(cells[COL_PATH], s);
	if ((s = ctl_str(v, "state")) != NULL)
		cell_set(cells[COL_STATE], s);
	if ((n = status_int(v, "pid")) >= 0)
		snprintf(cells[COL_PID], CELL_MAX, "%" PRId64, n);
	if (row->uptime >= 0)
		ctl_fmt_ago(row->uptime, cells[COL_UPTIME], CELL_MAX);
	if ((n = status_int(v, "restarts")) >= 0)
		snprintf(cells[COL_RESTARTS], CELL_MAX, "%" PRId64, n);
	exit = json_object_get(v, "exit");
	if (json_is_integer(json_object_get(exit, "code")))
		snprintf(cells[COL_EXIT], CELL_MAX,
		    "exit %" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(exit, "code")));
	else if ((s = ctl_str(exit, "signal")) != NULL) {
		snprintf(buf, sizeof buf, "signal %s", s);
		cell_set(cells[COL_EXIT], buf);
	}
	if (row->cpu >= 0)
		snprintf(cells[COL_CPU], CELL_MAX, "%.1f", row->cpu);
	if (row->mem >= 0)
		ctl_fmt_bytes(row->mem, cells[COL_MEM], CELL_MAX);
	health = json_object_get(v, "health");
	if ((s = ctl_str(health, "state")) != NULL ||
	    (s = json_string_value(health)) != NULL)
		cell_set(cells[COL_HEALTH], s);
	if ((s = ctl_str(v, "status")) != NULL && *s != '\0')
		cell_set(cells[COL_STATUS], s);
}

static const char *
status_health_color(const char *h)
{
	if (strcmp(h, "healthy") == 0)
		return "\033[32m";
	if (strcmp(h, "unhealthy") == 0)
		return "\033[1;31m";
	if (strcmp(h, "starting") == 0 || strcmp(h, "unknown") == 0)
		return "\033[33m";
	return NULL;
}

/* One line being written: visible columns used, up to max (0: none). */
struct status_line {
	int cols;
	int max;
};

static void
status_put(struct status_line *l, const char *s, const char *sgr, int width,
    bool right, bool last)
{
	int len = cell_cols(s), pad = width > len ? width - len : 0, room;

	if (l->max > 0 && l->cols >= l->max)
		return;
	if (l->cols > 0) {
		fputs("  ", stdout);
		l->cols += 2;
	}
	if (right) {
		printf("%*s", pad, "");
		l->cols += pad;
	}
	if (sgr != NULL)
		fputs(sgr, stdout);
	room = l->max > 0 ? l->max - l->cols : len;
	if (len <= room)
		fputs(s, stdout);
	else
		for (const char *p = s; *p != '\0'; p++) {
			if (((unsigned char)*p & 0xc0) != 0x80 && room-- <= 0)
				break;
			putchar(*p);
		}
	l->cols += len < room || l->max == 0 ? len : room;
	if (sgr != NULL)
		fputs("\033[0m", stdout);
	if (!right && !last) {
		printf("%*s", pad, "");
		l->cols += pad;
	}
}

void
status_print(struct ctl *c, const struct status_rows *r, int max_cols,
    int max_rows, const char *eol)
{
	char(*cells)[COL__COUNT][CELL_MAX];
	int width[COL__COUNT];
	struct status_line l;
	size_t i, n = r->n;
	int k;

	if (max_rows >= 0 && n > (size_t)max_rows)
		n = (size_t)max_rows;
	if ((cells = calloc(n > 0 ? n : 1, sizeof *cells)) == NULL) {
		ctl_oom();
		return;
	}
	for (k = 0; k < COL__COUNT; k++)
		width[k] = cell_cols(status_heads[k]);
	for (i = 0; i < n; i++) {
		status_cells(&r->rows[i], cells[i]);
		for (k = 0; k < COL__COUNT; k++)
			if (cell_cols(cells[i][k]) > width[k])
				width[k] = cell_cols(cells[i][k]);
	}
	l.cols = 0;
	l.max = max_cols;
	for (k = 0; k < COL__COUNT; k++)
		status_put(&l, status_heads[k], c->color ? "\033[1m" : NULL,
		    width[k], status_right[k], k == COL__COUNT - 1);
	fputs(eol, stdout);
	for (i = 0; i < n; i++) {
		l.cols = 0;
		for (k = 0; k < COL__COUNT; k++) {
			const char *sgr = NULL;

			if (c->color && k == COL_STATE)
				sgr = ctl_state_color(cells[i][k]);
			else if (c->color && k == COL_HEALTH)
				sgr = status_health_color(cells[i][k]);
			status_put(&l, cells[i][k], sgr, width[k],
			    status_right[k], k == COL__COUNT - 1);
		}
		fputs(eol, stdout);
	}
	free(cells);
}

static json_t *
status_opt(const json_t *view, const char *key)
{
	json_t *v = json_object_get(view, key);

	return v != NULL ? json_incref(v) : json_null();
}

/* One row as JSON: the fields scripts want, null when not reported. */
json_t *
status_row_json(const struct status_row *row)
{
	const json_t *v = row->view;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "path", status_opt(v, "path"));
	json_object_set_new(o, "id", status_opt(v, "id"));
	json_object_set_new(o, "kind", status_opt(v, "kind"));
	json_object_set_new(o, "state", status_opt(v, "state"));
	json_object_set_new(o, "pid", status_opt(v, "pid"));
	json_object_set_new(o, "uptime_ms",
	    row->uptime >= 0 ? json_integer(row->uptime) : json_null());
	json_object_set_new(o, "restarts", status_opt(v, "restarts"));
	json_object_set_new(o, "exit", status_opt(v, "exit"));
	json_object_set_new(o, "cpu_percent",
	    row->cpu >= 0 ? json_real(row->cpu) : json_null());
	json_object_set_new(o, "memory_bytes", status_opt(v, "memory_bytes"));
	json_object_set_new(o, "health", status_opt(v, "health"));
	json_object_set_new(o, "status", status_opt(v, "status"));
	return o;
}

static int
status_run(struct ctl *c, int argc, char **argv)
{
	struct status_rows r;
	const char *path;
	json_t *view, *o;
	bool all;
	int rc;

	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	all = false;
	while ((ch = getopt_long(argc, argv, "+:ha", opts, NULL)) != -1) {
		if (ch == 'a')
			all = true;
		else if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
			return rc;
	}
	if ((rc = ctl_one_path(c, argc, argv, "/", &path)) != 0)
		return rc;
	rc = ctl_call(c, "inspect",
	    json_pack("{s:s,s:i}", "path", path, "depth", -1), &view);
	if (rc != 0)
		return rc;
	if (status_rows_build(&r, view, all) == -1) {
		status_rows_free(&r);
		json_decref(view);
		return ctl_oom();
	}
	if (c->json) {
		for (size_t i = 0; i < r.n; i++) {
			if ((o = status_row_json(&r.rows[i])) == NULL) {
				rc = ctl_oom();
				break;
			}
			ctl_json_print(c, o);
			json_decref(o);
		}
	} else
		status_print(c, &r, 0, -1, "\n");
	status_rows_free(&r);
	json_decref(view);
	return rc;
}
