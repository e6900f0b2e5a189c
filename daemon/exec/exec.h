/*
 * Exec workers (exec.c) beyond their worker_ops: the process-wide set-up
 * (the /proc scan event, the reaper's and the sentinel's hooks), made once
 * the loop, the reaper and the sentinel exist, and its teardown, once the
 * tree is freed; the check of a spec that cannot start at once
 * (exec-check.c).
 */
#ifndef EXEC_H
#define EXEC_H

#include <stdbool.h>
#include <jansson.h>

#include "err.h"

struct cgroup_acct;
struct event_base;
struct node;
struct node_spec;
struct rlimit;

/* Before the first exec worker starts; -1 when out of memory. */
int exec_init(struct event_base *base);
void exec_teardown(void);
/* The RLIMIT_NOFILE workers get, set in the child before its exec: the
 * limit arbord found at start, before it raised its own. */
void exec_set_child_nofile(const struct rlimit *rl);
/* An exec node's accounting: its run's cgroup, or /proc of the processes
 * it knows; the last run's once it ended; -1 where unknown. */
void exec_node_acct(const struct node *n, struct cgroup_acct *a);
/* Refuses, as spawn_failed, a program execvp would not find or run, or a
 * cwd chdir would refuse. */
int exec_check_spec(const struct node_spec *spec, struct proto_err *err);
/* The `signal` method: sig to n's main process or, with all, to every
 * process of its run (its group and the escaped descendants arbord
 * knows); *pids (new) lists the pids it was sent to. -1 with a conflict
 * when n is not an exec node whose main process runs. */
int exec_signal(struct node *n, int sig, bool all, json_t **pids,
    struct proto_err *err);

#endif
