/*
 * What makes a supervisor supervise: the ordered start of its children,
 * restart decisions by restart type and strategy, the restart intensity
 * window, backoff with jitter, and group restarts. A struct sup hangs off
 * each supervisor node (node->sup, owned by it) and owns its timers.
 */
#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct node;

struct sup {
	uint32_t cursor;           /* the ordered start is at this child */
	bool group;                /* a group restart waits for its members to
	                              stop and for its delay (group_timer) */
	bool group_waiting;        /* the group's delay has not run out */
	bool busy;                 /* sup_continue is on the stack */
	bool again;                /* ... and was asked to look once more */
	struct event *group_timer; /* owned */
	int64_t *window;           /* owned: monotonic ms of recent restarts */
	uint32_t nwindow;          /* entries used, at most max_restarts */
	uint32_t window_head;      /* next slot to write */
	int64_t group_due_ms;      /* wall clock the group starts again */
};

int sup_init(struct node *n);
void sup_free(struct node *n);

/* Queues every child and begins the ordered start. */
void sup_start(struct node *n);
/* The supervisor is stopping: its group restart, if any, is off. */
void sup_stop(struct node *n);
/* Starts queued children in order while the ones before are running. */
void sup_continue(struct node *n);
/* child's run ended (work over, its children idle) with no stop from
 * above: restart it, its group, or give up, by its restart type and n's
 * strategy, and tell child (node_backoff, node_hold, node_give_up). */
void sup_child_ended(struct node *n, struct node *child);
/* n's ordered start has not reached child yet. */
bool sup_in_start_order(const struct node *n, const struct node *child);
/* The delay before child's next restart, and counts it. */
int64_t sup_backoff_next(struct node *child);
/* Its spec's strategy or intensity may have changed (a reload): the
 * restart window starts afresh at the new size. */
void sup_policy_changed(struct node *n);
/* An instanced supervisor (spec-inst.h) has n instances from now: its
 * spec says so, and its intensity follows when the spec set none. Its
 * children are the caller's to add or stop. */
void sup_instances_set(struct node *n, uint32_t count);
/* Restarts within the window now. */
uint32_t sup_window_count(const struct node *n);

void sup_view(const struct node *n, json_t *view);

#endif
