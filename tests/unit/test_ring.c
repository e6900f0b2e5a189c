/*
 * The ring of lines: it keeps exactly the newest lines that fit, each with
 * its stamps, grows with the output instead of up front, never past its
 * capacity, and counts the lines it lost.
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
push(struct ring *r, const char *text, uint32_t run, int64_t t)
{
	struct ring_rec h;

	memset(&h, 0, sizeof h);
	h.t_ms = t;
	h.run = run;
	h.len = (uint32_t)strlen(text);
	ring_push(r, &h, text);
}

static void
test_a_silent_ring_allocates_nothing(void **state)
{
	struct ring r;

	ring_init(&r, 65536);
	assert_null(r.buf);
	assert_true(r.start == r.end);
	ring_free(&r);
}

static void
test_lines_come_back_with_their_stamps(void **state)
{
	struct ring r;
	struct ring_rec h;
	char text[16];
	uint64_t p;

	ring_init(&r, 65536);
	push(&r, "hello", 1, 100);
	push(&r, "again", 2, 200);
	assert_true(r.size <= 1024);
	p = ring_get(&r, r.start, &h);
	ring_text(&r, r.start, &h, text);
	assert_int_equal(h.len, 5);
	assert_memory_equal(text, "hello", 5);
	assert_int_equal(h.run, 1);
	assert_int_equal(h.t_ms, 100);
	ring_text(&r, p, (ring_get(&r, p, &h), &h), text);
	assert_memory_equal(text, "again", 5);
	assert_int_equal(h.run, 2);
	assert_int_equal(ring_get(&r, p, &h), r.end);
	assert_int_equal(r.lost, 0);
	ring_free(&r);
}

/* Random lines against a plain list: the ring holds a suffix of them,
 * as long as fits, never more than its capacity. */
static void
test_keeps_the_newest_lines_that_fit(void **state)
{
	enum { CAP = 4096, N = 3000 };
	static char lines[N][300];
	struct ring r;
	char text[CAP];

	srand(7);
	ring_init(&r, CAP);
	for (int i = 0; i < N; i++) {
		size_t n = (size_t)rand() % (i % 50 == 0 ? 299 : 60);
		struct ring_rec h;
		size_t held = 0, bytes = 0;
		uint64_t p;
		int k;

		for (size_t j = 0; j < n; j++)
			lines[i][j] = (char)('a' + rand() % 26);
		lines[i][n] = '\0';
		push(&r, lines[i], (uint32_t)i, i);
		for (p = r.start; p < r.end; held++)
			p = ring_get(&r, p, &h);
		assert_int_equal(p, r.end);
		assert_int_equal(r.lines - r.lost, held);
		/* The held lines are the last `held` pushed, in order. */
		for (p = r.start, k = i + 1 - (int)held; p < r.end; k++) {
			uint64_t next = ring_get(&r, p, &h);

			ring_text(&r, p, &h, text);
			assert_int_equal(h.run, k);
			assert_int_equal(h.len, strlen(lines[k]));
			assert_memory_equal(text, lines[k], h.len);
			bytes += sizeof h + h.len;
			p = next;
		}
		/* One more older line would not have fitted. */
		if (k - (int)held > 0)
			assert_true(bytes + sizeof h +
			        strlen(lines[k - held - 1]) > r.size);
		assert_true(r.size <= CAP);
	}
	assert_true(r.lost > 0);
	ring_free(&r);
}

static void
test_a_line_bigger_than_the_ring_keeps_its_start(void **state)
{
	char big[2000];
	struct ring r;
	struct ring_rec h;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ring_init(&r, 1024);
	push(&r, big, 1, 1);
	ring_get(&r, r.start, &h);
	assert_int_equal(h.len, 1024 - sizeof h);
	assert_true(h.flags & RING_CUT);
	ring_free(&r);
}

static void
test_a_ring_of_size_zero_keeps_nothing(void **state)
{
	struct ring r;

	ring_init(&r, 0);
	push(&r, "x", 1, 1);
	assert_null(r.buf);
	assert_int_equal(r.lost, 1);
	ring_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_silent_ring_allocates_nothing),
		cmocka_unit_test(test_lines_come_back_with_their_stamps),
		cmocka_unit_test(test_keeps_the_newest_lines_that_fit),
		cmocka_unit_test(test_a_line_bigger_than_the_ring_keeps_its_start),
		cmocka_unit_test(test_a_ring_of_size_zero_keeps_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
