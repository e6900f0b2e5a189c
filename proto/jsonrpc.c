/*
 * JSON-RPC 2.0 on the wire: decoding one framed line, checking that it is a
 * request, and building the messages the daemon and clients send.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "names.h"
#include "utf8.h"

json_t *
proto_rpc_decode(const char *line, size_t len, struct proto_err *err)
{
	json_error_t jerr;
	json_t *msg;
	const char *nul;

	/* jansson would reject it too, but this says why in plain words. */
	nul = len > 0 ? memchr(line, '\0', len) : NULL;
	if (nul != NULL) {
		proto_errf(err, PROTO_PARSE_ERROR,
		    "message is not valid JSON: it contains a NUL byte at "
		    "offset %zu",
		    (size_t)(nul - line));
		return (NULL);
	}
	/* Any JSON text decodes: a valid scalar is an invalid request (-32600),
	 * not a parse error, as JSON-RPC 2.0 says. */
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (msg == NULL) {
		/* Our failure, not the client's: no parse error for it. An
		 * empty text is jansson failing to allocate its lexer. */
		if (jerr.text[0] == '\0'
#if JANSSON_VERSION_HEX >= 0x020b00
		    || json_error_code(&jerr) == json_error_out_of_memory
#endif
		) {
			proto_errf(err, PROTO_INTERNAL, "out of memory");
			return (NULL);
		}
		proto_errf(err, PROTO_PARSE_ERROR,
		    "message is not valid JSON: %s (at byte %d)", jerr.text,
		    jerr.position);
		return (NULL);
	}
	return (msg);
}

static const char *
proto_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
	default:
		return "null";
	}
}

int
proto_rpc_request(json_t *msg, struct proto_request *req, json_t **id_out,
    struct proto_err *err)
{
	json_t *id, *version, *method, *params, *value;
	const char *key;

	if (id_out != NULL)
		*id_out = NULL;
	memset(req, 0, sizeof *req);

	if (!json_is_object(msg))
		return (proto_errf(err, PROTO_INVALID_REQUEST,
		    "a request must be a JSON object, got %s",
		    proto_json_type_name(msg)));

	/* The id first: every later error is answered with it. */
	id = json_object_get(msg, "id");
	if (id != NULL) {
		if (!json_is_string(id) && !json_is_number(id) &&
		    !json_is_null(id))
			return (proto_errf(err, PROTO_INVALID_REQUEST,
			    "request \"id\" must be a string, a number or "
			    "null, got %s",
			    proto_json_type_name(id)));
		if (id_out != NULL)
			*id_out = id;
	}

	version = json_object_get(msg, "jsonrpc");
	if (version == NULL)
		return (proto_errf(err, PROTO_INVALID_REQUEST,
		    "request has no \"jsonrpc\" member; it must be \"2.0\""));
	if (!json_is_string(version) ||
	    strcmp(json_string_value(version), "2.0") != 0 ||
	    json_string_length(version) != 3)
		return (proto_errf(err, PROTO_INVALID_REQUEST,
		    "request \"jsonrpc\" must be \"2.0\""));

	method = json_object_get(msg, "method");
	if (method == NULL)
		return (proto_errf(err, PROTO_INVALID_REQUEST,
		    "request has no \"method\" member"));
	if (!json_is_string(method))
		return (proto_errf(err, PROTO_INVALID_REQUEST,
		    "request \"method\" must be a string, got %s",
		    proto_json_type_name(method)));

	params = json_object_get(msg, "params");
	if (params != NULL && !json_is_object(params) && !json_is_array(params))
		return (proto_errf(err, PROTO_INVALID_REQUEST,
		    "request \"params\" must be an object or an array, got %s",
		    proto_json_type_name(params)));

	json_object_foreach(msg, key, value) {
		if (strcmp(key, "jsonrpc") != 0 && strcmp(key, "id") != 0 &&
		    strcmp(key, "method") != 0 && strcmp(key, "params") != 0)
			return (proto_errf(err, PROTO_INVALID_REQUEST,
			    "request has an unknown member \"%.64s\"", key));
	}

	req->id = id;
	req->method = json_string_value(method);
	req->params = params;
	return (0);
}

/* Starts {"jsonrpc":"2.0","id":id}; NULL when out of memory. */
static json_t *
proto_rpc_response(json_t *id)
{
	json_t *msg;

	msg = json_object();
	if (msg == NULL)
		return (NULL);
	if (json_object_set_new(msg, "jsonrpc", json_string("2.0")) != 0 ||
	    json_object_set_new(msg, "id",
	        id != NULL ? json_incref(id) : json_null()) != 0) {
		json_decref(msg);
		return (NULL);
	}
	return (msg);
}

json_t *
proto_rpc_result(json_t *id, json_t *result)
{
	json_t *msg;

	msg = proto_rpc_response(id);
	if (msg == NULL) {
		json_decref(result);
		return (NULL);
	}
	if (json_object_set_new(msg, "result",
	        result != NULL ? result : json_null()) != 0) {
		json_decref(msg);
		return (NULL);
	}
	return (msg);
}

json_t *
proto_rpc_error(json_t *id, const struct proto_err *err)
{
	json_t *msg, *error, *data;
	const char *kind;
	char message[PROTO_ERR_MESSAGE_MAX];
	int code;

	code = err->code != 0 ? err->code : PROTO_INTERNAL;
	kind = err->kind != NULL ? err->kind : proto_code_kind(code);
	/* Whoever filled the message, it goes out as valid UTF-8. */
	if (err->message[0] == '\0')
		snprintf(message, sizeof message, "internal error");
	else
		snprintf(message, sizeof message, "%.*s",
		    (int)strnlen(err->message, sizeof err->message),
		    err->message);
	proto_utf8_repair(message);

	msg = proto_rpc_response(id);
	error = json_object();
	data = json_object();
	if (msg == NULL || error == NULL || data == NULL)
		goto fail;
	if (json_object_set_new(data, "kind", json_string(kind)) != 0)
		goto fail;
	if (code == PROTO_SPAWN_FAILED) {
		if (json_object_set_new(data, "errno",
		        json_integer(err->sys_errno)) != 0 ||
		    json_object_set_new(data, "error",
		        json_string(proto_errno_name(err->sys_errno))) != 0)
			goto fail;
	}
	if (json_object_set_new(error, "code", json_integer(code)) != 0 ||
	    json_object_set_new(error, "message", json_string(message)) != 0)
		goto fail;
	/* set_new takes the reference even when it fails. */
	if (json_object_set_new(error, "data", data) != 0) {
		data = NULL;
		goto fail;
	}
	data = NULL;
	if (json_object_set_new(msg, "error", error) != 0) {
		error = NULL;
		goto fail;
	}
	return (msg);

fail:
	json_decref(data);
	json_decref(error);
	json_decref(msg);
	return (NULL);
}

/* A request, or with id NULL a notification; takes id and params. */
static json_t *
rpc_request(json_t *id, const char *method, json_t *params)
{
	json_t *msg = json_object();

	/* set_new takes its value even when it fails: the message holds
	 * references of its own, and ours go at the end either way. */
	if (msg == NULL ||
	    json_object_set_new(msg, "jsonrpc", json_string("2.0")) != 0 ||
	    (id != NULL &&
	        json_object_set_new(msg, "id", json_incref(id)) != 0) ||
	    json_object_set_new(msg, "method", json_string(method)) != 0 ||
	    (params != NULL &&
	        json_object_set_new(msg, "params", json_incref(params)) != 0)) {
		json_decref(msg);
		msg = NULL;
	}
	json_decref(id);
	json_decref(params);
	return (msg);
}

json_t *
proto_rpc_notification(const char *method, json_t *params)
{
	return (rpc_request(NULL, method, params));
}

json_t *
proto_rpc_call(json_int_t id, const char *method, json_t *params)
{
	json_t *jid = json_integer(id);

	if (jid == NULL) {
		json_decref(params);
		return (NULL);
	}
	return (rpc_request(jid, method, params));
}

struct proto_buf {
	char *data;
	size_t len;
	size_t size;
};

/* Our own buffer rather than json_dumps, so the caller frees with free()
 * whatever allocator jansson was given. */
static int
proto_buf_add_cb(const char *s, size_t n, void *arg)
{
	struct proto_buf *b = arg;
	size_t size;
	char *p;

	if (n > SIZE_MAX - b->len - 2)
		return (-1);
	if (b->len + n + 2 > b->size) {
		size = b->size != 0 ? b->size : 256;
		while (size < b->len + n + 2) {
			if (size > SIZE_MAX / 2)
				return (-1);
			size *= 2;
		}
		p = realloc(b->data, size);
		if (p == NULL)
			return (-1);
		b->data = p;
		b->size = size;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return (0);
}

char *
proto_rpc_encode(const json_t *msg, size_t *len)
{
	struct proto_buf b = { NULL, 0, 0 };

	/* COMPACT escapes every control character, so no "\n" inside. */
	if (json_dump_callback(msg, proto_buf_add_cb, &b,
	        JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) != 0 ||
	    proto_buf_add_cb("", 0, &b) != 0) {
		free(b.data);
		return (NULL);
	}
	b.data[b.len++] = '\n';
	b.data[b.len] = '\0';
	if (len != NULL)
		*len = b.len;
	return (b.data);
}

/* err->kind must be a static string: map a known kind to ours. */
static const char *
proto_kind_static(const char *kind, int code)
{
	static const char *const kinds[] = {
		"parse_error",
		"invalid_request",
		"too_large",
		"method_not_found",
		"invalid_params",
		"internal",
		"not_found",
		"exists",
		"conflict",
		"limit",
		"timeout",
		"spawn_failed",
		NULL,
	};
	size_t i;

	if (kind != NULL) {
		for (i = 0; kinds[i] != NULL; i++) {
			if (strcmp(kinds[i], kind) == 0)
				return (kinds[i]);
		}
	}
	return (proto_code_kind(code));
}

int
proto_rpc_error_read(const json_t *msg, struct proto_err *err)
{
	json_t *error, *code, *message, *data, *kind, *eno;
	const char *text;

	if (!json_is_object(msg))
		return (-1);
	error = json_object_get(msg, "error");
	if (!json_is_object(error))
		return (-1);
	code = json_object_get(error, "code");
	if (!json_is_integer(code))
		return (-1);
	message = json_object_get(error, "message");
	text = json_is_string(message) ? json_string_value(message) : "";
	if (err == NULL)
		return (0);

	proto_errf(err, (int)json_integer_value(code), "%s", text);
	data = json_object_get(error, "data");
	kind = json_object_get(data, "kind");
	err->kind = proto_kind_static(json_string_value(kind), err->code);
	eno = json_object_get(data, "errno");
	if (json_is_integer(eno))
		err->sys_errno = (int)json_integer_value(eno);
	return (0);
}
