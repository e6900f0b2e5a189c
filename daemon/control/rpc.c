/*
 * The table of methods, and the JSON-RPC plumbing around them: single
 * requests, notifications, batches, deferred answers, and answers written
 * a slice at a time (struct rpc_out, owned by the connection's output
 * queue once sent).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

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
	&rpc_apply,
	&rpc_reopen,
	&rpc_signal,
	&rpc_scale,
};

/* One response: whole, or its id and a body written in slices. */
struct rpc_part {
	json_t *resp;         /* owned: a whole response; NULL: id, body */
	json_t *id;           /* owned */
	struct rpc_body body; /* owned */
};

/* A batch is answered as one array once its last call is answered. */
struct rpc_batch {
	struct conn *conn;      /* borrowed; NULL once gone */
	struct rpc_part *parts; /* owned, in the order answered; room for
	                           every member */
	size_t nparts;
	size_t pending;
	size_t whole;  /* bytes its members may still build whole */
	bool streamed; /* a part has a body */
};

/* An answer written a slice at a time (a single response, or a batch's
 * array): owned by the connection's output queue. */
struct rpc_out {
	struct rpc_part *parts; /* owned */
	size_t nparts;
	size_t next;  /* the part being written */
	bool batch;   /* "[", "," between, "]" */
	bool begun;   /* "[" written */
	bool in_body; /* parts[next]'s head written, its body under way */
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
rpc_parts_free(struct rpc_part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(parts[i].resp);
		json_decref(parts[i].id);
		if (parts[i].body.arg != NULL)
			parts[i].body.free(parts[i].body.arg);
	}
	free(parts);
}

static int
rpc_out_dump_cb(const char *buf, size_t len, void *arg)
{
	return evbuffer_add(arg, buf, len);
}

static int
rpc_out_dump(const json_t *j, struct evbuffer *out)
{
	return json_dump_callback(j, rpc_out_dump_cb, out,
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

/* conn_stream_ops: the next slice of the answer. */
static int
rpc_out_fill(void *arg, struct evbuffer *out, size_t budget)
{
	struct rpc_out *o = arg;
	size_t start = evbuffer_get_length(out), used;
	int r;

	if (!o->begun) {
		o->begun = true;
		if (o->batch && evbuffer_add(out, "[", 1) == -1)
			return -1;
	}
	while (o->next < o->nparts) {
		struct rpc_part *p = &o->parts[o->next];

		if ((used = evbuffer_get_length(out) - start) >= budget)
			return 1;
		if (!o->in_body) {
			if (o->batch && o->next > 0 &&
			    evbuffer_add(out, ",", 1) == -1)
				return -1;
			if (p->resp != NULL) {
				if (rpc_out_dump(p->resp, out) == -1)
					return -1;
				json_decref(p->resp);
				p->resp = NULL;
				o->next++;
				continue;
			}
			/* As proto_rpc_result orders it. */
			if (evbuffer_add_printf(out,
			        "{\"jsonrpc\":\"2.0\",\"id\":") == -1 ||
			    rpc_out_dump(p->id, out) == -1 ||
			    evbuffer_add(out, ",\"result\":", 10) == -1)
				return -1;
			o->in_body = true;
			used = evbuffer_get_length(out) - start;
		}
		r = p->body.fill(p->body.arg, out,
		    used < budget ? budget - used : 1);
		if (r != 0)
			return r;
		p->body.free(p->body.arg);
		p->body.arg = NULL;
		o->in_body = false;
		o->next++;
		if (evbuffer_add(out, "}", 1) == -1)
			return -1;
	}
	if (o->batch && evbuffer_add(out, "]", 1) == -1)
		return -1;
	return evbuffer_add(out, "\n", 1);
}

static void
rpc_out_free(void *arg)
{
	struct rpc_out *o = arg;

	rpc_parts_free(o->parts, o->nparts);
	free(o);
}

static const struct conn_stream_ops rpc_out_ops = {
	.fill = rpc_out_fill,
	.free = rpc_out_free,
};

/* Queues parts (stolen) on conn as one streamed answer. */
static void
rpc_out_send(struct conn *conn, struct rpc_part *parts, size_t n, bool batch)
{
	struct rpc_out *o;

	if ((o = calloc(1, sizeof *o)) == NULL) {
		rpc_parts_free(parts, n);
		log_warnx("connection %llu: out of memory for an answer; "
		          "closing",
		    (unsigned long long)conn->id);
		conn_close(conn);
		return;
	}
	o->parts = parts;
	o->nparts = n;
	o->batch = batch;
	if (conn_send_stream(conn, &rpc_out_ops, o) == -1) {
		log_warnx("connection %llu: out of memory for an answer; "
		          "closing",
		    (unsigned long long)conn->id);
		conn_close(conn);
	}
}

static void
rpc_batch_done(struct rpc_batch *b)
{
	json_t *responses;

	if (b->conn == NULL || b->nparts == 0) {
		rpc_parts_free(b->parts, b->nparts);
	} else if (b->streamed) {
		rpc_out_send(b->conn, b->parts, b->nparts, true);
	} else {
		/* Every member whole: one array, as always. */
		if ((responses = json_array()) != NULL)
			for (size_t i = 0; i < b->nparts; i++)
				json_array_append(responses, b->parts[i].resp);
		if (responses != NULL)
			conn_send(b->conn, responses);
		else
			conn_close(b->conn);
		json_decref(responses);
		rpc_parts_free(b->parts, b->nparts);
	}
	free(b);
}

/* Answers call with its body (RPC_STREAM), which it gives up. */
static void
rpc_deliver_body(struct rpc_call *call)
{
	struct rpc_batch *b = call->batch;
	struct rpc_part *p;

	if (call->id == NULL || (b == NULL && call->conn == NULL)) {
		call->body.free(call->body.arg);
	} else if (b != NULL) {
		p = &b->parts[b->nparts++];
		p->id = json_incref(call->id);
		p->body = call->body;
		b->streamed = true;
	} else if ((p = calloc(1, sizeof *p)) == NULL) {
		call->body.free(call->body.arg);
		log_warnx("out of memory for an answer; closing");
		conn_close(call->conn);
	} else {
		p->id = json_incref(call->id);
		p->body = call->body;
		rpc_out_send(call->conn, p, 1, false);
	}
	call->body.arg = NULL;
	if (b != NULL && --b->pending == 0)
		rpc_batch_done(b);
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
		if (response != NULL)
			b->parts[b->nparts++].resp = response;
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
	if (call->body.arg != NULL)
		call->body.free(call->body.arg);
	waiter_free(call->waiter);
	if (call->priv_free != NULL)
		call->priv_free(call->priv);
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

json_t *
rpc_view_with(const struct node *n, const char *k1, json_t *v1, const char *k2,
    json_t *v2)
{
	json_t *view = view_node(n, 0);

	if (view == NULL || json_object_set(view, k1, v1) != 0 ||
	    json_object_set(view, k2, v2) != 0) {
		json_decref(view);
		return NULL;
	}
	return view;
}

void
rpc_reply_view_with(struct rpc_call *call, const struct node *n,
    const char *gone, const char *k1, json_t *v1, const char *k2, json_t *v2)
{
	struct proto_err err;
	json_t *view;

	if (n == NULL) {
		proto_errf(&err, PROTO_NOT_FOUND, "%s", gone);
		rpc_fail(call, &err);
	} else if ((view = rpc_view_with(n, k1, v1, k2, v2)) == NULL) {
		proto_errf(&err, PROTO_INTERNAL, "out of memory");
		rpc_fail(call, &err);
	} else
		rpc_reply(call, view);
}

void
rpc_settle(void *arg, json_t *result, const struct proto_err *err)
{
	if (result != NULL)
		rpc_reply(arg, result);
	else
		rpc_fail(arg, err);
}

void
rpc_fail(struct rpc_call *call, const struct proto_err *err)
{
	rpc_answer(call, proto_rpc_error(call->id, err), true);
}

bool
rpc_conn_awaits_answer(const struct conn *conn)
{
	const struct rpc_call *call;

	LIST_FOREACH(call, &conn->calls, entry) {
		if (call->id != NULL ||
		    (call->batch != NULL && call->batch->nparts > 0))
			return true;
	}
	return false;
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

int
rpc_may_defer(struct rpc_call *call, struct proto_err *err)
{
	if (call->conn->ncalls < call->d->cfg.max_pending)
		return 0;
	return proto_errf(err, PROTO_LIMIT,
	    "too many calls waiting on this connection (limit %zu)",
	    call->d->cfg.max_pending);
}

enum rpc_status
rpc_defer_until(struct rpc_call *call, struct node *n, enum waiter_cond cond,
    int64_t timeout_ms, struct proto_err *err)
{
	if (rpc_may_defer(call, err) == -1)
		return RPC_ERROR;
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

bool
rpc_whole(struct rpc_call *call, size_t bytes)
{
	struct rpc_batch *b = call->batch;

	if (call->conn->sink != NULL)
		return true;
	if (bytes > RPC_WHOLE_BYTES)
		return false;
	if (b == NULL)
		return true;
	if (bytes > b->whole)
		return false;
	b->whole -= bytes;
	return true;
}

bool
rpc_streams(const struct rpc_call *call)
{
	return call->conn->sink == NULL;
}

int
rpc_sink_fits(struct rpc_call *call, size_t bytes, const char *what,
    struct proto_err *err)
{
	struct rpc_batch *b = call->batch;

	if (rpc_streams(call))
		return 0;
	if (bytes > RPC_SINK_MAX_BYTES)
		return proto_errf(err, PROTO_LIMIT,
		    "the answer would be about %zu MiB, more than POST "
		    "/v1/rpc answers whole (%d MiB): %s",
		    bytes >> 20, RPC_SINK_MAX_BYTES >> 20, what);
	/* A batch's answers are held together: one bound for them all,
	 * not one per member. */
	if (b == NULL)
		return 0;
	if (bytes > b->whole)
		return proto_errf(err, PROTO_LIMIT,
		    "this batch's answers would be more than POST /v1/rpc "
		    "answers whole (%d MiB together): %s",
		    RPC_SINK_MAX_BYTES >> 20, what);
	b->whole -= bytes;
	return 0;
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
	case RPC_STREAM:
		rpc_deliver_body(call);
		rpc_call_free(call);
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
	    (b->parts = calloc(n, sizeof *b->parts)) == NULL) {
		free(b);
		proto_errf(&err, PROTO_INTERNAL, "out of memory");
		rpc_error_now(conn, &err);
	} else {
		b->conn = conn;
		/* What its members may build whole: to stream the rest, or,
		 * where nothing streams, to refuse it. */
		b->whole = conn->sink != NULL ? RPC_SINK_MAX_BYTES :
		                                RPC_WHOLE_BYTES;
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
