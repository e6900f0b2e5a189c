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
#include <stdint.h>
#include <jansson.h>

#include "err.h"

struct node;

/* A line of a worker's output, as `logs` reads it. */
struct worker_line {
	int64_t t_ms;     /* when it was read, wall clock */
	uint64_t seq;     /* order among the worker's lines */
	uint32_t run;     /* the run it came from, from 1 */
	uint8_t stream;   /* 0 stdout, 1 stderr */
	uint8_t flags;    /* 1: cut (goes on in the next), 2: no newline */
	const char *text; /* valid during the call */
	size_t len;
};
typedef int worker_line_fn(void *arg, const struct worker_line *l);

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
	/* Optional: the accounting fields of the view; read from the
	 * kernel when fresh, else only what is known without a read (a
	 * run's that ended), null the rest. */
	void (*acct)(const struct node *n, json_t *view, bool fresh);
	/* Releases whatever the work still holds; the work has ended, or the
	 * daemon is tearing down. Must leave node->work NULL. */
	void (*free)(struct node *n);
	/* Optional: the lines of output kept for `logs`, of the streams in
	 * the mask (1 stdout, 2 stderr) read at or after since_ms, each
	 * stream oldest first; *lost when older lines of them are gone.
	 * -1 when fn returned -1. */
	int (*lines)(const struct node *n, unsigned streams, int64_t since_ms,
	    worker_line_fn *fn, void *arg, bool *lost);
	/* Optional: opens the worker's log files again (after an external
	 * logrotate); how many it reopened. */
	int (*reopen)(struct node *n);
	/* Optional: the node became running (exec begins health checks). */
	void (*running)(struct node *n);
	/* Optional: n->spec was replaced in place by one with the same work
	 * (a reload): take on its policy (exec: its health check). */
	void (*policy)(struct node *n);
	/* Optional: whether the node passed its health check in its
	 * current run (a result of an earlier run does not count); true
	 * when its spec has no check. Without the op: true. */
	bool (*healthy)(const struct node *n);
};

extern const struct worker_ops worker_sleep_ops;
extern const struct worker_ops worker_tick_ops;
extern const struct worker_ops worker_fail_ops;
extern const struct worker_ops worker_exec_ops;

#endif
