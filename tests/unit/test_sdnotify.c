/* proto/sdnotify.c: parsing sd_notify datagrams as systemd does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdnotify.h"

static int
parse(const char *s, struct sdnotify_msg *m)
{
	return sdnotify_parse(s, strlen(s), m);
}

static void
test_assignments_one_per_line(void **state)
{
	struct sdnotify_msg m;

	assert_int_equal(parse("READY=1\nSTATUS=serving 3 clients\n"
	                       "MAINPID=4242\nERRNO=2\n",
	                     &m),
	    0);
	assert_int_equal(m.flags, SDN_READY | SDN_STATUS | SDN_MAINPID |
	        SDN_ERRNO);
	assert_int_equal(m.status_len, strlen("serving 3 clients"));
	assert_memory_equal(m.status, "serving 3 clients", m.status_len);
	assert_int_equal(m.mainpid, 4242);
	assert_int_equal(m.err_no, 2);
	assert_int_equal(m.bad, 0);
	assert_int_equal(m.unknown, 0);
}

static void
test_watchdog_and_timeouts(void **state)
{
	struct sdnotify_msg m;

	assert_int_equal(parse("WATCHDOG=1", &m), 0);
	assert_int_equal(m.flags, SDN_WATCHDOG);
	assert_int_equal(parse("WATCHDOG=trigger", &m), 0);
	assert_int_equal(m.flags, SDN_WATCHDOG_TRIGGER);
	assert_int_equal(parse("WATCHDOG_USEC=2500000\n"
	                       "EXTEND_TIMEOUT_USEC=18446744073709551615",
	                     &m),
	    0);
	assert_int_equal(m.flags, SDN_WATCHDOG_USEC | SDN_EXTEND);
	assert_true(m.watchdog_usec == 2500000);
	assert_true(m.extend_usec == UINT64_MAX);
	assert_int_equal(parse("RELOADING=1\nMONOTONIC_USEC=123", &m), 0);
	assert_int_equal(m.flags, SDN_RELOADING | SDN_MONOTONIC);
	assert_true(m.monotonic_usec == 123);
}

static void
test_first_of_each_key_wins(void **state)
{
	struct sdnotify_msg m;

	assert_int_equal(parse("STATUS=one\nSTATUS=two\nERRNO=5\nERRNO=6",
	                     &m),
	    0);
	assert_memory_equal(m.status, "one", 3);
	assert_int_equal(m.err_no, 5);
}

static void
test_bad_values_are_left_out(void **state)
{
	struct sdnotify_msg m;

	/* Only "=1" is a flag; numbers are digits only, in range; a pid is
	 * never 0 or 1. */
	assert_int_equal(parse("READY=yes\nSTOPPING=0\nMAINPID=1\n"
	                       "MAINPID=-4\nERRNO=x\nWATCHDOG_USEC=1e6\n"
	                       "EXTEND_TIMEOUT_USEC=18446744073709551616\n"
	                       "WATCHDOG=2\nERRNO=99999",
	                     &m),
	    0);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.bad, 9);
}

static void
test_status_must_be_utf8(void **state)
{
	struct sdnotify_msg m;

	assert_int_equal(parse("STATUS=caf\xc3\xa9", &m), 0);
	assert_int_equal(m.flags, SDN_STATUS);
	assert_int_equal(parse("STATUS=bad \xff byte", &m), 0);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.bad, 1);
	/* Empty clears the status. */
	assert_int_equal(parse("STATUS=", &m), 0);
	assert_int_equal(m.flags, SDN_STATUS);
	assert_int_equal(m.status_len, 0);
}

static void
test_nul_refuses_the_message(void **state)
{
	struct sdnotify_msg m;

	assert_int_equal(sdnotify_parse("READY=1\0STATUS=x", 16, &m), -1);
}

static void
test_unknown_and_empty_lines(void **state)
{
	struct sdnotify_msg m;

	assert_int_equal(parse("\n\nFOO=bar\nBARRIER=1\nFDSTORE=1\nnoequals\n",
	                     &m),
	    0);
	assert_int_equal(m.flags, SDN_BARRIER | SDN_FDSTORE);
	assert_int_equal(m.unknown, 2);
	assert_int_equal(parse("", &m), 0);
	assert_int_equal(m.flags, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assignments_one_per_line),
		cmocka_unit_test(test_watchdog_and_timeouts),
		cmocka_unit_test(test_first_of_each_key_wins),
		cmocka_unit_test(test_bad_values_are_left_out),
		cmocka_unit_test(test_status_must_be_utf8),
		cmocka_unit_test(test_nul_refuses_the_message),
		cmocka_unit_test(test_unknown_and_empty_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
