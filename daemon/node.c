/*
 * The node lifecycle: one table of state x event -> action. Every move of
 * state goes through node_set_state, which keeps the counters, the parent's
 * count of busy children and the event stream right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cause.h"
#include "clock.h"
#include "log.h"
#include "node.h"
#include "supervisor.h"
#include "tree.h"
#include "worker.h"

const char *const node_state_names[] = {
	"starting", "running", "backoff", "stopping", "exited", "failed", NULL
};

enum node_event {
	NEV_START,		/* begin a run */
	NEV_READY,		/* the work is running */
	NEV_ENDED,		/* the work is over */
	NEV_STOP,		/* the done handle is closed */
	NEV_RESTART,		/* a client asked for a restart */
	NEV_START_TIMEOUT,
	NEV_DEADLINE,
	NEV_DRAINED,		/* no work and no busy child left */
	NEV__COUNT
};

static const char *const node_event_names[] = {
	"start", "ready", "ended", "stop", "restart", "start-timeout",
	"deadline", "drained"
};

struct node_input {
	enum node_event ev;
	struct cause *cause;		/* NEV_STOP, borrowed */
	enum node_after after;		/* NEV_STOP */
	struct node_exit exit;		/* NEV_ENDED */
};

typedef void node_action(struct node *, const struct node_input *);

static node_action act_start, act_ready, act_ended, act_stop, act_restop,
    act_restart, act_start_timeout, act_deadline, act_drained,
    act_ended_stopping;

static node_action *const node_actions[NODE__STATES][NEV__COUNT] = {
	[NODE_STARTING] = {
		[NEV_START] = act_start,
		[NEV_READY] = act_ready,
		[NEV_ENDED] = act_ended,
		[NEV_STOP] = act_stop,
		[NEV_RESTART] = act_restart,
		[NEV_START_TIMEOUT] = act_start_timeout,
		[NEV_DEADLINE] = act_deadline,
	},
	[NODE_RUNNING] = {
		[NEV_ENDED] = act_ended,
		[NEV_STOP] = act_stop,
		[NEV_RESTART] = act_restart,
		[NEV_DEADLINE] = act_deadline,
	},
	[NODE_BACKOFF] = {
		[NEV_START] = act_start,
		[NEV_STOP] = act_stop,
		[NEV_RESTART] = act_start,
	},
	[NODE_STOPPING] = {
		[NEV_ENDED] = act_ended_stopping,
		[NEV_STOP] = act_restop,
		[NEV_RESTART] = act_restop,
		[NEV_DRAINED] = act_drained,
	},
	[NODE_EXITED] = {
		[NEV_START] = act_start,
		[NEV_RESTART] = act_start,
	},
	[NODE_FAILED] = {
		[NEV_START] = act_start,
		[NEV_RESTART] = act_start,
	},
};

static void node_check_drained(struct node *n);

static void
node_input(struct node *n, const struct node_input *in)
{
	node_action *fn = node_actions[n->state][in->ev];

	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char path[PROTO_PATH_MAX];

		log_debug("%s: event %s in %s%s", node_path(n, path,
		    sizeof path), node_event_names[in->ev],
		    node_state_names[n->state], fn == NULL ? " (ignored)" : "");
	}
	if (fn != NULL)
		fn(n, in);
}

size_t
node_path_len(const struct node *n, char *buf, size_t size)
{
	const struct node *stack[PROTO_DEPTH_MAX + 1];
	size_t depth = 0, off = 0;

	if (size == 0)
		return 0;
	if (n->parent == NULL) {
		if (size > 1)
			buf[off++] = '/';
		buf[off] = '\0';
		return off;
	}
	for (; n->parent != NULL && depth < PROTO_DEPTH_MAX + 1; n = n->parent)
		stack[depth++] = n;
	/* Called for every event: memcpy, not printf. */
	while (depth > 0) {
		const char *name = stack[--depth]->spec->name;
		size_t len = strlen(name);

		if (off + 1 + len >= size)
			break;
		buf[off++] = '/';
		memcpy(buf + off, name, len);
		off += len;
	}
	buf[off] = '\0';
	return off;
}

char *
node_path(const struct node *n, char *buf, size_t size)
{
	node_path_len(n, buf, size);
	return buf;
}

/* Idle: terminated, or held in backoff for its parent's group start. Busy
 * children keep their parent from draining. */
static bool
node_idle(const struct node *n)
{
	return node_terminated(n) || (n->state == NODE_BACKOFF && n->queued);
}

void
node_set_state(struct node *n, enum node_state to)
{
	enum node_state from = n->state;
	bool was_idle = node_idle(n);
	struct tree_event ev;

	if (from == to)
		return;
	n->state = to;
	n->tree->stats.by_state[from]--;
	n->tree->stats.by_state[to]++;
	if (n->parent != NULL && was_idle != node_idle(n)) {
		if (was_idle)
			n->parent->nlive++;
		else
			n->parent->nlive--;
	}
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char path[PROTO_PATH_MAX];

		log_debug("%s: %s -> %s%s%s", node_path(n, path, sizeof path),
		    node_state_names[from], node_state_names[to],
		    n->cause ? ": " : "", n->cause ? cause_text(n->cause) : "");
	}
	memset(&ev, 0, sizeof ev);
	ev.type = TREE_EV_STATE;
	ev.node = n;
	ev.from = from;
	ev.to = to;
	tree_emit(n->tree, &ev);
}

/* For a hold that did not change the state (already in backoff). */
static void
node_set_queued(struct node *n, bool queued)
{
	bool was_idle = node_idle(n);

	n->queued = queued;
	if (n->parent != NULL && was_idle != node_idle(n)) {
		if (was_idle)
			n->parent->nlive++;
		else
			n->parent->nlive--;
	}
}

void
node_set_cause(struct node *n, struct cause *c)
{
	struct cause *old = n->cause;

	n->cause = cause_ref(c);
	cause_unref(old);
}

struct cause *
node_child_cause(const struct node *n, struct cause *c)
{
	char path[PROTO_PATH_MAX];
	const char *text = cause_text(c);

	/* The chain names the node where the stop began, once: a cause that
	 * already came from above is passed down unchanged. */
	if (text != NULL && (strncmp(text, "parent cancelled: ", 18) == 0 ||
	    strcmp(text, "daemon shutdown") == 0))
		return cause_ref(c);
	return cause_new("parent cancelled: %s: %s",
	    node_path(n, path, sizeof path), text ? text : "cancelled");
}

static struct node_timers *
node_timers(struct node *n)
{
	if (n->timers == NULL)
		n->timers = calloc(1, sizeof *n->timers);
	return n->timers;
}

static void
node_timer_clear(struct event **evp)
{
	if (*evp != NULL) {
		event_free(*evp);
		*evp = NULL;
	}
}

void
node_timers_clear(struct node *n)
{
	if (n->timers == NULL)
		return;
	node_timer_clear(&n->timers->deadline);
	node_timer_clear(&n->timers->start);
	node_timer_clear(&n->timers->backoff);
	free(n->timers);
	n->timers = NULL;
}

static void
node_timer_arm(struct node *n, struct event **evp, int64_t ms,
    event_callback_fn cb)
{
	struct timeval tv = clock_tv(ms);

	node_timer_clear(evp);
	*evp = event_new(n->tree->base, -1, 0, cb, n);
	if (*evp == NULL || event_add(*evp, &tv) == -1)
		fatalx("cannot arm a timer");
}

static void
node_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct node_input in = { .ev = NEV_DEADLINE };

	node_timer_clear(&n->timers->deadline);
	node_input(n, &in);
}

static void
node_start_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct node_input in = { .ev = NEV_START_TIMEOUT };

	node_timer_clear(&n->timers->start);
	node_input(n, &in);
}

static void
node_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct node_input in = { .ev = NEV_START };

	node_timer_clear(&n->timers->backoff);
	node_input(n, &in);
}

void
node_arm_backoff(struct node *n, int64_t delay_ms)
{
	struct node_timers *t = node_timers(n);

	if (t == NULL)
		fatalx("out of memory");
	/* The delay counts from the end of the run, so due_ms - ended_ms in
	 * the view is exactly the delay chosen. */
	n->due_ms = n->ended_ms + delay_ms;
	node_timer_arm(n, &t->backoff, n->due_ms - clock_wall_ms(),
	    node_backoff_cb);
}

/* The parent hears that a child reached a state it may be waiting for. */
static void
node_notify_parent(struct node *n)
{
	struct node *p = n->parent;

	if (p == NULL)
		return;
	if (p->state == NODE_STOPPING)
		node_check_drained(p);
	else
		sup_continue(p);
}

/* The run is over without a cancel: the parent decides what comes next. */
static void
node_run_ended(struct node *n)
{
	n->ended_ms = clock_wall_ms();
	node_timers_clear(n);
	if (n->parent == NULL)
		fatalx("the root ended");
	sup_child_ended(n->parent, n);
}

/* Bookkeeping of a new run, up to the state moving to starting. */
static void
node_begin(struct node *n)
{
	struct node_timers *t;

	node_timers_clear(n);
	if (n->ever_started) {
		n->restarts++;
		n->tree->stats.restarts++;
	}
	n->ever_started = true;
	n->abnormal = false;
	n->given_up = false;
	n->after = AFTER_EXIT;
	n->exit.kind = EXIT_NONE;
	n->due_ms = 0;
	n->running_mono = 0;
	n->started_ms = clock_wall_ms();
	node_set_cause(n, NULL);
	node_set_queued(n, false);
	node_set_state(n, NODE_STARTING);
	if (n->spec->timeout_ms >= 0) {
		if ((t = node_timers(n)) == NULL)
			fatalx("out of memory");
		node_timer_arm(n, &t->deadline, n->spec->timeout_ms,
		    node_deadline_cb);
	}
}

/* The work has begun; ready or not yet. */
static void
node_launched(struct node *n, bool ready)
{
	struct node_timers *t;

	if (ready) {
		node_work_ready(n);
		return;
	}
	if (n->state == NODE_STARTING && n->spec->start_timeout_ms >= 0) {
		if ((t = node_timers(n)) == NULL)
			fatalx("out of memory");
		node_timer_arm(n, &t->start, n->spec->start_timeout_ms,
		    node_start_timeout_cb);
	}
}

static void
act_start(struct node *n, const struct node_input *in)
{
	struct proto_err err;
	bool ready = false;

	/* Only a parent that is starting or running starts children (one in
	 * backoff starts them all when its turn comes), and a node already
	 * started is never started twice. */
	if (n->parent != NULL && (n->parent->queued ||
	    (n->parent->state != NODE_STARTING &&
	    n->parent->state != NODE_RUNNING)))
		return;
	if (n->state == NODE_STARTING && !n->queued)
		return;
	node_begin(n);
	if (node_is_sup(n)) {
		sup_start(n);
		node_launched(n, false);
		return;
	}
	if (n->ops->start(n, &ready, &err) == -1) {
		struct cause *c;

		n->abnormal = true;
		n->given_up = true;
		c = cause_new("could not start: %s", err.message);
		node_set_cause(n, c);
		cause_unref(c);
		node_run_ended(n);
		return;
	}
	n->work_live = true;
	node_launched(n, ready);
}

int
node_prestart(struct node *n, bool *ready, struct proto_err *err)
{
	if (n->ops->start(n, ready, err) == -1)
		return -1;
	n->work_live = true;
	return 0;
}

void
node_start_prestarted(struct node *n, bool ready)
{
	node_begin(n);
	node_launched(n, ready);
}

static void
act_ready(struct node *n, const struct node_input *in)
{
	if (n->state != NODE_STARTING)
		return;
	if (n->timers != NULL)
		node_timer_clear(&n->timers->start);
	n->running_mono = clock_mono_ms();
	node_set_state(n, NODE_RUNNING);
	node_notify_parent(n);
}

static void
node_record_exit(struct node *n, struct node_exit ex)
{
	n->exit = ex;
	n->work_live = false;
	if (ex.kind == EXIT_SIGNAL || (ex.kind == EXIT_CODE && ex.value != 0))
		n->abnormal = true;
}

static void
act_ended(struct node *n, const struct node_input *in)
{
	node_record_exit(n, in->exit);
	node_run_ended(n);
}

static void
act_ended_stopping(struct node *n, const struct node_input *in)
{
	/* A signal we sent is not an abnormal end. */
	n->exit = in->exit;
	n->work_live = false;
	node_check_drained(n);
}

static void
node_stop_children(struct node *n, struct cause *c, enum node_after after)
{
	struct cause *cc = node_child_cause(n, c);
	enum node_after child_after =
	    (after == AFTER_START || after == AFTER_HOLD) ? AFTER_HOLD :
	    AFTER_EXIT;

	/* Reverse start order; a child may terminate (and even be the last)
	 * inside the call, which node_check_drained's guard tolerates. */
	for (uint32_t i = n->nchildren; i > 0; i--) {
		struct node *child = n->children[i - 1];

		if (node_terminated(child))
			continue;
		if (child_after == AFTER_HOLD && node_idle(child))
			continue;
		node_stop(child, cc, child_after);
	}
	cause_unref(cc);
}

static void
act_stop(struct node *n, const struct node_input *in)
{
	if (n->timers != NULL) {
		node_timer_clear(&n->timers->start);
		node_timer_clear(&n->timers->backoff);
		node_timer_clear(&n->timers->deadline);
	}
	/* A hold of a node already waiting in backoff changes nothing but
	 * who starts it. */
	if (n->state == NODE_BACKOFF && in->after == AFTER_HOLD) {
		node_set_queued(n, true);
		return;
	}
	n->after = in->after;
	if (in->cause != NULL)
		node_set_cause(n, in->cause);
	node_set_state(n, NODE_STOPPING);
	if (n->sup != NULL)
		sup_stop(n);
	n->stopping = true;
	node_stop_children(n, in->cause, in->after);
	if (n->work_live)
		n->ops->cancel(n);
	n->stopping = false;
	node_check_drained(n);
}

static void
act_restop(struct node *n, const struct node_input *in)
{
	enum node_after after = in->ev == NEV_RESTART ? AFTER_START : in->after;

	/* Only a stronger stop counts: a cancel turns a restart or hold into
	 * a stop for good, never the other way round. */
	if (after != AFTER_EXIT || n->after == AFTER_EXIT)
		return;
	n->after = AFTER_EXIT;
	if (in->cause != NULL)
		node_set_cause(n, in->cause);
	/* Children held for a group start were idle; they stop for good. */
	n->stopping = true;
	node_stop_children(n, in->cause, AFTER_EXIT);
	n->stopping = false;
	node_check_drained(n);
}

static void
act_restart(struct node *n, const struct node_input *in)
{
	struct cause *c;

	if (n->queued && !n->work_live && n->nlive == 0) {
		/* Not started yet: its start is already on its way. */
		return;
	}
	c = cause_new("restarting");
	node_stop(n, c, AFTER_START);
	cause_unref(c);
}

static void
act_start_timeout(struct node *n, const struct node_input *in)
{
	struct cause *c = cause_new("start timeout");

	n->abnormal = true;
	n->given_up = true;
	node_stop(n, c, AFTER_REPORT);
	cause_unref(c);
}

static void
act_deadline(struct node *n, const struct node_input *in)
{
	struct cause *c = cause_new("deadline exceeded");

	n->tree->stats.cancels++;
	node_stop(n, c, AFTER_EXIT);
	cause_unref(c);
}

static void
act_drained(struct node *n, const struct node_input *in)
{
	struct node *p = n->parent;
	bool grouped = n->grouped;
	enum node_after after = n->after;

	n->grouped = false;
	n->ended_ms = clock_wall_ms();
	switch (after) {
	case AFTER_EXIT:
		node_timers_clear(n);
		node_set_state(n, NODE_EXITED);
		break;
	case AFTER_START:
		/* The stop was the first half of a restart. */
		act_start(n, in);
		break;
	case AFTER_HOLD:
		node_timers_clear(n);
		n->queued = true;
		node_set_state(n, NODE_BACKOFF);
		break;
	case AFTER_REPORT:
		node_run_ended(n);
		break;
	}
	if (grouped && p != NULL)
		sup_child_held(p, n);
	if (after == AFTER_EXIT || after == AFTER_HOLD)
		node_notify_parent(n);
}

static void
node_check_drained(struct node *n)
{
	if (n->state != NODE_STOPPING || n->stopping || n->work_live ||
	    n->nlive != 0)
		return;
	node_input(n, &(struct node_input){ .ev = NEV_DRAINED });
}

void
node_start(struct node *n)
{
	node_input(n, &(struct node_input){ .ev = NEV_START });
}

void
node_stop(struct node *n, struct cause *c, enum node_after after)
{
	node_input(n, &(struct node_input){ .ev = NEV_STOP, .cause = c,
	    .after = after });
}

void
node_cancel(struct node *n, struct cause *c)
{
	node_stop(n, c, AFTER_EXIT);
}

void
node_restart(struct node *n)
{
	node_input(n, &(struct node_input){ .ev = NEV_RESTART });
}

void
node_work_ready(struct node *n)
{
	node_input(n, &(struct node_input){ .ev = NEV_READY });
}

void
node_work_ended(struct node *n, struct node_exit ex)
{
	node_input(n, &(struct node_input){ .ev = NEV_ENDED, .exit = ex });
}

void
node_free(struct node *n)
{
	for (uint32_t i = 0; i < n->nchildren; i++)
		node_free(n->children[i]);
	free(n->children);
	if (n->ops != NULL && n->work != NULL)
		n->ops->free(n);
	if (n->sup != NULL)
		sup_free(n);
	node_timers_clear(n);
	cause_unref(n->cause);
	spec_free(n->spec);
	free(n);
}
