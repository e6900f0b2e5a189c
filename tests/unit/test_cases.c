/*
 * Data-driven protocol cases: every file in tests/proto/valid and
 * tests/proto/invalid is one method call with the outcome it must have.
 * A file is {"method", "params", "expect", "limits"?}; see README in
 * tests/proto. The tests directory comes from $TESTDATA (else "tests").
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "params.h"
#include "path.h"
#include "spec.h"

struct test_case {
	char	*path;
	char	*name;
	int	 valid;
};

/* Runs the method's parser on params; on success *result describes what
 * it read, as JSON, for "expect" to compare against. */
static int
run_method(const char *method, const json_t *params, const json_t *limits,
    json_t **result, struct proto_err *err)
{
	*result = NULL;
	if (strcmp(method, "spawn") == 0) {
		struct spec_limits	 lim = { 10000, PROTO_DEPTH_MAX };
		struct node_spec	*spec;
		const char		*parent;
		size_t			 count;
		json_t			*v;

		if ((v = json_object_get(limits, "max_nodes")) != NULL)
			lim.max_nodes = (size_t)json_integer_value(v);
		if ((v = json_object_get(limits, "max_depth")) != NULL)
			lim.max_depth = (int)json_integer_value(v);
		if (spec_parse(params, &lim, &parent, &spec, &count, err) != 0)
			return (-1);
		*result = spec_to_json(spec);
		json_object_set_new(*result, "parent", json_string(parent));
		json_object_set_new(*result, "count", json_integer(
		    (json_int_t)count));
		spec_free(spec);
		return (0);
	}
	if (strcmp(method, "cancel") == 0) {
		struct params_cancel	p;

		if (params_cancel(params, &p, err) != 0)
			return (-1);
		*result = json_pack("{s:s,s:s?,s:b,s:b}", "path", p.path,
		    "reason", p.reason, "wait", p.wait, "remove", p.remove);
		return (0);
	}
	if (strcmp(method, "restart") == 0 || strcmp(method, "remove") == 0) {
		struct params_path	p;

		if (params_path(params, &p, err) != 0)
			return (-1);
		*result = json_pack("{s:s}", "path", p.path);
		return (0);
	}
	if (strcmp(method, "inspect") == 0) {
		struct params_inspect	p;

		if (params_inspect(params, &p, err) != 0)
			return (-1);
		*result = json_pack("{s:s,s:i}", "path", p.path, "depth",
		    p.depth);
		return (0);
	}
	if (strcmp(method, "logs") == 0) {
		struct params_logs	p;

		if (params_logs(params, &p, err) != 0)
			return (-1);
		*result = json_pack("{s:s,s:I}", "path", p.path, "bytes",
		    (json_int_t)p.bytes);
		return (0);
	}
	if (strcmp(method, "watch") == 0) {
		struct params_watch	p;

		if (params_watch(params, &p, err) != 0)
			return (-1);
		*result = json_pack("{s:s,s:b,s:o}", "path", p.path, "output",
		    p.output, "since", p.has_since ?
		    json_integer((json_int_t)p.since) : json_null());
		return (0);
	}
	if (strcmp(method, "unwatch") == 0) {
		struct params_unwatch	p;

		if (params_unwatch(params, &p, err) != 0)
			return (-1);
		*result = json_pack("{s:I}", "subscription",
		    (json_int_t)p.subscription);
		return (0);
	}
	if (strcmp(method, "wait") == 0) {
		struct params_wait	p;

		if (params_wait(params, &p, err) != 0)
			return (-1);
		*result = json_pack("{s:s,s:s,s:I}", "path", p.path, "for",
		    p.wait_for == WAIT_RUNNING ? "running" : "terminated",
		    "timeout_ms", (json_int_t)p.timeout_ms);
		return (0);
	}
	if (strcmp(method, "ping") == 0 || strcmp(method, "stats") == 0 ||
	    strcmp(method, "shutdown") == 0) {
		if (params_none(params, err) != 0)
			return (-1);
		*result = json_object();
		return (0);
	}
	fail_msg("case names unknown method \"%s\"", method);
	return (-1);
}

static void
test_case_file(void **state)
{
	struct test_case	*tc = *state;
	struct proto_err	 err;
	json_error_t		 jerr;
	json_t			*doc, *expect, *params, *result, *v, *got;
	const char		*method, *key, *needle;

	doc = json_load_file(tc->path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		fail_msg("%s: %s (line %d)", tc->path, jerr.text, jerr.line);
	method = json_string_value(json_object_get(doc, "method"));
	if (method == NULL)
		fail_msg("%s: no \"method\"", tc->path);
	params = json_object_get(doc, "params");
	expect = json_object_get(doc, "expect");

	proto_err_clear(&err);
	if (run_method(method, params, json_object_get(doc, "limits"),
	    &result, &err) == 0) {
		if (!tc->valid)
			fail_msg("%s: accepted, want an error", tc->name);
		assert_non_null(result);
		json_object_foreach(expect, key, v) {
			got = json_object_get(result, key);
			if (got == NULL || !json_equal(got, v)) {
				char *g = got != NULL ? json_dumps(got,
				    JSON_ENCODE_ANY) : NULL;
				fail_msg("%s: \"%s\" is %s", tc->name, key,
				    g != NULL ? g : "absent");
			}
		}
		json_decref(result);
	} else {
		if (tc->valid)
			fail_msg("%s: rejected: %s", tc->name, err.message);
		v = json_object_get(expect, "code");
		if (v != NULL && json_integer_value(v) != err.code)
			fail_msg("%s: code %d, want %d (%s)", tc->name,
			    err.code, (int)json_integer_value(v), err.message);
		v = json_object_get(expect, "kind");
		if (v != NULL && strcmp(json_string_value(v), err.kind) != 0)
			fail_msg("%s: kind %s (%s)", tc->name, err.kind,
			    err.message);
		needle = json_string_value(json_object_get(expect,
		    "message_contains"));
		if (needle != NULL && strstr(err.message, needle) == NULL)
			fail_msg("%s: message \"%s\" lacks \"%s\"", tc->name,
			    err.message, needle);
	}
	json_decref(doc);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Appends one test per *.json file in dir, in name order. */
static size_t
add_cases(const char *dir, int valid, struct test_case **cases, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL;
	size_t		 nnames = 0, i, len, found = 0;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "cannot open %s\n", dir);
		return (0);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		names = realloc(names, (nnames + 1) * sizeof *names);
		names[nnames++] = strdup(de->d_name);
	}
	closedir(d);
	if (nnames > 0)
		qsort(names, nnames, sizeof *names, name_cmp);
	for (i = 0; i < nnames; i++) {
		struct test_case	*tc;

		*cases = realloc(*cases, (*n + 1) * sizeof **cases);
		tc = &(*cases)[(*n)++];
		len = strlen(dir) + strlen(names[i]) + 2;
		tc->path = malloc(len);
		snprintf(tc->path, len, "%s/%s", dir, names[i]);
		len += 16;
		tc->name = malloc(len);
		snprintf(tc->name, len, "%s/%s", valid ? "valid" : "invalid",
		    names[i]);
		tc->valid = valid;
		free(names[i]);
		found++;
	}
	free(names);
	return (found);
}

int
main(void)
{
	struct test_case	*cases = NULL;
	struct CMUnitTest	*tests;
	const char		*base;
	char			 dir[4096];
	size_t			 n = 0, nvalid, ninvalid, i;
	int			 rc;

	base = getenv("TESTDATA");
	if (base == NULL || *base == '\0')
		base = "tests";
	snprintf(dir, sizeof dir, "%s/proto/valid", base);
	nvalid = add_cases(dir, 1, &cases, &n);
	snprintf(dir, sizeof dir, "%s/proto/invalid", base);
	ninvalid = add_cases(dir, 0, &cases, &n);
	if (nvalid == 0 || ninvalid == 0) {
		fprintf(stderr, "no cases found under %s/proto (set "
		    "TESTDATA to the tests directory)\n", base);
		return (1);
	}

	tests = calloc(n, sizeof *tests);
	for (i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = test_case_file;
		tests[i].initial_state = &cases[i];
	}
	rc = _cmocka_run_group_tests("proto cases", tests, n, NULL, NULL);
	for (i = 0; i < n; i++) {
		free(cases[i].path);
		free(cases[i].name);
	}
	free(cases);
	free(tests);
	return (rc);
}
