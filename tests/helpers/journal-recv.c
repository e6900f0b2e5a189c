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

json_t *
jr_parse(const char *buf, size_t len)
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
	return o;
bad:
	json_decref(o);
	return NULL;
}

json_t *
jr_next(int fd, int timeout_ms)
{
	static char buf[1 << 20];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct msghdr mh;
	struct iovec iov = { buf, sizeof buf };
	struct cmsghdr *c;
	ssize_t r;
	json_t *o;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return NULL;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof ctl.b;
	if ((r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) < 0)
		return NULL;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_type == SCM_RIGHTS) {
		struct stat st;
		int mfd;

		memcpy(&mfd, CMSG_DATA(c), sizeof mfd);
		if (fstat(mfd, &st) == -1 || st.st_size > (off_t)sizeof buf ||
		    pread(mfd, buf, (size_t)st.st_size, 0) != st.st_size) {
			close(mfd);
			return NULL;
		}
		close(mfd);
		if ((o = jr_parse(buf, (size_t)st.st_size)) != NULL)
			json_object_set_new(o, "_MEMFD", json_string("1"));
		return o;
	}
	return jr_parse(buf, (size_t)r);
}
