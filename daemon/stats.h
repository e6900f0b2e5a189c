/*
 * The daemon's numbers, in one place for `stats` (rpc-stats.c) and HTTP
 * (/v1/stats, /metrics): the tree's counters plus what the tree does not
 * count, terminations by a bounded class of cause.
 */
#ifndef STATS_H
#define STATS_H

#include <stdint.h>
#include <jansson.h>

struct daemon;
struct tree_event;

/* Why nodes terminated: a fixed, small set (metric labels). */
enum stats_exit_class {
	STATS_EXIT_CANCELLED,
	STATS_EXIT_DEADLINE,
	STATS_EXIT_INTENSITY,
	STATS_EXIT_SHUTDOWN,
	STATS_EXIT_PARENT,
	STATS_EXIT_SIBLING,
	STATS_EXIT_START_FAILED,
	STATS_EXIT_EXIT,	/* ended on its own with an exit code */
	STATS_EXIT_SIGNAL,	/* killed by a signal it was not sent */
	STATS_EXIT_OTHER,
	STATS_EXIT__CLASSES
};

extern const char *const stats_exit_class_names[];

struct stats {
	uint64_t exits[STATS_EXIT__CLASSES];	/* -> exited or failed */
};

/* The tree hook's share: counts terminations. */
void stats_tree_event(struct stats *st, const struct tree_event *ev);
/* The `stats` result (PROTOCOL.md), plus by_kind and exits. */
json_t *stats_json(struct daemon *d);
/* Resident set size from /proc/self/statm; -1 when unknown. */
int64_t stats_rss_bytes(void);

#endif
