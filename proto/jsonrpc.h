/*
 * JSON-RPC 2.0 messages: decoding a line, checking a request, building
 * responses, errors and notifications. Returned json_t are new references
 * owned by the caller; "stolen" arguments become the result's.
 */
#ifndef PROTO_JSONRPC_H
#define PROTO_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "err.h"

#define PROTO_VERSION           1
#define PROTO_MAX_BATCH_DEFAULT 1000

struct proto_request {
	json_t *id;         /* borrowed from the message; NULL: notification */
	const char *method; /* borrowed */
	json_t *params;     /* borrowed; NULL when absent */
};

/* Parses one framed line (UTF-8, no NUL, no duplicate keys, nesting bounded
 * by jansson's own limit). NULL with a parse_error on failure. */
json_t *proto_rpc_decode(const char *line, size_t len, struct proto_err *err);

/* Checks one element: an object with "jsonrpc":"2.0", a string "method",
 * an optional id (string, number or null) and optional params (object or
 * array), nothing else. On error, *id_out (if not NULL) is the id to answer
 * with: the request's id when it was readable, else NULL (JSON null). */
int proto_rpc_request(json_t *msg, struct proto_request *req, json_t **id_out,
    struct proto_err *err);

/* {"jsonrpc":"2.0","id":id,"result":result}; result is stolen, id is
 * borrowed (copied by reference), NULL id means JSON null. */
json_t *proto_rpc_result(json_t *id, json_t *result);

/* {"jsonrpc":"2.0","id":id,"error":{"code","message","data":{"kind",...}}}.
 * spawn_failed errors carry data.errno and data.error. */
json_t *proto_rpc_error(json_t *id, const struct proto_err *err);

/* {"jsonrpc":"2.0","method":method,"params":params}; params stolen. */
json_t *proto_rpc_notification(const char *method, json_t *params);

/* {"jsonrpc":"2.0","id":id,"method":method,"params":params}; params stolen
 * (may be NULL). For clients. */
json_t *proto_rpc_call(json_int_t id, const char *method, json_t *params);

/* Encodes msg compactly and appends "\n". Returns a malloc'd buffer the
 * caller frees, its length in *len; NULL only when out of memory. */
char *proto_rpc_encode(const json_t *msg, size_t *len);

/* Reads an error response back into err (for clients); -1 if msg is not one. */
int proto_rpc_error_read(const json_t *msg, struct proto_err *err);

#endif
