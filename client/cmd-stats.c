/* arborctl stats: the daemon's counters. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int stats_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_stats = {
	.name = "stats",
	.usage = "stats",
	.summary = "show the daemon's counters: nodes by state, spawns, "
	           "restarts, memory",
	.run = stats_run,
};

/* The key column's width: the longest key shown, so every row aligns. */
static int stats_width = 12;

static void
stats_key(const char *key)
{
	printf("%-*s  ", stats_width, key);
}

/* A value as for people: integers and strings bare, null "-". */
static void
stats_value(const json_t *v)
{
	if (json_is_integer(v))
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_string(v))
		ctl_put_safe(stdout, json_string_value(v),
		    json_string_length(v));
	else if (v == NULL || json_is_null(v))
		putchar('-');
	else if (json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
		putchar('?');
	putchar('\n');
}

static void
stats_kv(const char *key, const char *text)
{
	stats_key(key);
	puts(text != NULL ? text : "-");
}

/* "12 (running 10, exited 2)": states with no node left out. */
static void
stats_nodes(const json_t *nodes, const json_t *by_state)
{
	const char *state;
	const json_t *n;
	int shown = 0;

	stats_key("nodes");
	if (!json_is_integer(nodes) || !json_is_object(by_state)) {
		stats_value(nodes);
		return;
	}
	printf("%" JSON_INTEGER_FORMAT, json_integer_value(nodes));
	json_object_foreach((json_t *)by_state, state, n) {
		if (json_is_integer(n) && json_integer_value(n) == 0)
			continue;
		fputs(shown++ == 0 ? " (" : ", ", stdout);
		ctl_put_safe(stdout, state, strlen(state));
		putchar(' ');
		if (json_is_integer(n))
			printf("%" JSON_INTEGER_FORMAT, json_integer_value(n));
		else
			putchar('?');
	}
	puts(shown > 0 ? ")" : "");
}

/* An object of counters as a table under its title, names and numbers
 * aligned: "  exec          3". */
static void
stats_table(const char *title, const json_t *obj)
{
	const char *key;
	const json_t *v;
	int width = 0;

	if (!json_is_object(obj)) {
		if (obj != NULL) {
			stats_key(title);
			stats_value(obj);
		}
		return;
	}
	json_object_foreach((json_t *)obj, key, v) {
		if ((int)strlen(key) > width)
			width = (int)strlen(key);
	}
	printf("%s\n", title);
	json_object_foreach((json_t *)obj, key, v) {
		printf("  %-*s  ", width, key);
		if (json_is_integer(v))
			printf("%8" JSON_INTEGER_FORMAT "\n",
			    json_integer_value(v));
		else
			stats_value(v);
	}
}

static void
stats_print(json_t *result)
{
	static const char *const shown[] = {
		"nodes",
		"by_state",
		"spawns",
		"restarts",
		"cancels",
		"connections",
		"rss_bytes",
		"uptime_ms",
		"by_kind",
		"exits",
		NULL,
	};
	const char *const *k;
	const char *key;
	const json_t *v;
	char buf[32];

	json_object_foreach(result, key, v) {
		if ((int)strlen(key) > stats_width && strlen(key) < 40)
			stats_width = (int)strlen(key);
	}
	stats_nodes(json_object_get(result, "nodes"),
	    json_object_get(result, "by_state"));
	stats_key("spawns");
	stats_value(json_object_get(result, "spawns"));
	stats_key("restarts");
	stats_value(json_object_get(result, "restarts"));
	stats_key("cancels");
	stats_value(json_object_get(result, "cancels"));
	stats_key("connections");
	stats_value(json_object_get(result, "connections"));
	v = json_object_get(result, "rss_bytes");
	stats_kv("rss",
	    json_is_integer(v) ?
	        ctl_fmt_bytes(json_integer_value(v), buf, sizeof buf) :
	        NULL);
	v = json_object_get(result, "uptime_ms");
	stats_kv("uptime",
	    json_is_integer(v) ?
	        ctl_fmt_ago(json_integer_value(v), buf, sizeof buf) :
	        NULL);

	/* Counters a newer daemon adds still show. */
	json_object_foreach(result, key, v) {
		for (k = shown; *k != NULL; k++) {
			if (strcmp(*k, key) == 0)
				break;
		}
		if (*k == NULL && !json_is_object(v)) {
			stats_key(key);
			stats_value(v);
		}
	}
	/* Then the tables, each under its title. */
	stats_table("by kind", json_object_get(result, "by_kind"));
	stats_table("exits", json_object_get(result, "exits"));
	json_object_foreach(result, key, v) {
		for (k = shown; *k != NULL; k++) {
			if (strcmp(*k, key) == 0)
				break;
		}
		if (*k == NULL && json_is_object(v))
			stats_table(key, v);
	}
}

static int
stats_run(struct ctl *c, int argc, char **argv)
{
	json_t *result;
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 0, 0, NULL)) != CTL_CONTINUE)
		return rc;
	if ((rc = ctl_call(c, "stats", NULL, &result)) != 0)
		return rc;
	if (c->json)
		ctl_json_print(c, result);
	else if (json_is_object(result))
		stats_print(result);
	else
		ctl_json_print(c, result);
	json_decref(result);
	return CTL_EXIT_OK;
}
