/*
 * Log files: rotation names, rotation that keeps `keep` old files and
 * never more than max_bytes in each, mode 0640 and the owner asked for,
 * reopen after an external move, and a full disk counted, not waited on.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "logfile.h"

static char dir[64];

static int
setup(void **state)
{
	strcpy(dir, "/tmp/arbor-logfile-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
test_names_count_up_from_the_file(void **state)
{
	char buf[64];

	assert_int_equal(logfile_name("/v/web.log", 0, buf, sizeof buf), 0);
	assert_string_equal(buf, "/v/web.log");
	assert_int_equal(logfile_name("/v/web.log", 3, buf, sizeof buf), 0);
	assert_string_equal(buf, "/v/web.log.3");
	assert_int_equal(logfile_name("/v/web.log", 12, buf, 8), -1);
}

static void
test_rotation_keeps_keep_files_each_under_max_bytes(void **state)
{
	char path[128], name[140], line[1001];
	struct logfile *f;

	snprintf(path, sizeof path, "%s/web.log", dir);
	memset(line, 'l', 999);
	line[999] = '\n';
	f = logfile_get(path, 4096, 2, geteuid(), getegid());
	assert_non_null(f);
	for (int i = 0; i < 30; i++) {
		line[0] = (char)('A' + i % 26);
		assert_int_equal(logfile_write(f, line, 1000), 0);
	}
	for (int n = 0; n <= 2; n++) {
		logfile_name(path, n, name, sizeof name);
		assert_true(size_of(name) > 0);
		assert_true(size_of(name) <= 4096);
		/* Whole lines only. */
		assert_int_equal(size_of(name) % 1000, 0);
	}
	logfile_name(path, 3, name, sizeof name);
	assert_int_equal(size_of(name), -1);
	assert_true(f->rotations >= 7);
	/* A batch bigger than a file is cut at a line between files. */
	{
		char batch[6000];

		for (int i = 0; i < 6; i++)
			memcpy(batch + i * 1000, line, 1000);
		assert_int_equal(logfile_write(f, batch, sizeof batch), 0);
		assert_true(size_of(path) <= 4096);
		assert_int_equal(size_of(path) % 1000, 0);
	}
	logfile_put(f);
}

static void
test_files_are_0640_and_owned_as_asked(void **state)
{
	char path[128];
	struct logfile *f;
	struct stat st;

	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof path, "%s/owned.log", dir);
	f = logfile_get(path, 4096, 1, 65534, 65534);
	assert_int_equal(logfile_write(f, "x\n", 2), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	/* The new file of a rotation too. */
	for (int i = 0; i < 3000; i++)
		logfile_write(f, "x\n", 2);
	assert_true(f->rotations > 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	logfile_put(f);
}

static void
test_reopen_starts_a_new_file_after_a_move(void **state)
{
	char path[128], moved[140];
	struct logfile *f;

	snprintf(path, sizeof path, "%s/r.log", dir);
	snprintf(moved, sizeof moved, "%s/r.log.old", dir);
	f = logfile_get(path, 1 << 20, 1, geteuid(), getegid());
	logfile_write(f, "before\n", 7);
	assert_int_equal(rename(path, moved), 0);
	logfile_write(f, "still\n", 6); /* into the moved file */
	assert_int_equal(logfile_reopen(f), 0);
	logfile_write(f, "after\n", 6);
	assert_int_equal(size_of(moved), 13);
	assert_int_equal(size_of(path), 6);
	logfile_put(f);
}

static void
test_a_full_disk_drops_and_counts(void **state)
{
	char mnt[128], path[160], line[1024];
	struct logfile *f;
	size_t dropped = 0;

	snprintf(mnt, sizeof mnt, "%s/tiny", dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") == -1) {
		print_message("cannot mount a tmpfs (%s): skipped\n",
		    strerror(errno));
		skip();
	}
	snprintf(path, sizeof path, "%s/full.log", mnt);
	memset(line, 'f', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	f = logfile_get(path, 1 << 20, 0, geteuid(), getegid());
	for (int i = 0; i < 200; i++)
		dropped += logfile_write(f, line, sizeof line);
	assert_true(dropped > 0);
	assert_int_equal(f->dropped, dropped);
	assert_true(f->errors > 0);
	assert_true(f->written + f->dropped == 200 * sizeof line);
	logfile_put(f);
	umount2(mnt, MNT_DETACH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_count_up_from_the_file),
		cmocka_unit_test_setup_teardown(
		    test_rotation_keeps_keep_files_each_under_max_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_files_are_0640_and_owned_as_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reopen_starts_a_new_file_after_a_move, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_full_disk_drops_and_counts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
