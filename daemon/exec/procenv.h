/*
 * Reading one variable out of another process's environment
 * (/proc/PID/environ: NAME=VALUE entries, each ended by a NUL). The whole
 * environment is read, through a fixed buffer, so a variable is found
 * wherever the process put it: a shell re-exports variables in its own
 * order, and one large variable can push arbor's markers far from the
 * start. No allocation; safe in the sentinel after fork.
 */
#ifndef PROCENV_H
#define PROCENV_H

#include <stddef.h>
#include <sys/types.h>

/* The value of name in the environment read from fd, to its end: copied
 * into val cut to size - 1 bytes and NUL-terminated (val may be NULL when
 * size is 0). Returns the value's full length, so a caller can tell a cut
 * value from a whole one; -1 when name is not there or fd cannot be read.
 * The first entry of that name wins, as with getenv(3). */
ssize_t procenv_get_fd(int fd, const char *name, char *val, size_t size);
/* The same for /proc/PID/environ; -1 also when the process is gone or its
 * environment is not ours to read. */
ssize_t procenv_get(pid_t pid, const char *name, char *val, size_t size);

#endif
