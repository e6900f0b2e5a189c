/* Cutting output into lines (lines.h). Whole lines inside one read go out
 * from the caller's buffer; only an unfinished one is copied. */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LINES_AVX2 1
#endif

#include "lines.h"

#ifdef LINES_AVX2
/* As lines_count_block, 32 bytes at a time, where the CPU has AVX2. */
__attribute__((target("avx2"))) static size_t
lines_count_avx2(const char *p, size_t len)
{
	const __m256i nl = _mm256_set1_epi8('\n'),
	              zero = _mm256_setzero_si256();
	size_t n = 0, i = 0;

	while (len - i >= 32) {
		size_t k = (len - i) / 32 < 255 ? (len - i) / 32 : 255;
		__m256i acc = zero, sum;

		for (; k > 0; k--, i += 32)
			acc = _mm256_sub_epi8(acc,
			    _mm256_cmpeq_epi8(_mm256_loadu_si256(
			                          (const __m256i *)(p + i)),
			        nl));
		sum = _mm256_sad_epu8(acc, zero);
		n += (size_t)_mm256_extract_epi64(sum, 0) +
		    (size_t)_mm256_extract_epi64(sum, 1) +
		    (size_t)_mm256_extract_epi64(sum, 2) +
		    (size_t)_mm256_extract_epi64(sum, 3);
	}
	for (; i < len; i++)
		n += p[i] == '\n';
	return n;
}
#endif

/* The newlines in a block. */
static size_t
lines_count_block(const char *p, size_t len)
{
	size_t n = 0, i = 0;
#ifdef LINES_AVX2
	static int avx2 = -1;

	if (avx2 == -1)
		avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	if (avx2)
		return lines_count_avx2(p, len);
#endif
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();

	while (len - i >= 16) {
		/* Per byte lane, at most 255 matches before they are summed. */
		size_t k = (len - i) / 16 < 255 ? (len - i) / 16 : 255;
		__m128i acc = zero, sum;

		for (; k > 0; k--, i += 16)
			acc = _mm_sub_epi8(acc,
			    _mm_cmpeq_epi8(_mm_loadu_si128(
			                       (const __m128i *)(p + i)),
			        nl));
		sum = _mm_sad_epu8(acc, zero);
		n += (size_t)_mm_cvtsi128_si32(sum) +
		    (size_t)_mm_cvtsi128_si32(_mm_unpackhi_epi64(sum, sum));
	}
#endif
	for (; i < len; i++)
		n += p[i] == '\n';
	return n;
}

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

size_t
lines_count_plain(const char *data, size_t len)
{
	size_t n = 0, c, k;

	for (size_t at = 0; at < len; at += k) {
		k = len - at < LINES_MAX / 2 ? len - at : LINES_MAX / 2;
		/* A block without a newline may be the middle of a long
		 * line (the last block ends in one: data is whole lines). */
		if ((c = lines_count_block(data + at, k)) == 0)
			return (size_t)-1;
		n += c;
	}
	return n;
}
