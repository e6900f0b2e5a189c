/* wait: answer once a node is running or terminated, or time out. */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"
#include "view.h"
#include "waiter.h"

static enum rpc_status
wait_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_wait p;
	struct node *n;
	enum waiter_cond cond;

	if (params_wait(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	cond = p.wait_for == WAIT_RUNNING ? WAITER_RUNNING : WAITER_TERMINATED;
	if (waiter_cond_true(call->d->tree, n, cond)) {
		*result = view_node(n, 0);
		return RPC_DONE;
	}
	return rpc_defer_until(call, n, cond, p.timeout_ms, err);
}

const struct rpc_method rpc_wait = {
	.name = "wait",
	.run = wait_run,
};
