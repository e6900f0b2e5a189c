/*
 * Listening sockets arbord holds for a node (the spec's `sockets`), and
 * what a worker gets of them (LISTEN_FDS, as systemd passes them).
 *
 * Ownership: a node owns its set (node->socks, NULL when it has none or
 * they are closed); the set owns its fds, its copy of the spec's list and
 * the unix socket files it bound, which are removed when it is freed (if
 * the path still is the socket it bound). The sets are opened for a whole
 * subtree when it is spawned, before any node exists; a node keeps its set
 * while its workers restart (connections wait in the backlog) and closes
 * it when it terminates (cancelled, given up, not restarted); a node that
 * starts again without one opens it again. The tree only calls the
 * sock_node_* and sock_subtree_* functions and never looks inside.
 *
 * What an exec worker gets, from fd 3 on: the sockets of every supervisor
 * above it, outermost first, then its own, in the order of each spec's
 * `sockets`; LISTEN_FDNAMES lists their names in the same order.
 */
#ifndef SOCKETS_H
#define SOCKETS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "spec.h"

struct node;
struct sock_set;

/* Opens every socket of the subtree spec (count nodes, from spec_parse),
 * in the order tree_link creates the nodes (a node, then each child's
 * subtree): (*out)[i] is the i-th node's set, or NULL; *out stays NULL
 * when no node has sockets. -1 with err (spawn_failed, data.errno,
 * "children[1].sockets[0]: cannot bind ...") when one cannot be opened:
 * then every one opened is closed again and nothing is left. */
int sock_subtree_open(const struct node_spec *spec, size_t count,
    struct sock_set ***out, struct proto_err *err);
/* Frees the sets still in v (a failed spawn) and v. */
void sock_subtree_free(struct sock_set **v, size_t count);

/* At a node's start: keeps its set when it was opened from the sockets
 * its spec has now, else closes it and opens them again (a reload changed
 * them; the node terminated). -1 with err when one cannot be opened. */
int sock_node_open(struct node *n, struct proto_err *err);
/* Closes n's sockets (it terminated, or is freed). */
void sock_node_close(struct node *n);

/* The listen fds of one start of an exec worker. */
struct sock_pass {
	int *fds;        /* owned: copies at or above fd_min, close-on-exec */
	size_t n;        /* LISTEN_FDS */
	char *var_fds;   /* owned: "LISTEN_FDS=n" */
	char *var_names; /* owned: "LISTEN_FDNAMES=a:b" */
};

/* How many fds n's worker gets. */
size_t sock_pass_count(const struct node *n);
/* Fills p for n's worker (p->n == 0: no sockets, nothing allocated); -1
 * with errno set when out of memory or fds, holding nothing. */
int sock_pass_get(const struct node *n, int fd_min, struct sock_pass *p);
void sock_pass_free(struct sock_pass *p);

#endif
