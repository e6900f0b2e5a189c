/*
 * GET /v1/logs: a node's captured output over HTTP. Without follow, the
 * logs method's answer as JSON. With follow, a Server-Sent Events stream
 * (an event stream of http-events.c, output only) of the node's subtree:
 * first the recent lines as logs reads them, then the lines as they come.
 * Each message is a batch of lines of one node, stream and run read at one
 * time, so a chunk of short lines costs a few bytes a line, not a record
 * each; the stream's memory is bounded as any event stream's is.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon.h"
#include "events.h"
#include "http-int.h"
#include "node.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"

/* The recent lines a stream begins with, at most (as JSON): the rest of
 * what was asked is left out, the oldest first, and said to be. */
#define HTTP_LOGS_FIRST_MAX (512 * 1024)
#define HTTP_LOGS_CUT_MARK  " [cut]"

/* "data: {batch}\n\n"; batch is stolen. */
static void
http_logs_put(struct evbuffer *out, json_t *batch)
{
	char *text = batch != NULL ?
	    json_dumps(batch, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	json_decref(batch);
	if (text == NULL)
		return;
	evbuffer_add_printf(out, "data: %s\n\n", text);
	free(text);
}

static json_t *
http_logs_batch(json_int_t t_ms, const char *stream, json_int_t run,
    const char *path)
{
	json_t *b = json_pack("{s:I,s:s}", "t_ms", t_ms, "stream", stream);

	/* An output event of a worker that does not say its run has none. */
	if (b != NULL && run > 0)
		json_object_set_new(b, "run", json_integer(run));
	if (b != NULL &&
	    (json_object_set_new(b, "path", json_string(path)) != 0 ||
	        json_object_set_new(b, "lines", json_array()) != 0)) {
		json_decref(b);
		return NULL;
	}
	return b;
}

void
http_logs_event(struct evbuffer *out, const char *body, size_t len,
    unsigned mask)
{
	char *text = malloc(len + 2);
	json_t *e = NULL, *b, *lines;
	const char *type, *stream, *data;
	size_t dlen;

	if (text == NULL)
		return;
	/* The params' members: an object once braced. */
	text[0] = '{';
	memcpy(text + 1, body, len);
	text[len + 1] = '}';
	e = json_loadb(text, len + 2, JSON_ALLOW_NUL, NULL);
	free(text);
	if (e == NULL ||
	    (type = json_string_value(json_object_get(e, "type"))) == NULL)
		goto out;
	if (strcmp(type, "overflow") == 0 || strcmp(type, "gap") == 0) {
		/* overflow: the stream ends (the client did not read);
		 * gap: lines may be missing. */
		evbuffer_add_printf(out,
		    "event: %s\ndata: {\"seq\":%" JSON_INTEGER_FORMAT
		    ",\"t_ms\":%" JSON_INTEGER_FORMAT "}\n\n",
		    type, json_integer_value(json_object_get(e, "seq")),
		    json_integer_value(json_object_get(e, "ts_ms")));
		goto out;
	}
	if (strcmp(type, "output") != 0 ||
	    (stream = json_string_value(json_object_get(e, "stream"))) ==
	        NULL ||
	    !(mask & (strcmp(stream, "stderr") == 0 ? 2u : 1u)) ||
	    (data = json_string_value(json_object_get(e, "data"))) == NULL)
		goto out;
	dlen = json_string_length(json_object_get(e, "data"));
	if ((b = http_logs_batch(json_integer_value(
	                             json_object_get(e, "ts_ms")),
	         stream, json_integer_value(json_object_get(e, "run")),
	         json_string_value(json_object_get(e, "path")))) == NULL)
		goto out;
	lines = json_object_get(b, "lines");
	/* Whole lines, each with its newline; a chunk of a line cut
	 * longer than a chunk has none. */
	while (dlen > 0) {
		const char *nl = memchr(data, '\n', dlen);
		size_t n = nl != NULL ? (size_t)(nl - data) : dlen;

		json_array_append_new(lines, json_stringn(data, n));
		if (nl == NULL)
			break;
		data += n + 1;
		dlen -= n + 1;
	}
	http_logs_put(out, b);
out:
	json_decref(e);
}

/* The JSON of record i, about. */
static size_t
http_logs_rec_size(json_t *r)
{
	return json_string_length(json_object_get(r, "text")) +
	    json_string_length(json_object_get(r, "path")) + 64;
}

static bool
http_logs_same(json_t *a, json_t *b)
{
	static const char *const keys[] = { "t_ms", "stream", "run", "path" };

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!json_equal(json_object_get(a, keys[i]),
		        json_object_get(b, keys[i])))
			return false;
	return true;
}

/* A cut line's text with the mark the live lines have. */
static json_t *
http_logs_cut(json_t *text)
{
	size_t len = json_string_length(text),
	       mlen = strlen(HTTP_LOGS_CUT_MARK);
	char *buf = malloc(len + mlen);
	json_t *t;

	if (buf == NULL)
		return NULL;
	memcpy(buf, json_string_value(text), len);
	memcpy(buf + len, HTTP_LOGS_CUT_MARK, mlen);
	t = json_stringn(buf, len + mlen);
	free(buf);
	return t;
}

/* The recent lines, as batches; at most HTTP_LOGS_FIRST_MAX of them. */
static int
http_logs_first(struct evbuffer *out, const struct node *n,
    const struct params_logs *p)
{
	json_t *res = rpc_logs_result(n, p), *recs, *b = NULL, *prev = NULL;
	size_t i, first, used = 0, nrecs;
	bool truncated;

	if (res == NULL || (recs = json_object_get(res, "records")) == NULL) {
		json_decref(res);
		return -1;
	}
	nrecs = json_array_size(recs);
	for (first = nrecs; first > 0; first--) {
		size_t sz = http_logs_rec_size(json_array_get(recs, first - 1));

		if (used + sz > HTTP_LOGS_FIRST_MAX)
			break;
		used += sz;
	}
	truncated = first > 0 ||
	    json_is_true(json_object_get(res, "truncated"));
	if (truncated)
		evbuffer_add_printf(out, "event: truncated\ndata: {}\n\n");
	for (i = first; i < nrecs; i++) {
		json_t *r = json_array_get(recs, i), *text;

		if (b != NULL && !http_logs_same(prev, r)) {
			http_logs_put(out, b);
			b = NULL;
		}
		if (b == NULL &&
		    (b = http_logs_batch(json_integer_value(
		                             json_object_get(r, "t_ms")),
		         json_string_value(json_object_get(r, "stream")),
		         json_integer_value(json_object_get(r, "run")),
		         json_string_value(json_object_get(r, "path")))) ==
		        NULL)
			break;
		prev = r;
		text = json_object_get(r, "text");
		if (json_is_true(json_object_get(r, "cut")))
			text = http_logs_cut(text);
		else
			json_incref(text);
		json_array_append_new(json_object_get(b, "lines"), text);
	}
	if (b != NULL)
		http_logs_put(out, b);
	json_decref(res);
	return 0;
}

void
http_logs(struct http *h, struct evhttp_request *req)
{
	char path[PROTO_PATH_MAX];
	struct params_logs p;
	struct events_filter f;
	struct proto_err err;
	struct evbuffer *first = NULL;
	json_t *params, *follow;
	bool following;
	struct node *n;

	if ((params = http_query_params(h, req)) == NULL)
		return;
	proto_err_clear(&err);
	follow = json_object_get(params, "follow");
	following = json_is_true(follow);
	if (follow != NULL)
		json_object_del(params, "follow");
	if (params_logs(params, &p, &err) == -1 ||
	    (n = tree_lookup(h->d->tree, p.path, &err)) == NULL) {
		http_proto_error(h, req, &err);
		goto out;
	}
	if (!following) {
		json_t *r = rpc_logs_result(n, &p);

		if (r == NULL)
			http_error(h, req, 500, "out of memory");
		else
			http_send_json(h, req, 200, r);
		goto out;
	}
	p.records = true;
	memset(&f, 0, sizeof f);
	f.path = node_path(n, path, sizeof path);
	f.output = true;
	/* The recent lines and the subscription in one loop turn: no line
	 * comes between them, none is sent twice. */
	if ((first = evbuffer_new()) == NULL ||
	    http_logs_first(first, n, &p) == -1) {
		http_error(h, req, 500, "out of memory");
		goto out;
	}
	if (http_stream_open(h, req, &f,
	        p.stream == LOGS_STDOUT     ? 1 :
	            p.stream == LOGS_STDERR ? 2 :
	                                      3,
	        first, &err) == -1)
		http_proto_error(h, req, &err);
out:
	if (first != NULL)
		evbuffer_free(first);
	json_decref(params);
}
