/*
 * scale: change how many instances an instanced exec node has (its
 * `instances`, spec-inst.h). New instances are spawned as new children of
 * the running supervisor (started at once, or in its ordered start); the
 * highest-numbered ones are cancelled ("cancelled: scaled down") and
 * removed once terminated. The answer comes once the new ones are spawned
 * and the removed ones are gone: the node's view with "added" and
 * "removed" (paths, highest first). The others are left as they are.
 *
 * A node that is not instanced is a conflict, as is one stopped or
 * stopping (start it first). Instances a scale down left exited (its
 * client went away before they were removed) are removed by the next
 * scale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "daemon.h"
#include "log.h"
#include "params.h"
#include "rpc.h"
#include "state.h"
#include "supervisor.h"
#include "tree.h"
#include "view.h"
#include "waiter.h"

#define SCALE_REASON "scaled down"

/* A scale waiting for instances to stop: the call's priv. */
struct scale {
	struct rpc_call *call; /* borrowed: the call owns the scale */
	uint64_t sup_id;
	struct waiter **waiters; /* owned, each owned until it fired */
	size_t nwaiters;
	size_t pending;
	json_t *added, *removed; /* owned: paths */
};

static void
scale_free(void *arg)
{
	struct scale *s = arg;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nwaiters; i++)
		waiter_free(s->waiters[i]);
	free(s->waiters);
	json_decref(s->added);
	json_decref(s->removed);
	free(s);
}

static void
scale_answer(struct scale *s)
{
	rpc_reply_view_with(s->call, tree_get(s->call->d->tree, s->sup_id),
	    "the node was removed while it was scaled", "added", s->added,
	    "removed", s->removed);
}

/* An instance scaled away terminated: it goes. */
static void
scale_stopped_cb(struct waiter *w, enum waiter_status st, void *arg)
{
	struct scale *s = arg;
	struct tree *t = s->call->d->tree;
	struct node *n = tree_get(t, waiter_node_id(w));
	struct proto_err err;

	for (size_t i = 0; i < s->nwaiters; i++)
		if (s->waiters[i] == w)
			s->waiters[i] = NULL;
	waiter_free(w);
	if (st != WAITER_REMOVED && n != NULL && tree_remove(t, n, &err) == -1)
		log_warnx("scale: %s", err.message);
	if (--s->pending == 0)
		scale_answer(s);
}

/* Instances left exited above the count (a scale down whose client went
 * away, a client's cancel) go before the count changes again. */
static void
scale_sweep(struct tree *t, struct node *sup)
{
	struct proto_err err;

	for (uint32_t i = sup->nchildren; i > 0; i--) {
		struct node *c = sup->children[i - 1];

		if (node_terminated(c) &&
		    !spec_inst_takes(sup->spec, c->spec->name))
			(void)tree_remove(t, c, &err);
	}
}

static struct node *
scale_child(struct tree *t, struct node *sup, uint32_t i)
{
	char name[16];

	snprintf(name, sizeof name, "%u", i);
	return nameidx_get(&t->names, sup, name, strlen(name));
}

/* Instances old..count-1, spawned; -1 with err at the first that cannot
 * be, the count then what was made. */
static int
scale_up(struct scale *s, struct node *sup, uint32_t count,
    struct proto_err *err)
{
	struct tree *t = s->call->d->tree;
	uint32_t old = sup->spec->inst->n, i;
	char path[PROTO_PATH_MAX], cpath[PROTO_PATH_MAX];
	struct node_spec *spec;
	struct node *c;

	node_path(sup, path, sizeof path);
	for (i = old; i < count; i++)
		if ((c = scale_child(t, sup, i)) != NULL)
			return proto_errf(err, PROTO_CONFLICT,
			    "%s is still %s from an earlier scale down; "
			    "scale again once it is gone",
			    node_path(c, cpath, sizeof cpath),
			    node_state_names[node_wire_state(c)]);
	if (count - old > t->lim.max_nodes ||
	    t->stats.nodes > t->lim.max_nodes - (count - old))
		return proto_errf(err, PROTO_LIMIT,
		    "%u more nodes would pass the limit of %zu (--max-nodes);"
		    " %zu exist",
		    count - old, t->lim.max_nodes, t->stats.nodes);
	sup_instances_set(sup, count);
	for (i = old; i < count; i++) {
		if ((spec = spec_inst_child(sup->spec->inst, i)) == NULL) {
			proto_errf(err, PROTO_INTERNAL, "out of memory");
			break;
		}
		if (tree_spawn(t, path, spec, 1, &c, err) == -1) {
			spec_free(spec);
			break;
		}
		c->from_config = sup->from_config;
		json_array_append_new(s->added,
		    json_string(node_path(c, cpath, sizeof cpath)));
	}
	if (i == count)
		return 0;
	sup_instances_set(sup, i);
	proto_err_prefix(err, "scale stopped at %s/%u (%u instances now)",
	    strcmp(path, "/") == 0 ? "" : path, i, i);
	return -1;
}

/* Instances count..old-1 cancelled, highest first; each is waited for. */
static int
scale_down(struct scale *s, struct node *sup, uint32_t count,
    struct proto_err *err)
{
	struct tree *t = s->call->d->tree;
	uint32_t old = sup->spec->inst->n;
	char path[PROTO_PATH_MAX];
	struct node *c;

	if ((s->waiters = calloc(old - count, sizeof *s->waiters)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	sup_instances_set(sup, count);
	for (uint32_t i = old; i > count; i--) {
		if ((c = scale_child(t, sup, i - 1)) == NULL)
			continue;
		if (tree_cancel(t, c, SCALE_REASON, err) == -1 ||
		    (s->waiters[s->nwaiters] = waiter_add(&s->call->d->waiters,
		         c, WAITER_TERMINATED, -1, scale_stopped_cb, s)) ==
		        NULL) {
			/* What was cancelled stays so; the next scale
			 * removes it. */
			return proto_errf(err, PROTO_INTERNAL, "out of memory");
		}
		s->nwaiters++;
		s->pending++;
		json_array_append_new(s->removed,
		    json_string(node_path(c, path, sizeof path)));
	}
	return 0;
}

static enum rpc_status
scale_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct tree *t = call->d->tree;
	struct params_scale p;
	struct scale *s;
	struct node *sup;
	uint32_t old;
	int rc;

	if (params_scale(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((sup = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	if (sup->spec->inst == NULL)
		return proto_errf(err, PROTO_CONFLICT,
		           "%s is not an instanced node (an exec spec with "
		           "\"instances\")",
		           p.path),
		       RPC_ERROR;
	if (sup->state == NODE_STOPPING || sup->state == NODE_ENDED ||
	    node_terminated(sup))
		return proto_errf(err, PROTO_CONFLICT,
		           "%s is %s; start it before scaling it", p.path,
		           node_state_names[node_wire_state(sup)]),
		       RPC_ERROR;
	if (t->shutting_down)
		return proto_errf(err, PROTO_CONFLICT,
		           "the daemon is shutting down"),
		       RPC_ERROR;
	if (rpc_may_defer(call, err) == -1)
		return RPC_ERROR;
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->added = json_array()) == NULL ||
	    (s->removed = json_array()) == NULL) {
		scale_free(s);
		return proto_errf(err, PROTO_INTERNAL, "out of memory"),
		       RPC_ERROR;
	}
	s->call = call;
	s->sup_id = sup->id;
	call->priv = s;
	call->priv_free = scale_free;
	scale_sweep(t, sup);
	old = sup->spec->inst->n;
	if (p.instances > old)
		rc = scale_up(s, sup, p.instances, err);
	else
		rc = scale_down(s, sup, p.instances, err);
	if (sup->spec->inst->n != old)
		state_node_updated(call->d->state, sup);
	if (rc == -1)
		return RPC_ERROR;
	if (s->pending > 0)
		return RPC_DEFERRED;
	if ((*result = rpc_view_with(sup, "added", s->added, "removed",
	         s->removed)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory"),
		       RPC_ERROR;
	return RPC_DONE;
}

const struct rpc_method rpc_scale = {
	.name = "scale",
	.mutating = true,
	.run = scale_run,
};
