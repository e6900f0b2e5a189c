/*
 * Fuzz target for proto/params.c: any JSON text handed to every params_*
 * reader, as params of each method would be; what is accepted must obey
 * the documented bounds, what is refused must be a sendable error.
 */
#include <string.h>

#include "fuzz.h"
#include "duration.h"
#include "params.h"
#include "path.h"

static void
fuzz_path_ok(const char *path)
{
	FUZZ_CHECK(path != NULL);
	FUZZ_CHECK(proto_path_check(path, "path", NULL) == 0);
}

/* rc is the reader's answer: 0 and sane values, or -1 and an error. */
static void
fuzz_result(int rc, const struct proto_err *err)
{
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		fuzz_check_err(err);
		FUZZ_CHECK(err->code == PROTO_INVALID_PARAMS);
	}
}

static void
fuzz_params(const json_t *params)
{
	struct params_path	path;
	struct params_cancel	cancel;
	struct params_inspect	inspect;
	struct params_logs	logs;
	struct params_watch	watch;
	struct params_unwatch	unwatch;
	struct params_wait	wait;
	struct proto_err	err;
	int			rc;

	proto_err_clear(&err);
	fuzz_result(params_none(params, &err), &err);

	proto_err_clear(&err);
	fuzz_result(rc = params_path(params, &path, &err), &err);
	if (rc == 0)
		fuzz_path_ok(path.path);

	proto_err_clear(&err);
	fuzz_result(rc = params_cancel(params, &cancel, &err), &err);
	if (rc == 0) {
		fuzz_path_ok(cancel.path);
		FUZZ_CHECK(cancel.reason == NULL ||
		    strlen(cancel.reason) <= PARAMS_REASON_MAX);
	}

	proto_err_clear(&err);
	fuzz_result(rc = params_inspect(params, &inspect, &err), &err);
	if (rc == 0) {
		fuzz_path_ok(inspect.path);
		FUZZ_CHECK(inspect.depth >= -1 &&
		    inspect.depth <= PROTO_DEPTH_MAX);
	}

	proto_err_clear(&err);
	fuzz_result(rc = params_logs(params, &logs, &err), &err);
	if (rc == 0) {
		fuzz_path_ok(logs.path);
		/* bytes is -1 (no byte cap) only when lines bounds the tail. */
		FUZZ_CHECK(logs.bytes == -1 ?
		    logs.lines >= 0 && logs.lines <= PARAMS_LOGS_LINES_MAX :
		    logs.bytes >= 1 && logs.bytes <= PARAMS_LOGS_MAX);
		FUZZ_CHECK(logs.lines >= -1 &&
		    logs.lines <= PARAMS_LOGS_LINES_MAX);
		FUZZ_CHECK(logs.since_ms >= 0);
	}

	proto_err_clear(&err);
	fuzz_result(rc = params_watch(params, &watch, &err), &err);
	if (rc == 0) {
		fuzz_path_ok(watch.path);
		FUZZ_CHECK(watch.has_since || watch.since == 0);
		FUZZ_CHECK(watch.since <= (uint64_t)INT64_MAX);
	}

	proto_err_clear(&err);
	fuzz_result(rc = params_unwatch(params, &unwatch, &err), &err);
	if (rc == 0)
		FUZZ_CHECK(unwatch.subscription <= (uint64_t)INT64_MAX);

	proto_err_clear(&err);
	fuzz_result(rc = params_wait(params, &wait, &err), &err);
	if (rc == 0) {
		fuzz_path_ok(wait.path);
		FUZZ_CHECK(wait.wait_for == WAIT_TERMINATED ||
		    wait.wait_for == WAIT_RUNNING);
		FUZZ_CHECK(wait.timeout_ms >= -1 &&
		    wait.timeout_ms <= PROTO_DURATION_MAX_MS);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_err	 err;
	json_t			*params;

	params = proto_rpc_decode((const char *)data, size, &err);
	if (params == NULL)
		return (0);
	/* Absent params, and whatever the client sent as params. */
	fuzz_params(NULL);
	fuzz_params(params);
	json_decref(params);
	return (0);
}
