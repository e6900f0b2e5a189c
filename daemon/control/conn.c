/*
 * A control connection: reading framed messages, answering them in order
 * of completion, streaming answers too big to build whole a slice per
 * loop turn, pausing a client that does not read its answers, and closing
 * without leaving anything behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conn.h"
#include "daemon.h"
#include "events.h"
#include "jsonrpc.h"
#include "log.h"
#include "rpc.h"
#include "server.h"
#include "timer.h"

static void conn_read_cb(struct bufferevent *, void *);
static void conn_write_cb(struct bufferevent *, void *);
static void conn_event_cb(struct bufferevent *, short, void *);
static void conn_more_cb(evutil_socket_t, short, void *);
static void conn_idle_cb(evutil_socket_t, short, void *);
static void conn_pump_cb(evutil_socket_t, short, void *);
static void conn_outq_free(struct conn *);

struct conn *
conn_new(struct daemon *d, struct server *s, int fd)
{
	struct conn *c;
	struct ucred cred;
	socklen_t len = sizeof cred;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->d = d;
	c->server = s;
	LIST_INIT(&c->calls);
	TAILQ_INIT(&c->outq);
	c->id = ++s->next_conn_id;
	c->pid = -1;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->gid = cred.gid;
	}
	proto_framer_init(&c->framer, d->cfg.max_message);
	c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->more = event_new(d->base, -1, 0, conn_more_cb, c);
	c->idle = evtimer_new(d->base, conn_idle_cb, c);
	c->pump = event_new(d->base, -1, 0, conn_pump_cb, c);
	if (c->bev == NULL || c->more == NULL || c->idle == NULL ||
	    c->pump == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		timer_clear(&c->more);
		timer_clear(&c->idle);
		timer_clear(&c->pump);
		free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	bufferevent_setwatermark(c->bev, EV_WRITE, CONN_OUTPUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_debug("connection %llu from pid %ld uid %ld",
	    (unsigned long long)c->id, (long)c->pid, (long)c->uid);
	return c;
}

struct conn *
conn_new_sink(struct daemon *d, conn_sink_fn *fn, void *arg)
{
	struct conn *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->d = d;
	c->server = d->server;
	LIST_INIT(&c->calls);
	TAILQ_INIT(&c->outq);
	c->id = ++d->server->next_conn_id;
	c->pid = -1;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->sink = fn;
	c->sink_arg = arg;
	return c;
}

void
conn_send(struct conn *c, const json_t *msg)
{
	char *buf;
	size_t len;

	if (c->dead)
		return;
	if (c->sink != NULL) {
		c->sink(c->sink_arg, msg);
		return;
	}
	if ((buf = proto_rpc_encode(msg, &len)) == NULL) {
		log_warnx("connection %llu: out of memory encoding an answer",
		    (unsigned long long)c->id);
		conn_close(c);
		return;
	}
	conn_send_raw(c, buf, len);
	free(buf);
}

/* Reads requests only when nothing stops it: not paused, not closing,
 * no streamed answer in flight. */
static void
conn_reading_update(struct conn *c)
{
	if (c->dead)
		return;
	if (c->paused || c->closing || !TAILQ_EMPTY(&c->outq))
		bufferevent_disable(c->bev, EV_READ);
	else
		bufferevent_enable(c->bev, EV_READ);
}

/* Behind a streamed answer: bytes join the last entry of the queue. */
static void
conn_queue_bytes(struct conn *c, const char *buf, size_t len)
{
	struct conn_out *o = TAILQ_LAST(&c->outq, conn_outq_head);

	if (o->ops != NULL) {
		if ((o = calloc(1, sizeof *o)) == NULL ||
		    (o->bytes = evbuffer_new()) == NULL) {
			free(o);
			goto oom;
		}
		TAILQ_INSERT_TAIL(&c->outq, o, entry);
	}
	if (evbuffer_add(o->bytes, buf, len) == -1)
		goto oom;
	c->outq_bytes += len;
	return;
oom:
	log_warnx("connection %llu: out of memory queueing an answer",
	    (unsigned long long)c->id);
	conn_close(c);
}

void
conn_send_raw(struct conn *c, const char *buf, size_t len)
{
	if (c->dead || c->sink != NULL)
		return;
	if (!TAILQ_EMPTY(&c->outq)) {
		conn_queue_bytes(c, buf, len);
		return;
	}
	bufferevent_write(c->bev, buf, len);
	if (!c->paused &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) >
	        CONN_OUTPUT_HIGH) {
		/* The client is not reading: stop taking its requests rather
		 * than buffering answers without end. */
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
	}
}

bool
conn_output_empty(const struct conn *c)
{
	/* A streamed answer in flight is output not yet written. */
	return conn_output_length(c) == 0 && TAILQ_EMPTY(&c->outq);
}

size_t
conn_output_length(const struct conn *c)
{
	if (c->dead || c->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(c->bev)) +
	    c->outq_bytes;
}

int
conn_send_stream(struct conn *c, const struct conn_stream_ops *ops, void *arg)
{
	struct conn_out *o;

	if (c->dead || c->sink != NULL || (o = calloc(1, sizeof *o)) == NULL) {
		ops->free(arg);
		return -1;
	}
	o->ops = ops;
	o->arg = arg;
	if (TAILQ_EMPTY(&c->outq)) {
		/* The first slice goes on the next turn, like every other. */
		event_active(c->pump, 0, 0);
	}
	TAILQ_INSERT_TAIL(&c->outq, o, entry);
	conn_reading_update(c);
	return 0;
}

static void
conn_out_free(struct conn_out *o)
{
	if (o->ops != NULL)
		o->ops->free(o->arg);
	if (o->bytes != NULL)
		evbuffer_free(o->bytes);
	free(o);
}

static void
conn_outq_free(struct conn *c)
{
	struct conn_out *o;

	while ((o = TAILQ_FIRST(&c->outq)) != NULL) {
		TAILQ_REMOVE(&c->outq, o, entry);
		conn_out_free(o);
	}
	c->outq_bytes = 0;
}

/*
 * Writes the queue out: bytes at once (they are already in memory), a
 * streamed answer one slice per turn, and only while less than
 * CONN_OUTPUT_LOW waits in the output; the write callback calls again once
 * the client has read it below that.
 */
static void
conn_pump(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct conn_out *o;
	bool sliced = false;
	int r;

	while (!c->dead && (o = TAILQ_FIRST(&c->outq)) != NULL) {
		if (o->ops == NULL) {
			c->outq_bytes -= evbuffer_get_length(o->bytes);
			evbuffer_add_buffer(out, o->bytes);
			TAILQ_REMOVE(&c->outq, o, entry);
			conn_out_free(o);
			continue;
		}
		if (evbuffer_get_length(out) >= CONN_OUTPUT_LOW)
			return; /* the write callback goes on */
		if (sliced) {
			event_active(c->pump, 0, 0);
			return;
		}
		sliced = true;
		if ((r = o->ops->fill(o->arg, out, CONN_SLICE)) == -1) {
			log_warnx("connection %llu: out of memory streaming an "
			          "answer; closing",
			    (unsigned long long)c->id);
			conn_close(c);
			return;
		}
		if (r == 0) {
			TAILQ_REMOVE(&c->outq, o, entry);
			conn_out_free(o);
		}
	}
	if (c->dead)
		return;
	/* The queue is empty: requests are read again. */
	conn_reading_update(c);
	if (c->closing) {
		if (evbuffer_get_length(out) == 0)
			conn_close(c);
		return;
	}
	if (!c->paused)
		event_active(c->more, 0, 0);
}

static void
conn_pump_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_pump(arg);
}

/*
 * The idle timeout runs only while part of a message is buffered: from the
 * first bytes of a message (fresh: the bytes before it were a whole
 * message) to its newline. An idle connection with nothing pending has no
 * timer at all.
 */
static void
conn_idle_arm(struct conn *c, bool fresh)
{
	struct timeval tv;
	int64_t ms = c->d->cfg.idle_timeout_ms;

	if (ms <= 0 || (!fresh && evtimer_pending(c->idle, NULL)))
		return;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->idle, &tv);
}

static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct proto_err err;
	json_t *msg;

	if (c->dead || c->closing)
		return;
	/* Not reading because the client does not read, or because a
	 * streamed answer goes first: not its idling. */
	if (c->paused || !TAILQ_EMPTY(&c->outq)) {
		conn_idle_arm(c, true);
		return;
	}
	log_info("connection %llu: message unfinished after %lld ms; closing",
	    (unsigned long long)c->id, (long long)c->d->cfg.idle_timeout_ms);
	proto_errf(&err, PROTO_INVALID_REQUEST,
	    "message not finished "
	    "within %lld ms of its first byte (--idle-timeout); closing",
	    (long long)c->d->cfg.idle_timeout_ms);
	msg = proto_rpc_error(NULL, &err);
	if (msg != NULL)
		conn_send(c, msg);
	json_decref(msg);
	c->linger = true;
	conn_close_after_write(c);
}

/* Reads messages until the input has no whole one, the burst is spent or
 * the connection paused or closed. */
static void
conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int handled = 0;
	bool fresh = false;

	while (!c->dead && !c->closing && !c->paused && TAILQ_EMPTY(&c->outq)) {
		size_t len = evbuffer_get_length(in), line_len, consumed;
		const char *data;

		if (len == 0) {
			event_del(c->idle);
			break;
		}
		if (handled == CONN_BURST) {
			event_active(c->more, 0, 0);
			break;
		}
		data = (const char *)evbuffer_pullup(in, -1);
		switch (proto_frame_next(&c->framer, data, len, &line_len,
		    &consumed)) {
		case PROTO_FRAME_MORE:
			conn_idle_arm(c, fresh);
			return;
		case PROTO_FRAME_TOO_LARGE: {
			struct proto_err err;
			json_t *msg;

			proto_errk(&err, PROTO_INVALID_REQUEST, "too_large",
			    "message longer than the limit of %zu bytes",
			    c->framer.max);
			msg = proto_rpc_error(NULL, &err);
			conn_send(c, msg);
			json_decref(msg);
			c->linger = true;
			conn_close_after_write(c);
			return;
		}
		case PROTO_FRAME_LINE:
			if (line_len > 0) {
				handled++;
				rpc_message(c, data, line_len);
			}
			if (!c->dead)
				evbuffer_drain(in, consumed);
			fresh = true;
			break;
		}
	}
}

static void
conn_more_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_process(arg);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (!TAILQ_EMPTY(&c->outq))
		event_active(c->pump, 0, 0);
	if (c->closing && TAILQ_EMPTY(&c->outq) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		conn_close(c);
		return;
	}
	if (c->events_blocked) {
		c->events_blocked = false;
		events_owner_writable(c->d->events, c);
	}
	if (c->paused) {
		c->paused = false;
		conn_reading_update(c);
		conn_process(c);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_ERROR) {
		conn_close(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* A client that hung up takes nothing with it: what it waited
		 * for is dropped, what was answered is still written. */
		while (!LIST_EMPTY(&c->calls))
			rpc_call_abandon(LIST_FIRST(&c->calls));
		conn_close_after_write(c);
	}
}

void
conn_close_after_write(struct conn *c)
{
	if (c->dead)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	/* A streamed answer in flight is finished first (the pump closes). */
	if (TAILQ_EMPTY(&c->outq) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close(c);
}

void
conn_close(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	while (!LIST_EMPTY(&c->calls))
		rpc_call_abandon(LIST_FIRST(&c->calls));
	events_owner_gone(c->d->events, c);
	/* Streamed answers in flight go with their connection. */
	conn_outq_free(c);
	if (c->sink != NULL)
		return;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_del(c->more);
	event_del(c->idle);
	event_del(c->pump);
	if (c->linger) {
		/* The socket outlives the bufferevent's fd through a dup. */
		int fd = fcntl(bufferevent_getfd(c->bev), F_DUPFD_CLOEXEC, 0);

		if (fd != -1)
			server_linger(c->server, fd);
	}
	log_debug("connection %llu closed", (unsigned long long)c->id);
	server_conn_dead(c->server, c);
}

void
conn_free(struct conn *c)
{
	while (!LIST_EMPTY(&c->calls))
		rpc_call_abandon(LIST_FIRST(&c->calls));
	conn_outq_free(c);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	timer_clear(&c->more);
	timer_clear(&c->idle);
	timer_clear(&c->pump);
	free(c);
}

void
conn_call_add(struct conn *c, struct rpc_call *call)
{
	LIST_INSERT_HEAD(&c->calls, call, entry);
	c->ncalls++;
}

void
conn_call_del(struct conn *c, struct rpc_call *call)
{
	LIST_REMOVE(call, entry);
	c->ncalls--;
	if (c->sink != NULL && c->ncalls == 0 && !c->dead)
		c->sink(c->sink_arg, NULL);
}
