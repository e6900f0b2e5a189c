/* proto/trust.c: which socket paths a user may trust. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trust.h"

static struct stat
st_of(mode_t mode, uid_t uid)
{
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_mode = mode;
	st.st_uid = uid;
	return st;
}

static void
test_own_private_directory_and_roots_are_trusted(void **state)
{
	struct proto_err err;
	struct stat st = st_of(S_IFDIR | 0700, 1000);

	assert_int_equal(proto_trust_check(&st, 1000, true, "d", "/x", &err),
	    0);
	st = st_of(S_IFDIR | 0755, 0);
	assert_int_equal(proto_trust_check(&st, 1000, true, "d", "/x", &err),
	    0);
	st = st_of(S_IFSOCK | 0660, 0);
	assert_int_equal(proto_trust_check(&st, 1000, false, "s", "/x", &err),
	    0);
}

static void
test_sticky_world_writable_directory_is_trusted(void **state)
{
	struct proto_err err;
	struct stat st = st_of(S_IFDIR | 01777, 0);

	assert_int_equal(proto_trust_check(&st, 1000, true, "d", "/tmp",
	    &err), 0);
}

static void
test_directory_another_user_owns_is_refused(void **state)
{
	struct proto_err err;
	struct stat st = st_of(S_IFDIR | 0700, 2000);

	assert_int_equal(proto_trust_check(&st, 1000, true, "socket directory",
	    "/tmp/arbor-1000", &err), -1);
	assert_int_equal(err.code, -32003);
	assert_string_equal(err.kind, "forbidden");
	assert_non_null(strstr(err.message, "belongs to uid 2000"));
}

static void
test_directory_others_can_write_is_refused(void **state)
{
	struct proto_err err;
	struct stat st = st_of(S_IFDIR | 0777, 1000);

	assert_int_equal(proto_trust_check(&st, 1000, true, "d", "/x", &err),
	    -1);
	assert_non_null(strstr(err.message, "writable by others"));
	st = st_of(S_IFDIR | 0770, 1000);
	assert_int_equal(proto_trust_check(&st, 1000, true, "d", "/x", &err),
	    -1);
}

static void
test_symlink_or_wrong_kind_is_refused(void **state)
{
	struct proto_err err;
	struct stat st = st_of(S_IFLNK | 0777, 1000);

	assert_int_equal(proto_trust_check(&st, 1000, true, "d", "/x", &err),
	    -1);
	assert_int_equal(proto_trust_check(&st, 1000, false, "s", "/x", &err),
	    -1);
	st = st_of(S_IFREG | 0600, 1000);
	assert_int_equal(proto_trust_check(&st, 1000, false, "s", "/x", &err),
	    -1);
	assert_non_null(strstr(err.message, "is not a socket"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_own_private_directory_and_roots_are_trusted),
		cmocka_unit_test(
		    test_sticky_world_writable_directory_is_trusted),
		cmocka_unit_test(test_directory_another_user_owns_is_refused),
		cmocka_unit_test(test_directory_others_can_write_is_refused),
		cmocka_unit_test(test_symlink_or_wrong_kind_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
