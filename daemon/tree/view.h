/* Node views: what spawn, inspect, cancel and wait return (PROTOCOL.md). */
#ifndef VIEW_H
#define VIEW_H

#include <stddef.h>
#include <jansson.h>

struct evbuffer;
struct node;
struct tree;
struct view_walk;

/* A new view of n with children down to depth (-1: all, 0: none). */
json_t *view_node(const struct node *n, int depth);
/* n's view without children and without reading its accounting from the
 * kernel (null, or a finished run's): the answer to an action, which
 * says what became of the node; inspect is the way to its usage. */
json_t *view_node_brief(const struct node *n);
/* {"code": N} or {"signal": "KILL"}; JSON null before any end. */
json_t *view_exit(const struct node *n);

/*
 * The same text as view_node(n, depth), written a slice at a time
 * (view-walk.c) for answers too big to build whole. n's own view is taken
 * now; each descendant's when it is written. The walk keeps ids, never
 * node pointers, so the tree may change between slices (the rule is in
 * docs/protocol-notes.md). Whoever creates a walk owns it and frees it
 * with view_walk_free, finished or not. NULL: out of memory.
 */
struct view_walk *
view_walk_new(struct tree *t, const struct node *n, int depth);
/* Writes the next slice into out: nodes until about budget bytes were
 * added. 1: more to come; 0: the text is complete; -1: out of memory
 * (the text so far is cut: the answer cannot be finished). */
int view_walk_next(struct view_walk *w, struct evbuffer *out, size_t budget);
void view_walk_free(struct view_walk *w);
/* About the bytes of one node's view, to tell small answers from big. */
#define VIEW_BYTES 256

/* Nodes view_node(n, depth) would hold, counted up to limit + 1 at most:
 * whether an answer is small enough to build whole. */
size_t view_count(const struct node *n, int depth, size_t limit);

#endif
