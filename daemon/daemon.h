/*
 * The daemon's context: the loop, the tree, the waiters, the server, the
 * limits and the shutdown sequence. main() owns the one instance; every
 * other module borrows it.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"
#include "tree.h"
#include "waiter.h"

struct event_base;
struct event;
struct server;
struct events;
struct http;
struct conf;
struct state;
struct notify;

/* Event priorities: every event has the default (the middle one), but
 * the state's group commit, which runs at the lowest, only in a loop turn
 * with nothing else to do, so it takes in every request already sent. */
#define DAEMON_PRIORITIES 3
#define DAEMON_PRIO_IDLE  2

struct daemon_config {
	const char *socket_path;
	const char *socket_group; /* NULL: mode 0600 */
	const char *config_path;  /* NULL: none */
	const char *state_path;   /* NULL: none */
	size_t max_nodes;
	uint32_t root_max_restarts; /* the root's restart intensity */
	int64_t root_period_ms;
	size_t max_message;
	size_t max_connections;
	size_t max_batch;
	size_t max_pending;      /* deferred calls per connection */
	int64_t idle_timeout_ms; /* to finish a message; 0: forever */
	const char *http_addr;   /* NULL: no HTTP */
	const char *http_token;  /* NULL: no POST /v1/rpc */
	size_t http_max_connections;
	size_t http_max_queued;          /* bytes of answers, over all */
	int64_t http_request_timeout_ms; /* to arrive whole; 0: forever */
	const char *cgroup_path;         /* --cgroup; NULL: find one */
	bool no_cgroup;                  /* --no-cgroup */
};

struct daemon {
	struct event_base *base; /* owned */
	struct tree *tree;       /* owned */
	struct waiters waiters;  /* owned */
	struct server *server;   /* owned */
	struct events *events;   /* owned */
	struct http *http;       /* owned; NULL without --http */
	struct conf *config;     /* owned: --config (conf.c) */
	struct state *state;     /* owned; NULL without --state */
	struct notify *notify;   /* owned */
	struct stats stats;
	struct daemon_config cfg; /* strings borrowed from argv */
	int64_t started_mono;
	pid_t pid;
	bool stopping; /* shutdown begun */
	int exit_code;
	struct event *exit_check; /* owned: waits for output to drain */
	int exit_tries;
};

int daemon_init(struct daemon *d, const struct daemon_config *cfg);
void daemon_free(struct daemon *d);
/* Cancels the whole tree; the loop ends once it is terminated and every
 * answer already queued has been written. */
void daemon_shutdown(struct daemon *d, const char *why);
int64_t daemon_uptime_ms(const struct daemon *d);

#endif
