/* Workers' lines to journald (journal.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "journal.h"
#include "lines.h"
#include "log.h"

/* An entry: the fields around a line of at most LINES_MAX bytes. */
#define JOURNAL_ENTRY_MAX (LINES_MAX + 8192)
#define JOURNAL_VLEN      64 /* datagrams per sendmmsg */
/*
 * journald reads any number of entries from one datagram, each ended by
 * an empty line (journald-native.c loops over them): queued entries are
 * packed up to this many bytes a datagram, since the kernel's cost is
 * per datagram (about 1 us here), not per byte.
 */
#define JOURNAL_DGRAM_MAX (32 * 1024)

struct journal_entry {
	size_t off, len;   /* in the queue's buffer, the empty line included */
	uint64_t *dropped; /* borrowed: the worker's count; NULL: none */
};

/* The queue (journal.h). */
static struct {
	struct event_base *base; /* borrowed; NULL: not attached */
	struct event *flush_ev;  /* owned: end of the loop turn */
	struct event *write_ev;  /* owned: the socket drained; with fd */
	char *buf;               /* owned: the entries, encoded */
	size_t len, cap;
	struct journal_entry *e; /* owned */
	size_t n, cap_e;
	bool flush_due; /* flush_ev is active */
	bool waiting;   /* for write_ev */
} jq;

static struct {
	struct sockaddr_un sa;
	socklen_t salen;
	int fd; /* owned; -1 until first use */
	bool configured;
	bool default_on;
	bool warned;
	struct journal_stats st;
} jr = { .fd = -1 };

size_t
journal_field(char *out, size_t size, size_t at, const char *name,
    const char *value, size_t len)
{
	size_t nlen = strlen(name), need = nlen + 1 + len + 1;
	bool bin = memchr(value, '\n', len) != NULL;

	if (bin)
		need += 8;
	if (at + need > size)
		return at + need;
	memcpy(out + at, name, nlen);
	at += nlen;
	if (bin) {
		uint64_t le = 0;
		unsigned char *b = (unsigned char *)&le;

		out[at++] = '\n';
		for (int i = 0; i < 8; i++)
			b[i] = (unsigned char)((uint64_t)len >> (8 * i));
		memcpy(out + at, &le, 8);
		at += 8;
	} else {
		out[at++] = '=';
	}
	memcpy(out + at, value, len);
	at += len;
	out[at++] = '\n';
	return at;
}

/* v in decimal into buf (24 bytes); its length. snprintf costs more than
 * the rest of an entry. */
static size_t
journal_num(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, len;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	for (len = 0; len < n; len++)
		buf[len] = tmp[n - 1 - len];
	return len;
}

size_t
journal_encode(const struct journal_line *l, char *out, size_t size)
{
	const char *text = l->text;
	size_t len = l->len, at = 0;
	int prio = l->stream == 1 ? 3 : 6;
	char num[32];

	/* SyslogLevelPrefix: "<N>" with N from 0 to 7. */
	if (len >= 3 && text[0] == '<' && text[1] >= '0' && text[1] <= '7' &&
	    text[2] == '>') {
		prio = text[1] - '0';
		text += 3;
		len -= 3;
	}
	at = journal_field(out, size, at, "MESSAGE", text, len);
	num[0] = (char)('0' + prio);
	at = journal_field(out, size, at, "PRIORITY", num, 1);
	at = journal_field(out, size, at, "SYSLOG_IDENTIFIER", l->name,
	    strlen(l->name));
	at = journal_field(out, size, at, "ARBOR_PATH", l->path,
	    strlen(l->path));
	at = journal_field(out, size, at, "ARBOR_ID", num,
	    journal_num(num, l->id));
	if (l->pid > 0)
		at = journal_field(out, size, at, "ARBOR_PID", num,
		    journal_num(num, (uint64_t)l->pid));
	at = journal_field(out, size, at, "ARBOR_STREAM",
	    l->stream == 1 ? "stderr" : "stdout", 6);
	if (l->cut)
		at = journal_field(out, size, at, "ARBOR_CUT", "1", 1);
	return at;
}

int
journal_configure(const char *path)
{
	const char *env = getenv("ARBOR_JOURNAL_SOCKET");

	if (path == NULL)
		path = env != NULL && env[0] != '\0' ? env : JOURNAL_SOCKET;
	if (strlen(path) >= sizeof jr.sa.sun_path)
		return -1;
	journal_close();
	memset(&jr.sa, 0, sizeof jr.sa);
	jr.sa.sun_family = AF_UNIX;
	memcpy(jr.sa.sun_path, path, strlen(path) + 1);
	jr.salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path) + 1);
	jr.default_on = getenv("JOURNAL_STREAM") != NULL ||
	    getenv("INVOCATION_ID") != NULL;
	jr.configured = true;
	return 0;
}

bool
journal_default_on(void)
{
	if (!jr.configured)
		journal_configure(NULL);
	return jr.default_on;
}

const char *
journal_socket_path(void)
{
	if (!jr.configured)
		journal_configure(NULL);
	return jr.sa.sun_path;
}

static void journal_write_cb(evutil_socket_t fd, short what, void *arg);

static int
journal_open(void)
{
	const char *sndbuf = getenv("ARBOR_JOURNAL_SNDBUF");

	if (jr.fd != -1)
		return 0;
	if (!jr.configured)
		journal_configure(NULL);
	jr.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (jr.fd == -1)
		return -1;
	/* Connected: no path lookup per datagram, and the socket polls
	 * writable once journald's queue has room. */
	if (connect(jr.fd, (struct sockaddr *)&jr.sa, jr.salen) == -1) {
		close(jr.fd);
		jr.fd = -1;
		return -1;
	}
	/* Tests shrink it to force the memfd way; journald's own clients
	 * grow it (the kernel caps it at wmem_max). */
	{
		int v = sndbuf != NULL ? atoi(sndbuf) : 8 * 1024 * 1024;

		if (v > 0)
			setsockopt(jr.fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	}
	if (jq.base != NULL &&
	    (jq.write_ev = event_new(jq.base, jr.fd, EV_WRITE, journal_write_cb,
	         NULL)) == NULL) {
		journal_close();
		return -1;
	}
	return 0;
}

/* The entry in a sealed memfd, its fd passed alone. */
static int
journal_send_memfd(const char *buf, size_t len)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh;
	struct cmsghdr *c;
	int fd, rc = -1;

	if ((fd = memfd_create("journal-data",
	         MFD_ALLOW_SEALING | MFD_CLOEXEC)) == -1)
		return -1;
	if (write(fd, buf, len) != (ssize_t)len ||
	    fcntl(fd, F_ADD_SEALS,
	        F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == -1)
		goto out;
	memset(&mh, 0, sizeof mh);
	memset(&ctl, 0, sizeof ctl);
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof ctl.b;
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	if (sendmsg(jr.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
		rc = 0;
out:
	close(fd);
	return rc;
}

/* After a failed send: journald was restarted (its socket is a new one)
 * and a new connection could be made. */
static bool
journal_gone(void)
{
	if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ENOENT)
		return false;
	journal_close();
	if (journal_open() == 0)
		return true;
	errno = ECONNREFUSED;
	return false;
}

static void
journal_cant(void)
{
	if (errno != EAGAIN && !jr.warned) {
		jr.warned = true;
		log_warn("journal %s: cannot send (said once; lines are "
		         "dropped and counted)",
		    jr.sa.sun_path);
	}
}

bool
journal_send(const struct journal_line *l)
{
	static char buf[JOURNAL_ENTRY_MAX];
	struct msghdr mh;
	struct iovec iov;
	size_t len;

	len = journal_encode(l, buf, sizeof buf);
	if (len > sizeof buf || journal_open() == -1)
		goto drop;
	iov.iov_base = buf;
	iov.iov_len = len;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (sendmsg(jr.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0 ||
	    (journal_gone() &&
	        sendmsg(jr.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)) {
		jr.st.sent++;
		return true;
	}
	/* Too big for a datagram: the memfd way. A full socket is not
	 * waited for (EAGAIN): the line is dropped. */
	if ((errno == EMSGSIZE || errno == ENOBUFS) &&
	    journal_send_memfd(buf, len) == 0) {
		jr.st.sent++;
		jr.st.memfd++;
		return true;
	}
	journal_cant();
drop:
	jr.st.dropped++;
	return false;
}

const struct journal_stats *
journal_stats(void)
{
	return &jr.st;
}

void
journal_close(void)
{
	if (jq.write_ev != NULL)
		event_free(jq.write_ev);
	jq.write_ev = NULL;
	jq.waiting = false;
	if (jr.fd != -1)
		close(jr.fd);
	jr.fd = -1;
}

static void
journal_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	jq.flush_due = false;
	journal_flush();
}

static void
journal_write_cb(evutil_socket_t fd, short what, void *arg)
{
	jq.waiting = false;
	journal_flush();
}

int
journal_attach(struct event_base *base)
{
	if (jq.base != NULL)
		journal_detach();
	jq.base = base;
	if ((jq.flush_ev = event_new(base, -1, 0, journal_flush_cb, NULL)) ==
	    NULL) {
		jq.base = NULL;
		return -1;
	}
	return 0;
}

static void
journal_drop_entry(const struct journal_entry *e)
{
	jr.st.dropped++;
	if (e->dropped != NULL)
		(*e->dropped)++;
}

void
journal_detach(void)
{
	for (size_t i = 0; i < jq.n; i++)
		journal_drop_entry(&jq.e[i]);
	journal_close();
	if (jq.flush_ev != NULL)
		event_free(jq.flush_ev);
	free(jq.buf);
	free(jq.e);
	memset(&jq, 0, sizeof jq);
}

void
journal_forget(const uint64_t *dropped)
{
	for (size_t i = 0; i < jq.n; i++)
		if (jq.e[i].dropped == dropped)
			jq.e[i].dropped = NULL;
}

/* Room for more bytes and one more entry; false when the queue is full. */
static bool
journal_room(size_t more)
{
	if (jq.n == jq.cap_e) {
		size_t cap = jq.cap_e ? 2 * jq.cap_e : 64;
		struct journal_entry *e;

		if (jq.n >= JOURNAL_QUEUE_MAX ||
		    (e = realloc(jq.e, cap * sizeof *e)) == NULL)
			return false;
		jq.e = e;
		jq.cap_e = cap;
	}
	if (jq.len + more > jq.cap) {
		size_t cap = jq.cap ? jq.cap : 64 * 1024;
		char *b;

		if (jq.len + more > JOURNAL_QUEUE_BYTES)
			return false;
		while (cap < jq.len + more)
			cap *= 2;
		if ((b = realloc(jq.buf, cap)) == NULL)
			return false;
		jq.buf = b;
		jq.cap = cap;
	}
	return true;
}

bool
journal_queue(const struct journal_line *l, uint64_t *dropped)
{
	size_t need;

	if (jq.base == NULL)
		return journal_send(l);
	/* A slot, and room for a line of usual length. */
	if (!journal_room(512))
		goto drop;
	need = journal_encode(l, jq.buf + jq.len, jq.cap - jq.len) + 1;
	if (need > jq.cap - jq.len) {
		if (need > JOURNAL_ENTRY_MAX || !journal_room(need))
			goto drop;
		journal_encode(l, jq.buf + jq.len, jq.cap - jq.len);
	}
	/* The empty line that ends the entry in a datagram of several. */
	jq.buf[jq.len + need - 1] = '\n';
	jq.e[jq.n].off = jq.len;
	jq.e[jq.n].len = need;
	jq.e[jq.n].dropped = dropped;
	jq.n++;
	jq.len += need;
	if (jq.len >= JOURNAL_VLEN * JOURNAL_DGRAM_MAX / 2 && !jq.waiting)
		journal_flush();
	else if (!jq.flush_due && !jq.waiting) {
		jq.flush_due = true;
		event_active(jq.flush_ev, 0, 0);
	}
	return true;
drop:
	jr.st.dropped++;
	return false;
}

/* The first done entries are out (sent or dropped). */
static void
journal_shift(size_t done)
{
	size_t off;

	if (done == jq.n) {
		jq.n = jq.len = 0;
		return;
	}
	off = jq.e[done].off;
	memmove(jq.buf, jq.buf + off, jq.len - off);
	jq.len -= off;
	memmove(jq.e, jq.e + done, (jq.n - done) * sizeof *jq.e);
	jq.n -= done;
	for (size_t i = 0; i < jq.n; i++)
		jq.e[i].off -= off;
}

/* The entries [from, to) are out one way or another. */
static void
journal_drop_range(size_t from, size_t to)
{
	for (; from < to; from++)
		journal_drop_entry(&jq.e[from]);
}

/*
 * Packs the entries from i on into at most JOURNAL_VLEN datagrams of at
 * most JOURNAL_DGRAM_MAX bytes (an entry larger than that alone); entries
 * sit back to back in the buffer, so a datagram is one slice of it.
 * first[k] is the first entry of datagram k, first[n] the one after the
 * last. Returns n.
 */
static size_t
journal_pack(size_t i, struct mmsghdr *mm, struct iovec *iov, size_t *first)
{
	size_t k = 0;

	while (k < JOURNAL_VLEN && i < jq.n) {
		size_t bytes = jq.e[i].len;

		first[k] = i++;
		while (i < jq.n && bytes + jq.e[i].len <= JOURNAL_DGRAM_MAX)
			bytes += jq.e[i++].len;
		iov[k].iov_base = jq.buf + jq.e[first[k]].off;
		iov[k].iov_len = bytes;
		memset(&mm[k], 0, sizeof mm[k]);
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
		k++;
	}
	first[k] = i;
	return k;
}

void
journal_flush(void)
{
	struct mmsghdr mm[JOURNAL_VLEN];
	struct iovec iov[JOURNAL_VLEN];
	size_t first[JOURNAL_VLEN + 1];
	size_t i = 0;
	bool retried = false;

	if (jq.n == 0 || jq.waiting)
		return;
	if (journal_open() == -1) {
		journal_cant();
		journal_drop_range(0, jq.n);
		i = jq.n;
	}
	while (i < jq.n) {
		size_t k = journal_pack(i, mm, iov, first);
		int r;

		if ((r = sendmmsg(jr.fd, mm, (unsigned)k,
		         MSG_NOSIGNAL | MSG_DONTWAIT)) > 0) {
			jr.st.sent += first[r] - i;
			i = first[r];
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && jq.write_ev != NULL &&
		    event_add(jq.write_ev, NULL) == 0) {
			/* journald is behind: the rest waits for it. */
			jq.waiting = true;
			break;
		}
		/* Too big for a datagram (a small SO_SNDBUF): the memfd
		 * way, which journald reads the same. */
		if ((errno == EMSGSIZE || errno == ENOBUFS) &&
		    journal_send_memfd(iov[0].iov_base, iov[0].iov_len) == 0) {
			jr.st.sent += first[1] - i;
			jr.st.memfd += first[1] - i;
			i = first[1];
			continue;
		}
		if (!retried && journal_gone()) {
			retried = true;
			continue;
		}
		journal_cant();
		if (jr.fd == -1) {
			/* No journal: the rest goes too. */
			journal_drop_range(i, jq.n);
			i = jq.n;
			break;
		}
		journal_drop_range(i, first[1]);
		i = first[1];
	}
	journal_shift(i);
}
