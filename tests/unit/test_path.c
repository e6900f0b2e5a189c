/*
 * Tests for proto/path.c: what a name and a path are, the messages for
 * each way they can be wrong, and walking components.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "path.h"

static void
expect_path_error(const char *path, const char *needle)
{
	struct proto_err	err;

	proto_err_clear(&err);
	assert_int_equal(proto_path_check(path, "path", &err), -1);
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	assert_string_equal(err.kind, "invalid_params");
	if (strstr(err.message, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
}

static void
test_name_accepts_allowed_characters(void **state)
{
	assert_true(proto_name_valid("web", 3));
	assert_true(proto_name_valid("A-z_0.9", 7));
	assert_true(proto_name_valid("...", 3));
	assert_true(proto_name_valid(".a", 2));
}

static void
test_name_rejects_dot_and_dotdot(void **state)
{
	struct proto_err	err;

	assert_false(proto_name_valid(".", 1));
	assert_false(proto_name_valid("..", 2));
	assert_int_equal(proto_name_check("..", "name", &err), -1);
	assert_non_null(strstr(err.message, "reserved"));
}

static void
test_name_length_bounds(void **state)
{
	char	name[PROTO_NAME_MAX + 2];

	memset(name, 'a', sizeof name);
	assert_false(proto_name_valid(name, 0));
	assert_true(proto_name_valid(name, PROTO_NAME_MAX));
	assert_false(proto_name_valid(name, PROTO_NAME_MAX + 1));
	assert_false(proto_name_valid(NULL, 0));
}

static void
test_name_check_explains_bad_character(void **state)
{
	struct proto_err	err;

	assert_int_equal(proto_name_check("a/b", "name", &err), -1);
	assert_string_equal(err.message,
	    "name \"a/b\" has a character other than A-Z a-z 0-9 _ . -");
	assert_int_equal(proto_name_check("a b", "name", &err), -1);
	assert_int_equal(proto_name_check("é", "name", &err), -1);
	assert_int_equal(proto_name_check("", "name", &err), -1);
	assert_non_null(strstr(err.message, "empty"));
	assert_int_equal(proto_name_check(NULL, "name", &err), -1);
	assert_int_equal(proto_name_check("ok", "name", &err), 0);
}

static void
test_path_accepts_root_and_nested(void **state)
{
	struct proto_err	err;

	assert_int_equal(proto_path_check("/", "path", &err), 0);
	assert_int_equal(proto_path_check("/a", "path", &err), 0);
	assert_int_equal(proto_path_check("/web/w1/x.y-z_", "path", &err), 0);
}

static void
test_path_rejects_empty_component(void **state)
{
	expect_path_error("/a//b", "path \"/a//b\" has an empty component");
	expect_path_error("//", "ends with");
}

static void
test_path_rejects_trailing_slash(void **state)
{
	expect_path_error("/a/", "ends with \"/\"");
}

static void
test_path_rejects_relative_and_empty(void **state)
{
	expect_path_error("a/b", "does not start with \"/\"");
	expect_path_error("", "empty");
}

static void
test_path_rejects_bad_component(void **state)
{
	expect_path_error("/a/../b", "component \"..\"");
	expect_path_error("/a/./b", "component \".\"");
	expect_path_error("/a/b c", "character other than");
}

static void
test_path_depth_limit(void **state)
{
	char	path[3 * (PROTO_DEPTH_MAX + 1) + 1];
	size_t	i;
	struct proto_err	err;

	path[0] = '\0';
	for (i = 0; i < PROTO_DEPTH_MAX; i++)
		strcat(path, "/a");
	assert_int_equal(proto_path_check(path, "path", &err), 0);
	strcat(path, "/a");
	expect_path_error(path, "deeper than 32");
}

static void
test_path_length_limit(void **state)
{
	char	*path;
	size_t	 i;

	path = malloc(PROTO_PATH_MAX + 2);
	assert_non_null(path);
	for (i = 0; i < PROTO_PATH_MAX + 1; i++)
		path[i] = (i % 65 == 0) ? '/' : 'a';
	path[PROTO_PATH_MAX + 1] = '\0';
	expect_path_error(path, "longer than 4096 bytes");
	free(path);
}

static void
test_path_null_is_missing(void **state)
{
	expect_path_error(NULL, "missing");
}

static void
test_path_next_walks_components(void **state)
{
	const char	*path = "/web/w1/x", *c;
	size_t		 pos = 0, len;

	c = proto_path_next(path, &pos, &len);
	assert_non_null(c);
	assert_int_equal(len, 3);
	assert_memory_equal(c, "web", 3);
	c = proto_path_next(path, &pos, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(c, "w1", 2);
	c = proto_path_next(path, &pos, &len);
	assert_int_equal(len, 1);
	assert_memory_equal(c, "x", 1);
	assert_null(proto_path_next(path, &pos, &len));
	assert_null(proto_path_next(path, &pos, &len));
}

static void
test_path_next_root_has_no_components(void **state)
{
	size_t	pos = 0, len;

	assert_null(proto_path_next("/", &pos, &len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_accepts_allowed_characters),
		cmocka_unit_test(test_name_rejects_dot_and_dotdot),
		cmocka_unit_test(test_name_length_bounds),
		cmocka_unit_test(test_name_check_explains_bad_character),
		cmocka_unit_test(test_path_accepts_root_and_nested),
		cmocka_unit_test(test_path_rejects_empty_component),
		cmocka_unit_test(test_path_rejects_trailing_slash),
		cmocka_unit_test(test_path_rejects_relative_and_empty),
		cmocka_unit_test(test_path_rejects_bad_component),
		cmocka_unit_test(test_path_depth_limit),
		cmocka_unit_test(test_path_length_limit),
		cmocka_unit_test(test_path_null_is_missing),
		cmocka_unit_test(test_path_next_walks_components),
		cmocka_unit_test(test_path_next_root_has_no_components),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
