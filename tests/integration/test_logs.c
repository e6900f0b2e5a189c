/*
 * Workers' output that lasts (issue 16), against a real arbord: stdout and
 * stderr apart, each line stamped with its time and run; `logs` by lines,
 * bytes, stream and since_ms; a supervisor's subtree merged by time; long
 * lines cut and marked; files rotated, 0640, reopened; a full disk
 * counted; journald's native protocol to a socket the test binds (memfd
 * included); arborctl logs -f over a subtree.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "journal-recv.h"

static json_t *
spawn(int fd, const char *json)
{
	json_error_t jerr;
	json_t *spec = json_loads(json, 0, &jerr);

	if (spec == NULL)
		fail_msg("bad test JSON %s: %s", json, jerr.text);
	return h_ok(fd, "spawn", spec);
}

/* Waits until path has terminated, 60 s at most (a flood through a
 * daemon under ASan on a loaded machine may take a while). */
static void
wait_ended(int fd, const char *path)
{
	json_decref(h_wait(fd, path, "terminated", 60000));
}

/* Returns once the wall clock (the daemon's stamps) is past t_ms: a line
 * written after that is stamped later than one stamped at t_ms. (5 s at
 * most, should the clock be set back meanwhile.) */
static void
wall_past(json_int_t t_ms)
{
	for (int i = 0; i < 5000; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if ((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 > t_ms)
			return;
		usleep(1000);
	}
}

/* The latest t_ms of path's records. */
static json_int_t
last_t_ms(int fd, const char *path)
{
	json_t *r = h_ok(fd, "logs", json_pack("{s:s,s:b}", "path", path,
	    "records", 1)), *e;
	json_int_t t = 0;
	size_t i;

	json_array_foreach(json_object_get(r, "records"), i, e)
		if (h_num(e, "t_ms") > t)
			t = h_num(e, "t_ms");
	json_decref(r);
	assert_true(t > 0);
	return t;
}

static json_t *
logs(int fd, json_t *params)
{
	json_object_set_new(params, "records", json_true());
	return h_ok(fd, "logs", params);
}

static const char *
data_of(const json_t *r)
{
	return h_str(r, "data");
}

/* Polls logs of path until its last lines hold s, 10 s at most. */
static bool
logs_until(int fd, const char *path, const char *s)
{
	for (int i = 0; i < 1000; i++) {
		json_t *r = h_ok(fd, "logs",
		    json_pack("{s:s,s:i}", "path", path, "lines", 20));
		bool found = strstr(data_of(r), s) != NULL;

		json_decref(r);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

static void
test_streams_apart_stamped_with_time_and_run(void **state)
{
	int fd = h_connect(&D);
	json_t *r, *recs, *e;
	json_int_t t2 = 0;
	size_t i;

	json_decref(spawn(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"argv\":[\"sh\",\"-c\",\"echo out; echo err >&2\"]}"));
	wait_ended(fd, "/w");
	/* The second run's lines are stamped after the first's, even when
	 * a run takes less than a millisecond. */
	wall_past(last_t_ms(fd, "/w"));
	json_decref(h_ok(fd, "restart", json_pack("{s:s}", "path", "/w")));
	wait_ended(fd, "/w");

	r = logs(fd, json_pack("{s:s,s:s}", "path", "/w", "stream", "stdout"));
	assert_string_equal(data_of(r), "out\nout\n");
	recs = json_object_get(r, "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_int_equal(h_num(json_array_get(recs, 0), "run"), 1);
	assert_int_equal(h_num(json_array_get(recs, 1), "run"), 2);
	json_array_foreach(recs, i, e)
	{
		assert_string_equal(h_str(e, "stream"), "stdout");
		assert_string_equal(h_str(e, "path"), "/w");
		assert_true(h_num(e, "t_ms") > 1700000000000LL);
	}
	t2 = h_num(json_array_get(recs, 1), "t_ms");
	assert_false(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);

	r = logs(fd, json_pack("{s:s,s:s}", "path", "/w", "stream", "stderr"));
	assert_string_equal(data_of(r), "err\nerr\n");
	json_decref(r);
	r = logs(fd, json_pack("{s:s}", "path", "/w"));
	assert_int_equal(json_array_size(json_object_get(r, "records")), 4);
	json_decref(r);
	/* since_ms: the second run only. */
	r = logs(fd, json_pack("{s:s,s:I}", "path", "/w", "since_ms", t2));
	json_array_foreach(json_object_get(r, "records"), i, e)
	assert_int_equal(h_num(e, "run"), 2);
	json_decref(r);
	h_close(fd);
}

static void
test_lines_and_bytes_give_whole_lines(void **state)
{
	int fd = h_connect(&D);
	json_t *r;

	json_decref(spawn(fd,
	    "{\"name\":\"n\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"argv\":[\"sh\",\"-c\",\"for i in 1 2 3 4 5 6 7 8 9; do echo "
	    "line-$i; done; printf 'caf\\\\303\\\\251 \\\\377\\\\n'\"]}"));
	wait_ended(fd, "/n");
	r = logs(fd, json_pack("{s:s,s:i}", "path", "/n", "lines", 3));
	/* Invalid UTF-8 escaped, valid kept. */
	assert_string_equal(data_of(r), "line-8\nline-9\ncaf\xc3\xa9 \\xff\n");
	assert_true(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);
	/* 20 bytes: the last two whole lines (7 + 11), not a part of one. */
	r = logs(fd, json_pack("{s:s,s:i}", "path", "/n", "bytes", 20));
	assert_string_equal(data_of(r), "line-9\ncaf\xc3\xa9 \\xff\n");
	json_decref(r);
	/* Both: the stricter wins. */
	r = logs(fd, json_pack("{s:s,s:i,s:i}", "path", "/n", "bytes", 1000,
	    "lines", 1));
	assert_string_equal(data_of(r), "caf\xc3\xa9 \\xff\n");
	json_decref(r);
	h_close(fd);
}

/* Creates the file dir/name. */
static void
touch(const char *dir, const char *name)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
}

static void
test_a_supervisor_merges_its_subtree_by_time(void **state)
{
	int fd = h_connect(&D);
	char spec[1024];
	json_t *r, *recs;
	const char *d;

	/* a1, b1, a2 in that order, each written once the one before is
	 * stamped and the clock has moved past it (the test says when, by
	 * a file): not by sleeps, which a loaded machine reorders. */
	snprintf(spec, sizeof spec,
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"a\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"argv\":[\"sh\",\"-c\",\"echo a1; while [ ! -e %s/go-a2 ]; do "
	    "sleep 0.01; done; echo a2\"]},"
	    "{\"name\":\"b\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"argv\":[\"sh\",\"-c\",\"while [ ! -e %s/go-b1 ]; do sleep "
	    "0.01; done; echo b1\"]}]}",
	    D.dir, D.dir);
	json_decref(spawn(fd, spec));
	assert_true(logs_until(fd, "/s/a", "a1"));
	wall_past(last_t_ms(fd, "/s/a"));
	touch(D.dir, "go-b1");
	assert_true(logs_until(fd, "/s/b", "b1"));
	wall_past(last_t_ms(fd, "/s/b"));
	touch(D.dir, "go-a2");
	wait_ended(fd, "/s/a");
	wait_ended(fd, "/s/b");
	r = logs(fd, json_pack("{s:s,s:i}", "path", "/s", "lines", 10));
	d = data_of(r);
	assert_string_equal(d, "/s/a | a1\n/s/b | b1\n/s/a | a2\n");
	recs = json_object_get(r, "records");
	assert_string_equal(h_str(json_array_get(recs, 1), "path"), "/s/b");
	json_decref(r);
	h_close(fd);
}

static void
test_long_lines_are_cut_and_marked(void **state)
{
	int fd = h_connect(&D);
	char spec[512], path[300], *buf;
	json_t *r, *recs;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/long.log", D.dir);
	snprintf(spec, sizeof spec,
	    "{\"name\":\"l\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"argv\":[\"sh\",\"-c\",\"head -c 100000 /dev/zero | tr '\\\\0' "
	    "x; echo\"],\"log\":{\"file\":\"%s\",\"ring\":\"256K\"}}",
	    path);
	json_decref(spawn(fd, spec));
	wait_ended(fd, "/l");
	r = logs(fd, json_pack("{s:s,s:i}", "path", "/l", "lines", 10));
	recs = json_object_get(r, "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_true(json_is_true(json_object_get(json_array_get(recs, 0),
	    "cut")));
	assert_int_equal(json_string_length(json_object_get(
	                     json_array_get(recs, 0), "text")),
	    65536);
	assert_int_equal(json_string_length(json_object_get(
	                     json_array_get(recs, 1), "text")),
	    100000 - 65536);
	json_decref(r);
	/* The file has the piece, the mark, and the rest on the next line. */
	buf = malloc(200000);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, 200000, f);
	fclose(f);
	assert_int_equal(n, 100000 + 6 + 2);
	assert_memory_equal(buf + 65536, " [cut]\n", 7);
	free(buf);
	r = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/l"));
	assert_int_equal(h_num(json_object_get(r, "output"), "cut_lines"), 1);
	json_decref(r);
	h_close(fd);
}

/* A flood is taken a read at a time, not a line at a time: every line is
 * still counted, in the file as written, and the ring holds the last
 * ones, in order. */
static void
test_a_flood_is_counted_whole_and_its_last_lines_kept(void **state)
{
	int fd = h_connect(&D);
	char spec[1024], path[300], *buf, want[64];
	size_t n, lines = 0, bytes = 0;
	json_t *r, *recs;
	FILE *f;

	snprintf(path, sizeof path, "%s/flood.log", D.dir);
	snprintf(spec, sizeof spec,
	    "{\"name\":\"f\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"argv\":[\"sh\",\"-c\",\"echo first >&2; seq 1 300000; "
	    "echo last >&2\"],\"log\":{\"file\":\"%s\","
	    "\"max_bytes\":\"100M\"}}",
	    path);
	json_decref(spawn(fd, spec));
	wait_ended(fd, "/f");
	r = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/f"));
	assert_int_equal(h_num(json_object_get(r, "output"), "stdout_lines"),
	    300000);
	assert_int_equal(h_num(json_object_get(r, "output"), "stderr_lines"),
	    2);
	json_decref(r);
	r = logs(fd, json_pack("{s:s,s:s,s:i}", "path", "/f", "stream",
	    "stdout", "lines", 3));
	assert_string_equal(data_of(r), "299998\n299999\n300000\n");
	assert_true(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);
	r = logs(fd, json_pack("{s:s,s:s,s:i}", "path", "/f", "stream",
	    "stderr", "lines", 5));
	recs = json_object_get(r, "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_string_equal(h_str(json_array_get(recs, 0), "text"), "first");
	assert_string_equal(h_str(json_array_get(recs, 1), "text"), "last");
	json_decref(r);
	/* The file: the 300,000 lines and the two of stderr, whole. */
	for (size_t i = 1; i <= 300000; i++)
		bytes += (size_t)snprintf(want, sizeof want, "%zu\n", i);
	buf = malloc(bytes + 100);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, bytes + 100, f);
	fclose(f);
	assert_int_equal(n, bytes + strlen("first\nlast\n"));
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 300002);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\n299999\n300000\n"));
	free(buf);
	h_close(fd);
}

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
test_files_rotate_at_max_bytes_and_reopen(void **state)
{
	int fd = h_connect(&D);
	char spec[1024], path[300], name[320];
	struct stat st;
	json_t *r;

	snprintf(path, sizeof path, "%s/web.log", D.dir);
	/* 200 lines of 100 bytes into files of 4 KiB, 2 kept. */
	snprintf(spec, sizeof spec,
	    "{\"name\":\"sup\",\"kind\":\"supervisor\",\"log\":{\"file\":"
	    "\"%s\",\"max_bytes\":\"4K\",\"keep\":2},\"children\":[{\"name\":"
	    "\"r\",\"kind\":\"exec\",\"restart\":\"temporary\",\"argv\":["
	    "\"sh\",\"-c\",\"i=0; while [ $i -lt 200 ]; do printf "
	    "'%%099d\\\\n' $i; i=$((i+1)); done; while :; do sleep 0.05; "
	    "echo tick; done\"]}]}",
	    path);
	json_decref(spawn(fd, spec));
	assert_true(logs_until(fd, "/sup/r", "tick"));
	for (int n = 0; n <= 2; n++) {
		snprintf(name, sizeof name, n ? "%s.%d" : "%s", path, n);
		assert_true(size_of(name) > 0);
		assert_true(size_of(name) <= 4096);
		assert_int_equal(stat(name, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0640);
		assert_int_equal(st.st_uid, geteuid());
	}
	snprintf(name, sizeof name, "%s.3", path);
	assert_int_equal(size_of(name), -1);

	/* An external logrotate moves the file; reopen starts a new one. */
	snprintf(name, sizeof name, "%s.moved", path);
	assert_int_equal(rename(path, name), 0);
	r = h_ok(fd, "reopen", json_pack("{s:s}", "path", "/sup"));
	assert_int_equal(h_num(r, "files"), 1);
	json_decref(r);
	for (int i = 0; i < 1000 && size_of(path) <= 0; i++)
		usleep(10000);
	assert_true(size_of(path) > 0);
	r = h_ok(fd, "reopen", NULL);
	assert_int_equal(h_num(r, "files"), 1);
	json_decref(r);
	h_close(fd);
}

static void
test_a_full_disk_is_counted_not_waited_on(void **state)
{
	int fd = h_connect(&D);
	char spec[1024], mnt[300];
	json_t *r, *out;

	snprintf(mnt, sizeof mnt, "%s/tiny", D.dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") == -1) {
		print_message("cannot mount a tmpfs (%s): skipped\n",
		    strerror(errno));
		h_close(fd);
		skip();
	}
	snprintf(spec, sizeof spec,
	    "{\"name\":\"full\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"argv\":[\"sh\",\"-c\",\"yes full-disk | head -c 300000\"],"
	    "\"log\":{\"file\":\"%s/f.log\",\"max_bytes\":\"1M\"}}",
	    mnt);
	json_decref(spawn(fd, spec));
	wait_ended(fd, "/full");
	r = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/full"));
	out = json_object_get(r, "output");
	assert_true(h_num(out, "file_dropped_bytes") > 200000);
	assert_int_equal(h_num(out, "stdout_lines"), 300000 / 10);
	json_decref(r);
	/* The daemon goes on answering. */
	json_decref(h_ok(fd, "ping", NULL));
	h_close(fd);
	umount2(mnt, MNT_DETACH);
}

static void
test_journal_gets_native_entries_and_memfd(void **state)
{
	struct daemon_proc d;
	char sock[300], arg[320];
	const char *args[] = { "--journal-socket", arg, NULL };
	json_t *e, *got[3] = { NULL, NULL, NULL };
	int jfd, fd;

	snprintf(sock, sizeof sock, "%s/journal.sock", D.dir);
	snprintf(arg, sizeof arg, "%s", sock);
	assert_true((jfd = jr_bind(sock)) != -1);
	/* A send buffer smaller than the long line: the memfd way. */
	setenv("ARBOR_JOURNAL_SNDBUF", "8192", 1);
	h_start(&d, args);
	unsetenv("ARBOR_JOURNAL_SNDBUF");
	fd = h_connect(&d);
	json_decref(spawn(fd,
	    "{\"name\":\"j\",\"kind\":\"exec\",\"restart\":\"temporary\","
	    "\"log\":{\"journal\":true},\"argv\":[\"sh\",\"-c\",\"echo "
	    "'<2>crit'; echo oops >&2; head -c 50000 /dev/zero | tr '\\\\0' "
	    "y; echo\"]}"));
	for (int i = 0; i < 3 && (e = jr_next(jfd, 10000)) != NULL; i++) {
		const char *m = h_str(e, "MESSAGE");

		got[m[0] == 'c' ? 0 : m[0] == 'o' ? 1 : 2] = e;
	}
	assert_non_null(got[0]);
	assert_string_equal(h_str(got[0], "PRIORITY"), "2");
	assert_string_equal(h_str(got[0], "MESSAGE"), "crit");
	assert_string_equal(h_str(got[0], "SYSLOG_IDENTIFIER"), "j");
	assert_string_equal(h_str(got[0], "ARBOR_PATH"), "/j");
	assert_string_equal(h_str(got[0], "ARBOR_STREAM"), "stdout");
	assert_non_null(h_str(got[0], "ARBOR_ID"));
	assert_true(atoi(h_str(got[0], "ARBOR_PID")) > 0);
	assert_non_null(got[1]);
	assert_string_equal(h_str(got[1], "PRIORITY"), "3");
	assert_string_equal(h_str(got[1], "ARBOR_STREAM"), "stderr");
	assert_non_null(got[2]);
	assert_string_equal(h_str(got[2], "_MEMFD"), "1");
	assert_int_equal(json_string_length(json_object_get(got[2],
	                     "MESSAGE")),
	    50000);
	for (int i = 0; i < 3; i++)
		json_decref(got[i]);
	h_close(fd);
	close(jfd);
	assert_int_equal(h_stop(&d), 0);
}

/* Runs $ARBORCTL with args for at most timeout_s; its stdout. When
 * until is not NULL, it is ended (SIGTERM) once its output holds every
 * string of that NULL-terminated list. */
static char *
run_ctl(const char *const *args, int timeout_s, const char *const *until)
{
	const char *bin = getenv("ARBORCTL") ? getenv("ARBORCTL") :
	                                       "./arborctl";
	const char *argv[16];
	int p[2], i = 0, status;
	char *out = calloc(1, 1 << 16);
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	argv[i++] = bin;
	argv[i++] = "-s";
	argv[i++] = D.sock;
	for (; *args != NULL; args++)
		argv[i++] = *args;
	argv[i] = NULL;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		alarm((unsigned)timeout_s);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], out + len, (1 << 16) - 1 - len)) > 0) {
		bool all = until != NULL;

		len += (size_t)r;
		for (int k = 0; all && until[k] != NULL; k++)
			all = strstr(out, until[k]) != NULL;
		if (all) {
			kill(pid, SIGTERM);
			until = NULL;
		}
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	return out;
}

static void
test_arborctl_follows_a_subtree_with_path_prefixes(void **state)
{
	int fd = h_connect(&D);
	char *out;

	json_decref(spawn(fd,
	    "{\"name\":\"f\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"sh\",\"-c\","
	    "\"while :; do echo from-a; sleep 0.1; done\"]},"
	    "{\"name\":\"b\",\"kind\":\"exec\",\"argv\":[\"sh\",\"-c\","
	    "\"echo b-old; sleep 0.5; while :; do echo from-b >&2; sleep "
	    "0.1; done\"]}]}"));
	assert_true(logs_until(fd, "/f/b", "b-old"));
	/* logs -f runs until interrupted: once it printed what is looked
	 * for (the alarm only bounds the test). */
	out = run_ctl((const char *[]){ "logs", "-f", "-n", "100", "/f",
	                  NULL },
	    60,
	    (const char *[]){ "/f/b | b-old\n", "/f/a | from-a\n",
	        "/f/b | from-b\n", NULL });
	/* The tail first, then what came: both nodes, each line prefixed. */
	assert_non_null(strstr(out, "/f/b | b-old\n"));
	assert_non_null(strstr(out, "/f/a | from-a\n"));
	assert_non_null(strstr(out, "/f/b | from-b\n"));
	free(out);
	/* Several paths; --json: one object per line. */
	out = run_ctl((const char *[]){ "logs", "--json", "-n", "1", "/f/a",
	                  "/f/b", NULL },
	    30, NULL);
	{
		char *nl = strchr(out, '\n');
		json_t *o;

		assert_non_null(nl);
		*nl = '\0';
		o = json_loads(out, 0, NULL);
		assert_non_null(o);
		assert_non_null(h_str(o, "path"));
		assert_non_null(h_str(o, "text"));
		json_decref(o);
		o = json_loads(nl + 1, 0, NULL);
		assert_non_null(o);
		json_decref(o);
	}
	free(out);
	json_decref(h_ok(fd, "cancel",
	    json_pack("{s:s,s:b}", "path", "/f", "wait", 1)));
	h_close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_a_flood_is_counted_whole_and_its_last_lines_kept,
		    h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_streams_apart_stamped_with_time_and_run, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_lines_and_bytes_give_whole_lines, h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_a_supervisor_merges_its_subtree_by_time, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_long_lines_are_cut_and_marked, h_setup, h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_files_rotate_at_max_bytes_and_reopen, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_a_full_disk_is_counted_not_waited_on, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_journal_gets_native_entries_and_memfd, h_setup,
		    h_teardown_files),
		cmocka_unit_test_setup_teardown(
		    test_arborctl_follows_a_subtree_with_path_prefixes, h_setup,
		    h_teardown_files),
	};

	if (getenv("ARBOR_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ARBOR_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
