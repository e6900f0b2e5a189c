/*
 * Why a node stopped: an immutable, reference-counted string with a class,
 * because one cancel of a big subtree gives every descendant the same
 * "parent cancelled: /web: cancelled" and a million copies would cost more
 * than the nodes themselves. The class is what code decides by (restart
 * rules, metrics); the text is what people read. Whoever stores a pointer
 * holds a reference.
 */
#ifndef CAUSE_H
#define CAUSE_H

/* A fixed, small set: metric labels and the stats result name them
 * (stats.c), in this order. */
enum cause_class {
	CAUSE_CANCELLED,    /* a client's cancel of this very node */
	CAUSE_DEADLINE,     /* its timeout_ms ran out */
	CAUSE_INTENSITY,    /* restart intensity exceeded */
	CAUSE_SHUTDOWN,     /* the daemon is going down */
	CAUSE_PARENT,       /* a stop that began at an ancestor */
	CAUSE_SIBLING,      /* a group restart for a sibling's failure */
	CAUSE_START_FAILED, /* could not start, start timeout */
	CAUSE_EXIT,         /* ended on its own with an exit code */
	CAUSE_SIGNAL,       /* killed by a signal arbord did not send */
	CAUSE_WATCHDOG,     /* no sd_notify WATCHDOG=1 in time, or
	                       WATCHDOG=trigger */
	CAUSE_HEALTH,       /* its health check failed too often */
	CAUSE_OTHER,        /* a client's restart, anything else */
	CAUSE__CLASSES
};

struct cause;

/* A new cause with one reference; NULL when out of memory. */
struct cause *cause_new(enum cause_class cls, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct cause *cause_ref(struct cause *c);      /* NULL-safe */
void cause_unref(struct cause *c);             /* NULL-safe */
const char *cause_text(const struct cause *c); /* NULL for NULL */
/* CAUSE_OTHER for NULL. */
enum cause_class cause_class(const struct cause *c);

#endif
