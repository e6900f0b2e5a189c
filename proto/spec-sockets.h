/*
 * The `sockets` field of exec and supervisor specs: the listening sockets
 * arbord holds for a node and passes to its workers as systemd does
 * (LISTEN_FDS). Parsed strictly here, addresses included, so the daemon
 * only creates, binds and listens. A list owns its entries and their
 * strings.
 */
#ifndef PROTO_SPEC_SOCKETS_H
#define PROTO_SPEC_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>

#include "err.h"

#define SPEC_SOCKETS_MAX   64  /* sockets of one node */
#define SPEC_FDNAME_MAX    255 /* systemd's limit for LISTEN_FDNAMES names */
#define SPEC_BACKLOG_MAX   65535
#define SPEC_SOCK_MODE_DEF 0666 /* systemd's SocketMode= */

enum spec_sock_type { SPEC_SOCK_TCP, SPEC_SOCK_UDP, SPEC_SOCK_UNIX };

struct spec_socket {
	char *name;   /* owned: its LISTEN_FDNAMES entry (never NULL) */
	char *listen; /* owned: as written, "tcp:127.0.0.1:8080" */
	uint8_t type; /* enum spec_sock_type */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int backlog;     /* stream sockets (tcp, unix); 0 for udp */
	bool reuse_port; /* SO_REUSEPORT (tcp, udp) */
	int mode;        /* unix with a path: the file's mode; else -1 */
	char *owner;     /* owned; NULL: arbord's (unix with a path) */
	char *group;     /* owned; NULL: arbord's */
};

struct spec_sockets {
	struct spec_socket *v; /* owned array */
	size_t n;
};

/* Reads obj's "sockets" (absent: *out NULL, no error); messages name the
 * entry as `field "sockets[2].listen" ...`. */
int spec_sockets_parse(const json_t *obj, struct spec_sockets **out,
    struct proto_err *err);
void spec_sockets_free(struct spec_sockets *s);
/* NULL when s is NULL or out of memory (*oom says which). */
struct spec_sockets *spec_sockets_dup(const struct spec_sockets *s, bool *oom);
/* Adds "sockets" to obj when s has any; -1 when out of memory. */
int spec_sockets_to_json(const struct spec_sockets *s, json_t *obj);
/* No list and an empty one are the same. */
bool
spec_sockets_equal(const struct spec_sockets *a, const struct spec_sockets *b);
/* Whether name may go into LISTEN_FDNAMES: printable ASCII, no ':', at
 * most 255 bytes (systemd's fdname_is_valid; the empty name too). */
bool spec_fdname_valid(const char *name);

#endif
