/*
 * Tests for proto/duration.c: parsing what people type, rejecting the
 * rest by name, and the shortest exact format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "duration.h"

static int64_t
parse_ok(const char *s)
{
	struct proto_err	err;
	int64_t			ms = -42;

	if (proto_duration_parse(s, &ms, &err) != 0)
		fail_msg("\"%s\": %s", s, err.message);
	return (ms);
}

static void
expect_bad(const char *s, const char *needle)
{
	struct proto_err	err;
	int64_t			ms = -42;

	proto_err_clear(&err);
	assert_int_equal(proto_duration_parse(s, &ms, &err), -1);
	assert_int_equal(ms, -42);
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	if (strstr(err.message, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
}

static void
test_duration_units(void **state)
{
	assert_int_equal(parse_ok("250ms"), 250);
	assert_int_equal(parse_ok("5s"), 5000);
	assert_int_equal(parse_ok("2m"), 120000);
	assert_int_equal(parse_ok("1h"), 3600000);
	assert_int_equal(parse_ok("1d"), 86400000);
	assert_int_equal(parse_ok("0s"), 0);
}

static void
test_duration_bare_number_is_ms(void **state)
{
	assert_int_equal(parse_ok("1500"), 1500);
	assert_int_equal(parse_ok("0"), 0);
}

static void
test_duration_sums(void **state)
{
	assert_int_equal(parse_ok("1m30s"), 90000);
	assert_int_equal(parse_ok("1h2m3s4ms"), 3723004);
	assert_int_equal(parse_ok("1s500ms"), 1500);
}

static void
test_duration_maximum(void **state)
{
	assert_int_equal(parse_ok("30d"), PROTO_DURATION_MAX_MS);
	assert_int_equal(parse_ok("2592000000"), PROTO_DURATION_MAX_MS);
	expect_bad("30d1ms", "longer than 30 days");
	expect_bad("2592000001", "longer than 30 days");
	expect_bad("31d", "longer than 30 days");
}

static void
test_duration_overflow_is_rejected(void **state)
{
	expect_bad("99999999999999999999999999s", "\"99999999999999999999");
	expect_bad("9223372036854775808", "longer than 30 days");
}

static void
test_duration_empty_negative_junk(void **state)
{
	expect_bad("", "empty");
	expect_bad(NULL, "empty");
	expect_bad("-5s", "\"-5s\" is negative");
	expect_bad("abc", "duration \"abc\" is not a duration");
	expect_bad("5x", "\"5x\"");
	expect_bad("5 s", "\"5 s\"");
	expect_bad("s", "\"s\"");
	expect_bad("1.5s", "\"1.5s\"");
	expect_bad("5S", "\"5S\"");
}

static void
test_duration_units_out_of_order_or_repeated(void **state)
{
	expect_bad("30s1m", "\"30s1m\"");
	expect_bad("1s1s", "\"1s1s\"");
	expect_bad("1m30", "\"1m30\"");
}

static void
test_duration_format_shortest(void **state)
{
	char	buf[32];

	assert_string_equal(proto_duration_format(1500, buf, sizeof buf),
	    "1500ms");
	assert_string_equal(proto_duration_format(2000, buf, sizeof buf),
	    "2s");
	assert_string_equal(proto_duration_format(90000, buf, sizeof buf),
	    "90s");
	assert_string_equal(proto_duration_format(120000, buf, sizeof buf),
	    "2m");
	assert_string_equal(proto_duration_format(3600000, buf, sizeof buf),
	    "1h");
	assert_string_equal(proto_duration_format(86400000, buf, sizeof buf),
	    "1d");
	assert_string_equal(proto_duration_format(0, buf, sizeof buf), "0s");
	assert_string_equal(proto_duration_format(-1, buf, sizeof buf),
	    "-1ms");
}

static void
test_duration_format_round_trips(void **state)
{
	static const int64_t values[] = {
		1, 999, 1000, 1001, 59999, 60000, 61000, 3599999, 3600000,
		86400000, PROTO_DURATION_MAX_MS
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < sizeof values / sizeof values[0]; i++)
		assert_int_equal(parse_ok(proto_duration_format(values[i], buf,
		    sizeof buf)), values[i]);
}

static void
test_duration_format_truncates_to_buffer(void **state)
{
	char	buf[4];

	assert_string_equal(proto_duration_format(123456, buf, sizeof buf),
	    "123");
	assert_ptr_equal(proto_duration_format(1, buf, 0), buf);
}

static void
test_intensity_reads_count_and_period(void **state)
{
	struct proto_err err;
	uint32_t n = 99;
	int64_t ms = 1;

	assert_int_equal(proto_intensity_parse("5/10s", 100, &n, &ms, &err),
	    0);
	assert_int_equal(n, 5);
	assert_int_equal(ms, 10000);
	ms = 7;
	assert_int_equal(proto_intensity_parse("0", 100, &n, &ms, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ms, 7);	/* no period: left as it was */
}

static void
test_intensity_refuses_what_is_not_n_slash_duration(void **state)
{
	const char *bad[] = { "", "/5s", "x/5s", "101/5s", "5/", "5/0s",
	    "5/xs", "-1/5s", "5 /5s", NULL };
	struct proto_err err;
	uint32_t n;
	int64_t ms;

	for (const char **b = bad; *b != NULL; b++) {
		assert_int_equal(proto_intensity_parse(*b, 100, &n, &ms, &err),
		    -1);
		assert_int_equal(err.code, PROTO_INVALID_PARAMS);
		assert_non_null(strstr(err.message, "intensity"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intensity_reads_count_and_period),
		cmocka_unit_test(
		    test_intensity_refuses_what_is_not_n_slash_duration),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_bare_number_is_ms),
		cmocka_unit_test(test_duration_sums),
		cmocka_unit_test(test_duration_maximum),
		cmocka_unit_test(test_duration_overflow_is_rejected),
		cmocka_unit_test(test_duration_empty_negative_junk),
		cmocka_unit_test(test_duration_units_out_of_order_or_repeated),
		cmocka_unit_test(test_duration_format_shortest),
		cmocka_unit_test(test_duration_format_round_trips),
		cmocka_unit_test(test_duration_format_truncates_to_buffer),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
