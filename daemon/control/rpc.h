/*
 * Dispatch of JSON-RPC requests to methods: one file per method
 * (rpc-<name>.c), each exporting one struct rpc_method, all listed in one
 * table in rpc.c. A call is owned by its connection until it is answered;
 * a deferred call holds what it waits on (a waiter) and releases it when
 * answered or when its connection goes away.
 *
 * Big answers: a method whose result would be big (inspect of a big
 * subtree) gives a body instead (RPC_STREAM), which the answer writes a
 * slice per loop turn (conn.h); the call owns the body until it is
 * answered, then the answer in flight does, and that is its
 * connection's. A batch with such a member is written the same way, each
 * member in turn, so its memory does not grow with its members' sizes;
 * members a batch builds whole share one bound, RPC_WHOLE_BYTES.
 */
#ifndef RPC_H
#define RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <jansson.h>

#include "err.h"
#include "waiter.h"

struct conn;
struct daemon;
struct waiter;
struct state_sync;
struct rpc_batch;
struct node;

struct rpc_call;
struct evbuffer;

/* Answers estimated above this are streamed (and, in a batch, those past
 * this much built whole for the batch so far). */
#define RPC_WHOLE_BYTES (256 * 1024)
/* A connection without a socket (POST /v1/rpc) cannot stream: a result
 * estimated above this is refused there rather than built whole while
 * the loop waits (GET /v1/tree streams the same view). */
#define RPC_SINK_MAX_BYTES (4 * 1024 * 1024)

/* A result written a slice at a time: fill writes the next slice of the
 * result's JSON text into out, about budget bytes (1: more to come; 0:
 * the text is complete; -1: out of memory); free releases arg. */
struct rpc_body {
	int (*fill)(void *arg, struct evbuffer *out, size_t budget);
	void (*free)(void *arg);
	void *arg; /* owned, through free; NULL: none */
};

/* What a deferred call does once its node met the condition, before it is
 * answered with the node's view; -1 with err filled answers with err. */
typedef int
rpc_complete_fn(struct rpc_call *call, struct node *n, struct proto_err *err);

struct rpc_call {
	struct daemon *d;        /* borrowed */
	struct conn *conn;       /* borrowed; NULL once it is gone */
	struct rpc_batch *batch; /* borrowed; NULL: not in a batch */
	json_t *id;              /* owned; NULL: a notification */
	json_t *params;          /* owned reference */
	const struct rpc_method *method;
	struct waiter *waiter;     /* owned while deferred */
	rpc_complete_fn *complete; /* set by the method; NULL: none */
	struct state_sync *sync;   /* owned by the state while it waits
	                              for its change to be on disk */
	json_t *held;              /* owned: the answer it holds then */
	char *target;              /* owned: what the call acts on, for
	                              its log line; freed once logged */
	struct rpc_body body;      /* owned: the result, for RPC_STREAM */
	void *priv;                /* owned: a deferred method's own state,
	                              freed with priv_free */
	void (*priv_free)(void *priv);
	LIST_ENTRY(rpc_call) entry; /* conn's deferred calls */
};

enum rpc_status {
	RPC_DONE,     /* *result is the answer */
	RPC_ERROR,    /* err is the answer */
	RPC_DEFERRED, /* answered later with rpc_reply/rpc_fail */
	RPC_STREAM,   /* call->body is the result, written in slices */
};

struct rpc_method {
	const char *name;
	bool mutating; /* logged at info, else at debug */
	enum rpc_status (*run)(struct rpc_call *call, json_t **result,
	    struct proto_err *err);
	/* Optional: a deferred call's connection went away; drop what
	 * points at the call before it is freed. */
	void (*abandon)(struct rpc_call *call);
};

extern const struct rpc_method rpc_ping, rpc_spawn, rpc_cancel, rpc_restart,
    rpc_remove, rpc_inspect, rpc_wait, rpc_stats, rpc_shutdown, rpc_watch,
    rpc_unwatch, rpc_logs, rpc_reload, rpc_reopen, rpc_signal;
extern const struct rpc_method rpc_apply, rpc_scale;

const struct rpc_method *rpc_find(const char *name);

struct params_logs;
/* The logs method's answer for n (GET /v1/logs reads it too); NULL when
 * out of memory. */
json_t *rpc_logs_result(const struct node *n, const struct params_logs *p);

/* Handles one framed message (a request or a batch) from conn. */
void rpc_message(struct conn *conn, const char *line, size_t len);

/* 0 when call may wait (be deferred), else -1 with err (limit): its
 * connection has --max-pending calls waiting already. */
int rpc_may_defer(struct rpc_call *call, struct proto_err *err);
/* Defers call until n meets cond, then runs call->complete if set and
 * answers with n's view; timeout_ms -1: none. */
enum rpc_status rpc_defer_until(struct rpc_call *call, struct node *n,
    enum waiter_cond cond, int64_t timeout_ms, struct proto_err *err);

/* Names what call acts on, for the one line rpc.c logs once the method
 * has run ("spawn /web/w1 (exec) by pid 1234 uid 0"): a node path, then
 * what helps to read it. Methods call it as soon as their params are read,
 * so a refusal names its node too. */
void rpc_target(struct rpc_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The node at path, named as what call acts on (rpc_target); NULL with
 * err filled when there is none. */
struct node *
rpc_node(struct rpc_call *call, const char *path, struct proto_err *err);

/* Whether a result of about `bytes` may be built whole: small enough, and
 * within what call's batch may still build whole (which it then takes).
 * Always for a connection without a socket, which cannot stream. */
bool rpc_whole(struct rpc_call *call, size_t bytes);
/* call's connection can take a result in slices (a socket, not HTTP). */
bool rpc_streams(const struct rpc_call *call);
/* -1 with err (limit) when call's connection cannot stream and a result
 * of about `bytes` is over RPC_SINK_MAX_BYTES, or over what is left of
 * it for call's batch (which it then takes); what says where the same
 * can be read in slices. */
int rpc_sink_fits(struct rpc_call *call, size_t bytes, const char *what,
    struct proto_err *err);

/* Answers a deferred call and frees it. result is stolen. */
void rpc_reply(struct rpc_call *call, json_t *result);
void rpc_fail(struct rpc_call *call, const struct proto_err *err);
/* n's view (depth 0) with the members k1 and k2 (borrowed lists); NULL
 * when out of memory. */
json_t *rpc_view_with(const struct node *n, const char *k1, json_t *v1,
    const char *k2, json_t *v2);
/* Answers a deferred call with rpc_view_with, or not_found saying gone
 * when n is NULL (removed meanwhile), or internal when out of memory. */
void rpc_reply_view_with(struct rpc_call *call, const struct node *n,
    const char *gone, const char *k1, json_t *v1, const char *k2, json_t *v2);
/* The two in one callback, for work that ends with a result or an error
 * (a reload, an apply): arg is the call. */
void rpc_settle(void *arg, json_t *result, const struct proto_err *err);
/* Will conn be sent anything once its deferred calls are done? Not when
 * they are notifications (and their batches, if any, hold no answer). */
bool rpc_conn_awaits_answer(const struct conn *conn);
/* The connection is gone: drop the call without answering. */
void rpc_call_abandon(struct rpc_call *call);

#endif
