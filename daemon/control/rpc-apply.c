/* apply: converge subtrees on a list of node specs (conf_apply), checked
 * whole first; answered once removed and replaced nodes have stopped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "path.h"
#include "rpc.h"
#include "spec.h"
#include "tree.h"

struct apply_params {
	struct node_spec **specs; /* owned, n of them */
	const char **parents;     /* borrowed from the params */
	char (*paths)[PROTO_PATH_MAX];
	size_t n;
	bool prune;
	bool dry_run;
};

static void
apply_params_free(struct apply_params *a)
{
	for (size_t i = 0; i < a->n; i++)
		spec_free(a->specs[i]);
	free(a->specs);
	free(a->parents);
	free(a->paths);
}

static int
apply_bool(const json_t *params, const char *key, bool *out,
    struct proto_err *err)
{
	const json_t *v = json_object_get(params, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* Whether path b lies in the subtree of path a. */
static bool
apply_inside(const char *a, const char *b)
{
	size_t len = strlen(a);

	if (strcmp(a, "/") == 0)
		return true;
	return strncmp(a, b, len) == 0 && b[len] == '/';
}

/* Reads {"specs": [...], "prune": bool, "dry_run": bool} whole: every
 * spec valid, no two for one path, none inside another's subtree. */
static int
apply_parse(struct rpc_call *call, struct apply_params *a,
    struct proto_err *err)
{
	struct tree *t = call->d->tree;
	struct spec_limits lim = { .max_depth = PROTO_DEPTH_MAX };
	const json_t *params = call->params, *specs;
	const char *key;
	json_t *v;
	size_t i, j, count, total = 0;

	if (!json_is_object(params))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "params must be an object with \"specs\"");
	json_object_foreach((json_t *)params, key, v) {
		if (strcmp(key, "specs") != 0 && strcmp(key, "prune") != 0 &&
		    strcmp(key, "dry_run") != 0)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "unknown field \"%s\"", key);
	}
	if (apply_bool(params, "prune", &a->prune, err) == -1 ||
	    apply_bool(params, "dry_run", &a->dry_run, err) == -1)
		return -1;
	specs = json_object_get(params, "specs");
	if (!json_is_array(specs))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "specs must be an array of node specs");
	a->n = 0;
	if ((i = json_array_size(specs)) > 0 &&
	    ((a->specs = calloc(i, sizeof *a->specs)) == NULL ||
	        (a->parents = calloc(i, sizeof *a->parents)) == NULL ||
	        (a->paths = calloc(i, sizeof *a->paths)) == NULL))
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	lim.max_nodes = t->lim.max_nodes;
	json_array_foreach(specs, i, v) {
		a->parents[i] = "/";
		if (!json_is_object(v))
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "specs[%zu] must be a node spec object", i);
		if (spec_parse(v, &lim, &a->parents[i], &a->specs[i], &count,
		        err) == -1) {
			proto_err_prefix(err, "specs[%zu]", i);
			return -1;
		}
		a->n++;
		snprintf(a->paths[i], sizeof a->paths[i], "%s%s%s",
		    a->parents[i], strcmp(a->parents[i], "/") == 0 ? "" : "/",
		    a->specs[i]->name);
		total += count;
		if (total > t->lim.max_nodes)
			return proto_errf(err, PROTO_LIMIT,
			    "specs hold more than %zu nodes (--max-nodes)",
			    t->lim.max_nodes);
		for (j = 0; j < i; j++) {
			if (strcmp(a->paths[i], a->paths[j]) == 0)
				return proto_errf(err, PROTO_INVALID_PARAMS,
				    "specs[%zu] and specs[%zu] are both %s", j,
				    i, a->paths[i]);
			if (apply_inside(a->paths[j], a->paths[i]) ||
			    apply_inside(a->paths[i], a->paths[j]))
				return proto_errf(err, PROTO_INVALID_PARAMS,
				    "specs[%zu] (%s) and specs[%zu] (%s) "
				    "overlap; put the deeper one in the other's "
				    "children",
				    j, a->paths[j], i, a->paths[i]);
		}
	}
	return 0;
}

static enum rpc_status
apply_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct apply_params a;
	struct conf_apply ca;
	int rc;

	memset(&a, 0, sizeof a);
	rc = apply_parse(call, &a, err);
	if (a.n > 0)
		rpc_target(call, "%s%s (%zu specs%s%s)", a.paths[0],
		    a.n > 1 ? ", ..." : "", a.n, a.prune ? ", prune" : "",
		    a.dry_run ? ", dry run" : "");
	if (rc == -1) {
		apply_params_free(&a);
		return RPC_ERROR;
	}
	ca.specs = a.specs;
	ca.parents = a.parents;
	ca.n = a.n;
	ca.prune = a.prune;
	ca.dry_run = a.dry_run;
	rc = conf_apply(call->d->config, &ca, rpc_settle, call, result, err);
	apply_params_free(&a);
	if (rc == -1)
		return RPC_ERROR;
	return *result != NULL ? RPC_DONE : RPC_DEFERRED;
}

static void
apply_abandon(struct rpc_call *call)
{
	conf_reload_detach(call->d->config, call);
}

const struct rpc_method rpc_apply = {
	.name = "apply",
	.mutating = true,
	.run = apply_run,
	.abandon = apply_abandon,
};
