/*
 * The daemon's events: the event sequence (it only grows, from 1), a
 * bounded history of recent events for `since`, and the subscriptions that
 * hear them (`watch` on the socket, Server-Sent Events over HTTP). Events
 * owns every record and every subscription; a subscription belongs to an
 * owner (a connection, an SSE stream) that ends it with events_unsubscribe
 * or events_owner_gone, and writes through that owner's sink.
 *
 * Two histories: EVENTS_HISTORY state/spawned/removed events, and output
 * events apart (EVENTS_OUTPUT_HISTORY records and EVENTS_OUTPUT_BYTES), so
 * a chatty worker cannot flush state events out of the history. Output
 * events are taken down (and given a seq) only while some subscription
 * asks for output and EVENTS_OUTPUT_LINGER_MS after the last one ended.
 */
#ifndef EVENTS_H
#define EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct event_base;
struct tree_event;
struct events;
struct events_sub;

#define EVENTS_HISTORY        65536             /* state, spawned, removed */
#define EVENTS_OUTPUT_HISTORY 4096              /* output records held ... */
#define EVENTS_OUTPUT_BYTES   (4 * 1024 * 1024) /* ... and their bytes */
#define EVENTS_OUTPUT_CHUNK   (16 * 1024)       /* output split into events */
/* Output is recorded only while a subscription asks for it, and this long
 * after the last one ended. */
#define EVENTS_OUTPUT_LINGER_MS (60 * 1000)
#define EVENTS_MAX_SUBS         4096 /* subscriptions in all */
#define EVENTS_MAX_OWNER_SUBS   64   /* per connection or stream */
/* A replay waits for the subscriber's output to drain below this. */
#define EVENTS_REPLAY_HIGH (256 * 1024)

/* One event for one subscriber. body is the params object's members after
 * "subscription" ("\"seq\":42,\"ts_ms\":...,\"type\":\"state\",..."),
 * without braces; the sink frames it (JSON-RPC line, SSE record). */
struct events_msg {
	uint64_t sub;
	uint64_t seq;
	const char *body; /* borrowed, valid during the call */
	size_t len;
};

struct events_sink {
	void (*send)(void *arg, const struct events_msg *m);
	/* Bytes queued to the subscriber and not yet written. */
	size_t (*queued)(void *arg);
	/* Asks to be told (events_owner_writable) once output drained. */
	void (*wait_writable)(void *arg);
	/* The subscription was dropped after its overflow event. Called
	 * after it is freed; the owner must not free itself from here. */
	void (*overflowed)(void *arg, uint64_t sub);
};

struct events_filter {
	const char *path; /* borrowed: the subtree, "/" for all */
	bool output;      /* output events too */
	bool has_since;
	uint64_t since; /* replay events after this seq */
};

struct events *events_new(struct event_base *base);
/* Frees the history and every subscription left (at exit). */
void events_free(struct events *ev);
/* The tree hook's share: records the event and sends it to subscribers.
 * Never changes the tree. */
void events_tree_event(struct events *ev, const struct tree_event *te);

/* Subscribes owner to f; the replay (with since) starts on the next loop
 * turn, after the caller has answered. NULL with a limit or internal
 * error. sink is borrowed and must outlive the subscription. */
struct events_sub *
events_subscribe(struct events *ev, void *owner, const struct events_sink *sink,
    void *sink_arg, const struct events_filter *f, struct proto_err *err);
uint64_t events_sub_id(const struct events_sub *s);
/* Ends owner's subscription id; not_found when owner has none by that id. */
int events_unsubscribe(struct events *ev, void *owner, uint64_t id,
    struct proto_err *err);
/* Ends every subscription of owner (its connection closed). NULL-safe. */
void events_owner_gone(struct events *ev, void *owner);
/* owner's output drained: replays that waited go on. NULL-safe. */
void events_owner_writable(struct events *ev, void *owner);

uint64_t events_seq(const struct events *ev); /* last one given */
size_t events_history_size(const struct events *ev);
size_t events_sub_count(const struct events *ev);

#endif
