/*
 * One client connection on the control socket. A conn owns its
 * bufferevent, its deferred calls and its output, streamed answers in
 * flight included; the server owns the conn and frees it on the loop turn
 * after it is closed, never inside its own callback.
 *
 * Streamed answers: an answer too big to build whole (rpc.c decides) is
 * queued as a producer that writes it a slice per loop turn, and only
 * while less than CONN_OUTPUT_LOW is waiting in the socket's output, so a
 * connection holds at most about CONN_OUTPUT_LOW + CONN_SLICE bytes of
 * it. While one is in flight, everything sent after it (answers that
 * were waiting, event notifications) is queued behind it as bytes, so
 * messages never interleave inside one line, and the connection's next
 * requests are not read until the queue is empty. The connection owns
 * every queued entry: an entry is freed once written, or when the
 * connection closes (conn_close), whichever comes first.
 */
#ifndef CONN_H
#define CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <jansson.h>

#include "frame.h"

struct bufferevent;
struct evbuffer;
struct daemon;
struct server;
struct rpc_call;
struct event;

/* Where a connection without a socket sends its messages (HTTP's
 * POST /v1/rpc); msg NULL: its last deferred call is done, answered or
 * not (a notification's never is). The callback must not free the conn. */
typedef void conn_sink_fn(void *arg, const json_t *msg);

/* Output past this stops reading requests until the client catches up. */
#define CONN_OUTPUT_HIGH (4 * 1024 * 1024)
#define CONN_OUTPUT_LOW  (256 * 1024)
/* Messages handled per loop turn before other connections get theirs. */
#define CONN_BURST 256
/* Bytes a streamed answer writes per loop turn. */
#define CONN_SLICE (64 * 1024)

/* A streamed answer. fill writes its next slice into out, about budget
 * bytes: 1, more to come; 0, done (the message and its "\n" are whole);
 * -1, it cannot go on (out of memory): the connection is closed, since a
 * message cut in the middle cannot be ended. free releases arg. */
struct conn_stream_ops {
	int (*fill)(void *arg, struct evbuffer *out, size_t budget);
	void (*free)(void *arg);
};

/* One entry of a connection's output queue. */
struct conn_out {
	const struct conn_stream_ops *ops; /* NULL: bytes */
	void *arg;                         /* owned, through ops->free */
	struct evbuffer *bytes;            /* owned, when ops is NULL */
	TAILQ_ENTRY(conn_out) entry;
};

struct conn {
	struct daemon *d;        /* borrowed */
	struct server *server;   /* borrowed */
	struct bufferevent *bev; /* owned */
	struct event *more;      /* owned: resumes a long burst */
	struct event *idle;      /* owned: armed only while part of a
	                            message waits for the rest */
	struct event *pump;      /* owned: writes the next slice */
	TAILQ_HEAD(conn_outq_head, conn_out)
	outq;              /* owned: a streamed answer in
	        flight and what waits behind it;
	        empty: output goes straight out */
	size_t outq_bytes; /* bytes waiting in outq */
	struct proto_framer framer;
	uint64_t id;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	LIST_HEAD(, rpc_call) calls; /* owned: deferred calls */
	size_t ncalls;
	bool closing;           /* write what is queued, then close */
	bool linger;            /* closed by arbord after an error: the
	                           peer may still be sending (server_linger) */
	bool dead;              /* closed; freed next turn */
	bool paused;            /* output over CONN_OUTPUT_HIGH */
	bool events_blocked;    /* a subscription waits for output
	                           to drain (events.c) */
	conn_sink_fn *sink;     /* NULL: a socket connection */
	void *sink_arg;         /* borrowed */
	LIST_ENTRY(conn) entry; /* server's live or dead list */
};

struct conn *conn_new(struct daemon *d, struct server *s, int fd);
/* A connection without a socket: messages go to fn. Not in the server's
 * list; whoever made it closes it and frees it (on a later loop turn). */
struct conn *conn_new_sink(struct daemon *d, conn_sink_fn *fn, void *arg);
/* Queues one JSON message (a response or a notification). */
void conn_send(struct conn *c, const json_t *msg);
/* Queues bytes that are already one encoded message and its "\n". */
void conn_send_raw(struct conn *c, const char *buf, size_t len);
/* Queues a streamed answer, written once what is queued before it is;
 * arg is the conn's from now on, even on failure (-1: out of memory, or
 * a connection without a socket, which cannot stream). */
int
conn_send_stream(struct conn *c, const struct conn_stream_ops *ops, void *arg);
/* Bytes queued and not yet written (what waits behind a streamed answer
 * included, the rest of that answer not); 0 without a socket. */
size_t conn_output_length(const struct conn *c);
/* Sends what is queued, then closes. */
void conn_close_after_write(struct conn *c);
/* Closes now: deferred calls are abandoned. */
void conn_close(struct conn *c);
void conn_free(struct conn *c);
/* Nothing queued, no streamed answer in flight. */
bool conn_output_empty(const struct conn *c);

void conn_call_add(struct conn *c, struct rpc_call *call);
void conn_call_del(struct conn *c, struct rpc_call *call);

#endif
