/* shutdown: answer, then cancel the whole tree and exit once it is down. */
#include "daemon.h"
#include "params.h"
#include "rpc.h"

static enum rpc_status
shutdown_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	rpc_target(call, "/");
	if (params_none(call->params, err) == -1)
		return RPC_ERROR;
	/* The answer is queued before the tree starts going down; the
	 * daemon writes every queued answer before it exits. */
	*result = json_object();
	daemon_shutdown(call->d, "shutdown requested");
	return RPC_DONE;
}

const struct rpc_method rpc_shutdown = {
	.name = "shutdown",
	.mutating = true,
	.run = shutdown_run,
};
