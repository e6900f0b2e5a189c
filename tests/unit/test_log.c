/*
 * Log lines: journald priority prefixes for a journal, a pipe or a file;
 * plain lines on a terminal, unless JOURNAL_STREAM says a journal reads
 * them. The choice is made once, at log_init, from stderr as it is then.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static void
test_prefixes_unless_a_terminal_without_journal_stream(void **state)
{
	assert_true(log_want_prefixes(false, NULL));
	assert_true(log_want_prefixes(false, ""));
	assert_true(log_want_prefixes(false, "8:12345"));
	assert_true(log_want_prefixes(true, "8:12345"));
	assert_false(log_want_prefixes(true, NULL));
	assert_false(log_want_prefixes(true, ""));
}

/* What one log_info and one log_warnx write with stderr on fd, after
 * log_init; into out. */
static void
log_through(int fd, int rfd, char *out, size_t size)
{
	int saved = dup(STDERR_FILENO);
	ssize_t n, len = 0;

	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	log_init(LOG_LEVEL_INFO);
	log_info("spawn /w1");
	log_warnx("cannot %s", "x");
	log_debug("not shown");
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(fd);
	/* Up to the last line's end: a pipe ends there, a terminal's
	 * master would fail with EIO after it. */
	out[0] = '\0';
	while ((size_t)len < size - 1 && strstr(out, "x\n") == NULL &&
	    (n = read(rfd, out + len, size - 1 - (size_t)len)) > 0) {
		len += n;
		out[len] = '\0';
	}
	close(rfd);
}

static void
test_a_pipe_gets_priority_prefixes(void **state)
{
	char out[256];
	int p[2];

	unsetenv("JOURNAL_STREAM");
	assert_int_equal(pipe(p), 0);
	log_through(p[1], p[0], out, sizeof out);
	assert_true(log_get_prefixed());
	assert_string_equal(out, "<6>spawn /w1\n<4>cannot x\n");
}

/* A pseudo-terminal's reading end, and its terminal in *tty. */
static int
pty_open(int *tty)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m == -1 || grantpt(m) == -1 || unlockpt(m) == -1)
		return -1;
	if ((*tty = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		close(m);
		return -1;
	}
	return m;
}

static void
test_a_terminal_gets_plain_lines(void **state)
{
	char out[256];
	int m, tty;

	unsetenv("JOURNAL_STREAM");
	if ((m = pty_open(&tty)) == -1)
		skip();
	log_through(tty, m, out, sizeof out);
	assert_false(log_get_prefixed());
	assert_string_equal(out, "spawn /w1\r\nwarning: cannot x\r\n");
}

static void
test_a_terminal_with_journal_stream_keeps_prefixes(void **state)
{
	char out[256];
	int m, tty;

	setenv("JOURNAL_STREAM", "8:12345", 1);
	if ((m = pty_open(&tty)) == -1)
		skip();
	log_through(tty, m, out, sizeof out);
	unsetenv("JOURNAL_STREAM");
	assert_true(log_get_prefixed());
	assert_string_equal(out, "<6>spawn /w1\r\n<4>cannot x\r\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefixes_unless_a_terminal_without_journal_stream),
		cmocka_unit_test(test_a_pipe_gets_priority_prefixes),
		cmocka_unit_test(test_a_terminal_gets_plain_lines),
		cmocka_unit_test(test_a_terminal_with_journal_stream_keeps_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
