/*
 * Kinds of work plug in as tables of functions, one table per kind: the
 * built-in actors (actor.c) and external programs (exec.c). A worker's state
 * hangs off node->work and is owned by its ops: `start` creates it, `free`
 * releases it. Supervisors have no worker; they are the tree's own.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "err.h"

struct node;

struct worker_ops {
	const char *name;
	/*
	 * Begins the work. Returns 0 once it has begun, with *ready set when
	 * it is running already; later, from the loop and never from inside
	 * start, it calls node_work_ready (if it was not ready) and
	 * node_work_ended once the work is over. Returns -1 with err filled
	 * when it could not begin, holding no process, fd or timer. n->work
	 * may hold the record of the previous run: start reuses it (exec
	 * keeps its output across restarts) or frees it.
	 */
	int (*start)(struct node *n, bool *ready, struct proto_err *err);
	/* The done handle was closed: stop now. node_work_ended follows,
	 * perhaps before this returns. */
	void (*cancel)(struct node *n);
	/* Kind-specific fields for the node view (argv, pid, ticks, ...). */
	void (*view)(const struct node *n, json_t *view);
	/* Releases whatever the work still holds; the work has ended, or the
	 * daemon is tearing down. Must leave node->work NULL. */
	void (*free)(struct node *n);
	/* Optional: bytes of output kept for `logs`; NULL when none. */
	int (*logs)(const struct node *n, size_t bytes, json_t **data,
	    int *truncated);
	/* Optional: the node became running (exec begins health checks). */
	void (*running)(struct node *n);
	/* Optional: n->spec was replaced in place by one with the same work
	 * (a reload): take on its policy (exec: its health check). */
	void (*policy)(struct node *n);
};

extern const struct worker_ops worker_sleep_ops;
extern const struct worker_ops worker_tick_ops;
extern const struct worker_ops worker_fail_ops;
extern const struct worker_ops worker_exec_ops;

#endif
