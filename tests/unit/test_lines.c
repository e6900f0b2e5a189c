/*
 * The line splitter: whatever way the bytes are cut into reads, the same
 * lines come out; lines over LINES_MAX come out in cut pieces; what is
 * left at the end comes out flagged as having no newline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lines.h"

struct got {
	char *buf; /* each line and "|flags\n" */
	size_t len;
	int n;
};

static void
collect(void *arg, const char *text, size_t len, unsigned flags)
{
	struct got *g = arg;

	g->buf = realloc(g->buf, g->len + len + 8);
	memcpy(g->buf + g->len, text, len);
	g->len += len;
	g->len += (size_t)sprintf(g->buf + g->len, "|%u\n", flags);
	g->n++;
}

static void
feed_in(const char *data, size_t len, size_t step, struct got *g)
{
	struct lines l = { 0 };

	memset(g, 0, sizeof *g);
	for (size_t i = 0; i < len; i += step)
		lines_feed(&l, data + i, len - i < step ? len - i : step,
		    collect, g);
	lines_flush(&l, collect, g);
	lines_free(&l);
	g->buf = realloc(g->buf, g->len + 1);
	g->buf[g->len] = '\0';
}

static void
test_reads_cut_anywhere_give_the_same_lines(void **state)
{
	const char *in = "one\ntwo\n\nthree\nlast";
	struct got g;

	for (size_t step = 1; step <= strlen(in); step++) {
		feed_in(in, strlen(in), step, &g);
		assert_string_equal(g.buf, "one|0\ntwo|0\n|0\nthree|0\nlast|2\n");
		free(g.buf);
	}
}

static void
test_long_lines_come_out_in_cut_pieces(void **state)
{
	size_t len = 2 * LINES_MAX + 10 + 1 + 3;
	char *in = malloc(len);
	struct got g;

	memset(in, 'a', len);
	in[2 * LINES_MAX + 10] = '\n';
	for (size_t step = 4096; step <= len; step *= 4) {
		feed_in(in, len, step, &g);
		assert_int_equal(g.n, 4);
		/* Pieces of LINES_MAX, the rest, then "aaa" without newline. */
		assert_memory_equal(g.buf + LINES_MAX, "|1\n", 3);
		assert_memory_equal(g.buf + 2 * LINES_MAX + 3, "|1\n", 3);
		assert_memory_equal(g.buf + 2 * LINES_MAX + 6 + 10, "|0\naaa|2\n",
		    9);
		free(g.buf);
	}
	free(in);
}

static void
test_a_line_of_exactly_the_limit_is_not_cut(void **state)
{
	char *in = malloc(LINES_MAX + 1);
	struct got g;

	memset(in, 'b', LINES_MAX);
	in[LINES_MAX] = '\n';
	feed_in(in, LINES_MAX + 1, 1000, &g);
	assert_int_equal(g.n, 1);
	assert_memory_equal(g.buf + LINES_MAX, "|0\n", 3);
	free(g.buf);
	free(in);
}

static void
test_whole_lines_are_counted_unless_one_may_be_too_long(void **state)
{
	size_t len = 3 * LINES_MAX;
	char *in = malloc(len);

	/* Lines of 100 bytes, newline included, over many blocks. */
	for (size_t i = 0; i < len; i++)
		in[i] = i % 100 == 99 ? '\n' : 'x';
	assert_int_equal(lines_count_plain(in, len / 100 * 100), len / 100);
	assert_int_equal(lines_count_plain(in, 100), 1);
	assert_int_equal(lines_count_plain(in, 0), 0);
	/* Half a limit without a newline may be the middle of a long line:
	 * the caller goes line by line. */
	memset(in, 'y', LINES_MAX / 2);
	in[LINES_MAX / 2] = '\n';
	assert_int_equal(lines_count_plain(in, len / 100 * 100),
	    (size_t)-1);
	/* Just under it is fine. */
	in[LINES_MAX / 2 - 1] = '\n';
	in[LINES_MAX / 2] = 'y';
	assert_true(lines_count_plain(in, len / 100 * 100) != (size_t)-1);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_cut_anywhere_give_the_same_lines),
		cmocka_unit_test(test_long_lines_come_out_in_cut_pieces),
		cmocka_unit_test(test_a_line_of_exactly_the_limit_is_not_cut),
		cmocka_unit_test(
		    test_whole_lines_are_counted_unless_one_may_be_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
