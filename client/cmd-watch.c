/* arborctl watch: print the events of a subtree as they happen. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonrpc.h"
#include "ctl.h"

static int watch_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_watch = {
	.name = "watch",
	.usage =
	    "watch [--output] [--since SEQ] [PATH]\n"
	    "\n"
	    "      --output     output of workers too\n"
	    "      --since SEQ  first replay the events after SEQ that the\n"
	    "                   daemon still holds\n"
	    "Runs until interrupted. With --json, each event's params as one\n"
	    "line of JSON.\n",
	.summary = "print the events of a subtree as they happen",
	.run = watch_run,
};

enum {
	OPT_OUTPUT = CTL_OPT_CMD,
	OPT_SINCE,
};

/* "12:00:01.234" in local time. */
static void
watch_time(json_int_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[16];

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%H:%M:%S", &tm) == 0)
		strcpy(buf, "??:??:??");
	printf("%s.%03d ", buf, (int)(ms % 1000));
}

static void
watch_put(const char *s)
{
	if (s != NULL)
		ctl_put_safe(stdout, s, strlen(s));
}

/* One event for people. */
static void
watch_print(const json_t *p)
{
	const char *type = ctl_str(p, "type"), *cause = ctl_str(p, "cause");
	const json_t *data;

	watch_time(json_integer_value(json_object_get(p, "ts_ms")));
	if (type == NULL)
		type = "?";
	if (strcmp(type, "gap") == 0) {
		printf("-- gap: events up to seq %lld were missed\n",
		    (long long)json_integer_value(json_object_get(p, "seq")));
		return;
	}
	if (strcmp(type, "overflow") == 0) {
		printf("-- overflow: too slow to read; resuming after seq "
		       "%lld\n",
		    (long long)json_integer_value(json_object_get(p, "seq")));
		return;
	}
	watch_put(ctl_str(p, "path"));
	if (strcmp(type, "state") == 0) {
		putchar(' ');
		watch_put(ctl_str(p, "from"));
		fputs(" -> ", stdout);
		watch_put(ctl_str(p, "to"));
		if (cause != NULL) {
			fputs(" (", stdout);
			watch_put(cause);
			putchar(')');
		}
	} else if (strcmp(type, "spawned") == 0) {
		fputs(" spawned", stdout);
		if (ctl_str(p, "kind") != NULL) {
			fputs(" (", stdout);
			watch_put(ctl_str(p, "kind"));
			putchar(')');
		}
	} else if (strcmp(type, "status") == 0) {
		/* sd_notify STATUS=: text, or null when a new run clears it */
		fputs(" status: ", stdout);
		watch_put(
		    ctl_str(p, "status") != NULL ? ctl_str(p, "status") : "-");
	} else if (strcmp(type, "output") == 0 &&
	    json_is_string(data = json_object_get(p, "data"))) {
		const char *s = json_string_value(data), *nl;
		size_t len = json_string_length(data), n;

		/* A line each, every one with the time and path. */
		for (;;) {
			nl = memchr(s, '\n', len);
			n = nl != NULL ? (size_t)(nl - s) : len;
			fputs(" | ", stdout);
			ctl_put_safe(stdout, s, n);
			if (nl == NULL || n + 1 == len)
				break;
			s += n + 1;
			len -= n + 1;
			putchar('\n');
			watch_time(
			    json_integer_value(json_object_get(p, "ts_ms")));
			watch_put(ctl_str(p, "path"));
		}
	} else {
		putchar(' ');
		watch_put(type);
	}
	putchar('\n');
}

/* Sends watch; the answer is read with the events. */
int
ctl_watch_send(struct ctl *c, const char *path, bool output, bool has_since,
    json_int_t since, json_int_t *id)
{
	json_t *params = json_pack("{s:s,s:b}", "path", path, "output", output);

	if (params != NULL && has_since)
		json_object_set_new(params, "since", json_integer(since));
	return ctl_send(c, "watch", params, id);
}

static int
watch_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", no_argument, NULL, OPT_OUTPUT },
		{ "since", required_argument, NULL, OPT_SINCE },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *path;
	bool output = false, has_since = false;
	long long since = 0;
	json_int_t id;
	json_t *msg, *p;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_OUTPUT:
			output = true;
			break;
		case OPT_SINCE:
			if (ctl_parse_int(optarg, 0, INT64_MAX, &since) != 0)
				return ctl_usage(c,
				    "--since wants an event "
				    "seq, not '%s'",
				    optarg);
			has_since = true;
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	if ((rc = ctl_one_path(c, argc, argv, "/", &path)) != 0)
		return rc;
	if ((rc = ctl_watch_send(c, path, output, has_since, since, &id)) != 0)
		return rc;
	for (;;) {
		if ((rc = ctl_next(c, &msg)) != 0)
			return rc;
		if (json_integer_value(json_object_get(msg, "id")) == id &&
		    json_object_get(msg, "error") != NULL) {
			rc = ctl_report_error(c, msg);
			json_decref(msg);
			return rc;
		}
		p = json_object_get(msg, "params");
		if (!json_is_object(p) ||
		    strcmp(ctl_str(msg, "method") ? ctl_str(msg, "method") : "",
		        "event") != 0) {
			json_decref(msg);
			continue;
		}
		if (c->json)
			ctl_json_print(c, p);
		else
			watch_print(p);
		fflush(stdout);
		/* Too slow: the daemon dropped us; pick up where it said. */
		if (strcmp(ctl_str(p, "type") ? ctl_str(p, "type") : "",
		        "overflow") == 0 &&
		    (rc = ctl_watch_send(c, path, output, true,
		         json_integer_value(json_object_get(p, "seq")), &id)) !=
		        0) {
			json_decref(msg);
			return rc;
		}
		json_decref(msg);
	}
}
