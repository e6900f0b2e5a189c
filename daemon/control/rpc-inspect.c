/* inspect: a node's view, with its children down to a depth. */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"
#include "view.h"

static enum rpc_status
inspect_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_inspect p;
	struct node *n;

	if (params_inspect(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	*result = view_node(n, p.depth);
	return RPC_DONE;
}

const struct rpc_method rpc_inspect = {
	.name = "inspect",
	.run = inspect_run,
};
