/*
 * GET /v1/events: Server-Sent Events streams, each fed by an event
 * subscription, paced by the connection's output, kept alive by a comment
 * line, and ended when the client goes or does not read. GET /v1/logs with
 * follow is such a stream too, of output events made into lines
 * (http-logs.c). A stream is owned by the http struct; its subscription by
 * events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "events.h"
#include "http-int.h"
#include "params.h"

#define HTTP_MAX_STREAMS 256 /* SSE clients at once */
#define HTTP_KEEPALIVE_S 15

struct http_stream {
	struct http *h;                  /* borrowed */
	struct evhttp_request *req;      /* borrowed: evhttp owns it */
	struct evhttp_connection *evcon; /* borrowed */
	struct events_sub *sub;          /* owned through events */
	bool blocked;                    /* a replay waits for the drain */
	bool ending;                     /* overflowed: end on the next turn */
	unsigned logs; /* a logs stream of these streams (1 stdout, 2
	                  stderr); 0: an event stream */
	LIST_ENTRY(http_stream) entry; /* http's streams */
};

/* SSE: "id: SEQ\ndata: {params}\n\n" per event. */

static struct evbuffer *
http_stream_output(const struct http_stream *s)
{
	return bufferevent_get_output(
	    evhttp_connection_get_bufferevent(s->evcon));
}

static void
http_stream_drained_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_stream *s = arg;

	if (s->blocked) {
		s->blocked = false;
		events_owner_writable(s->h->d->events, s);
	}
}

static void
http_stream_write(struct http_stream *s, struct evbuffer *b)
{
	evhttp_send_reply_chunk_with_cb(s->req, b, http_stream_drained_cb, s);
}

static void
http_stream_send(void *arg, const struct events_msg *m)
{
	struct http_stream *s = arg;
	struct evbuffer *b;

	if (s->ending || (b = evbuffer_new()) == NULL)
		return;
	if (s->logs != 0) {
		http_logs_event(b, m->body, m->len, s->logs);
	} else {
		evbuffer_add_printf(b,
		    "id: %llu\ndata: {\"subscription\":%llu,",
		    (unsigned long long)m->seq, (unsigned long long)m->sub);
		evbuffer_add(b, m->body, m->len);
		evbuffer_add(b, "}\n\n", 3);
	}
	if (evbuffer_get_length(b) > 0)
		http_stream_write(s, b);
	evbuffer_free(b);
}

static size_t
http_stream_queued(void *arg)
{
	return evbuffer_get_length(http_stream_output(arg));
}

static void
http_stream_wait_writable(void *arg)
{
	struct http_stream *s = arg;

	s->blocked = true;
}

static void
http_stream_overflowed(void *arg, uint64_t sub)
{
	struct http_stream *s = arg;

	s->h->dropped_streams++;
	/* Ended from the loop, not from inside the event being sent. */
	s->sub = NULL;
	s->ending = true;
	event_active(s->h->reap, 0, 0);
}

static const struct events_sink http_stream_sink = {
	.send = http_stream_send,
	.queued = http_stream_queued,
	.wait_writable = http_stream_wait_writable,
	.overflowed = http_stream_overflowed,
};

static void
http_stream_unlink(struct http_stream *s)
{
	struct http *h = s->h;

	LIST_REMOVE(s, entry);
	h->nstreams--;
	if (h->nstreams == 0)
		evtimer_del(h->keepalive);
}

/* The client went away. */
static void
http_stream_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_stream *s = arg;

	events_owner_gone(s->h->d->events, s);
	http_stream_unlink(s);
	http_request_orphaned(s->req);
	free(s);
}

/* Ends the stream: what is queued is still written, then evhttp closes
 * the connection (Connection: close), or its write timeout does. */
static void
http_stream_end(struct http_stream *s)
{
	events_owner_gone(s->h->d->events, s);
	http_stream_unlink(s);
	http_conn_set_closecb(s->h, s->evcon, NULL, NULL);
	evhttp_send_reply_end(s->req);
	free(s);
}

void
http_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	struct timeval tv = { HTTP_KEEPALIVE_S, 0 };
	struct http_stream *s;
	struct evbuffer *b;

	/* A comment line: keeps proxies from timing the stream out and
	 * finds clients that went away without a word. */
	LIST_FOREACH(s, &h->streams, entry) {
		if (s->ending || http_stream_queued(s) > 0 ||
		    (b = evbuffer_new()) == NULL)
			continue;
		evbuffer_add(b, ": keepalive\n\n", 13);
		http_stream_write(s, b);
		evbuffer_free(b);
	}
	if (h->nstreams > 0)
		evtimer_add(h->keepalive, &tv);
}

/* The stream begins: in the list, the headers out, the first comment
 * line written, then first (NULL: nothing). */
static void
http_stream_start(struct http_stream *s, struct evbuffer *first)
{
	struct timeval ka = { HTTP_KEEPALIVE_S, 0 };
	struct timeval wto = { HTTP_TIMEOUT_S + 5, 0 };
	struct http *h = s->h;
	struct evhttp_request *req = s->req;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *b;

	LIST_INSERT_HEAD(&h->streams, s, entry);
	if (h->nstreams++ == 0)
		evtimer_add(h->keepalive, &ka);
	http_count(h, 200);
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Connection", "close");
	evhttp_send_reply_start(req, 200, "OK");
	/* Only a write that does not move times out (http-conn.c drops it
	 * first, and counts it); an idle stream is fine (the keepalive finds
	 * dead ones). */
	bufferevent_set_timeouts(evhttp_connection_get_bufferevent(s->evcon),
	    NULL, &wto);
	http_conn_set_closecb(h, s->evcon, http_stream_closed_cb, s);
	if ((b = evbuffer_new()) != NULL) {
		evbuffer_add_printf(b,
		    ": arbor %s, seq %llu\nretry: 1000"
		    "\n\n",
		    s->logs != 0 ? "logs" : "events",
		    (unsigned long long)events_seq(h->d->events));
		if (first != NULL)
			evbuffer_add_buffer(b, first);
		http_stream_write(s, b);
		evbuffer_free(b);
	}
}

int
http_stream_open(struct http *h, struct evhttp_request *req,
    const struct events_filter *f, unsigned logs, struct evbuffer *first,
    struct proto_err *err)
{
	struct http_stream *s;

	if (h->nstreams >= HTTP_MAX_STREAMS)
		return proto_errf(err, PROTO_LIMIT,
		    "too many event streams "
		    "(limit %d)",
		    HTTP_MAX_STREAMS);
	if ((s = calloc(1, sizeof *s)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	s->h = h;
	s->req = req;
	s->evcon = evhttp_request_get_connection(req);
	s->logs = logs;
	s->sub = events_subscribe(h->d->events, s, &http_stream_sink, s, f,
	    err);
	if (s->sub == NULL) {
		free(s);
		return -1;
	}
	http_stream_start(s, first);
	return 0;
}

void
http_events(struct http *h, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct params_watch p;
	struct events_filter f;
	struct proto_err err;
	const char *last;
	json_int_t since;
	json_t *params;

	if ((params = http_query_params(h, req)) == NULL)
		return;
	/* A reconnecting EventSource says where it was. */
	if ((last = evhttp_find_header(in, "Last-Event-ID")) != NULL &&
	    json_object_get(params, "since") == NULL) {
		if (http_parse_int(last, &since) == -1 || since < 0) {
			json_decref(params);
			http_error(h, req, 400,
			    "Last-Event-ID must be an event "
			    "seq, not \"%.64s\"",
			    last);
			return;
		}
		json_object_set_new(params, "since", json_integer(since));
	}
	proto_err_clear(&err);
	if (params_watch(params, &p, &err) == -1) {
		http_proto_error(h, req, &err);
		json_decref(params);
		return;
	}
	if (h->nstreams >= HTTP_MAX_STREAMS) {
		json_decref(params);
		http_error(h, req, 503, "too many event streams (limit %d)",
		    HTTP_MAX_STREAMS);
		return;
	}
	f.path = p.path;
	f.output = p.output;
	f.has_since = p.has_since;
	f.since = p.since;
	if (http_stream_open(h, req, &f, 0, NULL, &err) == -1)
		http_proto_error(h, req, &err);
	json_decref(params);
}

/* The overflowed streams. Each end may run evhttp's callbacks: start over
 * after each. */
void
http_streams_reap(struct http *h)
{
	struct http_stream *s;

	for (;;) {
		for (s = LIST_FIRST(&h->streams); s != NULL && !s->ending;
		     s = LIST_NEXT(s, entry))
			;
		if (s == NULL)
			break;
		http_stream_end(s);
	}
}

void
http_streams_free(struct http *h)
{
	struct http_stream *s;

	while ((s = LIST_FIRST(&h->streams)) != NULL) {
		events_owner_gone(h->d->events, s);
		http_conn_set_closecb(h, s->evcon, NULL, NULL);
		http_stream_unlink(s);
		free(s);
	}
}
