/*
 * The tree of nodes: the root supervisor, the indexes by id and by
 * (parent, name), the limits, the counters, and the one hook through which
 * everything else (waits, subscriptions, stats) hears what happens. The tree
 * owns every node; it knows nothing of sockets, HTTP or JSON-RPC.
 */
#ifndef TREE_H
#define TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "index.h"
#include "node.h"
#include "spec.h"

struct event_base;

enum tree_event_type {
	TREE_EV_SPAWNED,
	TREE_EV_STATE,
	TREE_EV_REMOVED,
	TREE_EV_OUTPUT,
	TREE_EV_STATUS, /* an exec worker's sd_notify STATUS= changed */
	TREE_EV_HEALTH, /* an exec node's health state changed */
};

struct tree_event {
	enum tree_event_type type;
	struct node *node;        /* borrowed; valid during the call */
	enum node_state from, to; /* TREE_EV_STATE; wire states */
	bool ended;               /* TREE_EV_STATE: a run ended here,
	                             for node->cause */
	const char *data;         /* TREE_EV_OUTPUT: whole lines;
	                             TREE_EV_STATUS: the text, NULL when
	                             cleared; TREE_EV_HEALTH: the last error,
	                             NULL: none */
	size_t len;
	uint8_t stream;                 /* TREE_EV_OUTPUT: 0 stdout, 1 stderr */
	uint8_t health_from, health_to; /* TREE_EV_HEALTH: health.h states */
	uint32_t failures;              /* TREE_EV_HEALTH: in a row */
	uint32_t run; /* TREE_EV_OUTPUT: the run it came from, from 1;
	                 0: unknown */
};

/* Listeners must not change the tree from inside the call: they defer. */
struct tree_hooks {
	void (*event)(void *arg, const struct tree_event *ev);
	/* Optional: fields the daemon adds to every node's view (the
	 * accounting of a supervisor's cgroup; read only when fresh, else
	 * null); reads, never changes. */
	void (*view)(void *arg, const struct node *n, json_t *view, bool fresh);
	void *arg;
};

struct tree_limits {
	size_t max_nodes;           /* every node, the root included */
	uint32_t root_max_restarts; /* the root's intensity; 0 and 0: */
	int64_t root_period_ms;     /* the defaults (3 in 5 s) */
};

struct tree_stats {
	uint64_t spawns;   /* nodes created */
	uint64_t restarts; /* starts after a node's first */
	uint64_t cancels;  /* cancel requests that stopped something */
	uint64_t by_state[NODE__STATES];
	uint64_t by_kind[KIND__COUNT]; /* nodes in the tree, by kind */
	size_t nodes;
};

struct tree {
	struct event_base *base; /* borrowed */
	struct node *root;       /* owned, and through it every node */
	struct nodetab ids;      /* id -> node */
	struct nameidx names;    /* (parent, name) -> node */
	uint64_t next_id;
	struct tree_limits lim;
	struct tree_hooks hooks;
	struct tree_stats stats;
	bool shutting_down;
};

struct tree *tree_new(struct event_base *base, const struct tree_limits *lim,
    const struct tree_hooks *hooks);
/* Frees every node; workers still running are released without waiting
 * (only at exit or in tests). */
void tree_free(struct tree *t);

struct node *
tree_lookup(struct tree *t, const char *path, struct proto_err *err);
struct node *tree_get(struct tree *t, uint64_t id);

/* Creates spec (of count nodes, from spec_parse) under parent_path and
 * starts it. On success the spec belongs to the tree and *out is the new
 * node; on failure nothing was created and the caller still owns spec. */
int tree_spawn(struct tree *t, const char *parent_path, struct node_spec *spec,
    size_t count, struct node **out, struct proto_err *err);
/* A node of a restored subtree that comes back stopped, as a client left
 * it (--state): exited with cause why, not started, until a client
 * restarts it; its own subtree stops with it. */
struct tree_stopped {
	const char *path; /* below the spawned node: "/w1", "/inner/x" */
	const char *why;  /* the cause it had */
};
/* As tree_spawn, but the nodes of the subtree named in stopped (nstopped
 * of them, parents before their children; the caller owns the array)
 * are stopped before anything starts. A path that names no node is
 * logged and skipped. */
int tree_spawn_restored(struct tree *t, const char *parent_path,
    struct node_spec *spec, size_t count, const struct tree_stopped *stopped,
    size_t nstopped, struct node **out, struct proto_err *err);
/* As tree_spawn_restored, but the node (and its subtree) is created
 * exited, with cause why (a client's cancel: it stays exited until a
 * client restarts it), and nothing starts: a stopped node brought back
 * from --state. The nodes in stopped keep their own cause. */
int tree_add_stopped(struct tree *t, const char *parent_path,
    struct node_spec *spec, size_t count, const char *why,
    const struct tree_stopped *stopped, size_t nstopped, struct node **out,
    struct proto_err *err);
/* A new spec for n in place (a config reload): same id, same place among
 * its siblings; spec has no children (n keeps its own) and is taken on
 * success. With restart, n is restarted so its work runs from the new
 * spec (when it is stopping or its parent is not at work, the new spec
 * applies at its next start instead: *restarted says which). */
int tree_update(struct tree *t, struct node *n, struct node_spec *spec,
    bool restart, bool *restarted, struct proto_err *err);
/* Cancels n with "cancelled" or "cancelled: REASON". */
int tree_cancel(struct tree *t, struct node *n, const char *reason,
    struct proto_err *err);
int tree_restart(struct tree *t, struct node *n, struct proto_err *err);
/* Removes a terminated n and its subtree; conflict if any of it is alive. */
int tree_remove(struct tree *t, struct node *n, struct proto_err *err);
/* Cancels everything with "daemon shutdown" and refuses new spawns. */
void tree_shutdown(struct tree *t);
/* Every child of the root is terminated. */
bool tree_idle(const struct tree *t);

/* For node.c, supervisor.c and workers. */
void tree_emit(struct tree *t, const struct tree_event *ev);
int tree_depth(const struct node *n);

#endif
