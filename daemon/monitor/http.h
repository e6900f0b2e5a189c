/*
 * HTTP monitoring (--http ADDR:PORT): the evhttp server, its routes (tree,
 * stats, events as Server-Sent Events, Prometheus metrics, health, the
 * dashboard, and JSON-RPC with a bearer token), and everything a request
 * holds while it waits: SSE streams and deferred RPC answers. The http
 * struct owns all of them and releases them when their client goes.
 */
#ifndef HTTP_H
#define HTTP_H

#include "err.h"

struct daemon;
struct http;

/* Binds addr ("127.0.0.1:8080", "[::1]:8080"); token NULL: POST /v1/rpc
 * is refused (403). */
struct http *http_new(struct daemon *d, const char *addr, const char *token,
    struct proto_err *err);
void http_free(struct http *h);
/* SSE streams open now (for metrics). */
size_t http_stream_count(const struct http *h);

#endif
