/*
 * procenv_get (procenv.h): a byte-at-a-time matcher over the environment,
 * fed by reads into a fixed buffer. It keeps only where it is in the
 * current entry, so a name or a value split across two reads is matched
 * the same as one that is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "procenv.h"

#define PROCENV_CHUNK 4096

enum procenv_at {
	PROCENV_NAME,  /* the entry matches name so far */
	PROCENV_VALUE, /* past "name=": bytes are the value */
	PROCENV_SKIP,  /* another variable: wait for its NUL */
};

ssize_t
procenv_get_fd(int fd, const char *name, char *val, size_t size)
{
	char buf[PROCENV_CHUNK];
	size_t nl = strlen(name), pos = 0, vlen = 0;
	enum procenv_at at = PROCENV_NAME;
	ssize_t r;

	if (nl == 0)
		return -1;
	for (;;) {
		if ((r = read(fd, buf, sizeof buf)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			char c = buf[i];

			if (c == '\0') {
				if (at == PROCENV_VALUE)
					goto found;
				at = PROCENV_NAME;
				pos = 0;
				continue;
			}
			switch (at) {
			case PROCENV_NAME:
				if (pos < nl && c == name[pos])
					pos++;
				else if (pos == nl && c == '=')
					at = PROCENV_VALUE;
				else
					at = PROCENV_SKIP;
				break;
			case PROCENV_VALUE:
				if (vlen + 1 < size)
					val[vlen] = c;
				vlen++;
				break;
			case PROCENV_SKIP:
				break;
			}
		}
	}
	/* A last entry without its NUL still counts; a read error does
	 * not make a half-read value whole. */
	if (r == 0 && at == PROCENV_VALUE)
		goto found;
	return -1;
found:
	if (size > 0)
		val[vlen < size ? vlen : size - 1] = '\0';
	return (ssize_t)vlen;
}

ssize_t
procenv_get(pid_t pid, const char *name, char *val, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = procenv_get_fd(fd, name, val, size);
	close(fd);
	return n;
}
