/*
 * Newline framing: finds the end of the next message in the caller's buffer
 * and tells as early as possible when a message cannot fit the limit.
 */
#include <string.h>

#include "frame.h"

void
proto_framer_init(struct proto_framer *f, size_t max)
{
	f->max = max;
	f->scanned = 0;
}

/*
 * "\r\n" counts as the newline, so a message of exactly max bytes is
 * accepted with either ending. Without a newline yet, the message is known
 * to be too large once the bytes seen can no longer end within the limit:
 * more than max + 1 bytes, or max + 1 bytes not ending in "\r".
 */
static int
proto_frame_overflows(const struct proto_framer *f, const char *data,
    size_t len)
{
	if (len <= f->max)
		return (0);
	if (len == f->max + 1 && data[len - 1] == '\r')
		return (0);
	return (1);
}

enum proto_frame_status
proto_frame_next(struct proto_framer *f, const char *data, size_t len,
    size_t *line_len, size_t *consumed)
{
	const char *nl;
	size_t n;

	*line_len = 0;
	*consumed = 0;

	/* The caller dropped bytes we had scanned: start over, stay safe. */
	if (f->scanned > len)
		f->scanned = 0;

	nl = NULL;
	if (len > f->scanned)
		nl = memchr(data + f->scanned, '\n', len - f->scanned);
	if (nl == NULL) {
		f->scanned = len;
		if (proto_frame_overflows(f, data, len))
			return (PROTO_FRAME_TOO_LARGE);
		return (PROTO_FRAME_MORE);
	}

	n = (size_t)(nl - data);
	if (n > 0 && data[n - 1] == '\r')
		n--;
	if (n > f->max) {
		f->scanned = 0;
		return (PROTO_FRAME_TOO_LARGE);
	}
	*line_len = n;
	*consumed = (size_t)(nl - data) + 1;
	f->scanned = 0;
	return (PROTO_FRAME_LINE);
}
