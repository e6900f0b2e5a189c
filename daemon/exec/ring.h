/*
 * A bounded ring of lines: the tail of one output stream of a worker. Each
 * line is kept with its wall-clock time and the run it came from. The
 * buffer grows with the output up to its capacity (a silent worker costs
 * nothing), then the oldest lines go; it counts the lines that went, so
 * `logs` can say "truncated". Lines are addressed by their absolute
 * position in the stream of records, which only grows.
 */
#ifndef RING_H
#define RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_DEFAULT_CAP (64 * 1024)

/* A line's flags. */
#define RING_CUT   0x01 /* longer than the line limit: continues next */
#define RING_NOEOL 0x02 /* the stream ended without a newline */

/* A record's header, as stored in front of its text. */
struct ring_rec {
	int64_t t_ms; /* wall clock, when it was read */
	uint64_t seq; /* the worker's line number, over both streams */
	uint32_t run; /* the worker's run, from 1 */
	uint32_t len; /* text bytes, the newline not included */
	uint8_t flags;
	uint8_t pad[7];
};

struct ring {
	char *buf;      /* owned, size bytes; NULL until output */
	size_t size;    /* allocated, grows to cap */
	size_t cap;     /* 0: keeps nothing */
	uint64_t start; /* position of the oldest record held */
	uint64_t end;   /* position after the newest */
	uint64_t lines; /* records ever pushed */
	uint64_t lost;  /* records pushed out (or never kept) */
};

void ring_init(struct ring *r, size_t cap); /* allocates nothing */
void ring_free(struct ring *r);
/* Keeps the line (h->len bytes of text), pushing out the oldest to make
 * room; a line bigger than the whole ring keeps its start. */
void ring_push(struct ring *r, const struct ring_rec *h, const char *text);
/* The record at pos (r->start <= pos < r->end, a record's start): its
 * header, and the position of the next. */
uint64_t ring_get(const struct ring *r, uint64_t pos, struct ring_rec *h);
/* Copies the text of the record at pos (h->len bytes) into out. */
void ring_text(const struct ring *r, uint64_t pos, const struct ring_rec *h,
    char *out);

#endif
