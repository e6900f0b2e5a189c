/*
 * What the state files share (state.c: the module, the tree hook, group
 * commit and syncs; state-file.c: the on-disk format, reading and
 * writing). The state owns everything here.
 *
 * On disk: FILE, a snapshot {"version": 3, "epoch": E, "nodes": [...]},
 * written atomically (FILE.new, fsync, rename, fsync of the directory);
 * and FILE.log, a journal of the changes since, one JSON line each:
 * {"epoch": E} first, then {"put": ENTRY} or {"del": PATH}. A loop turn's
 * changes are one append and one fsync; the journal is folded into a new
 * snapshot once it outgrows it. A journal whose epoch is not the
 * snapshot's is older than it (a crash between the two) and is ignored.
 *
 * An ENTRY is the node's spec with "parent", and "stopped": its cause
 * when a client stopped it (it comes back exited, its subtree whole).
 * A live entry holds the nodes of its subtree that have not terminated,
 * and those a client stopped (state_client_stopped), each with its own
 * "stopped" and its subtree whole: they come back exited in their place.
 */
#ifndef STATE_INT_H
#define STATE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <jansson.h>

#include "cause.h"
#include "err.h"
#include "index.h"
#include "node.h"
#include "state.h"

/* 1: no stopped entries, 2: no journal, 3: no stopped nodes inside a
 * live entry. Every older version still loads. */
#define STATE_VERSION  4
#define STATE_RETRY_MS 10000 /* after a failed write */

struct daemon;
struct event;
struct node;

struct state_sync {
	uint64_t gen; /* done once this change is on disk */
	state_sync_cb *cb;
	void *arg; /* borrowed */
	TAILQ_ENTRY(state_sync) link;
};
TAILQ_HEAD(state_syncs, state_sync);

/* A change to put in the journal: the saved entry with this node id
 * (written as it is at write time), or the removal of the one at path. */
struct state_rec {
	uint64_t id;   /* 0 for a removal */
	char *delpath; /* owned; NULL for a put */
};

struct state {
	struct daemon *d;         /* borrowed */
	char *path;               /* owned */
	char *tmp;                /* owned: path + ".new" */
	char *logpath;            /* owned: path + ".log" */
	char *dir;                /* owned: path's directory */
	struct event *write_ev;   /* owned: at the idle priority */
	struct event *due_ev;     /* owned: the latest the write may wait */
	struct state_syncs syncs; /* owned: calls waiting for a write */
	json_t *loaded;           /* owned: entries read at start */
	struct state_rec *recs;   /* owned: changes not written yet */
	size_t nrecs, caprecs;
	struct idmap recorded; /* ids with a put in recs (values: self) */
	int logfd;             /* owned; -1: no journal open */
	off_t logsize;
	size_t snapsize;
	uint64_t epoch;     /* of the snapshot on disk */
	bool need_snapshot; /* the next write is a whole snapshot */
	uint64_t gen;       /* changes seen */
	uint64_t gen_disk;  /* changes known to be on disk */
	bool dirty;         /* a write is scheduled */
	bool frozen;
	uint64_t writes;
	uint64_t errors;
	char last_error[PROTO_ERR_MESSAGE_MAX];
};

/* Saved as stopped: terminated, or stopping for good (a client's cancel
 * is answered before a worker's stop ends; kill -9 meanwhile must not
 * bring the node back running). */
static inline bool
state_stopped(const struct node *n)
{
	return node_terminated(n) ||
	    (n->state == NODE_STOPPING && n->after == AFTER_EXIT);
}

/* A node inside a live entry that a client stopped (exited by its
 * cancel, or stopping for good after one): kept, to come back exited,
 * as its supervisor keeps it exited at run time (sup_client_stopped). A
 * node that ended on its own, or was stopped by a deadline, is not. */
static inline bool
state_client_stopped(const struct node *n)
{
	return (n->state == NODE_EXITED ||
	           (n->state == NODE_STOPPING && n->after == AFTER_EXIT)) &&
	    cause_class(n->cause) == CAUSE_CANCELLED;
}

/* state-file.c */
/* The saved entry n heads (its spec and subtree, "parent", and "stopped"
 * when terminated); NULL when n is not one (any more) or out of memory
 * (*oom says which). */
json_t *state_entry_json(const struct node *n, bool *oom);
/* The entry whose change a change to n is: the highest ancestor of n (or
 * n) that a client spawned, below the root or a config node. */
const struct node *state_entry_of(const struct node *n);
/* Writes the whole state as a new snapshot and starts a new journal; 0,
 * or -1 with s->last_error set. */
int state_snapshot(struct state *s);
/* Appends text (whole lines) to the journal and fsyncs it; on failure
 * the journal is cut back to where it was. 0, or -1 (last_error). */
int state_append(struct state *s, const char *text, size_t len);
void state_log_close(struct state *s);

#endif
