/* The bounded output ring (ring.h): one buffer, overwritten oldest first. */
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "utf8.h"

int
ring_init(struct ring *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->cap = cap;
	return 0;
}

void
ring_free(struct ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
}

/* Room for len more bytes without overwriting, while that is allowed. */
static void
ring_grow(struct ring *r, size_t len)
{
	size_t want = r->size ? r->size : 1024;
	char *buf;

	if (r->wrapped || r->size == r->cap || r->len + len <= r->size)
		return;
	while (want < r->len + len && want < r->cap)
		want *= 2;
	if (want > r->cap)
		want = r->cap;
	/* Not yet wrapped: the bytes are in order from 0, realloc keeps
	 * them. Without memory the ring just stays smaller. */
	if ((buf = realloc(r->buf, want)) != NULL) {
		r->buf = buf;
		r->size = want;
		r->head = r->len;
	}
}

void
ring_write(struct ring *r, const char *data, size_t len)
{
	size_t first;

	r->total += len;
	ring_grow(r, len);
	if (r->size == 0 || len == 0)
		return; /* no memory: counted as lost */
	if (len > r->size || (len == r->size && r->len > 0)) {
		/* Only the last size bytes can be kept. */
		memcpy(r->buf, data + len - r->size, r->size);
		r->head = 0;
		r->len = r->size;
		r->wrapped = true;
		return;
	}
	first = r->size - r->head;
	if (first > len)
		first = len;
	memcpy(r->buf + r->head, data, first);
	memcpy(r->buf, data + first, len - first);
	if (r->head + len > r->size)
		r->wrapped = true;
	r->head = (r->head + len) % r->size;
	r->len = r->len + len > r->size ? r->size : r->len + len;
}

size_t
ring_tail(const struct ring *r, size_t want, char *out)
{
	size_t n = want < r->len ? want : r->len;
	size_t start, first;

	if (n == 0)
		return 0;
	start = (r->head + r->size - n) % r->size;
	first = r->size - start;
	if (first > n)
		first = n;
	memcpy(out, r->buf + start, first);
	memcpy(out + first, r->buf, n - first);
	return n;
}

json_t *
ring_json_tail(const struct ring *r, size_t bytes, int *truncated)
{
	unsigned char *raw;
	char *out;
	size_t n, i = 0, o = 0, k;
	json_t *s;

	*truncated = 0;
	if (r == NULL || r->len == 0 || bytes == 0) {
		*truncated = r != NULL && r->total > 0;
		return json_string("");
	}
	*truncated = ring_dropped(r) || r->len > bytes;
	if ((raw = malloc(bytes < r->len ? bytes : r->len)) == NULL)
		return NULL;
	n = ring_tail(r, bytes, (char *)raw);
	if ((out = malloc(n * 3 + 1)) == NULL) {
		free(raw);
		return NULL;
	}
	/* A tail that starts inside a sequence skips its remains. */
	if (*truncated)
		while (i < n && i < 3 && (raw[i] & 0xc0) == 0x80)
			i++;
	while (i < n) {
		if ((k = proto_utf8_seq(raw + i, n - i)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, raw + i, k);
		o += k;
		i += k;
	}
	s = json_stringn(out, o);
	free(out);
	free(raw);
	return s;
}
