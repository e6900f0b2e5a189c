/* The bounded output ring (ring.h): one buffer, overwritten oldest first. */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int
ring_init(struct ring *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	if ((r->buf = malloc(cap)) == NULL)
		return -1;
	r->cap = cap;
	return 0;
}

void
ring_free(struct ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
}

void
ring_write(struct ring *r, const char *data, size_t len)
{
	size_t first;

	r->total += len;
	if (len >= r->cap) {
		/* Only the last cap bytes can be kept. */
		memcpy(r->buf, data + len - r->cap, r->cap);
		r->head = 0;
		r->len = r->cap;
		return;
	}
	first = r->cap - r->head;
	if (first > len)
		first = len;
	memcpy(r->buf + r->head, data, first);
	memcpy(r->buf, data + first, len - first);
	r->head = (r->head + len) % r->cap;
	r->len = r->len + len > r->cap ? r->cap : r->len + len;
}

size_t
ring_tail(const struct ring *r, size_t want, char *out)
{
	size_t n = want < r->len ? want : r->len;
	size_t start = (r->head + r->cap - n) % (r->cap ? r->cap : 1);
	size_t first;

	if (n == 0)
		return 0;
	first = r->cap - start;
	if (first > n)
		first = n;
	memcpy(out, r->buf + start, first);
	memcpy(out + first, r->buf, n - first);
	return n;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
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
		if ((k = utf8_seq(raw + i, n - i)) == 0) {
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
