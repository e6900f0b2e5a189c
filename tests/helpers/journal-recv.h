/*
 * A stand-in for journald in tests: a datagram socket bound in a test's
 * directory, and a reader of the native protocol (fields as NAME=value or
 * NAME, newline, 64-bit little-endian length, value), entries coming in the
 * datagram itself or in a memfd passed with SCM_RIGHTS.
 */
#ifndef JOURNAL_RECV_H
#define JOURNAL_RECV_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* A bound, non-blocking socket at path; -1 on failure. */
int jr_bind(const char *path);
/* The next entry as an object of field -> string value (binary values
 * as they are), with "_MEMFD" "1" when it came in a memfd; NULL when none
 * came in timeout_ms or the entry cannot be parsed. A datagram (or memfd)
 * may hold several entries, each ended by an empty line, as journald
 * reads them: they come one per call. */
json_t *jr_next(int fd, int timeout_ms);
/* How many datagrams jr_next has received. */
unsigned jr_datagrams(void);
/* Parses one entry in the native protocol (an empty line may end it);
 * NULL when it is malformed or more follows. */
json_t *jr_parse(const char *buf, size_t len);

#endif
