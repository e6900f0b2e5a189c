/*
 * Why a node stopped: an immutable, reference-counted string, because one
 * cancel of a big subtree gives every descendant the same
 * "parent cancelled: /web: cancelled" and a million copies would cost more
 * than the nodes themselves. Whoever stores a pointer holds a reference.
 */
#ifndef CAUSE_H
#define CAUSE_H

struct cause;

/* A new cause with one reference; NULL when out of memory. */
struct cause *cause_new(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
struct cause *cause_ref(struct cause *c);	/* NULL-safe */
void cause_unref(struct cause *c);		/* NULL-safe */
const char *cause_text(const struct cause *c);	/* NULL for NULL */

#endif
