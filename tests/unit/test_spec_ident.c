/*
 * Tests for proto/spec-ident.c through spec_parse: every identity and
 * limit field, their errors with the field and location, the JSON round
 * trip the state file relies on, copies, equality and same_work, and the
 * overlay of a supervisor's defaults.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spec-ident.h"
#include "spec.h"

static const struct spec_limits lim = { 1000, 8 };

static json_t *
obj(const char *text)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);

	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return o;
}

static struct node_spec *
parse_ok(const char *text)
{
	struct node_spec *spec = NULL;
	struct proto_err err;
	const char *parent;
	json_t *o = obj(text);

	if (spec_parse(o, &lim, &parent, &spec, NULL, &err) != 0)
		fail_msg("%s: %s", text, err.message);
	json_decref(o);
	return spec;
}

static void
parse_bad(const char *text, const char *needle)
{
	struct node_spec *spec = NULL;
	struct proto_err err;
	const char *parent;
	json_t *o = obj(text);

	proto_err_clear(&err);
	assert_int_equal(spec_parse(o, &lim, &parent, &spec, NULL, &err), -1);
	assert_null(spec);
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	if (strstr(err.message, needle) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", text, err.message,
		    needle);
	json_decref(o);
}

#define EXEC(extra)                                                            \
	"{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"]," extra "}"

static void
test_no_ident_fields_leave_ident_null(void **state)
{
	struct node_spec *s = parse_ok(EXEC("\"cwd\":\"/\""));

	(void)state;
	assert_null(s->ident);
	spec_free(s);
}

static void
test_every_field_is_read(void **state)
{
	struct node_spec *s;
	const struct spec_ident *id;

	(void)state;
	s = parse_ok(EXEC("\"user\":\"www\",\"group\":33,\"groups\":[\"adm\","
	                  "\"44\",7],\"umask\":\"027\",\"nice\":-5,"
	                  "\"oom_score_adj\":-1000,\"no_new_privs\":false,"
	                  "\"rlimits\":{\"nofile\":65536,\"core\":0,"
	                  "\"as\":\"2G\",\"memlock\":\"256K\",\"stack\":"
	                  "{\"soft\":\"8M\",\"hard\":\"infinity\"},"
	                  "\"cpu\":\"infinity\",\"nproc\":\"100\"}"));
	id = s->ident;
	assert_non_null(id);
	assert_string_equal(id->user, "www");
	assert_string_equal(id->group, "33");
	assert_string_equal(id->groups[0], "adm");
	assert_string_equal(id->groups[1], "44");
	assert_string_equal(id->groups[2], "7");
	assert_null(id->groups[3]);
	assert_int_equal(id->umask, 027);
	assert_true(id->has_nice);
	assert_int_equal(id->nice, -5);
	assert_true(id->has_oom);
	assert_int_equal(id->oom_score_adj, -1000);
	assert_int_equal(id->no_new_privs, 0);
	assert_true(id->rlimits[SPEC_RLIM_NOFILE].set);
	assert_int_equal(id->rlimits[SPEC_RLIM_NOFILE].soft, 65536);
	assert_int_equal(id->rlimits[SPEC_RLIM_NOFILE].hard, 65536);
	assert_int_equal(id->rlimits[SPEC_RLIM_CORE].hard, 0);
	assert_true(id->rlimits[SPEC_RLIM_AS].soft == 2ULL << 30);
	assert_int_equal(id->rlimits[SPEC_RLIM_MEMLOCK].soft, 256 * 1024);
	assert_int_equal(id->rlimits[SPEC_RLIM_STACK].soft, 8 << 20);
	assert_true(id->rlimits[SPEC_RLIM_STACK].hard == SPEC_RLIM_INFINITY);
	assert_true(id->rlimits[SPEC_RLIM_CPU].soft == SPEC_RLIM_INFINITY);
	assert_int_equal(id->rlimits[SPEC_RLIM_NPROC].soft, 100);
	assert_false(id->rlimits[SPEC_RLIM_RSS].set);
	spec_free(s);
}

static void
test_a_supervisor_takes_them_an_actor_does_not(void **state)
{
	struct node_spec *s;

	(void)state;
	s = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\",\"user\":"
	             "\"nobody\",\"rlimits\":{\"nofile\":10},\"children\":"
	             "[{\"name\":\"c\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	             "\"user\":\"root\"}]}");
	assert_string_equal(s->ident->user, "nobody");
	assert_string_equal(s->u.sup.children[0]->ident->user, "root");
	spec_free(s);
	parse_bad("{\"name\":\"t\",\"kind\":\"tick\",\"nice\":1}",
	    "field \"nice\" does not apply to kind \"tick\"");
}

static void
test_bad_values_name_the_field(void **state)
{
	(void)state;
	parse_bad(EXEC("\"user\":\"\""), "field \"user\"");
	parse_bad(EXEC("\"user\":\"a:b\""), "field \"user\"");
	parse_bad(EXEC("\"user\":4294967295"), "field \"user\"");
	parse_bad(EXEC("\"user\":\"99999999999\""), "field \"user\"");
	parse_bad(EXEC("\"user\":true"), "field \"user\"");
	parse_bad(EXEC("\"group\":-3"), "field \"group\"");
	parse_bad(EXEC("\"groups\":\"adm\""), "field \"groups\"");
	parse_bad(EXEC("\"groups\":[\"adm\",{}]"), "field \"groups[1]\"");
	parse_bad(EXEC("\"umask\":\"0o27\""), "field \"umask\"");
	parse_bad(EXEC("\"umask\":\"1000\""), "field \"umask\"");
	parse_bad(EXEC("\"umask\":\"\""), "field \"umask\"");
	parse_bad(EXEC("\"nice\":19.5"), "\"nice\"");
	parse_bad(EXEC("\"nice\":-21"), "\"nice\"");
	parse_bad(EXEC("\"oom_score_adj\":-1001"), "\"oom_score_adj\"");
	parse_bad(EXEC("\"no_new_privs\":\"yes\""), "\"no_new_privs\"");
	parse_bad(EXEC("\"rlimits\":[]"), "field \"rlimits\"");
	parse_bad(EXEC("\"rlimits\":{\"open\":1}"),
	    "unknown limit \"open\"");
	parse_bad(EXEC("\"rlimits\":{\"nofile\":{\"soft\":1}}"),
	    "field \"rlimits.nofile\" must have both");
	parse_bad(EXEC("\"rlimits\":{\"nofile\":{\"soft\":1,\"hard\":2,"
	               "\"x\":3}}"),
	    "rlimits.nofile");
	parse_bad(EXEC("\"rlimits\":{\"nofile\":{\"soft\":\"infinity\","
	               "\"hard\":5}}"),
	    "field \"rlimits.nofile\" must not have soft");
	parse_bad(EXEC("\"rlimits\":{\"cpu\":\"10M\"}"),
	    "field \"rlimits.cpu\" must be a number");
	parse_bad(EXEC("\"rlimits\":{\"as\":\"10Q\"}"),
	    "field \"rlimits.as\" must be a number, \"infinity\", a size");
	parse_bad(EXEC("\"rlimits\":{\"as\":\"-1\"}"), "\"rlimits.as\"");
	parse_bad(EXEC("\"rlimits\":{\"as\":\"99999999T\"}"),
	    "field \"rlimits.as\" is out of range");
	parse_bad(EXEC("\"rlimits\":{\"nofile\":1073741817}"),
	    "field \"rlimits.nofile\" is out of range");
	parse_bad(EXEC("\"rlimits\":{\"rtprio\":100}"), "\"rlimits.rtprio\"");
	parse_bad(EXEC("\"rlimits\":{\"core\":1.5}"), "\"rlimits.core\"");
}

static void
test_errors_deep_in_a_tree_say_where(void **state)
{
	(void)state;
	parse_bad("{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	          "{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"x\"]},"
	          "{\"name\":\"b\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	          "\"rlimits\":{\"nofile\":{\"soft\":10,\"hard\":5}}}]}",
	    "children[1].rlimits.nofile: must not have soft (10) above hard "
	    "(5)");
}

/* What the state file keeps: to_json then parse gives an equal spec. */
static void
test_round_trip_keeps_every_field(void **state)
{
	struct node_spec *s, *back, *copy;
	struct proto_err err;
	const char *parent;
	json_t *j, *rl;

	(void)state;
	s = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\",\"umask\":"
	             "\"007\",\"children\":[" EXEC(
	                 "\"user\":\"65534\",\"group\":\"adm\",\"groups\":[],"
	                 "\"umask\":\"027\",\"nice\":3,\"oom_score_adj\":-7,"
	                 "\"no_new_privs\":true,\"rlimits\":{\"nofile\":"
	                 "{\"soft\":1024,\"hard\":4096},\"core\":\"infinity\","
	                 "\"fsize\":\"1K\"}") "]}");
	j = spec_to_json(s);
	assert_non_null(j);
	/* Numbers come back as numbers, sizes as bytes, umask as octal. */
	{
		json_t *c = json_array_get(json_object_get(j, "children"), 0);

		assert_string_equal(
		    json_string_value(json_object_get(j, "umask")), "007");
		assert_int_equal(json_integer_value(json_object_get(c, "user")),
		    65534);
		assert_string_equal(
		    json_string_value(json_object_get(c, "group")), "adm");
		assert_int_equal(json_array_size(json_object_get(c, "groups")),
		    0);
		assert_string_equal(
		    json_string_value(json_object_get(c, "umask")), "027");
		assert_true(json_is_true(json_object_get(c, "no_new_privs")));
		rl = json_object_get(c, "rlimits");
		assert_int_equal(json_integer_value(json_object_get(
		                     json_object_get(rl, "nofile"), "hard")),
		    4096);
		assert_string_equal(
		    json_string_value(json_object_get(rl, "core")), "infinity");
		assert_int_equal(json_integer_value(json_object_get(rl, "fsize")),
		    1024);
	}
	assert_int_equal(spec_parse(j, &lim, &parent, &back, NULL, &err), 0);
	assert_true(spec_equal_shallow(s, back));
	assert_true(spec_equal_shallow(s->u.sup.children[0],
	    back->u.sup.children[0]));
	copy = spec_dup(s);
	assert_non_null(copy);
	assert_true(spec_equal_shallow(copy->u.sup.children[0],
	    s->u.sup.children[0]));
	json_decref(j);
	spec_free(back);
	spec_free(copy);
	spec_free(s);
}

/* A change of identity or a limit restarts the worker on reload; a
 * supervisor's restarts its subtree. */
static void
test_ident_changes_are_not_the_same_work(void **state)
{
	static const char *const variants[] = {
		EXEC("\"user\":\"a\""),
		EXEC("\"user\":\"b\""),
		EXEC("\"user\":\"a\",\"group\":\"g\""),
		EXEC("\"user\":\"a\",\"groups\":[]"),
		EXEC("\"user\":\"a\",\"groups\":[\"x\"]"),
		EXEC("\"umask\":\"022\""),
		EXEC("\"nice\":0"),
		EXEC("\"oom_score_adj\":0"),
		EXEC("\"no_new_privs\":false"),
		EXEC("\"no_new_privs\":true"),
		EXEC("\"rlimits\":{\"nofile\":5}"),
		EXEC("\"rlimits\":{\"nofile\":{\"soft\":5,\"hard\":6}}"),
		EXEC("\"cwd\":\"/\""),
	};
	struct node_spec *a, *b, *s1, *s2;
	size_t n = sizeof variants / sizeof variants[0];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		a = parse_ok(variants[i]);
		for (size_t j = 0; j < n; j++) {
			b = parse_ok(variants[j]);
			if (spec_same_work(a, b) != (i == j))
				fail_msg("%s vs %s", variants[i], variants[j]);
			spec_free(b);
		}
		spec_free(a);
	}
	s1 = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\"}");
	s2 = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\",\"user\":"
	              "\"x\"}");
	assert_false(spec_same_work(s1, s2));
	spec_free(s1);
	spec_free(s2);
}

static void
test_overlay_takes_the_nearest_value(void **state)
{
	struct node_spec *s;
	struct spec_ident eff;

	(void)state;
	s = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\",\"user\":"
	             "\"a\",\"umask\":\"077\",\"rlimits\":{\"nofile\":10,"
	             "\"core\":0},\"children\":[" EXEC(
	                 "\"user\":\"b\",\"rlimits\":{\"nofile\":20}") "]}");
	spec_ident_eff_init(&eff);
	assert_false(spec_ident_any(&eff));
	spec_ident_overlay(&eff, s->ident);
	spec_ident_overlay(&eff, s->u.sup.children[0]->ident);
	assert_true(spec_ident_any(&eff));
	assert_string_equal(eff.user, "b");
	assert_int_equal(eff.umask, 077);
	assert_int_equal(eff.rlimits[SPEC_RLIM_NOFILE].soft, 20);
	assert_true(eff.rlimits[SPEC_RLIM_CORE].set);
	assert_null(eff.group);
	spec_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_ident_fields_leave_ident_null),
		cmocka_unit_test(test_every_field_is_read),
		cmocka_unit_test(test_a_supervisor_takes_them_an_actor_does_not),
		cmocka_unit_test(test_bad_values_name_the_field),
		cmocka_unit_test(test_errors_deep_in_a_tree_say_where),
		cmocka_unit_test(test_round_trip_keeps_every_field),
		cmocka_unit_test(test_ident_changes_are_not_the_same_work),
		cmocka_unit_test(test_overlay_takes_the_nearest_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
