/*
 * Strict reading of JSON objects into C values, with errors that name the
 * field: every reader fails with invalid_params, never ignores a bad type.
 * Objects are checked against the list of fields they may have, so an
 * unknown field is an error rather than a silent no-op.
 */
#ifndef PROTO_FIELDS_H
#define PROTO_FIELDS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "err.h"

/* obj must be an object (what names it in the message, e.g. "params") and
 * have no key outside the NULL-terminated list allowed. */
int proto_fields_check(const json_t *obj, const char *what,
    const char *const *allowed, struct proto_err *err);

/* Each reader: a missing key leaves *out untouched and returns 0, unless
 * required, which is an error. Strings are borrowed from obj. */
int proto_get_string(const json_t *obj, const char *key, bool required,
    const char **out, struct proto_err *err);
int proto_get_bool(const json_t *obj, const char *key, bool required, bool *out,
    struct proto_err *err);
int proto_get_int(const json_t *obj, const char *key, bool required,
    int64_t min, int64_t max, int64_t *out, struct proto_err *err);
/* A duration in ms: a non-negative integer up to PROTO_DURATION_MAX_MS. */
int proto_get_ms(const json_t *obj, const char *key, bool required,
    int64_t *out, struct proto_err *err);
/* One of the NULL-terminated choices; *out is its index. */
int proto_get_enum(const json_t *obj, const char *key, bool required,
    const char *const *choices, int *out, struct proto_err *err);

#endif
