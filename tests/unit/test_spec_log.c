/*
 * The `log` spec field: sizes ("10K" is 10,240 bytes), bounds, errors that
 * name the field, only on exec nodes and supervisors, the nearest value up
 * the tree winning, and a round trip through JSON, dup and equal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spec.h"

static struct node_spec *
parse(const char *text, struct proto_err *err)
{
	struct node_spec *spec = NULL;
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);

	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	proto_err_clear(err);
	spec_parse(o, NULL, NULL, &spec, NULL, err);
	json_decref(o);
	return spec;
}

static void
bad(const char *text, const char *needle)
{
	struct proto_err err;

	assert_null(parse(text, &err));
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	if (strstr(err.message, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
}

static void
test_sizes_are_binary(void **state)
{
	int64_t v;

	assert_int_equal(spec_log_size("10K", &v), 0);
	assert_int_equal(v, 10240);
	assert_int_equal(spec_log_size("10M", &v), 0);
	assert_int_equal(v, 10 * 1024 * 1024);
	assert_int_equal(spec_log_size("1G", &v), 0);
	assert_int_equal(v, 1024 * 1024 * 1024);
	assert_int_equal(spec_log_size("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(spec_log_size("", &v), -1);
	assert_int_equal(spec_log_size("K", &v), -1);
	assert_int_equal(spec_log_size("1.5M", &v), -1);
	assert_int_equal(spec_log_size("99999999999999999999K", &v), -1);
}

static void
test_all_fields_parse_and_come_back(void **state)
{
	struct proto_err err;
	struct node_spec *s = parse(
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"log\":{\"journal\":true,\"file\":\"/var/log/app/web.log\","
	    "\"max_bytes\":\"10M\",\"keep\":5,\"stderr_file\":\"/e.log\","
	    "\"ring\":\"64K\"}}",
	    &err);
	struct node_spec *d;
	json_t *j;

	assert_non_null(s);
	assert_int_equal(s->log->journal, 1);
	assert_string_equal(s->log->file, "/var/log/app/web.log");
	assert_string_equal(s->log->stderr_file, "/e.log");
	assert_int_equal(s->log->max_bytes, 10 * 1024 * 1024);
	assert_int_equal(s->log->keep, 5);
	assert_int_equal(s->log->ring, 65536);
	d = spec_dup(s);
	assert_true(spec_equal_shallow(s, d));
	d->log->keep = 6;
	assert_false(spec_equal_shallow(s, d));
	j = spec_to_json(s);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(j, "log"), "max_bytes")),
	    10 * 1024 * 1024);
	json_decref(j);
	spec_free(d);
	spec_free(s);
}

static void
test_bad_values_name_the_field(void **state)
{
	bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"log\":{\"max_bytes\":\"ten\"}}",
	    "log.max_bytes");
	bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"log\":{\"max_bytes\":\"1K\"}}",
	    "from 4096");
	bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"log\":{\"file\":\"relative.log\"}}",
	    "log.file");
	bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"log\":{\"keep\":-1}}",
	    "keep");
	bad("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"log\":{\"colour\":1}}",
	    "colour");
	bad("{\"name\":\"s\",\"kind\":\"sleep\",\"log\":{}}",
	    "does not apply");
	bad("{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"log\":{\"ring\":\"2M\"}}]}",
	    "children[0].log.ring");
}

static void
test_the_nearest_value_wins_then_the_defaults(void **state)
{
	struct proto_err err;
	struct node_spec *s = parse(
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"log\":{\"file\":"
	    "\"/a.log\",\"keep\":2,\"journal\":false},\"children\":[{\"name\":"
	    "\"w\",\"kind\":\"exec\",\"argv\":[\"true\"],\"log\":{\"keep\":"
	    "7,\"file\":\"\"}}]}",
	    &err);
	struct spec_log_eff eff;
	unsigned have = 0;

	assert_non_null(s);
	spec_log_inherit(&eff, s->u.sup.children[0]->log, &have);
	spec_log_inherit(&eff, s->log, &have);
	spec_log_defaults(&eff, have, true);
	assert_int_equal(eff.keep, 7);
	assert_null(eff.file); /* "" turns the inherited file off */
	assert_false(eff.journal);
	assert_int_equal(eff.max_bytes, SPEC_LOG_MAX_BYTES);
	assert_int_equal(eff.ring, SPEC_LOG_RING);
	spec_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_are_binary),
		cmocka_unit_test(test_all_fields_parse_and_come_back),
		cmocka_unit_test(test_bad_values_name_the_field),
		cmocka_unit_test(test_the_nearest_value_wins_then_the_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
