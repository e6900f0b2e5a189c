/*
 * POST /v1/rpc: the bearer token, then the same dispatch as the socket, on
 * a connection without a socket (conn_new_sink). A request whose calls are
 * deferred is held until they are answered, and dropped when its client
 * goes; one whose deferred calls are all notifications is answered 204 at
 * once and kept, without its request, until they are done. An answered
 * one is freed on the next loop turn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "conn.h"
#include "http-int.h"
#include "rpc.h"

#define HTTP_MAX_HELD 256 /* RPC answers waited for at once */

struct http_rpc {
	struct http *h;             /* borrowed */
	struct evhttp_request *req; /* borrowed; NULL once answered */
	struct conn *conn;          /* owned: a conn without a socket */
	json_t *answer;             /* owned: an answer that came at once */
	bool held;                  /* in http's held list */
	bool buried;                /* in http's dead list */
	LIST_ENTRY(http_rpc) entry; /* http's held or dead list */
};

/* POST /v1/rpc */

static void
http_rpc_bury(struct http_rpc *r)
{
	struct http *h = r->h;

	if (r->buried)
		return;
	r->buried = true;
	if (r->held) {
		LIST_REMOVE(r, entry);
		h->nheld--;
		r->held = false;
	}
	LIST_INSERT_HEAD(&h->dead, r, entry);
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

	if (msg == NULL) {
		/* Its calls are done: a request still waiting would get an
		 * answer first, so this one was answered already (204). */
		if (r->held && r->req == NULL)
			http_rpc_bury(r);
		return;
	}
	if (json_is_object(msg) && json_object_get(msg, "method") != NULL)
		return;
	if (r->held) {
		if (r->req != NULL) {
			http_conn_set_closecb(r->h,
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
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(
	                                          req),
	    "Authorization");
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

void
http_rpc(struct http *h, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct http_rpc *r;
	size_t len = evbuffer_get_length(in);
	const char *body;

	if (h->token == NULL) {
		http_error(h, req, 403,
		    "POST /v1/rpc is off: arbord was "
		    "started without --http-token");
		return;
	}
	if (!http_token_ok(h, req)) {
		http_error(h, req, 403,
		    "POST /v1/rpc needs the header "
		    "\"Authorization: Bearer TOKEN\" with arbord's "
		    "--http-token");
		return;
	}
	if (len == 0) {
		http_error(h, req, 400,
		    "the body must be a JSON-RPC request "
		    "or batch");
		return;
	}
	if (h->nheld >= HTTP_MAX_HELD) {
		http_error(h, req, 503,
		    "too many requests waiting for their "
		    "answers (limit %d)",
		    HTTP_MAX_HELD);
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
			http_send_text(h, req, 204, "application/json", "", 0);
		http_rpc_free(r);
		return;
	}
	/* A deferred call (wait, cancel with wait): answered later. */
	r->held = true;
	LIST_INSERT_HEAD(&h->held, r, entry);
	h->nheld++;
	if (!rpc_conn_awaits_answer(r->conn)) {
		/* Only notifications wait: nothing will be sent, so the
		 * request is answered now; the calls still run to their end
		 * (a cancel with remove removes), then the sink hears of it
		 * and this goes. */
		r->req = NULL;
		http_send_text(h, req, 204, "application/json", "", 0);
		return;
	}
	http_conn_set_closecb(h, evhttp_request_get_connection(req),
	    http_rpc_closed_cb, r);
}

void
http_rpcs_reap(struct http *h)
{
	struct http_rpc *r;

	while ((r = LIST_FIRST(&h->dead)) != NULL) {
		LIST_REMOVE(r, entry);
		http_rpc_free(r);
	}
}

void
http_rpcs_free(struct http *h)
{
	struct http_rpc *r;

	while ((r = LIST_FIRST(&h->held)) != NULL) {
		if (r->req != NULL)
			http_conn_set_closecb(h,
			    evhttp_request_get_connection(r->req), NULL, NULL);
		LIST_REMOVE(r, entry);
		h->nheld--;
		http_rpc_free(r);
	}
	http_rpcs_reap(h);
}
