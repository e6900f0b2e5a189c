/*
 * --state FILE: the nodes clients spawned that must come back after a
 * restart, written atomically (FILE.new, fsync, rename, fsync of the
 * directory) a short while after each change, coalesced, and read back at
 * start. Saved: every node not created from --config whose restart type
 * is permanent and that has not terminated, with its subtree (the nodes
 * of it that have not terminated), under the path of its parent.
 */
#ifndef STATE_H
#define STATE_H

#include <stdint.h>
#include <jansson.h>

#include "err.h"

struct daemon;
struct tree_event;
struct state;

/* NULL when out of memory. Every function below takes NULL (no --state)
 * and does nothing then. */
struct state *state_new(struct daemon *d, const char *path);
void state_free(struct state *s);

/* Reads and checks the file whole (a missing file is an empty state);
 * -1 with err when it cannot be used. */
int state_load(struct state *s, struct proto_err *err);
/* Spawns what state_load read; an entry that no longer fits (its parent is
 * gone, its name is taken) is logged and dropped. */
void state_restore(struct state *s);

/* The tree hook's share: schedules a write when the saved set may have
 * changed. */
void state_tree_event(struct state *s, const struct tree_event *ev);
/* Writes now if a write is pending, then stops writing (shutdown: what
 * was running before it is what comes back). */
void state_freeze(struct state *s);

/* Adds state_writes, state_errors and state_last_error to a stats
 * object (zeros and null without --state). */
void state_stats(const struct state *s, json_t *obj);
/* The same counters, for /metrics. */
void state_counts(const struct state *s, uint64_t *writes, uint64_t *errors);

#endif
