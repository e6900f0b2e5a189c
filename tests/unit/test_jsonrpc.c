/*
 * Tests for proto/jsonrpc.c and proto/err.c: decoding lines, checking
 * requests as JSON-RPC 2.0 says, building and encoding responses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "jsonrpc.h"

static json_t *
decode_ok(const char *s)
{
	struct proto_err	 err;
	json_t			*msg;

	proto_err_clear(&err);
	msg = proto_rpc_decode(s, strlen(s), &err);
	assert_non_null(msg);
	return (msg);
}

/* Checks s as a request; returns the error code (0 when valid). */
static int
check_request(const char *s, struct proto_request *req, json_t **id,
    struct proto_err *err, json_t **msgp)
{
	json_t	*msg;
	int	 rc;

	msg = decode_ok(s);
	proto_err_clear(err);
	rc = proto_rpc_request(msg, req, id, err);
	*msgp = msg;
	return (rc == 0 ? 0 : err->code);
}

static void
test_err_code_kinds_match_protocol_table(void **state)
{
	assert_string_equal(proto_code_kind(PROTO_PARSE_ERROR), "parse_error");
	assert_string_equal(proto_code_kind(PROTO_INVALID_REQUEST),
	    "invalid_request");
	assert_string_equal(proto_code_kind(PROTO_METHOD_NOT_FOUND),
	    "method_not_found");
	assert_string_equal(proto_code_kind(PROTO_INVALID_PARAMS),
	    "invalid_params");
	assert_string_equal(proto_code_kind(PROTO_INTERNAL), "internal");
	assert_string_equal(proto_code_kind(PROTO_NOT_FOUND), "not_found");
	assert_string_equal(proto_code_kind(PROTO_EXISTS), "exists");
	assert_string_equal(proto_code_kind(PROTO_CONFLICT), "conflict");
	assert_string_equal(proto_code_kind(PROTO_LIMIT), "limit");
	assert_string_equal(proto_code_kind(PROTO_TIMEOUT), "timeout");
	assert_string_equal(proto_code_kind(PROTO_SPAWN_FAILED),
	    "spawn_failed");
	assert_string_equal(proto_code_kind(12345), "internal");
}

static void
test_err_errf_fills_and_returns_minus_one(void **state)
{
	struct proto_err	err;

	assert_int_equal(proto_errf(&err, PROTO_NOT_FOUND, "no node at %s",
	    "/x"), -1);
	assert_int_equal(err.code, PROTO_NOT_FOUND);
	assert_string_equal(err.kind, "not_found");
	assert_string_equal(err.message, "no node at /x");
	assert_int_equal(proto_errf(NULL, PROTO_NOT_FOUND, "x"), -1);
}

static void
test_err_errk_overrides_kind(void **state)
{
	struct proto_err	err;

	assert_int_equal(proto_errk(&err, PROTO_INVALID_REQUEST, "too_large",
	    "message over %d bytes", 10), -1);
	assert_int_equal(err.code, PROTO_INVALID_REQUEST);
	assert_string_equal(err.kind, "too_large");
	assert_string_equal(err.message, "message over 10 bytes");
}

static void
test_err_long_message_is_truncated_safely(void **state)
{
	struct proto_err	err;
	char			big[1000];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	proto_errf(&err, PROTO_INTERNAL, "%s", big);
	assert_int_equal(strlen(err.message), PROTO_ERR_MESSAGE_MAX - 1);
	assert_string_equal(err.message + PROTO_ERR_MESSAGE_MAX - 4, "...");
	proto_err_prefix(&err, "children[%d]", 3);
	assert_int_equal(strlen(err.message), PROTO_ERR_MESSAGE_MAX - 1);
	assert_memory_equal(err.message, "children[3]: aaa", 16);
}

static void
test_err_prefix_locates_message(void **state)
{
	struct proto_err	err;

	proto_errf(&err, PROTO_INVALID_PARAMS, "bad");
	proto_err_prefix(&err, "children[%d].name", 2);
	assert_string_equal(err.message, "children[2].name: bad");
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	proto_err_prefix(NULL, "x");
}

static void
test_err_clear_resets(void **state)
{
	struct proto_err	err;

	proto_errf(&err, PROTO_LIMIT, "x");
	proto_err_clear(&err);
	assert_int_equal(err.code, 0);
	assert_null(err.kind);
	assert_string_equal(err.message, "");
}

static void
test_decode_accepts_object_and_array(void **state)
{
	json_t	*msg;

	msg = decode_ok("{\"a\":1}");
	assert_true(json_is_object(msg));
	json_decref(msg);
	msg = decode_ok("[1,2]");
	assert_true(json_is_array(msg));
	json_decref(msg);
}

static void
test_decode_scalar_is_not_a_parse_error(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg;

	msg = decode_ok("1");
	assert_int_equal(proto_rpc_request(msg, &req, NULL, &err), -1);
	assert_int_equal(err.code, PROTO_INVALID_REQUEST);
	json_decref(msg);
}

static void
test_decode_rejects_invalid_json(void **state)
{
	struct proto_err	err;

	assert_null(proto_rpc_decode("{\"a\":", 5, &err));
	assert_int_equal(err.code, PROTO_PARSE_ERROR);
	assert_string_equal(err.kind, "parse_error");
	assert_null(proto_rpc_decode("", 0, &err));
	assert_int_equal(err.code, PROTO_PARSE_ERROR);
}

static void
test_decode_rejects_trailing_garbage(void **state)
{
	struct proto_err	err;

	assert_null(proto_rpc_decode("{} {}", 5, &err));
	assert_int_equal(err.code, PROTO_PARSE_ERROR);
}

static void
test_decode_rejects_nul_byte(void **state)
{
	struct proto_err	err;

	assert_null(proto_rpc_decode("{\"a\":\0}", 7, &err));
	assert_int_equal(err.code, PROTO_PARSE_ERROR);
	assert_non_null(strstr(err.message, "NUL"));
}

static void
test_decode_rejects_invalid_utf8(void **state)
{
	struct proto_err	err;

	assert_null(proto_rpc_decode("{\"a\":\"\xff\"}", 9, &err));
	assert_int_equal(err.code, PROTO_PARSE_ERROR);
}

static void
test_decode_rejects_duplicate_keys(void **state)
{
	struct proto_err	 err;
	const char		*s = "{\"a\":1,\"a\":2}";

	assert_null(proto_rpc_decode(s, strlen(s), &err));
	assert_int_equal(err.code, PROTO_PARSE_ERROR);
}

static void
test_decode_rejects_escaped_nul_in_string(void **state)
{
	struct proto_err	 err;
	const char		*s = "{\"a\":\"x\\u0000y\"}";

	assert_null(proto_rpc_decode(s, strlen(s), &err));
	assert_int_equal(err.code, PROTO_PARSE_ERROR);
}

static void
test_request_valid_with_params(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("{\"jsonrpc\":\"2.0\",\"id\":7,"
	    "\"method\":\"spawn\",\"params\":{\"a\":1}}", &req, &id, &err,
	    &msg), 0);
	assert_string_equal(req.method, "spawn");
	assert_true(json_is_integer(req.id));
	assert_int_equal(json_integer_value(req.id), 7);
	assert_ptr_equal(id, req.id);
	assert_true(json_is_object(req.params));
	json_decref(msg);
}

static void
test_request_without_id_is_notification(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}",
	    &req, &id, &err, &msg), 0);
	assert_null(req.id);
	assert_null(req.params);
	json_decref(msg);
}

static void
test_request_null_id_is_not_notification(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("{\"jsonrpc\":\"2.0\",\"id\":null,"
	    "\"method\":\"x\"}", &req, &id, &err, &msg), 0);
	assert_non_null(req.id);
	assert_true(json_is_null(req.id));
	json_decref(msg);
}

static void
test_request_string_id_and_array_params(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("{\"jsonrpc\":\"2.0\",\"id\":\"a\","
	    "\"method\":\"x\",\"params\":[]}", &req, &id, &err, &msg), 0);
	assert_string_equal(json_string_value(req.id), "a");
	assert_true(json_is_array(req.params));
	json_decref(msg);
}

static void
test_request_wrong_version_is_invalid_with_id(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("{\"jsonrpc\":\"1.0\",\"id\":3,"
	    "\"method\":\"x\"}", &req, &id, &err, &msg),
	    PROTO_INVALID_REQUEST);
	assert_non_null(id);
	assert_int_equal(json_integer_value(id), 3);
	assert_string_equal(err.kind, "invalid_request");
	json_decref(msg);

	assert_int_equal(check_request("{\"jsonrpc\":2.0,\"id\":3,"
	    "\"method\":\"x\"}", &req, &id, &err, &msg),
	    PROTO_INVALID_REQUEST);
	json_decref(msg);
	assert_int_equal(check_request("{\"id\":3,\"method\":\"x\"}", &req,
	    &id, &err, &msg), PROTO_INVALID_REQUEST);
	assert_non_null(strstr(err.message, "jsonrpc"));
	json_decref(msg);
}

static void
test_request_method_must_be_string(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":5}", &req, &id, &err, &msg), PROTO_INVALID_REQUEST);
	assert_non_null(id);
	json_decref(msg);
	assert_int_equal(check_request("{\"jsonrpc\":\"2.0\",\"id\":1}", &req,
	    &id, &err, &msg), PROTO_INVALID_REQUEST);
	json_decref(msg);
}

static void
test_request_bad_id_types_are_invalid(void **state)
{
	static const char *const bad[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"x\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"x\"}",
	};
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(check_request(bad[i], &req, &id, &err, &msg),
		    PROTO_INVALID_REQUEST);
		assert_null(id);
		json_decref(msg);
	}
}

static void
test_request_params_must_be_structured(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"x\",\"params\":\"a\"}", &req, &id, &err, &msg),
	    PROTO_INVALID_REQUEST);
	assert_non_null(strstr(err.message, "params"));
	json_decref(msg);
}

static void
test_request_unknown_member_is_named(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"x\",\"extra\":1}", &req, &id, &err, &msg),
	    PROTO_INVALID_REQUEST);
	assert_non_null(strstr(err.message, "\"extra\""));
	assert_non_null(id);
	json_decref(msg);
}

static void
test_request_not_object_is_invalid(void **state)
{
	struct proto_request	 req;
	struct proto_err	 err;
	json_t			*msg, *id;

	assert_int_equal(check_request("[1]", &req, &id, &err, &msg),
	    PROTO_INVALID_REQUEST);
	assert_null(id);
	json_decref(msg);
}

static void
test_result_shape(void **state)
{
	json_t	*id, *msg;

	id = json_integer(4);
	msg = proto_rpc_result(id, json_pack("{s:i}", "x", 1));
	assert_non_null(msg);
	assert_string_equal(json_string_value(json_object_get(msg, "jsonrpc")),
	    "2.0");
	assert_ptr_equal(json_object_get(msg, "id"), id);
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(msg, "result"), "x")), 1);
	json_decref(msg);
	json_decref(id);

	msg = proto_rpc_result(NULL, NULL);
	assert_true(json_is_null(json_object_get(msg, "id")));
	assert_true(json_is_null(json_object_get(msg, "result")));
	json_decref(msg);
}

static void
test_error_shape_has_kind(void **state)
{
	struct proto_err	 err;
	json_t			*msg, *e, *data;

	proto_errf(&err, PROTO_NOT_FOUND, "no node at /x");
	msg = proto_rpc_error(NULL, &err);
	assert_non_null(msg);
	assert_true(json_is_null(json_object_get(msg, "id")));
	e = json_object_get(msg, "error");
	assert_int_equal(json_integer_value(json_object_get(e, "code")),
	    PROTO_NOT_FOUND);
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    "no node at /x");
	data = json_object_get(e, "data");
	assert_string_equal(json_string_value(json_object_get(data, "kind")),
	    "not_found");
	assert_null(json_object_get(data, "errno"));
	json_decref(msg);
}

static void
test_error_spawn_failed_carries_errno(void **state)
{
	struct proto_err	 err;
	json_t			*msg, *data;

	proto_errf(&err, PROTO_SPAWN_FAILED, "cannot run \"nope\"");
	err.sys_errno = ENOENT;
	msg = proto_rpc_error(json_null(), &err);
	data = json_object_get(json_object_get(msg, "error"), "data");
	assert_int_equal(json_integer_value(json_object_get(data, "errno")),
	    ENOENT);
	assert_string_equal(json_string_value(json_object_get(data, "error")),
	    "ENOENT");
	assert_string_equal(json_string_value(json_object_get(data, "kind")),
	    "spawn_failed");
	json_decref(msg);
}

static void
test_error_read_round_trip(void **state)
{
	struct proto_err	 err, back;
	json_t			*msg;

	proto_errk(&err, PROTO_INVALID_REQUEST, "too_large", "too big");
	msg = proto_rpc_error(NULL, &err);
	assert_int_equal(proto_rpc_error_read(msg, &back), 0);
	assert_int_equal(back.code, PROTO_INVALID_REQUEST);
	assert_string_equal(back.kind, "too_large");
	assert_string_equal(back.message, "too big");
	json_decref(msg);

	proto_errf(&err, PROTO_SPAWN_FAILED, "x");
	err.sys_errno = EACCES;
	msg = proto_rpc_error(NULL, &err);
	assert_int_equal(proto_rpc_error_read(msg, &back), 0);
	assert_int_equal(back.sys_errno, EACCES);
	json_decref(msg);

	msg = proto_rpc_result(NULL, json_object());
	assert_int_equal(proto_rpc_error_read(msg, &back), -1);
	json_decref(msg);
}

static void
test_error_read_unknown_kind_uses_code_default(void **state)
{
	struct proto_err	 err;
	json_t			*msg;

	msg = json_pack("{s:s,s:n,s:{s:i,s:s,s:{s:s}}}", "jsonrpc", "2.0",
	    "id", "error", "code", -32002, "message", "m", "data", "kind",
	    "weird");
	assert_int_equal(proto_rpc_error_read(msg, &err), 0);
	assert_string_equal(err.kind, "exists");
	json_decref(msg);
}

static void
test_notification_and_call_shape(void **state)
{
	json_t	*msg;

	msg = proto_rpc_notification("event", json_pack("{s:i}", "seq", 1));
	assert_null(json_object_get(msg, "id"));
	assert_string_equal(json_string_value(json_object_get(msg, "method")),
	    "event");
	assert_non_null(json_object_get(msg, "params"));
	json_decref(msg);

	msg = proto_rpc_call(9, "ping", NULL);
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), 9);
	assert_null(json_object_get(msg, "params"));
	json_decref(msg);
}

static void
test_encode_is_one_compact_line(void **state)
{
	json_t	*msg;
	char	*s;
	size_t	 len;

	msg = proto_rpc_call(1, "spawn", json_pack("{s:s,s:[s]}", "name",
	    "a\nb", "argv", "x\ny"));
	s = proto_rpc_encode(msg, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_int_equal(s[len - 1], '\n');
	assert_ptr_equal(strchr(s, '\n'), s + len - 1);
	assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"spawn\",\"params\":{\"name\":\"a\\nb\","
	    "\"argv\":[\"x\\ny\"]}}\n");
	free(s);
	json_decref(msg);
}

static void
test_encode_large_message(void **state)
{
	json_t	*msg;
	char	*s, *big;
	size_t	 len, n = 200000;

	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'z', n);
	big[n] = '\0';
	msg = proto_rpc_result(NULL, json_string(big));
	s = proto_rpc_encode(msg, &len);
	assert_non_null(s);
	assert_true(len > n);
	assert_int_equal(s[len - 1], '\n');
	free(s);
	free(big);
	json_decref(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_code_kinds_match_protocol_table),
		cmocka_unit_test(test_err_errf_fills_and_returns_minus_one),
		cmocka_unit_test(test_err_errk_overrides_kind),
		cmocka_unit_test(test_err_long_message_is_truncated_safely),
		cmocka_unit_test(test_err_prefix_locates_message),
		cmocka_unit_test(test_err_clear_resets),
		cmocka_unit_test(test_decode_accepts_object_and_array),
		cmocka_unit_test(test_decode_scalar_is_not_a_parse_error),
		cmocka_unit_test(test_decode_rejects_invalid_json),
		cmocka_unit_test(test_decode_rejects_trailing_garbage),
		cmocka_unit_test(test_decode_rejects_nul_byte),
		cmocka_unit_test(test_decode_rejects_invalid_utf8),
		cmocka_unit_test(test_decode_rejects_duplicate_keys),
		cmocka_unit_test(test_decode_rejects_escaped_nul_in_string),
		cmocka_unit_test(test_request_valid_with_params),
		cmocka_unit_test(test_request_without_id_is_notification),
		cmocka_unit_test(test_request_null_id_is_not_notification),
		cmocka_unit_test(test_request_string_id_and_array_params),
		cmocka_unit_test(test_request_wrong_version_is_invalid_with_id),
		cmocka_unit_test(test_request_method_must_be_string),
		cmocka_unit_test(test_request_bad_id_types_are_invalid),
		cmocka_unit_test(test_request_params_must_be_structured),
		cmocka_unit_test(test_request_unknown_member_is_named),
		cmocka_unit_test(test_request_not_object_is_invalid),
		cmocka_unit_test(test_result_shape),
		cmocka_unit_test(test_error_shape_has_kind),
		cmocka_unit_test(test_error_spawn_failed_carries_errno),
		cmocka_unit_test(test_error_read_round_trip),
		cmocka_unit_test(test_error_read_unknown_kind_uses_code_default),
		cmocka_unit_test(test_notification_and_call_shape),
		cmocka_unit_test(test_encode_is_one_compact_line),
		cmocka_unit_test(test_encode_large_message),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
