/* restart: stop a node (children first) and start it again from its spec;
 * a terminated node just starts again. Not counted against the intensity. */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"
#include "view.h"

static enum rpc_status
restart_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct tree *t = call->d->tree;
	struct params_path p;
	struct node *n;

	if (params_path(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	if (tree_restart(t, n, err) == -1)
		return RPC_ERROR;
	*result = view_node(n, 0);
	return RPC_DONE;
}

const struct rpc_method rpc_restart = {
	.name = "restart",
	.mutating = true,
	.run = restart_run,
};
