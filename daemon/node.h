/*
 * A node of the tree and its lifecycle. A node owns its spec, its worker
 * state (through its ops), its children, its timers and one reference to
 * its cause. Its parent holds it in `children` and is the only one that can
 * close its done handle (node_cancel). The lifecycle is one table,
 * state x event -> action, in node.c.
 */
#ifndef NODE_H
#define NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "path.h"
#include "spec.h"

struct tree;
struct cause;
struct event;
struct worker_ops;
struct sup;

enum node_state {
	NODE_STARTING,
	NODE_RUNNING,
	NODE_BACKOFF,
	NODE_STOPPING,
	NODE_EXITED,
	NODE_FAILED,
	NODE__STATES
};

enum exit_kind {
	EXIT_NONE,
	EXIT_CODE,
	EXIT_SIGNAL,
};

struct node_exit {
	uint8_t kind;		/* enum exit_kind */
	int value;		/* code or signal number */
};

/* What the stop under way ends in; chosen when the stop begins. */
enum node_after {
	AFTER_EXIT,		/* terminated for good: exited */
	AFTER_START,		/* a client's restart: start again at once */
	AFTER_HOLD,		/* part of a group restart: wait in backoff
				   until the parent starts the group */
	AFTER_REPORT,		/* it ended on its own: the parent decides */
};

struct node_timers {
	struct event *deadline;	/* owned: timeout_ms */
	struct event *start;	/* owned: start_timeout_ms */
	struct event *backoff;	/* owned: the delay before a restart */
};

struct node {
	uint64_t id;
	struct tree *tree;		/* borrowed */
	struct node *parent;		/* borrowed; NULL for the root */
	struct node_spec *spec;		/* owned; children moved out */
	const struct worker_ops *ops;	/* NULL for supervisors */
	void *work;			/* owned through ops */
	struct node **children;		/* owned, in start order */
	uint32_t nchildren;
	uint32_t capchildren;
	uint32_t nlive;			/* children not terminated */
	uint32_t restarts;		/* starts after the first */
	uint8_t state;			/* enum node_state */
	uint8_t after;			/* enum node_after */
	bool work_live;			/* the worker has not ended */
	bool queued;			/* waits for its parent's ordered start */
	bool abnormal;			/* the run ended abnormally */
	bool given_up;			/* could not start, start timeout */
	bool ever_started;
	bool stopping;			/* act_stop is on the stack */
	bool grouped;			/* counted in the parent's group */
	bool from_config;		/* created from --config (config.c) */
	uint16_t backoff_n;		/* consecutive restarts */
	int64_t started_ms;		/* wall clock of the last start */
	int64_t running_mono;		/* monotonic ms it became running */
	int64_t due_ms;			/* wall clock of the next start */
	int64_t ended_ms;		/* wall clock the last run ended */
	struct node_exit exit;		/* of the last run */
	struct cause *cause;		/* owned reference; NULL: none */
	struct node_timers *timers;	/* owned, allocated on first use */
	struct sup *sup;		/* owned; supervisors only */
};

extern const char *const node_state_names[];

static inline bool
node_terminated(const struct node *n)
{
	return n->state == NODE_EXITED || n->state == NODE_FAILED;
}

static inline bool
node_is_sup(const struct node *n)
{
	return n->spec->kind == KIND_SUPERVISOR;
}

/* Starts (or restarts) a node that is not live: worker or ordered start of
 * a supervisor's children. A start that fails is a child failure. */
void node_start(struct node *n);

/* For a lone exec spawn, which must start before it is created: begins
 * the work of an unlinked node; then, once linked, the rest of the start. */
int node_prestart(struct node *n, bool *ready, struct proto_err *err);
void node_start_prestarted(struct node *n, bool ready);

/* Closes n's done handle: children first (reverse start order), then its
 * own work. A no-op on a terminated node. Takes its own reference to c. */
void node_cancel(struct node *n, struct cause *c);

/* Stops n for a client's restart (children first) and starts it again;
 * a terminated node just starts again. */
void node_restart(struct node *n);

/* Calls from workers. */
void node_work_ready(struct node *n);
void node_work_ended(struct node *n, struct node_exit ex);

/* Cause to give n's children when n stops with cause c. */
struct cause *node_child_cause(const struct node *n, struct cause *c);

/* Path into buf ("/web/w1"); returns buf, or its length. */
char *node_path(const struct node *n, char *buf, size_t size);
size_t node_path_len(const struct node *n, char *buf, size_t size);

/* For the tree and supervisor modules. */
void node_set_state(struct node *n, enum node_state to);
void node_set_cause(struct node *n, struct cause *c);
void node_stop(struct node *n, struct cause *c, enum node_after after);
void node_timers_clear(struct node *n);
void node_arm_backoff(struct node *n, int64_t delay_ms);
void node_free(struct node *n);

#endif
