/* reopen: the log files of a node's subtree (every node's without a
 * path) closed and opened again, for an external logrotate that moved
 * them. Files shared by several workers are reopened once per worker. */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"
#include "worker.h"

static int
reopen_walk(struct node *n)
{
	int count = 0;

	if (n->ops != NULL && n->ops->reopen != NULL)
		count += n->ops->reopen(n);
	for (uint32_t i = 0; i < n->nchildren; i++)
		count += reopen_walk(n->children[i]);
	return count;
}

static enum rpc_status
reopen_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_reopen p;
	struct node *n;

	if (params_reopen(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	if ((*result = json_pack("{s:i}", "files", reopen_walk(n))) == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return RPC_ERROR;
	}
	return RPC_DONE;
}

const struct rpc_method rpc_reopen = {
	.name = "reopen",
	.run = reopen_run,
};
