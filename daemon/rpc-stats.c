/* stats: counters of the whole daemon. */
#include <stdio.h>
#include <unistd.h>

#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "server.h"
#include "tree.h"

static json_int_t
stats_rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : (json_int_t)rss * sysconf(_SC_PAGESIZE);
}

static enum rpc_status
stats_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	const struct tree_stats *st = &call->d->tree->stats;
	json_t *by_state;

	if (params_none(call->params, err) == -1)
		return RPC_ERROR;
	by_state = json_object();
	for (int i = 0; i < NODE__STATES; i++)
		json_object_set_new(by_state, node_state_names[i],
		    json_integer((json_int_t)st->by_state[i]));
	*result = json_pack("{s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "nodes", (json_int_t)st->nodes,
	    "by_state", by_state,
	    "spawns", (json_int_t)st->spawns,
	    "restarts", (json_int_t)st->restarts,
	    "cancels", (json_int_t)st->cancels,
	    "connections", (json_int_t)call->d->server->nconns,
	    "rss_bytes", stats_rss_bytes(),
	    "uptime_ms", (json_int_t)daemon_uptime_ms(call->d));
	return RPC_DONE;
}

const struct rpc_method rpc_stats = {
	.name = "stats",
	.run = stats_run,
};
