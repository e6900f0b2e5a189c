/*
 * Tests for proto/spec-inst.c: an exec spec with `instances` parsed into
 * the supervisor of its copies, where each field goes, the way back to
 * JSON, copies, comparison and the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spec.h"

static const struct spec_limits lim = { 20000, 8 };

static struct node_spec *
parse_ok(const char *text, size_t *count)
{
	struct node_spec *spec = NULL;
	struct proto_err err;
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);

	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	if (spec_parse(o, &lim, NULL, &spec, count, &err) != 0)
		fail_msg("%s: %s", text, err.message);
	json_decref(o);
	return spec;
}

static void
parse_bad(const char *text, int code, const char *needle)
{
	struct node_spec *spec = NULL;
	struct proto_err err;
	json_t *o = json_loads(text, 0, NULL);

	assert_non_null(o);
	proto_err_clear(&err);
	assert_int_equal(spec_parse(o, &lim, NULL, &spec, NULL, &err), -1);
	assert_null(spec);
	assert_int_equal(err.code, code);
	if (strstr(err.message, needle) == NULL)
		fail_msg("%s: \"%s\" has no \"%s\"", text, err.message, needle);
	json_decref(o);
}

static const char *
env_get(char **env, const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], key, len) == 0 && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

static void
test_instances_make_a_supervisor_of_copies(void **state)
{
	struct node_spec *s;
	size_t count = 0;

	s = parse_ok("{\"name\":\"web\",\"kind\":\"exec\",\"argv\":[\"srv\"],"
	             "\"env\":{\"A\":\"1\",\"ARBOR_INSTANCE\":\"x\"},"
	             "\"instances\":3,\"restart\":\"permanent\","
	             "\"backoff_ms\":7,\"shutdown_ms\":900,\"timeout_ms\":60000,"
	             "\"sockets\":[{\"name\":\"http\",\"listen\":"
	             "\"tcp:127.0.0.1:8080\"}],\"ready\":\"fd\"}",
	    &count);
	assert_int_equal(count, 4);
	assert_int_equal(s->kind, KIND_SUPERVISOR);
	assert_string_equal(s->name, "web");
	assert_non_null(s->inst);
	assert_int_equal(s->inst->n, 3);
	assert_false(s->inst->intensity);
	/* The group: sockets, restart, backoff, one_for_one, 3 per
	 * instance; no deadline or start timeout of its own. */
	assert_non_null(s->sockets);
	assert_int_equal(s->restart, RESTART_PERMANENT);
	assert_int_equal(s->backoff_ms, 7);
	assert_int_equal(s->timeout_ms, -1);
	assert_int_equal(s->start_timeout_ms, -1);
	assert_int_equal(s->u.sup.strategy, STRATEGY_ONE_FOR_ONE);
	assert_int_equal(s->u.sup.max_restarts, 9);
	assert_int_equal(s->u.sup.period_ms, SPEC_PERIOD_MS);
	/* Each instance: the rest, named by its index. */
	assert_int_equal(s->u.sup.nchildren, 3);
	for (uint32_t i = 0; i < 3; i++) {
		const struct node_spec *c = s->u.sup.children[i];
		char want[8];

		snprintf(want, sizeof want, "%u", i);
		assert_int_equal(c->kind, KIND_EXEC);
		assert_string_equal(c->name, want);
		assert_null(c->sockets);
		assert_null(c->inst);
		assert_int_equal(c->shutdown_ms, 900);
		assert_int_equal(c->timeout_ms, 60000);
		assert_int_equal(c->u.exec.ready, READY_FD);
		assert_string_equal(c->u.exec.argv[0], "srv");
		assert_string_equal(env_get(c->u.exec.env, "A"), "1");
		assert_string_equal(env_get(c->u.exec.env, "ARBOR_INSTANCE"),
		    want);
	}
	assert_true(spec_inst_takes(s, "2"));
	assert_false(spec_inst_takes(s, "3"));
	assert_false(spec_inst_takes(s, "02"));
	assert_false(spec_inst_takes(s, "x"));
	spec_free(s);
}

static void
test_instances_round_trip_as_the_exec_spec(void **state)
{
	static const char *const texts[] = {
		"{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"instances\":2}",
		"{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"instances\":4,\"max_restarts\":50,\"period_ms\":1000,"
		"\"health\":{\"tcp\":\"127.0.0.1:9\"},"
		"\"sockets\":[{\"name\":\"s\",\"listen\":\"tcp:127.0.0.1:9000\"}]}",
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct node_spec *a = parse_ok(texts[i], NULL), *b, *c;
		struct proto_err err;
		json_t *j = spec_to_json(a), *j2;

		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j,
		                        "kind")),
		    "exec");
		assert_null(json_object_get(j, "children"));
		assert_int_equal(json_integer_value(json_object_get(j,
		                     "instances")),
		    a->inst->n);
		assert_int_equal(spec_parse(j, &lim, NULL, &b, NULL, &err), 0);
		assert_true(spec_equal_shallow(a, b));
		assert_int_equal(b->u.sup.nchildren, a->inst->n);
		j2 = spec_to_json(b);
		assert_true(json_equal(j, j2));
		c = spec_dup(a);
		assert_non_null(c);
		assert_ptr_not_equal(c->inst->tmpl, a->inst->tmpl);
		assert_true(spec_equal_shallow(a, c));
		json_decref(j);
		json_decref(j2);
		spec_free(a);
		spec_free(b);
		spec_free(c);
	}
}

static void
test_instances_count_and_template_are_policy(void **state)
{
	struct node_spec *a, *b, *c, *d;

	a = parse_ok("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	             "\"instances\":2}",
	    NULL);
	b = parse_ok("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	             "\"instances\":5}",
	    NULL);
	c = parse_ok("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"b\"],"
	             "\"instances\":2}",
	    NULL);
	d = parse_ok("{\"name\":\"w\",\"kind\":\"supervisor\"}", NULL);
	/* Another count or program changes the node, not its own work:
	 * the instances carry that. */
	assert_false(spec_equal_shallow(a, b));
	assert_true(spec_same_work(a, b));
	assert_false(spec_equal_shallow(a, c));
	assert_true(spec_same_work(a, c));
	assert_false(spec_same_work(a, d));
	assert_int_equal(b->u.sup.max_restarts, 15);
	spec_free(a);
	spec_free(b);
	spec_free(c);
	spec_free(d);
}

static void
test_instances_refused_where_they_do_not_fit(void **state)
{
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	          "\"instances\":0}",
	    PROTO_INVALID_PARAMS, "\"instances\" must be between 1 and 1000");
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	          "\"instances\":1001}",
	    PROTO_INVALID_PARAMS, "between 1 and 1000");
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	          "\"instances\":\"3\"}",
	    PROTO_INVALID_PARAMS, "instances");
	parse_bad("{\"name\":\"w\",\"kind\":\"sleep\",\"instances\":2}",
	    PROTO_INVALID_PARAMS, "\"instances\" does not apply to kind");
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	          "\"max_restarts\":2}",
	    PROTO_INVALID_PARAMS, "without \"instances\"");
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	          "\"instances\":2,\"strategy\":\"one_for_all\"}",
	    PROTO_INVALID_PARAMS, "\"strategy\" does not apply");
	parse_bad("{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	          "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	          "\"instances\":-1}]}",
	    PROTO_INVALID_PARAMS, "children[0].instances");
	{
		const struct spec_limits small = { 5, 8 };
		struct node_spec *spec = NULL;
		struct proto_err err;
		json_t *o = json_pack("{s:s,s:s,s:[s],s:i}", "name", "w",
		    "kind", "exec", "argv", "a", "instances", 5);

		assert_int_equal(spec_parse(o, &small, NULL, &spec, NULL,
		                     &err),
		    -1);
		assert_int_equal(err.code, PROTO_LIMIT);
		json_decref(o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instances_make_a_supervisor_of_copies),
		cmocka_unit_test(test_instances_round_trip_as_the_exec_spec),
		cmocka_unit_test(test_instances_count_and_template_are_policy),
		cmocka_unit_test(test_instances_refused_where_they_do_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
