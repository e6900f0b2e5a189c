/*
 * The output ring: it keeps exactly the last bytes written, grows with the
 * output instead of up front, never past its capacity, and says when
 * older output was lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ring.h"

static void
test_a_silent_ring_allocates_nothing(void **state)
{
	struct ring r;
	char out[8];
	int truncated = 1;
	json_t *j;

	ring_init(&r, 65536);
	assert_null(r.buf);
	assert_int_equal(ring_tail(&r, sizeof out, out), 0);
	j = ring_json_tail(&r, 100, &truncated);
	assert_string_equal(json_string_value(j), "");
	assert_false(truncated);
	json_decref(j);
	ring_free(&r);
}

static void
test_small_output_costs_small_memory(void **state)
{
	struct ring r;
	char out[16];

	ring_init(&r, 65536);
	ring_write(&r, "hello\n", 6);
	assert_true(r.size <= 1024);
	assert_int_equal(ring_tail(&r, sizeof out, out), 6);
	assert_memory_equal(out, "hello\n", 6);
	assert_false(ring_dropped(&r));
	ring_free(&r);
}

/* Random writes of every size against a plain copy of the stream. */
static void
test_keeps_exactly_the_last_bytes_up_to_capacity(void **state)
{
	enum { CAP = 4096, REF = 1 << 16 };
	struct ring r;
	char *ref = malloc(REF), *out = malloc(CAP + 1), buf[3 * CAP];
	size_t reflen = 0;

	srand(7);
	ring_init(&r, CAP);
	for (int i = 0; i < 5000; i++) {
		size_t n = (size_t)rand() % (i % 50 == 0 ? sizeof buf : 200);
		size_t want = 1 + (size_t)rand() % (CAP + 1), got, exp;

		for (size_t k = 0; k < n; k++)
			buf[k] = (char)('a' + rand() % 26);
		ring_write(&r, buf, n);
		if (reflen + n > REF) {
			memmove(ref, ref + reflen - CAP, CAP);
			reflen = CAP;
		}
		memcpy(ref + reflen, buf, n);
		reflen += n;
		got = ring_tail(&r, want, out);
		exp = want < reflen ? want : reflen;
		if (exp > CAP)
			exp = CAP;
		assert_int_equal(got, exp);
		assert_memory_equal(out, ref + reflen - got, got);
		assert_true(r.size <= CAP);
		assert_int_equal(ring_dropped(&r), reflen > CAP);
	}
	free(ref);
	free(out);
	ring_free(&r);
}

static void
test_invalid_utf8_becomes_replacement_characters(void **state)
{
	struct ring r;
	int truncated;
	json_t *j;

	ring_init(&r, 64);
	ring_write(&r, "ok \xff\n", 5);
	j = ring_json_tail(&r, 100, &truncated);
	assert_string_equal(json_string_value(j), "ok \xef\xbf\xbd\n");
	json_decref(j);
	ring_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_silent_ring_allocates_nothing),
		cmocka_unit_test(test_small_output_costs_small_memory),
		cmocka_unit_test(test_keeps_exactly_the_last_bytes_up_to_capacity),
		cmocka_unit_test(test_invalid_utf8_becomes_replacement_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
