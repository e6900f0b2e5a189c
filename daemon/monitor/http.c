/*
 * HTTP monitoring with libevent's evhttp: the server and its limits (on
 * headers, bodies, time, and accepting when out of fds), one route table,
 * JSON answers and JSON errors, and the small routes (the dashboard,
 * health, the tree, stats). Metrics, event streams, logs and the RPC bridge
 * have files of their own (http-metrics.c, http-events.c, http-logs.c,
 * http-rpc.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "daemon.h"
#include "events.h"
#include "http-int.h"
#include "log.h"
#include "node.h"
#include "params.h"
#include "stats.h"
#include "timer.h"
#include "tree.h"
#include "view.h"

#define HTTP_MAX_HEADERS (16 * 1024)
/* The dashboard carries the tree in the page up to this many nodes. */
#define HTTP_INLINE_NODES 5000

/* Generated from daemon/monitor/dashboard.html (Makefile.am). */
extern const char http_dashboard_html[];

const int http_codes[HTTP_NCODES] = {
	200,
	204,
	400,
	403,
	404,
	421,
	405,
	413,
	500,
	503,
	0,
};

struct http_route {
	const char *path;
	int methods;       /* EVHTTP_REQ_* */
	const char *allow; /* the Allow header for 405 */
	void (*run)(struct http *, struct evhttp_request *);
	bool light; /* small: served even over --http-max-queued */
};

static const char *
http_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 421:
		return "Misdirected Request";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

void
http_count(struct http *h, int code)
{
	size_t i;

	for (i = 0; i < HTTP_NCODES - 1 && http_codes[i] != code; i++)
		;
	h->requests[i]++;
}

void
http_send(struct http *h, struct evhttp_request *req, int code,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	http_count(h, code);
	evhttp_add_header(out, "Content-Type", type);
	evhttp_send_reply(req, code, http_reason(code), body);
}

void
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
void
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
	text[len] = '\n'; /* over the NUL: a terminal-friendly end */
	http_send_text(h, req, code, "application/json", text, len + 1);
	free(text);
}

void http_error(struct http *h, struct evhttp_request *req, int status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void
http_error(struct http *h, struct evhttp_request *req, int status,
    const char *fmt, ...)
{
	char msg[PROTO_ERR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	http_send_json(h, req, status,
	    json_pack("{s:{s:i,s:s}}", "error", "status", status, "message",
	        msg));
}

/* A protocol error as HTTP: its status, and the JSON-RPC code and kind. */
void
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
	http_send_json(h, req, status,
	    json_pack("{s:{s:i,s:s,s:i,s:s}}", "error", "status", status,
	        "message", err->message, "code", err->code, "kind",
	        err->kind != NULL ? err->kind : proto_code_kind(err->code)));
}

/* A strict decimal integer. */
int
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
json_t *
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
		    strcmp(e->key, "since") == 0 ||
		    strcmp(e->key, "lines") == 0 ||
		    strcmp(e->key, "bytes") == 0 ||
		    strcmp(e->key, "since_ms") == 0) {
			if (http_parse_int(e->value, &n) == -1) {
				http_error(h, req, 400,
				    "%s must be an "
				    "integer, not \"%.64s\"",
				    e->key, e->value);
				goto fail;
			}
			v = json_integer(n);
		} else if (strcmp(e->key, "output") == 0 ||
		    strcmp(e->key, "records") == 0 ||
		    strcmp(e->key, "follow") == 0) {
			if (strcmp(e->value, "1") == 0 ||
			    strcmp(e->value, "true") == 0)
				v = json_true();
			else if (strcmp(e->value, "0") == 0 ||
			    strcmp(e->value, "false") == 0)
				v = json_false();
			else {
				http_error(h, req, 400,
				    "%s must be true "
				    "or false, not \"%.64s\"",
				    e->key, e->value);
				goto fail;
			}
		} else {
			v = json_string(e->value);
		}
		if (v == NULL) {
			http_error(h, req, 400,
			    "\"%.64s\" is not valid "
			    "UTF-8",
			    e->key);
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

/*
 * A request its client left before it was answered: evhttp (2.1) detaches
 * it from the connection and leaves it to us; one still attached is
 * evhttp's to free with the connection.
 */
void
http_request_orphaned(struct evhttp_request *req)
{
	if (req != NULL && evhttp_request_get_connection(req) == NULL)
		evhttp_request_free(req);
}

static void
http_healthz(struct http *h, struct evhttp_request *req)
{
	http_send_text(h, req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

/*
 * The page, with the whole tree and the seq it was read at in place of the
 * marker: it shows the tree before it has loaded, and its event stream
 * starts right after that seq. A tree of HTTP_INLINE_NODES or more is left
 * out (the page fetches /v1/tree, which streams it). '<' is escaped so no
 * string in the tree (a client's cancel reason) can end the script element.
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
	/* A big tree is not built here while the loop waits: the page then
	 * reads it from /v1/tree, which streams. */
	init = view_count(h->d->tree->root, -1, HTTP_INLINE_NODES) <
	        HTTP_INLINE_NODES ?
	    json_pack("{s:I,s:o}", "seq", (json_int_t)events_seq(h->d->events),
	        "tree", view_node(h->d->tree->root, -1)) :
	    NULL;
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
	http_tree_answer(h, req, n, p.depth);
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

static const struct http_route http_routes[] = {
	{ "/", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD", http_dashboard,
	    false },
	{ "/healthz", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD",
	    http_healthz, true },
	{ "/metrics", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD",
	    http_metrics, true },
	{ "/v1/tree", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD", http_tree,
	    false },
	{ "/v1/stats", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD",
	    http_stats, false },
	{ "/v1/events", EVHTTP_REQ_GET, "GET", http_events, false },
	{ "/v1/logs", EVHTTP_REQ_GET, "GET", http_logs, false },
	{ "/v1/rpc", EVHTTP_REQ_POST, "POST", http_rpc, false },
};

/* An IP address literal: "1.2.3.4" or "[v6]". No name resolves to it by
 * DNS, so a page cannot rebind it. */
static bool
http_ip_literal(const char *host, size_t len)
{
	char buf[64];
	unsigned char a[16];

	if (len >= sizeof buf)
		return false;
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, a) == 1;
	}
	memcpy(buf, host, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, a) == 1;
}

/*
 * Is Host one that names this daemon: localhost, 127.0.0.1, [::1], the
 * address it listens on (any IP literal when that is 0.0.0.0 or [::]),
 * with its port? Any other name is a page that had a name of its own
 * resolve to us (DNS rebinding). A request without Host (HTTP/1.0) is
 * not a browser's.
 */
static bool
http_host_ok(const struct http *h, const char *hv)
{
	const char *colon = strrchr(hv, ':');
	size_t hlen;
	unsigned long port = 80;
	char *end;

	if (colon != NULL && strchr(colon, ']') == NULL) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || errno != 0)
			return false;
		hlen = (size_t)(colon - hv);
	} else {
		hlen = strlen(hv);
	}
	if (port != h->port)
		return false;
	if ((hlen == 9 && strncasecmp(hv, "localhost", 9) == 0) ||
	    (hlen == 9 && strncmp(hv, "127.0.0.1", 9) == 0) ||
	    (hlen == 5 && strncmp(hv, "[::1]", 5) == 0) ||
	    (hlen == strlen(h->host) && strncasecmp(hv, h->host, hlen) == 0))
		return true;
	return h->host_any && http_ip_literal(hv, hlen);
}

/*
 * A browser's request from a page of another origin (CSRF): Sec-Fetch-Site
 * says so, or Origin is not this Host's. Only for what is not read-only;
 * a page cannot read a cross-origin GET's answer anyway.
 */
static bool
http_cross_origin(struct evhttp_request *req, const char *host)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *site = evhttp_find_header(in, "Sec-Fetch-Site");
	const char *origin = evhttp_find_header(in, "Origin");

	if (site != NULL && strcasecmp(site, "same-origin") != 0 &&
	    strcasecmp(site, "none") != 0)
		return true;
	if (origin == NULL)
		return false;
	return host == NULL || strncasecmp(origin, "http://", 7) != 0 ||
	    strcasecmp(origin + 7, host) != 0;
}

static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	size_t i;

	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *host = evhttp_find_header(in, "Host");

	/* On every answer, whoever writes it: never cached, never read as
	 * anything but its Content-Type. */
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	http_conn_request(h, req);
	if (host != NULL && !http_host_ok(h, host)) {
		h->refused[HTTP_REFUSED_HOST]++;
		http_error(h, req, 421,
		    "Host \"%.200s\" is not this server's: use "
		    "%s:%u, localhost:%u, 127.0.0.1:%u or [::1]:%u",
		    host, h->host, h->port, h->port, h->port, h->port);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD &&
	    http_cross_origin(req, host)) {
		h->refused[HTTP_REFUSED_ORIGIN]++;
		http_error(h, req, 403,
		    "a request from a page of another origin is refused "
		    "(Origin, Sec-Fetch-Site)");
		return;
	}
	if (path == NULL || *path == '\0')
		path = "/";
	for (i = 0; i < sizeof http_routes / sizeof http_routes[0]; i++) {
		const struct http_route *rt = &http_routes[i];

		if (strcmp(path, rt->path) != 0)
			continue;
		if (!(rt->methods & (int)cmd)) {
			evhttp_add_header(evhttp_request_get_output_headers(
			                      req),
			    "Allow", rt->allow);
			http_error(h, req, 405, "%s takes %s", rt->path,
			    rt->allow);
			return;
		}
		if (!rt->light && http_busy(h, req) == -1)
			return;
		rt->run(h, req);
		return;
	}
	http_error(h, req, 404,
	    "nothing at %.200s; try /, /healthz, "
	    "/metrics, /v1/tree, /v1/stats, /v1/events, /v1/logs or "
	    "/v1/rpc",
	    path);
}

static void
http_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;

	http_rpcs_reap(h);
	http_streams_reap(h);
}
static void
http_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;

	http_accept_resume(h);
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
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "--http wants "
		    "ADDR:PORT (e.g. 127.0.0.1:8080), not \"%s\"",
		    addr);
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[' && hlen >= 2 && addr[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p > 65535 ||
	    hlen == 0 || hlen >= size)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "--http wants "
		    "ADDR:PORT (e.g. 127.0.0.1:8080), not \"%s\"",
		    addr);
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* What Host may say: the host as given (bracketed when v6) and the port
 * bound (port 0 picked one). */
static void
http_listen_names(struct http *h, const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (strchr(host, ':') != NULL)
		snprintf(h->host, sizeof h->host, "[%s]", host);
	else
		snprintf(h->host, sizeof h->host, "%s", host);
	h->host_any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
	if (getsockname(evconnlistener_get_fd(h->listener),
	        (struct sockaddr *)&ss, &len) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ?
		        ((struct sockaddr_in6 *)&ss)->sin6_port :
		        ((struct sockaddr_in *)&ss)->sin_port);
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
	LIST_INIT(&h->streams);
	LIST_INIT(&h->held);
	LIST_INIT(&h->dead);
	if ((token != NULL && (h->token = strdup(token)) == NULL) ||
	    (h->eh = evhttp_new(d->base)) == NULL ||
	    (h->resume = evtimer_new(d->base, http_resume_cb, h)) == NULL ||
	    (h->keepalive = evtimer_new(d->base, http_keepalive_cb, h)) ==
	        NULL ||
	    (h->reap = event_new(d->base, -1, 0, http_reap_cb, h)) == NULL) {
		http_free(h);
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return NULL;
	}
	evhttp_set_gencb(h->eh, http_request_cb, h);
	/* Every method reaches the routes, which answer 405 themselves. */
	evhttp_set_allowed_methods(h->eh,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	        EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(h->eh, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->eh, (ev_ssize_t)d->cfg.max_message);
	/* A little after http-conn.c's own, which counts what it drops. */
	evhttp_set_timeout(h->eh, HTTP_TIMEOUT_S + 5);
	if ((bound = evhttp_bind_socket_with_handle(h->eh, host, port)) ==
	    NULL) {
		proto_errf(err, PROTO_INTERNAL,
		    "cannot listen on %s for "
		    "HTTP: %s",
		    addr, strerror(errno));
		http_free(h);
		return NULL;
	}
	h->listener = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(h->listener, http_accept_error_cb);
	http_listen_names(h, host);
	if (http_conns_init(h) == -1) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		http_free(h);
		return NULL;
	}
	log_info("HTTP monitoring on %s%s", addr,
	    h->token != NULL ? "; POST /v1/rpc with the token" : "");
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	/* Our state goes first, so evhttp_free calls none of it. */
	http_streams_free(h);
	http_rpcs_free(h);
	http_trees_free(h);
	http_conns_stop(h);
	if (h->eh != NULL)
		evhttp_free(h->eh);
	http_conns_free(h);
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
