/*
 * Names and paths. A name is 1 to 64 characters of [A-Za-z0-9_.-], not "."
 * or "..". A path is "/" or "/" followed by names joined with "/"; no
 * trailing slash, no empty component.
 */
#ifndef PROTO_PATH_H
#define PROTO_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define PROTO_NAME_MAX  64
#define PROTO_PATH_MAX  4096
#define PROTO_DEPTH_MAX 32 /* names in a path, levels in a tree */

bool proto_name_valid(const char *s, size_t len);

/* invalid_params with the reason ("name \"a/b\" has a character other than
 * A-Z a-z 0-9 _ . -"). what says which field it was ("name", "parent"). */
int proto_name_check(const char *s, const char *what, struct proto_err *err);
int proto_path_check(const char *path, const char *what, struct proto_err *err);

/* Walks the components of a checked path: start with *pos = 0; returns the
 * next component and its length in *len, or NULL at the end. */
const char *proto_path_next(const char *path, size_t *pos, size_t *len);

#endif
