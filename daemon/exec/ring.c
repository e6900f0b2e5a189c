/* The bounded ring of lines (ring.h): records in one circular buffer,
 * addressed by absolute position modulo its size. */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define RING_MIN 1024

void
ring_init(struct ring *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->cap = cap;
}

void
ring_free(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->size = 0;
	r->start = r->end;
}

/* pos in the buffer: a mask while the size is a power of two, which it
 * is but for a capacity that is not. */
static inline size_t
ring_off(const struct ring *r, uint64_t pos)
{
	return (r->size & (r->size - 1)) == 0 ? (size_t)(pos & (r->size - 1)) :
	                                        (size_t)(pos % r->size);
}

static void
ring_put(struct ring *r, uint64_t pos, const void *data, size_t len)
{
	size_t off = ring_off(r, pos), first = r->size - off;

	if (first > len)
		first = len;
	memcpy(r->buf + off, data, first);
	memcpy(r->buf, (const char *)data + first, len - first);
}

static void
ring_copy(const struct ring *r, uint64_t pos, void *out, size_t len)
{
	size_t off = ring_off(r, pos), first = r->size - off;

	if (first > len)
		first = len;
	memcpy(out, r->buf + off, first);
	memcpy((char *)out + first, r->buf, len - first);
}

/* Room for want bytes held in all, by growing while that is allowed. The
 * records move to the positions they have modulo the new size. */
static void
ring_grow(struct ring *r, size_t want)
{
	size_t size = r->size ? r->size : RING_MIN;
	char *buf;

	if (r->size == r->cap || want <= r->size)
		return;
	while (size < want && size < r->cap)
		size *= 2;
	if (size > r->cap)
		size = r->cap;
	/* Without memory the ring just stays smaller. */
	if ((buf = malloc(size)) == NULL)
		return;
	if (r->size > 0) {
		struct ring old = *r;

		r->buf = buf;
		r->size = size;
		for (uint64_t p = old.start; p < old.end;) {
			char chunk[4096];
			size_t n = old.end - p < sizeof chunk ?
			    (size_t)(old.end - p) :
			    sizeof chunk;

			ring_copy(&old, p, chunk, n);
			ring_put(r, p, chunk, n);
			p += n;
		}
		free(old.buf);
	} else {
		r->buf = buf;
		r->size = size;
	}
}

uint64_t
ring_get(const struct ring *r, uint64_t pos, struct ring_rec *h)
{
	ring_copy(r, pos, h, sizeof *h);
	return pos + sizeof *h + h->len;
}

void
ring_text(const struct ring *r, uint64_t pos, const struct ring_rec *h,
    char *out)
{
	ring_copy(r, pos + sizeof *h, out, h->len);
}

void
ring_push(struct ring *r, const struct ring_rec *h, const char *text)
{
	struct ring_rec rec = *h, old;
	size_t need;

	r->lines++;
	if (r->cap <= sizeof rec) {
		r->lost++;
		return;
	}
	if (rec.len > r->cap - sizeof rec) {
		rec.len = (uint32_t)(r->cap - sizeof rec);
		rec.flags |= RING_CUT;
	}
	need = sizeof rec + rec.len;
	ring_grow(r, (size_t)(r->end - r->start) + need);
	if (r->size < need) {
		r->lost++;
		return;
	}
	while (r->end - r->start + need > r->size) {
		r->start = ring_get(r, r->start, &old);
		r->lost++;
	}
	ring_put(r, r->end, &rec, sizeof rec);
	ring_put(r, r->end + sizeof rec, text, rec.len);
	r->end += need;
}
