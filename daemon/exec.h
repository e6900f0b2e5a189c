/*
 * Exec workers (exec.c) beyond their worker_ops: the teardown of what the
 * module keeps between runs, called once the tree is freed.
 */
#ifndef EXEC_H
#define EXEC_H

void exec_teardown(void);

#endif
