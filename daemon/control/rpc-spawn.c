/* spawn: create a node, or a whole subtree, from a node spec. */
#include <string.h>

#include "cgroup.h"
#include "daemon.h"
#include "path.h"
#include "rpc.h"
#include "spec.h"
#include "tree.h"
#include "view.h"

static enum rpc_status
spawn_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct tree *t = call->d->tree;
	struct spec_limits lim = { .max_depth = PROTO_DEPTH_MAX };
	struct node_spec *spec;
	struct node *n;
	const char *parent = "/";
	size_t count;

	/* The tree's own limit is checked again with the exact count; this
	 * one stops an oversized spec before it is built. */
	lim.max_nodes = t->lim.max_nodes - t->stats.nodes;
	if (call->params == NULL) {
		proto_errf(err, PROTO_INVALID_PARAMS,
		    "params must be a node spec object");
		return RPC_ERROR;
	}
	if (spec_parse(call->params, &lim, &parent, &spec, &count, err) == -1)
		return RPC_ERROR;
	if (cgroup_check_spec(spec, err) == -1) {
		spec_free(spec);
		return RPC_ERROR;
	}
	rpc_target(call, "%s%s%s (%s)", parent,
	    strcmp(parent, "/") == 0 ? "" : "/", spec->name,
	    spec_kind_names[spec->kind]);
	if (tree_spawn(t, parent, spec, count, &n, err) == -1) {
		spec_free(spec);
		return RPC_ERROR;
	}
	*result = view_node_brief(n);
	return RPC_DONE;
}

const struct rpc_method rpc_spawn = {
	.name = "spawn",
	.mutating = true,
	.run = spawn_run,
};
