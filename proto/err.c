/*
 * Filling struct proto_err: the code, its data.kind and a bounded message,
 * so every layer reports a mistake the same way.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "utf8.h"

const char *
proto_code_kind(int code)
{
	switch (code) {
	case PROTO_PARSE_ERROR:
		return "parse_error";
	case PROTO_INVALID_REQUEST:
		return "invalid_request";
	case PROTO_METHOD_NOT_FOUND:
		return "method_not_found";
	case PROTO_INVALID_PARAMS:
		return "invalid_params";
	case PROTO_NOT_FOUND:
		return "not_found";
	case PROTO_EXISTS:
		return "exists";
	case PROTO_CONFLICT:
		return "conflict";
	case PROTO_LIMIT:
		return "limit";
	case PROTO_TIMEOUT:
		return "timeout";
	case PROTO_SPAWN_FAILED:
		return "spawn_failed";
	case PROTO_INTERNAL:
	default:
		/* An unknown code is our bug, never the client's. */
		return "internal";
	}
}

/*
 * vsnprintf truncates; mark it so a reader knows the text was cut. The
 * cut, or "%.80s" of a client's string, may split a character: repair,
 * so the message can always go out as a JSON string.
 */
static void
proto_err_set_message(struct proto_err *err, const char *fmt, va_list ap)
{
	int n;

	n = vsnprintf(err->message, sizeof err->message, fmt, ap);
	if (n < 0)
		strcpy(err->message, "error message could not be formatted");
	else if ((size_t)n >= sizeof err->message)
		memcpy(err->message + sizeof err->message - 4, "...", 4);
	proto_utf8_repair(err->message);
}

int
proto_verrf(struct proto_err *err, int code, const char *fmt, va_list ap)
{
	if (err == NULL)
		return (-1);
	err->code = code;
	err->kind = proto_code_kind(code);
	err->sys_errno = 0;
	proto_err_set_message(err, fmt, ap);
	return (-1);
}

int
proto_errf(struct proto_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	proto_verrf(err, code, fmt, ap);
	va_end(ap);
	return (-1);
}

int
proto_errk(struct proto_err *err, int code, const char *kind, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	proto_verrf(err, code, fmt, ap);
	va_end(ap);
	if (err != NULL && kind != NULL)
		err->kind = kind;
	return (-1);
}

void
proto_err_prefix(struct proto_err *err, const char *fmt, ...)
{
	char prefix[PROTO_ERR_MESSAGE_MAX];
	char old[PROTO_ERR_MESSAGE_MAX];
	va_list ap;
	int n;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	memcpy(old, err->message, sizeof old);
	old[sizeof old - 1] = '\0';
	n = snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
	if (n >= 0 && (size_t)n >= sizeof err->message)
		memcpy(err->message + sizeof err->message - 4, "...", 4);
	proto_utf8_repair(err->message);
}

void
proto_err_clear(struct proto_err *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof *err);
}
