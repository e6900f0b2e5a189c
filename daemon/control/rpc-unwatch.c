/* unwatch: end one of this connection's subscriptions. */
#include "conn.h"
#include "daemon.h"
#include "events.h"
#include "params.h"
#include "rpc.h"

static enum rpc_status
unwatch_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_unwatch p;

	if (params_unwatch(call->params, &p, err) == -1)
		return RPC_ERROR;
	if (events_unsubscribe(call->d->events, call->conn, p.subscription,
	        err) == -1)
		return RPC_ERROR;
	*result = json_object();
	return RPC_DONE;
}

const struct rpc_method rpc_unwatch = {
	.name = "unwatch",
	.run = unwatch_run,
};
