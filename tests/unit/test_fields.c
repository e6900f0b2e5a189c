/*
 * Tests for proto/fields.c: strict typed reads that name the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "duration.h"
#include "fields.h"

static json_t *
obj(const char *text)
{
	json_error_t	 jerr;
	json_t		*o;

	o = json_loads(text, 0, &jerr);
	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return (o);
}

static void
assert_message(const struct proto_err *err, const char *needle)
{
	assert_int_equal(err->code, PROTO_INVALID_PARAMS);
	if (strstr(err->message, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err->message, needle);
}

static void
test_fields_check_accepts_known(void **state)
{
	static const char *const allowed[] = { "a", "b", NULL };
	struct proto_err	 err;
	json_t			*o = obj("{\"a\":1,\"b\":2}");

	assert_int_equal(proto_fields_check(o, "params", allowed, &err), 0);
	json_decref(o);
}

static void
test_fields_check_names_unknown_field(void **state)
{
	static const char *const allowed[] = { "a", NULL };
	struct proto_err	 err;
	json_t			*o = obj("{\"a\":1,\"zz\":2}");

	assert_int_equal(proto_fields_check(o, "params", allowed, &err), -1);
	assert_message(&err, "unknown field \"zz\" in params");
	json_decref(o);
}

static void
test_fields_check_requires_object(void **state)
{
	static const char *const allowed[] = { NULL };
	struct proto_err	 err;
	json_t			*o = obj("[1]");

	assert_int_equal(proto_fields_check(o, "params", allowed, &err), -1);
	assert_message(&err, "params must be an object");
	assert_int_equal(proto_fields_check(NULL, "params", allowed, &err),
	    -1);
	json_decref(o);
}

static void
test_get_string_present_missing_required(void **state)
{
	struct proto_err	 err;
	const char		*s = "untouched";
	json_t			*o = obj("{\"s\":\"x\",\"n\":1}");

	assert_int_equal(proto_get_string(o, "s", true, &s, &err), 0);
	assert_string_equal(s, "x");
	s = "untouched";
	assert_int_equal(proto_get_string(o, "none", false, &s, &err), 0);
	assert_string_equal(s, "untouched");
	assert_int_equal(proto_get_string(o, "none", true, &s, &err), -1);
	assert_message(&err, "missing field \"none\"");
	assert_int_equal(proto_get_string(o, "n", false, &s, &err), -1);
	assert_message(&err, "field \"n\" must be a string, got 1");
	json_decref(o);
}

static void
test_get_bool_rejects_non_bool(void **state)
{
	struct proto_err	 err;
	bool			 b = false;
	json_t			*o = obj("{\"t\":true,\"n\":0,\"s\":\"true\"}");

	assert_int_equal(proto_get_bool(o, "t", false, &b, &err), 0);
	assert_true(b);
	assert_int_equal(proto_get_bool(o, "n", false, &b, &err), -1);
	assert_message(&err, "field \"n\" must be true or false, got 0");
	assert_int_equal(proto_get_bool(o, "s", false, &b, &err), -1);
	assert_message(&err, "got \"true\"");
	json_decref(o);
}

static void
test_get_int_range_and_type(void **state)
{
	struct proto_err	 err;
	int64_t			 n = 7;
	json_t			*o = obj("{\"i\":5,\"r\":5.0,\"b\":true,"
	    "\"big\":300,\"neg\":-2}");

	assert_int_equal(proto_get_int(o, "i", true, 0, 10, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(proto_get_int(o, "r", true, 0, 10, &n, &err), -1);
	assert_message(&err, "field \"r\" must be an integer, got 5.0");
	assert_int_equal(proto_get_int(o, "b", true, 0, 10, &n, &err), -1);
	assert_message(&err, "must be an integer, got true");
	assert_int_equal(proto_get_int(o, "big", true, 0, 255, &n, &err), -1);
	assert_message(&err, "field \"big\" must be between 0 and 255, got 300");
	assert_int_equal(proto_get_int(o, "neg", true, -1, 5, &n, &err), -1);
	assert_int_equal(n, 5);
	json_decref(o);
}

static void
test_get_ms_requires_non_negative_integer(void **state)
{
	struct proto_err	 err;
	int64_t			 ms = -1;
	json_t			*o = obj("{\"a\":0,\"s\":\"5s\",\"n\":-1,"
	    "\"r\":1.5,\"max\":2592000000,\"over\":2592000001}");

	assert_int_equal(proto_get_ms(o, "a", false, &ms, &err), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(proto_get_ms(o, "max", false, &ms, &err), 0);
	assert_int_equal(ms, PROTO_DURATION_MAX_MS);
	assert_int_equal(proto_get_ms(o, "s", false, &ms, &err), -1);
	assert_string_equal(err.message, "field \"s\" must be a non-negative "
	    "integer of milliseconds, got \"5s\"");
	assert_int_equal(proto_get_ms(o, "n", false, &ms, &err), -1);
	assert_message(&err, "got -1");
	assert_int_equal(proto_get_ms(o, "r", false, &ms, &err), -1);
	assert_message(&err, "got 1.5");
	assert_int_equal(proto_get_ms(o, "over", false, &ms, &err), -1);
	assert_message(&err, "at most 2592000000 ms");
	assert_int_equal(proto_get_ms(o, "x", true, &ms, &err), -1);
	assert_message(&err, "missing field \"x\"");
	json_decref(o);
}

static void
test_get_enum_lists_choices(void **state)
{
	static const char *const choices[] = { "one", "two", NULL };
	struct proto_err	 err;
	int			 i = -1;
	json_t			*o = obj("{\"e\":\"two\",\"bad\":\"three\","
	    "\"num\":1}");

	assert_int_equal(proto_get_enum(o, "e", true, choices, &i, &err), 0);
	assert_int_equal(i, 1);
	assert_int_equal(proto_get_enum(o, "bad", true, choices, &i, &err),
	    -1);
	assert_string_equal(err.message, "field \"bad\" must be one of "
	    "\"one\", \"two\", got \"three\"");
	assert_int_equal(proto_get_enum(o, "num", true, choices, &i, &err),
	    -1);
	assert_message(&err, "got 1");
	assert_int_equal(i, 1);
	json_decref(o);
}

static void
test_get_describes_long_string_truncated(void **state)
{
	struct proto_err	 err;
	int64_t			 n;
	char			 text[400];
	json_t			*o;

	memset(text, 0, sizeof text);
	strcpy(text, "{\"a\":\"");
	memset(text + 6, 'q', 300);
	strcat(text, "\"}");
	o = obj(text);
	assert_int_equal(proto_get_int(o, "a", true, 0, 1, &n, &err), -1);
	assert_message(&err, "...\"");
	assert_true(strlen(err.message) < 120);
	json_decref(o);
}

static void
test_get_on_null_object_is_missing(void **state)
{
	struct proto_err	 err;
	const char		*s = NULL;

	assert_int_equal(proto_get_string(NULL, "path", false, &s, &err), 0);
	assert_null(s);
	assert_int_equal(proto_get_string(NULL, "path", true, &s, &err), -1);
	assert_message(&err, "missing field \"path\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_check_accepts_known),
		cmocka_unit_test(test_fields_check_names_unknown_field),
		cmocka_unit_test(test_fields_check_requires_object),
		cmocka_unit_test(test_get_string_present_missing_required),
		cmocka_unit_test(test_get_bool_rejects_non_bool),
		cmocka_unit_test(test_get_int_range_and_type),
		cmocka_unit_test(test_get_ms_requires_non_negative_integer),
		cmocka_unit_test(test_get_enum_lists_choices),
		cmocka_unit_test(test_get_describes_long_string_truncated),
		cmocka_unit_test(test_get_on_null_object_is_missing),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
