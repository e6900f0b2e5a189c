/*
 * Tests for proto/names.c: signal and errno name tables.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <signal.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "names.h"

static void
test_signal_all_standard_names(void **state)
{
	static const char *const names[] = {
		"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
		"KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
		"STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
		"XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
	};
	size_t	i;
	int	sig;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		sig = proto_signal_parse(names[i]);
		if (sig <= 0)
			fail_msg("signal %s unknown", names[i]);
		assert_string_equal(proto_signal_name(sig), names[i]);
	}
}

static void
test_signal_values(void **state)
{
	assert_int_equal(proto_signal_parse("TERM"), SIGTERM);
	assert_int_equal(proto_signal_parse("KILL"), SIGKILL);
	assert_int_equal(proto_signal_parse("HUP"), SIGHUP);
	assert_int_equal(proto_signal_parse("USR2"), SIGUSR2);
	assert_string_equal(proto_signal_name(SIGINT), "INT");
}

static void
test_signal_sig_prefix_accepted(void **state)
{
	assert_int_equal(proto_signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(proto_signal_parse("SIGKILL"), SIGKILL);
}

static void
test_signal_rejects_numbers_case_and_junk(void **state)
{
	assert_int_equal(proto_signal_parse("15"), -1);
	assert_int_equal(proto_signal_parse("term"), -1);
	assert_int_equal(proto_signal_parse("SigTerm"), -1);
	assert_int_equal(proto_signal_parse("SIG"), -1);
	assert_int_equal(proto_signal_parse(""), -1);
	assert_int_equal(proto_signal_parse("SIGSIGTERM"), -1);
	assert_int_equal(proto_signal_parse(NULL), -1);
}

static void
test_signal_name_unknown_is_null(void **state)
{
	assert_null(proto_signal_name(0));
	assert_null(proto_signal_name(-1));
	assert_null(proto_signal_name(200));
}

static void
test_errno_names(void **state)
{
	assert_string_equal(proto_errno_name(ENOENT), "ENOENT");
	assert_string_equal(proto_errno_name(EACCES), "EACCES");
	assert_string_equal(proto_errno_name(ENOEXEC), "ENOEXEC");
	assert_string_equal(proto_errno_name(ENOTDIR), "ENOTDIR");
	assert_string_equal(proto_errno_name(E2BIG), "E2BIG");
	assert_string_equal(proto_errno_name(ENOMEM), "ENOMEM");
	assert_string_equal(proto_errno_name(EPERM), "EPERM");
	assert_string_equal(proto_errno_name(ELOOP), "ELOOP");
	assert_string_equal(proto_errno_name(ENAMETOOLONG), "ENAMETOOLONG");
	assert_string_equal(proto_errno_name(EISDIR), "EISDIR");
	assert_string_equal(proto_errno_name(ETXTBSY), "ETXTBSY");
	assert_string_equal(proto_errno_name(EMFILE), "EMFILE");
	assert_string_equal(proto_errno_name(ENFILE), "ENFILE");
	assert_string_equal(proto_errno_name(EINVAL), "EINVAL");
	assert_string_equal(proto_errno_name(EIO), "EIO");
	assert_string_equal(proto_errno_name(ENOSPC), "ENOSPC");
	assert_string_equal(proto_errno_name(EROFS), "EROFS");
}

static void
test_errno_aliases_use_the_common_name(void **state)
{
	assert_string_equal(proto_errno_name(EAGAIN), "EAGAIN");
	assert_string_equal(proto_errno_name(EWOULDBLOCK), "EAGAIN");
}

static void
test_errno_unknown_is_placeholder(void **state)
{
	assert_string_equal(proto_errno_name(0), "E?");
	assert_string_equal(proto_errno_name(-5), "E?");
	assert_string_equal(proto_errno_name(99999), "E?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signal_all_standard_names),
		cmocka_unit_test(test_signal_values),
		cmocka_unit_test(test_signal_sig_prefix_accepted),
		cmocka_unit_test(test_signal_rejects_numbers_case_and_junk),
		cmocka_unit_test(test_signal_name_unknown_is_null),
		cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_errno_aliases_use_the_common_name),
		cmocka_unit_test(test_errno_unknown_is_placeholder),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
