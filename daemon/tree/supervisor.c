/*
 * Supervision as Erlang/OTP does it, plus backoff: ordered start, restart
 * types, strategies, the intensity window, group restarts.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cause.h"
#include "clock.h"
#include "log.h"
#include "node.h"
#include "supervisor.h"
#include "timer.h"
#include "tree.h"

int
sup_init(struct node *n)
{
	if ((n->sup = calloc(1, sizeof *n->sup)) == NULL)
		return -1;
	return 0;
}

void
sup_free(struct node *n)
{
	struct sup *s = n->sup;

	if (s == NULL)
		return;
	timer_clear(&s->group_timer);
	free(s->window);
	free(s);
	n->sup = NULL;
}

void
sup_stop(struct node *n)
{
	struct sup *s = n->sup;

	/* The timer object stays for the supervisor's life; only its
	 * arming ends here. */
	if (s->group_timer != NULL)
		event_del(s->group_timer);
	s->group = false;
	s->group_waiting = false;
}

/* A child a client cancelled stays exited when its supervisor starts
 * again; only a client's restart brings it back. */
static bool
sup_client_stopped(const struct node *c)
{
	return c->state == NODE_EXITED &&
	    cause_class(c->cause) == CAUSE_CANCELLED;
}

void
sup_start(struct node *n)
{
	struct sup *s = n->sup;

	sup_stop(n);
	s->cursor = 0;
	/* Every child waits its turn; each is started once the one before it
	 * is running. A supervisor starts once its children are all idle. */
	for (uint32_t i = 0; i < n->nchildren; i++) {
		struct node *c = n->children[i];

		if (!node_terminated(c) && !node_waiting(c))
			fatalx("supervisor started with a child at work");
		if (!sup_client_stopped(c))
			node_queue(c);
	}
	sup_continue(n);
}

static void
sup_ready(struct node *n)
{
	/* node_work_ready is the event for "this node's work is running";
	 * for a supervisor its work is its children. */
	node_work_ready(n);
}

/* A group restart starts once its delay has run and no child is still
 * stopping: members held for it, and any other stop under way, finish
 * first. */
static bool
sup_group_blocked(struct node *n)
{
	struct sup *s = n->sup;

	if (!s->group)
		return false;
	if (s->group_waiting || n->nstopping > 0)
		return true;
	s->group = false;
	return false;
}

void
sup_continue(struct node *n)
{
	struct sup *s = n->sup;

	/* A supervisor still waiting for its own turn starts nothing. */
	if (s == NULL ||
	    (n->state != NODE_STARTING && n->state != NODE_RUNNING))
		return;
	/* Children becoming ready inside the loop call back here; looping
	 * instead of recursing keeps the stack flat for 10,000 children. */
	if (s->busy) {
		s->again = true;
		return;
	}
	if (sup_group_blocked(n))
		return;
	s->busy = true;
	do {
		s->again = false;
		while (s->cursor < n->nchildren) {
			struct node *c = n->children[s->cursor];

			if (node_waiting(c))
				node_start(c);
			if (n->state != NODE_STARTING &&
			    n->state != NODE_RUNNING)
				break;
			if (c->state == NODE_RUNNING || node_terminated(c))
				s->cursor++;
			else
				break;
		}
	} while (s->again && s->cursor < n->nchildren);
	s->busy = false;
	if (n->state == NODE_STARTING && s->cursor >= n->nchildren)
		sup_ready(n);
}

void
sup_policy_changed(struct node *n)
{
	struct sup *s = n->sup;

	free(s->window);
	s->window = NULL;
	s->nwindow = 0;
	s->window_head = 0;
}

void
sup_instances_set(struct node *n, uint32_t count)
{
	struct node_spec *sp = n->spec;
	uint32_t max;

	sp->inst->n = count;
	if (sp->inst->intensity)
		return;
	max = spec_inst_max_restarts(count);
	if (max != sp->u.sup.max_restarts) {
		sp->u.sup.max_restarts = max;
		sup_policy_changed(n);
	}
}

uint32_t
sup_window_count(const struct node *n)
{
	const struct sup *s = n->sup;
	int64_t now = clock_mono_ms();
	uint32_t count = 0;

	for (uint32_t i = 0; i < s->nwindow; i++)
		if (now - s->window[i] < n->spec->u.sup.period_ms)
			count++;
	return count;
}

/* Counts one restart in the window; true when it is one too many. */
static bool
sup_intensity_exceeded(struct node *n)
{
	struct sup *s = n->sup;
	uint32_t max = n->spec->u.sup.max_restarts;

	if (max == 0)
		return true;
	if (sup_window_count(n) >= max)
		return true;
	if (s->window == NULL &&
	    (s->window = calloc(max, sizeof *s->window)) == NULL)
		return true;
	s->window[s->window_head] = clock_mono_ms();
	s->window_head = (s->window_head + 1) % max;
	if (s->nwindow < max)
		s->nwindow++;
	return false;
}

int64_t
sup_backoff_next(struct node *c)
{
	const struct node_spec *sp = c->spec;
	int64_t d = sp->backoff_ms, max = sp->backoff_max_ms;

	/* Stayed up long enough: the crash loop, if any, is over. */
	if (c->running_mono != 0 && clock_mono_ms() - c->running_mono >= max)
		c->backoff_n = 0;
	for (uint16_t i = 0; i < c->backoff_n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	if (c->backoff_n < UINT16_MAX)
		c->backoff_n++;
	/* Jitter within [3/4 d, d]: restarts of many children spread out, and
	 * each delay stays under the cap and above the previous one. */
	if (d >= 4)
		d -= random() % (d / 4 + 1);
	return d;
}

static void
sup_group_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct sup *s = n->sup;

	s->group_waiting = false;
	sup_continue(n);
}

static uint32_t
sup_index_of(const struct node *n, const struct node *c)
{
	for (uint32_t i = 0; i < n->nchildren; i++)
		if (n->children[i] == c)
			return i;
	fatalx("child not found in its parent");
}

bool
sup_in_start_order(const struct node *n, const struct node *c)
{
	if (n->sup == NULL ||
	    (n->state != NODE_STARTING && n->state != NODE_RUNNING))
		return false;
	return n->sup->cursor < n->nchildren &&
	    sup_index_of(n, c) >= n->sup->cursor;
}

/* one_for_all and rest_for_one: hold the failed child, stop the rest of
 * the group in reverse start order (each ends held), then start the group
 * again in order once none of it is stopping and the delay has run. A
 * failure while a group waits widens it and re-arms the one timer with its
 * own delay. Members already terminated are not part of it. */
static void
sup_restart_group(struct node *n, struct node *failed, uint32_t first,
    int64_t delay)
{
	struct sup *s = n->sup;
	char path[PROTO_PATH_MAX];
	int64_t due = failed->ended_ms + delay;
	struct timeval tv = clock_tv(due - clock_wall_ms());
	struct cause *c;

	node_hold(failed, due);
	s->group = true;
	s->group_waiting = true;
	s->group_due_ms = due;
	if ((s->group_timer == NULL &&
	        (s->group_timer = evtimer_new(n->tree->base, sup_group_cb,
	             n)) == NULL) ||
	    evtimer_add(s->group_timer, &tv) == -1)
		fatalx("cannot arm a timer");
	c = cause_new(CAUSE_SIBLING, "sibling failed: %s",
	    node_path(failed, path, sizeof path));
	for (uint32_t i = n->nchildren; i > first; i--) {
		struct node *m = n->children[i - 1];

		if (m == failed || node_terminated(m))
			continue;
		m->due_ms = due;
		node_stop(m, c, AFTER_HOLD);
	}
	cause_unref(c);
	if (first < s->cursor)
		s->cursor = first;
}

void
sup_child_ended(struct node *n, struct node *child)
{
	const struct node_spec *cs = child->spec;
	char path[PROTO_PATH_MAX];
	struct cause *c;
	int64_t delay;

	/* A stopping parent overrides its children's own ends, and a parent
	 * that is not at work has no child at work. */
	if (n->state != NODE_STARTING && n->state != NODE_RUNNING)
		fatalx("a child ended under a supervisor that is %s",
		    node_state_names[n->state]);
	if (cs->restart == RESTART_TEMPORARY ||
	    (cs->restart == RESTART_TRANSIENT && !child->abnormal)) {
		node_give_up(child, NULL, child->given_up);
		sup_continue(n);
		return;
	}
	if (sup_intensity_exceeded(n)) {
		c = cause_new(CAUSE_INTENSITY, "restart intensity exceeded");
		node_give_up(child, c, true);
		if (n->parent == NULL) {
			/* The root cannot fail: it gives up on the child. */
			cause_unref(c);
			sup_continue(n);
			return;
		}
		log_warnx("%s: restart intensity exceeded (more than %u "
		          "restarts in %lld ms); stopping its children",
		    node_path(n, path, sizeof path),
		    n->spec->u.sup.max_restarts,
		    (long long)n->spec->u.sup.period_ms);
		node_fail(n, c);
		cause_unref(c);
		return;
	}
	delay = sup_backoff_next(child);
	switch (n->spec->u.sup.strategy) {
	case STRATEGY_ONE_FOR_ALL:
		sup_restart_group(n, child, 0, delay);
		break;
	case STRATEGY_REST_FOR_ONE:
		sup_restart_group(n, child, sup_index_of(n, child), delay);
		break;
	default:
		node_backoff(child, delay);
		break;
	}
}

void
sup_view(const struct node *n, json_t *view)
{
	const struct node_spec *sp = n->spec;
	const struct sup *s = n->sup;

	json_object_set_new(view, "strategy",
	    json_string(spec_strategy_names[sp->u.sup.strategy]));
	json_object_set_new(view, "intensity",
	    json_pack("{s:i,s:I,s:i}", "max_restarts",
	        (int)sp->u.sup.max_restarts, "period_ms",
	        (json_int_t)sp->u.sup.period_ms, "recent_restarts",
	        s != NULL ? (int)sup_window_count(n) : 0));
	if (sp->inst != NULL)
		json_object_set_new(view, "instances",
		    json_integer(sp->inst->n));
	if (s != NULL && s->group)
		json_object_set_new(view, "group_due_ms",
		    json_integer(s->group_due_ms));
}
