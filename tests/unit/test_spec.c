/*
 * Tests for proto/spec.c: every node-spec field, defaults, kind rules,
 * nested errors with their location, limits, and the JSON round trip.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "path.h"
#include "spec.h"

static const struct spec_limits lim = { 20000, 8 };

static json_t *
obj(const char *text)
{
	json_error_t	 jerr;
	json_t		*o;

	o = json_loads(text, 0, &jerr);
	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return (o);
}

static struct node_spec *
parse_ok(const char *text)
{
	struct node_spec	*spec = NULL;
	struct proto_err	 err;
	const char		*parent;
	json_t			*o = obj(text);

	if (spec_parse(o, &lim, &parent, &spec, NULL, &err) != 0)
		fail_msg("%s: %s", text, err.message);
	json_decref(o);
	return (spec);
}

static void
parse_bad(const char *text, int code, const char *needle)
{
	struct node_spec	*spec = (struct node_spec *)&spec;
	struct proto_err	 err;
	const char		*parent = NULL;
	json_t			*o = obj(text);

	proto_err_clear(&err);
	assert_int_equal(spec_parse(o, &lim, &parent, &spec, NULL, &err), -1);
	assert_null(spec);
	assert_int_equal(err.code, code);
	if (strstr(err.message, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
	json_decref(o);
}

static void
test_spec_exec_defaults(void **state)
{
	struct node_spec	*s;

	s = parse_ok("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"]}");
	assert_string_equal(s->name, "w");
	assert_int_equal(s->kind, KIND_EXEC);
	assert_int_equal(s->restart, RESTART_TRANSIENT);
	assert_int_equal(s->shutdown_ms, SPEC_SHUTDOWN_MS);
	assert_int_equal(s->timeout_ms, -1);
	assert_int_equal(s->backoff_ms, SPEC_BACKOFF_MS);
	assert_int_equal(s->backoff_max_ms, SPEC_BACKOFF_MAX_MS);
	assert_int_equal(s->start_timeout_ms, SPEC_START_TIMEOUT_MS);
	assert_string_equal(s->u.exec.argv[0], "true");
	assert_null(s->u.exec.argv[1]);
	assert_null(s->u.exec.env);
	assert_null(s->u.exec.cwd);
	assert_int_equal(s->u.exec.stop_signal, SIGTERM);
	assert_int_equal(s->u.exec.ready, READY_EXEC);
	spec_free(s);
}

static void
test_spec_exec_all_fields(void **state)
{
	struct node_spec	*s;

	s = parse_ok("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sh\","
	    "\"-c\",\"\"],\"env\":{\"A\":\"1\",\"B\":\"\"},\"cwd\":\"/tmp\","
	    "\"stop_signal\":\"SIGINT\",\"ready\":\"fd\","
	    "\"restart\":\"permanent\",\"shutdown_ms\":0,\"timeout_ms\":10,"
	    "\"backoff_ms\":5,\"backoff_max_ms\":5,\"start_timeout_ms\":7}");
	assert_string_equal(s->u.exec.argv[2], "");
	assert_string_equal(s->u.exec.env[0], "A=1");
	assert_string_equal(s->u.exec.env[1], "B=");
	assert_null(s->u.exec.env[2]);
	assert_string_equal(s->u.exec.cwd, "/tmp");
	assert_int_equal(s->u.exec.stop_signal, SIGINT);
	assert_int_equal(s->u.exec.ready, READY_FD);
	assert_int_equal(s->restart, RESTART_PERMANENT);
	assert_int_equal(s->shutdown_ms, 0);
	assert_int_equal(s->timeout_ms, 10);
	assert_int_equal(s->backoff_ms, 5);
	assert_int_equal(s->backoff_max_ms, 5);
	assert_int_equal(s->start_timeout_ms, 7);
	spec_free(s);
}

static void
test_spec_actor_defaults(void **state)
{
	struct node_spec	*s;

	s = parse_ok("{\"name\":\"s\",\"kind\":\"sleep\"}");
	assert_int_equal(s->u.actor.ms, -1);
	spec_free(s);
	s = parse_ok("{\"name\":\"s\",\"kind\":\"sleep\",\"ms\":0}");
	assert_int_equal(s->u.actor.ms, 0);
	spec_free(s);
	s = parse_ok("{\"name\":\"t\",\"kind\":\"tick\"}");
	assert_int_equal(s->u.actor.interval_ms, SPEC_INTERVAL_MS);
	spec_free(s);
	s = parse_ok("{\"name\":\"f\",\"kind\":\"fail\"}");
	assert_int_equal(s->u.actor.after_ms, 0);
	assert_int_equal(s->u.actor.code, SPEC_FAIL_CODE);
	spec_free(s);
	s = parse_ok("{\"name\":\"f\",\"kind\":\"fail\",\"after_ms\":20,"
	    "\"code\":255}");
	assert_int_equal(s->u.actor.after_ms, 20);
	assert_int_equal(s->u.actor.code, 255);
	spec_free(s);
}

static void
test_spec_supervisor_defaults_and_children(void **state)
{
	struct node_spec	*s;

	s = parse_ok("{\"name\":\"sup\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"a\",\"kind\":\"sleep\"},"
	    "{\"name\":\"b\",\"kind\":\"supervisor\",\"strategy\":"
	    "\"rest_for_one\",\"max_restarts\":0,\"period_ms\":1}]}");
	assert_int_equal(s->u.sup.strategy, STRATEGY_ONE_FOR_ONE);
	assert_int_equal(s->u.sup.max_restarts, SPEC_MAX_RESTARTS);
	assert_int_equal(s->u.sup.period_ms, SPEC_PERIOD_MS);
	assert_int_equal(s->u.sup.nchildren, 2);
	assert_string_equal(s->u.sup.children[0]->name, "a");
	assert_int_equal(s->u.sup.children[1]->u.sup.strategy,
	    STRATEGY_REST_FOR_ONE);
	assert_int_equal(s->u.sup.children[1]->u.sup.max_restarts, 0);
	assert_int_equal(s->u.sup.children[1]->u.sup.period_ms, 1);
	assert_int_equal(s->u.sup.children[1]->u.sup.nchildren, 0);
	spec_free(s);
}

static void
test_spec_parent_default_and_given(void **state)
{
	struct node_spec	*spec;
	struct proto_err	 err;
	const char		*parent = NULL;
	size_t			 count = 0;
	json_t			*o;

	o = obj("{\"name\":\"a\",\"kind\":\"sleep\"}");
	assert_int_equal(spec_parse(o, &lim, &parent, &spec, &count, &err), 0);
	assert_string_equal(parent, "/");
	assert_int_equal(count, 1);
	spec_free(spec);
	json_decref(o);

	o = obj("{\"parent\":\"/web\",\"name\":\"a\",\"kind\":\"sleep\"}");
	assert_int_equal(spec_parse(o, &lim, &parent, &spec, NULL, &err), 0);
	assert_string_equal(parent, "/web");
	spec_free(spec);
	/* Without parent_out, "parent" is not allowed. */
	assert_int_equal(spec_parse(o, &lim, NULL, &spec, NULL, &err), -1);
	assert_non_null(strstr(err.message, "parent"));
	json_decref(o);
}

static void
test_spec_bad_parent_path(void **state)
{
	parse_bad("{\"parent\":\"/a//b\",\"name\":\"a\",\"kind\":\"sleep\"}",
	    PROTO_INVALID_PARAMS, "parent \"/a//b\" has an empty component");
	parse_bad("{\"parent\":3,\"name\":\"a\",\"kind\":\"sleep\"}",
	    PROTO_INVALID_PARAMS, "field \"parent\" must be a string");
}

static void
test_spec_kind_is_required_and_checked_first(void **state)
{
	parse_bad("{\"name\":\"a\"}", PROTO_INVALID_PARAMS,
	    "missing field \"kind\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"daemon\"}", PROTO_INVALID_PARAMS,
	    "field \"kind\" must be one of \"supervisor\"");
	parse_bad("{\"bogus\":1,\"kind\":\"nope\"}", PROTO_INVALID_PARAMS,
	    "field \"kind\"");
}

static void
test_spec_name_required_and_valid(void **state)
{
	parse_bad("{\"kind\":\"sleep\"}", PROTO_INVALID_PARAMS,
	    "missing field \"name\"");
	parse_bad("{\"kind\":\"sleep\",\"name\":\"a/b\"}", PROTO_INVALID_PARAMS,
	    "name \"a/b\" has a character other than");
	parse_bad("{\"kind\":\"sleep\",\"name\":\"..\"}", PROTO_INVALID_PARAMS,
	    "name \"..\"");
	parse_bad("{\"kind\":\"sleep\",\"name\":\"\"}", PROTO_INVALID_PARAMS,
	    "empty");
}

static void
test_spec_field_on_wrong_kind(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],\"ms\":1}",
	    PROTO_INVALID_PARAMS,
	    "field \"ms\" does not apply to kind \"exec\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"sleep\",\"children\":[]}",
	    PROTO_INVALID_PARAMS,
	    "field \"children\" does not apply to kind \"sleep\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"argv\":[\"x\"]}",
	    PROTO_INVALID_PARAMS, "does not apply to kind \"supervisor\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"tick\",\"code\":1}",
	    PROTO_INVALID_PARAMS, "\"code\" does not apply to kind \"tick\"");
}

static void
test_spec_unknown_field(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"sleep\",\"colour\":1}",
	    PROTO_INVALID_PARAMS, "unknown field \"colour\"");
}

static void
test_spec_argv_rules(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\"}", PROTO_INVALID_PARAMS,
	    "missing field \"argv\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[]}",
	    PROTO_INVALID_PARAMS, "non-empty array");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":\"ls\"}",
	    PROTO_INVALID_PARAMS, "non-empty array");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"ls\",1]}",
	    PROTO_INVALID_PARAMS, "argv[1] is not a string");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"\"]}",
	    PROTO_INVALID_PARAMS, "argv[0] is empty");
}

static void
test_spec_argv_with_nul_is_rejected(void **state)
{
	struct node_spec	*spec;
	struct proto_err	 err;
	json_t			*o;

	/* Only reachable when JSON is built in C, not parsed: still check. */
	o = json_pack("{s:s,s:s,s:[s%]}", "name", "a", "kind", "exec", "argv",
	    "a\0b", (size_t)3);
	assert_non_null(o);
	assert_int_equal(spec_parse(o, &lim, NULL, &spec, NULL, &err), -1);
	assert_non_null(strstr(err.message, "NUL"));
	json_decref(o);
}

static void
test_spec_env_rules(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"env\":[\"A=1\"]}", PROTO_INVALID_PARAMS, "object of strings");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"env\":{\"A\":1}}", PROTO_INVALID_PARAMS, "env.A is not a string");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"env\":{\"A=B\":\"1\"}}", PROTO_INVALID_PARAMS, "contains \"=\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"env\":{\"\":\"1\"}}", PROTO_INVALID_PARAMS, "empty variable");
}

static void
test_spec_health_parsed_round_tripped_and_policy(void **state)
{
	struct node_spec *a, *b, *c;
	json_t *j;

	a = parse_ok("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"health\":{\"http\":\"http://localhost:8080/h?x=1\","
	    "\"interval_ms\":500,\"failures\":2}}");
	assert_non_null(a->u.exec.health);
	assert_int_equal(a->u.exec.health->kind, HEALTH_HTTP);
	assert_string_equal(a->u.exec.health->host, "127.0.0.1");
	assert_int_equal(a->u.exec.health->port, 8080);
	assert_string_equal(a->u.exec.health->path, "/h?x=1");
	assert_int_equal(a->u.exec.health->timeout_ms, SPEC_HEALTH_TIMEOUT_MS);
	assert_int_equal(a->u.exec.health->start_grace_ms, 0);
	j = spec_to_json(a);
	b = NULL;
	{
		struct proto_err err;

		assert_int_equal(spec_parse(j, &lim, NULL, &b, NULL, &err), 0);
	}
	json_decref(j);
	assert_true(spec_equal_shallow(a, b));
	c = spec_dup(a);
	assert_true(spec_equal_shallow(a, c));
	/* A changed check is policy: the same work. */
	c->u.exec.health->interval_ms = 600;
	assert_false(spec_equal_shallow(a, c));
	assert_true(spec_same_work(a, c));
	spec_free(b);
	spec_free(c);
	spec_free(a);
	a = parse_ok("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"health\":{\"tcp\":\"[::1]:6379\"}}");
	assert_string_equal(a->u.exec.health->host, "::1");
	assert_int_equal(a->u.exec.health->port, 6379);
	assert_int_equal(a->u.exec.health->interval_ms, SPEC_HEALTH_INTERVAL_MS);
	assert_int_equal(a->u.exec.health->failures, SPEC_HEALTH_FAILURES);
	spec_free(a);
	a = parse_ok("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"health\":{\"exec\":[\"curl\",\"-f\",\"http://x/\"]}}");
	assert_string_equal(a->u.exec.health->argv[2], "http://x/");
	c = spec_dup(a);
	assert_true(spec_equal_shallow(a, c));
	spec_free(c);
	spec_free(a);
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"health\":{\"http\":\"http://db.local/\"}}",
	    PROTO_INVALID_PARAMS, "health.http");
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"health\":{\"tcp\":\"127.0.0.1:70000\"}}",
	    PROTO_INVALID_PARAMS, "health.tcp");
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"health\":{\"exec\":[\"x\"],\"timeout_ms\":\"1s\"}}",
	    PROTO_INVALID_PARAMS, "health.timeout_ms");
	parse_bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"health\":{\"exec\":[\"x\"],\"retries\":1}}",
	    PROTO_INVALID_PARAMS, "retries");
}

static void
test_spec_exec_scalar_fields(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"cwd\":\"\"}", PROTO_INVALID_PARAMS, "\"cwd\" must be a non-empty");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"stop_signal\":\"15\"}", PROTO_INVALID_PARAMS, "got \"15\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"stop_signal\":15}", PROTO_INVALID_PARAMS,
	    "\"stop_signal\" must be a string");
	parse_bad("{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	    "\"ready\":\"socket\"}", PROTO_INVALID_PARAMS,
	    "\"ready\" must be one of \"exec\", \"fd\"");
}

static void
test_spec_numeric_ranges(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"fail\",\"code\":256}",
	    PROTO_INVALID_PARAMS, "between 0 and 255");
	parse_bad("{\"name\":\"a\",\"kind\":\"fail\",\"code\":-1}",
	    PROTO_INVALID_PARAMS, "between 0 and 255");
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\","
	    "\"max_restarts\":10001}", PROTO_INVALID_PARAMS,
	    "between 0 and 10000");
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"period_ms\":0}",
	    PROTO_INVALID_PARAMS, "\"period_ms\" must be at least 1");
	parse_bad("{\"name\":\"a\",\"kind\":\"tick\",\"interval_ms\":0}",
	    PROTO_INVALID_PARAMS, "\"interval_ms\" must be at least 1");
	parse_bad("{\"name\":\"a\",\"kind\":\"sleep\",\"shutdown_ms\":\"5s\"}",
	    PROTO_INVALID_PARAMS, "field \"shutdown_ms\" must be a "
	    "non-negative integer of milliseconds, got \"5s\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"sleep\",\"timeout_ms\":5.0}",
	    PROTO_INVALID_PARAMS, "got 5.0");
	parse_bad("{\"name\":\"a\",\"kind\":\"sleep\",\"ms\":-5}",
	    PROTO_INVALID_PARAMS, "got -5");
	parse_bad("{\"name\":\"a\",\"kind\":\"sleep\",\"backoff_ms\":10,"
	    "\"backoff_max_ms\":5}", PROTO_INVALID_PARAMS,
	    "\"backoff_ms\" must not be greater than \"backoff_max_ms\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"sleep\",\"restart\":\"always\"}",
	    PROTO_INVALID_PARAMS, "\"restart\" must be one of");
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"strategy\":1}",
	    PROTO_INVALID_PARAMS, "\"strategy\" must be one of");
}

static void
test_spec_children_errors_are_located(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"x\",\"kind\":\"sleep\"},"
	    "{\"name\":\"y\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"z\",\"kind\":\"exec\",\"argv\":5}]}]}",
	    PROTO_INVALID_PARAMS, "children[1].children[0].argv: must be a "
	    "non-empty array");
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"b/c\",\"kind\":\"sleep\"}]}", PROTO_INVALID_PARAMS,
	    "children[0]: name \"b/c\"");
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":[1]}",
	    PROTO_INVALID_PARAMS, "children[0]: must be a node spec object");
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":{}}",
	    PROTO_INVALID_PARAMS, "\"children\" must be an array");
}

static void
test_spec_child_may_not_have_parent(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
	    "{\"parent\":\"/\",\"name\":\"b\",\"kind\":\"sleep\"}]}",
	    PROTO_INVALID_PARAMS, "children[0].parent: is only allowed");
}

static void
test_spec_duplicate_sibling_names(void **state)
{
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"w0\",\"kind\":\"sleep\"},"
	    "{\"name\":\"w1\",\"kind\":\"sleep\"},"
	    "{\"name\":\"w2\",\"kind\":\"sleep\"},"
	    "{\"name\":\"w3\",\"kind\":\"sleep\"},"
	    "{\"name\":\"w1\",\"kind\":\"sleep\"}]}", PROTO_INVALID_PARAMS,
	    "children[4].name: \"w1\" is used twice");
	parse_bad("{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"x\",\"kind\":\"sleep\"},"
	    "{\"name\":\"x\",\"kind\":\"tick\"}]}]}", PROTO_INVALID_PARAMS,
	    "children[0].children[1].name: \"x\" is used twice");
}

static void
test_spec_same_name_in_different_parents_is_fine(void **state)
{
	struct node_spec	*s;

	s = parse_ok("{\"name\":\"a\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"x\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"x\",\"kind\":\"sleep\"}]}]}");
	spec_free(s);
}

static json_t *
nested(int levels)
{
	json_t	*o, *inner = NULL;
	char	 name[16];
	int	 i;

	for (i = levels; i >= 0; i--) {
		snprintf(name, sizeof name, "l%d", i);
		o = json_pack("{s:s,s:s}", "name", name, "kind", "supervisor");
		if (inner != NULL)
			json_object_set_new(o, "children",
			    json_pack("[o]", inner));
		inner = o;
	}
	return (inner);
}

static void
test_spec_depth_limit(void **state)
{
	struct node_spec	*spec;
	struct proto_err	 err;
	json_t			*o;

	o = nested(lim.max_depth);
	assert_int_equal(spec_parse(o, &lim, NULL, &spec, NULL, &err), 0);
	spec_free(spec);
	json_decref(o);
	o = nested(lim.max_depth + 1);
	assert_int_equal(spec_parse(o, &lim, NULL, &spec, NULL, &err), -1);
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	assert_non_null(strstr(err.message, "more than 8 levels"));
	json_decref(o);
}

static void
test_spec_deep_error_location_is_elided_to_fit(void **state)
{
	struct spec_limits	 deep = { 100, 32 };
	struct node_spec	*spec;
	struct proto_err	 err;
	json_t			*o, *leaf;
	size_t			 i;

	o = nested(30);
	leaf = o;
	for (i = 0; i < 30; i++)
		leaf = json_array_get(json_object_get(leaf, "children"), 0);
	json_object_set_new(leaf, "period_ms", json_string("1s"));
	assert_int_equal(spec_parse(o, &deep, NULL, &spec, NULL, &err), -1);
	assert_null(spec);
	assert_non_null(strstr(err.message, "children[0]...children[0]"));
	assert_non_null(strstr(err.message, ".period_ms: must be a "
	    "non-negative integer of milliseconds, got \"1s\""));
	json_decref(o);
}

static json_t *
wide(size_t n, bool dup)
{
	json_t	*o, *children;
	char	 name[32];
	size_t	 i;

	children = json_array();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "w%zu", (dup && i == n - 1) ? 7 : i);
		json_array_append_new(children, json_pack("{s:s,s:s}", "name",
		    name, "kind", "sleep"));
	}
	o = json_pack("{s:s,s:s,s:o}", "name", "big", "kind", "supervisor",
	    "children", children);
	return (o);
}

static void
test_spec_ten_thousand_children_parse_fast(void **state)
{
	struct node_spec	*spec;
	struct proto_err	 err;
	struct timespec		 t0, t1;
	size_t			 count;
	double			 ms;
	json_t			*o;

	o = wide(10000, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(spec_parse(o, &lim, NULL, &spec, &count, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_int_equal(count, 10001);
	assert_int_equal(spec->u.sup.nchildren, 10000);
	/* Generous for valgrind and sanitizers; O(n^2) takes far longer. */
	assert_true(ms < 2000);
	spec_free(spec);
	json_decref(o);

	o = wide(10000, true);
	assert_int_equal(spec_parse(o, &lim, NULL, &spec, NULL, &err), -1);
	assert_string_equal(err.message,
	    "children[9999].name: \"w7\" is used twice");
	json_decref(o);
}

static void
test_spec_node_limit_is_limit_error(void **state)
{
	struct spec_limits	 small = { 5, 8 };
	struct node_spec	*spec;
	struct proto_err	 err;
	json_t			*o;

	o = wide(4, false);
	assert_int_equal(spec_parse(o, &small, NULL, &spec, NULL, &err), 0);
	spec_free(spec);
	json_decref(o);
	o = wide(5, false);
	assert_int_equal(spec_parse(o, &small, NULL, &spec, NULL, &err), -1);
	assert_int_equal(err.code, PROTO_LIMIT);
	assert_string_equal(err.kind, "limit");
	assert_non_null(strstr(err.message, "more than 5 nodes"));
	json_decref(o);
}

static void
test_spec_params_must_be_object(void **state)
{
	struct node_spec	*spec;
	struct proto_err	 err;
	json_t			*o = json_array();

	assert_int_equal(spec_parse(o, &lim, NULL, &spec, NULL, &err), -1);
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	assert_non_null(strstr(err.message, "must be an object"));
	assert_int_equal(spec_parse(NULL, &lim, NULL, &spec, NULL, &err), -1);
	json_decref(o);
}

static const char *const round_trip_specs[] = {
	"{\"name\":\"a\",\"kind\":\"sleep\"}",
	"{\"name\":\"a\",\"kind\":\"sleep\",\"ms\":5,\"timeout_ms\":9}",
	"{\"name\":\"t\",\"kind\":\"tick\",\"interval_ms\":3}",
	"{\"name\":\"f\",\"kind\":\"fail\",\"after_ms\":3,\"code\":0}",
	"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\",\"b c\"],"
	"\"env\":{\"Z\":\"1\",\"A\":\"x=y\"},\"cwd\":\"/\","
	"\"stop_signal\":\"HUP\",\"ready\":\"fd\",\"restart\":\"temporary\"}",
	"{\"name\":\"s\",\"kind\":\"supervisor\",\"strategy\":\"one_for_all\","
	"\"max_restarts\":9,\"period_ms\":77,\"children\":["
	"{\"name\":\"c\",\"kind\":\"exec\",\"argv\":[\"x\"]},"
	"{\"name\":\"d\",\"kind\":\"supervisor\",\"children\":["
	"{\"name\":\"e\",\"kind\":\"tick\"}]}]}",
	"{\"name\":\"n\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	"\"ready\":\"notify\",\"watchdog_ms\":250}",
};

static void
assert_tree_equal(const struct node_spec *a, const struct node_spec *b)
{
	size_t	i;

	assert_string_equal(a->name, b->name);
	assert_true(spec_equal_shallow(a, b));
	if (a->kind != KIND_SUPERVISOR)
		return;
	assert_int_equal(a->u.sup.nchildren, b->u.sup.nchildren);
	for (i = 0; i < a->u.sup.nchildren; i++)
		assert_tree_equal(a->u.sup.children[i], b->u.sup.children[i]);
}

static void
test_spec_to_json_round_trips(void **state)
{
	struct node_spec	*a, *b;
	struct proto_err	 err;
	json_t			*j, *j2;
	size_t			 i;

	for (i = 0; i < sizeof round_trip_specs / sizeof round_trip_specs[0];
	    i++) {
		a = parse_ok(round_trip_specs[i]);
		j = spec_to_json(a);
		assert_non_null(j);
		assert_null(json_object_get(j, "parent"));
		assert_non_null(json_object_get(j, "shutdown_ms"));
		assert_int_equal(spec_parse(j, &lim, NULL, &b, NULL, &err), 0);
		assert_tree_equal(a, b);
		j2 = spec_to_json(b);
		assert_true(json_equal(j, j2));
		json_decref(j2);
		json_decref(j);
		spec_free(a);
		spec_free(b);
	}
}

static void
test_spec_to_json_omits_none(void **state)
{
	struct node_spec	*a;
	json_t			*j;

	a = parse_ok("{\"name\":\"a\",\"kind\":\"sleep\"}");
	j = spec_to_json(a);
	assert_null(json_object_get(j, "timeout_ms"));
	assert_null(json_object_get(j, "ms"));
	assert_int_equal(json_integer_value(json_object_get(j, "backoff_ms")),
	    SPEC_BACKOFF_MS);
	assert_string_equal(json_string_value(json_object_get(j, "restart")),
	    "transient");
	json_decref(j);
	spec_free(a);
}

static void
test_spec_dup_is_deep_and_equal(void **state)
{
	struct node_spec	*a, *b;

	a = parse_ok(round_trip_specs[5]);
	b = spec_dup(a);
	assert_non_null(b);
	assert_ptr_not_equal(a->name, b->name);
	assert_ptr_not_equal(a->u.sup.children[0],
	    b->u.sup.children[0]);
	assert_ptr_not_equal(a->u.sup.children[0]->u.exec.argv,
	    b->u.sup.children[0]->u.exec.argv);
	assert_tree_equal(a, b);
	spec_free(a);
	spec_free(b);

	a = parse_ok(round_trip_specs[4]);
	b = spec_dup(a);
	assert_string_equal(b->u.exec.env[1], "A=x=y");
	assert_string_equal(b->u.exec.cwd, "/");
	assert_true(spec_equal_shallow(a, b));
	spec_free(a);
	spec_free(b);
	assert_null(spec_dup(NULL));
}

static void
test_spec_equal_shallow_sees_each_field(void **state)
{
	static const char *const base =
	    "{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"]}";
	static const char *const differ[] = {
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"b\"]}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\",\"b\"]}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"env\":{\"A\":\"1\"}}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],\"cwd\":\"/\"}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"stop_signal\":\"INT\"}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"ready\":\"fd\"}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"ready\":\"notify\"}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"watchdog_ms\":100}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"restart\":\"permanent\"}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"shutdown_ms\":1}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"timeout_ms\":1}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"backoff_ms\":1}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"backoff_max_ms\":1000}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		"\"start_timeout_ms\":1}",
		"{\"name\":\"e\",\"kind\":\"sleep\"}",
	};
	struct node_spec	*a, *b;
	size_t			 i;

	a = parse_ok(base);
	b = parse_ok("{\"name\":\"other\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	    "\"env\":{}}");
	assert_true(spec_equal_shallow(a, b));
	spec_free(b);
	for (i = 0; i < sizeof differ / sizeof differ[0]; i++) {
		b = parse_ok(differ[i]);
		if (spec_equal_shallow(a, b))
			fail_msg("%s compares equal", differ[i]);
		spec_free(b);
	}
	spec_free(a);

	a = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\"}");
	b = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":"
	    "[{\"name\":\"x\",\"kind\":\"sleep\"}]}");
	assert_true(spec_equal_shallow(a, b));
	spec_free(b);
	b = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"strategy\":\"one_for_all\"}");
	assert_false(spec_equal_shallow(a, b));
	spec_free(b);
	spec_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_exec_defaults),
		cmocka_unit_test(test_spec_exec_all_fields),
		cmocka_unit_test(test_spec_actor_defaults),
		cmocka_unit_test(test_spec_supervisor_defaults_and_children),
		cmocka_unit_test(test_spec_parent_default_and_given),
		cmocka_unit_test(test_spec_bad_parent_path),
		cmocka_unit_test(test_spec_kind_is_required_and_checked_first),
		cmocka_unit_test(test_spec_name_required_and_valid),
		cmocka_unit_test(test_spec_field_on_wrong_kind),
		cmocka_unit_test(test_spec_unknown_field),
		cmocka_unit_test(test_spec_argv_rules),
		cmocka_unit_test(test_spec_argv_with_nul_is_rejected),
		cmocka_unit_test(test_spec_env_rules),
		cmocka_unit_test(test_spec_exec_scalar_fields),
		cmocka_unit_test(test_spec_health_parsed_round_tripped_and_policy),
		cmocka_unit_test(test_spec_numeric_ranges),
		cmocka_unit_test(test_spec_children_errors_are_located),
		cmocka_unit_test(test_spec_child_may_not_have_parent),
		cmocka_unit_test(test_spec_duplicate_sibling_names),
		cmocka_unit_test(
		    test_spec_same_name_in_different_parents_is_fine),
		cmocka_unit_test(test_spec_depth_limit),
		cmocka_unit_test(
		    test_spec_deep_error_location_is_elided_to_fit),
		cmocka_unit_test(test_spec_ten_thousand_children_parse_fast),
		cmocka_unit_test(test_spec_node_limit_is_limit_error),
		cmocka_unit_test(test_spec_params_must_be_object),
		cmocka_unit_test(test_spec_to_json_round_trips),
		cmocka_unit_test(test_spec_to_json_omits_none),
		cmocka_unit_test(test_spec_dup_is_deep_and_equal),
		cmocka_unit_test(test_spec_equal_shallow_sees_each_field),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
