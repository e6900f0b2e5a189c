/* ping: is the daemon there, and which one. */

#include "daemon.h"
#include "jsonrpc.h"
#include "params.h"
#include "rpc.h"

static enum rpc_status
ping_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	if (params_none(call->params, err) == -1)
		return RPC_ERROR;
	*result = json_pack("{s:s,s:i,s:i,s:I}", "version", PACKAGE_VERSION,
	    "protocol", PROTO_VERSION, "pid", (int)call->d->pid, "uptime_ms",
	    (json_int_t)daemon_uptime_ms(call->d));
	return RPC_DONE;
}

const struct rpc_method rpc_ping = {
	.name = "ping",
	.run = ping_run,
};
