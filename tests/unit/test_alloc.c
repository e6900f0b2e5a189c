/*
 * Allocation-failure tests for proto/: every allocation proto/ makes, its
 * own (malloc, calloc, realloc, strdup, through -Wl,--wrap) and jansson's
 * (json_set_alloc_funcs), is made to fail in turn, the 1st, the 2nd, ...
 * until an operation runs through without a failure. Each failing run
 * must report an error, never crash, and free everything it allocated
 * (counted here, and checked by LeakSanitizer in the ASan build).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonrpc.h"
#include "params.h"
#include "spec.h"

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
char *__real_strdup(const char *);
void __real_free(void *);
void *__wrap_malloc(size_t);
void *__wrap_calloc(size_t, size_t);
void *__wrap_realloc(void *, size_t);
char *__wrap_strdup(const char *);
void __wrap_free(void *);

/* The window of one run: counting is on, allocation fail_at fails. */
static struct {
	bool counting;
	long fail_at;		/* 1-based; 0: none fails */
	long count;		/* allocations seen */
	long live;		/* allocated and not freed */
	bool failed;		/* the failure was injected */
} alloc;

static bool
alloc_fails(void)
{
	if (!alloc.counting)
		return false;
	if (++alloc.count == alloc.fail_at) {
		alloc.failed = true;
		return true;
	}
	return false;
}

static void
alloc_got(void *p)
{
	if (alloc.counting && p != NULL)
		alloc.live++;
}

void *
__wrap_malloc(size_t n)
{
	void *p;

	if (alloc_fails())
		return NULL;
	p = __real_malloc(n);
	alloc_got(p);
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (alloc_fails())
		return NULL;
	p = __real_calloc(n, size);
	alloc_got(p);
	return p;
}

void *
__wrap_realloc(void *old, size_t n)
{
	void *p;

	if (alloc_fails())
		return NULL;
	p = __real_realloc(old, n);
	if (old == NULL)
		alloc_got(p);
	return p;
}

char *
__wrap_strdup(const char *s)
{
	char *p;

	if (alloc_fails())
		return NULL;
	p = __real_strdup(s);
	alloc_got(p);
	return p;
}

void
__wrap_free(void *p)
{
	if (alloc.counting && p != NULL)
		alloc.live--;
	__real_free(p);
}

static void *
alloc_json_malloc(size_t n)
{
	return __wrap_malloc(n);
}

static void
alloc_json_free(void *p)
{
	__wrap_free(p);
}

static int
setup(void **state)
{
	json_set_alloc_funcs(alloc_json_malloc, alloc_json_free);
	return 0;
}

static json_t *
load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (v == NULL)
		fail_msg("bad test JSON: %s", jerr.text);
	return v;
}

/*
 * Runs op with the 1st, 2nd, ... allocation failing until a run needs no
 * failure. op returns 0 when it succeeded, -1 when it reported an error;
 * either way it has freed what it made. Returns how many allocations the
 * whole operation makes.
 */
static long
alloc_each_failure(const char *what, int (*op)(void *), void *arg)
{
	long n;
	int rc;

	for (n = 1;; n++) {
		memset(&alloc, 0, sizeof alloc);
		alloc.fail_at = n;
		alloc.counting = true;
		rc = op(arg);
		alloc.counting = false;
		if (alloc.live != 0)
			fail_msg("%s: %ld allocation(s) leaked with allocation "
			    "%ld failing", what, alloc.live, n);
		if (!alloc.failed) {
			if (rc != 0)
				fail_msg("%s: failed with no allocation failing",
				    what);
			return alloc.count;
		}
		if (rc != -1)
			fail_msg("%s: allocation %ld failed but no error was "
			    "reported", what, n);
		if (n > 100000)
			fail_msg("%s: no end to its allocations", what);
	}
}

/* A spec with every kind, argv, env, cwd, identity and limits, sockets
 * and three levels of children. */
static const char nested_spec[] =
    "{\"parent\":\"/web\",\"name\":\"app\",\"kind\":\"supervisor\","
    "\"strategy\":\"one_for_all\",\"sockets\":[{\"listen\":"
    "\"tcp:127.0.0.1:80\"},{\"name\":\"u\",\"listen\":\"unix:/run/a.sock\","
    "\"owner\":\"app\",\"group\":\"app\"}],\"children\":["
    "{\"name\":\"db\",\"kind\":\"exec\",\"argv\":[\"postgres\",\"-D\","
    "\"/var/lib/pg\"],\"env\":{\"PGDATA\":\"/x\",\"LANG\":\"C\"},"
    "\"cwd\":\"/tmp\",\"stop_signal\":\"INT\",\"ready\":\"fd\","
    "\"user\":\"postgres\",\"group\":26,\"groups\":[\"ssl\",7],"
    "\"umask\":\"077\",\"nice\":1,\"oom_score_adj\":-10,"
    "\"no_new_privs\":true,\"rlimits\":{\"nofile\":{\"soft\":1024,"
    "\"hard\":4096},\"core\":\"infinity\",\"as\":\"2G\"},"
    "\"sockets\":[{\"listen\":\"udp:[::1]:53\"}]},"
    "{\"name\":\"mid\",\"kind\":\"supervisor\",\"user\":\"app\","
    "\"children\":["
    "{\"name\":\"t\",\"kind\":\"tick\",\"interval_ms\":5},"
    "{\"name\":\"deep\",\"kind\":\"supervisor\",\"children\":["
    "{\"name\":\"f\",\"kind\":\"fail\",\"code\":3},"
    "{\"name\":\"s\",\"kind\":\"sleep\",\"ms\":10}]}]},"
    "{\"name\":\"z\",\"kind\":\"sleep\"}]}";

static int
op_spec_parse(void *arg)
{
	struct node_spec *spec;
	struct proto_err err;
	const char *parent;
	size_t count;

	proto_err_clear(&err);
	if (spec_parse(arg, NULL, &parent, &spec, &count, &err) == -1) {
		assert_null(spec);
		/* Out of memory is ours: internal, not invalid_params. */
		assert_int_equal(err.code, PROTO_INTERNAL);
		return -1;
	}
	assert_int_equal(count, 8);
	spec_free(spec);
	return 0;
}

static void
spec_parse_reports_every_allocation_failure(void **state)
{
	json_t *obj = load(nested_spec);

	assert_true(alloc_each_failure("spec_parse", op_spec_parse, obj) > 10);
	json_decref(obj);
}

static int
op_spec_to_json(void *arg)
{
	json_t *json = spec_to_json(arg);

	if (json == NULL)
		return -1;
	json_decref(json);
	return 0;
}

static int
op_spec_dup(void *arg)
{
	struct node_spec *copy = spec_dup(arg);

	if (copy == NULL)
		return -1;
	assert_true(spec_equal_shallow(arg, copy));
	spec_free(copy);
	return 0;
}

static void
spec_to_json_and_dup_report_every_allocation_failure(void **state)
{
	json_t *obj = load(nested_spec);
	struct node_spec *spec;
	struct proto_err err;

	assert_int_equal(spec_parse(obj, NULL, NULL, &spec, NULL, &err), -1);
	json_object_del(obj, "parent");
	assert_int_equal(spec_parse(obj, NULL, NULL, &spec, NULL, &err), 0);
	assert_true(alloc_each_failure("spec_to_json", op_spec_to_json,
	    spec) > 10);
	assert_true(alloc_each_failure("spec_dup", op_spec_dup, spec) > 10);
	spec_free(spec);
	json_decref(obj);
}

static const char batch_line[] =
    "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"spawn\",\"params\":"
    "{\"name\":\"a\",\"kind\":\"sleep\"}},"
    "{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"method\":\"cancel\",\"params\":"
    "{\"path\":\"/a\",\"reason\":\"r\u00e9\"}},"
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}]";

/* Decodes, checks and answers each request, the daemon's whole path. */
static int
op_rpc_round(void *arg)
{
	struct proto_request req;
	struct proto_err err;
	json_t *msg, *elem, *resp, *id;
	char *buf;
	size_t i, len;
	int rc = 0;

	proto_err_clear(&err);
	msg = proto_rpc_decode(batch_line, strlen(batch_line), &err);
	if (msg == NULL) {
		/* Out of memory is internal where jansson says so; its lexer
		 * reports some failures inside strings as a parse error. */
		if (err.code != PROTO_INTERNAL && err.code != PROTO_PARSE_ERROR)
			fail_msg("decode out of memory: %d %s", err.code,
			    err.message);
		return -1;
	}
	json_array_foreach(msg, i, elem) {
		assert_int_equal(proto_rpc_request(elem, &req, &id, &err), 0);
		resp = proto_rpc_result(req.id, req.params != NULL ?
		    json_incref(req.params) : NULL);
		if (resp == NULL) {
			rc = -1;
			break;
		}
		buf = proto_rpc_encode(resp, &len);
		json_decref(resp);
		if (buf == NULL) {
			rc = -1;
			break;
		}
		free(buf);
	}
	json_decref(msg);
	return rc;
}

static void
rpc_decode_and_answer_report_every_allocation_failure(void **state)
{
	assert_true(alloc_each_failure("decode/request/result/encode",
	    op_rpc_round, NULL) > 10);
}

static int
op_rpc_error(void *arg)
{
	struct proto_err err;
	json_t *id = arg, *msg;
	char *buf;
	size_t len;

	proto_errf(&err, PROTO_SPAWN_FAILED, "cannot run %s", "x");
	err.sys_errno = 2;
	if ((msg = proto_rpc_error(id, &err)) == NULL)
		return -1;
	buf = proto_rpc_encode(msg, &len);
	json_decref(msg);
	if (buf == NULL)
		return -1;
	free(buf);
	return 0;
}

static int
op_rpc_notification(void *arg)
{
	json_t *params, *msg;
	char *buf;

	if ((params = json_pack("{s:i,s:s}", "seq", 1, "type", "state")) ==
	    NULL)
		return -1;
	if ((msg = proto_rpc_notification("event", params)) == NULL)
		return -1;
	buf = proto_rpc_encode(msg, NULL);
	json_decref(msg);
	if (buf == NULL)
		return -1;
	free(buf);
	return 0;
}

static int
op_rpc_call(void *arg)
{
	json_t *params, *msg;

	if ((params = json_pack("{s:s}", "path", "/")) == NULL)
		return -1;
	if ((msg = proto_rpc_call(7, "inspect", params)) == NULL)
		return -1;
	json_decref(msg);
	return 0;
}

static void
rpc_builders_report_every_allocation_failure(void **state)
{
	json_t *id = json_string("abc");

	assert_true(alloc_each_failure("proto_rpc_error", op_rpc_error, id) >
	    5);
	assert_true(alloc_each_failure("proto_rpc_notification",
	    op_rpc_notification, NULL) > 3);
	assert_true(alloc_each_failure("proto_rpc_call", op_rpc_call, NULL) >
	    3);
	json_decref(id);
}

/* params_* borrow from the params object: they must not allocate. */
static int
op_params(void *arg)
{
	const json_t *p = arg;
	struct params_path path;
	struct params_cancel cancel;
	struct params_inspect inspect;
	struct params_logs logs;
	struct params_watch watch;
	struct params_unwatch unwatch;
	struct params_wait wait;
	struct proto_err err;

	assert_int_equal(params_path(json_object_get(p, "path"), &path, &err),
	    0);
	assert_int_equal(params_cancel(json_object_get(p, "cancel"), &cancel,
	    &err), 0);
	assert_int_equal(params_inspect(json_object_get(p, "inspect"),
	    &inspect, &err), 0);
	assert_int_equal(params_logs(json_object_get(p, "logs"), &logs, &err),
	    0);
	assert_int_equal(params_watch(json_object_get(p, "watch"), &watch,
	    &err), 0);
	assert_int_equal(params_unwatch(json_object_get(p, "unwatch"),
	    &unwatch, &err), 0);
	assert_int_equal(params_wait(json_object_get(p, "wait"), &wait, &err),
	    0);
	assert_int_equal(params_none(json_object_get(p, "none"), &err), 0);
	/* And the error path. */
	assert_int_equal(params_path(json_object_get(p, "cancel"), &path,
	    &err), -1);
	return 0;
}

static void
params_make_no_allocation(void **state)
{
	json_t *p = load("{\"path\":{\"path\":\"/a\"},"
	    "\"cancel\":{\"path\":\"/a\",\"reason\":\"x\",\"wait\":true},"
	    "\"inspect\":{\"path\":\"/\",\"depth\":-1},"
	    "\"logs\":{\"path\":\"/a\",\"bytes\":10},"
	    "\"watch\":{\"since\":5,\"output\":true},"
	    "\"unwatch\":{\"subscription\":3},"
	    "\"wait\":{\"path\":\"/a\",\"for\":\"running\",\"timeout_ms\":5},"
	    "\"none\":{}}");

	assert_int_equal(alloc_each_failure("params_*", op_params, p), 0);
	json_decref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_parse_reports_every_allocation_failure),
		cmocka_unit_test(
		    spec_to_json_and_dup_report_every_allocation_failure),
		cmocka_unit_test(
		    rpc_decode_and_answer_report_every_allocation_failure),
		cmocka_unit_test(rpc_builders_report_every_allocation_failure),
		cmocka_unit_test(params_make_no_allocation),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
