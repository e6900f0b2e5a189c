/*
 * The built-in in-process actors: sleep, tick and fail. Each is a timer on
 * the loop at most, so a million of them cost little more than their nodes;
 * a sleep without `ms` costs nothing at all.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "node.h"
#include "timer.h"
#include "tree.h"
#include "worker.h"

struct actor {
	struct event *timer; /* owned; NULL once the work is over */
	uint64_t ticks;      /* tick: kept after the end, for the view */
	bool ending;         /* the end is queued on the loop */
};

static struct actor *
actor_new(struct node *n, int64_t ms, bool persist, event_callback_fn cb)
{
	struct actor *a;
	struct timeval tv = clock_tv(ms);

	if ((a = calloc(1, sizeof *a)) == NULL)
		return NULL;
	a->timer = event_new(n->tree->base, -1, persist ? EV_PERSIST : 0, cb,
	    n);
	if (a->timer == NULL || event_add(a->timer, &tv) == -1) {
		timer_clear(&a->timer);
		free(a);
		return NULL;
	}
	return a;
}

static void
actor_release(struct actor *a)
{
	if (a != NULL)
		timer_clear(&a->timer);
}

static void
actor_free(struct node *n)
{
	actor_release(n->work);
	free(n->work);
	n->work = NULL;
}

static void
actor_end(struct node *n, int code)
{
	struct node_exit ex = { .kind = EXIT_CODE, .value = code };

	actor_release(n->work);
	node_work_ended(n, ex);
}

/* A cancelled actor ends at once: it holds nothing worth a grace. The end
 * is reported from the loop, after the cancel call returns, like any
 * worker's. Actors without state end inside the call; their parent's stop
 * tolerates that. */
static void
actor_cancel(struct node *n)
{
	actor_release(n->work);
	node_work_ended(n, (struct node_exit){ .kind = EXIT_NONE });
}

static void
sleep_cb(evutil_socket_t fd, short what, void *arg)
{
	actor_end(arg, 0);
}

static int
sleep_start(struct node *n, bool *ready, struct proto_err *err)
{
	int64_t ms = n->spec->u.actor.ms;

	actor_free(n); /* the previous run's record */
	*ready = true;
	if (ms < 0)
		return 0; /* until cancelled: nothing to hold */
	if ((n->work = actor_new(n, ms, false, sleep_cb)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	return 0;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct actor *a = n->work;

	a->ticks++;
}

static int
tick_start(struct node *n, bool *ready, struct proto_err *err)
{
	actor_free(n);
	*ready = true;
	if ((n->work = actor_new(n, n->spec->u.actor.interval_ms, true,
	         tick_cb)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	return 0;
}

static void
tick_view(const struct node *n, json_t *view)
{
	const struct actor *a = n->work;

	json_object_set_new(view, "ticks",
	    json_integer(a ? (json_int_t)a->ticks : 0));
	json_object_set_new(view, "interval_ms",
	    json_integer(n->spec->u.actor.interval_ms));
}

static void
sleep_view(const struct node *n, json_t *view)
{
	if (n->spec->u.actor.ms >= 0)
		json_object_set_new(view, "ms",
		    json_integer(n->spec->u.actor.ms));
}

static void
fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	actor_end(n, n->spec->u.actor.code);
}

static int
fail_start(struct node *n, bool *ready, struct proto_err *err)
{
	actor_free(n);
	*ready = true;
	if ((n->work = actor_new(n, n->spec->u.actor.after_ms, false,
	         fail_cb)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	return 0;
}

static void
fail_view(const struct node *n, json_t *view)
{
	json_object_set_new(view, "after_ms",
	    json_integer(n->spec->u.actor.after_ms));
	json_object_set_new(view, "code", json_integer(n->spec->u.actor.code));
}

const struct worker_ops worker_sleep_ops = {
	.name = "sleep",
	.start = sleep_start,
	.cancel = actor_cancel,
	.view = sleep_view,
	.free = actor_free,
};

const struct worker_ops worker_tick_ops = {
	.name = "tick",
	.start = tick_start,
	.cancel = actor_cancel,
	.view = tick_view,
	.free = actor_free,
};

const struct worker_ops worker_fail_ops = {
	.name = "fail",
	.start = fail_start,
	.cancel = actor_cancel,
	.view = fail_view,
	.free = actor_free,
};
