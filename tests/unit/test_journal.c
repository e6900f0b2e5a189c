/*
 * The journal sink: entries in journald's native protocol, with the
 * fields the issue names; a leading "<N>" sets PRIORITY; values with a
 * newline in the binary form; an entry too big for a datagram goes in a
 * sealed memfd; a socket that is not there drops the line, counted;
 * queued lines go out together at the end of the loop turn, in order, and
 * wait for a full socket instead of being dropped.
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

#include <event2/event.h>

#include "journal-recv.h"
#include "journal.h"
#include "lines.h"

static const char *
field(const json_t *e, const char *name)
{
	return json_string_value(json_object_get(e, name));
}

static json_t *
encode(const char *text, int stream)
{
	static char buf[LINES_MAX + 8192];
	struct journal_line l = {
		.name = "w1",
		.path = "/web/w1",
		.id = 42,
		.pid = 1234,
		.stream = stream,
		.text = text,
		.len = strlen(text),
	};
	size_t n = journal_encode(&l, buf, sizeof buf);

	assert_true(n <= sizeof buf);
	return jr_parse(buf, n);
}

static void
test_an_entry_has_every_field(void **state)
{
	json_t *e = encode("hello", 0);

	assert_non_null(e);
	assert_string_equal(field(e, "MESSAGE"), "hello");
	assert_string_equal(field(e, "PRIORITY"), "6");
	assert_string_equal(field(e, "SYSLOG_IDENTIFIER"), "w1");
	assert_string_equal(field(e, "ARBOR_PATH"), "/web/w1");
	assert_string_equal(field(e, "ARBOR_ID"), "42");
	assert_string_equal(field(e, "ARBOR_PID"), "1234");
	assert_string_equal(field(e, "ARBOR_STREAM"), "stdout");
	json_decref(e);
	e = encode("oops", 1);
	assert_string_equal(field(e, "PRIORITY"), "3");
	assert_string_equal(field(e, "ARBOR_STREAM"), "stderr");
	json_decref(e);
}

static void
test_a_level_prefix_sets_the_priority_and_goes(void **state)
{
	json_t *e = encode("<2>disk on fire", 0);

	assert_string_equal(field(e, "PRIORITY"), "2");
	assert_string_equal(field(e, "MESSAGE"), "disk on fire");
	json_decref(e);
	/* Not a level: kept as it is. */
	e = encode("<9>x", 1);
	assert_string_equal(field(e, "PRIORITY"), "3");
	assert_string_equal(field(e, "MESSAGE"), "<9>x");
	json_decref(e);
}

static void
test_a_value_with_a_newline_takes_the_binary_form(void **state)
{
	char buf[64];
	size_t n = journal_field(buf, sizeof buf, 0, "MESSAGE", "a\nb", 3);

	assert_int_equal(n, 7 + 1 + 8 + 3 + 1);
	assert_memory_equal(buf, "MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n", n);
	/* Too small a buffer: the size it needs. */
	assert_int_equal(journal_field(buf, 4, 0, "MESSAGE", "x", 1), 10);
}

static void
test_sends_datagrams_and_big_entries_in_a_memfd(void **state)
{
	char dir[] = "/tmp/arbor-journal-XXXXXX", path[64];
	char *big = malloc(60000);
	struct journal_line l = { .name = "w", .path = "/w", .id = 1 };
	struct journal_stats st0 = *journal_stats();
	json_t *e;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/socket", dir);
	assert_true((fd = jr_bind(path)) != -1);
	/* A send buffer smaller than the entry: EMSGSIZE, as for a big
	 * entry against journald's limit. */
	setenv("ARBOR_JOURNAL_SNDBUF", "8192", 1);
	assert_int_equal(journal_configure(path), 0);
	l.text = "small";
	l.len = 5;
	assert_true(journal_send(&l));
	e = jr_next(fd, 2000);
	assert_non_null(e);
	assert_string_equal(field(e, "MESSAGE"), "small");
	assert_null(json_object_get(e, "_MEMFD"));
	json_decref(e);

	memset(big, 'z', 60000);
	l.text = big;
	l.len = 60000;
	assert_true(journal_send(&l));
	e = jr_next(fd, 2000);
	assert_non_null(e);
	assert_string_equal(field(e, "_MEMFD"), "1");
	assert_int_equal(json_string_length(json_object_get(e, "MESSAGE")),
	    60000);
	json_decref(e);
	assert_int_equal(journal_stats()->memfd - st0.memfd, 1);
	assert_int_equal(journal_stats()->sent - st0.sent, 2);

	/* Nobody there: dropped and counted, never an error. */
	close(fd);
	unlink(path);
	l.text = "lost";
	l.len = 4;
	assert_false(journal_send(&l));
	assert_int_equal(journal_stats()->dropped - st0.dropped, 1);
	journal_close();
	unsetenv("ARBOR_JOURNAL_SNDBUF");
	rmdir(dir);
	free(big);
}

static void
test_queued_lines_go_at_the_end_of_the_turn_and_wait_for_room(void **state)
{
	char dir[] = "/tmp/arbor-journal-XXXXXX", path[64], text[32];
	struct event_base *base = event_base_new();
	struct journal_line l = { .name = "w", .path = "/w", .id = 1 };
	uint64_t dropped = 0;
	int fd, n = 0, total = 3 + 600;
	json_t *e;

	assert_non_null(base);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/socket", dir);
	assert_true((fd = jr_bind(path)) != -1);
	assert_int_equal(journal_configure(path), 0);
	assert_int_equal(journal_attach(base), 0);
	for (int i = 0; i < total; i++) {
		if (i == 3) {
			/* Nothing before the turn ends; then all three. */
			assert_null(jr_next(fd, 100));
			event_base_loop(base, EVLOOP_NONBLOCK);
		}
		snprintf(text, sizeof text, "line %d", i);
		l.text = text;
		l.len = strlen(text);
		assert_true(journal_queue(&l, &dropped));
	}
	/* 600 at once: more than the receiving socket's queue holds
	 * (net.unix.max_dgram_qlen), so some wait for room. */
	for (int tries = 0; n < total && tries < 5000; tries++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		while (n < total && (e = jr_next(fd, 1)) != NULL) {
			snprintf(text, sizeof text, "line %d", n++);
			assert_string_equal(field(e, "MESSAGE"), text);
			json_decref(e);
		}
	}
	assert_int_equal(n, total);
	assert_int_equal(dropped, 0);
	journal_detach();
	close(fd);
	unlink(path);
	rmdir(dir);
	event_base_free(base);
}

/* Sends n queued lines "tag i" in one loop turn and reads them back, in
 * order; the datagrams they took. */
static unsigned
queue_turn(struct event_base *base, int fd, const char *tag, int n,
    bool memfd)
{
	struct journal_line l = { .name = "w", .path = "/w", .id = 1 };
	unsigned d0 = jr_datagrams();
	uint64_t dropped = 0;
	char text[32];
	json_t *e;

	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof text, "%s %d", tag, i);
		l.text = text;
		l.len = strlen(text);
		l.stream = i % 2;
		assert_true(journal_queue(&l, &dropped));
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (int i = 0; i < n; i++) {
		assert_non_null(e = jr_next(fd, 2000));
		snprintf(text, sizeof text, "%s %d", tag, i);
		assert_string_equal(field(e, "MESSAGE"), text);
		assert_string_equal(field(e, "PRIORITY"), i % 2 ? "3" : "6");
		assert_int_equal(json_object_get(e, "_MEMFD") != NULL, memfd);
		json_decref(e);
	}
	assert_null(jr_next(fd, 50));
	assert_int_equal(dropped, 0);
	return jr_datagrams() - d0;
}

static void
test_a_turns_entries_share_datagrams_each_ended_by_an_empty_line(
    void **state)
{
	char dir[] = "/tmp/arbor-journal-XXXXXX", path[64];
	struct event_base *base = event_base_new();
	uint64_t sent;
	int fd;

	assert_non_null(base);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/socket", dir);
	assert_true((fd = jr_bind(path)) != -1);
	assert_int_equal(journal_configure(path), 0);
	assert_int_equal(journal_attach(base), 0);
	sent = journal_stats()->sent;
	/* 100 entries of about 90 bytes: one datagram. */
	assert_int_equal(queue_turn(base, fd, "packed", 100, false), 1);
	assert_int_equal(journal_stats()->sent - sent, 100);
	/* 1,000 (about 90 KiB): a few datagrams of at most 32 KiB. */
	assert_in_range(queue_turn(base, fd, "more", 1000, false), 3, 5);
	journal_detach();

	/* A send buffer smaller than a packed datagram: the whole of it
	 * goes in a memfd, its entries still apart and in order. */
	setenv("ARBOR_JOURNAL_SNDBUF", "4096", 1);
	assert_int_equal(journal_configure(path), 0);
	assert_int_equal(journal_attach(base), 0);
	sent = journal_stats()->memfd;
	assert_int_equal(queue_turn(base, fd, "memfd", 100, true), 1);
	assert_int_equal(journal_stats()->memfd - sent, 100);
	journal_detach();
	unsetenv("ARBOR_JOURNAL_SNDBUF");
	close(fd);
	unlink(path);
	rmdir(dir);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_entry_has_every_field),
		cmocka_unit_test(test_a_level_prefix_sets_the_priority_and_goes),
		cmocka_unit_test(
		    test_a_turns_entries_share_datagrams_each_ended_by_an_empty_line),
		cmocka_unit_test(test_a_value_with_a_newline_takes_the_binary_form),
		cmocka_unit_test(test_sends_datagrams_and_big_entries_in_a_memfd),
		cmocka_unit_test(
		    test_queued_lines_go_at_the_end_of_the_turn_and_wait_for_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
