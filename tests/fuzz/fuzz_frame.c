/*
 * Fuzz target for proto/frame.c: a byte stream cut into chunks of fuzzed
 * sizes is fed through one framer incrementally, as the daemon does, and
 * every answer is checked against a fresh framer on the same bytes.
 * Input: byte 0 picks the limit (1..64), byte 1 seeds the chunk sizes,
 * the rest is the stream.
 */
#include <string.h>

#include "frame.h"
#include "fuzz.h"

/* The answer a framer that never saw earlier chunks gives. */
static enum proto_frame_status
fuzz_frame_fresh(size_t max, const char *buf, size_t len, size_t *line_len,
    size_t *consumed)
{
	struct proto_framer	f;

	proto_framer_init(&f, max);
	return (proto_frame_next(&f, buf, len, line_len, consumed));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_framer	 f;
	enum proto_frame_status	 st, ref;
	size_t			 max, pos, chunk, len, line_len, consumed;
	size_t			 rline, rconsumed;
	unsigned		 seed;
	char			*buf;
	const char		*nl;

	if (size < 2)
		return (0);
	max = 1 + data[0] % 64;
	seed = data[1];
	data += 2;
	size -= 2;
	buf = malloc(size + 1);
	FUZZ_CHECK(buf != NULL);
	proto_framer_init(&f, max);
	len = 0;
	for (pos = 0; pos < size; pos += chunk) {
		seed = seed * 1103515245u + 12345u;
		chunk = 1 + (seed >> 16) % 7;
		if (chunk > size - pos)
			chunk = size - pos;
		memcpy(buf + len, data + pos, chunk);
		len += chunk;
		for (;;) {
			st = proto_frame_next(&f, buf, len, &line_len,
			    &consumed);
			ref = fuzz_frame_fresh(max, buf, len, &rline,
			    &rconsumed);
			FUZZ_CHECK(st == ref);
			FUZZ_CHECK(consumed <= len);
			if (st == PROTO_FRAME_MORE) {
				/* No whole line, and still able to fit. */
				FUZZ_CHECK(consumed == 0);
				FUZZ_CHECK(memchr(buf, '\n', len) == NULL);
				FUZZ_CHECK(len <= max + 1);
				break;
			}
			if (st == PROTO_FRAME_TOO_LARGE) {
				/* Nothing that fits the limit ends within the
				 * bytes seen: the daemon hangs up; so do we. */
				nl = memchr(buf, '\n', len);
				FUZZ_CHECK(nl == NULL ||
				    (size_t)(nl - buf) > max + 1 ||
				    ((size_t)(nl - buf) == max + 1 &&
				    buf[max] != '\r'));
				FUZZ_CHECK(nl != NULL || len > max);
				len = 0;
				proto_framer_init(&f, max);
				break;
			}
			FUZZ_CHECK(st == PROTO_FRAME_LINE);
			FUZZ_CHECK(line_len == rline && consumed == rconsumed);
			FUZZ_CHECK(line_len <= max);
			FUZZ_CHECK(consumed > line_len);
			FUZZ_CHECK(buf[consumed - 1] == '\n');
			FUZZ_CHECK(memchr(buf, '\n', line_len) == NULL);
			FUZZ_CHECK(consumed == line_len + 1 ||
			    (consumed == line_len + 2 &&
			    buf[line_len] == '\r'));
			memmove(buf, buf + consumed, len - consumed);
			len -= consumed;
		}
	}
	free(buf);
	return (0);
}
