/*
 * The control socket: binding it safely, accepting within the connection
 * limit, keeping a reserve fd for EMFILE, and owning every connection.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "err.h"

struct daemon;
struct conn;
struct event;
struct server_linger;

struct server {
	struct daemon *d; /* borrowed */
	int fd;           /* owned: the listening socket */
	char *path;       /* owned: unlinked at close; NULL for
	                     a socket systemd passed */
	bool have_group;  /* members of group may connect */
	gid_t group;
	char group_name[64];
	struct event *accept_ev;          /* owned */
	struct event *resume_ev;          /* owned: accept again after EMFILE */
	struct event *reap_ev;            /* owned: frees dead connections */
	int reserve_fd;                   /* owned: spent on EMFILE */
	LIST_HEAD(conn_list, conn) conns; /* owned */
	struct conn_list dead;            /* owned, freed next turn */
	/* owned: refused peers, closed once they read their error */
	LIST_HEAD(, server_linger) lingering;
	size_t nlingering;
	size_t nconns;
	uint64_t next_conn_id;
	uint64_t accepted;
	uint64_t refused;
	bool out_of_fds; /* warned; reset by the next accept */
};

/* Binds path (creating its directory when missing) with mode 0600, or
 * 0660 and group when group is not NULL. */
struct server *server_new(struct daemon *d, const char *path, const char *group,
    struct proto_err *err);
/* Serves on fd, a listening unix socket from socket activation (never
 * unlinked here). Access: group, else the socket file's group when its
 * mode lets the group connect. */
struct server *server_new_fd(struct daemon *d, int fd, const char *group,
    struct proto_err *err);
void server_free(struct server *s);
/* May uid (primary gid) control a daemon running as self? Root, self and,
 * when have_group, members of group (primary or supplementary). -1 with
 * err (kind "forbidden") when not. */
int server_access_check(uid_t uid, gid_t gid, uid_t self, bool have_group,
    gid_t group, const char *group_name, struct proto_err *err);
/* No new connections (shutdown). */
void server_stop_accepting(struct server *s);
/* A closed connection moves to the dead list, freed next turn. */
void server_conn_dead(struct server *s, struct conn *c);
/* Takes fd: shuts its write side, then reads and drops what the peer
 * still sends until it hangs up or SERVER_LINGER_MS pass, and closes it.
 * A close with unread input would make the kernel reset the connection
 * and the peer lose the error it was sent. */
void server_linger(struct server *s, int fd);
/* Every connection has written what it had queued. */
int server_output_empty(const struct server *s);

#endif
