/*
 * HTTP connections and their limits: how many at once
 * (--http-max-connections), which fds they may take (never the reserve
 * kept for the control socket and for spawning), how long a request may
 * take to arrive (--http-request-timeout), and how much output may wait
 * for clients that do not read (per connection, and --http-max-queued over
 * all). libevent 2.1's evhttp has no connection cap and shows a connection
 * only once a whole request came, so the count is kept here: evhttp makes
 * each connection's bufferevent with ours (evhttp_set_bevcb), one accept
 * at a time, and the connection is taken in (counted, timed, told of its
 * close) on the same loop turn, before any of its bytes are read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "clock.h"
#include "daemon.h"
#include "http-int.h"
#include "log.h"
#include "timer.h"

/* Fds kept from HTTP for the control socket and for spawning: half of
 * the limit, at most the control socket's default connection limit. */
#define HTTP_FD_RESERVE_MAX 1024

const char *const http_refusal_names[HTTP__REFUSALS] = {
	"connections",
	"fds",
	"queued",
	"host",
	"origin",
};

enum http_conn_state {
	HTTP_CONN_RECEIVING, /* a request is arriving (or awaited at first) */
	HTTP_CONN_SERVING,   /* being answered, or streaming */
	HTTP_CONN_IDLE,      /* kept alive between requests */
};

struct http_conn {
	struct http *h;                  /* borrowed */
	struct bufferevent *bev;         /* borrowed: evhttp frees it */
	struct evhttp_connection *evcon; /* borrowed; NULL until taken in */
	struct evbuffer_cb_entry *incb;  /* on bev's input */
	int fd;
	enum http_conn_state state;
	int64_t since_ms;       /* RECEIVING: since when */
	size_t queued;          /* output at the last sweep */
	int64_t progress_ms;    /* when output last shrank, was empty or
	                         * was first seen by a sweep */
	http_closed_fn *closed; /* a stream's or an RPC's, or NULL */
	void *closed_arg;
};

size_t
http_queued_total(const struct http *h)
{
	size_t total = 0;

	for (size_t fd = 0; fd < h->nbyfd; fd++)
		if (h->byfd[fd] != NULL)
			total += evbuffer_get_length(
			    bufferevent_get_output(h->byfd[fd]->bev));
	return total;
}

/* The one answer a refused connection gets, then it is closed. */
static void
http_refuse_fd(struct http *h, int fd, enum http_refusal why)
{
	static const char busy[] =
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 73\r\n"
	    "Connection: close\r\n"
	    "Retry-After: 1\r\n"
	    "\r\n"
	    "{\"error\":{\"status\":503,\"message\":\"too many HTTP connections; "
	    "retry\"}}\n";

	h->refused[why]++;
	if (send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("refused HTTP connection: %s", strerror(errno));
}

/* Accepts while at the cap, to refuse: the client hears why instead of
 * waiting in the backlog. */
static void
http_refuse_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct http *h = arg;
	int fd;

	for (int i = 0; i < 64; i++) {
		if ((fd = accept4(lfd, NULL, NULL,
		         SOCK_CLOEXEC | SOCK_NONBLOCK)) == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				struct timeval tv = { 0, 100 * 1000 };

				event_del(h->refuse);
				evtimer_add(h->resume, &tv);
			}
			return;
		}
		http_refuse_fd(h, fd, HTTP_REFUSED_CONNECTIONS);
		close(fd);
	}
}

/* Accepting again, as far as the limits allow: the listener under the
 * cap, the refusing event at it. */
void
http_accept_resume(struct http *h)
{
	if (h->freeing || h->pending != NULL ||
	    evtimer_pending(h->resume, NULL))
		return;
	if (h->nconns >= h->max_conns) {
		evconnlistener_disable(h->listener);
		event_add(h->refuse, NULL);
		return;
	}
	event_del(h->refuse);
	evconnlistener_enable(h->listener);
}

/* evhttp asks for a new connection's bufferevent: ours, held by a
 * reference until it is taken in, and no other accept until then. */
static struct bufferevent *
http_bev_cb(struct event_base *base, void *arg)
{
	struct http *h = arg;
	struct http_conn *hc;

	evconnlistener_disable(h->listener);
	event_active(h->adopt, 0, 0);
	if (h->pending != NULL || (hc = calloc(1, sizeof *hc)) == NULL)
		return NULL; /* evhttp makes its own; uncounted */
	if ((hc->bev = bufferevent_socket_new(base, -1,
	         BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(hc);
		return NULL;
	}
	bufferevent_incref(hc->bev);
	hc->h = h;
	hc->fd = -1;
	h->pending = hc;
	return hc->bev;
}

static void
http_conn_input_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct http_conn *hc = arg;

	if (info->n_added > 0 && hc->state == HTTP_CONN_IDLE) {
		hc->state = HTTP_CONN_RECEIVING;
		hc->since_ms = clock_mono_ms();
	}
}

/* evhttp lets the connection go (its close callback, called once). */
static void
http_conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *hc = arg;
	struct http *h = hc->h;

	evbuffer_remove_cb_entry(bufferevent_get_input(hc->bev), hc->incb);
	h->byfd[hc->fd] = NULL;
	if (--h->nconns == 0)
		event_del(h->sweep);
	if (hc->closed != NULL)
		hc->closed(evcon, hc->closed_arg);
	free(hc);
	http_accept_resume(h);
}

static int
http_byfd_put(struct http *h, struct http_conn *hc)
{
	size_t n = h->nbyfd;
	struct http_conn **a;

	if ((size_t)hc->fd >= n) {
		n = (size_t)hc->fd + 64;
		if ((a = realloc(h->byfd, n * sizeof *a)) == NULL)
			return -1;
		memset(a + h->nbyfd, 0, (n - h->nbyfd) * sizeof *a);
		h->byfd = a;
		h->nbyfd = n;
	}
	h->byfd[hc->fd] = hc;
	return 0;
}

/* The connection just accepted: refused when its fd is in the reserve,
 * else counted and timed. evhttp has not read from it yet. */
static void
http_adopt_cb(evutil_socket_t unused, short what, void *arg)
{
	struct http *h = arg;
	struct http_conn *hc = h->pending;
	struct timeval sec = { 1, 0 };
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev = NULL;
	void *evcon = NULL;

	h->pending = NULL;
	if (hc == NULL) {
		http_accept_resume(h);
		return;
	}
	bufferevent_getcb(hc->bev, &rd, &wr, &ev, &evcon);
	if (ev == NULL || evcon == NULL ||
	    (hc->fd = bufferevent_getfd(hc->bev)) == -1) {
		/* evhttp let it go already (out of memory). */
		bufferevent_decref(hc->bev);
		free(hc);
		http_accept_resume(h);
		return;
	}
	bufferevent_decref(hc->bev); /* evhttp's reference remains */
	hc->evcon = evcon;
	if (hc->fd >= h->fd_limit) {
		http_refuse_fd(h, hc->fd, HTTP_REFUSED_FDS);
		evhttp_connection_free(hc->evcon);
		free(hc);
		http_accept_resume(h);
		return;
	}
	if (http_byfd_put(h, hc) == -1 ||
	    (hc->incb = evbuffer_add_cb(bufferevent_get_input(hc->bev),
	         http_conn_input_cb, hc)) == NULL) {
		log_warnx("out of memory for an HTTP connection");
		if ((size_t)hc->fd < h->nbyfd)
			h->byfd[hc->fd] = NULL;
		evhttp_connection_free(hc->evcon);
		free(hc);
		http_accept_resume(h);
		return;
	}
	evhttp_connection_set_closecb(hc->evcon, http_conn_closed_cb, hc);
	/* The first request must arrive whole in time, from the connect. */
	hc->state = HTTP_CONN_RECEIVING;
	hc->since_ms = hc->progress_ms = clock_mono_ms();
	if (h->nconns++ == 0)
		event_add(h->sweep, &sec);
	http_accept_resume(h);
}

static struct http_conn *
http_conn_of(struct http *h, struct evhttp_connection *evcon)
{
	int fd;

	if (evcon == NULL)
		return NULL;
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd < 0 || (size_t)fd >= h->nbyfd || h->byfd[fd] == NULL ||
	    h->byfd[fd]->evcon != evcon)
		return NULL;
	return h->byfd[fd];
}

void
http_conn_set_closecb(struct http *h, struct evhttp_connection *evcon,
    http_closed_fn *fn, void *arg)
{
	struct http_conn *hc = http_conn_of(h, evcon);

	if (hc != NULL) {
		hc->closed = fn;
		hc->closed_arg = arg;
	} else if (evcon != NULL) {
		/* Uncounted (out of memory at accept): evhttp's own. */
		evhttp_connection_set_closecb(evcon, fn, arg);
	}
}

/* A request was answered: the next may begin (its bytes may be here). */
static void
http_conn_done_cb(struct evhttp_request *req, void *arg)
{
	struct http_conn *hc = arg;

	hc->state = HTTP_CONN_IDLE;
	if (evbuffer_get_length(bufferevent_get_input(hc->bev)) > 0) {
		hc->state = HTTP_CONN_RECEIVING;
		hc->since_ms = clock_mono_ms();
	}
}

void
http_conn_request(struct http *h, struct evhttp_request *req)
{
	struct http_conn *hc = http_conn_of(h,
	    evhttp_request_get_connection(req));

	if (hc != NULL) {
		hc->state = HTTP_CONN_SERVING;
		evhttp_request_set_on_complete_cb(req, http_conn_done_cb, hc);
	}
}

int
http_busy(struct http *h, struct evhttp_request *req)
{
	size_t total = http_queued_total(h);

	if (total <= h->max_queued)
		return 0;
	h->refused[HTTP_REFUSED_QUEUED]++;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
	    "1");
	http_error(h, req, 503,
	    "%zu bytes of answers wait for clients that do not read them "
	    "(limit %zu, --http-max-queued); retry",
	    total, h->max_queued);
	return -1;
}

/* Each second while connections exist: requests that take too long to
 * arrive, and clients that do not take their answers. Closing runs
 * evhttp's close callback, which frees the entry. */
static void
http_sweep_cb(evutil_socket_t unused, short what, void *arg)
{
	struct http *h = arg;
	int64_t now = clock_mono_ms(), T = h->request_timeout_ms;
	struct http_conn *hc;
	size_t queued;

	for (size_t fd = 0; fd < h->nbyfd; fd++) {
		if ((hc = h->byfd[fd]) == NULL)
			continue;
		queued = evbuffer_get_length(bufferevent_get_output(hc->bev));
		/* Output first seen now waits from now: it may have been
		 * built while the loop served nothing, for longer than the
		 * timeout, and its client could take none of it before. */
		if (queued == 0 || queued < hc->queued || hc->queued == 0)
			hc->progress_ms = now;
		hc->queued = queued;
		if (hc->state == HTTP_CONN_RECEIVING && T > 0 &&
		    now - hc->since_ms >= T) {
			h->timed_out++;
			log_debug("HTTP: a request not whole after %lld ms; "
			          "closing",
			    (long long)T);
			evhttp_connection_free(hc->evcon);
		} else if (queued > 0 &&
		    now - hc->progress_ms >=
		        (queued > HTTP_CONN_QUEUED_MAX && T > 0 ?
		                T :
		                HTTP_TIMEOUT_S * 1000)) {
			h->dropped_slow++;
			log_debug("HTTP: %zu bytes not taken for %lld ms; "
			          "closing",
			    queued, (long long)(now - hc->progress_ms));
			evhttp_connection_free(hc->evcon);
		}
	}
}

int
http_conns_init(struct http *h)
{
	struct event_base *base = h->d->base;
	struct rlimit rl;
	int reserve;

	h->max_conns = h->d->cfg.http_max_connections;
	h->max_queued = h->d->cfg.http_max_queued;
	h->request_timeout_ms = h->d->cfg.http_request_timeout_ms;
	h->fd_limit = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		h->fd_limit = rl.rlim_cur > (rlim_t)(1 << 30) ?
		    1 << 30 :
		    (int)rl.rlim_cur;
	reserve = h->fd_limit / 2;
	if (reserve > HTTP_FD_RESERVE_MAX)
		reserve = HTTP_FD_RESERVE_MAX;
	h->fd_limit -= reserve;
	if ((h->refuse = event_new(base, evconnlistener_get_fd(h->listener),
	         EV_READ | EV_PERSIST, http_refuse_cb, h)) == NULL ||
	    (h->adopt = event_new(base, -1, 0, http_adopt_cb, h)) == NULL ||
	    (h->sweep = event_new(base, -1, EV_PERSIST, http_sweep_cb, h)) ==
	        NULL)
		return -1;
	evhttp_set_bevcb(h->eh, http_bev_cb, h);
	return 0;
}

void
http_conns_stop(struct http *h)
{
	h->freeing = true;
	if (h->refuse != NULL)
		event_del(h->refuse);
	if (h->adopt != NULL)
		event_del(h->adopt);
}

void
http_conns_free(struct http *h)
{
	/* evhttp_free closed every connection it knew; one accepted but
	 * not taken in is ours to release. */
	if (h->pending != NULL) {
		bufferevent_decref(h->pending->bev);
		free(h->pending);
		h->pending = NULL;
	}
	free(h->byfd);
	h->byfd = NULL;
	h->nbyfd = 0;
	timer_clear(&h->refuse);
	timer_clear(&h->adopt);
	timer_clear(&h->sweep);
}
