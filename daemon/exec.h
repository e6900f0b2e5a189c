/*
 * Exec workers (exec.c) beyond their worker_ops: the process-wide set-up
 * (the /proc scan event, the reaper's and the sentinel's hooks), made once
 * the loop, the reaper and the sentinel exist, and its teardown, once the
 * tree is freed.
 */
#ifndef EXEC_H
#define EXEC_H

struct event_base;

/* Before the first exec worker starts; -1 when out of memory. */
int exec_init(struct event_base *base);
void exec_teardown(void);

#endif
