/* Log files with rotation (logfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "logfile.h"

#define LOGFILE_RETRY_MS 1000

static LIST_HEAD(, logfile) logfiles = LIST_HEAD_INITIALIZER(logfiles);
static struct logfile_totals closed; /* of files since closed */

int
logfile_name(const char *path, int64_t n, char *buf, size_t size)
{
	int len = n == 0 ? snprintf(buf, size, "%s", path) :
	                   snprintf(buf, size, "%s.%lld", path, (long long)n);

	return len < 0 || (size_t)len >= size ? -1 : 0;
}

static void
logfile_error(struct logfile *f, const char *what)
{
	f->errors++;
	/* Said once per kind of failure, not once per line. */
	if (f->last_errno != errno) {
		f->last_errno = errno;
		log_warn("log file %s: %s", f->path, what);
	}
}

static int
logfile_open(struct logfile *f)
{
	struct stat st;
	int fd;

	f->retry_ms = clock_mono_ms() + LOGFILE_RETRY_MS;
	fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd == -1) {
		logfile_error(f, "cannot open");
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		logfile_error(f, "cannot stat");
		close(fd);
		return -1;
	}
	/* The node's owner reads its own logs; only root can give files
	 * away, and a file already right is left alone. */
	if ((st.st_uid != f->uid || st.st_gid != f->gid) &&
	    fchown(fd, f->uid, f->gid) == -1 && geteuid() == 0)
		logfile_error(f, "cannot change the owner");
	f->fd = fd;
	f->size = (uint64_t)st.st_size;
	f->last_errno = 0;
	return 0;
}

static void
logfile_close(struct logfile *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
}

/* web.log -> web.log.1 -> ... -> web.log.keep; the one there is replaced. */
static void
logfile_rotate(struct logfile *f)
{
	char from[4200], to[4200];

	logfile_close(f);
	f->rotations++;
	/* The oldest goes first, so no rename replaces a file: ext4 writes
	 * out a file renamed over another at once (auto_da_alloc), on the
	 * loop's time. */
	if (f->keep > 0 && logfile_name(f->path, f->keep, to, sizeof to) == 0 &&
	    unlink(to) == -1 && errno != ENOENT)
		logfile_error(f, "cannot remove");
	for (int64_t i = f->keep; i >= 1; i--) {
		if (logfile_name(f->path, i - 1, from, sizeof from) == -1 ||
		    logfile_name(f->path, i, to, sizeof to) == -1)
			continue;
		if (rename(from, to) == -1 && errno != ENOENT)
			logfile_error(f, "cannot rotate");
	}
	if (f->keep == 0 && unlink(f->path) == -1 && errno != ENOENT)
		logfile_error(f, "cannot remove");
	logfile_open(f);
}

struct logfile *
logfile_get(const char *path, int64_t max_bytes, int64_t keep, uid_t uid,
    gid_t gid)
{
	struct logfile *f;

	LIST_FOREACH(f, &logfiles, entry)
		if (strcmp(f->path, path) == 0)
			break;
	if (f == NULL) {
		if ((f = calloc(1, sizeof *f)) == NULL)
			return NULL;
		if ((f->path = strdup(path)) == NULL) {
			free(f);
			return NULL;
		}
		f->fd = -1;
		f->uid = uid;
		f->gid = gid;
		LIST_INSERT_HEAD(&logfiles, f, entry);
		logfile_open(f);
	}
	f->refs++;
	f->max_bytes = max_bytes;
	f->keep = keep;
	f->uid = uid;
	f->gid = gid;
	return f;
}

void
logfile_put(struct logfile *f)
{
	if (f == NULL || --f->refs > 0)
		return;
	closed.written += f->written;
	closed.dropped += f->dropped;
	closed.errors += f->errors;
	closed.rotations += f->rotations;
	LIST_REMOVE(f, entry);
	logfile_close(f);
	free(f->path);
	free(f);
}

/* Writes len bytes at once, or drops what could not be written. */
static size_t
logfile_put_bytes(struct logfile *f, const char *data, size_t len)
{
	ssize_t w;

	if (f->fd == -1 &&
	    (clock_mono_ms() < f->retry_ms || logfile_open(f) == -1)) {
		f->dropped += len;
		return len;
	}
	do
		w = write(f->fd, data, len);
	while (w == -1 && errno == EINTR);
	if (w < 0) {
		logfile_error(f, "cannot write");
		f->dropped += len;
		return len;
	}
	f->size += (uint64_t)w;
	f->written += (uint64_t)w;
	if ((size_t)w < len) {
		/* Short: the file system is full; the rest is not retried. */
		errno = ENOSPC;
		logfile_error(f, "cannot write");
		f->dropped += len - (size_t)w;
		return len - (size_t)w;
	}
	return 0;
}

size_t
logfile_write(struct logfile *f, const char *data, size_t len)
{
	size_t dropped = 0, room, n;
	const char *nl;

	while (len > 0) {
		room = f->size < (uint64_t)f->max_bytes ?
		    (size_t)((uint64_t)f->max_bytes - f->size) :
		    0;
		if (len <= room) {
			dropped += logfile_put_bytes(f, data, len);
			break;
		}
		/* Whole lines that fit, then a new file. */
		n = 0;
		if (room > 0 && (nl = memrchr(data, '\n', room)) != NULL)
			n = (size_t)(nl - data) + 1;
		else if (f->size == 0)
			n = room; /* a line bigger than a file: cut */
		if (n > 0) {
			dropped += logfile_put_bytes(f, data, n);
			data += n;
			len -= n;
		}
		logfile_rotate(f);
		if (f->fd == -1) {
			f->dropped += len;
			dropped += len;
			break;
		}
		if (f->size > 0) {
			/* Could not be moved aside: appended, not lost. */
			dropped += logfile_put_bytes(f, data, len);
			break;
		}
	}
	return dropped;
}

int
logfile_reopen(struct logfile *f)
{
	logfile_close(f);
	return logfile_open(f);
}

void
logfile_reopen_all(void)
{
	struct logfile *f;

	LIST_FOREACH(f, &logfiles, entry)
		logfile_reopen(f);
}

void
logfile_totals(struct logfile_totals *t)
{
	struct logfile *f;

	*t = closed;
	LIST_FOREACH(f, &logfiles, entry) {
		t->written += f->written;
		t->dropped += f->dropped;
		t->errors += f->errors;
		t->rotations += f->rotations;
	}
}
