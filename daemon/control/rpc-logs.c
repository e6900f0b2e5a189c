/* logs: the tail of a node's captured output. In a batch past its bound
 * (RPC_WHOLE_BYTES), a member's tail is read only when its turn to be
 * written comes, so a batch of many holds one tail at a time. */
#include <stdlib.h>

#include <event2/buffer.h>

#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"
#include "worker.h"

/* A tail read when written. */
struct logs_body {
	struct tree *tree; /* borrowed */
	uint64_t id;       /* the node; it may be gone by then */
	size_t bytes;
};

static json_t *
logs_result(const struct node *n, size_t bytes)
{
	json_t *data = NULL;
	int truncated = 0;

	/* Supervisors and actors have no output: "" and not truncated. */
	if (n->ops != NULL && n->ops->logs != NULL) {
		if (n->ops->logs(n, bytes, &data, &truncated) == -1)
			return NULL;
	} else {
		data = json_string("");
	}
	return json_pack("{s:o,s:b}", "data", data, "truncated", truncated);
}

static int
logs_dump_cb(const char *buf, size_t len, void *arg)
{
	return evbuffer_add(arg, buf, len);
}

static int
logs_fill(void *arg, struct evbuffer *out, size_t budget)
{
	struct logs_body *b = arg;
	struct node *n = tree_get(b->tree, b->id);
	json_t *r;
	int rc;

	/* Removed since: its output went with it. */
	r = n != NULL ? logs_result(n, b->bytes) :
	                json_pack("{s:s,s:b}", "data", "", "truncated", 1);
	if (r == NULL)
		return -1;
	rc = json_dump_callback(r, logs_dump_cb, out,
	    JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(r);
	return rc;
}

static enum rpc_status
logs_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_logs p;
	struct logs_body *b;
	struct node *n;

	if (params_logs(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	if (rpc_whole(call, (size_t)p.bytes)) {
		if ((*result = logs_result(n, (size_t)p.bytes)) == NULL) {
			proto_errf(err, PROTO_INTERNAL, "out of memory");
			return RPC_ERROR;
		}
		return RPC_DONE;
	}
	if ((b = malloc(sizeof *b)) == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return RPC_ERROR;
	}
	b->tree = call->d->tree;
	b->id = n->id;
	b->bytes = (size_t)p.bytes;
	call->body.fill = logs_fill;
	call->body.free = free;
	call->body.arg = b;
	return RPC_STREAM;
}

const struct rpc_method rpc_logs = {
	.name = "logs",
	.run = logs_run,
};
