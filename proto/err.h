/*
 * An error is a code plus a sentence: the JSON-RPC code, its data.kind and a
 * message a person can act on. Every layer below the RPC handlers returns -1
 * and fills one of these; the caller owns the struct (usually on its stack).
 */
#ifndef PROTO_ERR_H
#define PROTO_ERR_H

#include <stdarg.h>

enum proto_code {
	PROTO_PARSE_ERROR = -32700,
	PROTO_INVALID_REQUEST = -32600,
	PROTO_METHOD_NOT_FOUND = -32601,
	PROTO_INVALID_PARAMS = -32602,
	PROTO_INTERNAL = -32603,
	PROTO_NOT_FOUND = -32001,
	PROTO_EXISTS = -32002,
	PROTO_CONFLICT = -32003,
	PROTO_LIMIT = -32004,
	PROTO_TIMEOUT = -32005,
	PROTO_SPAWN_FAILED = -32006,
};

#define PROTO_ERR_MESSAGE_MAX 256

struct proto_err {
	int code;         /* enum proto_code, 0 when unset */
	const char *kind; /* static string: data.kind */
	int sys_errno;    /* spawn_failed: data.errno, else 0 */
	char message[PROTO_ERR_MESSAGE_MAX];
};

/* The data.kind a code has unless told otherwise ("not_found", ...). */
const char *proto_code_kind(int code);

/* Fills err (when err is not NULL) and returns -1, so callers can
 * `return proto_errf(err, PROTO_NOT_FOUND, "no node at %s", path);`. */
int proto_errf(struct proto_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int proto_verrf(struct proto_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Same, with a data.kind other than the code's default ("too_large"). */
int proto_errk(struct proto_err *err, int code, const char *kind,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Puts "prefix: " in front of the message already there (for locating an
 * error inside a nested spec: "children[2].name: ..."). */
void proto_err_prefix(struct proto_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void proto_err_clear(struct proto_err *err);

#endif
