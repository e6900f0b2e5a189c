/*
 * Cutting a stream of bytes into lines: what a worker wrote, a read at a
 * time, becomes whole lines (the newline not included). A line longer than
 * LINES_MAX comes out in pieces of LINES_MAX, each but the last flagged
 * LINES_CUT; at end of stream what is left comes out flagged LINES_NOEOL.
 * The splitter owns the start of a line that has not ended yet.
 */
#ifndef LINES_H
#define LINES_H

#include <stddef.h>

#define LINES_MAX   (64 * 1024)
#define LINES_CUT   0x01 /* = RING_CUT */
#define LINES_NOEOL 0x02 /* = RING_NOEOL */

struct lines {
	char *buf;  /* owned: an unfinished line, LINES_MAX bytes once used */
	size_t len; /* bytes in it */
};

/* Called for each line; text is valid during the call only. */
typedef void lines_fn(void *arg, const char *text, size_t len, unsigned flags);

/* Feeds len bytes. -1 when out of memory (the unfinished line then comes
 * out as it is, flagged LINES_CUT). */
int lines_feed(struct lines *l, const char *data, size_t len, lines_fn *fn,
    void *arg);
/* End of stream: the unfinished line, if any. */
void lines_flush(struct lines *l, lines_fn *fn, void *arg);
void lines_free(struct lines *l);
/* The newlines in data when no line there can be longer than LINES_MAX
 * (every LINES_MAX / 2 bytes hold one), else (size_t)-1: a flood's lines
 * counted without a step per line. */
size_t lines_count_plain(const char *data, size_t len);

#endif
