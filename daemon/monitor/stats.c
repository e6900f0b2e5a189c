/* The daemon's numbers: the stats result and terminations by cause. */
#include <stdio.h>
#include <unistd.h>

#include "cause.h"
#include "cgroup.h"
#include "daemon.h"
#include "events.h"
#include "node.h"
#include "reaper.h"
#include "server.h"
#include "spec.h"
#include "state.h"
#include "stats.h"
#include "tree.h"

const char *const stats_exit_class_names[] = {
	[CAUSE_CANCELLED] = "cancelled",
	[CAUSE_DEADLINE] = "deadline",
	[CAUSE_INTENSITY] = "intensity",
	[CAUSE_SHUTDOWN] = "shutdown",
	[CAUSE_PARENT] = "parent",
	[CAUSE_SIBLING] = "sibling",
	[CAUSE_START_FAILED] = "start_failed",
	[CAUSE_EXIT] = "exit",
	[CAUSE_SIGNAL] = "signal",
	[CAUSE_WATCHDOG] = "watchdog",
	[CAUSE_HEALTH] = "health",
	[CAUSE_OTHER] = "other",
	NULL,
};

void
stats_tree_event(struct stats *st, const struct tree_event *ev)
{
	if (ev->type == TREE_EV_STATE && ev->ended)
		st->exits[cause_class(ev->node->cause)]++;
}

int64_t
stats_rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : (int64_t)rss * sysconf(_SC_PAGESIZE);
}

json_t *
stats_json(struct daemon *d)
{
	const struct tree_stats *st = &d->tree->stats;
	json_t *by_state, *by_kind, *exits, *obj;

	by_state = json_object();
	for (int i = 0; i < NODE__STATES; i++)
		json_object_set_new(by_state, node_state_names[i],
		    json_integer((json_int_t)st->by_state[i]));
	by_kind = json_object();
	for (int i = 0; i < KIND__COUNT; i++)
		json_object_set_new(by_kind, spec_kind_names[i],
		    json_integer((json_int_t)st->by_kind[i]));
	exits = json_object();
	for (int i = 0; i < STATS_EXIT__CLASSES; i++)
		json_object_set_new(exits, stats_exit_class_names[i],
		    json_integer((json_int_t)d->stats.exits[i]));
	obj = json_pack("{s:I,s:o,s:o,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,"
	                "s:I}",
	    "nodes", (json_int_t)st->nodes, "by_state", by_state, "by_kind",
	    by_kind, "spawns", (json_int_t)st->spawns, "restarts",
	    (json_int_t)st->restarts, "cancels", (json_int_t)st->cancels,
	    "exits", exits, "connections", (json_int_t)d->server->nconns,
	    "subscriptions", (json_int_t)events_sub_count(d->events),
	    "event_seq", (json_int_t)events_seq(d->events), "rss_bytes",
	    (json_int_t)stats_rss_bytes(), "uptime_ms",
	    (json_int_t)daemon_uptime_ms(d));
	if (obj != NULL) {
		/* Children reaped that no node started: orphans of workers. */
		json_object_set_new(obj, "strays",
		    json_integer((json_int_t)reaper_strays()));
		state_stats(d->state, obj); /* --state: writes, errors */
		json_object_set_new(obj, "cgroups", cgroup_stats_json());
	}
	return obj;
}
