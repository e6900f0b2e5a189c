/* remove: forget a terminated node and its subtree. */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"

static enum rpc_status
remove_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct tree *t = call->d->tree;
	struct params_path p;
	struct node *n;

	if (params_path(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	if (tree_remove(t, n, err) == -1)
		return RPC_ERROR;
	*result = json_object();
	return RPC_DONE;
}

const struct rpc_method rpc_remove = {
	.name = "remove",
	.mutating = true,
	.run = remove_run,
};
