/*
 * The table of methods, and the JSON-RPC plumbing around them: single
 * requests, notifications, batches, deferred answers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "daemon.h"
#include "jsonrpc.h"
#include "log.h"
#include "path.h"
#include "rpc.h"
#include "state.h"
#include "tree.h"
#include "view.h"
#include "waiter.h"

static const struct rpc_method *const rpc_methods[] = {
	&rpc_ping,
	&rpc_spawn,
	&rpc_cancel,
	&rpc_restart,
	&rpc_remove,
	&rpc_inspect,
	&rpc_wait,
	&rpc_stats,
	&rpc_shutdown,
	&rpc_watch,
	&rpc_unwatch,
	&rpc_logs,
	&rpc_reload,
};

/* A batch is answered as one array once its last call is answered. */
struct rpc_batch {
	struct conn *conn; /* borrowed; NULL once gone */
	json_t *responses; /* owned */
	size_t pending;
};

const struct rpc_method *
rpc_find(const char *name)
{
	for (size_t i = 0; i < sizeof rpc_methods / sizeof rpc_methods[0]; i++)
		if (strcmp(rpc_methods[i]->name, name) == 0)
			return rpc_methods[i];
	return NULL;
}

static void
rpc_batch_done(struct rpc_batch *b)
{
	if (b->conn != NULL && json_array_size(b->responses) > 0)
		conn_send(b->conn, b->responses);
	json_decref(b->responses);
	free(b);
}

/* Delivers a response (stolen) for call, to its batch or its conn. */
static void
rpc_deliver(struct rpc_call *call, json_t *response)
{
	struct rpc_batch *b = call->batch;

	if (call->id == NULL) {
		/* Notifications are never answered, errors included. */
		json_decref(response);
	} else if (b != NULL) {
		json_array_append_new(b->responses, response);
	} else {
		if (call->conn != NULL)
			conn_send(call->conn, response);
		json_decref(response);
	}
	if (b != NULL && --b->pending == 0)
		rpc_batch_done(b);
}

static void
rpc_call_free(struct rpc_call *call)
{
	state_sync_cancel(call->d->state, call->sync);
	json_decref(call->held);
	waiter_free(call->waiter);
	free(call->target);
	json_decref(call->id);
	json_decref(call->params);
	free(call);
}

static void
rpc_deferred_done(struct rpc_call *call)
{
	if (call->conn != NULL)
		conn_call_del(call->conn, call);
	rpc_call_free(call);
}

static void
rpc_synced_cb(void *arg, const char *error)
{
	struct rpc_call *call = arg;
	json_t *response = call->held;
	struct proto_err err;

	call->sync = NULL;
	call->held = NULL;
	if (error != NULL) {
		json_decref(response);
		proto_errf(&err, PROTO_INTERNAL,
		    "the change was made but the "
		    "state file does not hold it yet (%s); it is retried, and "
		    "lost if arbord stops before that",
		    error);
		response = proto_rpc_error(call->id, &err);
	}
	rpc_deliver(call, response);
	rpc_deferred_done(call);
}

/* An answer to a call that changed the tree goes out only once a state
 * file holding the change is on disk (--state): true when response
 * (stolen) is held for that. The state writes once per loop turn, so
 * calls pipelined together share one write. */
static bool
rpc_hold(struct rpc_call *call, json_t *response)
{
	int r;

	if (!call->method->mutating || call->id == NULL || call->conn == NULL)
		return false;
	if ((r = state_sync(call->d->state, rpc_synced_cb, call,
	         &call->sync)) == 0)
		return false;
	if (r == -1) {
		log_warnx("out of memory waiting for the state file; "
		          "answering before it is written");
		return false;
	}
	call->held = response;
	return true;
}

/* Answers call with response (stolen) and frees it, or holds it until its
 * change is on disk. A call answered at once is not in its conn's list
 * yet; a held one goes there, so a conn that goes away drops it. */
static void
rpc_answer(struct rpc_call *call, json_t *response, bool listed)
{
	if (rpc_hold(call, response)) {
		if (!listed)
			conn_call_add(call->conn, call);
		return;
	}
	rpc_deliver(call, response);
	if (listed)
		rpc_deferred_done(call);
	else
		rpc_call_free(call);
}

void
rpc_reply(struct rpc_call *call, json_t *result)
{
	rpc_answer(call, proto_rpc_result(call->id, result), true);
}

void
rpc_fail(struct rpc_call *call, const struct proto_err *err)
{
	rpc_answer(call, proto_rpc_error(call->id, err), true);
}

void
rpc_call_abandon(struct rpc_call *call)
{
	struct rpc_batch *b = call->batch;

	if (call->method->abandon != NULL)
		call->method->abandon(call);
	conn_call_del(call->conn, call);
	if (b != NULL) {
		b->conn = NULL;
		if (--b->pending == 0)
			rpc_batch_done(b);
	}
	rpc_call_free(call);
}

static void
rpc_wait_done(struct waiter *w, enum waiter_status st, void *arg)
{
	struct rpc_call *call = arg;
	struct tree *t = call->d->tree;
	struct node *n = tree_get(t, waiter_node_id(w));
	char path[PROTO_PATH_MAX];
	struct proto_err err;
	json_t *view;

	if (st == WAITER_REMOVED || n == NULL) {
		proto_errf(&err, PROTO_NOT_FOUND,
		    "the node was removed while waiting for it");
		rpc_fail(call, &err);
		return;
	}
	if (st == WAITER_TIMEOUT) {
		proto_errf(&err, PROTO_TIMEOUT, "%s is still %s",
		    node_path(n, path, sizeof path),
		    node_state_names[n->state]);
		rpc_fail(call, &err);
		return;
	}
	/* As the node was when the condition held: it may have moved on
	 * since (a restart pipelined behind a cancel). */
	view = waiter_view(w) != NULL ? json_deep_copy(waiter_view(w)) :
	                                view_node(n, 0);
	if (call->complete != NULL && call->complete(call, n, &err) == -1) {
		json_decref(view);
		rpc_fail(call, &err);
		return;
	}
	rpc_reply(call, view);
}

enum rpc_status
rpc_defer_until(struct rpc_call *call, struct node *n, enum waiter_cond cond,
    int64_t timeout_ms, struct proto_err *err)
{
	if (call->conn->ncalls >= call->d->cfg.max_pending) {
		proto_errf(err, PROTO_LIMIT,
		    "too many calls waiting on this "
		    "connection (limit %zu)",
		    call->d->cfg.max_pending);
		return RPC_ERROR;
	}
	call->waiter = waiter_add(&call->d->waiters, n, cond, timeout_ms,
	    rpc_wait_done, call);
	if (call->waiter == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return RPC_ERROR;
	}
	return RPC_DEFERRED;
}

void
rpc_target(struct rpc_call *call, const char *fmt, ...)
{
	va_list ap;

	/* No work for a line nobody reads (reads below debug). */
	if (!log_enabled(
	        call->method->mutating ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG))
		return;
	free(call->target);
	va_start(ap, fmt);
	if (vasprintf(&call->target, fmt, ap) == -1)
		call->target = NULL;
	va_end(ap);
}

struct node *
rpc_node(struct rpc_call *call, const char *path, struct proto_err *err)
{
	rpc_target(call, "%s", path);
	return tree_lookup(call->d->tree, path, err);
}

/* One line per request: the method, what it acts on, who asked, and why
 * it failed. Changes to the tree at info, the rest at debug. */
static void
rpc_log_call(struct rpc_call *call, enum rpc_status st,
    const struct proto_err *err)
{
	const struct conn *c = call->conn;
	enum log_level level = call->method->mutating ? LOG_LEVEL_INFO :
	                                                LOG_LEVEL_DEBUG;
	char line[PROTO_PATH_MAX + 512], who[64];
	size_t i;

	if (!log_enabled(level))
		goto out;
	if (c->sink != NULL)
		snprintf(who, sizeof who, "over HTTP");
	else
		snprintf(who, sizeof who, "by pid %ld uid %ld", (long)c->pid,
		    (long)c->uid);
	snprintf(line, sizeof line, "%s%s%s %s%s%s", call->method->name,
	    call->target != NULL ? " " : "",
	    call->target != NULL ? call->target : "", who,
	    st == RPC_ERROR ? " failed: " : "",
	    st == RPC_ERROR ? err->message : "");
	/* Paths and messages may quote what a client sent: one line. */
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (level == LOG_LEVEL_INFO)
		log_info("%s", line);
	else
		log_debug("%s", line);
out:
	free(call->target);
	call->target = NULL;
}

/* Runs one request object; answers it now or leaves it deferred. */
static void
rpc_request(struct conn *conn, struct rpc_batch *batch, json_t *msg)
{
	struct proto_request req;
	struct proto_err err;
	struct rpc_call *call;
	json_t *id = NULL, *result = NULL;
	enum rpc_status st;

	if ((call = calloc(1, sizeof *call)) == NULL) {
		log_warnx("out of memory for a call");
		conn_close(conn);
		return;
	}
	call->d = conn->d;
	call->conn = conn;
	call->batch = batch;
	if (batch != NULL)
		batch->pending++;
	proto_err_clear(&err);
	if (proto_rpc_request(msg, &req, &id, &err) == -1) {
		/* An invalid request is answered even without an id. */
		call->id = id != NULL ? json_incref(id) : json_null();
		rpc_deliver(call, proto_rpc_error(call->id, &err));
		rpc_call_free(call);
		return;
	}
	call->id = req.id != NULL ? json_incref(req.id) : NULL;
	call->params = req.params != NULL ? json_incref(req.params) : NULL;
	if ((call->method = rpc_find(req.method)) == NULL) {
		proto_errf(&err, PROTO_METHOD_NOT_FOUND,
		    "no method named \"%s\"", req.method);
		rpc_deliver(call, proto_rpc_error(call->id, &err));
		rpc_call_free(call);
		return;
	}
	st = call->method->run(call, &result, &err);
	rpc_log_call(call, st, &err);
	switch (st) {
	case RPC_DONE:
		rpc_answer(call, proto_rpc_result(call->id, result), false);
		break;
	case RPC_ERROR:
		rpc_answer(call, proto_rpc_error(call->id, &err), false);
		break;
	case RPC_DEFERRED:
		conn_call_add(conn, call);
		break;
	}
}

static void
rpc_error_now(struct conn *conn, const struct proto_err *err)
{
	json_t *resp = proto_rpc_error(NULL, err);

	conn_send(conn, resp);
	json_decref(resp);
}

void
rpc_message(struct conn *conn, const char *line, size_t len)
{
	struct proto_err err;
	struct rpc_batch *b;
	json_t *msg;
	size_t i, n;

	proto_err_clear(&err);
	if ((msg = proto_rpc_decode(line, len, &err)) == NULL) {
		rpc_error_now(conn, &err);
		return;
	}
	if (!json_is_array(msg)) {
		rpc_request(conn, NULL, msg);
		json_decref(msg);
		return;
	}
	n = json_array_size(msg);
	if (n == 0) {
		proto_errf(&err, PROTO_INVALID_REQUEST, "empty batch");
		rpc_error_now(conn, &err);
	} else if (n > conn->d->cfg.max_batch) {
		proto_errf(&err, PROTO_LIMIT,
		    "batch of %zu requests is over "
		    "the limit of %zu",
		    n, conn->d->cfg.max_batch);
		rpc_error_now(conn, &err);
	} else if (conn->ncalls + n > conn->d->cfg.max_pending) {
		proto_errf(&err, PROTO_LIMIT,
		    "too many calls waiting on this "
		    "connection (limit %zu)",
		    conn->d->cfg.max_pending);
		rpc_error_now(conn, &err);
	} else if ((b = calloc(1, sizeof *b)) == NULL ||
	    (b->responses = json_array()) == NULL) {
		free(b);
		proto_errf(&err, PROTO_INTERNAL, "out of memory");
		rpc_error_now(conn, &err);
	} else {
		b->conn = conn;
		/* Held until every element has run, so an answer that comes
		 * at once cannot finish the batch early. */
		b->pending = 1;
		for (i = 0; i < n && !conn->dead; i++)
			rpc_request(conn, b, json_array_get(msg, i));
		if (conn->dead)
			b->conn = NULL;
		if (--b->pending == 0)
			rpc_batch_done(b);
	}
	json_decref(msg);
}
