/*
 * daemon/monitor/events.c: the history is bounded, `since` replays what came after
 * it in order, a since older than the history reports a gap first, a
 * subscriber that does not read is paced from the history instead of
 * queued to, and one the history leaves behind is dropped after an
 * overflow event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>

#include "events.h"
#include "tree_fixture.h"

#define MAX_MSGS 64

/* A subscriber: what it was sent, and how full its output says it is. */
struct sink {
	uint64_t seq[MAX_MSGS];
	char type[MAX_MSGS][16];
	size_t n;
	size_t queued;
	int waits;
	int overflows;
};

static void
sink_send(void *arg, const struct events_msg *m)
{
	struct sink *k = arg;
	const char *t = strstr(m->body, "\"type\":\"");

	if (k->n == MAX_MSGS)
		return;
	k->seq[k->n] = m->seq;
	if (t != NULL)
		sscanf(t + 8, "%15[a-z]", k->type[k->n]);
	k->n++;
}

static size_t
sink_queued(void *arg)
{
	return ((struct sink *)arg)->queued;
}

static void
sink_wait_writable(void *arg)
{
	((struct sink *)arg)->waits++;
}

static void
sink_overflowed(void *arg, uint64_t sub)
{
	((struct sink *)arg)->overflows++;
}

static const struct events_sink test_sink = {
	.send = sink_send,
	.queued = sink_queued,
	.wait_writable = sink_wait_writable,
	.overflowed = sink_overflowed,
};

static struct events *
new_events(struct fixture *f, struct node **n)
{
	struct events *ev = events_new(f->base);

	assert_non_null(ev);
	*n = spawn_ok(f, "{\"name\":\"a\",\"kind\":\"sleep\",\"ms\":600000}");
	return ev;
}

/* count state events of n, as the tree would announce them. */
static void
emit(struct events *ev, struct node *n, size_t count)
{
	struct tree_event te = {
		.type = TREE_EV_STATE, .node = n, .from = NODE_STARTING,
		.to = NODE_RUNNING,
	};

	for (size_t i = 0; i < count; i++)
		events_tree_event(ev, &te);
}

static struct events_sub *
subscribe(struct events *ev, struct sink *k, bool has_since, uint64_t since)
{
	struct events_filter flt = {
		.path = "/", .has_since = has_since, .since = since,
	};
	struct proto_err err;
	struct events_sub *s;

	s = events_subscribe(ev, k, &test_sink, k, &flt, &err);
	assert_non_null(s);
	return s;
}

static void
turn(struct fixture *f)
{
	event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static void
test_the_history_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct node *n;
	struct events *ev = new_events(f, &n);

	emit(ev, n, EVENTS_HISTORY + 10);
	assert_int_equal(events_seq(ev), EVENTS_HISTORY + 10);
	assert_int_equal(events_history_size(ev), EVENTS_HISTORY);
	events_free(ev);
}

static void
test_since_replays_what_came_after_it_then_goes_live(void **state)
{
	struct fixture *f = *state;
	struct sink k = { 0 };
	struct node *n;
	struct events *ev = new_events(f, &n);

	emit(ev, n, 5);
	subscribe(ev, &k, true, 2);
	assert_int_equal(k.n, 0);	/* not before the caller answered */
	turn(f);
	assert_int_equal(k.n, 3);
	assert_int_equal(k.seq[0], 3);
	assert_int_equal(k.seq[1], 4);
	assert_int_equal(k.seq[2], 5);
	emit(ev, n, 1);
	assert_int_equal(k.n, 4);
	assert_int_equal(k.seq[3], 6);
	events_free(ev);
}

static void
test_a_since_older_than_the_history_reports_a_gap_first(void **state)
{
	struct fixture *f = *state;
	struct sink k = { 0 };
	struct node *n;
	struct events *ev = new_events(f, &n);

	emit(ev, n, EVENTS_HISTORY + 5);
	subscribe(ev, &k, true, 1);
	k.queued = 0;
	turn(f);
	assert_true(k.n >= 2);
	assert_string_equal(k.type[0], "gap");
	assert_int_equal(k.seq[0], 5);		/* the last one it missed */
	assert_string_equal(k.type[1], "state");
	assert_int_equal(k.seq[1], 6);
	events_free(ev);
}

static void
test_a_since_past_the_sequence_is_a_gap(void **state)
{
	struct fixture *f = *state;
	struct sink k = { 0 };
	struct node *n;
	struct events *ev = new_events(f, &n);

	emit(ev, n, 3);
	subscribe(ev, &k, true, 1000);
	turn(f);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.type[0], "gap");
	assert_int_equal(k.seq[0], 3);
	events_free(ev);
}

static void
test_a_slow_subscriber_is_paced_from_the_history(void **state)
{
	struct fixture *f = *state;
	struct sink k = { 0 };
	struct node *n;
	struct events *ev = new_events(f, &n);

	subscribe(ev, &k, false, 0);
	emit(ev, n, 1);
	assert_int_equal(k.n, 1);
	k.queued = EVENTS_REPLAY_HIGH + 1;
	emit(ev, n, 3);
	assert_int_equal(k.n, 1);		/* nothing queued to it */
	assert_int_equal(k.waits, 1);
	k.queued = 0;
	events_owner_writable(ev, &k);
	turn(f);
	assert_int_equal(k.n, 4);
	assert_int_equal(k.seq[1], 2);
	assert_int_equal(k.seq[3], 4);
	emit(ev, n, 1);				/* live again */
	assert_int_equal(k.n, 5);
	assert_int_equal(k.overflows, 0);
	events_free(ev);
}

static void
test_a_subscriber_the_history_leaves_behind_overflows(void **state)
{
	struct fixture *f = *state;
	struct sink k = { 0 };
	struct node *n;
	struct events *ev = new_events(f, &n);

	subscribe(ev, &k, false, 0);
	k.queued = EVENTS_REPLAY_HIGH + 1;
	emit(ev, n, 1);				/* paced from seq 1 */
	emit(ev, n, EVENTS_HISTORY + 1);	/* seq 1 is evicted */
	assert_int_equal(k.overflows, 1);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.type[0], "overflow");
	assert_int_equal(k.seq[0], 0);		/* where it got to */
	assert_int_equal(events_sub_count(ev), 0);
	events_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_the_history_is_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_since_replays_what_came_after_it_then_goes_live,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_since_older_than_the_history_reports_a_gap_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_since_past_the_sequence_is_a_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_slow_subscriber_is_paced_from_the_history, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_subscriber_the_history_leaves_behind_overflows,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
