/*
 * Durations as people type them: "250ms", "5s", "2m", "1h", and a plain
 * number meaning milliseconds. Sums like "1m30s" are accepted too.
 */
#ifndef PROTO_DURATION_H
#define PROTO_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Largest duration accepted anywhere: 30 days, in ms. */
#define PROTO_DURATION_MAX_MS (30LL * 24 * 3600 * 1000)

int proto_duration_parse(const char *s, int64_t *ms, struct proto_err *err);

/* Shortest exact form: 1500 -> "1500ms", 2000 -> "2s", 90000 -> "90s",
 * 120000 -> "2m". Returns buf. */
char *proto_duration_format(int64_t ms, char *buf, size_t size);

#endif
