/*
 * The control socket: binding it safely, accepting within the connection
 * limit, keeping a reserve fd for EMFILE, and owning every connection.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct daemon;
struct conn;
struct event;

struct server {
	struct daemon *d;		/* borrowed */
	int fd;				/* owned: the listening socket */
	char *path;			/* owned: unlinked at close */
	struct event *accept_ev;	/* owned */
	struct event *resume_ev;	/* owned: accept again after EMFILE */
	struct event *reap_ev;		/* owned: frees dead connections */
	int reserve_fd;			/* owned: spent on EMFILE */
	struct conn *conns;		/* owned list */
	struct conn *dead;		/* owned list, freed next turn */
	size_t nconns;
	uint64_t next_conn_id;
	uint64_t accepted;
	uint64_t refused;
};

/* Binds path (creating its directory when missing) with mode 0600, or
 * 0660 and group when group is not NULL. */
struct server *server_new(struct daemon *d, const char *path,
    const char *group, struct proto_err *err);
void server_free(struct server *s);
/* No new connections (shutdown). */
void server_stop_accepting(struct server *s);
/* A closed connection moves to the dead list, freed next turn. */
void server_conn_dead(struct server *s, struct conn *c);
/* Every connection has written what it had queued. */
int server_output_empty(const struct server *s);

#endif
