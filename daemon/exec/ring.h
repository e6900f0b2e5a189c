/*
 * A bounded byte ring: the tail of a worker's output. The buffer grows
 * with the output up to its capacity (a silent worker costs nothing), then
 * the oldest bytes are overwritten; it remembers how many bytes ever went
 * in and whether any were lost, so `logs` can say "truncated".
 */
#ifndef RING_H
#define RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define RING_DEFAULT_CAP (64 * 1024)

struct ring {
	char *buf;   /* owned, size bytes; NULL until output */
	size_t size; /* allocated, grows to cap */
	size_t cap;
	bool wrapped;   /* written round: no more growing */
	size_t head;    /* next write position */
	size_t len;     /* bytes held, <= cap */
	uint64_t total; /* bytes ever written */
};

int ring_init(struct ring *r, size_t cap); /* allocates nothing */
void ring_free(struct ring *r);
void ring_write(struct ring *r, const char *data, size_t len);
/* Copies the last min(want, len) bytes into out (out has want bytes);
 * returns how many were copied. */
size_t ring_tail(const struct ring *r, size_t want, char *out);
/* The last `bytes` bytes as a JSON string, made valid UTF-8 (a sequence cut
 * at the start is skipped, other invalid bytes become U+FFFD); *truncated
 * when older output was lost or more is held than was asked for. A NULL
 * ring reads as empty. */
json_t *ring_json_tail(const struct ring *r, size_t bytes, int *truncated);
/* Older output was overwritten. */
static inline bool
ring_dropped(const struct ring *r)
{
	return r->total > r->len;
}

#endif
