/*
 * Telling the service manager how the daemon is doing: the sd_notify
 * protocol (READY, STATUS, RELOADING, STOPPING, WATCHDOG) and taking a
 * listening socket from socket activation. A no-op when arbord was not
 * started by systemd (no NOTIFY_SOCKET, WATCHDOG_USEC or LISTEN_FDS).
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdbool.h>

#include "err.h"

struct daemon;
struct tree_event;

struct notify;

/* Reads (and removes from the environment, so workers do not inherit
 * them) NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, and starts the
 * watchdog timer when the watchdog is on. NULL when out of memory. */
struct notify *notify_new(struct daemon *d);
void notify_free(struct notify *n);

/*
 * The socket systemd passed (LISTEN_FDS=1, LISTEN_PID our pid, a listening
 * unix stream socket at fd 3), with the LISTEN_* variables removed from
 * the environment: its fd, or -1 with *err unset when none was passed, or
 * -1 with *err set when what was passed cannot be used.
 */
int notify_listen_fd(struct proto_err *err);

/* The start-up work is done: READY=1 is sent once every top-level node
 * from --config is running or has terminated (conf_settled). */
void notify_startup_done(struct notify *n);
/* The tree hook's share: READY when it is time; STATUS, rate-limited. */
void notify_tree_event(struct notify *n, const struct tree_event *ev);
void notify_reloading(struct notify *n);
void notify_reloaded(struct notify *n);
void notify_stopping(struct notify *n);

#endif
