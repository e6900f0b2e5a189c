/*
 * Node views written a slice at a time: the JSON text view_node would
 * give, produced straight into an evbuffer, a bounded slice per call, for
 * answers too big to build whole (inspect of a big subtree, GET /v1/tree).
 *
 * The walk holds no node pointer between slices, only ids: a frame per
 * open supervisor (its id, the id of the last child written, and the id
 * of its last child when its own view was written), each looked up again
 * through tree_get. Children are in id order (tree.h), so the next child
 * to write is the first one with an id past the last written: a removal
 * never makes it skip or repeat one, and a child spawned after its
 * parent's view was written is past the limit and left out. The rule
 * clients get is in docs/protocol-notes.md.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "node.h"
#include "tree.h"
#include "view.h"

struct view_frame {
	uint64_t parent; /* the supervisor whose children are open */
	uint64_t last;   /* last child written; 0: none yet */
	uint64_t limit;  /* its last child when it was written; 0: none */
	int depth;       /* depth left for its children's own views */
	uint32_t hint;   /* where `last` was seen in its children */
};

struct view_walk {
	struct tree *tree; /* borrowed */
	char *head;        /* owned: the first node's view, until written */
	size_t headlen;
	size_t nframes;
	struct view_frame frames[PROTO_DEPTH_MAX + 2];
};

static int
view_walk_dump_cb(const char *buf, size_t len, void *arg)
{
	return evbuffer_add(arg, buf, len);
}

/* n's own view, into out; open (its "children":[ begun, a frame pushed)
 * when it is a supervisor whose children are asked for. */
static int
view_walk_node(struct view_walk *w, const struct node *n, int depth,
    struct evbuffer *out)
{
	struct view_frame *f;
	bool open = depth != 0 && node_is_sup(n);
	struct evbuffer *tmp;
	json_t *v;
	int r;

	if ((v = view_node(n, 0)) == NULL)
		return -1;
	if (!open) {
		r = json_dump_callback(v, view_walk_dump_cb, out,
		    JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(v);
		return r;
	}
	/* The same text without its "}", then the children. */
	if ((tmp = evbuffer_new()) == NULL) {
		json_decref(v);
		return -1;
	}
	r = json_dump_callback(v, view_walk_dump_cb, tmp,
	    JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (r == 0) {
		/* Move all but the closing brace. */
		int len = (int)evbuffer_get_length(tmp);

		r = len > 0 &&
		        evbuffer_remove_buffer(tmp, out, (size_t)len - 1) ==
		            len - 1 ?
		    0 :
		    -1;
	}
	evbuffer_free(tmp);
	if (r == -1 || evbuffer_add(out, ",\"children\":[", 13) == -1)
		return -1;
	if (w->nframes == sizeof w->frames / sizeof w->frames[0])
		return -1; /* deeper than the tree can be */
	f = &w->frames[w->nframes++];
	f->parent = n->id;
	f->last = 0;
	f->limit = n->nchildren > 0 ? n->children[n->nchildren - 1]->id : 0;
	f->depth = depth < 0 ? depth : depth - 1;
	f->hint = 0;
	return 0;
}

struct view_walk *
view_walk_new(struct tree *t, const struct node *n, int depth)
{
	struct view_walk *w;
	struct evbuffer *b;
	size_t len;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return NULL;
	w->tree = t;
	/* The node asked for is seen as of the call: it may be gone by the
	 * time its answer is written (behind another answer). */
	if ((b = evbuffer_new()) == NULL || view_walk_node(w, n, depth, b) ||
	    (len = evbuffer_get_length(b)) == 0 ||
	    (w->head = malloc(len)) == NULL) {
		if (b != NULL)
			evbuffer_free(b);
		free(w);
		return NULL;
	}
	evbuffer_remove(b, w->head, len);
	w->headlen = len;
	evbuffer_free(b);
	return w;
}

/* The first child of f's supervisor not yet written and not past the
 * limit; NULL when there is none (or the supervisor is gone). */
static struct node *
view_walk_next_child(struct view_walk *w, struct view_frame *f)
{
	struct node *p = tree_get(w->tree, f->parent), *c;
	uint32_t lo, hi;

	if (p == NULL || f->limit == 0)
		return NULL;
	if (f->last == 0) {
		lo = 0;
	} else if (f->hint < p->nchildren &&
	    p->children[f->hint]->id == f->last) {
		lo = f->hint + 1;
	} else {
		/* The list changed under us: the first id past `last`. */
		lo = 0;
		hi = p->nchildren;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (p->children[mid]->id <= f->last)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	if (lo >= p->nchildren || (c = p->children[lo])->id > f->limit)
		return NULL;
	f->hint = lo;
	return c;
}

int
view_walk_next(struct view_walk *w, struct evbuffer *out, size_t budget)
{
	size_t start = evbuffer_get_length(out);

	if (w->head != NULL) {
		if (evbuffer_add(out, w->head, w->headlen) == -1)
			return -1;
		free(w->head);
		w->head = NULL;
	}
	while (w->nframes > 0) {
		struct view_frame *f = &w->frames[w->nframes - 1];
		struct node *c;

		if (evbuffer_get_length(out) - start >= budget)
			return 1;
		if ((c = view_walk_next_child(w, f)) == NULL) {
			/* Its children end, and its own view with them. */
			if (evbuffer_add(out, "]}", 2) == -1)
				return -1;
			w->nframes--;
			continue;
		}
		if (f->last != 0 && evbuffer_add(out, ",", 1) == -1)
			return -1;
		f->last = c->id;
		if (view_walk_node(w, c, f->depth, out) == -1)
			return -1;
	}
	return 0;
}

void
view_walk_free(struct view_walk *w)
{
	if (w == NULL)
		return;
	free(w->head);
	free(w);
}

size_t
view_count(const struct node *n, int depth, size_t limit)
{
	size_t count = 1;

	if (depth == 0 || !node_is_sup(n))
		return count;
	for (uint32_t i = 0; i < n->nchildren && count <= limit; i++)
		count += view_count(n->children[i],
		    depth < 0 ? depth : depth - 1, limit - count);
	return count;
}
