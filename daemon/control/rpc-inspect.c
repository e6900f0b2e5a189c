/* inspect: a node's view, with its children down to a depth; a big
 * subtree is written a slice at a time (view_walk). */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"
#include "view.h"

static int
inspect_fill(void *arg, struct evbuffer *out, size_t budget)
{
	return view_walk_next(arg, out, budget);
}

static void
inspect_free(void *arg)
{
	view_walk_free(arg);
}

static enum rpc_status
inspect_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_inspect p;
	struct view_walk *w;
	struct node *n;
	size_t nodes;

	if (params_inspect(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	/* Counted far enough to tell small from big, and, where it cannot
	 * stream, too big to build whole. */
	nodes = view_count(n, p.depth,
	    (rpc_streams(call) ? RPC_WHOLE_BYTES : RPC_SINK_MAX_BYTES) /
	            VIEW_BYTES +
	        1);
	if (rpc_sink_fits(call, nodes * VIEW_BYTES,
	        "read the subtree from GET /v1/tree, which streams it, or ask "
	        "for a smaller depth",
	        err) == -1)
		return RPC_ERROR;
	if (rpc_whole(call, nodes * VIEW_BYTES)) {
		*result = view_node(n, p.depth);
		return RPC_DONE;
	}
	if ((w = view_walk_new(call->d->tree, n, p.depth)) == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return RPC_ERROR;
	}
	call->body.fill = inspect_fill;
	call->body.free = inspect_free;
	call->body.arg = w;
	return RPC_STREAM;
}

const struct rpc_method rpc_inspect = {
	.name = "inspect",
	.run = inspect_run,
};
