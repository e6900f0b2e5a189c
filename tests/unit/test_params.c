/*
 * Tests for proto/params.c: each method's params, defaults, bounds and
 * the errors for absent, positional, unknown and ill-typed params.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "params.h"
#include "path.h"

static json_t *
obj(const char *text)
{
	json_error_t	 jerr;
	json_t		*o;

	o = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return (o);
}

static void
assert_invalid(int rc, const struct proto_err *err, const char *needle)
{
	assert_int_equal(rc, -1);
	assert_int_equal(err->code, PROTO_INVALID_PARAMS);
	assert_string_equal(err->kind, "invalid_params");
	if (strstr(err->message, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err->message, needle);
}

static void
test_params_none_accepts_absent_empty_object_and_array(void **state)
{
	struct proto_err	 err;
	json_t			*o;

	assert_int_equal(params_none(NULL, &err), 0);
	o = obj("{}");
	assert_int_equal(params_none(o, &err), 0);
	json_decref(o);
	o = obj("[]");
	assert_int_equal(params_none(o, &err), 0);
	json_decref(o);
}

static void
test_params_none_rejects_content(void **state)
{
	struct proto_err	 err;
	json_t			*o;

	o = obj("{\"x\":1}");
	assert_invalid(params_none(o, &err), &err, "unknown field \"x\"");
	json_decref(o);
	o = obj("[1]");
	assert_invalid(params_none(o, &err), &err, "takes no params");
	json_decref(o);
	o = obj("3");
	assert_invalid(params_none(o, &err), &err, "must be an object");
	json_decref(o);
}

static void
test_params_path_required_and_checked(void **state)
{
	struct params_path	 p;
	struct proto_err	 err;
	json_t			*o;

	o = obj("{\"path\":\"/web/w1\"}");
	assert_int_equal(params_path(o, &p, &err), 0);
	assert_string_equal(p.path, "/web/w1");
	json_decref(o);
	assert_invalid(params_path(NULL, &p, &err), &err,
	    "missing field \"path\"");
	o = obj("{}");
	assert_invalid(params_path(o, &p, &err), &err,
	    "missing field \"path\"");
	json_decref(o);
	o = obj("{\"path\":\"/a//b\"}");
	assert_invalid(params_path(o, &p, &err), &err,
	    "path \"/a//b\" has an empty component");
	json_decref(o);
	o = obj("{\"path\":7}");
	assert_invalid(params_path(o, &p, &err), &err,
	    "field \"path\" must be a string");
	json_decref(o);
}

static void
test_params_array_is_not_an_object(void **state)
{
	struct params_path	 p;
	struct params_inspect	 in;
	struct params_cancel	 c;
	struct proto_err	 err;
	json_t			*o;

	o = obj("[\"/a\"]");
	assert_invalid(params_path(o, &p, &err), &err,
	    "params must be an object");
	assert_invalid(params_inspect(o, &in, &err), &err,
	    "params must be an object");
	assert_invalid(params_cancel(o, &c, &err), &err,
	    "params must be an object");
	json_decref(o);
}

static void
test_params_unknown_field(void **state)
{
	struct params_path	 p;
	struct proto_err	 err;
	json_t			*o;

	o = obj("{\"path\":\"/a\",\"force\":true}");
	assert_invalid(params_path(o, &p, &err), &err,
	    "unknown field \"force\" in params");
	json_decref(o);
}

static void
test_params_cancel_defaults_and_fields(void **state)
{
	struct params_cancel	 c;
	struct proto_err	 err;
	json_t			*o;

	o = obj("{\"path\":\"/a\"}");
	assert_int_equal(params_cancel(o, &c, &err), 0);
	assert_string_equal(c.path, "/a");
	assert_null(c.reason);
	assert_false(c.wait);
	assert_false(c.remove);
	json_decref(o);
	o = obj("{\"path\":\"/\",\"reason\":\"deploy\",\"wait\":true,"
	    "\"remove\":true}");
	assert_int_equal(params_cancel(o, &c, &err), 0);
	assert_string_equal(c.reason, "deploy");
	assert_true(c.wait);
	assert_true(c.remove);
	json_decref(o);
	o = obj("{\"path\":\"/\",\"wait\":1}");
	assert_invalid(params_cancel(o, &c, &err), &err,
	    "field \"wait\" must be true or false");
	json_decref(o);
}

static void
test_params_cancel_reason_bounded(void **state)
{
	struct params_cancel	 c;
	struct proto_err	 err;
	char			*reason;
	json_t			*o;

	reason = malloc(PARAMS_REASON_MAX + 2);
	assert_non_null(reason);
	memset(reason, 'r', PARAMS_REASON_MAX + 1);
	reason[PARAMS_REASON_MAX] = '\0';
	o = json_pack("{s:s,s:s}", "path", "/a", "reason", reason);
	assert_int_equal(params_cancel(o, &c, &err), 0);
	json_decref(o);
	reason[PARAMS_REASON_MAX] = 'r';
	reason[PARAMS_REASON_MAX + 1] = '\0';
	o = json_pack("{s:s,s:s}", "path", "/a", "reason", reason);
	assert_invalid(params_cancel(o, &c, &err), &err,
	    "\"reason\" must be at most 1024 bytes");
	json_decref(o);
	free(reason);
}

static void
test_params_inspect_defaults_and_depth(void **state)
{
	struct params_inspect	 p;
	struct proto_err	 err;
	json_t			*o;

	assert_int_equal(params_inspect(NULL, &p, &err), 0);
	assert_string_equal(p.path, "/");
	assert_int_equal(p.depth, 0);
	o = obj("{\"path\":\"/x\",\"depth\":-1}");
	assert_int_equal(params_inspect(o, &p, &err), 0);
	assert_int_equal(p.depth, -1);
	json_decref(o);
	o = obj("{\"depth\":32}");
	assert_int_equal(params_inspect(o, &p, &err), 0);
	assert_int_equal(p.depth, 32);
	json_decref(o);
	o = obj("{\"depth\":-2}");
	assert_invalid(params_inspect(o, &p, &err), &err,
	    "must be between -1 and 32");
	json_decref(o);
	o = obj("{\"depth\":33}");
	assert_invalid(params_inspect(o, &p, &err), &err, "got 33");
	json_decref(o);
	o = obj("{\"depth\":1.0}");
	assert_invalid(params_inspect(o, &p, &err), &err, "an integer");
	json_decref(o);
}

static void
test_params_logs_bytes_bounds(void **state)
{
	struct params_logs	 p;
	struct proto_err	 err;
	json_t			*o;

	o = obj("{\"path\":\"/a\"}");
	assert_int_equal(params_logs(o, &p, &err), 0);
	assert_int_equal(p.bytes, 4096);
	json_decref(o);
	o = obj("{\"path\":\"/a\",\"bytes\":1048576}");
	assert_int_equal(params_logs(o, &p, &err), 0);
	assert_int_equal(p.bytes, PARAMS_LOGS_MAX);
	json_decref(o);
	o = obj("{\"path\":\"/a\",\"bytes\":0}");
	assert_invalid(params_logs(o, &p, &err), &err, "between 1 and");
	json_decref(o);
	o = obj("{\"path\":\"/a\",\"bytes\":1048577}");
	assert_invalid(params_logs(o, &p, &err), &err, "got 1048577");
	json_decref(o);
	o = obj("{\"bytes\":10}");
	assert_invalid(params_logs(o, &p, &err), &err,
	    "missing field \"path\"");
	json_decref(o);
}

static void
test_params_watch_defaults_and_since(void **state)
{
	struct params_watch	 p;
	struct proto_err	 err;
	json_t			*o;

	assert_int_equal(params_watch(NULL, &p, &err), 0);
	assert_string_equal(p.path, "/");
	assert_false(p.output);
	assert_false(p.has_since);
	o = obj("{\"path\":\"/a\",\"output\":true,\"since\":0}");
	assert_int_equal(params_watch(o, &p, &err), 0);
	assert_true(p.output);
	assert_true(p.has_since);
	assert_int_equal(p.since, 0);
	json_decref(o);
	o = obj("{\"since\":-1}");
	assert_invalid(params_watch(o, &p, &err), &err, "\"since\"");
	json_decref(o);
	o = obj("{\"since\":\"5\"}");
	assert_invalid(params_watch(o, &p, &err), &err, "an integer");
	json_decref(o);
}

static void
test_params_unwatch_requires_subscription(void **state)
{
	struct params_unwatch	 p;
	struct proto_err	 err;
	json_t			*o;

	o = obj("{\"subscription\":12}");
	assert_int_equal(params_unwatch(o, &p, &err), 0);
	assert_int_equal(p.subscription, 12);
	json_decref(o);
	assert_invalid(params_unwatch(NULL, &p, &err), &err,
	    "missing field \"subscription\"");
	o = obj("{\"subscription\":-3}");
	assert_invalid(params_unwatch(o, &p, &err), &err, "got -3");
	json_decref(o);
}

static void
test_params_wait_for_and_timeout(void **state)
{
	struct params_wait	 p;
	struct proto_err	 err;
	json_t			*o;

	o = obj("{\"path\":\"/a\"}");
	assert_int_equal(params_wait(o, &p, &err), 0);
	assert_int_equal(p.wait_for, WAIT_TERMINATED);
	assert_int_equal(p.timeout_ms, -1);
	json_decref(o);
	o = obj("{\"path\":\"/a\",\"for\":\"running\",\"timeout_ms\":500}");
	assert_int_equal(params_wait(o, &p, &err), 0);
	assert_int_equal(p.wait_for, WAIT_RUNNING);
	assert_int_equal(p.timeout_ms, 500);
	json_decref(o);
	o = obj("{\"path\":\"/a\",\"for\":\"exited\"}");
	assert_invalid(params_wait(o, &p, &err), &err,
	    "\"for\" must be one of \"terminated\", \"running\"");
	json_decref(o);
	o = obj("{\"path\":\"/a\",\"timeout_ms\":\"5s\"}");
	assert_invalid(params_wait(o, &p, &err), &err,
	    "non-negative integer of milliseconds");
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_params_none_accepts_absent_empty_object_and_array),
		cmocka_unit_test(test_params_none_rejects_content),
		cmocka_unit_test(test_params_path_required_and_checked),
		cmocka_unit_test(test_params_array_is_not_an_object),
		cmocka_unit_test(test_params_unknown_field),
		cmocka_unit_test(test_params_cancel_defaults_and_fields),
		cmocka_unit_test(test_params_cancel_reason_bounded),
		cmocka_unit_test(test_params_inspect_defaults_and_depth),
		cmocka_unit_test(test_params_logs_bytes_bounds),
		cmocka_unit_test(test_params_watch_defaults_and_since),
		cmocka_unit_test(test_params_unwatch_requires_subscription),
		cmocka_unit_test(test_params_wait_for_and_timeout),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
