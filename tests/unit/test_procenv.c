/*
 * Reading a variable out of an environment block: found wherever it sits
 * (past the 16 KiB the sentinel once read, across any read boundary), only
 * as a whole name, with a cut value told apart from a whole one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include "procenv.h"

/* An fd at the start of a file holding len bytes of block. */
static int
env_fd(const char *block, size_t len)
{
	int fd = memfd_create("environ", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, block, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static ssize_t
get(const char *block, size_t len, const char *name, char *val,
    size_t size)
{
	int fd = env_fd(block, len);
	ssize_t n = procenv_get_fd(fd, name, val, size);

	close(fd);
	return n;
}

static void
test_found_first_middle_last_and_not_by_part_of_a_name(void **state)
{
	static const char env[] = "ARBOR_DAEMON_PID=12\0XARBOR_DAEMON_PID=3\0"
	    "ARBOR_DAEMON_PIDX=4\0ARBOR_DAEMON_PI=5\0PATH=/bin\0HOME=/h";
	char val[32];

	assert_int_equal(get(env, sizeof env - 1, "ARBOR_DAEMON_PID", val,
	    sizeof val), 2);
	assert_string_equal(val, "12");
	assert_int_equal(get(env, sizeof env - 1, "PATH", val, sizeof val), 4);
	assert_string_equal(val, "/bin");
	/* The last entry, even without its NUL. */
	assert_int_equal(get(env, sizeof env - 1, "HOME", val, sizeof val), 2);
	assert_string_equal(val, "/h");
	assert_int_equal(get(env, sizeof env - 1, "ARBOR_DAEMON", val,
	    sizeof val), -1);
	assert_int_equal(get(env, sizeof env - 1, "DAEMON_PID", val,
	    sizeof val), -1);
	assert_int_equal(get(env, sizeof env - 1, "ARBOR_DAEMON_PIDX", val,
	    sizeof val), 1);
	assert_string_equal(val, "4");
	assert_int_equal(get("", 0, "PATH", val, sizeof val), -1);
	assert_int_equal(get(env, sizeof env - 1, "", val, sizeof val), -1);
	/* A name without "=" is no variable. */
	assert_int_equal(get("PATH\0PATH2=x", 11, "PATH", val, sizeof val),
	    -1);
}

static void
test_a_cut_value_says_its_full_length(void **state)
{
	static const char env[] = "ARBOR_DAEMON_PID=123456\0";
	char val[4];

	assert_int_equal(get(env, sizeof env - 1, "ARBOR_DAEMON_PID", val,
	    sizeof val), 6);
	assert_string_equal(val, "123");
	assert_int_equal(get(env, sizeof env - 1, "ARBOR_DAEMON_PID", NULL,
	    0), 6);
	assert_int_equal(get(env, sizeof env - 1, "ARBOR_DAEMON_PID", val,
	    1), 6);
	assert_string_equal(val, "");
}

/* The marker after a variable of every length around the read size and
 * its multiples: its name, its "=" and its value fall on each side of a
 * boundary in turn. */
static void
test_found_across_every_read_boundary(void **state)
{
	static const char tail[] = "\0ARBOR_DAEMON_PID=98765\0Z=1\0";
	size_t bases[] = { 4096, 8192, 16384, 20480 };
	char *block, val[32];

	assert_non_null(block = malloc(20480 + 64 + sizeof tail));
	for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++)
		for (size_t pad = bases[b] - 40; pad <= bases[b] + 4; pad++) {
			size_t len;

			memcpy(block, "BIG=", 4);
			memset(block + 4, 'x', pad - 4);
			memcpy(block + pad, tail, sizeof tail - 1);
			len = pad + sizeof tail - 1;
			memset(val, 0, sizeof val);
			if (get(block, len, "ARBOR_DAEMON_PID", val,
			    sizeof val) != 5)
				fail_msg("not found after %zu bytes", pad);
			assert_string_equal(val, "98765");
			assert_int_equal(get(block, len, "Z", val, sizeof val),
			    1);
		}
	free(block);
}

/* The case of issue 11, on a real process: one 20 KB variable first. */
static void
test_proc_environ_past_20_kb(void **state)
{
	static char big[4 + 20 * 1024 + 1] = "BIG=";
	char var[64], val[32];
	ssize_t n = -1;
	pid_t child;
	int i;

	memset(big + 4, 'x', 20 * 1024);
	snprintf(var, sizeof var, "ARBOR_DAEMON_PID=%ld", (long)getpid());
	assert_true((child = fork()) != -1);
	if (child == 0) {
		char *argv[] = { "sleep", "10", NULL };
		char *envp[] = { big, var, NULL };

		execve("/bin/sleep", argv, envp);
		_exit(127);
	}
	/* Until the exec is done, the child has our environment. */
	for (i = 0; i < 500; i++) {
		if ((n = procenv_get(child, "BIG", NULL, 0)) != -1)
			break;
		usleep(10 * 1000);
	}
	assert_int_equal(n, 20 * 1024);
	assert_int_equal(procenv_get(child, "ARBOR_DAEMON_PID", val,
	    sizeof val), (ssize_t)strlen(var + 17));
	assert_string_equal(val, var + 17);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);
	/* Gone: nothing to read. */
	assert_int_equal(procenv_get(child, "BIG", NULL, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_first_middle_last_and_not_by_part_of_a_name),
		cmocka_unit_test(test_a_cut_value_says_its_full_length),
		cmocka_unit_test(test_found_across_every_read_boundary),
		cmocka_unit_test(test_proc_environ_past_20_kb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
