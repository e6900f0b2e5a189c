/* watch: subscribe this connection to the events of a subtree. */
#include <stdio.h>

#include "conn.h"
#include "daemon.h"
#include "events.h"
#include "params.h"
#include "rpc.h"

/* {"jsonrpc":"2.0","method":"event","params":{"subscription":N,BODY}}\n */
static void
watch_send(void *arg, const struct events_msg *m)
{
	struct conn *c = arg;
	char head[96];
	int n;

	n = snprintf(head, sizeof head,
	    "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"event\",\"params\":{\"subscription\":%llu,",
	    (unsigned long long)m->sub);
	conn_send_raw(c, head, (size_t)n);
	conn_send_raw(c, m->body, m->len);
	conn_send_raw(c, "}}\n", 3);
}

static size_t
watch_queued(void *arg)
{
	return conn_output_length(arg);
}

static void
watch_wait_writable(void *arg)
{
	struct conn *c = arg;

	c->events_blocked = true;
}

static const struct events_sink watch_sink = {
	.send = watch_send,
	.queued = watch_queued,
	.wait_writable = watch_wait_writable,
	.overflowed = NULL, /* the connection stays; it may resubscribe */
};

static enum rpc_status
watch_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_watch p;
	struct events_filter f;
	struct events_sub *s;

	if (params_watch(call->params, &p, err) == -1)
		return RPC_ERROR;
	rpc_target(call, "%s", p.path);
	if (call->conn->sink != NULL) {
		proto_errf(err, PROTO_CONFLICT,
		    "watch needs a connection that "
		    "stays open; over HTTP use GET /v1/events");
		return RPC_ERROR;
	}
	f.path = p.path;
	f.output = p.output;
	f.has_since = p.has_since;
	f.since = p.since;
	/* The seq is read first: every event after it reaches the
	 * subscriber, live or replayed. */
	*result = json_pack("{s:I}", "seq",
	    (json_int_t)events_seq(call->d->events));
	if ((s = events_subscribe(call->d->events, call->conn, &watch_sink,
	         call->conn, &f, err)) == NULL) {
		json_decref(*result);
		*result = NULL;
		return RPC_ERROR;
	}
	json_object_set_new(*result, "subscription",
	    json_integer((json_int_t)events_sub_id(s)));
	return RPC_DONE;
}

const struct rpc_method rpc_watch = {
	.name = "watch",
	.run = watch_run,
};
