/*
 * The `log` field of a node spec: where an exec worker's output goes
 * (journald, a file with rotation, the ring `logs` reads). On a supervisor
 * it holds defaults for its subtree; a node's own fields win. Each field
 * is "unset" until given, so the effective value is the nearest one up the
 * tree (spec_log_resolve), then the daemon's default.
 */
#ifndef PROTO_SPEC_LOG_H
#define PROTO_SPEC_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "err.h"

#define SPEC_LOG_MAX_BYTES     (10 * 1024 * 1024) /* default max_bytes */
#define SPEC_LOG_MAX_BYTES_MIN 4096
#define SPEC_LOG_KEEP          5
#define SPEC_LOG_KEEP_MAX      1000
#define SPEC_LOG_RING          (64 * 1024) /* per stream */
#define SPEC_LOG_RING_MAX      (1024 * 1024)

struct spec_log {
	int8_t journal;    /* -1 unset, 0, 1 */
	char *file;        /* owned; NULL unset; "" is "no file" */
	char *stderr_file; /* owned; NULL unset; "" is "with stdout" */
	int64_t max_bytes; /* -1 unset */
	int64_t keep;      /* -1 unset */
	int64_t ring;      /* -1 unset; bytes per stream, 0: none */
};

/* The fields a node's output goes by, every one set. Strings borrowed
 * from the specs they came from. */
struct spec_log_eff {
	bool journal;
	const char *file;        /* NULL: none */
	const char *stderr_file; /* NULL: stderr goes to file */
	int64_t max_bytes;
	int64_t keep;
	int64_t ring;
};

/* Parses obj's "log" when it is there: *out is NULL without one. */
int
spec_log_parse(const json_t *obj, struct spec_log **out, struct proto_err *err);
void spec_log_free(struct spec_log *l);
/* 0 and *out (NULL for NULL) or -1 when out of memory. */
int spec_log_dup(const struct spec_log *l, struct spec_log **out);
/* Adds "log" to obj when l is not NULL; -1 when out of memory. */
int spec_log_to_json(const struct spec_log *l, json_t *obj);
bool spec_log_equal(const struct spec_log *a, const struct spec_log *b);
/* Fills the unset fields of eff from l (nearer specs first). */
void spec_log_inherit(struct spec_log_eff *eff, const struct spec_log *l,
    unsigned *have);
/* Defaults for what nobody set. */
void spec_log_defaults(struct spec_log_eff *eff, unsigned have,
    bool journal_default);
/* "10K" is 10,240 bytes, "10M" and "1G" likewise; or a plain integer. */
int spec_log_size(const char *s, int64_t *out);

#endif
