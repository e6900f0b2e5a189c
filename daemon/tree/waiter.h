/*
 * Waiting for a node to reach a state: `wait`, `cancel` with wait. A waiter
 * is owned by whoever added it (an RPC call) and released with waiter_free;
 * the waiters set only indexes them by node id. A waiter fires at most once,
 * always from the loop (never from inside a tree change), so its callback
 * may change the tree and free the waiter.
 */
#ifndef WAITER_H
#define WAITER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "index.h"

struct event_base;
struct event;
struct node;
struct tree;
struct tree_event;

enum waiter_cond {
	WAITER_TERMINATED, /* the node is terminated; for the root,
	                      every child of it is */
	WAITER_RUNNING,
	WAITER_BACK, /* running again after a restart and, with a health
	                check, passing it (worker_ops.healthy); a run that
	                ends first (backoff, exited, failed; a failing
	                check ends it) fires WAITER_FAILED */
};

enum waiter_status {
	WAITER_DONE,
	WAITER_TIMEOUT,
	WAITER_REMOVED, /* the node was removed meanwhile */
	WAITER_FAILED,  /* WAITER_BACK: the run ended instead */
};

struct waiter;
typedef void waiter_cb(struct waiter *w, enum waiter_status st, void *arg);

struct waiters {
	struct event_base *base; /* borrowed */
	struct tree *tree;       /* borrowed */
	struct idmap by_node;    /* node id -> first waiter */
	struct waiter *fired;    /* list, fired and not yet called */
	struct event *fire_ev;   /* owned */
	uint64_t count;
};

int
waiters_init(struct waiters *ws, struct event_base *base, struct tree *tree);
/* Every waiter must have been freed by its owner first. */
void waiters_free(struct waiters *ws);
/* The tree hook's share: checks the waiters the event concerns. */
void waiters_event(struct waiters *ws, const struct tree_event *ev);

bool waiter_cond_true(const struct tree *t, const struct node *n,
    enum waiter_cond cond);
/* timeout_ms -1: none. Returns NULL when out of memory. */
struct waiter *waiter_add(struct waiters *ws, struct node *n,
    enum waiter_cond cond, int64_t timeout_ms, waiter_cb *cb, void *arg);
uint64_t waiter_node_id(const struct waiter *w);
/* The node's view as it was when its condition held (NULL for a timeout
 * or a removal, or when out of memory): what the answer shows, though the
 * node may have moved on before the callback ran. */
const json_t *waiter_view(const struct waiter *w);
void waiter_free(struct waiter *w);

#endif
