/*
 * GET /v1/tree: the inspect result. A small one is built whole; a big one
 * is written as a chunked reply, a slice (HTTP_TREE_SLICE) at a time, the
 * next slice only once the previous one is written (the chunk's callback),
 * so a connection holds at most about one slice of it whatever the
 * client's pace. The walk follows the rule of docs/protocol-notes.md for
 * a tree that changes meanwhile. A tree reply in flight is owned by the
 * http struct (its `trees`); it is freed when the reply ends, when its
 * client goes, or by http_trees_free at exit.
 */
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon.h"
#include "http-int.h"
#include "log.h"
#include "tree.h"
#include "view.h"

#define HTTP_TREE_WHOLE (256 * 1024) /* estimated bytes built whole */
#define HTTP_TREE_SLICE (64 * 1024)  /* bytes per chunk */

struct http_tree {
	struct http *h;                  /* borrowed */
	struct evhttp_request *req;      /* borrowed: evhttp owns it */
	struct evhttp_connection *evcon; /* borrowed */
	struct view_walk *walk;          /* owned */
	LIST_ENTRY(http_tree) entry;     /* http's trees */
};

static void http_tree_next(struct http_tree *t);

static void
http_tree_free(struct http_tree *t)
{
	LIST_REMOVE(t, entry);
	view_walk_free(t->walk);
	free(t);
}

/* The client went away mid-reply. */
static void
http_tree_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_tree *t = arg;
	struct evhttp_request *req = t->req;

	http_tree_free(t);
	http_request_orphaned(req);
}

static void
http_tree_written_cb(struct evhttp_connection *evcon, void *arg)
{
	http_tree_next(arg);
}

static void
http_tree_next(struct http_tree *t)
{
	struct evbuffer *b;
	int r = -1;

	if ((b = evbuffer_new()) != NULL &&
	    (r = view_walk_next(t->walk, b, HTTP_TREE_SLICE)) == 0)
		r = evbuffer_add(b, "\n", 1);
	if (r == -1)
		log_warnx("out of memory writing /v1/tree; its reply is cut");
	if (b != NULL && evbuffer_get_length(b) > 0)
		evhttp_send_reply_chunk_with_cb(t->req, b,
		    r == 1 ? http_tree_written_cb : NULL, t);
	if (b != NULL)
		evbuffer_free(b);
	if (r == 1)
		return;
	/* Done (or cut): the connection is evhttp's again. */
	http_conn_set_closecb(t->h, t->evcon, NULL, NULL);
	evhttp_send_reply_end(t->req);
	http_tree_free(t);
}

void
http_tree_answer(struct http *h, struct evhttp_request *req, struct node *n,
    int depth)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct http_tree *t;

	if (view_count(n, depth, HTTP_TREE_WHOLE / VIEW_BYTES) * VIEW_BYTES <=
	    HTTP_TREE_WHOLE) {
		http_send_json(h, req, 200, view_node(n, depth));
		return;
	}
	if ((t = calloc(1, sizeof *t)) == NULL ||
	    (t->walk = view_walk_new(h->d->tree, n, depth)) == NULL) {
		free(t);
		http_error(h, req, 500, "out of memory");
		return;
	}
	t->h = h;
	t->req = req;
	t->evcon = evhttp_request_get_connection(req);
	LIST_INSERT_HEAD(&h->trees, t, entry);
	http_count(h, 200);
	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, 200, "OK");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* No body: evhttp would not call back for a chunk. */
		evhttp_send_reply_end(req);
		http_tree_free(t);
		return;
	}
	http_conn_set_closecb(h, t->evcon, http_tree_closed_cb, t);
	http_tree_next(t);
}

void
http_trees_free(struct http *h)
{
	struct http_tree *t;

	while ((t = LIST_FIRST(&h->trees)) != NULL) {
		http_conn_set_closecb(t->h, t->evcon, NULL, NULL);
		http_tree_free(t);
	}
}
