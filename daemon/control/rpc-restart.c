/*
 * restart: stop a node (children first) and start it again from its spec;
 * a terminated node just starts again. Not counted against the intensity.
 *
 * With "rolling", a supervisor's children are restarted one at a time:
 * the next only once the one before is running again (running means
 * ready for a node with readiness) and, when it has a health check,
 * healthy in its new run. A child whose new run ends first (a check
 * failing `failures` times ends it), or that is not back within its grace
 * plus its start timeout (plus, with a check, its start_grace_ms and
 * failures + 1 rounds of interval and timeout), stops the roll with an
 * error naming it; the children after it are left as they
 * were. Children a client stopped stay stopped (skipped).
 */
#include <stdlib.h>

#include <event2/event.h>

#include "conn.h"
#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "timer.h"
#include "tree.h"
#include "view.h"
#include "waiter.h"

/* Slack on top of a child's own grace and start timeout. */
#define ROLL_SLACK_MS 1000

/* A roll in progress: the call's priv, owned by the call. */
struct roll {
	struct rpc_call *call; /* borrowed: the call owns the roll */
	uint64_t sup_id;
	uint64_t *ids; /* owned: the children, in start order, when it began */
	size_t nids, next;
	json_t *restarted;     /* owned: paths, in order */
	json_t *skipped;       /* owned: paths of terminated children */
	struct waiter *waiter; /* owned: the child being waited for */
	struct event *begin;   /* owned: the first step, from the loop */
};

static void
roll_free(void *arg)
{
	struct roll *r = arg;

	if (r == NULL)
		return;
	waiter_free(r->waiter);
	timer_clear(&r->begin);
	json_decref(r->restarted);
	json_decref(r->skipped);
	free(r->ids);
	free(r);
}

static void roll_step(struct roll *r);

/* How long a restarted child may take to be back: its stop, its start
 * and, with a health check, the checks that make it healthy or fail it. */
static int64_t
roll_wait_ms(const struct node_spec *sp)
{
	const struct spec_health *h;
	int64_t ms = sp->shutdown_ms + sp->start_timeout_ms + ROLL_SLACK_MS;

	if (sp->kind == KIND_EXEC && (h = sp->u.exec.health) != NULL)
		ms += h->start_grace_ms +
		    ((int64_t)h->failures + 1) *
		        (h->interval_ms + h->timeout_ms);
	return ms;
}

/* Answers with the error; the call frees r. */
static void
roll_fail(struct roll *r, int code, const char *path, const char *why)
{
	struct proto_err err;

	if (path == NULL)
		proto_errf(&err, code, "%s", why);
	else
		proto_errf(&err, code,
		    "rolling restart stopped: %s did not come back (%s)", path,
		    why);
	rpc_fail(r->call, &err);
}

static void
roll_done(struct roll *r)
{
	rpc_reply_view_with(r->call, tree_get(r->call->d->tree, r->sup_id),
	    "the supervisor was removed during the rolling restart",
	    "restarted", r->restarted, "skipped", r->skipped);
}

static void
roll_back_cb(struct waiter *w, enum waiter_status st, void *arg)
{
	struct roll *r = arg;
	struct node *n = tree_get(r->call->d->tree, waiter_node_id(w));
	char path[PROTO_PATH_MAX], why[160];

	waiter_free(r->waiter);
	r->waiter = NULL;
	if (st == WAITER_REMOVED || n == NULL) {
		roll_fail(r, PROTO_CONFLICT, NULL,
		    "rolling restart stopped: a child was removed while it "
		    "was restarted");
		return;
	}
	node_path(n, path, sizeof path);
	if (st == WAITER_TIMEOUT) {
		snprintf(why, sizeof why, "still %s",
		    node_state_names[node_wire_state(n)]);
		roll_fail(r, PROTO_TIMEOUT, path, why);
		return;
	}
	if (st == WAITER_FAILED) {
		snprintf(why, sizeof why, "%s: %s",
		    node_state_names[node_wire_state(n)],
		    n->cause != NULL ? cause_text(n->cause) : "no cause");
		roll_fail(r, PROTO_CONFLICT, path, why);
		return;
	}
	if (json_array_append_new(r->restarted, json_string(path)) != 0) {
		roll_fail(r, PROTO_INTERNAL, NULL, "out of memory");
		return;
	}
	roll_step(r);
}

/* Restarts the next child that is not terminated, or answers. */
static void
roll_step(struct roll *r)
{
	struct tree *t = r->call->d->tree;
	char path[PROTO_PATH_MAX];
	struct proto_err err;
	struct node *n;
	int64_t wait_ms;

	for (; r->next < r->nids; r->next++) {
		if ((n = tree_get(t, r->ids[r->next])) == NULL)
			continue; /* removed meanwhile: nothing to restart */
		node_path(n, path, sizeof path);
		if (node_terminated(n)) {
			if (json_array_append_new(r->skipped,
			        json_string(path)) != 0)
				break;
			continue;
		}
		r->next++;
		if (tree_restart(t, n, &err) == -1) {
			proto_err_prefix(&err, "rolling restart stopped at %s",
			    path);
			rpc_fail(r->call, &err);
			return;
		}
		wait_ms = roll_wait_ms(n->spec);
		r->waiter = waiter_add(&r->call->d->waiters, n, WAITER_BACK,
		    wait_ms, roll_back_cb, r);
		if (r->waiter == NULL)
			break;
		return;
	}
	if (r->next < r->nids) {
		roll_fail(r, PROTO_INTERNAL, NULL, "out of memory");
		return;
	}
	roll_done(r);
}

static void
roll_begin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct roll *r = arg;

	timer_clear(&r->begin);
	roll_step(r);
}

static enum rpc_status
restart_rolling(struct rpc_call *call, struct node *sup, struct proto_err *err)
{
	struct roll *r;

	if (!node_is_sup(sup))
		return proto_errf(err, PROTO_CONFLICT,
		           "a rolling restart is of a supervisor's children; "
		           "this node is a worker (restart it without rolling)"),
		       RPC_ERROR;
	if (node_terminated(sup))
		return proto_errf(err, PROTO_CONFLICT,
		           "the supervisor is %s: start it first",
		           node_state_names[node_wire_state(sup)]),
		       RPC_ERROR;
	if (rpc_may_defer(call, err) == -1)
		return RPC_ERROR;
	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (r->ids = calloc(sup->nchildren + 1, sizeof *r->ids)) == NULL ||
	    (r->restarted = json_array()) == NULL ||
	    (r->skipped = json_array()) == NULL) {
		roll_free(r);
		return proto_errf(err, PROTO_INTERNAL, "out of memory"),
		       RPC_ERROR;
	}
	r->call = call;
	r->sup_id = sup->id;
	for (uint32_t i = 0; i < sup->nchildren; i++)
		r->ids[r->nids++] = sup->children[i]->id;
	call->priv = r;
	call->priv_free = roll_free;
	/* Started from the loop, not from here: the call is deferred
	 * (and owned by its connection) only once run returns. */
	if ((r->begin = event_new(call->d->base, -1, 0, roll_begin_cb, r)) ==
	    NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory"),
		       RPC_ERROR;
	event_active(r->begin, 0, 0);
	return RPC_DEFERRED;
}

static enum rpc_status
restart_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct tree *t = call->d->tree;
	struct params_restart p;
	struct node *n;

	if (params_restart(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	if (p.rolling)
		return restart_rolling(call, n, err);
	if (tree_restart(t, n, err) == -1)
		return RPC_ERROR;
	*result = view_node_brief(n);
	return RPC_DONE;
}

const struct rpc_method rpc_restart = {
	.name = "restart",
	.mutating = true,
	.run = restart_run,
};
