/*
 * Exec workers (exec.c) beyond their worker_ops: the teardown of what the
 * module keeps between runs, called once the tree is freed; the check of
 * a spec that cannot start at once (exec-check.c).
 */
#ifndef EXEC_H
#define EXEC_H

#include "err.h"

struct node_spec;

void exec_teardown(void);
/* Refuses, as spawn_failed, a program execvp would not find or run, or a
 * cwd chdir would refuse. */
int exec_check_spec(const struct node_spec *spec, struct proto_err *err);

#endif
