/*
 * What every fuzz target shares: the libFuzzer entry point's prototype,
 * an assertion that stays on in every build, and the check that an error
 * can always be sent to a client.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* assert() is gone under NDEBUG; a fuzz invariant never is. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* A filled error is one of the protocol's codes with a message, and
 * becomes a JSON-RPC error that encodes to one line. */
static inline void
fuzz_check_err(const struct proto_err *err)
{
	json_t	*msg;
	char	*buf;
	size_t	 len;

	FUZZ_CHECK(err->code != 0 && err->kind != NULL);
	FUZZ_CHECK(err->message[0] != '\0');
	msg = proto_rpc_error(NULL, err);
	FUZZ_CHECK(msg != NULL);
	buf = proto_rpc_encode(msg, &len);
	FUZZ_CHECK(buf != NULL && len > 0 && buf[len - 1] == '\n');
	FUZZ_CHECK(memchr(buf, '\n', len - 1) == NULL);
	free(buf);
	json_decref(msg);
}

#endif
