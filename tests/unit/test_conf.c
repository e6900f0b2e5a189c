/*
 * daemon/service/conf.c: a reload applies the difference between the file and the
 * nodes it made before, and nothing else: unchanged nodes keep running
 * untouched, changed ones are restarted with their new spec, removed ones
 * are cancelled and removed, added ones are spawned, and client nodes are
 * left alone. Runs a whole daemon context in this process, on its own loop.
 */
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

#include "conf.h"
#include "daemon.h"
#include "tree.h"

struct ctx {
	char dir[64];
	char sock[128];
	char cfg[128];
	struct daemon d;
	json_t *result;		/* the reload's answer */
	bool done;
};

static const char v1[] =
    "[{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
    "  {\"name\":\"c1\",\"kind\":\"tick\"},"
    "  {\"name\":\"c2\",\"kind\":\"sleep\",\"ms\":600000}]},"
    " {\"name\":\"b\",\"kind\":\"sleep\",\"ms\":600000},"
    " {\"name\":\"gone\",\"kind\":\"sleep\",\"ms\":600000}]";
static const char v2[] =
    "[{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
    "  {\"name\":\"c1\",\"kind\":\"tick\"},"
    "  {\"name\":\"c2\",\"kind\":\"sleep\",\"ms\":700000}]},"
    " {\"name\":\"b\",\"kind\":\"sleep\",\"ms\":600000},"
    " {\"name\":\"new\",\"kind\":\"sleep\",\"ms\":600000}]";

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Runs the loop until cond holds, for 5 s at most. */
static void
run_until(struct ctx *c, bool (*cond)(struct ctx *))
{
	for (int i = 0; i < 500 && !cond(c); i++) {
		struct timeval tv = { 0, 10 * 1000 };

		event_base_loopexit(c->d.base, &tv);
		event_base_dispatch(c->d.base);
	}
	assert_true(cond(c));
}

static bool
settled(struct ctx *c)
{
	return conf_settled(c->d.config);
}

static bool
reloaded(struct ctx *c)
{
	return c->done;
}

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	struct daemon_config cfg = {
		.max_nodes = 1000, .max_message = 1 << 20,
		.max_connections = 8, .max_batch = 16, .max_pending = 16,
	};
	struct proto_err err;

	assert_non_null(c);
	snprintf(c->dir, sizeof c->dir, "/tmp/arbor-conf-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->sock, sizeof c->sock, "%s/sock", c->dir);
	snprintf(c->cfg, sizeof c->cfg, "%s/tree.json", c->dir);
	write_file(c->cfg, v1);
	cfg.socket_path = c->sock;
	cfg.config_path = c->cfg;
	assert_int_equal(daemon_init(&c->d, &cfg), 0);
	assert_int_equal(conf_start(c->d.config, &err), 0);
	run_until(c, settled);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	json_decref(c->result);
	daemon_free(&c->d);
	unlink(c->cfg);
	unlink(c->sock);
	rmdir(c->dir);
	free(c);
	return 0;
}

static void
reload_done(void *arg, json_t *result, const struct proto_err *err)
{
	struct ctx *c = arg;

	c->result = result;
	c->done = true;
}

/* Writes text over the config and reloads it to the end. */
static void
reload(struct ctx *c, const char *text)
{
	struct proto_err err;

	write_file(c->cfg, text);
	assert_int_equal(conf_reload(c->d.config, reload_done, c, &err), 0);
	run_until(c, reloaded);
	assert_non_null(c->result);
}

static struct node *
at(struct ctx *c, const char *path)
{
	struct proto_err err;

	return tree_lookup(c->d.tree, path, &err);
}

static bool
listed(struct ctx *c, const char *key, const char *path)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(c->result, key), i, v)
		if (strcmp(json_string_value(v), path) == 0)
			return true;
	return false;
}

static size_t
count(struct ctx *c, const char *key)
{
	return json_array_size(json_object_get(c->result, key));
}

static void
test_unchanged_nodes_are_not_restarted(void **state)
{
	struct ctx *c = *state;
	uint64_t a = at(c, "/a")->id, c1 = at(c, "/a/c1")->id;
	uint64_t b = at(c, "/b")->id;

	reload(c, v2);
	assert_int_equal(at(c, "/a")->id, a);
	assert_int_equal(at(c, "/a/c1")->id, c1);
	assert_int_equal(at(c, "/b")->id, b);
	assert_int_equal(at(c, "/a/c1")->restarts, 0);
	assert_int_equal(json_integer_value(json_object_get(c->result,
	    "unchanged")), 3);
}

static void
test_changed_nodes_are_restarted_with_their_new_spec(void **state)
{
	struct ctx *c = *state;
	uint64_t c2 = at(c, "/a/c2")->id;

	reload(c, v2);
	assert_true(listed(c, "restarted", "/a/c2"));
	assert_int_equal(count(c, "restarted"), 1);
	/* In place: the same node, at the same place, started again. */
	assert_int_equal(at(c, "/a/c2")->id, c2);
	assert_ptr_equal(at(c, "/a")->children[1], at(c, "/a/c2"));
	assert_int_equal(at(c, "/a/c2")->restarts, 1);
	assert_int_equal(at(c, "/a/c2")->spec->u.actor.ms, 700000);
}

/* Only policy changed (strategy, intensity, backoff, restart type):
 * taken on in place, nothing restarted. */
static void
test_policy_changes_are_taken_on_without_a_restart(void **state)
{
	struct ctx *c = *state;
	uint64_t a = at(c, "/a")->id, c1 = at(c, "/a/c1")->id;

	reload(c, "[{\"name\":\"a\",\"kind\":\"supervisor\","
	    "\"strategy\":\"one_for_all\",\"max_restarts\":7,"
	    "\"period_ms\":9000,\"backoff_ms\":50,\"children\":["
	    "  {\"name\":\"c1\",\"kind\":\"tick\",\"restart\":"
	    "\"permanent\"},"
	    "  {\"name\":\"c2\",\"kind\":\"sleep\",\"ms\":600000}]},"
	    " {\"name\":\"b\",\"kind\":\"sleep\",\"ms\":600000},"
	    " {\"name\":\"gone\",\"kind\":\"sleep\",\"ms\":600000}]");
	assert_true(listed(c, "updated", "/a"));
	assert_true(listed(c, "updated", "/a/c1"));
	assert_int_equal(count(c, "updated"), 2);
	assert_int_equal(count(c, "restarted"), 0);
	assert_int_equal(at(c, "/a")->id, a);
	assert_int_equal(at(c, "/a")->restarts, 0);
	assert_int_equal(at(c, "/a")->state, NODE_RUNNING);
	assert_int_equal(at(c, "/a")->spec->u.sup.strategy,
	    STRATEGY_ONE_FOR_ALL);
	assert_int_equal(at(c, "/a")->spec->u.sup.max_restarts, 7);
	assert_int_equal(at(c, "/a/c1")->id, c1);
	assert_int_equal(at(c, "/a/c1")->restarts, 0);
	assert_int_equal(at(c, "/a/c1")->spec->restart, RESTART_PERMANENT);
}

static void
test_removed_nodes_are_cancelled_and_removed(void **state)
{
	struct ctx *c = *state;

	reload(c, v2);
	assert_true(listed(c, "cancelled", "/gone"));
	assert_int_equal(count(c, "cancelled"), 1);
	assert_null(at(c, "/gone"));
}

static void
test_added_nodes_are_spawned(void **state)
{
	struct ctx *c = *state;

	assert_null(at(c, "/new"));
	reload(c, v2);
	assert_true(listed(c, "spawned", "/new"));
	assert_int_equal(count(c, "spawned"), 1);
	assert_non_null(at(c, "/new"));
	assert_int_equal(count(c, "failed"), 0);
}

static void
test_the_same_file_again_changes_nothing(void **state)
{
	struct ctx *c = *state;
	uint64_t c2 = at(c, "/a/c2")->id;

	reload(c, v1);
	assert_int_equal(count(c, "spawned") + count(c, "cancelled") +
	    count(c, "restarted"), 0);
	assert_int_equal(at(c, "/a/c2")->id, c2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_unchanged_nodes_are_not_restarted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_changed_nodes_are_restarted_with_their_new_spec, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_policy_changes_are_taken_on_without_a_restart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_removed_nodes_are_cancelled_and_removed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_added_nodes_are_spawned,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_same_file_again_changes_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
