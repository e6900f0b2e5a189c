/* reload: re-read --config and apply the difference (conf.c); answered
 * once replaced nodes have been stopped, removed and spawned again. */
#include "conf.h"
#include "daemon.h"
#include "params.h"
#include "rpc.h"

static enum rpc_status
reload_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	if (call->d->cfg.config_path != NULL)
		rpc_target(call, "/ (from %s)", call->d->cfg.config_path);
	else
		rpc_target(call, "/");
	if (params_none(call->params, err) == -1)
		return RPC_ERROR;
	if (conf_reload(call->d->config, rpc_settle, call, err) == -1)
		return RPC_ERROR;
	return RPC_DEFERRED;
}

static void
reload_abandon(struct rpc_call *call)
{
	conf_reload_detach(call->d->config, call);
}

const struct rpc_method rpc_reload = {
	.name = "reload",
	.mutating = true,
	.run = reload_run,
	.abandon = reload_abandon,
};
