/*
 * sd_notify messages (systemd's NOTIFY_SOCKET protocol): one datagram of
 * newline-separated KEY=VALUE assignments, parsed into what arbord acts
 * on. No I/O, no allocation: the status text points into the caller's
 * buffer.
 */
#ifndef PROTO_SDNOTIFY_H
#define PROTO_SDNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Flags of struct sdnotify_msg: which assignments the message carried. */
enum {
	SDN_READY = 1 << 0,            /* READY=1 */
	SDN_RELOADING = 1 << 1,        /* RELOADING=1 */
	SDN_STOPPING = 1 << 2,         /* STOPPING=1 */
	SDN_STATUS = 1 << 3,           /* STATUS=... */
	SDN_MAINPID = 1 << 4,          /* MAINPID=N */
	SDN_ERRNO = 1 << 5,            /* ERRNO=N */
	SDN_EXTEND = 1 << 6,           /* EXTEND_TIMEOUT_USEC=N */
	SDN_WATCHDOG = 1 << 7,         /* WATCHDOG=1 */
	SDN_WATCHDOG_TRIGGER = 1 << 8, /* WATCHDOG=trigger */
	SDN_WATCHDOG_USEC = 1 << 9,    /* WATCHDOG_USEC=N */
	SDN_MONOTONIC = 1 << 10,       /* MONOTONIC_USEC=N */
	SDN_BARRIER = 1 << 11,         /* BARRIER=1 */
	SDN_FDSTORE = 1 << 12,         /* FDSTORE=1 */
};

/* The longest datagram arbord reads, as systemd's own limit (PIPE_BUF):
 * a longer one is ignored whole. */
#define SDNOTIFY_MSG_MAX 4096

struct sdnotify_msg {
	unsigned flags;
	const char *status; /* borrowed from the buffer, status_len bytes,
	                       not NUL-terminated; empty: cleared */
	size_t status_len;
	long mainpid;           /* > 1 */
	int err_no;             /* >= 0; 0 clears */
	uint64_t extend_usec;   /* EXTEND_TIMEOUT_USEC */
	uint64_t watchdog_usec; /* WATCHDOG_USEC; 0 turns it off */
	uint64_t monotonic_usec;
	unsigned bad;     /* understood keys with a value that is not */
	unsigned unknown; /* assignments arbord does not act on */
};

/*
 * Parses len bytes of buf. As systemd does: a message with a NUL byte is
 * refused whole (-1); each line is one assignment; the first of each key
 * wins; READY, RELOADING, STOPPING, BARRIER and FDSTORE count only as
 * "=1"; a number that does not parse, or a STATUS that is not UTF-8, is
 * left out and counted in bad. Returns 0 otherwise, even when nothing was
 * understood.
 */
int sdnotify_parse(const char *buf, size_t len, struct sdnotify_msg *m);

#endif
