/*
 * Events: the sequence, the two bounded histories, subscriptions with their
 * path filter, replay of `since` paced by the subscriber's output, and
 * dropping subscribers that do not read. A record keeps what the event was
 * (cheap to take: a million-node spawn makes millions) and is encoded as
 * JSON once, the first time a subscriber needs it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "cause.h"
#include "clock.h"
#include "events.h"
#include "health.h"
#include "log.h"
#include "node.h"
#include "path.h"
#include "spec.h"
#include "timer.h"
#include "tree.h"
#include "utf8.h"

/* Records replayed per loop turn, so a long replay does not starve the
 * loop. */
#define EVENTS_REPLAY_BURST 512

/* One event: its facts, the path and any output in one allocation, and
 * the JSON body every subscriber gets, made when first sent. */
struct events_rec {
	uint64_t seq;
	int64_t ts_ms;
	uint64_t id;
	struct cause *cause; /* owned reference; state events */
	char *body;          /* owned; NULL until first sent */
	uint32_t body_len;
	uint32_t path_len;
	uint32_t data_len; /* output events */
	uint32_t restarts;
	uint32_t failures;            /* health events */
	uint32_t run;                 /* output events; 0: unknown */
	uint8_t type, from, to, kind; /* health events: health states */
	uint8_t stream;               /* output events: 0 stdout, 1 stderr */
	char text[]; /* path, NUL, output data, the status or the health's
	                last error */
};

struct events_hist {
	struct events_rec **recs; /* owned, cap slots, oldest at head */
	size_t cap;
	size_t head;
	size_t len;
	size_t bytes;          /* of the records held */
	size_t max_bytes;      /* 0: count only */
	uint64_t dropped_upto; /* highest seq evicted, 0: none */
};

struct events_sub {
	struct events *ev; /* borrowed */
	uint64_t id;
	void *owner;                    /* borrowed: a conn, an SSE stream */
	const struct events_sink *sink; /* borrowed */
	void *sink_arg;                 /* borrowed */
	char *path;                     /* owned */
	size_t path_len;
	bool output;
	bool live;                    /* replay done: events go out as they
	                                 happen */
	bool blocked;                 /* replay waits for output to drain */
	uint64_t cursor;              /* replay: next seq to consider */
	bool gap;                     /* replay: a gap to report first */
	bool paced;                   /* fell behind while live: served
	                                 from the history as it reads, and
	                                 dropped if the history moves on */
	uint64_t gap_seq;             /* the last seq it may have missed */
	struct event *replay_ev;      /* owned */
	LIST_ENTRY(events_sub) entry; /* events' list */
};

struct events {
	struct event_base *base; /* borrowed */
	uint64_t seq;
	struct events_hist hist;      /* state, spawned, removed */
	struct events_hist out;       /* output */
	LIST_HEAD(, events_sub) subs; /* owned */
	size_t nsubs;
	size_t out_subs;         /* of which ask for output */
	int64_t out_linger_mono; /* output kept until then (monotonic ms) */
	uint64_t next_sub_id;
};

/* A growable string; on allocation failure it stays failed. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void
sb_grow(struct sbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->failed || b->len + more + 1 <= b->cap)
		return;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void
sb_add(struct sbuf *b, const char *s, size_t len)
{
	sb_grow(b, len);
	if (b->failed)
		return;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->failed = true;
		return;
	}
	sb_add(b, tmp, (size_t)n);
}

/* s as a JSON string; invalid UTF-8 bytes become U+FFFD. */
static void
sb_json_str(struct sbuf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, n;

	sb_add(b, "\"", 1);
	while (i < len) {
		unsigned char c = u[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		n = c < 0x80 ? 1 : proto_utf8_seq(u + i, len - i);
		if (n > 1) {
			i += n;
			run += n;
			continue;
		}
		sb_add(b, (const char *)u + i - run, run);
		run = 0;
		if (n == 0)
			sb_add(b, "\\ufffd", 6);
		else if (c == '"')
			sb_add(b, "\\\"", 2);
		else if (c == '\\')
			sb_add(b, "\\\\", 2);
		else if (c == '\n')
			sb_add(b, "\\n", 2);
		else if (c == '\r')
			sb_add(b, "\\r", 2);
		else if (c == '\t')
			sb_add(b, "\\t", 2);
		else
			sb_printf(b, "\\u%04x", c);
		i++;
	}
	sb_add(b, (const char *)u + i - run, run);
	sb_add(b, "\"", 1);
}

static int
hist_init(struct events_hist *h, size_t cap, size_t max_bytes)
{
	memset(h, 0, sizeof *h);
	if ((h->recs = calloc(cap, sizeof *h->recs)) == NULL)
		return -1;
	h->cap = cap;
	h->max_bytes = max_bytes;
	return 0;
}

static void
rec_free(struct events_rec *r)
{
	cause_unref(r->cause);
	free(r->body);
	free(r);
}

static size_t
rec_size(const struct events_rec *r)
{
	return r->path_len + r->data_len;
}

static void
hist_free(struct events_hist *h)
{
	for (size_t i = 0; i < h->len; i++)
		rec_free(h->recs[(h->head + i) % h->cap]);
	free(h->recs);
}

static struct events_rec *
hist_at(const struct events_hist *h, size_t i)
{
	return h->recs[(h->head + i) % h->cap];
}

static void
hist_drop_oldest(struct events_hist *h)
{
	struct events_rec *r = h->recs[h->head];

	h->dropped_upto = r->seq;
	h->bytes -= rec_size(r);
	rec_free(r);
	h->recs[h->head] = NULL;
	h->head = (h->head + 1) % h->cap;
	h->len--;
}

static void
hist_push(struct events_hist *h, struct events_rec *r)
{
	size_t size = rec_size(r);

	while (h->len > 0 &&
	    (h->len == h->cap ||
	        (h->max_bytes > 0 && h->bytes + size > h->max_bytes)))
		hist_drop_oldest(h);
	h->recs[(h->head + h->len) % h->cap] = r;
	h->len++;
	h->bytes += size;
}

/* Index of the first record with seq >= seq (h->len when none). */
static size_t
hist_find(const struct events_hist *h, uint64_t seq)
{
	size_t lo = 0, hi = h->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (hist_at(h, mid)->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct events *
events_new(struct event_base *base)
{
	struct events *ev;

	if ((ev = calloc(1, sizeof *ev)) == NULL)
		return NULL;
	ev->base = base;
	ev->next_sub_id = 1;
	LIST_INIT(&ev->subs);
	if (hist_init(&ev->hist, EVENTS_HISTORY, 0) == -1 ||
	    hist_init(&ev->out, EVENTS_OUTPUT_HISTORY, EVENTS_OUTPUT_BYTES) ==
	        -1) {
		free(ev->hist.recs);
		free(ev);
		return NULL;
	}
	return ev;
}

static void
events_sub_free(struct events_sub *s)
{
	struct events *ev = s->ev;

	LIST_REMOVE(s, entry);
	ev->nsubs--;
	if (s->output && --ev->out_subs == 0)
		ev->out_linger_mono = clock_mono_ms() + EVENTS_OUTPUT_LINGER_MS;
	timer_clear(&s->replay_ev);
	free(s->path);
	free(s);
}

void
events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	while (!LIST_EMPTY(&ev->subs))
		events_sub_free(LIST_FIRST(&ev->subs));
	hist_free(&ev->hist);
	hist_free(&ev->out);
	free(ev);
}

uint64_t
events_seq(const struct events *ev)
{
	return ev->seq;
}

size_t
events_history_size(const struct events *ev)
{
	return ev->hist.len + ev->out.len;
}

size_t
events_sub_count(const struct events *ev)
{
	return ev->nsubs;
}

uint64_t
events_sub_id(const struct events_sub *s)
{
	return s->id;
}

/* The subscription's path is p or an ancestor of p. */
static bool
events_sub_matches(const struct events_sub *s, const char *p, size_t len)
{
	if (s->path_len == 1)
		return true;
	return len >= s->path_len && memcmp(p, s->path, s->path_len) == 0 &&
	    (len == s->path_len || p[s->path_len] == '/');
}

static void
events_send(struct events_sub *s, uint64_t seq, const char *body, size_t len)
{
	struct events_msg m = {
		.sub = s->id,
		.seq = seq,
		.body = body,
		.len = len,
	};

	s->sink->send(s->sink_arg, &m);
}

/* gap and overflow: events of the subscription itself. */
static void
events_send_marker(struct events_sub *s, const char *type, uint64_t seq)
{
	char body[128];
	int n;

	n = snprintf(body, sizeof body,
	    "\"seq\":%llu,\"ts_ms\":%lld,"
	    "\"type\":\"%s\"",
	    (unsigned long long)seq, (long long)clock_wall_ms(), type);
	events_send(s, seq, body, (size_t)n);
}

/* The JSON body of r, made once. NULL when out of memory. */
static const char *
events_body(struct events_rec *r)
{
	static const char *const types[] = {
		[TREE_EV_SPAWNED] = "spawned",
		[TREE_EV_STATE] = "state",
		[TREE_EV_REMOVED] = "removed",
		[TREE_EV_OUTPUT] = "output",
		[TREE_EV_STATUS] = "status",
		[TREE_EV_HEALTH] = "health",
	};
	struct sbuf b = { 0 };

	if (r->body != NULL)
		return r->body;
	sb_printf(&b,
	    "\"seq\":%llu,\"ts_ms\":%lld,\"type\":\"%s\",\"id\":%llu,"
	    "\"path\":",
	    (unsigned long long)r->seq, (long long)r->ts_ms, types[r->type],
	    (unsigned long long)r->id);
	sb_json_str(&b, r->text, r->path_len);
	switch (r->type) {
	case TREE_EV_SPAWNED:
		sb_printf(&b, ",\"kind\":\"%s\"", spec_kind_names[r->kind]);
		break;
	case TREE_EV_STATE:
		sb_printf(&b,
		    ",\"from\":\"%s\",\"to\":\"%s\",\"restarts\":%u,"
		    "\"cause\":",
		    node_state_names[r->from], node_state_names[r->to],
		    (unsigned)r->restarts);
		if (r->cause != NULL)
			sb_json_str(&b, cause_text(r->cause),
			    strlen(cause_text(r->cause)));
		else
			sb_add(&b, "null", 4);
		break;
	case TREE_EV_OUTPUT:
		sb_printf(&b, ",\"stream\":\"%s\"",
		    r->stream == 1 ? "stderr" : "stdout");
		if (r->run > 0)
			sb_printf(&b, ",\"run\":%u", (unsigned)r->run);
		sb_add(&b, ",\"data\":", 8);
		sb_json_str(&b, r->text + r->path_len + 1, r->data_len);
		break;
	case TREE_EV_HEALTH:
		sb_printf(&b,
		    ",\"from\":\"%s\",\"to\":\"%s\",\"failures\":%u,"
		    "\"last_error\":",
		    health_state_names[r->from], health_state_names[r->to],
		    (unsigned)r->failures);
		if (r->data_len > 0)
			sb_json_str(&b, r->text + r->path_len + 1, r->data_len);
		else
			sb_add(&b, "null", 4);
		break;
	case TREE_EV_STATUS:
		/* A status is never empty: empty is cleared, null. */
		sb_add(&b, ",\"status\":", 10);
		if (r->data_len > 0)
			sb_json_str(&b, r->text + r->path_len + 1, r->data_len);
		else
			sb_add(&b, "null", 4);
		break;
	default:
		break;
	}
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	r->body = b.p;
	r->body_len = (uint32_t)b.len;
	return r->body;
}

static void
events_send_rec(struct events_sub *s, struct events_rec *r)
{
	if (!events_sub_matches(s, r->text, r->path_len))
		return;
	if (events_body(r) == NULL) {
		log_warnx("out of memory encoding an event");
		return;
	}
	events_send(s, r->seq, r->body, r->body_len);
}

/* A paced subscriber the history has left behind: a last event says where
 * it got to, and the subscription ends (it may resubscribe with since). */
static void
events_overflow(struct events_sub *s)
{
	const struct events_sink *sink = s->sink;
	void *arg = s->sink_arg;
	uint64_t id = s->id;

	events_send_marker(s, "overflow", s->cursor - 1);
	events_sub_free(s);
	if (sink->overflowed != NULL)
		sink->overflowed(arg, id);
}

/*
 * Replays from the history what came after the cursor, a burst per loop
 * turn, stopping whenever the subscriber's output is high; live once it
 * has caught up. Events that happen meanwhile are in the history, so
 * nothing is sent twice or out of order.
 */
static void
events_replay(struct events_sub *s)
{
	struct events *ev = s->ev;
	int burst = 0;

	for (;;) {
		uint64_t dropped = ev->hist.dropped_upto;
		struct events_rec *a = NULL, *b = NULL, *r;
		size_t i;

		if (s->output && ev->out.dropped_upto > dropped)
			dropped = ev->out.dropped_upto;
		if (!s->gap && dropped >= s->cursor) {
			if (s->paced) {
				events_overflow(s);
				return;
			}
			s->gap = true;
			s->gap_seq = dropped;
		}
		if (s->gap) {
			events_send_marker(s, "gap", s->gap_seq);
			if (s->cursor <= s->gap_seq)
				s->cursor = s->gap_seq + 1;
			s->gap = false;
		}
		if (s->cursor > ev->seq) {
			s->live = true;
			s->paced = false;
			return;
		}
		if (s->sink->queued(s->sink_arg) > EVENTS_REPLAY_HIGH) {
			s->blocked = true;
			s->sink->wait_writable(s->sink_arg);
			return;
		}
		if (++burst > EVENTS_REPLAY_BURST) {
			event_active(s->replay_ev, 0, 0);
			return;
		}
		if ((i = hist_find(&ev->hist, s->cursor)) < ev->hist.len)
			a = hist_at(&ev->hist, i);
		if (s->output &&
		    (i = hist_find(&ev->out, s->cursor)) < ev->out.len)
			b = hist_at(&ev->out, i);
		if (a == NULL && b == NULL) {
			s->cursor = ev->seq + 1;
			continue;
		}
		r = a == NULL ? b : b == NULL ? a : a->seq < b->seq ? a : b;
		events_send_rec(s, r);
		s->cursor = r->seq + 1;
	}
}

static void
events_replay_cb(evutil_socket_t fd, short what, void *arg)
{
	events_replay(arg);
}

struct events_sub *
events_subscribe(struct events *ev, void *owner, const struct events_sink *sink,
    void *sink_arg, const struct events_filter *f, struct proto_err *err)
{
	struct events_sub *s;
	size_t mine = 0;

	if (ev->nsubs >= EVENTS_MAX_SUBS) {
		proto_errf(err, PROTO_LIMIT,
		    "too many subscriptions in the "
		    "daemon (limit %d)",
		    EVENTS_MAX_SUBS);
		return NULL;
	}
	LIST_FOREACH(s, &ev->subs, entry)
		if (s->owner == owner)
			mine++;
	if (mine >= EVENTS_MAX_OWNER_SUBS) {
		proto_errf(err, PROTO_LIMIT,
		    "too many subscriptions on this "
		    "connection (limit %d)",
		    EVENTS_MAX_OWNER_SUBS);
		return NULL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->path = strdup(f->path)) == NULL ||
	    (s->replay_ev = event_new(ev->base, -1, 0, events_replay_cb, s)) ==
	        NULL) {
		if (s != NULL)
			free(s->path);
		free(s);
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return NULL;
	}
	s->ev = ev;
	s->id = ev->next_sub_id++;
	s->owner = owner;
	s->sink = sink;
	s->sink_arg = sink_arg;
	s->path_len = strlen(s->path);
	s->output = f->output;
	s->live = !f->has_since;
	if (f->has_since) {
		/* A since past the sequence means the sequence began again
		 * (another daemon): what happened meanwhile is unknown. */
		if (f->since > ev->seq) {
			s->gap = true;
			s->gap_seq = ev->seq;
			s->cursor = ev->seq + 1;
		} else {
			s->cursor = f->since + 1;
		}
		event_active(s->replay_ev, 0, 0);
	}
	LIST_INSERT_HEAD(&ev->subs, s, entry);
	ev->nsubs++;
	if (s->output)
		ev->out_subs++;
	return s;
}

int
events_unsubscribe(struct events *ev, void *owner, uint64_t id,
    struct proto_err *err)
{
	struct events_sub *s;

	LIST_FOREACH(s, &ev->subs, entry)
		if (s->id == id && s->owner == owner) {
			events_sub_free(s);
			return 0;
		}
	return proto_errf(err, PROTO_NOT_FOUND,
	    "no subscription %llu on "
	    "this connection",
	    (unsigned long long)id);
}

void
events_owner_gone(struct events *ev, void *owner)
{
	struct events_sub *s, *next;

	if (ev == NULL)
		return;
	for (s = LIST_FIRST(&ev->subs); s != NULL; s = next) {
		next = LIST_NEXT(s, entry);
		if (s->owner == owner)
			events_sub_free(s);
	}
}

void
events_owner_writable(struct events *ev, void *owner)
{
	struct events_sub *s;

	if (ev == NULL)
		return;
	LIST_FOREACH(s, &ev->subs, entry)
		if (s->owner == owner && s->blocked) {
			s->blocked = false;
			event_active(s->replay_ev, 0, 0);
		}
}

/* Takes down one event: no formatting here, it may never be sent. NULL
 * when out of memory. */
static struct events_rec *
events_take(struct events *ev, const struct tree_event *te, const char *data,
    size_t len)
{
	const struct node *n = te->node;
	char path[PROTO_PATH_MAX];
	struct events_rec *r;
	struct timeval tv;
	size_t plen = node_path_len(n, path, sizeof path);

	if ((r = malloc(sizeof *r + plen + 1 + len)) == NULL)
		return NULL;
	/* The loop's time: events of one turn share a timestamp, which
	 * costs no clock read per event. */
	event_base_gettimeofday_cached(ev->base, &tv);
	r->seq = ev->seq + 1;
	r->ts_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	r->id = n->id;
	r->cause = NULL;
	r->body = NULL;
	r->body_len = 0;
	r->path_len = (uint32_t)plen;
	r->data_len = (uint32_t)len;
	r->restarts = n->restarts;
	r->type = (uint8_t)te->type;
	r->from = (uint8_t)te->from;
	r->to = (uint8_t)te->to;
	r->failures = te->failures;
	if (te->type == TREE_EV_HEALTH) {
		r->from = te->health_from;
		r->to = te->health_to;
	}
	r->kind = n->spec->kind;
	r->stream = te->stream;
	r->run = te->run;
	/* A cause says why a node stopped; a node that is starting or
	 * running again has none. */
	if (te->type == TREE_EV_STATE && te->to != NODE_STARTING &&
	    te->to != NODE_RUNNING)
		r->cause = cause_ref(n->cause);
	memcpy(r->text, path, plen + 1);
	if (len > 0)
		memcpy(r->text + plen + 1, data, len);
	return r;
}

static void
events_fan_out(struct events *ev, struct events_rec *r, bool output)
{
	struct events_sub *s, *next;

	for (s = LIST_FIRST(&ev->subs); s != NULL; s = next) {
		next = LIST_NEXT(s, entry);
		if (s->paced && !s->live &&
		    (ev->hist.dropped_upto >= s->cursor ||
		        (s->output && ev->out.dropped_upto >= s->cursor))) {
			/* The history has moved past what it has not read. */
			events_overflow(s);
			continue;
		}
		if (!s->live || (output && !s->output) ||
		    !events_sub_matches(s, r->text, r->path_len))
			continue;
		if (s->sink->queued(s->sink_arg) > EVENTS_REPLAY_HIGH) {
			/* Behind: stop queueing for it and serve it from the
			 * history as it reads, so what it has not read costs
			 * no memory of its own. r is in the history. */
			s->live = false;
			s->paced = true;
			s->cursor = r->seq;
			s->blocked = true;
			s->sink->wait_writable(s->sink_arg);
			continue;
		}
		events_send_rec(s, r);
	}
}

static void
events_record(struct events *ev, const struct tree_event *te, const char *data,
    size_t len)
{
	bool output = te->type == TREE_EV_OUTPUT;
	struct events_rec *r;

	if ((r = events_take(ev, te, data, len)) == NULL) {
		log_warnx("out of memory recording an event");
		return;
	}
	ev->seq = r->seq;
	hist_push(output ? &ev->out : &ev->hist, r);
	/* r stays valid: the push evicts only older records. */
	events_fan_out(ev, r, output);
}

void
events_tree_event(struct events *ev, const struct tree_event *te)
{
	const char *data = te->data;
	size_t len = te->len, n;

	if (ev == NULL)
		return;
	if (te->type == TREE_EV_STATUS || te->type == TREE_EV_HEALTH) {
		events_record(ev, te, data, data != NULL ? len : 0);
		return;
	}
	if (te->type != TREE_EV_OUTPUT) {
		events_record(ev, te, NULL, 0);
		return;
	}
	/* Output nobody asked for is not taken down: a flood would cost a
	 * copy of every byte. It is kept while someone watches output and a
	 * while after, for a watcher that comes back with since. */
	if (ev->out_subs == 0 && clock_mono_ms() >= ev->out_linger_mono)
		return;
	/* Big output goes in chunks, cut between UTF-8 sequences. */
	while (len > 0) {
		n = len;
		if (n > EVENTS_OUTPUT_CHUNK) {
			const char *nl = memrchr(data, '\n',
			    EVENTS_OUTPUT_CHUNK);

			/* Whole lines when there are any: a line is cut only
			 * when it is longer than a chunk. */
			n = EVENTS_OUTPUT_CHUNK;
			if (nl != NULL) {
				n = (size_t)(nl - data) + 1;
				events_record(ev, te, data, n);
				data += n;
				len -= n;
				continue;
			}
			for (int k = 0;
			     k < 3 && ((unsigned char)data[n] & 0xc0) == 0x80;
			     k++)
				n--;
		}
		events_record(ev, te, data, n);
		data += n;
		len -= n;
	}
}
