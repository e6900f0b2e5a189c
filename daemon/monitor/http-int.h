/*
 * What http.c, http-metrics.c, http-events.c, http-logs.c and http-rpc.c
 * share: the server's state and the ways of answering a request. The http
 * struct owns the SSE streams (http-events.c: event and logs streams), the
 * RPC requests waiting for their answers (http-rpc.c) and the tree replies
 * in flight (http-tree.c); each file releases its own.
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <jansson.h>

#include <event2/util.h>

#include "err.h"
#include "http.h"

struct evbuffer;
struct evconnlistener;
struct event;
struct evhttp;
struct evhttp_request;
struct http_conn;
struct http_rpc;
struct http_stream;
struct http_tree;
struct node;
struct evhttp_connection;

/* Called when an HTTP connection goes (evhttp's close callback). */
typedef void http_closed_fn(struct evhttp_connection *evcon, void *arg);

/* An answer that does not move for this long is dropped (and a keep-alive
 * connection idle this long closed). */
#define HTTP_TIMEOUT_S 30
/* A connection with more than this queued is dropped when it takes none
 * of it within the request timeout (streams pause well below it). */
#define HTTP_CONN_QUEUED_MAX (1024 * 1024)

/* Why a connection or a request was refused, for
 * arbor_http_refused_total. */
enum http_refusal {
	HTTP_REFUSED_CONNECTIONS, /* over --http-max-connections */
	HTTP_REFUSED_FDS,         /* its fd was in the reserve */
	HTTP_REFUSED_QUEUED,      /* output queued over --http-max-queued */
	HTTP_REFUSED_HOST,        /* Host names another server */
	HTTP_REFUSED_ORIGIN,      /* a POST from another origin */
	HTTP__REFUSALS,
};
extern const char *const http_refusal_names[HTTP__REFUSALS];

/* Statuses counted for arbor_http_requests_total; the last, 0, is
 * "other". */
#define HTTP_NCODES 11
extern const int http_codes[HTTP_NCODES];

struct http {
	struct daemon *d;                /* borrowed */
	struct evhttp *eh;               /* owned */
	struct evconnlistener *listener; /* borrowed from eh */
	struct event *resume;            /* owned: accept again after EMFILE */
	struct event *refuse;            /* owned: refuses while at the cap */
	struct event *adopt;             /* owned: counts the one accepted */
	struct event *sweep; /* owned: each second while connections exist */
	struct http_conn *pending; /* owned: accepted, not yet counted */
	struct http_conn **byfd;   /* owned array: the connections by fd */
	size_t nbyfd;
	size_t nconns;
	int fd_limit;      /* HTTP takes no fd at or above: the reserve */
	bool freeing;      /* in http_free: accept nothing */
	size_t max_conns;  /* --http-max-connections */
	size_t max_queued; /* --http-max-queued, over all */
	int64_t request_timeout_ms; /* --http-request-timeout */
	struct event *keepalive;    /* owned: pending while streams exist */
	struct event *reap;         /* owned: frees what ended */
	char *token;                /* owned; NULL: no RPC */
	char host[264];             /* the listening host, "[v6]" bracketed */
	bool host_any;              /* bound to 0.0.0.0 or [::] */
	uint16_t port;              /* the bound port */
	LIST_HEAD(, http_stream) streams; /* owned */
	size_t nstreams;
	LIST_HEAD(http_rpc_list, http_rpc) held; /* owned */
	size_t nheld;
	struct http_rpc_list dead; /* owned, freed by reap */
	LIST_HEAD(, http_tree)
	trees; /* owned: tree replies in flight;
	          zeroed is empty */
	uint64_t requests[HTTP_NCODES];
	uint64_t refused[HTTP__REFUSALS];
	uint64_t timed_out;       /* requests not whole in time */
	uint64_t dropped_slow;    /* connections that did not read */
	uint64_t dropped_streams; /* streams that fell behind (overflow) */
};

/* http.c: answers. Each counts the request by its status. */
void http_count(struct http *h, int code);
/* body is borrowed. */
void http_send(struct http *h, struct evhttp_request *req, int code,
    const char *type, struct evbuffer *body);
void http_send_text(struct http *h, struct evhttp_request *req, int code,
    const char *type, const char *text, size_t len);
/* json is stolen. */
void http_send_json(struct http *h, struct evhttp_request *req, int code,
    json_t *json);
void http_error(struct http *h, struct evhttp_request *req, int status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A protocol error as HTTP: its status, and the JSON-RPC code and kind. */
void http_proto_error(struct http *h, struct evhttp_request *req,
    const struct proto_err *err);
/* A strict decimal integer. */
int http_parse_int(const char *s, json_int_t *out);
/* The query string as params; NULL with a 400 sent. */
json_t *http_query_params(struct http *h, struct evhttp_request *req);
/* Frees a request its client left before it was answered, if evhttp
 * left it to us. */
void http_request_orphaned(struct evhttp_request *req);

/* http-conn.c: the connections, their count, time and output. */
int http_conns_init(struct http *h);  /* -1: out of memory */
void http_conns_stop(struct http *h); /* before evhttp_free */
void http_conns_free(struct http *h); /* after it */
void http_accept_resume(struct http *h);
/* A request begins to be served. */
void http_conn_request(struct http *h, struct evhttp_request *req);
/* -1 with a 503 sent when the output queued over all connections is over
 * --http-max-queued: no new work until clients take some. */
int http_busy(struct http *h, struct evhttp_request *req);
/* Who hears that evcon went (fn NULL: nobody). */
void http_conn_set_closecb(struct http *h, struct evhttp_connection *evcon,
    http_closed_fn *fn, void *arg);
/* Output queued over all HTTP connections. */
size_t http_queued_total(const struct http *h);

/* http-metrics.c: GET /metrics. */
void http_metrics(struct http *h, struct evhttp_request *req);

/* http-events.c: GET /v1/events, and the streams of GET /v1/logs. */
void http_events(struct http *h, struct evhttp_request *req);
struct events_filter;
/* Answers req with an SSE stream fed by f's events. logs, when not 0,
 * makes it a logs stream of the streams in that mask (1 stdout, 2
 * stderr): output events as batches of lines (http_logs_event), after
 * what first holds (moved out of it; NULL: nothing). -1 with err filled and
 * nothing sent (at the limit of streams or subscriptions). */
int http_stream_open(struct http *h, struct evhttp_request *req,
    const struct events_filter *f, unsigned logs, struct evbuffer *first,
    struct proto_err *err);
void http_keepalive_cb(evutil_socket_t fd, short what, void *arg);
void http_streams_reap(struct http *h); /* ends the overflowed ones */
void http_streams_free(struct http *h);

/* http-logs.c: GET /v1/logs, the logs answer or, with follow, a stream. */
void http_logs(struct http *h, struct evhttp_request *req);
/* An event for a logs stream of the streams in mask (its params' members,
 * as events sends them) as SSE, appended to out: output as a batch of
 * lines, the end of the subscription as a marker, the rest nothing. */
void http_logs_event(struct evbuffer *out, const char *body, size_t len,
    unsigned mask);

/* http-tree.c: GET /v1/tree, n's view to depth; a big one chunked. */
void http_tree_answer(struct http *h, struct evhttp_request *req,
    struct node *n, int depth);
void http_trees_free(struct http *h);

/* http-rpc.c: POST /v1/rpc. */
void http_rpc(struct http *h, struct evhttp_request *req);
void http_rpcs_reap(struct http *h); /* frees the answered ones */
void http_rpcs_free(struct http *h);

#endif
