/* Waiters on node states, indexed by node id, fired from the loop. */
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "timer.h"
#include "tree.h"
#include "view.h"
#include "waiter.h"
#include "worker.h"

struct waiter {
	struct waiters *ws; /* borrowed */
	uint64_t node_id;
	enum waiter_cond cond;
	enum waiter_status status;
	bool fired;
	/* Hand-linked, not <sys/queue.h>: the head of a node's chain lives
	 * in an idmap slot, which moves when the map grows, so a LIST's
	 * pointer back to its head would dangle; and a waiter is freed
	 * whether or not it is still on the fired stack, which SLIST_REMOVE
	 * does not allow. */
	struct waiter *next, *prev; /* same node */
	struct waiter *next_fired;
	struct event *timeout; /* owned */
	json_t *view;          /* owned: the node as it was when it fired */
	waiter_cb *cb;
	void *arg;
};

static void waiters_fire_cb(evutil_socket_t, short, void *);

int
waiters_init(struct waiters *ws, struct event_base *base, struct tree *tree)
{
	ws->base = base;
	ws->tree = tree;
	ws->fired = NULL;
	ws->count = 0;
	idmap_init(&ws->by_node);
	if ((ws->fire_ev = event_new(base, -1, 0, waiters_fire_cb, ws)) == NULL)
		return -1;
	return 0;
}

void
waiters_free(struct waiters *ws)
{
	timer_clear(&ws->fire_ev);
	idmap_free(&ws->by_node);
}

bool
waiter_cond_true(const struct tree *t, const struct node *n,
    enum waiter_cond cond)
{
	if (cond == WAITER_RUNNING)
		return n->state == NODE_RUNNING;
	if (cond == WAITER_BACK)
		return n->state == NODE_RUNNING &&
		    (n->ops == NULL || n->ops->healthy == NULL ||
		        n->ops->healthy(n));
	if (n == t->root)
		return tree_idle(t);
	return node_terminated(n);
}

/* What a restarted node shows when its new run ended before it was up. */
static bool
waiter_run_ended(const struct node *n)
{
	enum node_state s = node_wire_state(n);

	return s == NODE_BACKOFF || s == NODE_EXITED || s == NODE_FAILED;
}

static void
waiter_unlink(struct waiter *w)
{
	struct waiters *ws = w->ws;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else if (w->next != NULL)
		idmap_put(&ws->by_node, w->node_id, w->next);
	else
		idmap_del(&ws->by_node, w->node_id);
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
}

/* n is the node when the condition holds (its view is taken now: the
 * callback runs later, when the node may have moved on); NULL else. */
static void
waiter_fire(struct waiter *w, const struct node *n, enum waiter_status st)
{
	struct waiters *ws = w->ws;

	if (w->fired)
		return;
	w->fired = true;
	w->status = st;
	if (n != NULL)
		w->view = view_node(n, 0);
	waiter_unlink(w);
	if (w->timeout != NULL)
		event_del(w->timeout);
	w->next_fired = ws->fired;
	ws->fired = w;
	event_active(ws->fire_ev, 0, 0);
}

static void
waiters_fire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct waiters *ws = arg;
	struct waiter *w;

	/* Callbacks may add and free waiters: take one at a time. */
	while ((w = ws->fired) != NULL) {
		ws->fired = w->next_fired;
		w->next_fired = NULL;
		w->cb(w, w->status, w->arg);
	}
}

static void
waiter_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	waiter_fire(arg, NULL, WAITER_TIMEOUT);
}

static void
waiters_check(struct waiters *ws, const struct node *n, enum waiter_status st)
{
	struct waiter *w, *next;

	for (w = idmap_get(&ws->by_node, n->id); w != NULL; w = next) {
		next = w->next;
		if (st == WAITER_REMOVED)
			waiter_fire(w, NULL, st);
		else if (waiter_cond_true(ws->tree, n, w->cond))
			waiter_fire(w, n, st);
		else if (w->cond == WAITER_BACK && waiter_run_ended(n))
			waiter_fire(w, n, WAITER_FAILED);
	}
}

void
waiters_event(struct waiters *ws, const struct tree_event *ev)
{
	struct node *n = ev->node;

	if (ws->by_node.len == 0)
		return;
	switch (ev->type) {
	case TREE_EV_STATE:
		waiters_check(ws, n, WAITER_DONE);
		if (n->parent != NULL && n->parent->parent == NULL)
			waiters_check(ws, n->parent, WAITER_DONE);
		break;
	case TREE_EV_HEALTH: /* WAITER_BACK waits for a check to pass */
		waiters_check(ws, n, WAITER_DONE);
		break;
	case TREE_EV_REMOVED:
		waiters_check(ws, n, WAITER_REMOVED);
		if (n->parent != NULL && n->parent->parent == NULL)
			waiters_check(ws, n->parent, WAITER_DONE);
		break;
	default:
		break;
	}
}

struct waiter *
waiter_add(struct waiters *ws, struct node *n, enum waiter_cond cond,
    int64_t timeout_ms, waiter_cb *cb, void *arg)
{
	struct waiter *w, *head;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return NULL;
	w->ws = ws;
	w->node_id = n->id;
	w->cond = cond;
	w->cb = cb;
	w->arg = arg;
	if (timeout_ms >= 0) {
		struct timeval tv = clock_tv(timeout_ms);

		if ((w->timeout = event_new(ws->base, -1, 0, waiter_timeout_cb,
		         w)) == NULL ||
		    event_add(w->timeout, &tv) == -1) {
			timer_clear(&w->timeout);
			free(w);
			return NULL;
		}
	}
	head = idmap_get(&ws->by_node, n->id);
	if (idmap_put(&ws->by_node, n->id, w) == -1) {
		timer_clear(&w->timeout);
		free(w);
		return NULL;
	}
	w->next = head;
	if (head != NULL)
		head->prev = w;
	ws->count++;
	if (waiter_cond_true(ws->tree, n, cond))
		waiter_fire(w, n, WAITER_DONE);
	return w;
}

const json_t *
waiter_view(const struct waiter *w)
{
	return w->view;
}

uint64_t
waiter_node_id(const struct waiter *w)
{
	return w->node_id;
}

void
waiter_free(struct waiter *w)
{
	struct waiters *ws;
	struct waiter **pp;

	if (w == NULL)
		return;
	ws = w->ws;
	if (!w->fired)
		waiter_unlink(w);
	else
		for (pp = &ws->fired; *pp != NULL; pp = &(*pp)->next_fired)
			if (*pp == w) {
				*pp = w->next_fired;
				break;
			}
	timer_clear(&w->timeout);
	json_decref(w->view);
	ws->count--;
	free(w);
}
