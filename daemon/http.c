/*
 * HTTP monitoring with libevent's evhttp: one route table; JSON answers
 * and JSON errors; SSE streams fed by event subscriptions (paced by the
 * connection's output, dropped when the client does not read); metrics in
 * the Prometheus text format; POST /v1/rpc through the same dispatch as the
 * socket, on a connection without a socket (conn_new_sink), answered when
 * its calls are, dropped when the client goes. Limits on headers, bodies,
 * time and held requests keep stalled clients from costing more than that.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "conn.h"
#include "daemon.h"
#include "events.h"
#include "http.h"
#include "log.h"
#include "node.h"
#include "params.h"
#include "reaper.h"
#include "rpc.h"
#include "server.h"
#include "spec.h"
#include "state.h"
#include "stats.h"
#include "timer.h"
#include "tree.h"
#include "view.h"

#define HTTP_TIMEOUT_S 30		/* read a request, write an answer */
#define HTTP_MAX_HEADERS (16 * 1024)
#define HTTP_MAX_STREAMS 256		/* SSE clients at once */
#define HTTP_MAX_HELD 256		/* RPC answers waited for at once */
#define HTTP_KEEPALIVE_S 15

/* Generated from daemon/dashboard.html (Makefile.am). */
extern const char http_dashboard_html[];

/* Statuses counted for arbor_http_requests_total; the last is "other". */
static const int http_codes[] = {
	200, 204, 400, 403, 404, 405, 413, 500, 503, 0
};
#define HTTP_NCODES (sizeof http_codes / sizeof http_codes[0])

struct http_stream {
	struct http *h;			/* borrowed */
	struct evhttp_request *req;	/* borrowed: evhttp owns it */
	struct evhttp_connection *evcon;	/* borrowed */
	struct events_sub *sub;		/* owned through events */
	bool blocked;			/* a replay waits for the drain */
	bool ending;			/* overflowed: end on the next turn */
	struct http_stream *next, *prev;
};

struct http_rpc {
	struct http *h;			/* borrowed */
	struct evhttp_request *req;	/* borrowed; NULL once answered */
	struct conn *conn;		/* owned: a conn without a socket */
	json_t *answer;			/* owned: an answer that came at once */
	bool held;			/* the request waits for its answer */
	struct http_rpc *next, *prev;	/* held or dead list */
};

struct http {
	struct daemon *d;		/* borrowed */
	struct evhttp *eh;		/* owned */
	struct evconnlistener *listener;	/* borrowed from eh */
	struct event *resume;		/* owned: accept again after EMFILE */
	struct event *keepalive;	/* owned: pending while streams exist */
	struct event *reap;		/* owned: frees what ended */
	char *token;			/* owned; NULL: no RPC */
	struct http_stream *streams;	/* owned list */
	size_t nstreams;
	struct http_rpc *held;		/* owned list */
	size_t nheld;
	struct http_rpc *dead;		/* owned list, freed by reap */
	uint64_t requests[HTTP_NCODES];
};

struct http_route {
	const char *path;
	int methods;		/* EVHTTP_REQ_* */
	const char *allow;	/* the Allow header for 405 */
	void (*run)(struct http *, struct evhttp_request *);
};

static void http_stream_end(struct http_stream *s);

static const char *
http_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void
http_count(struct http *h, int code)
{
	size_t i;

	for (i = 0; i < HTTP_NCODES - 1 && http_codes[i] != code; i++)
		;
	h->requests[i]++;
}

static void
http_send(struct http *h, struct evhttp_request *req, int code,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	http_count(h, code);
	evhttp_add_header(out, "Content-Type", type);
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, http_reason(code), body);
}

static void
http_send_text(struct http *h, struct evhttp_request *req, int code,
    const char *type, const char *text, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(b, text, len);
	http_send(h, req, code, type, b);
	evbuffer_free(b);
}

/* json is stolen. */
static void
http_send_json(struct http *h, struct evhttp_request *req, int code,
    json_t *json)
{
	char *text = json != NULL ? json_dumps(json, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(json);
	if (text == NULL) {
		text = strdup("{\"error\":{\"status\":500,\"message\":"
		    "\"out of memory\"}}");
		code = 500;
		if (text == NULL) {
			evhttp_send_error(req, 500, NULL);
			return;
		}
	}
	len = strlen(text);
	text[len] = '\n';	/* over the NUL: a terminal-friendly end */
	http_send_text(h, req, code, "application/json", text, len + 1);
	free(text);
}

static void
http_error(struct http *h, struct evhttp_request *req, int status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
http_error(struct http *h, struct evhttp_request *req, int status,
    const char *fmt, ...)
{
	char msg[PROTO_ERR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	http_send_json(h, req, status, json_pack("{s:{s:i,s:s}}", "error",
	    "status", status, "message", msg));
}

/* A protocol error as HTTP: its status, and the JSON-RPC code and kind. */
static void
http_proto_error(struct http *h, struct evhttp_request *req,
    const struct proto_err *err)
{
	int status;

	switch (err->code) {
	case PROTO_INVALID_PARAMS:
	case PROTO_INVALID_REQUEST:
	case PROTO_PARSE_ERROR:
		status = 400;
		break;
	case PROTO_NOT_FOUND:
		status = 404;
		break;
	case PROTO_LIMIT:
		status = 503;
		break;
	default:
		status = 500;
		break;
	}
	http_send_json(h, req, status, json_pack("{s:{s:i,s:s,s:i,s:s}}",
	    "error", "status", status, "message", err->message, "code",
	    err->code, "kind", err->kind != NULL ? err->kind :
	    proto_code_kind(err->code)));
}

/* A strict decimal integer. */
static int
http_parse_int(const char *s, json_int_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/*
 * The query string as params for a method's own checks: ints for the
 * numeric fields, booleans for "output", strings for the rest; unknown
 * names are left for the params parser to refuse. NULL with a 400 sent.
 */
static json_t *
http_query_params(struct http *h, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = evhttp_uri_get_query(uri);
	struct evkeyvalq kv;
	struct evkeyval *e;
	json_t *params = json_object();
	json_int_t n;

	if (params == NULL) {
		http_error(h, req, 500, "out of memory");
		return NULL;
	}
	if (q == NULL)
		return params;
	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(q, &kv) == -1) {
		json_decref(params);
		http_error(h, req, 400, "the query string is malformed");
		return NULL;
	}
	TAILQ_FOREACH(e, &kv, next) {
		json_t *v;

		if (json_object_get(params, e->key) != NULL) {
			http_error(h, req, 400, "\"%.64s\" is given twice",
			    e->key);
			goto fail;
		}
		if (strcmp(e->key, "depth") == 0 ||
		    strcmp(e->key, "since") == 0) {
			if (http_parse_int(e->value, &n) == -1) {
				http_error(h, req, 400, "%s must be an "
				    "integer, not \"%.64s\"", e->key,
				    e->value);
				goto fail;
			}
			v = json_integer(n);
		} else if (strcmp(e->key, "output") == 0) {
			if (strcmp(e->value, "1") == 0 ||
			    strcmp(e->value, "true") == 0)
				v = json_true();
			else if (strcmp(e->value, "0") == 0 ||
			    strcmp(e->value, "false") == 0)
				v = json_false();
			else {
				http_error(h, req, 400, "output must be true "
				    "or false, not \"%.64s\"", e->value);
				goto fail;
			}
		} else {
			v = json_string(e->value);
		}
		if (v == NULL) {
			http_error(h, req, 400, "\"%.64s\" is not valid "
			    "UTF-8", e->key);
			goto fail;
		}
		json_object_set_new(params, e->key, v);
	}
	evhttp_clear_headers(&kv);
	return params;
fail:
	evhttp_clear_headers(&kv);
	json_decref(params);
	return NULL;
}

static void
http_healthz(struct http *h, struct evhttp_request *req)
{
	http_send_text(h, req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

/*
 * The page, with the whole tree and the seq it was read at in place of the
 * marker: it shows the tree before it has loaded, and its event stream
 * starts right after that seq. '<' is escaped so no string in the tree
 * (a client's cancel reason) can end the script element.
 */
static void
http_dashboard(struct http *h, struct evhttp_request *req)
{
	static const char marker[] = "null /*ARBOR_INITIAL*/";
	const char *page = http_dashboard_html, *at = strstr(page, marker);
	struct evbuffer *b = evbuffer_new();
	char *text = NULL;
	json_t *init;

	if (b == NULL) {
		http_error(h, req, 500, "out of memory");
		return;
	}
	init = json_pack("{s:I,s:o}", "seq",
	    (json_int_t)events_seq(h->d->events), "tree",
	    view_node(h->d->tree->root, -1));
	if (at == NULL || init == NULL ||
	    (text = json_dumps(init, JSON_COMPACT)) == NULL) {
		/* The page fetches the tree itself. */
		evbuffer_add(b, page, strlen(page));
	} else {
		evbuffer_add(b, page, (size_t)(at - page));
		for (const char *p = text, *lt; *p != '\0'; p = lt + 1) {
			if ((lt = strchr(p, '<')) == NULL) {
				evbuffer_add(b, p, strlen(p));
				break;
			}
			evbuffer_add(b, p, (size_t)(lt - p));
			evbuffer_add(b, "\\u003c", 6);
		}
		at += sizeof marker - 1;
		evbuffer_add(b, at, strlen(at));
	}
	free(text);
	json_decref(init);
	http_send(h, req, 200, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

static void
http_tree(struct http *h, struct evhttp_request *req)
{
	struct params_inspect p;
	struct proto_err err;
	json_t *params;
	struct node *n;

	if ((params = http_query_params(h, req)) == NULL)
		return;
	proto_err_clear(&err);
	if (params_inspect(params, &p, &err) == -1 ||
	    (n = tree_lookup(h->d->tree, p.path, &err)) == NULL) {
		http_proto_error(h, req, &err);
		json_decref(params);
		return;
	}
	http_send_json(h, req, 200, view_node(n, p.depth));
	json_decref(params);
}

static void
http_stats(struct http *h, struct evhttp_request *req)
{
	if (evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)) != NULL) {
		http_error(h, req, 400, "/v1/stats takes no query");
		return;
	}
	http_send_json(h, req, 200, stats_json(h->d));
}

/* Prometheus text exposition, version 0.0.4. */
static void
http_metric(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
http_metrics(struct http *h, struct evhttp_request *req)
{
	const struct tree_stats *st = &h->d->tree->stats;
	struct evbuffer *b = evbuffer_new();
	size_t i;

	if (b == NULL) {
		http_error(h, req, 500, "out of memory");
		return;
	}
	http_metric(b, "arbor_nodes", "gauge",
	    "Nodes in the tree, the root included, by state.");
	for (i = 0; i < NODE__STATES; i++)
		evbuffer_add_printf(b, "arbor_nodes{state=\"%s\"} %llu\n",
		    node_state_names[i], (unsigned long long)st->by_state[i]);
	http_metric(b, "arbor_nodes_by_kind", "gauge",
	    "Nodes in the tree, the root included, by kind.");
	for (i = 0; i < KIND__COUNT; i++)
		evbuffer_add_printf(b, "arbor_nodes_by_kind{kind=\"%s\"} %llu\n",
		    spec_kind_names[i], (unsigned long long)st->by_kind[i]);
	http_metric(b, "arbor_spawns_total", "counter", "Nodes created.");
	evbuffer_add_printf(b, "arbor_spawns_total %llu\n",
	    (unsigned long long)st->spawns);
	http_metric(b, "arbor_restarts_total", "counter",
	    "Starts of nodes after their first.");
	evbuffer_add_printf(b, "arbor_restarts_total %llu\n",
	    (unsigned long long)st->restarts);
	http_metric(b, "arbor_cancels_total", "counter",
	    "Cancel requests that stopped something.");
	evbuffer_add_printf(b, "arbor_cancels_total %llu\n",
	    (unsigned long long)st->cancels);
	http_metric(b, "arbor_exits_total", "counter",
	    "Nodes that terminated (exited or failed), by class of cause.");
	for (i = 0; i < STATS_EXIT__CLASSES; i++)
		evbuffer_add_printf(b, "arbor_exits_total{cause=\"%s\"} %llu\n",
		    stats_exit_class_names[i],
		    (unsigned long long)h->d->stats.exits[i]);
	http_metric(b, "arbor_connections", "gauge",
	    "Connections open on the control socket.");
	evbuffer_add_printf(b, "arbor_connections %zu\n",
	    h->d->server->nconns);
	http_metric(b, "arbor_subscriptions", "gauge",
	    "Event subscriptions (watch and SSE).");
	evbuffer_add_printf(b, "arbor_subscriptions %zu\n",
	    events_sub_count(h->d->events));
	http_metric(b, "arbor_http_streams", "gauge",
	    "Server-Sent Events streams open.");
	evbuffer_add_printf(b, "arbor_http_streams %zu\n", h->nstreams);
	http_metric(b, "arbor_event_history_size", "gauge",
	    "Events held for replay.");
	evbuffer_add_printf(b, "arbor_event_history_size %zu\n",
	    events_history_size(h->d->events));
	http_metric(b, "arbor_event_seq", "gauge",
	    "The sequence number of the last event.");
	evbuffer_add_printf(b, "arbor_event_seq %llu\n",
	    (unsigned long long)events_seq(h->d->events));
	http_metric(b, "arbor_resident_memory_bytes", "gauge",
	    "Resident memory of arbord.");
	evbuffer_add_printf(b, "arbor_resident_memory_bytes %lld\n",
	    (long long)stats_rss_bytes());
	http_metric(b, "arbor_uptime_seconds", "gauge",
	    "Seconds since arbord started.");
	evbuffer_add_printf(b, "arbor_uptime_seconds %.3f\n",
	    (double)daemon_uptime_ms(h->d) / 1000.0);
	http_metric(b, "arbor_strays_total", "counter",
	    "Processes reaped that no node started (orphaned grandchildren).");
	evbuffer_add_printf(b, "arbor_strays_total %llu\n",
	    (unsigned long long)reaper_strays());
	{
		uint64_t writes, errors;

		state_counts(h->d->state, &writes, &errors);
		http_metric(b, "arbor_state_writes_total", "counter",
		    "State file writes that succeeded (--state).");
		evbuffer_add_printf(b, "arbor_state_writes_total %llu\n",
		    (unsigned long long)writes);
		http_metric(b, "arbor_state_write_errors_total", "counter",
		    "State file writes that failed; the old file was kept.");
		evbuffer_add_printf(b,
		    "arbor_state_write_errors_total %llu\n",
		    (unsigned long long)errors);
	}
	http_metric(b, "arbor_http_requests_total", "counter",
	    "HTTP requests answered, by status code.");
	/* This request is counted once it is answered. */
	for (i = 0; i < HTTP_NCODES; i++) {
		if (http_codes[i] != 0)
			evbuffer_add_printf(b, "arbor_http_requests_total"
			    "{code=\"%d\"} %llu\n", http_codes[i],
			    (unsigned long long)h->requests[i]);
		else
			evbuffer_add_printf(b, "arbor_http_requests_total"
			    "{code=\"other\"} %llu\n",
			    (unsigned long long)h->requests[i]);
	}
	http_send(h, req, 200, "text/plain; version=0.0.4; charset=utf-8", b);
	evbuffer_free(b);
}

/* SSE: "id: SEQ\ndata: {params}\n\n" per event. */

static struct evbuffer *
http_stream_output(const struct http_stream *s)
{
	return bufferevent_get_output(evhttp_connection_get_bufferevent(
	    s->evcon));
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
	evbuffer_add_printf(b, "id: %llu\ndata: {\"subscription\":%llu,",
	    (unsigned long long)m->seq, (unsigned long long)m->sub);
	evbuffer_add(b, m->body, m->len);
	evbuffer_add(b, "}\n\n", 3);
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

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		h->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	h->nstreams--;
	if (h->nstreams == 0)
		evtimer_del(h->keepalive);
}

/*
 * A request its client left before it was answered: evhttp (2.1) detaches
 * it from the connection and leaves it to us; one still attached is
 * evhttp's to free with the connection.
 */
static void
http_request_orphaned(struct evhttp_request *req)
{
	if (req != NULL && evhttp_request_get_connection(req) == NULL)
		evhttp_request_free(req);
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
	evhttp_connection_set_closecb(s->evcon, NULL, NULL);
	evhttp_send_reply_end(s->req);
	free(s);
}

static void
http_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	struct timeval tv = { HTTP_KEEPALIVE_S, 0 };
	struct http_stream *s;
	struct evbuffer *b;

	/* A comment line: keeps proxies from timing the stream out and
	 * finds clients that went away without a word. */
	for (s = h->streams; s != NULL; s = s->next) {
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

static void
http_events(struct http *h, struct evhttp_request *req)
{
	struct timeval ka = { HTTP_KEEPALIVE_S, 0 };
	struct timeval wto = { HTTP_TIMEOUT_S, 0 };
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct params_watch p;
	struct events_filter f;
	struct proto_err err;
	struct http_stream *s;
	const char *last;
	json_int_t since;
	json_t *params;
	struct evbuffer *b;

	if ((params = http_query_params(h, req)) == NULL)
		return;
	/* A reconnecting EventSource says where it was. */
	if ((last = evhttp_find_header(in, "Last-Event-ID")) != NULL &&
	    json_object_get(params, "since") == NULL) {
		if (http_parse_int(last, &since) == -1 || since < 0) {
			json_decref(params);
			http_error(h, req, 400, "Last-Event-ID must be an event "
			    "seq, not \"%.64s\"", last);
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
	if ((s = calloc(1, sizeof *s)) == NULL) {
		json_decref(params);
		http_error(h, req, 500, "out of memory");
		return;
	}
	s->h = h;
	s->req = req;
	s->evcon = evhttp_request_get_connection(req);
	f.path = p.path;
	f.output = p.output;
	f.has_since = p.has_since;
	f.since = p.since;
	s->sub = events_subscribe(h->d->events, s, &http_stream_sink, s, &f,
	    &err);
	json_decref(params);
	if (s->sub == NULL) {
		free(s);
		http_proto_error(h, req, &err);
		return;
	}
	s->next = h->streams;
	if (h->streams != NULL)
		h->streams->prev = s;
	h->streams = s;
	if (h->nstreams++ == 0)
		evtimer_add(h->keepalive, &ka);
	http_count(h, 200);
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "Connection", "close");
	evhttp_send_reply_start(req, 200, "OK");
	/* Only a write that does not move times out; an idle stream is
	 * fine (the keepalive finds dead ones). */
	bufferevent_set_timeouts(evhttp_connection_get_bufferevent(s->evcon),
	    NULL, &wto);
	evhttp_connection_set_closecb(s->evcon, http_stream_closed_cb, s);
	if ((b = evbuffer_new()) != NULL) {
		evbuffer_add_printf(b, ": arbor events, seq %llu\nretry: 1000"
		    "\n\n", (unsigned long long)events_seq(h->d->events));
		http_stream_write(s, b);
		evbuffer_free(b);
	}
}

/* POST /v1/rpc */

static void
http_rpc_unlink(struct http_rpc *r, struct http_rpc **list)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		*list = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

static void
http_rpc_bury(struct http_rpc *r)
{
	struct http *h = r->h;

	if (r->held) {
		http_rpc_unlink(r, &h->held);
		h->nheld--;
		r->held = false;
	}
	r->next = h->dead;
	if (h->dead != NULL)
		h->dead->prev = r;
	h->dead = r;
	event_active(h->reap, 0, 0);
}

static void
http_rpc_answer(struct http_rpc *r, const json_t *msg)
{
	http_send_json(r->h, r->req, 200, json_incref((json_t *)msg));
	r->req = NULL;
}

/* What the dispatch sends this request: its answer (an object, or an
 * array for a batch). Notifications (events) are not for HTTP. */
static void
http_rpc_sink(void *arg, const json_t *msg)
{
	struct http_rpc *r = arg;

	if (json_is_object(msg) && json_object_get(msg, "method") != NULL)
		return;
	if (r->held) {
		if (r->req != NULL) {
			evhttp_connection_set_closecb(
			    evhttp_request_get_connection(r->req), NULL, NULL);
			http_rpc_answer(r, msg);
		}
		/* Closed and freed by the reap: the dispatch is still
		 * using the conn and the call. */
		http_rpc_bury(r);
	} else if (r->answer == NULL) {
		r->answer = json_incref((json_t *)msg);
	}
}

/* The client went before its answer: the calls are dropped. */
static void
http_rpc_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_rpc *r = arg;

	http_request_orphaned(r->req);
	r->req = NULL;
	conn_close(r->conn);
	http_rpc_bury(r);
}

static void
http_rpc_free(struct http_rpc *r)
{
	if (r->conn != NULL) {
		conn_close(r->conn);
		conn_free(r->conn);
	}
	json_decref(r->answer);
	free(r);
}

/* Bearer TOKEN, compared in constant time. */
static bool
http_token_ok(const struct http *h, struct evhttp_request *req)
{
	const char *auth = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	size_t tlen, glen, i;
	unsigned char diff;

	if (h->token == NULL || auth == NULL ||
	    strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	tlen = strlen(h->token);
	glen = strlen(auth);
	diff = glen != tlen;
	for (i = 0; i < tlen; i++)
		diff |= (unsigned char)h->token[i] ^
		    (unsigned char)(i < glen ? auth[i] : 0);
	return diff == 0;
}

static void
http_rpc(struct http *h, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct http_rpc *r;
	size_t len = evbuffer_get_length(in);
	const char *body;

	if (h->token == NULL) {
		http_error(h, req, 403, "POST /v1/rpc is off: arbord was "
		    "started without --http-token");
		return;
	}
	if (!http_token_ok(h, req)) {
		http_error(h, req, 403, "POST /v1/rpc needs the header "
		    "\"Authorization: Bearer TOKEN\" with arbord's "
		    "--http-token");
		return;
	}
	if (len == 0) {
		http_error(h, req, 400, "the body must be a JSON-RPC request "
		    "or batch");
		return;
	}
	if (h->nheld >= HTTP_MAX_HELD) {
		http_error(h, req, 503, "too many requests waiting for their "
		    "answers (limit %d)", HTTP_MAX_HELD);
		return;
	}
	if ((body = (const char *)evbuffer_pullup(in, -1)) == NULL ||
	    (r = calloc(1, sizeof *r)) == NULL) {
		http_error(h, req, 500, "out of memory");
		return;
	}
	r->h = h;
	r->req = req;
	if ((r->conn = conn_new_sink(h->d, http_rpc_sink, r)) == NULL) {
		free(r);
		http_error(h, req, 500, "out of memory");
		return;
	}
	rpc_message(r->conn, body, len);
	if (r->answer != NULL || r->conn->ncalls == 0) {
		if (r->answer != NULL)
			http_rpc_answer(r, r->answer);
		else
			http_send_text(h, req, 204, "application/json", "",
			    0);
		http_rpc_free(r);
		return;
	}
	/* A deferred call (wait, cancel with wait): answered later. */
	r->held = true;
	r->next = h->held;
	if (h->held != NULL)
		h->held->prev = r;
	h->held = r;
	h->nheld++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    http_rpc_closed_cb, r);
}

static const struct http_route http_routes[] = {
	{ "/", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD",
	    http_dashboard },
	{ "/healthz", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD",
	    http_healthz },
	{ "/metrics", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD",
	    http_metrics },
	{ "/v1/tree", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD",
	    http_tree },
	{ "/v1/stats", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD",
	    http_stats },
	{ "/v1/events", EVHTTP_REQ_GET, "GET", http_events },
	{ "/v1/rpc", EVHTTP_REQ_POST, "POST", http_rpc },
};

static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	size_t i;

	if (path == NULL || *path == '\0')
		path = "/";
	for (i = 0; i < sizeof http_routes / sizeof http_routes[0]; i++) {
		const struct http_route *rt = &http_routes[i];

		if (strcmp(path, rt->path) != 0)
			continue;
		if (!(rt->methods & (int)cmd)) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Allow", rt->allow);
			http_error(h, req, 405, "%s takes %s", rt->path,
			    rt->allow);
			return;
		}
		rt->run(h, req);
		return;
	}
	http_error(h, req, 404, "nothing at %.200s; try /, /healthz, "
	    "/metrics, /v1/tree, /v1/stats, /v1/events or /v1/rpc", path);
}

static void
http_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	struct http_rpc *r;
	struct http_stream *s;

	while ((r = h->dead) != NULL) {
		h->dead = r->next;
		http_rpc_free(r);
	}
	/* Each end may run evhttp's callbacks: start over after each. */
	for (;;) {
		for (s = h->streams; s != NULL && !s->ending; s = s->next)
			;
		if (s == NULL)
			break;
		http_stream_end(s);
	}
}

static void
http_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;

	evconnlistener_enable(h->listener);
}

/* Out of fds: stop accepting for a moment instead of spinning. */
static void
http_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct http *h = arg;
	struct timeval tv = { 0, 100 * 1000 };

	log_warn("http accept");
	evconnlistener_disable(l);
	evtimer_add(h->resume, &tv);
}

/* "HOST:PORT", "[V6]:PORT" into host (in buf) and port. */
static int
http_parse_addr(const char *addr, char *buf, size_t size, uint16_t *port,
    struct proto_err *err)
{
	const char *colon = strrchr(addr, ':'), *host = addr;
	size_t hlen;
	char *end;
	unsigned long p;

	if (colon == NULL || colon == addr)
		return proto_errf(err, PROTO_INVALID_PARAMS, "--http wants "
		    "ADDR:PORT (e.g. 127.0.0.1:8080), not \"%s\"", addr);
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[' && hlen >= 2 && addr[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p > 65535 ||
	    hlen == 0 || hlen >= size)
		return proto_errf(err, PROTO_INVALID_PARAMS, "--http wants "
		    "ADDR:PORT (e.g. 127.0.0.1:8080), not \"%s\"", addr);
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

struct http *
http_new(struct daemon *d, const char *addr, const char *token,
    struct proto_err *err)
{
	struct evhttp_bound_socket *bound;
	char host[256];
	uint16_t port = 0;
	struct http *h;

	if (http_parse_addr(addr, host, sizeof host, &port, err) == -1)
		return NULL;
	if ((h = calloc(1, sizeof *h)) == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return NULL;
	}
	h->d = d;
	if ((token != NULL && (h->token = strdup(token)) == NULL) ||
	    (h->eh = evhttp_new(d->base)) == NULL ||
	    (h->resume = evtimer_new(d->base, http_resume_cb, h)) == NULL ||
	    (h->keepalive = evtimer_new(d->base, http_keepalive_cb, h))
	    == NULL ||
	    (h->reap = event_new(d->base, -1, 0, http_reap_cb, h)) == NULL) {
		http_free(h);
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return NULL;
	}
	evhttp_set_gencb(h->eh, http_request_cb, h);
	/* Every method reaches the routes, which answer 405 themselves. */
	evhttp_set_allowed_methods(h->eh, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(h->eh, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->eh, (ev_ssize_t)d->cfg.max_message);
	evhttp_set_timeout(h->eh, HTTP_TIMEOUT_S);
	if ((bound = evhttp_bind_socket_with_handle(h->eh, host, port))
	    == NULL) {
		proto_errf(err, PROTO_INTERNAL, "cannot listen on %s for "
		    "HTTP: %s", addr, strerror(errno));
		http_free(h);
		return NULL;
	}
	h->listener = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(h->listener, http_accept_error_cb);
	log_info("HTTP monitoring on %s%s", addr, h->token != NULL ?
	    "; POST /v1/rpc with the token" : "");
	return h;
}

void
http_free(struct http *h)
{
	struct http_stream *s;
	struct http_rpc *r;

	if (h == NULL)
		return;
	/* Our state goes first, so evhttp_free calls none of it. */
	while ((s = h->streams) != NULL) {
		events_owner_gone(h->d->events, s);
		evhttp_connection_set_closecb(s->evcon, NULL, NULL);
		http_stream_unlink(s);
		free(s);
	}
	while ((r = h->held) != NULL) {
		if (r->req != NULL)
			evhttp_connection_set_closecb(
			    evhttp_request_get_connection(r->req), NULL, NULL);
		http_rpc_unlink(r, &h->held);
		h->nheld--;
		http_rpc_free(r);
	}
	while ((r = h->dead) != NULL) {
		h->dead = r->next;
		http_rpc_free(r);
	}
	if (h->eh != NULL)
		evhttp_free(h->eh);
	timer_clear(&h->resume);
	timer_clear(&h->keepalive);
	timer_clear(&h->reap);
	if (h->token != NULL) {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
	}
	free(h);
}

size_t
http_stream_count(const struct http *h)
{
	return h == NULL ? 0 : h->nstreams;
}
