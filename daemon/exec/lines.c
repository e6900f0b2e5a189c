/* Cutting output into lines (lines.h). Whole lines inside one read go out
 * from the caller's buffer; only an unfinished one is copied. */
#include <stdlib.h>
#include <string.h>

#include "lines.h"

/* Adds to the unfinished line, emitting it as a cut piece when full.
 * Returns -1 when out of memory. */
static int
lines_hold(struct lines *l, const char *data, size_t len, lines_fn *fn,
    void *arg)
{
	while (len > 0) {
		size_t n;

		/* Full, and more comes: the piece so far is cut off. */
		if (l->len == LINES_MAX) {
			fn(arg, l->buf, l->len, LINES_CUT);
			l->len = 0;
		}
		n = LINES_MAX - l->len;
		if (l->buf == NULL && (l->buf = malloc(LINES_MAX)) == NULL) {
			fn(arg, data, len, LINES_CUT);
			return -1;
		}
		if (n > len)
			n = len;
		memcpy(l->buf + l->len, data, n);
		l->len += n;
		data += n;
		len -= n;
	}
	return 0;
}

int
lines_feed(struct lines *l, const char *data, size_t len, lines_fn *fn,
    void *arg)
{
	const char *nl;
	size_t n;

	while (len > 0) {
		if ((nl = memchr(data, '\n', len)) == NULL)
			return lines_hold(l, data, len, fn, arg);
		n = (size_t)(nl - data);
		if (l->len > 0) {
			/* The end of a line begun in an earlier read. */
			if (lines_hold(l, data, n, fn, arg) == -1)
				return -1;
			fn(arg, l->buf, l->len, 0);
			l->len = 0;
		} else {
			while (n > LINES_MAX) {
				fn(arg, data, LINES_MAX, LINES_CUT);
				data += LINES_MAX;
				len -= LINES_MAX;
				n -= LINES_MAX;
			}
			fn(arg, data, n, 0);
		}
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

void
lines_flush(struct lines *l, lines_fn *fn, void *arg)
{
	if (l->len > 0)
		fn(arg, l->buf, l->len, LINES_NOEOL);
	l->len = 0;
}

void
lines_free(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = 0;
}
