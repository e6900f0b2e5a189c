/*
 * Log files with size-based rotation: `web.log` is renamed `web.log.1`,
 * `.1` becomes `.2`, ... up to `keep`, the oldest beyond it deleted, so
 * never more than max_bytes x (keep + 1) bytes are on disk. Files are
 * created with mode 0640 and given the owner the caller names. Writes go
 * straight to the file (write(2) on a regular file does not wait for a
 * reader; the daemon accepts the time the kernel takes to copy the bytes)
 * and are never retried: a failed write (a full disk) drops the bytes and
 * counts them. Opened files are shared by path and counted references:
 * the module owns each file; a worker's stream holds one reference.
 */
#ifndef LOGFILE_H
#define LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

struct logfile {
	LIST_ENTRY(logfile) entry;
	char *path; /* owned */
	int fd;     /* owned; -1 when it could not be opened */
	unsigned refs;
	uint64_t size; /* bytes in the current file */
	int64_t max_bytes;
	int64_t keep;
	uid_t uid;
	gid_t gid;
	int64_t retry_ms;   /* monotonic: when to try to open it again */
	uint64_t written;   /* bytes */
	uint64_t dropped;   /* bytes lost to errors */
	uint64_t errors;    /* failed writes, opens and renames */
	uint64_t rotations; /* files rotated */
	int last_errno;
};

/* A reference to the file at path, opened (or created) when nobody holds
 * it yet; the rotation settings and owner are the latest caller's. NULL
 * when out of memory. A file that cannot be opened is still returned (its
 * writes fail, counted, and it is tried again now and then). */
struct logfile *logfile_get(const char *path, int64_t max_bytes, int64_t keep,
    uid_t uid, gid_t gid);
void logfile_put(struct logfile *f);
/* Writes whole lines (len bytes ending in a newline, or a piece of a line
 * that did not fit a file), rotating as needed. Returns the bytes dropped. */
size_t logfile_write(struct logfile *f, const char *data, size_t len);
/* Closes and opens again (after an external logrotate moved it). */
int logfile_reopen(struct logfile *f);
/* Every open file, for `reopen` without a path. */
void logfile_reopen_all(void);
/* "path.N" into buf; N = 0 is path itself. */
int logfile_name(const char *path, int64_t n, char *buf, size_t size);

struct logfile_totals {
	uint64_t written, dropped, errors, rotations;
};
/* Over every file since the start, closed ones included. */
void logfile_totals(struct logfile_totals *t);

#endif
