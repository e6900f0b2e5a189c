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

#include "journal.h"
#include "lines.h"
#include "log.h"

/* An entry: the fields around a line of at most LINES_MAX bytes. */
#define JOURNAL_ENTRY_MAX (LINES_MAX + 8192)

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
	snprintf(num, sizeof num, "%d", prio);
	at = journal_field(out, size, at, "PRIORITY", num, strlen(num));
	at = journal_field(out, size, at, "SYSLOG_IDENTIFIER", l->name,
	    strlen(l->name));
	at = journal_field(out, size, at, "ARBOR_PATH", l->path,
	    strlen(l->path));
	snprintf(num, sizeof num, "%" PRIu64, l->id);
	at = journal_field(out, size, at, "ARBOR_ID", num, strlen(num));
	if (l->pid > 0) {
		snprintf(num, sizeof num, "%ld", (long)l->pid);
		at = journal_field(out, size, at, "ARBOR_PID", num,
		    strlen(num));
	}
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
	/* Tests shrink it to force the memfd way; journald's own clients
	 * grow it (the kernel caps it at wmem_max). */
	{
		int v = sndbuf != NULL ? atoi(sndbuf) : 8 * 1024 * 1024;

		if (v > 0)
			setsockopt(jr.fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
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
	mh.msg_name = &jr.sa;
	mh.msg_namelen = jr.salen;
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
	mh.msg_name = &jr.sa;
	mh.msg_namelen = jr.salen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (sendmsg(jr.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
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
	if (errno != EAGAIN && !jr.warned) {
		jr.warned = true;
		log_warn("journal %s: cannot send (said once; lines are "
		         "dropped and counted)",
		    jr.sa.sun_path);
	}
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
	if (jr.fd != -1)
		close(jr.fd);
	jr.fd = -1;
}
