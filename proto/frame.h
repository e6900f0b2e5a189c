/*
 * Newline framing over a byte buffer the caller owns. The framer only
 * remembers how far it has scanned, so feeding it the same growing buffer
 * costs each byte one look, however the bytes arrive.
 */
#ifndef PROTO_FRAME_H
#define PROTO_FRAME_H

#include <stddef.h>

#define PROTO_MAX_MESSAGE_DEFAULT (1024 * 1024)

enum proto_frame_status {
	PROTO_FRAME_MORE,      /* no complete line yet */
	PROTO_FRAME_LINE,      /* a line is ready */
	PROTO_FRAME_TOO_LARGE, /* the line is (or will be) over the limit */
};

struct proto_framer {
	size_t max;     /* longest message, without its "\n" */
	size_t scanned; /* bytes of the buffer known to hold no "\n" */
};

void proto_framer_init(struct proto_framer *f, size_t max);

/*
 * data/len are the unconsumed bytes: what was there at the last call (less
 * what was consumed) plus what arrived since. On PROTO_FRAME_LINE, the
 * message is data[0 .. *line_len) (a trailing "\r" is dropped) and the caller
 * must drop *consumed bytes from the front before calling again. Blank lines
 * come back as lines of length 0; callers skip them.
 */
enum proto_frame_status proto_frame_next(struct proto_framer *f,
    const char *data, size_t len, size_t *line_len, size_t *consumed);

#endif
