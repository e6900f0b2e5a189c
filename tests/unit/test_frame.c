/*
 * Tests for proto/frame.c: newline framing, "\r\n", blank lines, and the
 * message limit enforced before the newline arrives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frame.h"

static void
test_frame_single_line(void **state)
{
	struct proto_framer	f;
	size_t			len, used;

	proto_framer_init(&f, 100);
	assert_int_equal(proto_frame_next(&f, "{}\n", 3, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 2);
	assert_int_equal(used, 3);
}

static void
test_frame_partial_then_complete(void **state)
{
	struct proto_framer	f;
	char			buf[32];
	size_t			len, used;

	proto_framer_init(&f, 100);
	memcpy(buf, "{\"a\"", 4);
	assert_int_equal(proto_frame_next(&f, buf, 4, &len, &used),
	    PROTO_FRAME_MORE);
	assert_int_equal(f.scanned, 4);
	memcpy(buf + 4, ":1}\n", 4);
	assert_int_equal(proto_frame_next(&f, buf, 8, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 7);
	assert_int_equal(used, 8);
	assert_memory_equal(buf, "{\"a\":1}", 7);
	assert_int_equal(f.scanned, 0);
}

static void
test_frame_byte_at_a_time(void **state)
{
	struct proto_framer	f;
	const char		*msg = "hello\n";
	size_t			i, len, used;

	proto_framer_init(&f, 100);
	for (i = 1; i < 6; i++)
		assert_int_equal(proto_frame_next(&f, msg, i, &len, &used),
		    PROTO_FRAME_MORE);
	assert_int_equal(proto_frame_next(&f, msg, 6, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 5);
}

static void
test_frame_two_lines_in_one_buffer(void **state)
{
	struct proto_framer	f;
	const char		*buf = "ab\ncde\n";
	size_t			len, used;

	proto_framer_init(&f, 100);
	assert_int_equal(proto_frame_next(&f, buf, 7, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 2);
	assert_int_equal(used, 3);
	assert_int_equal(proto_frame_next(&f, buf + used, 7 - used, &len,
	    &used), PROTO_FRAME_LINE);
	assert_int_equal(len, 3);
	assert_int_equal(used, 4);
}

static void
test_frame_strips_one_carriage_return(void **state)
{
	struct proto_framer	f;
	size_t			len, used;

	proto_framer_init(&f, 100);
	assert_int_equal(proto_frame_next(&f, "ab\r\n", 4, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 2);
	assert_int_equal(used, 4);
	assert_int_equal(proto_frame_next(&f, "ab\r\r\n", 5, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 3);
}

static void
test_frame_blank_lines_are_empty(void **state)
{
	struct proto_framer	f;
	size_t			len, used;

	proto_framer_init(&f, 100);
	assert_int_equal(proto_frame_next(&f, "\n", 1, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 0);
	assert_int_equal(used, 1);
	assert_int_equal(proto_frame_next(&f, "\r\n", 2, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 0);
	assert_int_equal(used, 2);
}

static void
test_frame_empty_buffer_needs_more(void **state)
{
	struct proto_framer	f;
	size_t			len, used;

	proto_framer_init(&f, 100);
	assert_int_equal(proto_frame_next(&f, NULL, 0, &len, &used),
	    PROTO_FRAME_MORE);
	assert_int_equal(proto_frame_next(&f, "", 0, &len, &used),
	    PROTO_FRAME_MORE);
}

static void
test_frame_line_at_limit_is_accepted(void **state)
{
	struct proto_framer	f;
	char			buf[12];
	size_t			len, used;

	proto_framer_init(&f, 10);
	memset(buf, 'x', 10);
	assert_int_equal(proto_frame_next(&f, buf, 10, &len, &used),
	    PROTO_FRAME_MORE);
	buf[10] = '\n';
	assert_int_equal(proto_frame_next(&f, buf, 11, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 10);
}

static void
test_frame_line_at_limit_with_crlf_is_accepted(void **state)
{
	struct proto_framer	f;
	char			buf[12];
	size_t			len, used;

	proto_framer_init(&f, 10);
	memset(buf, 'x', 10);
	buf[10] = '\r';
	assert_int_equal(proto_frame_next(&f, buf, 11, &len, &used),
	    PROTO_FRAME_MORE);
	buf[11] = '\n';
	assert_int_equal(proto_frame_next(&f, buf, 12, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 10);
	assert_int_equal(used, 12);
}

static void
test_frame_line_over_limit_is_too_large_before_newline(void **state)
{
	struct proto_framer	f;
	char			buf[32];
	size_t			len, used;

	proto_framer_init(&f, 10);
	memset(buf, 'x', sizeof buf);
	assert_int_equal(proto_frame_next(&f, buf, 11, &len, &used),
	    PROTO_FRAME_TOO_LARGE);
	proto_framer_init(&f, 10);
	assert_int_equal(proto_frame_next(&f, buf, 5, &len, &used),
	    PROTO_FRAME_MORE);
	assert_int_equal(proto_frame_next(&f, buf, 32, &len, &used),
	    PROTO_FRAME_TOO_LARGE);
}

static void
test_frame_line_over_limit_with_newline_is_too_large(void **state)
{
	struct proto_framer	f;
	char			buf[12];
	size_t			len, used;

	proto_framer_init(&f, 10);
	memset(buf, 'x', 11);
	buf[11] = '\n';
	assert_int_equal(proto_frame_next(&f, buf, 12, &len, &used),
	    PROTO_FRAME_TOO_LARGE);
	/* max + "\r" + more bytes can no longer end within the limit. */
	proto_framer_init(&f, 10);
	memset(buf, 'x', 12);
	buf[10] = '\r';
	assert_int_equal(proto_frame_next(&f, buf, 12, &len, &used),
	    PROTO_FRAME_TOO_LARGE);
}

static void
test_frame_short_line_after_long_buffered_data_is_fine(void **state)
{
	struct proto_framer	f;
	const char		*buf = "abc\nxxxxxxxxxxxxxxxxxxxx";
	size_t			len, used;

	/* Only the first line counts against the limit. */
	proto_framer_init(&f, 10);
	assert_int_equal(proto_frame_next(&f, buf, strlen(buf), &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 3);
}

static void
test_frame_scanned_beyond_buffer_restarts(void **state)
{
	struct proto_framer	f;
	size_t			len, used;

	proto_framer_init(&f, 100);
	f.scanned = 50;
	assert_int_equal(proto_frame_next(&f, "ab\n", 3, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, 2);
}

static void
test_frame_large_input_scans_each_byte_once(void **state)
{
	struct proto_framer	f;
	char			*buf;
	size_t			n = 1024 * 1024, i, len, used;

	buf = malloc(n + 1);
	assert_non_null(buf);
	memset(buf, 'x', n);
	buf[n] = '\n';
	proto_framer_init(&f, PROTO_MAX_MESSAGE_DEFAULT);
	for (i = 4096; i <= n; i += 4096) {
		assert_int_equal(proto_frame_next(&f, buf, i, &len, &used),
		    PROTO_FRAME_MORE);
		assert_int_equal(f.scanned, i);
	}
	assert_int_equal(proto_frame_next(&f, buf, n + 1, &len, &used),
	    PROTO_FRAME_LINE);
	assert_int_equal(len, n);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_single_line),
		cmocka_unit_test(test_frame_partial_then_complete),
		cmocka_unit_test(test_frame_byte_at_a_time),
		cmocka_unit_test(test_frame_two_lines_in_one_buffer),
		cmocka_unit_test(test_frame_strips_one_carriage_return),
		cmocka_unit_test(test_frame_blank_lines_are_empty),
		cmocka_unit_test(test_frame_empty_buffer_needs_more),
		cmocka_unit_test(test_frame_line_at_limit_is_accepted),
		cmocka_unit_test(test_frame_line_at_limit_with_crlf_is_accepted),
		cmocka_unit_test(
		    test_frame_line_over_limit_is_too_large_before_newline),
		cmocka_unit_test(
		    test_frame_line_over_limit_with_newline_is_too_large),
		cmocka_unit_test(
		    test_frame_short_line_after_long_buffered_data_is_fine),
		cmocka_unit_test(test_frame_scanned_beyond_buffer_restarts),
		cmocka_unit_test(test_frame_large_input_scans_each_byte_once),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
