/*
 * arborctl logs: the last lines of nodes' stdout and stderr, and with -f
 * the lines as they come; several nodes, or a supervisor's subtree, in one
 * stream merged by time, each line prefixed with its node's path. Also
 * --reopen, for logrotate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "jsonrpc.h"
#include "params.h"
#include "path.h"
#include "spec-log.h"
#include "ctl.h"

static int logs_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_logs = {
	.name = "logs",
	.usage =
	    "logs [-f] [-n LINES] [-c BYTES] [--stream S] [--since DUR] "
	    "PATH...\n"
	    "logs --reopen [PATH]\n"
	    "\n"
	    "  -n, --lines N     the last N lines (50)\n"
	    "  -c, --bytes N     at most N bytes of whole lines (K and M\n"
	    "                    suffixes; at most 1M)\n"
	    "      --stream S    stdout, stderr or both (both)\n"
	    "      --since DUR   only lines of the last DUR (10m, 2h)\n"
	    "  -f, --follow      then print lines as they come, until\n"
	    "                    interrupted or every node is removed\n"
	    "      --reopen      open the log files of PATH's subtree (all\n"
	    "                    without PATH) again, after logrotate\n"
	    "Several PATHs or a supervisor: lines merged by time, each\n"
	    "prefixed with its node's path (in colour on a terminal); a\n"
	    "line \"-- run N --\" marks where a new run of a node began.\n"
	    "With --json, one JSON object per line.\n",
	.summary = "show and follow the output of nodes",
	.run = logs_run,
};

enum {
	OPT_STREAM = CTL_OPT_CMD,
	OPT_SINCE,
	OPT_REOPEN,
};

struct logs_state {
	char **paths; /* borrowed from argv */
	int npaths;
	bool *removed;         /* owned */
	json_int_t *watch_ids; /* owned */
	json_t *runs;          /* owned: path -> the run last printed */
	json_t *pending; /* owned: "stream path" -> a line not ended yet */
	const char *stream;
};

/* "4096", "64K", "1M": a size as the log field reads one, within what
 * logs answers. */
static int
logs_bytes(const char *s, long long *out)
{
	int64_t v;

	if (spec_log_size(s, &v) != 0 || v < 1 || v > PARAMS_LOGS_MAX)
		return -1;
	*out = v;
	return 0;
}

/* The same colour for a path every time. */
static const char *
logs_color(const char *path)
{
	static const char *const sgr[] = { "36", "33", "32", "35", "34", "31",
		"96", "93", "92", "95" };
	unsigned h = 5381;

	for (const char *p = path; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	return sgr[h % (sizeof sgr / sizeof sgr[0])];
}

static bool
logs_prefixed(const struct logs_state *st, const char *path)
{
	return st->npaths > 1 || strcmp(path, st->paths[0]) != 0;
}

static void
logs_prefix(struct ctl *c, const struct logs_state *st, const char *path)
{
	if (!logs_prefixed(st, path))
		return;
	if (c->color)
		printf("\033[%sm", logs_color(path));
	ctl_put_safe(stdout, path, strlen(path));
	fputs(c->color ? " |\033[0m " : " | ", stdout);
}

/* One line, for people or as JSON. run < 0: not known (live lines). */
static void
logs_line(struct ctl *c, struct logs_state *st, const char *path,
    const char *stream, json_int_t run, json_int_t t_ms, const char *text,
    size_t len)
{
	json_t *last;

	if (path == NULL || stream == NULL)
		return;
	if (c->json) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:o}", "t_ms", t_ms,
		    "stream", stream, "path", path, "text",
		    json_stringn(text, len));

		if (o != NULL && run >= 0)
			json_object_set_new(o, "run", json_integer(run));
		if (o != NULL)
			ctl_json_print(c, o);
		json_decref(o);
		return;
	}
	last = json_object_get(st->runs, path);
	if (run >= 0 && last != NULL && json_integer_value(last) != run) {
		logs_prefix(c, st, path);
		printf("-- run %lld --\n", (long long)run);
	}
	if (run >= 0)
		json_object_set_new(st->runs, path, json_integer(run));
	logs_prefix(c, st, path);
	/* The program's own bytes, as it wrote them: like cat. */
	fwrite(text, 1, len, stdout);
	putchar('\n');
}

static int
logs_rec_cmp(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	json_int_t tx = json_integer_value(json_object_get(*x, "t_ms"));
	json_int_t ty = json_integer_value(json_object_get(*y, "t_ms"));
	json_int_t ix = json_integer_value(json_object_get(*x, "i"));
	json_int_t iy = json_integer_value(json_object_get(*y, "i"));

	if (tx != ty)
		return (tx > ty) - (tx < ty);
	return (ix > iy) - (ix < iy);
}

/* The answers' records, merged by time. */
static void
logs_print_results(struct ctl *c, struct logs_state *st, json_t **results,
    int n)
{
	json_t **v = NULL, *r;
	size_t nv = 0, k, cap = 0;

	for (int i = 0; i < n; i++) {
		json_t *recs = json_object_get(results[i], "records");

		json_array_foreach(recs, k, r) {
			if (nv == cap) {
				json_t **nvv;

				cap = cap ? cap * 2 : 256;
				if ((nvv = realloc(v, cap * sizeof *v)) ==
				    NULL) {
					free(v);
					ctl_oom();
					return;
				}
				v = nvv;
			}
			/* Order of arrival breaks ties: a stable merge. */
			json_object_set_new(r, "i",
			    json_integer((json_int_t)nv));
			v[nv++] = r;
		}
	}
	if (n > 1)
		qsort(v, nv, sizeof *v, logs_rec_cmp);
	for (size_t i = 0; i < nv; i++) {
		json_t *t = json_object_get(v[i], "text");

		json_object_del(v[i], "i");
		logs_line(c, st, ctl_str(v[i], "path"), ctl_str(v[i], "stream"),
		    json_integer_value(json_object_get(v[i], "run")),
		    json_integer_value(json_object_get(v[i], "t_ms")),
		    json_string_value(t), json_string_length(t));
	}
	free(v);
	fflush(stdout);
}

/* An output event: its lines; a line not ended waits for its end. */
static void
logs_output(struct ctl *c, struct logs_state *st, const json_t *p)
{
	const char *path = ctl_str(p, "path"), *stream = ctl_str(p, "stream");
	const json_t *d = json_object_get(p, "data");
	json_int_t t = json_integer_value(json_object_get(p, "ts_ms"));
	const char *s, *nl;
	char key[PROTO_PATH_MAX + 16];
	json_t *pend;
	size_t len;

	if (path == NULL || !json_is_string(d))
		return;
	if (stream == NULL)
		stream = "stdout";
	if (strcmp(st->stream, "both") != 0 && strcmp(st->stream, stream) != 0)
		return;
	snprintf(key, sizeof key, "%s %s", stream, path);
	s = json_string_value(d);
	len = json_string_length(d);
	while (len > 0) {
		nl = memchr(s, '\n', len);
		if (nl == NULL) {
			pend = json_object_get(st->pending, key);
			json_object_set_new(st->pending, key,
			    json_sprintf("%s%.*s",
			        pend ? json_string_value(pend) : "", (int)len,
			        s));
			break;
		}
		if ((pend = json_object_get(st->pending, key)) != NULL) {
			char *whole;

			if (asprintf(&whole, "%s%.*s", json_string_value(pend),
			        (int)(nl - s), s) != -1) {
				logs_line(c, st, path, stream, -1, t, whole,
				    strlen(whole));
				free(whole);
			}
			json_object_del(st->pending, key);
		} else {
			logs_line(c, st, path, stream, -1, t, s,
			    (size_t)(nl - s));
		}
		len -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	fflush(stdout);
}

static int
logs_path_index(const struct logs_state *st, const char *path)
{
	for (int i = 0; i < st->npaths; i++)
		if (path != NULL && strcmp(st->paths[i], path) == 0)
			return i;
	return -1;
}

/* One notification of -f: 0 to go on, -1 once every node is gone, else
 * the exit status. */
static int
logs_event(struct ctl *c, struct logs_state *st, const json_t *p)
{
	const char *type = ctl_str(p, "type"), *path = ctl_str(p, "path");
	int i;

	if (type == NULL)
		return 0;
	if (strcmp(type, "output") == 0) {
		logs_output(c, st, p);
	} else if (strcmp(type, "state") == 0 && !c->json && path != NULL &&
	    ctl_str(p, "to") != NULL &&
	    strcmp(ctl_str(p, "to"), "starting") == 0) {
		/* A new run began: its lines follow this mark. */
		logs_prefix(c, st, path);
		fputs("-- new run --\n", stdout);
		fflush(stdout);
	} else if (strcmp(type, "removed") == 0 &&
	    (i = logs_path_index(st, path)) >= 0) {
		st->removed[i] = true;
		for (i = 0; i < st->npaths; i++)
			if (!st->removed[i])
				return 0;
		return -1;
	} else if (strcmp(type, "gap") == 0) {
		fflush(stdout);
		fprintf(stderr, "arborctl: some output was lost\n");
	} else if (strcmp(type, "overflow") == 0) {
		/* Too slow: the daemon dropped the watches; pick up where
		 * it said, on each (the others answer "no such"). */
		json_int_t seq = json_integer_value(json_object_get(p, "seq"));

		for (i = 0; i < st->npaths; i++) {
			int rc = ctl_watch_send(c, st->paths[i], true, true,
			    seq, &st->watch_ids[i]);

			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static json_t *
logs_params(const char *path, long long lines, long long bytes,
    const char *stream, int64_t since_ms)
{
	json_t *p = json_pack("{s:s,s:s,s:b}", "path", path, "stream", stream,
	    "records", 1);

	if (p == NULL)
		return NULL;
	if (lines >= 0)
		json_object_set_new(p, "lines", json_integer(lines));
	if (bytes >= 0)
		json_object_set_new(p, "bytes", json_integer(bytes));
	if (since_ms > 0)
		json_object_set_new(p, "since_ms", json_integer(since_ms));
	return p;
}

/* The tails and the watches in one batch, which the daemon runs in one
 * go, so no line falls between the two; then the events. */
static int
logs_follow(struct ctl *c, struct logs_state *st, json_t **params)
{
	json_int_t first = c->next_id;
	json_t *batch = json_array(), *msg, *r, **results;
	size_t k;
	int rc, n = st->npaths;

	if (batch == NULL ||
	    (results = calloc((size_t)n, sizeof *results)) == NULL) {
		json_decref(batch);
		return ctl_oom();
	}
	for (int i = 0; i < n; i++)
		json_array_append_new(batch,
		    proto_rpc_call(c->next_id++, "logs", params[i]));
	for (int i = 0; i < n; i++) {
		st->watch_ids[i] = c->next_id++;
		json_array_append_new(batch,
		    proto_rpc_call(st->watch_ids[i], "watch",
		        json_pack("{s:s,s:b}", "path", st->paths[i], "output",
		            1)));
	}
	rc = ctl_send_json(c, batch);
	json_decref(batch);
	while (rc == 0) {
		if ((rc = ctl_next(c, &msg)) != 0)
			break;
		if (json_is_array(msg)) {
			json_array_foreach(msg, k, r) {
				json_int_t id = json_integer_value(
				    json_object_get(r, "id"));

				if (json_object_get(r, "error") != NULL) {
					rc = ctl_report_error(c, r);
					break;
				}
				if (id >= first && id < first + n)
					results[id - first] = json_incref(
					    json_object_get(r, "result"));
			}
			if (rc == 0)
				logs_print_results(c, st, results, n);
		} else if (json_object_get(msg, "error") != NULL) {
			rc = ctl_report_error(c, msg);
		} else if (json_is_object(json_object_get(msg, "params"))) {
			rc = logs_event(c, st, json_object_get(msg, "params"));
		}
		json_decref(msg);
	}
	for (int i = 0; i < n; i++)
		json_decref(results[i]);
	free(results);
	return rc == -1 ? CTL_EXIT_OK : rc;
}

static int
logs_reopen(struct ctl *c, int argc, char **argv)
{
	json_t *params, *result;
	const char *path;
	int rc;

	if ((rc = ctl_one_path(c, argc, argv, "/", &path)) != 0)
		return rc;
	if ((params = json_pack("{s:s}", "path", path)) == NULL)
		return ctl_oom();
	if ((rc = ctl_call(c, "reopen", params, &result)) != 0)
		return rc;
	if (c->json)
		ctl_json_print(c, result);
	else
		printf("reopened %lld log files\n",
		    (long long)json_integer_value(
		        json_object_get(result, "files")));
	json_decref(result);
	return CTL_EXIT_OK;
}

/* Drops a path inside another one given: its lines come once. */
static int
logs_dedup(char **paths, int n)
{
	int out = 0;

	for (int i = 0; i < n; i++) {
		bool inside = false;

		for (int j = 0; j < n && !inside; j++) {
			size_t lj = strlen(paths[j]);

			if (i == j)
				continue;
			if (strcmp(paths[i], paths[j]) == 0)
				inside = j < i;
			else if (strcmp(paths[j], "/") == 0 ||
			    (strncmp(paths[i], paths[j], lj) == 0 &&
			        paths[i][lj] == '/'))
				inside = true;
		}
		if (!inside)
			paths[out++] = paths[i];
	}
	return out;
}

/* What logs' options ask for. */
struct logs_opts {
	long long lines, bytes; /* -1: not given */
	int64_t since;          /* -1: not given */
	bool follow, reopen;
	const char *stream;
};

/* The options into o: CTL_CONTINUE, or the exit status of a usage
 * error or of --help. */
static int
logs_opts_parse(struct ctl *c, int argc, char **argv, struct logs_opts *o)
{
	static const struct option opts[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'c' },
		{ "follow", no_argument, NULL, 'f' },
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "reopen", no_argument, NULL, OPT_REOPEN },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	int ch, rc;

	*o = (struct logs_opts){ .lines = -1,
		.bytes = -1,
		.since = -1,
		.stream = "both" };
	while ((ch = getopt_long(argc, argv, "+:hn:c:f", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (ctl_parse_int(optarg, 0, PARAMS_LOGS_LINES_MAX,
			        &o->lines) != 0)
				return ctl_usage(c,
				    "--lines wants a number from 0 to %d, "
				    "not '%s'",
				    PARAMS_LOGS_LINES_MAX, optarg);
			break;
		case 'c':
			if (logs_bytes(optarg, &o->bytes) != 0)
				return ctl_usage(c,
				    "--bytes wants a size from "
				    "1 to %d (K and M allowed), not '%s'",
				    PARAMS_LOGS_MAX, optarg);
			break;
		case 'f':
			o->follow = true;
			break;
		case OPT_STREAM:
			if (strcmp(optarg, "stdout") != 0 &&
			    strcmp(optarg, "stderr") != 0 &&
			    strcmp(optarg, "both") != 0)
				return ctl_usage(c,
				    "--stream wants stdout, stderr or both, "
				    "not '%s'",
				    optarg);
			o->stream = optarg;
			break;
		case OPT_SINCE:
			if ((rc = ctl_parse_duration(c, "--since", optarg,
			         &o->since)) != 0)
				return rc;
			break;
		case OPT_REOPEN:
			o->reopen = true;
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	return CTL_CONTINUE;
}

static int
logs_run(struct ctl *c, int argc, char **argv)
{
	struct logs_opts o;
	struct logs_state st;
	int64_t since_ms = 0;
	json_t **params = NULL, **results = NULL;
	int rc, n;

	if ((rc = logs_opts_parse(c, argc, argv, &o)) != CTL_CONTINUE)
		return rc;
	memset(&st, 0, sizeof st);
	st.stream = o.stream;
	if (o.reopen)
		return logs_reopen(c, argc, argv);
	if (optind >= argc)
		return ctl_usage(c, "logs wants a PATH");
	for (int i = optind; i < argc; i++)
		if ((rc = ctl_check_path(c, argv[i])) != 0)
			return rc;
	if (o.lines < 0 && o.bytes < 0)
		o.lines = 50;
	if (o.since >= 0) {
		struct timeval tv;

		gettimeofday(&tv, NULL);
		since_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 -
		    o.since;
		if (since_ms < 1)
			since_ms = 1;
	}
	st.paths = argv + optind;
	st.npaths = n = logs_dedup(argv + optind, argc - optind);
	st.runs = json_object();
	st.pending = json_object();
	st.removed = calloc((size_t)n, sizeof *st.removed);
	st.watch_ids = calloc((size_t)n, sizeof *st.watch_ids);
	params = calloc((size_t)n, sizeof *params);
	results = calloc((size_t)n, sizeof *results);
	if (st.runs == NULL || st.pending == NULL || st.removed == NULL ||
	    st.watch_ids == NULL || params == NULL || results == NULL) {
		rc = ctl_oom();
		goto out;
	}
	for (int i = 0; i < n; i++)
		if ((params[i] = logs_params(st.paths[i], o.lines, o.bytes,
		         st.stream, since_ms)) == NULL) {
			rc = ctl_oom();
			goto out;
		}
	if (o.follow) {
		rc = logs_follow(c, &st, params);
		memset(params, 0, (size_t)n * sizeof *params); /* stolen */
		goto out;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		rc = ctl_call(c, "logs", params[i], &results[i]);
		params[i] = NULL; /* stolen */
	}
	if (rc == 0)
		logs_print_results(c, &st, results, n);
out:
	for (int i = 0; params != NULL && i < n; i++)
		json_decref(params[i]);
	for (int i = 0; results != NULL && i < n; i++)
		json_decref(results[i]);
	free(params);
	free(results);
	free(st.removed);
	free(st.watch_ids);
	json_decref(st.runs);
	json_decref(st.pending);
	return rc;
}
