/*
 * A tree on its own event loop, for unit tests of the tree and of
 * supervision: every event it announces is recorded, and every terminated
 * node is checked to have no live descendant.
 */
#ifndef TREE_FIXTURE_H
#define TREE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "tree.h"

#define MAX_EVENTS 40000

struct rec {
	enum tree_event_type type;
	uint64_t id;
	char path[128];
	enum node_state from, to;
};

struct fixture {
	struct event_base *base;
	struct tree *tree;
	struct rec *ev;
	size_t nev;
	int violations;		/* terminated before a descendant */
};

/* cmocka setup and teardown: *state is a struct fixture. */
int setup(void **state);
int teardown(void **state);

/* Spawns the spec in text under its "parent" (or /); NULL and err filled
 * when that fails. spawn_ok fails the test instead. */
struct node *spawn_json(struct fixture *f, const char *text,
    struct proto_err *err);
struct node *spawn_ok(struct fixture *f, const char *text);
struct node *lookup(struct fixture *f, const char *path);
/* Index of the first event of type for path reaching state to (any state
 * when to is -1), from index from on; -1 when none. */
long find_event(struct fixture *f, size_t from, enum tree_event_type type,
    const char *path, int to);
/* Runs the loop for ms. */
void run_for(struct fixture *f, int ms);

#endif
