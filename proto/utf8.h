/*
 * UTF-8 as RFC 3629 has it: no overlong forms, no surrogates, nothing past
 * U+10FFFF. The one validator of the daemon, the client and the protocol.
 */
#ifndef PROTO_UTF8_H
#define PROTO_UTF8_H

#include <stddef.h>

/* Length (1 to 4) of the well-formed sequence at the start of s, which
 * has len bytes (len > 0); 0 when there is none. */
size_t proto_utf8_seq(const unsigned char *s, size_t len);

/* Replaces each byte of s that is not part of well-formed UTF-8 with "?",
 * in place: messages quote clients' strings and cut them short, and a JSON
 * string must stay valid UTF-8. */
void proto_utf8_repair(char *s);

/* Copies len bytes of s into out (4 * len bytes) as valid UTF-8: each
 * byte that is not part of a well-formed sequence becomes the four
 * characters "\xNN" (lower-case hex). Returns the bytes written. */
size_t proto_utf8_escape(const char *s, size_t len, char *out);

#endif
