/* cancel: close a node's done handle; with wait or remove, answer once it
 * has terminated (and is gone). */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "state.h"
#include "tree.h"
#include "view.h"
#include "waiter.h"

/* cancel with remove: the node goes once it has terminated. */
static int
cancel_remove(struct rpc_call *call, struct node *n, struct proto_err *err)
{
	return tree_remove(call->d->tree, n, err);
}

static enum rpc_status
cancel_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct tree *t = call->d->tree;
	struct params_cancel p;
	struct node *n;

	if (params_cancel(call->params, &p, err) == -1)
		return RPC_ERROR;
	rpc_target(call, "%s%s", p.path,
	    p.remove   ? " (remove)" :
	        p.wait ? " (wait)" :
	                 "");
	if ((n = tree_lookup(t, p.path, err)) == NULL)
		return RPC_ERROR;
	if (p.remove && n == t->root) {
		proto_errf(err, PROTO_CONFLICT,
		    "the root cannot be removed; "
		    "cancel / without remove stops its children");
		return RPC_ERROR;
	}
	if (tree_cancel(t, n, p.reason, err) == -1)
		return RPC_ERROR;
	/* Removing needs the node terminated, so remove implies waiting. */
	if (p.wait || p.remove) {
		if (p.remove)
			call->complete = cancel_remove;
		return rpc_defer_until(call, n, WAITER_TERMINATED, -1, err);
	}
	/* A stop under way (a restart's) that the cancel made a stop for
	 * good shows no new state: the state file is told, so the answer
	 * waits for it to say stopped. */
	state_node_updated(call->d->state, n);
	*result = view_node(n, 0);
	return RPC_DONE;
}

const struct rpc_method rpc_cancel = {
	.name = "cancel",
	.mutating = true,
	.run = cancel_run,
};
