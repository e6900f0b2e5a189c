/*
 * Whether a socket, or the directory that holds it, can be trusted by a
 * user: nobody but that user or root can have put it there or can replace
 * it. Pure: callers stat, this decides and says why not.
 */
#ifndef PROTO_TRUST_H
#define PROTO_TRUST_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"

/* st is lstat of path; what names it ("socket directory", "socket").
 * Trusted: owned by uid or root, the right type (a directory when dir,
 * else a socket; never a symlink), and, for a directory, not writable by
 * group or others unless sticky (as /tmp), where nobody else can remove
 * or rename what uid put there. -1 with err (-32003, kind "forbidden")
 * otherwise. */
int proto_trust_check(const struct stat *st, uid_t uid, bool dir,
    const char *what, const char *path, struct proto_err *err);

#endif
