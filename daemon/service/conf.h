/*
 * --config FILE (conf_): the node specs the daemon is configured with. Loading
 * and checking the file whole, spawning it at start, and reloading it (SIGHUP,
 * `reload`): the difference between the file and the nodes it created
 * before is applied, and nothing else is touched. Nodes created from the
 * file carry node->from_config; nodes clients spawn never do.
 */
#ifndef CONF_H
#define CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "err.h"
#include "spec.h"

struct daemon;
struct node;
struct conf;

/* A reload's end: result (stolen) on success, else err. */
typedef void
conf_done_fn(void *arg, json_t *result, const struct proto_err *err);

/* path NULL: started without --config. NULL when out of memory. */
struct conf *conf_new(struct daemon *d, const char *path);
/* Drops a reload under way without answering it. */
void conf_free(struct conf *c);

/* Reads path: one node spec or an array of them, each a child of "/",
 * names unique, every spec valid. On success *specs (n of them) belongs to
 * the caller (conf_specs_free); on failure nothing is allocated. */
int conf_load(const char *path, size_t max_nodes, struct node_spec ***specs,
    size_t *n, struct proto_err *err);
void conf_specs_free(struct node_spec **specs, size_t n);

/* Start-up: checks the config file and the state file (state.h) whole,
 * then spawns the config and restores the state. -1 with err: arbord
 * must not start. */
int conf_start(struct conf *c, struct proto_err *err);

/* Every top-level node from the config is running or has terminated
 * (true without --config): start-up is over, for READY=1. */
bool conf_settled(const struct conf *c);

/* Re-reads the file and applies the difference; done is called from the
 * loop once replaced nodes are back. -1 with err (and nothing changed)
 * for a bad file, no --config, a reload under way, or shutdown. */
int conf_reload(struct conf *c, conf_done_fn *done, void *arg,
    struct proto_err *err);
/* `apply`: specs[i] (borrowed, like parents[i]) is the subtree under
 * parents[i] to converge, as a reload does, on client nodes instead of
 * the config's: new nodes spawned, changed ones updated in place (or
 * replaced for another kind), with prune the nodes of those subtrees the
 * specs no longer have removed; nothing outside them is touched. The plan
 * is checked whole first (parents, names taken by --config nodes,
 * programs, --max-nodes): -1 with err changes nothing. dry_run: *plan
 * (the caller's) is the answer and nothing is done; else done is called
 * from the loop, as for a reload. One reload or apply at a time. The
 * caller checked the specs themselves (no two for one path, none inside
 * another). */
struct conf_apply {
	struct node_spec *const *specs;
	const char *const *parents;
	size_t n;
	bool prune;
	bool dry_run;
};
int conf_apply(struct conf *c, const struct conf_apply *a, conf_done_fn *done,
    void *arg, json_t **plan, struct proto_err *err);

/* A reload is under way (it has not answered yet). */
bool conf_reloading(const struct conf *c);
/* The caller of the reload (or apply) under way went away (arg as
 * given). */
void conf_reload_detach(struct conf *c, void *arg);

#endif
