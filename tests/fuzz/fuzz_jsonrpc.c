/*
 * Fuzz target for proto/jsonrpc.c: one line decoded as the daemon decodes
 * it; each request (or each element of a batch) checked; the answer the
 * daemon would send built, encoded, decoded back and read again.
 */
#include <string.h>

#include "fuzz.h"

/* msg encodes to exactly one line that decodes to an equal value. */
static void
fuzz_round_trip(const json_t *msg)
{
	struct proto_err	 err;
	json_t			*back;
	char			*buf;
	size_t			 len;

	buf = proto_rpc_encode(msg, &len);
	FUZZ_CHECK(buf != NULL && len > 0 && buf[len - 1] == '\n');
	FUZZ_CHECK(memchr(buf, '\n', len - 1) == NULL);
	FUZZ_CHECK(strlen(buf) == len);
	back = proto_rpc_decode(buf, len - 1, &err);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(json_equal(back, (json_t *)msg));
	json_decref(back);
	free(buf);
}

static void
fuzz_request(json_t *elem)
{
	struct proto_request	 req;
	struct proto_err	 err, back;
	json_t			*id, *resp;

	proto_err_clear(&err);
	if (proto_rpc_request(elem, &req, &id, &err) != 0) {
		fuzz_check_err(&err);
		FUZZ_CHECK(err.code == PROTO_INVALID_REQUEST);
		/* The id answered with is one a response may carry. */
		FUZZ_CHECK(id == NULL || json_is_string(id) ||
		    json_is_number(id) || json_is_null(id));
		resp = proto_rpc_error(id, &err);
		FUZZ_CHECK(resp != NULL);
		fuzz_round_trip(resp);
		FUZZ_CHECK(proto_rpc_error_read(resp, &back) == 0);
		FUZZ_CHECK(back.code == err.code);
		FUZZ_CHECK(strcmp(back.kind, err.kind) == 0);
		json_decref(resp);
		return;
	}
	FUZZ_CHECK(req.method != NULL);
	FUZZ_CHECK(req.params == NULL || json_is_object(req.params) ||
	    json_is_array(req.params));
	FUZZ_CHECK(req.id == id);
	/* A result that echoes the params, as a daemon might. */
	resp = proto_rpc_result(req.id, req.params != NULL ?
	    json_incref(req.params) : NULL);
	FUZZ_CHECK(resp != NULL);
	fuzz_round_trip(resp);
	FUZZ_CHECK(proto_rpc_error_read(resp, NULL) == -1);
	json_decref(resp);
	resp = proto_rpc_notification(req.method, req.params != NULL ?
	    json_incref(req.params) : NULL);
	FUZZ_CHECK(resp != NULL);
	fuzz_round_trip(resp);
	json_decref(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_err	 err;
	json_t			*msg, *elem;
	size_t			 i;

	proto_err_clear(&err);
	msg = proto_rpc_decode((const char *)data, size, &err);
	if (msg == NULL) {
		fuzz_check_err(&err);
		FUZZ_CHECK(err.code == PROTO_PARSE_ERROR);
		return (0);
	}
	fuzz_round_trip(msg);
	if (json_is_array(msg)) {
		json_array_foreach(msg, i, elem)
			fuzz_request(elem);
	} else
		fuzz_request(msg);
	/* What a client does with any answer it is sent. */
	(void)proto_rpc_error_read(msg, &err);
	json_decref(msg);
	return (0);
}
