/* logs: the tail of a node's captured output. */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"
#include "worker.h"

static enum rpc_status
logs_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_logs p;
	struct node *n;
	json_t *data = NULL;
	int truncated = 0;

	if (params_logs(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	/* Supervisors and actors have no output: "" and not truncated. */
	if (n->ops != NULL && n->ops->logs != NULL) {
		if (n->ops->logs(n, (size_t)p.bytes, &data, &truncated) == -1) {
			proto_errf(err, PROTO_INTERNAL, "out of memory");
			return RPC_ERROR;
		}
	} else {
		data = json_string("");
	}
	*result = json_pack("{s:o,s:b}", "data", data, "truncated", truncated);
	return RPC_DONE;
}

const struct rpc_method rpc_logs = {
	.name = "logs",
	.run = logs_run,
};
