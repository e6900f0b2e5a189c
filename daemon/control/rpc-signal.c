/* signal: a signal to an exec node's main process, or with `all` to its
 * whole process group (e.g. HUP to make a server reopen its logs). */
#include "daemon.h"
#include "exec.h"
#include "names.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"

static enum rpc_status
signal_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_signal p;
	const char *name;
	json_t *pids;
	struct node *n;

	if (params_signal(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	if (exec_signal(n, p.signal, p.all, &pids, err) == -1)
		return RPC_ERROR;
	name = proto_signal_name(p.signal);
	*result = json_pack("{s:s,s:o,s:b,s:o}", "path", p.path, "signal",
	    name != NULL ? json_string(name) : json_integer(p.signal), "all",
	    p.all, "pids", pids);
	if (*result == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return RPC_ERROR;
	}
	return RPC_DONE;
}

const struct rpc_method rpc_signal = {
	.name = "signal",
	.mutating = true,
	.run = signal_run,
};
