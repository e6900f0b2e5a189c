/*
 * The daemon's numbers, in one place for `stats` (rpc-stats.c) and HTTP
 * (/v1/stats, /metrics): the tree's counters plus what the tree does not
 * count, terminations by a bounded class of cause.
 */
#ifndef STATS_H
#define STATS_H

#include <stdint.h>
#include <jansson.h>

#include "cause.h"

struct daemon;
struct tree_event;

/* Why runs ended: the classes of causes (cause.h), metric labels. */
#define STATS_EXIT__CLASSES CAUSE__CLASSES

extern const char *const stats_exit_class_names[];

struct stats {
	uint64_t exits[STATS_EXIT__CLASSES]; /* ends of runs, by class */
};

/* The tree hook's share: counts every end of a run, restarted or not. */
void stats_tree_event(struct stats *st, const struct tree_event *ev);
/* The `stats` result (PROTOCOL.md), plus by_kind and exits. */
json_t *stats_json(struct daemon *d);
/* Resident set size from /proc/self/statm; -1 when unknown. */
int64_t stats_rss_bytes(void);

#endif
