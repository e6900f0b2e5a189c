/*
 * The node lifecycle: one table of state x event -> action, and the only
 * place a node's state changes (node_set_state, called from actions). The
 * supervisor decides what follows a child's end and says so with events
 * (node_backoff, node_hold, node_give_up, node_fail); the tree sends the
 * client's (node_cancel, node_restart). node_set_state keeps the counters,
 * the parent's counts of busy and stopping children, and the event stream
 * right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cause.h"
#include "clock.h"
#include "log.h"
#include "names.h"
#include "node.h"
#include "sockets.h"
#include "supervisor.h"
#include "timer.h"
#include "tree.h"
#include "worker.h"

const char *const node_state_names[] = {
	[NODE_STARTING] = "starting",
	[NODE_RUNNING] = "running",
	[NODE_BACKOFF] = "backoff",
	[NODE_STOPPING] = "stopping",
	[NODE_EXITED] = "exited",
	[NODE_FAILED] = "failed",
	[NODE_QUEUED] = "starting",
	[NODE_HELD] = "backoff",
	[NODE_ENDED] = "ended",
	[NODE__ALL] = NULL,
};

/* The wire state each state is shown as. */
static const uint8_t node_shown_as[NODE__ALL] = {
	[NODE_STARTING] = NODE_STARTING,
	[NODE_RUNNING] = NODE_RUNNING,
	[NODE_BACKOFF] = NODE_BACKOFF,
	[NODE_STOPPING] = NODE_STOPPING,
	[NODE_EXITED] = NODE_EXITED,
	[NODE_FAILED] = NODE_FAILED,
	[NODE_QUEUED] = NODE_STARTING,
	[NODE_HELD] = NODE_BACKOFF,
	[NODE_ENDED] = NODE__STATES, /* not shown: keeps what it was */
};

enum node_event {
	NEV_START,   /* begin a run */
	NEV_QUEUE,   /* wait for the parent's ordered start */
	NEV_READY,   /* the work is running */
	NEV_ENDED,   /* the work is over */
	NEV_STOP,    /* the done handle is closed */
	NEV_RESTART, /* a client asked for a restart */
	NEV_START_TIMEOUT,
	NEV_DEADLINE,
	NEV_DRAINED, /* no work and no busy child left */
	NEV_BACKOFF, /* the parent: restart after a delay */
	NEV_HOLD,    /* the parent: restart with the group */
	NEV_GIVE_UP, /* the parent: not restarted */
	NEV_FAILED,  /* its work failed while running (watchdog, health) */
	NEV__COUNT
};

static const char *const node_event_names[] = {
	"start",
	"queue",
	"ready",
	"ended",
	"stop",
	"restart",
	"start-timeout",
	"deadline",
	"drained",
	"backoff",
	"hold",
	"give-up",
	"failed",
};

struct node_input {
	enum node_event ev;
	struct cause *cause;   /* NEV_STOP, NEV_GIVE_UP, NEV_FAILED;
	                          borrowed */
	enum node_after after; /* NEV_STOP */
	struct node_exit exit; /* NEV_ENDED */
	int64_t ms;            /* NEV_BACKOFF delay, NEV_HOLD due */
	bool failed;           /* NEV_GIVE_UP */
};

typedef void node_action(struct node *, const struct node_input *);

static node_action act_start, act_queue, act_ready, act_ended, act_stop,
    act_stop_waiting, act_restop, act_restart, act_restart_ended,
    act_start_timeout, act_deadline, act_drained, act_ended_stopping,
    act_backoff, act_hold, act_give_up, act_failed;

/* An event with no entry is ignored (logged at debug): a stop of a node
 * already stopped, a second start, a timer that lost a race. */
static node_action *const node_actions[NODE__ALL][NEV__COUNT] = {
	[NODE_QUEUED] = {
		[NEV_START] = act_start,
		[NEV_STOP] = act_stop_waiting,
		/* Its start is on its way: a restart has nothing to do. */
	},
	[NODE_HELD] = {
		[NEV_START] = act_start,
		[NEV_QUEUE] = act_queue,
		[NEV_STOP] = act_stop_waiting,
		/* It starts with its group, never before. */
	},
	[NODE_STARTING] = {
		[NEV_READY] = act_ready,
		[NEV_ENDED] = act_ended,
		[NEV_STOP] = act_stop,
		[NEV_RESTART] = act_restart,
		[NEV_START_TIMEOUT] = act_start_timeout,
		[NEV_DEADLINE] = act_deadline,
		[NEV_FAILED] = act_failed,
	},
	[NODE_RUNNING] = {
		[NEV_ENDED] = act_ended,
		[NEV_STOP] = act_stop,
		[NEV_RESTART] = act_restart,
		[NEV_DEADLINE] = act_deadline,
		[NEV_FAILED] = act_failed,
	},
	[NODE_BACKOFF] = {
		[NEV_START] = act_start,
		[NEV_STOP] = act_stop_waiting,
		[NEV_RESTART] = act_start,
	},
	[NODE_STOPPING] = {
		[NEV_ENDED] = act_ended_stopping,
		[NEV_STOP] = act_restop,
		[NEV_DRAINED] = act_drained,
	},
	[NODE_EXITED] = {
		[NEV_QUEUE] = act_queue,
		[NEV_RESTART] = act_restart_ended,
	},
	[NODE_FAILED] = {
		[NEV_QUEUE] = act_queue,
		[NEV_RESTART] = act_restart_ended,
	},
	[NODE_ENDED] = {
		[NEV_BACKOFF] = act_backoff,
		[NEV_HOLD] = act_hold,
		[NEV_GIVE_UP] = act_give_up,
	},
};

static void node_check_drained(struct node *n);

static void
node_input(struct node *n, const struct node_input *in)
{
	node_action *fn = node_actions[n->state][in->ev];

	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char path[PROTO_PATH_MAX];

		log_debug("%s: event %s in %s%s",
		    node_path(n, path, sizeof path), node_event_names[in->ev],
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

/* Idle: terminated, or waiting for its parent to start it. Busy children
 * keep a stopping parent from draining. */
static bool
node_idle_in(enum node_state s)
{
	return s == NODE_EXITED || s == NODE_FAILED || s == NODE_QUEUED ||
	    s == NODE_HELD;
}

static bool
node_active_in(enum node_state s)
{
	return s == NODE_STARTING || s == NODE_RUNNING || s == NODE_STOPPING;
}

void
node_init_state(struct node *n, enum node_state state)
{
	n->state = state;
	n->shown = node_shown_as[state];
}

/* Only ever called from the actions below. */
static void
node_set_state(struct node *n, enum node_state to)
{
	enum node_state from = n->state;
	struct node *p = n->parent;
	struct tree_event ev;
	uint8_t shown;

	if (from == to)
		return;
	n->state = to;
	if (to == NODE_ENDED)
		n->before_end = from;
	/* Held across restarts; a node that is done with them lets go. A
	 * supervisor that gave up is shown failed before its parent decides
	 * (act_drained): not an end yet, it may be restarted. */
	if ((to == NODE_EXITED || to == NODE_FAILED) &&
	    (from != NODE_STOPPING || n->after != AFTER_REPORT))
		sock_node_close(n);
	if (p != NULL) {
		if (node_idle_in(from) != node_idle_in(to)) {
			if (node_idle_in(from))
				p->nlive++;
			else
				p->nlive--;
		}
		if (from == NODE_STOPPING)
			p->nstopping--;
		if (to == NODE_STOPPING)
			p->nstopping++;
	}
	if (to == NODE_ENDED || (shown = node_shown_as[to]) == n->shown)
		return;
	memset(&ev, 0, sizeof ev);
	ev.type = TREE_EV_STATE;
	ev.node = n;
	ev.from = n->shown;
	ev.to = shown;
	/* A run ended: from work to rest, directly or through the parent's
	 * decision. A waiting node that is cancelled never ran. */
	ev.ended = !node_active_in(to) &&
	    (node_active_in(from) ||
	        (from == NODE_ENDED && node_active_in(n->before_end)));
	n->tree->stats.by_state[n->shown]--;
	n->tree->stats.by_state[shown]++;
	n->shown = shown;
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char path[PROTO_PATH_MAX];

		log_debug("%s: %s -> %s%s%s", node_path(n, path, sizeof path),
		    node_state_names[ev.from], node_state_names[ev.to],
		    n->cause ? ": " : "", n->cause ? cause_text(n->cause) : "");
	}
	tree_emit(n->tree, &ev);
}

static void
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
	enum cause_class cls = cause_class(c);
	const char *text = cause_text(c);

	/* The chain names the node where the stop began, once: a cause that
	 * already came from above is passed down unchanged. */
	if (c != NULL && (cls == CAUSE_PARENT || cls == CAUSE_SHUTDOWN))
		return cause_ref(c);
	return cause_new(CAUSE_PARENT, "parent cancelled: %s: %s",
	    node_path(n, path, sizeof path), text ? text : "cancelled");
}

static struct node_timers *
node_timers(struct node *n)
{
	if (n->timers == NULL &&
	    (n->timers = calloc(1, sizeof *n->timers)) == NULL)
		fatalx("out of memory");
	return n->timers;
}

static void
node_timers_clear(struct node *n)
{
	if (n->timers == NULL)
		return;
	timer_clear(&n->timers->deadline);
	timer_clear(&n->timers->start);
	timer_clear(&n->timers->backoff);
	free(n->timers);
	n->timers = NULL;
}

static void
node_timer_arm(struct node *n, struct event **evp, int64_t ms,
    event_callback_fn cb)
{
	struct timeval tv = clock_tv(ms);

	timer_clear(evp);
	*evp = event_new(n->tree->base, -1, 0, cb, n);
	if (*evp == NULL || event_add(*evp, &tv) == -1)
		fatalx("cannot arm a timer");
}

static void
node_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	timer_clear(&n->timers->deadline);
	node_input(n, &(struct node_input){ .ev = NEV_DEADLINE });
}

static void
node_start_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	timer_clear(&n->timers->start);
	node_input(n, &(struct node_input){ .ev = NEV_START_TIMEOUT });
}

static void
node_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	timer_clear(&n->timers->backoff);
	node_input(n, &(struct node_input){ .ev = NEV_START });
}

/* The parent hears that a child reached a state it may be waiting for:
 * running, terminated, held, or no longer stopping. */
static void
node_notify_parent(struct node *n)
{
	struct node *p = n->parent;

	if (p == NULL)
		return;
	if (p->state == NODE_STOPPING)
		node_check_drained(p);
	else if (p->state == NODE_STARTING || p->state == NODE_RUNNING)
		sup_continue(p);
}

static void
node_log_end(struct node *n, const struct node_exit *ex)
{
	char path[PROTO_PATH_MAX], pid[32] = "", how[48] = "";
	const char *sig;

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	if (ex != NULL && ex->pid > 0)
		snprintf(pid, sizeof pid, " (pid %d)", ex->pid);
	/* An end of its own says how in its cause already. */
	if (ex != NULL &&
	    (cause_class(n->cause) == CAUSE_EXIT ||
	        cause_class(n->cause) == CAUSE_SIGNAL))
		ex = NULL;
	if (ex != NULL && ex->kind == EXIT_CODE)
		snprintf(how, sizeof how, "; exit code %d", ex->value);
	else if (ex != NULL && ex->kind == EXIT_SIGNAL)
		snprintf(how, sizeof how, "; signal %s",
		    (sig = proto_signal_name(ex->value)) ? sig : "?");
	log_info("%s%s: %s%s", node_path(n, path, sizeof path), pid,
	    cause_text(n->cause) ? cause_text(n->cause) : "ended", how);
}

/* The run is over without a stop from above: the parent decides what
 * comes next, and must (every decision leaves NODE_ENDED). */
static void
node_run_ended(struct node *n)
{
	if (n->parent == NULL)
		fatalx("the root ended");
	n->ended_ms = clock_wall_ms();
	node_timers_clear(n);
	node_set_state(n, NODE_ENDED);
	sup_child_ended(n->parent, n);
	if (n->state == NODE_ENDED)
		fatalx("a supervisor made no decision on a child's end");
}

/* Bookkeeping of a new run, up to the state moving to starting. */
static void
node_begin(struct node *n)
{
	node_timers_clear(n);
	if (n->ever_started) {
		n->restarts++;
		n->tree->stats.restarts++;
	}
	n->ever_started = true;
	n->abnormal = false;
	n->given_up = false;
	n->after = AFTER_EXIT;
	n->exit = (struct node_exit){ .kind = EXIT_NONE };
	n->due_ms = 0;
	n->running_mono = 0;
	n->started_ms = clock_wall_ms();
	node_set_cause(n, NULL);
	node_set_state(n, NODE_STARTING);
	if (n->spec->timeout_ms >= 0)
		node_timer_arm(n, &node_timers(n)->deadline,
		    n->spec->timeout_ms, node_deadline_cb);
}

/* The work has begun; ready or not yet. */
static void
node_launched(struct node *n, bool ready)
{
	if (ready) {
		node_work_ready(n);
		return;
	}
	if (n->state == NODE_STARTING && n->spec->start_timeout_ms >= 0) {
		node_timer_arm(n, &node_timers(n)->start,
		    n->spec->start_timeout_ms, node_start_timeout_cb);
		n->timers->start_due = clock_mono_ms() +
		    n->spec->start_timeout_ms;
	}
}

/* The work could not begin: a failure the parent decides about. */
static void
node_start_failed(struct node *n, const struct proto_err *err)
{
	struct cause *c;

	n->abnormal = true;
	n->given_up = true;
	c = cause_new(CAUSE_START_FAILED, "could not start: %s", err->message);
	node_set_cause(n, c);
	cause_unref(c);
	node_log_end(n, NULL);
	node_run_ended(n);
}

static void
act_start(struct node *n, const struct node_input *in)
{
	struct proto_err err;
	bool ready = false;

	node_begin(n);
	if (sock_node_open(n, &err) == -1) {
		node_start_failed(n, &err);
		return;
	}
	if (node_is_sup(n)) {
		sup_start(n);
		node_launched(n, false);
		return;
	}
	if (n->ops->start(n, &ready, &err) == -1) {
		node_start_failed(n, &err);
		return;
	}
	n->work_live = true;
	node_launched(n, ready);
}

static void
act_queue(struct node *n, const struct node_input *in)
{
	node_set_state(n, NODE_QUEUED);
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
	if (n->timers != NULL)
		timer_clear(&n->timers->start);
	n->running_mono = clock_mono_ms();
	node_set_state(n, NODE_RUNNING);
	if (n->ops != NULL && n->ops->running != NULL && n->work_live)
		n->ops->running(n);
	node_notify_parent(n);
}

/* "killed by the OOM killer (memory_max 256M)": the limit that was hit,
 * the node's own or the nearest ancestor's (then named). */
static struct cause *
node_oom_cause(const struct node *n)
{
	char path[PROTO_PATH_MAX], size[32];

	for (const struct node *a = n; a != NULL; a = a->parent) {
		if (!spec_cgroup_has(a->spec->cgroup, SPEC_CG_MEMORY_MAX))
			continue;
		spec_cgroup_show(a->spec->cgroup, SPEC_CG_MEMORY_MAX, size,
		    sizeof size);
		if (a == n)
			return cause_new(CAUSE_SIGNAL,
			    "killed by the OOM killer (memory_max %s)", size);
		return cause_new(CAUSE_SIGNAL,
		    "killed by the OOM killer (memory_max %s of %s)", size,
		    node_path(a, path, sizeof path));
	}
	return cause_new(CAUSE_SIGNAL, "killed by the OOM killer");
}

static void
act_ended(struct node *n, const struct node_input *in)
{
	const struct node_exit *ex = &in->exit;
	struct cause *c;
	const char *sig;
	char why[96] = "";

	n->exit = *ex;
	n->work_live = false;
	/* The errno the program gave (sd_notify ERRNO=) says why. */
	if (ex->err_no > 0)
		snprintf(why, sizeof why, " (errno %d %s: %s)", ex->err_no,
		    proto_errno_name(ex->err_no), strerror(ex->err_no));
	if (ex->oom) {
		c = node_oom_cause(n);
	} else if (ex->kind == EXIT_SIGNAL) {
		sig = proto_signal_name(ex->value);
		c = sig != NULL ?
		    cause_new(CAUSE_SIGNAL, "killed by signal %s%s", sig, why) :
		    cause_new(CAUSE_SIGNAL, "killed by signal %d%s", ex->value,
		        why);
	} else {
		c = cause_new(CAUSE_EXIT, "exited with code %d%s",
		    ex->kind == EXIT_CODE ? ex->value : 0, why);
	}
	if (ex->kind == EXIT_SIGNAL ||
	    (ex->kind == EXIT_CODE && ex->value != 0))
		n->abnormal = true;
	node_set_cause(n, c);
	cause_unref(c);
	node_log_end(n, ex);
	node_run_ended(n);
}

static void
act_ended_stopping(struct node *n, const struct node_input *in)
{
	/* A signal we sent is not an abnormal end; the cause stays the
	 * stop's. */
	n->exit = in->exit;
	n->work_live = false;
	if (!node_is_sup(n))
		node_log_end(n, &in->exit);
	node_check_drained(n);
}

/* What a child's stop ends in when its parent's ends in `after`: a
 * restart or hold of the parent holds the children for its start; any
 * other end of the parent ends them. */
static enum node_after
node_child_after(enum node_after after)
{
	return after == AFTER_START || after == AFTER_HOLD ? AFTER_HOLD :
	                                                     AFTER_EXIT;
}

static void
node_stop_children(struct node *n, struct cause *c, enum node_after after)
{
	struct cause *cc = node_child_cause(n, c);
	enum node_after child_after = node_child_after(after);

	/* Reverse start order; a child may terminate (and even be the last)
	 * inside the call, which node_check_drained's guard tolerates. */
	for (uint32_t i = n->nchildren; i > 0; i--) {
		struct node *child = n->children[i - 1];

		if (!node_terminated(child))
			node_stop(child, cc, child_after);
	}
	cause_unref(cc);
}

static void
act_stop(struct node *n, const struct node_input *in)
{
	if (n->timers != NULL) {
		timer_clear(&n->timers->start);
		timer_clear(&n->timers->deadline);
	}
	n->after = in->after;
	if (in->cause != NULL)
		node_set_cause(n, in->cause);
	node_set_state(n, NODE_STOPPING);
	if (n->sup != NULL)
		sup_stop(n);
	n->in_stop = true;
	node_stop_children(n, in->cause, in->after);
	if (n->work_live)
		n->ops->cancel(n);
	n->in_stop = false;
	node_check_drained(n);
}

/* Nothing runs: a hold keeps it waiting (in backoff, for the group), any
 * other stop ends it at once, with its children, which are all waiting
 * or terminated, first. */
static void
act_stop_waiting(struct node *n, const struct node_input *in)
{
	node_timers_clear(n);
	if (in->after == AFTER_HOLD) {
		if (n->state == NODE_BACKOFF)
			node_set_state(n, NODE_HELD);
		return;
	}
	if (in->cause != NULL)
		node_set_cause(n, in->cause);
	n->due_ms = 0;
	n->in_stop = true;
	node_stop_children(n, in->cause, AFTER_EXIT);
	n->in_stop = false;
	node_set_state(n, NODE_EXITED);
	node_notify_parent(n);
}

static void
act_restop(struct node *n, const struct node_input *in)
{
	enum node_after after = n->after;

	/* A cancel turns any stop into a stop for good; a parent's hold
	 * takes over from the node's own restart or report, since the
	 * parent starts it again with the group. Nothing weakens a stop. */
	if (in->after == AFTER_EXIT)
		after = AFTER_EXIT;
	else if (in->after == AFTER_HOLD &&
	    (n->after == AFTER_START || n->after == AFTER_REPORT))
		after = AFTER_HOLD;
	if (after == n->after)
		return;
	n->after = after;
	if (in->cause != NULL)
		node_set_cause(n, in->cause);
	/* Children already idle for a hold now stop for good, and those
	 * still stopping follow the new end. */
	n->in_stop = true;
	node_stop_children(n, in->cause, after);
	n->in_stop = false;
	node_check_drained(n);
}

static void
act_restart(struct node *n, const struct node_input *in)
{
	struct cause *c = cause_new(CAUSE_OTHER, "restarting");

	node_stop(n, c, AFTER_START);
	cause_unref(c);
}

/* A client's restart of a terminated node: it joins its parent's ordered
 * start when that has not reached it yet, or starts now. */
static void
act_restart_ended(struct node *n, const struct node_input *in)
{
	if (sup_in_start_order(n->parent, n)) {
		node_set_state(n, NODE_QUEUED);
		sup_continue(n->parent);
		return;
	}
	act_start(n, in);
}

static void
act_start_timeout(struct node *n, const struct node_input *in)
{
	struct cause *c = cause_new(CAUSE_START_FAILED, "start timeout");

	n->abnormal = true;
	n->given_up = true;
	node_stop(n, c, AFTER_REPORT);
	cause_unref(c);
}

/* The worker's own verdict while it runs (a watchdog, a health check): it
 * is stopped like a cancel, but its end is a failure like a crash, so the
 * parent restarts it per policy and counts it in its intensity. */
static void
act_failed(struct node *n, const struct node_input *in)
{
	n->abnormal = true;
	node_stop(n, in->cause, AFTER_REPORT);
}

static void
act_deadline(struct node *n, const struct node_input *in)
{
	struct cause *c = cause_new(CAUSE_DEADLINE, "deadline exceeded");

	n->tree->stats.cancels++;
	node_stop(n, c, AFTER_EXIT);
	cause_unref(c);
}

static void
act_drained(struct node *n, const struct node_input *in)
{
	n->ended_ms = clock_wall_ms();
	switch ((enum node_after)n->after) {
	case AFTER_EXIT:
		node_timers_clear(n);
		node_set_state(n, NODE_EXITED);
		break;
	case AFTER_START:
		/* The stop was the first half of a client's restart. */
		act_start(n, in);
		break;
	case AFTER_HOLD:
		node_timers_clear(n);
		node_set_state(n, NODE_HELD);
		break;
	case AFTER_REPORT:
		/* A supervisor that gave up is seen failing before its
		 * parent decides. */
		if (node_is_sup(n) && n->given_up)
			node_set_state(n, NODE_FAILED);
		node_run_ended(n);
		break;
	}
	/* One stopping child fewer: a group start may wait for that. */
	node_notify_parent(n);
}

static void
act_backoff(struct node *n, const struct node_input *in)
{
	char path[PROTO_PATH_MAX];

	/* The delay counts from the end of the run, so due_ms - ended_ms in
	 * the view is exactly the delay chosen. */
	n->due_ms = n->ended_ms + in->ms;
	node_timer_arm(n, &node_timers(n)->backoff, n->due_ms - clock_wall_ms(),
	    node_backoff_cb);
	node_set_state(n, NODE_BACKOFF);
	log_info("%s: restarting in %lld ms (restart %u)",
	    node_path(n, path, sizeof path), (long long)in->ms,
	    n->restarts + 1);
}

static void
act_hold(struct node *n, const struct node_input *in)
{
	char path[PROTO_PATH_MAX];

	n->due_ms = in->ms;
	node_set_state(n, NODE_HELD);
	log_info("%s: restarting with its group in %lld ms",
	    node_path(n, path, sizeof path), (long long)(in->ms - n->ended_ms));
}

static void
act_give_up(struct node *n, const struct node_input *in)
{
	char path[PROTO_PATH_MAX];
	enum node_state to = in->failed ? NODE_FAILED : NODE_EXITED;

	if (in->cause != NULL)
		node_set_cause(n, in->cause);
	n->due_ms = 0;
	node_set_state(n, to);
	if (in->failed)
		log_warnx("%s: given up: %s", node_path(n, path, sizeof path),
		    cause_text(n->cause) ? cause_text(n->cause) : "failed");
	else
		log_info("%s: not restarted (restart: %s)",
		    node_path(n, path, sizeof path),
		    spec_restart_names[n->spec->restart]);
}

static void
node_check_drained(struct node *n)
{
	if (n->state != NODE_STOPPING || n->in_stop || n->work_live ||
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
node_queue(struct node *n)
{
	node_input(n, &(struct node_input){ .ev = NEV_QUEUE });
}

void
node_stop(struct node *n, struct cause *c, enum node_after after)
{
	node_input(n,
	    &(struct node_input){ .ev = NEV_STOP, .cause = c, .after = after });
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
node_backoff(struct node *n, int64_t delay_ms)
{
	node_input(n,
	    &(struct node_input){ .ev = NEV_BACKOFF, .ms = delay_ms });
}

void
node_hold(struct node *n, int64_t due_ms)
{
	node_input(n, &(struct node_input){ .ev = NEV_HOLD, .ms = due_ms });
}

void
node_give_up(struct node *n, struct cause *c, bool failed)
{
	node_input(n,
	    &(struct node_input){ .ev = NEV_GIVE_UP,
	        .cause = c,
	        .failed = failed });
}

void
node_fail(struct node *n, struct cause *c)
{
	n->abnormal = true;
	n->given_up = true;
	node_stop(n, c, AFTER_REPORT);
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
node_work_failed(struct node *n, struct cause *c)
{
	node_input(n, &(struct node_input){ .ev = NEV_FAILED, .cause = c });
}

void
node_work_extend(struct node *n, int64_t ms)
{
	int64_t due = clock_mono_ms() + ms;

	if (n->state != NODE_STARTING || n->timers == NULL ||
	    n->timers->start == NULL || due <= n->timers->start_due)
		return;
	node_timer_arm(n, &n->timers->start, ms, node_start_timeout_cb);
	n->timers->start_due = due;
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
	sock_node_close(n);
	cause_unref(n->cause);
	spec_free(n->spec);
	free(n);
}
