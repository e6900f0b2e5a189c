/* stats: counters of the whole daemon (built in stats.c). */
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "stats.h"

static enum rpc_status
stats_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	if (params_none(call->params, err) == -1)
		return RPC_ERROR;
	if ((*result = stats_json(call->d)) == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return RPC_ERROR;
	}
	return RPC_DONE;
}

const struct rpc_method rpc_stats = {
	.name = "stats",
	.run = stats_run,
};
