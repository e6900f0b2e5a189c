/*
 * Durations as people write them, to and from milliseconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

struct proto_unit {
	const char *suffix;
	int64_t ms;
};

/* Largest first, the order formatting tries them in. A suffix only
 * matches when a digit or the end follows, so "m" never eats "ms". */
static const struct proto_unit proto_units[] = {
	{ "d", 24LL * 3600 * 1000 },
	{ "h", 3600LL * 1000 },
	{ "m", 60LL * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};
#define PROTO_NUNITS (sizeof proto_units / sizeof proto_units[0])

static int
proto_duration_bad(const char *s, struct proto_err *err)
{
	return (proto_errf(err, PROTO_INVALID_PARAMS,
	    "duration \"%.64s\" is not a duration like \"250ms\", \"5s\", "
	    "\"2m\", \"1h\" or \"1m30s\"",
	    s));
}

static int
proto_duration_too_large(const char *s, struct proto_err *err)
{
	return (proto_errf(err, PROTO_INVALID_PARAMS,
	    "duration \"%.64s\" is longer than 30 days", s));
}

int
proto_duration_parse(const char *s, int64_t *ms, struct proto_err *err)
{
	const char *p;
	int64_t n, total, last;
	size_t i, len;

	if (s == NULL || *s == '\0')
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "duration is empty; give one like \"5s\" or \"250ms\""));
	if (*s == '-')
		return (proto_errf(err, PROTO_INVALID_PARAMS,
		    "duration \"%.64s\" is negative", s));

	total = 0;
	last = INT64_MAX; /* units must come largest first, once each */
	for (p = s; *p != '\0';) {
		if (*p < '0' || *p > '9')
			return (proto_duration_bad(s, err));
		/* Bounding each number keeps n * unit far from overflow. */
		for (n = 0; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (*p - '0');
			if (n > PROTO_DURATION_MAX_MS)
				return (proto_duration_too_large(s, err));
		}
		if (*p == '\0') {
			if (last == INT64_MAX) {
				total = n; /* a bare number: ms */
				break;
			}
			return (proto_duration_bad(s, err));
		}
		for (i = 0; i < PROTO_NUNITS; i++) {
			len = strlen(proto_units[i].suffix);
			if (strncmp(p, proto_units[i].suffix, len) == 0 &&
			    (p[len] == '\0' ||
			        (p[len] >= '0' && p[len] <= '9')))
				break;
		}
		if (i == PROTO_NUNITS || proto_units[i].ms >= last)
			return (proto_duration_bad(s, err));
		last = proto_units[i].ms;
		p += strlen(proto_units[i].suffix);
		total += n * proto_units[i].ms;
		if (total > PROTO_DURATION_MAX_MS)
			return (proto_duration_too_large(s, err));
	}
	if (total > PROTO_DURATION_MAX_MS)
		return (proto_duration_too_large(s, err));
	*ms = total;
	return (0);
}

char *
proto_duration_format(int64_t ms, char *buf, size_t size)
{
	size_t i;

	if (size == 0)
		return (buf);
	if (ms == 0) {
		snprintf(buf, size, "0s");
		return (buf);
	}
	if (ms > 0) {
		for (i = 0; i < PROTO_NUNITS; i++) {
			if (ms % proto_units[i].ms == 0) {
				snprintf(buf, size, "%" PRId64 "%s",
				    ms / proto_units[i].ms,
				    proto_units[i].suffix);
				return (buf);
			}
		}
	}
	snprintf(buf, size, "%" PRId64 "ms", ms);
	return (buf);
}

int
proto_intensity_parse(const char *s, uint32_t max, uint32_t *restarts,
    int64_t *period_ms, struct proto_err *err)
{
	const char *slash = strchr(s, '/');
	unsigned long long n = 0;
	const char *p = s;

	if (p == slash || *p == '\0')
		goto bad;
	for (; p != slash && *p != '\0'; p++) {
		if (*p < '0' || *p > '9' ||
		    (n = n * 10 + (unsigned)(*p - '0')) > max)
			goto bad;
	}
	if (slash != NULL) {
		if (proto_duration_parse(slash + 1, period_ms, err) == -1) {
			proto_err_prefix(err, "intensity \"%s\"", s);
			return -1;
		}
		if (*period_ms <= 0)
			goto bad;
	}
	*restarts = (uint32_t)n;
	return 0;
bad:
	return proto_errf(err, PROTO_INVALID_PARAMS,
	    "intensity wants N/DUR "
	    "like 5/10s (N from 0 to %u, a period above 0), not \"%s\"",
	    max, s);
}
