/* arborctl stats: the daemon's counters. */
#ifdef HAVE_CONFIG_H
#endif

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

/* "12 (running 10, exited 2)": states with no node left out. */
static void
stats_nodes(struct ctl *c, const json_t *nodes, const json_t *by_state)
{
	const char *state;
	const json_t *n;
	int shown = 0;

	if (!json_is_integer(nodes) || !json_is_object(by_state)) {
		ctl_kv_json(c, "nodes", nodes);
		return;
	}
	printf("%-12s %" JSON_INTEGER_FORMAT, "nodes",
	    json_integer_value(nodes));
	json_object_foreach((json_t *)by_state, state, n)
	{
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

static void
stats_print(struct ctl *c, json_t *result)
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
		NULL,
	};
	const char *const *k;
	const char *key;
	const json_t *v;
	char buf[32];

	stats_nodes(c, json_object_get(result, "nodes"),
	    json_object_get(result, "by_state"));
	ctl_kv_json(c, "spawns", json_object_get(result, "spawns"));
	ctl_kv_json(c, "restarts", json_object_get(result, "restarts"));
	ctl_kv_json(c, "cancels", json_object_get(result, "cancels"));
	ctl_kv_json(c, "connections", json_object_get(result, "connections"));
	v = json_object_get(result, "rss_bytes");
	ctl_kv(c, "rss",
	    json_is_integer(v) ?
	        ctl_fmt_bytes(json_integer_value(v), buf, sizeof buf) :
	        NULL);
	v = json_object_get(result, "uptime_ms");
	ctl_kv(c, "uptime",
	    json_is_integer(v) ?
	        ctl_fmt_ago(json_integer_value(v), buf, sizeof buf) :
	        NULL);

	/* Counters a newer daemon adds still show. */
	json_object_foreach(result, key, v)
	{
		for (k = shown; *k != NULL; k++) {
			if (strcmp(*k, key) == 0)
				break;
		}
		if (*k == NULL)
			ctl_kv_json(c, key, v);
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
		stats_print(c, result);
	else
		ctl_json_print(c, result);
	json_decref(result);
	return CTL_EXIT_OK;
}
