/*
 * A worker's output: its stdout and stderr pipes, read apart, cut into
 * lines (lines.c), each line stamped with its time and run and kept in the
 * stream's ring, sent to journald and appended to the log file as the
 * node's effective `log` settings say, and announced to watchers as an
 * output event of whole lines. Nothing here waits: a sink that cannot
 * take a line drops it and counts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "exec-int.h"
#include "ident.h"
#include "spec-ident.h"
#include "journal.h"
#include "log.h"
#include "logfile.h"
#include "node.h"
#include "spec-log.h"
#include "timer.h"
#include "tree.h"
#include "worker.h"

#define EXEC_READ_MAX   (1024 * 1024) /* per read */
#define EXEC_PIPE_SMALL (64 * 1024)   /* a pipe's size at first */
#define EXEC_CUT_MARK   " [cut]"
/* A stream that trickles (a read got less than EXEC_TRICKLE) is read on a
 * tick every EXEC_TICK_MS instead of on every write: a thousand workers
 * printing a line every 10 ms cost a wakeup per tick, not per line. One
 * that goes quiet (nothing on a tick) or gets chatty (EXEC_CHATTY on a
 * tick) is read on each write again. */
#define EXEC_TICK_MS    100
#define EXEC_TRICKLE    (4 * 1024)
#define EXEC_CHATTY     (16 * 1024)
#define EXEC_TICK_READS 16 /* reads of a stream per tick, at most */

/* The ticking streams and their timer (created on first use). */
static struct {
	LIST_HEAD(, exec_stream) streams;
	struct event *ev; /* owned */
} tick = { LIST_HEAD_INITIALIZER(tick.streams), NULL };

/* What one read became: its lines, newline-ended, for the file and the
 * watchers. Reused from read to read. */
static struct {
	char *buf;
	size_t len, cap;
	int64_t t_ms;              /* when it was read */
	char path[PROTO_PATH_MAX]; /* the node's, when it goes to the journal */
	bool failed;
	/* While every line so far is plain and came from the read buffer,
	 * they are that buffer's first `direct` bytes as they are: nothing
	 * is copied. */
	const char *in; /* the read buffer; NULL: copying */
	size_t in_end;  /* where its complete lines end */
	size_t direct;  /* bytes of in that are lines so far */
	bool copying;
} batch;

/* The owner of a node's log files: the user and group it runs as (its
 * own or inherited `user`/`group`), else arbord's. A user that no longer
 * resolves leaves arbord's: the start itself fails then. */
static void
log_owner(const struct node *n, uid_t *uid, gid_t *gid)
{
	struct spec_ident eff;
	struct ident_creds cr = { 0 };
	struct proto_err err;

	*uid = geteuid();
	*gid = getegid();
	ident_effective(n->parent, n->spec, &eff);
	if (ident_resolve(&eff, &cr, &err) == 0) {
		if (cr.set_uid)
			*uid = cr.uid;
		if (cr.set_gid)
			*gid = cr.gid;
	}
	ident_creds_free(&cr);
}

static void
batch_add(const char *data, size_t len)
{
	if (len == 0)
		return;
	if (batch.len + len > batch.cap) {
		size_t cap = batch.cap ? batch.cap : 2 * EXEC_READ_MAX;
		char *b;

		while (cap < batch.len + len)
			cap *= 2;
		if ((b = realloc(batch.buf, cap)) == NULL) {
			batch.failed = true;
			return;
		}
		batch.buf = b;
		batch.cap = cap;
	}
	memcpy(batch.buf + batch.len, data, len);
	batch.len += len;
}

/* A new batch: of the read in (its complete lines end at in_end), or, with
 * in NULL, of lines that are copied. */
static void
batch_begin(const char *in, size_t in_end)
{
	batch.len = 0;
	batch.in = in;
	batch.in_end = in_end;
	batch.direct = 0;
	batch.copying = in == NULL;
}

/* What every line of a read shares: its time, and the node's path for the
 * journal. */
static void
batch_stamp(const struct exec *w)
{
	batch.t_ms = clock_wall_ms();
	if (w->journal)
		node_path(w->node, batch.path, sizeof batch.path);
}

void
exec_out_init(struct exec *w)
{
	for (int i = 0; i < EXEC_NSTREAMS; i++) {
		struct exec_stream *s = &w->out[i];

		memset(s, 0, sizeof *s);
		s->w = w;
		s->fd = -1;
		s->which = (uint8_t)i;
		ring_init(&s->ring, SPEC_LOG_RING);
	}
}

/* The nearest value of each field up the tree, then the defaults. */
static void
exec_out_settings(const struct node *n, struct spec_log_eff *eff)
{
	unsigned have = 0;

	memset(eff, 0, sizeof *eff);
	for (const struct node *p = n; p != NULL; p = p->parent)
		spec_log_inherit(eff, p->spec->log, &have);
	spec_log_defaults(eff, have, journal_default_on());
}

void
exec_out_begin(struct exec *w)
{
	struct spec_log_eff eff;
	uid_t uid;
	gid_t gid;

	exec_out_settings(w->node, &eff);
	w->journal = eff.journal;
	w->run++;
	for (int i = 0; i < EXEC_NSTREAMS; i++) {
		struct exec_stream *s = &w->out[i];

		/* A new size starts the ring again. */
		if (s->ring.cap != (size_t)eff.ring) {
			ring_free(&s->ring);
			ring_init(&s->ring, (size_t)eff.ring);
		}
	}
	log_owner(w->node, &uid, &gid);
	if (eff.file != NULL)
		w->out[EXEC_STDOUT].file = logfile_get(eff.file, eff.max_bytes,
		    eff.keep, uid, gid);
	if (eff.stderr_file != NULL)
		w->out[EXEC_STDERR].file = logfile_get(eff.stderr_file,
		    eff.max_bytes, eff.keep, uid, gid);
	else if (eff.file != NULL)
		w->out[EXEC_STDERR].file = logfile_get(eff.file, eff.max_bytes,
		    eff.keep, uid, gid);
}

int
exec_out_watch(struct exec *w, int out_r, int err_r)
{
	struct event_base *base = w->node->tree->base;

	w->out[EXEC_STDOUT].fd = out_r;
	w->out[EXEC_STDERR].fd = err_r;
	for (int i = 0; i < EXEC_NSTREAMS; i++) {
		struct exec_stream *s = &w->out[i];

		if ((s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST,
		         exec_out_cb, s)) == NULL ||
		    event_add(s->ev, NULL) == -1)
			return -1;
	}
	return 0;
}

/* One line: into the ring, the journal and the batch. */
static void
exec_out_line(void *arg, const char *text, size_t len, unsigned flags)
{
	struct exec_stream *s = arg;
	struct exec *w = s->w;
	struct ring_rec h;
	bool inbuf = batch.in != NULL && text >= batch.in &&
	    text < batch.in + batch.in_end;
	size_t end = inbuf ? (size_t)(text - batch.in) + len : 0;

	memset(&h, 0, sizeof h);
	h.t_ms = batch.t_ms;
	h.seq = w->ostats.lines[0] + w->ostats.lines[1];
	h.run = w->run;
	h.len = (uint32_t)len;
	h.flags = (uint8_t)flags;
	/* A line followed in this same read by a ring's worth of lines
	 * would only be pushed out again: counted, not copied. */
	if (batch.in_end >= s->ring.cap && end <= batch.in_end - s->ring.cap) {
		s->ring.lines++;
		s->ring.lost++;
	} else {
		ring_push(&s->ring, &h, text);
	}
	w->ostats.lines[s->which]++;
	if (flags & LINES_CUT)
		w->ostats.cut++;
	if (w->journal) {
		struct journal_line jl = {
			.name = w->node->spec->name,
			.path = batch.path,
			.id = w->node->id,
			.pid = w->pgid,
			.stream = s->which,
			.text = text,
			.len = len,
			.cut = (flags & LINES_CUT) != 0,
		};

		if (!journal_queue(&jl, &w->ostats.journal_dropped))
			w->ostats.journal_dropped++;
	}
	if (!batch.copying) {
		if (inbuf && flags == 0 && text == batch.in + batch.direct) {
			batch.direct = end + 1;
			return;
		}
		/* From here on, copies: the plain lines so far first. */
		batch.copying = true;
		batch_add(batch.in, batch.direct);
	}
	batch_add(text, len);
	if (flags & LINES_CUT)
		batch_add(EXEC_CUT_MARK, sizeof EXEC_CUT_MARK - 1);
	batch_add("\n", 1);
}

/* Whole lines from the read buffer, none pending before them, no step per
 * line: when none is longer than LINES_MAX they are counted, the ring gets
 * those it would keep (the others would only be pushed out again by the
 * ring's worth that follows them), and the batch takes them as they are.
 * false when some line may be long: the caller goes line by line. */
static bool
exec_out_bulk(struct exec_stream *s, const char *data, size_t len)
{
	struct exec *w = s->w;
	size_t n = lines_count_plain(data, len), kept = 0, from = 0;
	const char *p, *nl, *end = data + len;
	struct ring_rec h;
	uint64_t seq;

	if (n == (size_t)-1)
		return false;
	/* The lines that end a ring's worth or more before the end. */
	if (len > s->ring.cap &&
	    (nl = memrchr(data, '\n', len - s->ring.cap)) != NULL)
		from = (size_t)(nl - data) + 1;
	for (p = data + from; p < end; p = nl + 1, kept++)
		nl = memchr(p, '\n', (size_t)(end - p));
	s->ring.lines += n - kept;
	s->ring.lost += n - kept;
	seq = w->ostats.lines[0] + w->ostats.lines[1] + (n - kept);
	memset(&h, 0, sizeof h);
	h.t_ms = batch.t_ms;
	h.run = w->run;
	for (p = data + from; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		h.seq = seq++;
		h.len = (uint32_t)(nl - p);
		ring_push(&s->ring, &h, p);
	}
	w->ostats.lines[s->which] += n;
	batch.direct = (size_t)(end - batch.in);
	return true;
}

/* The batch to the file and the watchers. */
static void
exec_out_flush(struct exec_stream *s)
{
	struct exec *w = s->w;
	struct tree_event ev;

	const char *data = batch.copying ? batch.buf : batch.in;
	size_t len = batch.copying ? batch.len : batch.direct;

	if (batch.failed) {
		log_warnx("out of memory: output of a worker not passed on");
		batch.failed = false;
	}
	batch_begin(NULL, 0);
	if (len == 0)
		return;
	if (s->file != NULL)
		w->ostats.file_dropped += logfile_write(s->file, data, len);
	memset(&ev, 0, sizeof ev);
	ev.type = TREE_EV_OUTPUT;
	ev.node = w->node;
	ev.data = data;
	ev.len = len;
	ev.stream = s->which;
	ev.run = w->run;
	tree_emit(w->node->tree, &ev);
}

static void
exec_tick_leave(struct exec_stream *s)
{
	if (s->ticking)
		LIST_REMOVE(s, tick);
	s->ticking = false;
}

static void
exec_out_close(struct exec_stream *s)
{
	exec_tick_leave(s);
	timer_clear(&s->ev);
	exec_fd_close(&s->fd);
	batch_stamp(s->w);
	batch_begin(NULL, 0);
	lines_flush(&s->lines, exec_out_line, s);
	exec_out_flush(s);
}

ssize_t
exec_out_read(struct exec_stream *s)
{
	static char buf[EXEC_READ_MAX];
	ssize_t r;

	if (s->fd == -1)
		return -1;
	r = read(s->fd, buf, s->big ? sizeof buf : EXEC_PIPE_SMALL);
	if (r > 0) {
		/* A chatty worker filled its pipe: a bigger pipe lets it
		 * write on while the daemon is busy, and each wakeup here
		 * takes more. Quiet workers keep the small default. */
		if (r >= EXEC_PIPE_SMALL / 2 && !s->big) {
			s->big = true;
			fcntl(s->fd, F_SETPIPE_SZ, EXEC_READ_MAX);
		}
		const char *nl = memrchr(buf, '\n', (size_t)r);
		size_t end = nl != NULL ? (size_t)(nl - buf) + 1 : 0, at = 0;

		batch_stamp(s->w);
		if (s->lines.len > 0 && end > 0) {
			/* The end of a line begun in an earlier read: out on
			 * its own, so the rest can go as it is. */
			at = (size_t)((const char *)memchr(buf, '\n', end) -
			         buf) +
			    1;
			batch_begin(buf, at);
			lines_feed(&s->lines, buf, at, exec_out_line, s);
			exec_out_flush(s);
		}
		batch_begin(buf + at, end - at);
		if (end > at &&
		    (s->w->journal || !exec_out_bulk(s, buf + at, end - at)))
			lines_feed(&s->lines, buf + at, end - at, exec_out_line,
			    s);
		if ((size_t)r > end)
			lines_feed(&s->lines, buf + end, (size_t)r - end,
			    exec_out_line, s);
		exec_out_flush(s);
		return r;
	}
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	exec_out_close(s);
	return -1;
}

static void exec_tick_cb(evutil_socket_t fd, short what, void *arg);

static void
exec_tick_arm(struct event_base *base)
{
	struct timeval tv = { 0, EXEC_TICK_MS * 1000 };

	if (tick.ev == NULL &&
	    (tick.ev = evtimer_new(base, exec_tick_cb, NULL)) == NULL)
		return;
	if (!evtimer_pending(tick.ev, NULL))
		evtimer_add(tick.ev, &tv);
}

/* To the tick; on each write again when that cannot be. */
static void
exec_tick_join(struct exec_stream *s)
{
	if (s->ticking || event_del(s->ev) == -1)
		return;
	exec_tick_arm(s->w->node->tree->base);
	if (tick.ev == NULL) {
		event_add(s->ev, NULL);
		return;
	}
	LIST_INSERT_HEAD(&tick.streams, s, tick);
	s->ticking = true;
}

static void
exec_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	LIST_HEAD(, exec_stream) due = LIST_HEAD_INITIALIZER(due);
	struct exec_stream *s;

	/* Moved to a list of their own: a stream that ends may end its
	 * sibling too, which then leaves this list. */
	while ((s = LIST_FIRST(&tick.streams)) != NULL) {
		LIST_REMOVE(s, tick);
		LIST_INSERT_HEAD(&due, s, tick);
	}
	while ((s = LIST_FIRST(&due)) != NULL) {
		ssize_t r = 0, got = 0;

		LIST_REMOVE(s, tick);
		s->ticking = false;
		for (int i = 0; i < EXEC_TICK_READS; i++) {
			if ((r = exec_out_read(s)) <= 0)
				break;
			got += r;
			/* Less than asked for: the pipe was emptied. */
			if (r < (s->big ? EXEC_READ_MAX : EXEC_PIPE_SMALL))
				break;
		}
		if (r == -1) {
			exec_check(s->w);
			continue;
		}
		if (got > 0 && got < EXEC_CHATTY) {
			LIST_INSERT_HEAD(&tick.streams, s, tick);
			s->ticking = true;
		} else {
			event_add(s->ev, NULL);
		}
	}
	if (!LIST_EMPTY(&tick.streams))
		exec_tick_arm(NULL);
}

void
exec_out_teardown(void)
{
	timer_clear(&tick.ev);
}

void
exec_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec_stream *s = arg;
	ssize_t r = exec_out_read(s);

	if (r == -1)
		exec_check(s->w);
	else if (r > 0 && r < EXEC_TRICKLE)
		exec_tick_join(s);
}

bool
exec_out_done(const struct exec *w)
{
	return w->out[EXEC_STDOUT].fd == -1 && w->out[EXEC_STDERR].fd == -1;
}

void
exec_out_release(struct exec *w)
{
	for (int i = 0; i < EXEC_NSTREAMS; i++) {
		struct exec_stream *s = &w->out[i];

		if (s->fd != -1)
			exec_out_close(s);
		lines_free(&s->lines);
		logfile_put(s->file);
		s->file = NULL;
	}
}

void
exec_out_drop(struct exec *w)
{
	exec_out_release(w);
	journal_forget(&w->ostats.journal_dropped);
	for (int i = 0; i < EXEC_NSTREAMS; i++)
		ring_free(&w->out[i].ring);
}

int
exec_out_reopen(struct exec *w)
{
	int n = 0;

	for (int i = 0; i < EXEC_NSTREAMS; i++) {
		/* stdout and stderr may share one file. */
		if (w->out[i].file == NULL ||
		    (i > 0 && w->out[i].file == w->out[0].file))
			continue;
		logfile_reopen(w->out[i].file);
		n++;
	}
	return n;
}

/* worker_ops.lines */
int
exec_lines(const struct node *n, unsigned streams, int64_t since_ms,
    worker_line_fn *fn, void *arg, bool *lost)
{
	const struct exec *w = n->work;
	char *text;

	*lost = false;
	if (w == NULL)
		return 0;
	if ((text = malloc(SPEC_LOG_RING_MAX)) == NULL)
		return -1;
	for (int i = 0; i < EXEC_NSTREAMS; i++) {
		const struct ring *r = &w->out[i].ring;
		struct ring_rec h;
		uint64_t next;

		if (!(streams & (1u << i)))
			continue;
		if (r->lost > 0)
			*lost = true;
		for (uint64_t p = r->start; p < r->end; p = next) {
			struct worker_line l;

			next = ring_get(r, p, &h);
			if (h.t_ms < since_ms)
				continue;
			ring_text(r, p, &h, text);
			l.t_ms = h.t_ms;
			l.seq = h.seq;
			l.run = h.run;
			l.stream = (uint8_t)i;
			l.flags = h.flags;
			l.text = text;
			l.len = h.len;
			if (fn(arg, &l) == -1) {
				free(text);
				return -1;
			}
		}
	}
	free(text);
	return 0;
}

/* The node view's "output". */
void
exec_out_view(const struct exec *w, json_t *view)
{
	const struct exec_out_stats *o = &w->ostats;
	json_t *out = json_pack("{s:I,s:I,s:I,s:I,s:I}", "stdout_lines",
	    (json_int_t)o->lines[0], "stderr_lines", (json_int_t)o->lines[1],
	    "cut_lines", (json_int_t)o->cut, "file_dropped_bytes",
	    (json_int_t)o->file_dropped, "journal_dropped_lines",
	    (json_int_t)o->journal_dropped);

	if (out != NULL)
		json_object_set_new(view, "output", out);
}
