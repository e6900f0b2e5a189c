/*
 * proto/utf8.c: the one UTF-8 validator, as RFC 3629 has it, and the
 * repair of error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

static size_t
seq(const char *s, size_t len)
{
	return proto_utf8_seq((const unsigned char *)s, len);
}

static void
test_ascii_is_one_byte(void **state)
{
	assert_int_equal(seq("a", 1), 1);
	assert_int_equal(seq("\x7f", 1), 1);
}

static void
test_well_formed_sequences_have_their_length(void **state)
{
	assert_int_equal(seq("\xc3\xa9", 2), 2);		/* U+00E9 */
	assert_int_equal(seq("\xe2\x82\xac", 3), 3);		/* U+20AC */
	assert_int_equal(seq("\xf0\x9f\x98\x80", 4), 4);	/* U+1F600 */
	assert_int_equal(seq("\xf4\x8f\xbf\xbf", 4), 4);	/* U+10FFFF */
	assert_int_equal(seq("\xed\x9f\xbf", 3), 3);		/* U+D7FF */
}

static void
test_overlong_forms_are_refused(void **state)
{
	assert_int_equal(seq("\xc0\xaf", 2), 0);
	assert_int_equal(seq("\xc1\xbf", 2), 0);
	assert_int_equal(seq("\xe0\x80\xaf", 3), 0);
	assert_int_equal(seq("\xe0\x9f\xbf", 3), 0);
	assert_int_equal(seq("\xf0\x8f\xbf\xbf", 4), 0);
}

static void
test_surrogates_are_refused(void **state)
{
	assert_int_equal(seq("\xed\xa0\x80", 3), 0);	/* U+D800 */
	assert_int_equal(seq("\xed\xbf\xbf", 3), 0);	/* U+DFFF */
}

static void
test_nothing_past_u10ffff(void **state)
{
	assert_int_equal(seq("\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(seq("\xf5\x80\x80\x80", 4), 0);
	assert_int_equal(seq("\xff", 1), 0);
}

static void
test_lone_continuation_bytes_are_refused(void **state)
{
	assert_int_equal(seq("\x80", 1), 0);
	assert_int_equal(seq("\xbf", 1), 0);
}

static void
test_a_sequence_cut_by_the_length_is_refused(void **state)
{
	assert_int_equal(seq("\xe2\x82\xac", 2), 0);
	assert_int_equal(seq("\xf0\x9f\x98\x80", 3), 0);
	assert_int_equal(seq("\xc3\xa9", 1), 0);
}

static void
test_a_bad_continuation_is_refused(void **state)
{
	assert_int_equal(seq("\xc3\x41", 2), 0);
	assert_int_equal(seq("\xe2\x82\x41", 3), 0);
}

static void
test_repair_keeps_valid_text(void **state)
{
	char s[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";

	proto_utf8_repair(s);
	assert_string_equal(s, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void
test_repair_replaces_each_bad_byte_with_a_question_mark(void **state)
{
	char s[] = "a\xff" "b\xc0\xaf" "c\xed\xa0\x80";

	proto_utf8_repair(s);
	assert_string_equal(s, "a?b??c???");
}

static void
test_repair_of_a_sequence_cut_at_the_end(void **state)
{
	char s[] = "ok\xe2\x82";

	proto_utf8_repair(s);
	assert_string_equal(s, "ok??");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_is_one_byte),
		cmocka_unit_test(test_well_formed_sequences_have_their_length),
		cmocka_unit_test(test_overlong_forms_are_refused),
		cmocka_unit_test(test_surrogates_are_refused),
		cmocka_unit_test(test_nothing_past_u10ffff),
		cmocka_unit_test(test_lone_continuation_bytes_are_refused),
		cmocka_unit_test(test_a_sequence_cut_by_the_length_is_refused),
		cmocka_unit_test(test_a_bad_continuation_is_refused),
		cmocka_unit_test(test_repair_keeps_valid_text),
		cmocka_unit_test(
		    test_repair_replaces_each_bad_byte_with_a_question_mark),
		cmocka_unit_test(test_repair_of_a_sequence_cut_at_the_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
