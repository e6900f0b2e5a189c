/* A stand-in for journald in tests (journal-recv.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal-recv.h"

int
jr_bind(const char *path)
{
	struct sockaddr_un sa;
	int fd, big = 4 * 1024 * 1024;

	if (strlen(path) >= sizeof sa.sun_path)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The entry at buf (up to an empty line or len); *used: its bytes, the
 * empty line included. */
static json_t *
jr_parse_one(const char *buf, size_t len, size_t *used)
{
	json_t *o = json_object();
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		const char *eq = memchr(buf + i, '=', len - i);
		char name[256];
		size_t nlen;

		if (nl == NULL)
			goto bad;
		if (nl == buf + i) {
			i++; /* the empty line that ends an entry */
			break;
		}
		if (eq != NULL && eq < nl) {
			nlen = (size_t)(eq - (buf + i));
			if (nlen >= sizeof name)
				goto bad;
			memcpy(name, buf + i, nlen);
			name[nlen] = '\0';
			json_object_set_new(o, name,
			    json_stringn_nocheck(eq + 1,
			        (size_t)(nl - eq - 1)));
			i = (size_t)(nl - buf) + 1;
		} else {
			uint64_t vlen = 0;

			nlen = (size_t)(nl - (buf + i));
			if (nlen >= sizeof name || (size_t)(nl - buf) + 9 > len)
				goto bad;
			memcpy(name, buf + i, nlen);
			name[nlen] = '\0';
			for (int k = 7; k >= 0; k--)
				vlen = vlen << 8 | (unsigned char)nl[1 + k];
			i = (size_t)(nl - buf) + 9;
			if (vlen > len - i || i + vlen >= len ||
			    buf[i + vlen] != '\n')
				goto bad;
			json_object_set_new(o, name,
			    json_stringn_nocheck(buf + i, (size_t)vlen));
			i += (size_t)vlen + 1;
		}
	}
	if (json_object_size(o) == 0)
		goto bad;
	*used = i;
	return o;
bad:
	json_decref(o);
	return NULL;
}

json_t *
jr_parse(const char *buf, size_t len)
{
	size_t used;
	json_t *o = jr_parse_one(buf, len, &used);

	if (o != NULL && used != len) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* What is left of the last datagram (or memfd): the entries after the
 * one jr_next returned. */
static struct {
	int fd;
	char buf[1 << 20];
	size_t len, at;
	bool memfd;
	unsigned datagrams;
} pend = { .fd = -1 };

static json_t *
jr_pending(void)
{
	size_t used;
	json_t *o;

	if ((o = jr_parse_one(pend.buf + pend.at, pend.len - pend.at,
	         &used)) == NULL) {
		pend.at = pend.len;
		return NULL;
	}
	pend.at += used;
	if (pend.memfd)
		json_object_set_new(o, "_MEMFD", json_string("1"));
	return o;
}

unsigned
jr_datagrams(void)
{
	return pend.datagrams;
}

json_t *
jr_next(int fd, int timeout_ms)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct msghdr mh;
	struct iovec iov = { pend.buf, sizeof pend.buf };
	struct cmsghdr *c;
	ssize_t r;

	if (pend.fd == fd && pend.at < pend.len)
		return jr_pending();
	pend.fd = fd;
	pend.len = pend.at = 0;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return NULL;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof ctl.b;
	if ((r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) < 0)
		return NULL;
	pend.datagrams++;
	pend.len = (size_t)r;
	pend.memfd = false;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_type == SCM_RIGHTS) {
		struct stat st;
		int mfd;

		memcpy(&mfd, CMSG_DATA(c), sizeof mfd);
		if (fstat(mfd, &st) == -1 ||
		    st.st_size > (off_t)sizeof pend.buf ||
		    pread(mfd, pend.buf, (size_t)st.st_size, 0) !=
		        st.st_size) {
			close(mfd);
			pend.len = 0;
			return NULL;
		}
		close(mfd);
		pend.len = (size_t)st.st_size;
		pend.memfd = true;
	}
	return jr_pending();
}
