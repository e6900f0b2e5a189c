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

/* Restart intensity as people type it: "N/DUR" (5/10s: at most 5
 * restarts in 10 s) or "N" (period unchanged), N from 0 to max. */
int proto_intensity_parse(const char *s, uint32_t max, uint32_t *restarts,
    int64_t *period_ms, struct proto_err *err);

/* Shortest exact form: 1500 -> "1500ms", 2000 -> "2s", 90000 -> "90s",
 * 120000 -> "2m". Returns buf. */
char *proto_duration_format(int64_t ms, char *buf, size_t size);

#endif
