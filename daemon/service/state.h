/*
 * --state FILE: the nodes clients spawned that must come back after a
 * restart, written atomically (FILE.new, fsync, rename, fsync of the
 * directory) at the start of the loop turn after a change, one write for
 * all the changes of a turn (group commit), and read back at start.
 * Saved: every node not created from --config whose restart type is
 * permanent, under the path of its parent: a live one with the nodes of
 * its subtree that have not terminated and those a client stopped, a
 * terminated one (a client stopped it) whole; a stopped node is marked
 * "stopped" with its cause, to come back exited in its place. Calls that
 * changed what is saved wait for the write (state_sync); the state owns those
 * waits until it calls them back.
 */
#ifndef STATE_H
#define STATE_H

#include <stdint.h>
#include <jansson.h>

#include "err.h"

struct daemon;
struct tree_event;
struct node;
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
/* n's spec changed in place (apply): its entry is written again. */
void state_node_updated(struct state *s, const struct node *n);
/* Writes now if a write is pending, then stops writing (shutdown: what
 * was running before it is what comes back). Waiting syncs are called. */
void state_freeze(struct state *s);

/* Waiting for the changes made so far to be on disk. cb gets NULL once
 * they are, or a sentence when the write failed (the change stays in the
 * tree and is retried). */
struct state_sync;
typedef void state_sync_cb(void *arg, const char *error);
/* 0: nothing to wait for (no --state, or all on disk); 1: *out waits and
 * cb will be called (unless cancelled); -1: out of memory. */
int state_sync(struct state *s, state_sync_cb *cb, void *arg,
    struct state_sync **out);
/* The caller stops waiting (its connection went away): cb is not called. */
void state_sync_cancel(struct state *s, struct state_sync *w);

/* Adds state_writes, state_errors and state_last_error to a stats
 * object (zeros and null without --state). */
void state_stats(const struct state *s, json_t *obj);
/* The same counters, for /metrics. */
void state_counts(const struct state *s, uint64_t *writes, uint64_t *errors);

#endif
