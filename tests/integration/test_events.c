/*
 * watch and unwatch end to end: events in the order the tree made them,
 * path filters, output events, since replays, gaps, subscribers that do
 * not read (overflow, with the daemon's memory bounded), limits, and
 * arborctl watch / logs -f.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

/* Subscribes; returns the subscription id, *seq the current seq. */
static json_int_t
watch(int fd, const char *path, bool output, json_int_t since,
    json_int_t *seq)
{
	json_t *p = json_pack("{s:s,s:b}", "path", path, "output", output);
	json_t *r;
	json_int_t sub;

	if (since >= 0)
		json_object_set_new(p, "since", json_integer(since));
	r = h_ok(fd, "watch", p);
	sub = h_num(r, "subscription");
	if (seq != NULL)
		*seq = h_num(r, "seq");
	assert_true(sub > 0);
	json_decref(r);
	return sub;
}

/* The next event's params (a new reference); NULL after timeout_ms. */
static json_t *
next_event(int fd, int timeout_ms)
{
	for (;;) {
		json_t *msg = h_recv(fd, timeout_ms), *p;

		if (msg == NULL)
			return NULL;
		if (strcmp(h_str(msg, "method") ? h_str(msg, "method") : "",
		    "event") == 0) {
			p = json_incref(json_object_get(msg, "params"));
			json_decref(msg);
			return p;
		}
		json_decref(msg);
	}
}

/* The events of a replay (a watch with since, answered with now): read
 * until the one with seq now, however the daemon paced them; each is
 * handed to fn, when not NULL. Fails when one is missing after 10 s. */
static int
read_replay(int fd, json_int_t now, void (*fn)(json_t *, void *), void *arg)
{
	int n = 0;

	for (;;) {
		json_t *e = next_event(fd, 10000);
		json_int_t seq;

		if (e == NULL)
			fail_msg("the replay stopped before seq %lld (%d events)",
			    (long long)now, n);
		seq = h_num(e, "seq");
		n++;
		if (fn != NULL)
			fn(e, arg);
		json_decref(e);
		if (seq >= now)
			return n;
	}
}

static void
spawn_tree(int fd, const char *name, int children, const char *kind)
{
	json_t *kids = json_array(), *spec;
	char cname[32];

	for (int i = 0; i < children; i++) {
		snprintf(cname, sizeof cname, "c%d", i);
		json_array_append_new(kids, json_pack("{s:s,s:s}", "name",
		    cname, "kind", kind));
	}
	spec = json_pack("{s:s,s:s,s:o}", "name", name, "kind", "supervisor",
	    "children", kids);
	json_decref(h_ok(fd, "spawn", spec));
}

/* Under h_call's own 10 s, so a slow daemon is a timeout error that
 * says so, not "no answer". */
static void
wait_running(int fd, const char *path)
{
	json_decref(h_ok(fd, "wait", json_pack("{s:s,s:s,s:i}", "path", path,
	    "for", "running", "timeout_ms", 8000)));
}

/* Spawns, runs, cancels and removes a tree of n sleep actors: about
 * 5 n events. */
static void
churn(int fd, const char *name, int n)
{
	char path[64];

	snprintf(path, sizeof path, "/%s", name);
	spawn_tree(fd, name, n, "sleep");
	wait_running(fd, path);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b,s:b}", "path",
	    path, "wait", 1, "remove", 1)));
}

static int
event_index(json_t *evs, const char *type, const char *path,
    const char *to)
{
	size_t i;
	json_t *e;

	json_array_foreach(evs, i, e) {
		if (strcmp(h_str(e, "type"), type) == 0 &&
		    strcmp(h_str(e, "path"), path) == 0 &&
		    (to == NULL || strcmp(h_str(e, "to"), to) == 0))
			return (int)i;
	}
	return -1;
}

/* Events until one matches type/path/to (included). */
static json_t *
collect_until(int fd, const char *type, const char *path, const char *to)
{
	json_t *evs = json_array(), *e;

	for (;;) {
		e = next_event(fd, 10000);
		if (e == NULL)
			fail_msg("no %s event for %s", type, path);
		json_array_append_new(evs, e);
		if (strcmp(h_str(e, "type"), type) == 0 &&
		    strcmp(h_str(e, "path"), path) == 0 &&
		    (to == NULL || strcmp(h_str(e, "to"), to) == 0))
			return evs;
	}
}

static void
assert_seq_increasing(json_t *evs, json_int_t after)
{
	size_t i;
	json_t *e;

	json_array_foreach(evs, i, e) {
		assert_true(h_num(e, "seq") > after);
		after = h_num(e, "seq");
		assert_true(h_num(e, "ts_ms") > 0);
		assert_true(h_num(e, "subscription") > 0);
	}
}

static void
test_events_follow_the_tree_in_order(void **state)
{
	int w = h_connect(&D), c = h_connect(&D);
	json_int_t seq;
	json_t *evs;

	watch(w, "/", false, -1, &seq);
	spawn_tree(c, "t", 3, "sleep");
	wait_running(c, "/t");
	evs = collect_until(w, "state", "/t", "running");
	assert_seq_increasing(evs, seq);
	/* Parents are announced before their children. */
	assert_true(event_index(evs, "spawned", "/t", NULL) <
	    event_index(evs, "spawned", "/t/c0", NULL));
	assert_true(event_index(evs, "spawned", "/t/c0", NULL) <
	    event_index(evs, "spawned", "/t/c2", NULL));
	assert_true(event_index(evs, "state", "/t/c2", "running") >= 0);
	seq = h_num(json_array_get(evs, json_array_size(evs) - 1), "seq");
	json_decref(evs);

	json_decref(h_ok(c, "cancel", json_pack("{s:s,s:s}", "path", "/t",
	    "reason", "test")));
	evs = collect_until(w, "state", "/t", "exited");
	assert_seq_increasing(evs, seq);
	/* Children terminate before their parent, in reverse order. */
	assert_true(event_index(evs, "state", "/t/c2", "exited") <
	    event_index(evs, "state", "/t/c0", "exited"));
	assert_true(event_index(evs, "state", "/t/c0", "exited") <
	    event_index(evs, "state", "/t", "exited"));
	{
		json_t *e = json_array_get(evs, (size_t)event_index(evs,
		    "state", "/t", "stopping"));

		assert_string_equal(h_str(e, "from"), "running");
		assert_string_equal(h_str(e, "cause"), "cancelled: test");
		assert_int_equal(h_num(e, "id"), h_num(json_array_get(evs,
		    (size_t)event_index(evs, "state", "/t", "exited")), "id"));
	}
	seq = h_num(json_array_get(evs, json_array_size(evs) - 1), "seq");
	json_decref(evs);

	json_decref(h_ok(c, "restart", json_pack("{s:s}", "path", "/t")));
	evs = collect_until(w, "state", "/t", "running");
	assert_seq_increasing(evs, seq);
	assert_true(event_index(evs, "state", "/t/c0", "running") >= 0);
	assert_int_equal(event_index(evs, "spawned", "/t", NULL), -1);
	json_decref(evs);

	json_decref(h_ok(c, "cancel", json_pack("{s:s,s:b}", "path", "/t",
	    "wait", 1)));
	json_decref(h_ok(c, "remove", json_pack("{s:s}", "path", "/t")));
	evs = collect_until(w, "removed", "/t", NULL);
	/* Removed: children before parents. */
	assert_true(event_index(evs, "removed", "/t/c0", NULL) <
	    event_index(evs, "removed", "/t", NULL));
	json_decref(evs);
	h_close(w);
	h_close(c);
}

static void
test_path_filter_matches_whole_names(void **state)
{
	int w = h_connect(&D), c = h_connect(&D);
	json_t *e;

	watch(w, "/a", false, -1, NULL);
	spawn_tree(c, "ab", 1, "sleep");	/* not under /a */
	spawn_tree(c, "a", 1, "sleep");
	wait_running(c, "/a");
	while ((e = next_event(w, 500)) != NULL) {
		const char *p = h_str(e, "path");

		assert_true(strcmp(p, "/a") == 0 || strncmp(p, "/a/", 3) == 0);
		json_decref(e);
	}
	h_close(w);
	h_close(c);
}

static void
test_output_events_only_when_asked(void **state)
{
	int w = h_connect(&D), q = h_connect(&D), c = h_connect(&D);
	json_t *spec, *e;
	bool seen = false;

	watch(w, "/o", true, -1, NULL);
	watch(q, "/o", false, -1, NULL);
	spec = json_pack("{s:s,s:s,s:[s,s,s]}", "name", "o", "kind", "exec",
	    "argv", "sh", "-c", "printf 'hello\\377\\n'; exec sleep 30");
	json_decref(h_ok(c, "spawn", spec));
	while (!seen && (e = next_event(w, 10000)) != NULL) {
		if (strcmp(h_str(e, "type"), "output") == 0) {
			/* Invalid UTF-8 arrives replaced, as valid JSON. */
			assert_string_equal(h_str(e, "data"),
			    "hello\xef\xbf\xbd\n");
			assert_string_equal(h_str(e, "path"), "/o");
			seen = true;
		}
		json_decref(e);
	}
	assert_true(seen);
	while ((e = next_event(q, 300)) != NULL) {
		assert_string_not_equal(h_str(e, "type"), "output");
		json_decref(e);
	}
	json_decref(h_ok(c, "cancel", json_pack("{s:s,s:b}", "path", "/o",
	    "wait", 1)));
	h_close(w);
	h_close(q);
	h_close(c);
}

static void
test_since_replays_what_was_missed(void **state)
{
	int c = h_connect(&D), w;
	json_int_t before, now, sub;
	json_t *e, *first = NULL;
	int n = 0;

	json_decref(h_ok(c, "ping", NULL));
	w = h_connect(&D);
	watch(w, "/", false, -1, &before);
	h_close(w);
	churn(c, "r", 5);
	w = h_connect(&D);
	sub = watch(w, "/", false, before, &now);
	assert_true(now > before);
	/* Everything after before, in order (read to now: the replay is
	 * paced, a burst per loop turn), then live events. */
	while (n < now - before) {
		e = next_event(w, 10000);
		assert_non_null(e);
		assert_int_equal(h_num(e, "subscription"), sub);
		assert_int_equal(h_num(e, "seq"), before + 1 + n);
		if (first == NULL)
			first = json_incref(e);
		n++;
		json_decref(e);
	}
	assert_string_equal(h_str(first, "type"), "spawned");
	assert_string_equal(h_str(first, "path"), "/r");
	json_decref(first);
	/* Nothing more was replayed: the next is the first live one. */
	spawn_tree(c, "live", 0, "sleep");
	e = next_event(w, 10000);
	assert_non_null(e);
	assert_int_equal(h_num(e, "seq"), now + 1);
	json_decref(e);
	h_close(w);
	h_close(c);
}

static void
no_gap(json_t *e, void *arg)
{
	assert_string_not_equal(h_str(e, "type"), "gap");
}

static void
test_since_older_than_the_history_starts_with_a_gap(void **state)
{
	int c = h_connect(&D), w = h_connect(&D);
	json_int_t now;
	json_t *e;
	int n = 0;

	/* Five events a node (spawned, running, stopping, exited,
	 * removed): over the 65,536 held, so the first ones are gone. */
	for (int i = 0; i < 7; i++) {
		char name[8];

		snprintf(name, sizeof name, "g%d", i);
		churn(c, name, 2000);
	}
	watch(w, "/", false, 1, &now);
	e = next_event(w, 10000);
	assert_non_null(e);
	assert_string_equal(h_str(e, "type"), "gap");
	assert_true(h_num(e, "seq") > 1);
	json_decref(e);
	/* The rest of the history, to now: no other gap. */
	n = read_replay(w, now, no_gap, NULL);
	assert_true(n >= 10000);
	h_close(w);
	h_close(c);
}


static void
test_a_subscriber_that_does_not_read_overflows_memory_stays_bounded(
    void **state)
{
	int c = h_connect(&D), w = h_connect(&D), small = 4096;
	json_int_t sub, last_seq = 0;
	json_t *e;
	long rss, max_rss = 0;
	int overflows = 0, after = 0, n = 0;

	setsockopt(w, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	sub = watch(w, "/", false, -1, NULL);
	/* Over 100,000 events while w reads nothing. */
	for (int round = 0; round < 8; round++) {
		char name[16];

		snprintf(name, sizeof name, "big%d", round);
		churn(c, name, 3000);
		if ((rss = h_rss_kib(D.pid)) > max_rss)
			max_rss = rss;
	}
	json_t *st = h_ok(c, "stats", NULL);
	assert_true(h_num(st, "event_seq") > 100000);
	json_decref(st);
	print_message("arbord RSS peaked at %ld KiB\n", max_rss);
	/* Sanitizer builds use far more memory: they set their own bound. */
	assert_true(max_rss > 0 && max_rss < (getenv("ARBOR_TEST_RSS_KIB") ?
	    atol(getenv("ARBOR_TEST_RSS_KIB")) : 64 * 1024));
	/* What w finally reads: events in order, one overflow, then none.
	 * Read until the overflow (the daemon writes as w drains, and may
	 * be slow to), then until a second of silence for any after it. */
	while ((e = next_event(w, overflows > 0 ? 1000 : 10000)) != NULL) {
		assert_int_equal(h_num(e, "subscription"), sub);
		if (overflows > 0)
			after++;
		if (strcmp(h_str(e, "type"), "overflow") == 0)
			overflows++;
		else
			assert_true(h_num(e, "seq") > last_seq);
		last_seq = h_num(e, "seq");
		n++;
		json_decref(e);
	}
	assert_int_equal(overflows, 1);
	assert_int_equal(after, 0);
	assert_true(n < 100000);
	/* The subscription is gone; resubscribing with since works. */
	assert_int_equal(h_err(w, "unwatch", json_pack("{s:I}",
	    "subscription", sub), NULL), -32001);
	watch(w, "/", false, last_seq, NULL);
	e = next_event(w, 10000);
	assert_non_null(e);
	assert_true(strcmp(h_str(e, "type"), "gap") == 0 ||
	    h_num(e, "seq") == last_seq + 1);
	json_decref(e);
	h_close(w);
	h_close(c);
}

static void
test_unwatch_and_limits(void **state)
{
	int w = h_connect(&D), o = h_connect(&D);
	json_int_t sub = watch(w, "/", false, -1, NULL), s2 = 0;
	const char *kind;
	json_t *r, *e;
	int i;

	/* Only its own connection can end a subscription. */
	assert_int_equal(h_err(o, "unwatch", json_pack("{s:I}",
	    "subscription", sub), &kind), -32001);
	assert_string_equal(kind, "not_found");
	r = h_ok(w, "unwatch", json_pack("{s:I}", "subscription", sub));
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	assert_int_equal(h_err(w, "unwatch", json_pack("{s:I}",
	    "subscription", sub), NULL), -32001);
	assert_int_equal(h_err(w, "unwatch", json_pack("{s:s}",
	    "subscription", "x"), NULL), -32602);
	assert_int_equal(h_err(w, "watch", json_pack("{s:s}", "path",
	    "no/slash"), NULL), -32602);
	assert_int_equal(h_err(w, "watch", json_pack("{s:i}", "bogus", 1),
	    NULL), -32602);
	spawn_tree(o, "quiet", 0, "sleep");
	e = next_event(w, 300);
	assert_null(e);

	for (i = 0; i < 64; i++)
		s2 = watch(w, "/", false, -1, NULL);
	assert_true(s2 > sub);
	assert_int_equal(h_err(w, "watch", NULL, &kind), -32004);
	assert_string_equal(kind, "limit");
	/* Another connection has its own allowance. */
	watch(o, "/", false, -1, NULL);
	r = h_ok(o, "stats", NULL);
	assert_int_equal(h_num(r, "subscriptions"), 65);
	json_decref(r);
	/* A closed connection takes its subscriptions with it (once the
	 * daemon has seen it close: 10 s at most). */
	h_close(w);
	for (i = 0; i < 1000; i++) {
		r = h_ok(o, "stats", NULL);
		json_int_t n = h_num(r, "subscriptions");

		json_decref(r);
		if (n == 1)
			break;
		usleep(10000);
	}
	assert_true(i < 1000);
	h_close(o);
}

/* Polls until the daemon holds n subscriptions (10 s at most); returns
 * the last count seen. */
static json_int_t
subscriptions_until(int fd, json_int_t n)
{
	json_int_t v = -1;
	json_t *r;

	for (int i = 0; i < 1000 && v != n; i++) {
		if (i > 0)
			usleep(10000);
		r = h_ok(fd, "stats", NULL);
		v = h_num(r, "subscriptions");
		json_decref(r);
	}
	return v;
}

/* Polls logs of path until its data holds s (10 s at most). */
static bool
logs_until(int fd, const char *path, const char *s)
{
	json_t *r;
	bool found = false;

	for (int i = 0; i < 1000 && !found; i++) {
		if (i > 0)
			usleep(10000);
		r = h_ok(fd, "logs", json_pack("{s:s}", "path", path));
		found = strstr(h_str(r, "data") ? h_str(r, "data") : "", s) !=
		    NULL;
		json_decref(r);
	}
	return found;
}

/* Runs $ARBORCTL with args; returns its stdout (malloc'd). It is ended
 * by SIGTERM once its output holds until (when not NULL), by SIGALRM
 * after timeout_s whatever happens. */
static char *
run_ctl(const char *const *args, int timeout_s, int *status,
    const char *until)
{
	const char *bin = getenv("ARBORCTL") ? getenv("ARBORCTL") :
	    "./arborctl";
	const char *argv[16];
	int p[2], i = 0;
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
		len += (size_t)r;
		if (until != NULL && strstr(out, until) != NULL) {
			kill(pid, SIGTERM);
			until = NULL;
		}
	}
	close(p[0]);
	waitpid(pid, status, 0);
	return out;
}

static void
test_arborctl_watch_and_logs_follow(void **state)
{
	int c = h_connect(&D), status, cstatus;
	json_t *spec;
	char *out;
	pid_t pid;

	spec = json_pack("{s:s,s:s,s:[s,s,s]}", "name", "lf", "kind", "exec",
	    "argv", "sh", "-c", "echo one; sleep 0.5; echo two; sleep 30");
	json_decref(h_ok(c, "spawn", spec));
	/* "one" is in the tail before logs -f starts. */
	assert_true(logs_until(c, "/lf", "one"));
	assert_int_equal(subscriptions_until(c, 0), 0);
	/* Removing the node ends logs -f with status 0: once logs -f has
	 * subscribed and "two" was printed, which it then has been sent. */
	pid = fork();
	if (pid == 0) {
		int fd = h_connect(&D);

		if (subscriptions_until(fd, 1) != 1 ||
		    !logs_until(fd, "/lf", "two"))
			_exit(1);
		json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b,s:b}",
		    "path", "/lf", "wait", 1, "remove", 1)));
		_exit(0);
	}
	out = run_ctl((const char *[]){ "logs", "-f", "/lf", NULL }, 60,
	    &status, NULL);
	assert_int_equal(waitpid(pid, &cstatus, 0), pid);
	assert_int_equal(cstatus, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(out, "one\ntwo\n");
	free(out);

	/* watch runs until interrupted: a signal ends it here, once it has
	 * printed the last line wanted (the alarm only bounds the test).
	 * logs -f's subscription goes first, so that the one counted is
	 * watch's. */
	assert_int_equal(subscriptions_until(c, 0), 0);
	pid = fork();
	if (pid == 0) {
		int fd = h_connect(&D);

		if (subscriptions_until(fd, 1) != 1)
			_exit(1);
		spawn_tree(fd, "wt", 0, "sleep");
		json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:s}", "path",
		    "/wt", "reason", "bye")));
		_exit(0);
	}
	out = run_ctl((const char *[]){ "watch", "/wt", NULL }, 60, &status,
	    "/wt stopping -> exited (cancelled: bye)\n");
	assert_int_equal(waitpid(pid, &cstatus, 0), pid);
	assert_int_equal(cstatus, 0);
	assert_true(WIFSIGNALED(status));
	assert_non_null(strstr(out, "/wt spawned (supervisor)\n"));
	assert_non_null(strstr(out, "/wt running -> stopping (cancelled: "
	    "bye)\n"));
	assert_non_null(strstr(out, "/wt stopping -> exited (cancelled: "
	    "bye)\n"));
	free(out);
	h_close(c);
}

static void
add_output(json_t *e, void *arg)
{
	char *out = arg;

	if (strcmp(h_str(e, "type"), "output") == 0)
		strncat(out, h_str(e, "data"), 4096 - strlen(out) - 1);
}

/* Output seen by a replay with since, up to now: "" when none. */
static char *
replayed_output(int fd, json_int_t since)
{
	char *out = calloc(1, 4096);
	json_int_t now;

	watch(fd, "/", true, since, &now);
	assert_true(now > since);
	read_replay(fd, now, add_output, out);
	return out;
}

static void
print_and_wait(int c, const char *name, const char *word)
{
	char cmd[64], path[32];
	json_t *spec, *r;
	bool seen = false;

	snprintf(cmd, sizeof cmd, "echo %s; exec sleep 30", word);
	snprintf(path, sizeof path, "/%s", name);
	spec = json_pack("{s:s,s:s,s:[s,s,s]}", "name", name, "kind", "exec",
	    "argv", "sh", "-c", cmd);
	json_decref(h_ok(c, "spawn", spec));
	for (int i = 0; i < 1000 && !seen; i++) {
		r = h_ok(c, "logs", json_pack("{s:s}", "path", path));
		seen = strstr(h_str(r, "data"), word) != NULL;
		json_decref(r);
		if (!seen)
			usleep(10000);
	}
	assert_true(seen);
}

static void
test_output_is_kept_for_since_only_while_someone_watches_output(
    void **state)
{
	int c = h_connect(&D), w = h_connect(&D), w2;
	json_int_t start;
	char *got;

	json_decref(h_ok(c, "ping", NULL));
	watch(w, "/", false, -1, &start);
	/* Nobody watches output: a flood would cost a copy of each byte. */
	print_and_wait(c, "before", "unwatched");
	h_close(w);
	w = h_connect(&D);
	watch(w, "/", true, -1, NULL);
	print_and_wait(c, "during", "watched");
	h_close(w);
	/* The watcher that comes back with since gets what it saw, not
	 * what nobody watched; state events are all there. */
	w2 = h_connect(&D);
	got = replayed_output(w2, start);
	assert_null(strstr(got, "unwatched"));
	assert_non_null(strstr(got, "watched\n"));
	free(got);
	json_decref(h_ok(c, "cancel", json_pack("{s:s,s:b}", "path", "/",
	    "wait", 1)));
	h_close(w2);
	h_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_events_follow_the_tree_in_order, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_path_filter_matches_whole_names, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_output_events_only_when_asked, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_since_replays_what_was_missed, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_output_is_kept_for_since_only_while_someone_watches_output,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_since_older_than_the_history_starts_with_a_gap,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_subscriber_that_does_not_read_overflows_memory_stays_bounded,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_unwatch_and_limits,
		    h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(
		    test_arborctl_watch_and_logs_follow, h_setup, h_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
