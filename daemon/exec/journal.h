/*
 * Workers' lines to journald over its native protocol: one entry per
 * line, in datagrams to the journal socket, or, when an entry is too big
 * for a datagram, in a sealed memfd passed with SCM_RIGHTS (as
 * sd_journal_sendv does). Never blocks: the entries of a loop turn are
 * queued, packed several to a datagram (each ended by an empty line, as
 * journald reads them) and sent together (sendmmsg) at the turn's end;
 * when journald is behind they wait in a
 * bounded queue, and a line that finds it full, or no journal at all, is
 * dropped and counted. The module owns one datagram socket, connected to
 * the journal's on first use (and again when journald was restarted), and
 * the queue.
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct journal_line {
	const char *name; /* SYSLOG_IDENTIFIER */
	const char *path; /* ARBOR_PATH */
	uint64_t id;      /* ARBOR_ID */
	pid_t pid;        /* ARBOR_PID, 0: none */
	int stream;       /* 0 stdout (PRIORITY 6), 1 stderr (3) */
	const char *text; /* MESSAGE; a leading "<N>" sets PRIORITY */
	size_t len;
	bool cut; /* ARBOR_CUT=1: the line goes on in the next entry */
};

struct journal_stats {
	uint64_t sent;    /* entries sent */
	uint64_t memfd;   /* of which through a memfd */
	uint64_t dropped; /* lines not sent: would block, no journal, ... */
};

/* The socket: path when not NULL, else $ARBOR_JOURNAL_SOCKET, else
 * JOURNAL_SOCKET. Whether workers' output goes to the journal when their
 * spec does not say: arbord runs under systemd ($JOURNAL_STREAM or
 * $INVOCATION_ID). -1 when the path does not fit a socket address. */
int journal_configure(const char *path);
bool journal_default_on(void);
const char *journal_socket_path(void);
/* Sends one line now; false when it was dropped (counted). */
bool journal_send(const struct journal_line *l);
/*
 * Lines of the workers go through a queue: journal_queue encodes the line
 * into it, and the queue goes out with sendmmsg(2) at the end of the loop
 * turn (an event made active), so a turn's lines cost one system call and
 * a few datagrams, not one each. When the socket is full (journald
 * behind), the queue
 * waits for it to drain, up to JOURNAL_QUEUE_MAX entries or
 * JOURNAL_QUEUE_BYTES; beyond, lines are dropped. Without journal_attach
 * lines are sent at once. The module owns the queue and its events.
 */
#define JOURNAL_QUEUE_MAX   8192
#define JOURNAL_QUEUE_BYTES (4 * 1024 * 1024)
int journal_attach(struct event_base *base);
void journal_detach(void); /* what is still queued is dropped */
/* false when the line was dropped now; a line dropped later adds one to
 * *dropped (borrowed, NULL: none) unless journal_forget(dropped) was
 * called meanwhile. */
bool journal_queue(const struct journal_line *l, uint64_t *dropped);
void journal_flush(void);
void journal_forget(const uint64_t *dropped);
const struct journal_stats *journal_stats(void);
void journal_close(void);

/* The native protocol's encoding of l into out (size bytes): the length
 * it needs, which may be more than size (then out holds a prefix). */
size_t journal_encode(const struct journal_line *l, char *out, size_t size);
/* One field, NAME=value or, when the value holds a newline, NAME, a
 * newline, its length as 64-bit little endian, the value; then a newline. */
size_t journal_field(char *out, size_t size, size_t at, const char *name,
    const char *value, size_t len);

#endif
