/*
 * A worker for test_notify: speaks sd_notify to $NOTIFY_SOCKET as a
 * script of actions, one per argument, done in order:
 *
 *   send:TEXT        one datagram (TEXT as given: "READY=1\nSTATUS=x")
 *   sendfd:TEXT      the same with an fd (/dev/null) passed along
 *   pet:MS:N         N datagrams "WATCHDOG=1", MS apart
 *   sleep:MS         sleep (MS < 0: until killed)
 *   env:NAME         print NAME=value (or NAME unset) on stdout
 *   exit:N           exit with code N
 *   exec:PROG ARGS.. exec the rest of the arguments
 *
 * With no action left it sleeps until killed. "{child}" in TEXT is the
 * pid of the last background child started by a shell (passed as
 * $CHILD in the environment).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
expand(const char *in, char *out, size_t size)
{
	const char *child = getenv("CHILD");
	size_t o = 0;

	while (*in != '\0' && o + 1 < size) {
		if (strncmp(in, "{child}", 7) == 0 && child != NULL) {
			o += (size_t)snprintf(out + o, size - o, "%s", child);
			in += 7;
			continue;
		}
		out[o++] = *in++;
	}
	out[o < size ? o : size - 1] = '\0';
}

static int
send_msg(const char *text, int with_fd)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	char buf[8192];
	socklen_t len;
	int fd, pass = -1, rc;

	if (e == NULL || strlen(e) >= sizeof sa.sun_path) {
		fprintf(stderr, "notify: NOTIFY_SOCKET not set\n");
		return -1;
	}
	expand(text, buf, sizeof buf);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, e, strlen(e));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(e));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	iov.iov_base = buf;
	iov.iov_len = strlen(buf);
	memset(&mh, 0, sizeof mh);
	mh.msg_name = &sa;
	mh.msg_namelen = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (with_fd) {
		struct cmsghdr *c;

		pass = open("/dev/null", O_RDONLY | O_CLOEXEC);
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof ctl.b;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof pass);
	}
	rc = sendmsg(fd, &mh, MSG_NOSIGNAL) == -1 ? -1 : 0;
	if (rc == -1)
		perror("notify: sendmsg");
	if (pass != -1)
		close(pass);
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "send:", 5) == 0) {
			if (send_msg(a + 5, 0) == -1)
				return 2;
		} else if (strncmp(a, "sendfd:", 7) == 0) {
			if (send_msg(a + 7, 1) == -1)
				return 2;
		} else if (strncmp(a, "pet:", 4) == 0) {
			long ms = atol(a + 4), n;
			const char *c = strchr(a + 4, ':');

			n = c != NULL ? atol(c + 1) : 1;
			for (long k = 0; k < n; k++) {
				if (send_msg("WATCHDOG=1", 0) == -1)
					return 2;
				nap(ms);
			}
		} else if (strncmp(a, "sleep:", 6) == 0) {
			long ms = atol(a + 6);

			if (ms < 0)
				for (;;)
					pause();
			nap(ms);
		} else if (strncmp(a, "env:", 4) == 0) {
			const char *v = getenv(a + 4);

			if (v != NULL)
				printf("%s=%s\n", a + 4, v);
			else
				printf("%s unset\n", a + 4);
		} else if (strncmp(a, "exit:", 5) == 0) {
			return atoi(a + 5);
		} else if (strncmp(a, "exec:", 5) == 0) {
			argv[i] = (char *)a + 5;
			execvp(argv[i], argv + i);
			perror("notify: exec");
			return 127;
		} else {
			fprintf(stderr, "notify: unknown action %s\n", a);
			return 2;
		}
	}
	for (;;)
		pause();
}
