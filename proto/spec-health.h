/*
 * The `health` field of exec node specs: which check (a program, an HTTP
 * GET, a TCP connect) and its timing, parsed strictly. Addresses are
 * numeric (an IPv4 or [IPv6] literal, or `localhost`): arbord does no DNS
 * lookup, which could block its loop. A spec_health owns its strings.
 */
#ifndef PROTO_SPEC_HEALTH_H
#define PROTO_SPEC_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "err.h"

enum health_kind { HEALTH_EXEC, HEALTH_HTTP, HEALTH_TCP, HEALTH__KINDS };

/* Defaults, as PROTOCOL.md lists them. */
#define SPEC_HEALTH_INTERVAL_MS  10000
#define SPEC_HEALTH_TIMEOUT_MS   2000
#define SPEC_HEALTH_FAILURES     3
#define SPEC_HEALTH_MIN_MS       10 /* interval_ms at least */
#define SPEC_HEALTH_FAILURES_MAX 1000
#define SPEC_HEALTH_HOST_MAX     64

struct spec_health {
	uint8_t kind; /* enum health_kind */
	char **argv;  /* owned, NULL-terminated: exec */
	char *target; /* owned: the URL or host:port as given */
	char *path;   /* owned: http, the request target ("/health") */
	char host[SPEC_HEALTH_HOST_MAX]; /* numeric: "127.0.0.1", "::1" */
	uint16_t port;
	int64_t interval_ms;
	int64_t timeout_ms;
	int64_t start_grace_ms;
	uint32_t failures; /* in a row, for a node failure */
};

extern const char *const spec_health_kind_names[]; /* "exec", ... */

/* Reads obj's "health" (absent: *out NULL, 0). Errors name the field:
 * `field "health.interval_ms" must be ...`. */
int spec_health_parse(const json_t *obj, struct spec_health **out,
    struct proto_err *err);
void spec_health_free(struct spec_health *h);
/* Sets "health" on obj when h is not NULL; -1 when out of memory. */
int spec_health_to_json(const struct spec_health *h, json_t *obj);
/* A deep copy in *out (NULL for NULL); -1 when out of memory. */
int spec_health_dup(const struct spec_health *h, struct spec_health **out);
bool
spec_health_equal(const struct spec_health *a, const struct spec_health *b);

#endif
