/*
 * A node of the tree and its lifecycle. A node owns its spec, its worker
 * state (through its ops), its children, its timers, one reference to
 * its cause and its listening sockets (sockets.h: held from its spawn or
 * start until it terminates, across its workers' restarts). Its parent holds it
 * in `children` and is the only one that can close its done handle
 * (node_cancel). The lifecycle is one table, state x event -> action, in
 * node.c.
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
struct sock_set;

/*
 * The first six are the states of PROTOCOL.md, in its order; the wire
 * knows only those (NODE__STATES of them). The others are finer states of
 * the lifecycle that clients see under a wire name (node_state_names):
 * a child waiting for its parent's ordered start shows "starting", one
 * held for its parent's group restart shows "backoff". NODE_ENDED lasts
 * only while the parent decides what follows a run's end, and is never
 * shown.
 */
enum node_state {
	NODE_STARTING,
	NODE_RUNNING,
	NODE_BACKOFF, /* its own restart timer is armed */
	NODE_STOPPING,
	NODE_EXITED,
	NODE_FAILED,
	NODE__STATES,
	NODE_QUEUED = NODE__STATES, /* waits for the ordered start */
	NODE_HELD,                  /* waits for the parent's group start */
	NODE_ENDED,                 /* the run is over; the parent decides */
	NODE__ALL
};

enum exit_kind {
	EXIT_NONE,
	EXIT_CODE,
	EXIT_SIGNAL,
};

struct node_exit {
	uint8_t kind; /* enum exit_kind */
	int value;    /* code or signal number */
	int pid;      /* the process that ended; 0 for actors */
	int err_no;   /* the worker's own errno (sd_notify ERRNO=), 0:
	                 none; named in the cause of its end */
	bool oom;     /* killed by the OOM killer (its cgroup said so) */
};

/* What the stop under way ends in; chosen when the stop begins. */
enum node_after {
	AFTER_EXIT,   /* terminated for good: exited */
	AFTER_START,  /* a client's restart: start again at once */
	AFTER_HOLD,   /* part of a group restart: wait in backoff
	                 until the parent starts the group */
	AFTER_REPORT, /* it ended on its own: the parent decides */
};

struct node_timers {
	struct event *deadline; /* owned: timeout_ms */
	struct event *start;    /* owned: start_timeout_ms */
	struct event *backoff;  /* owned: the delay before a restart */
	int64_t start_due;      /* monotonic ms the start timer fires */
};

struct node {
	uint64_t id;
	struct tree *tree;            /* borrowed */
	struct node *parent;          /* borrowed; NULL for the root */
	struct node_spec *spec;       /* owned; children moved out */
	const struct worker_ops *ops; /* NULL for supervisors */
	void *work;                   /* owned through ops */
	struct node **children;       /* owned, in start order, which is
	                                 also id order: a child is only
	                                 ever appended, and ids only grow
	                                 (view-walk.c relies on it) */
	uint32_t nchildren;
	uint32_t capchildren;
	uint32_t nlive;     /* children not terminated */
	uint32_t restarts;  /* starts after the first */
	uint32_t nstopping; /* children in stopping */
	uint8_t state;      /* enum node_state; only node.c
	                       writes it, through the table */
	uint8_t shown;      /* the wire state last announced */
	uint8_t before_end; /* state the run ended from */
	uint8_t after;      /* enum node_after */
	bool work_live;     /* the worker has not ended */
	bool abnormal;      /* the run ended abnormally */
	bool given_up;      /* could not start, start timeout,
	                       intensity exceeded */
	bool ever_started;
	bool in_stop;               /* act_stop is on the stack */
	bool from_config;           /* created from --config (config.c) */
	uint16_t backoff_n;         /* consecutive restarts */
	int64_t started_ms;         /* wall clock of the last start */
	int64_t running_mono;       /* monotonic ms it became running */
	int64_t due_ms;             /* wall clock of the next start */
	int64_t ended_ms;           /* wall clock the last run ended */
	struct node_exit exit;      /* of the last run */
	struct cause *cause;        /* owned reference; NULL: none */
	struct node_timers *timers; /* owned, allocated on first use */
	struct sup *sup;            /* owned; supervisors only */
	struct sock_set *socks;     /* owned (sockets.h); NULL: none open */
};

extern const char *const node_state_names[];

static inline bool
node_terminated(const struct node *n)
{
	return n->state == NODE_EXITED || n->state == NODE_FAILED;
}

/* Waiting for its parent to start it: idle, like a terminated node, for
 * a parent that is stopping. */
static inline bool
node_waiting(const struct node *n)
{
	return n->state == NODE_QUEUED || n->state == NODE_HELD;
}

static inline bool
node_is_sup(const struct node *n)
{
	return n->spec->kind == KIND_SUPERVISOR;
}

/* The parent starts a waiting child (its turn in the ordered start came);
 * the backoff timer starts a node in backoff. A start that fails is a
 * child failure. */
void node_start(struct node *n);
/* The parent begins its ordered start: a terminated or held child waits
 * its turn (a child a client cancelled stays exited). */
void node_queue(struct node *n);

/* For a lone exec spawn, which must start before it is created: begins
 * the work of an unlinked node; then, once linked, the rest of the start. */
int node_prestart(struct node *n, bool *ready, struct proto_err *err);
void node_start_prestarted(struct node *n, bool ready);

/* Closes n's done handle: children first (reverse start order), then its
 * own work. A no-op on a terminated node. Takes its own reference to c. */
void node_cancel(struct node *n, struct cause *c);

/* Stops n for a client's restart (children first) and starts it again;
 * a terminated node just starts again (or joins its parent's ordered
 * start, when that has not reached it); a waiting node is left to start
 * in its turn. */
void node_restart(struct node *n);

/* The parent's decision once n's run ended (n is NODE_ENDED): */
void node_backoff(struct node *n, int64_t delay_ms); /* restart later */
void node_hold(struct node *n, int64_t due_ms);      /* with its group */
/* Not restarted: exited, or failed when given up on; c may be NULL. */
void node_give_up(struct node *n, struct cause *c, bool failed);
/* A supervisor gives up (intensity): it stops its children, becomes
 * failed, and its parent decides. */
void node_fail(struct node *n, struct cause *c);

/* Calls from workers. */
void node_work_ready(struct node *n);
void node_work_ended(struct node *n, struct node_exit ex);
/* The worker found its work failed while it still runs (a watchdog, a
 * health check): the node is stopped (done handle, stop signal, grace)
 * with cause c and its end is a failure its parent handles (restart
 * policy, intensity). Ignored unless starting or running. */
void node_work_failed(struct node *n, struct cause *c);
/* The worker asks for more time to become ready: a start timer that
 * would fire sooner fires ms from now instead. */
void node_work_extend(struct node *n, int64_t ms);

/* Cause to give n's children when n stops with cause c. */
struct cause *node_child_cause(const struct node *n, struct cause *c);

/* Path into buf ("/web/w1"); returns buf, or its length. */
char *node_path(const struct node *n, char *buf, size_t size);
size_t node_path_len(const struct node *n, char *buf, size_t size);

/* For the tree and supervisor modules. */
/* The state as clients see it. */
static inline enum node_state
node_wire_state(const struct node *n)
{
	return (enum node_state)n->shown;
}
/* A node new in the tree: waiting for its parent's start. */
void node_init_state(struct node *n, enum node_state state);
void node_stop(struct node *n, struct cause *c, enum node_after after);
void node_free(struct node *n);

#endif
