/*
 * A tiny JSON-RPC client for the integration tests: connects to the
 * socket, sends each argument as one line, and prints each response line
 * before sending the next. Exit 3 when nothing listens, 1 on a lost answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int
read_line(int fd)
{
	char c;
	ssize_t r;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		putchar(c);
		if (c == '\n')
			return 0;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	int fd;

	if (argc < 3 || strcmp(argv[1], "-s") != 0) {
		fprintf(stderr, "usage: rpc -s SOCKET JSON...\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[2]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		return 3;
	for (int i = 3; i < argc; i++) {
		size_t len = strlen(argv[i]);

		if (write(fd, argv[i], len) != (ssize_t)len ||
		    write(fd, "\n", 1) != 1)
			return 1;
		if (read_line(fd) == -1)
			return 1;
		fflush(stdout);
	}
	close(fd);
	return 0;
}
