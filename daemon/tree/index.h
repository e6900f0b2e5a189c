/*
 * Hash indexes the tree needs to stay fast at a million nodes: ids to
 * pointers, and (parent, name) to child. Open addressing, linear probing,
 * backward-shift deletion (no tombstones). An index owns its slot array,
 * never the pointers stored in it.
 */
#ifndef INDEX_H
#define INDEX_H

#include <stddef.h>
#include <stdint.h>

struct node;

/* u64 -> pointer. */
struct idmap {
	struct idmap_slot *slots; /* owned */
	size_t cap;               /* power of two, or 0 */
	size_t len;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
void *idmap_get(const struct idmap *m, uint64_t key);
int idmap_put(struct idmap *m, uint64_t key, void *val); /* -1: ENOMEM */
/* For a key known to be absent (a new id): no lookup first. */
int idmap_add(struct idmap *m, uint64_t key, void *val);
void *idmap_del(struct idmap *m, uint64_t key);

/*
 * id -> node for the tree's own ids, which are handed out in order and
 * never reused: a two-level table of pages of NODETAB_PAGE slots, each page
 * freed once its last node is gone. Dense, so it costs about 8 bytes a node
 * and one cache line a lookup.
 */
#define NODETAB_SHIFT 12
#define NODETAB_PAGE  (1u << NODETAB_SHIFT)

struct nodetab {
	struct nodetab_page **pages; /* owned, each owned */
	size_t npages;
};

void nodetab_init(struct nodetab *t);
void nodetab_free(struct nodetab *t);
struct node *nodetab_get(const struct nodetab *t, uint64_t id);
int
nodetab_put(struct nodetab *t, uint64_t id, struct node *n); /* -1: ENOMEM */
void nodetab_del(struct nodetab *t, uint64_t id);

/* (parent, name) -> child node. Keys are read from the nodes themselves;
 * each slot keeps its hash so growing never reads a node again. */
struct nameidx {
	struct nameidx_slot *slots; /* owned array, borrowed nodes */
	size_t cap;
	size_t len;
};

void nameidx_init(struct nameidx *x);
void nameidx_free(struct nameidx *x);
struct node *nameidx_get(const struct nameidx *x, const struct node *parent,
    const char *name, size_t len);
int nameidx_put(struct nameidx *x, struct node *n);
void nameidx_del(struct nameidx *x, const struct node *n);

#endif
