/*
 * Health checks of exec nodes (the spec's `health`): while a node runs, a
 * timer starts one check at a time, one interval after the last ended,
 * and the results move the node's health between starting, healthy and
 * unhealthy. HTTP and TCP checks are non-blocking sockets on the loop; an
 * exec check is a child started like the worker (exec-spawn.c), in a
 * process group of its own, registered with the sentinel, killed with its
 * group at its timeout and when the node stops, reaped by the reaper.
 * `failures` failed checks in a row stop the node as a failure
 * (node_work_failed) with cause "health check failed: REASON".
 *
 * The exec record owns its node's struct health and keeps it across runs
 * (the view shows the last result); the check in flight is the health's,
 * and an exec check still to be reaped when its health stops becomes the
 * module's until the reaper hands it back. Module state, like the reaper:
 * one per daemon.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct node;
struct health;

enum health_state { HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

extern const char *const health_state_names[]; /* "starting", ... */

/* Begins checking n (its spec has a health check; it just became
 * running): state starting, no failure counted, the first check one
 * interval from now. *hp is created the first time; -1 when out of
 * memory (the node simply goes unchecked, and it is logged). */
int health_start(struct health **hp, struct node *n);
/* Stops the checks: the timer, and the check in flight, cancelled (its
 * socket closed, its process group killed). The result so far stays. */
void health_stop(struct health *h);
void health_free(struct health *h);

/* The checks of the current run are under way and the last one passed:
 * false once they stopped (the node stopped or failed), whatever the last
 * result was. */
bool health_passing(const struct health *h);

/* The node's "health" in its view: null without a check. */
json_t *health_view(const struct health *h, const struct node *n);

/* For /metrics: each node being checked now, and counts of results. */
void health_foreach(void (*fn)(void *arg, const struct node *n,
                        enum health_state st),
    void *arg);
uint64_t health_checks_total(bool ok);

/* exec's hooks: a new sentinel learns the checks' groups; at teardown,
 * checks still to be reaped are forgotten (they were killed). */
void health_replay(void);
void health_teardown(void);

#endif
