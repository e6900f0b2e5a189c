/* The id map, the dense node table and the (parent, name) index. */
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "node.h"

struct idmap_slot {
	uint64_t key;
	void *val; /* NULL: empty */
};

struct nameidx_slot {
	uint64_t hash;
	struct node *node; /* NULL: empty */
};

static uint64_t
hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
hash_name(const struct node *parent, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ hash_u64((uintptr_t)parent);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return hash_u64(h);
}

void
idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof *m);
}

void
idmap_free(struct idmap *m)
{
	free(m->slots);
	idmap_init(m);
}

static struct idmap_slot *
idmap_find(const struct idmap *m, uint64_t key)
{
	size_t mask = m->cap - 1, i;

	if (m->cap == 0)
		return NULL;
	for (i = hash_u64(key) & mask; m->slots[i].val != NULL;
	     i = (i + 1) & mask)
		if (m->slots[i].key == key)
			return &m->slots[i];
	return NULL;
}

void *
idmap_get(const struct idmap *m, uint64_t key)
{
	struct idmap_slot *s = idmap_find(m, key);

	return s != NULL ? s->val : NULL;
}

static void
idmap_insert(struct idmap_slot *slots, size_t cap, uint64_t key, void *val)
{
	size_t mask = cap - 1, i;

	for (i = hash_u64(key) & mask; slots[i].val != NULL; i = (i + 1) & mask)
		;
	slots[i].key = key;
	slots[i].val = val;
}

int
idmap_put(struct idmap *m, uint64_t key, void *val)
{
	struct idmap_slot *s;

	if ((s = idmap_find(m, key)) != NULL) {
		s->val = val;
		return 0;
	}
	return idmap_add(m, key, val);
}

int
idmap_add(struct idmap *m, uint64_t key, void *val)
{
	if ((m->len + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct idmap_slot *slots = calloc(cap, sizeof *slots);

		if (slots == NULL)
			return -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].val != NULL)
				idmap_insert(slots, cap, m->slots[i].key,
				    m->slots[i].val);
		free(m->slots);
		m->slots = slots;
		m->cap = cap;
	}
	idmap_insert(m->slots, m->cap, key, val);
	m->len++;
	return 0;
}

void *
idmap_del(struct idmap *m, uint64_t key)
{
	struct idmap_slot *s = idmap_find(m, key);
	size_t mask = m->cap - 1, i, j;
	void *val;

	if (s == NULL)
		return NULL;
	val = s->val;
	i = (size_t)(s - m->slots);
	/* Backward shift: move later entries of the run into the hole when
	 * their home position allows it, so lookups never need tombstones. */
	for (j = (i + 1) & mask; m->slots[j].val != NULL; j = (j + 1) & mask) {
		size_t home = hash_u64(m->slots[j].key) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].val = NULL;
	m->len--;
	return val;
}

struct nodetab_page {
	uint32_t used;
	struct node *slot[NODETAB_PAGE];
};

void
nodetab_init(struct nodetab *t)
{
	memset(t, 0, sizeof *t);
}

void
nodetab_free(struct nodetab *t)
{
	for (size_t i = 0; i < t->npages; i++)
		free(t->pages[i]);
	free(t->pages);
	nodetab_init(t);
}

struct node *
nodetab_get(const struct nodetab *t, uint64_t id)
{
	uint64_t p = id >> NODETAB_SHIFT;

	if (p >= t->npages || t->pages[p] == NULL)
		return NULL;
	return t->pages[p]->slot[id & (NODETAB_PAGE - 1)];
}

int
nodetab_put(struct nodetab *t, uint64_t id, struct node *n)
{
	uint64_t p = id >> NODETAB_SHIFT;
	struct nodetab_page *pg;

	if (p >= t->npages) {
		size_t np = t->npages ? t->npages : 16;
		struct nodetab_page **pages;

		while (np <= p)
			np *= 2;
		if ((pages = realloc(t->pages, np * sizeof *pages)) == NULL)
			return -1;
		memset(pages + t->npages, 0, (np - t->npages) * sizeof *pages);
		t->pages = pages;
		t->npages = np;
	}
	if ((pg = t->pages[p]) == NULL &&
	    (pg = t->pages[p] = calloc(1, sizeof *pg)) == NULL)
		return -1;
	if (pg->slot[id & (NODETAB_PAGE - 1)] == NULL)
		pg->used++;
	pg->slot[id & (NODETAB_PAGE - 1)] = n;
	return 0;
}

void
nodetab_del(struct nodetab *t, uint64_t id)
{
	uint64_t p = id >> NODETAB_SHIFT;
	struct nodetab_page *pg;

	if (p >= t->npages || (pg = t->pages[p]) == NULL ||
	    pg->slot[id & (NODETAB_PAGE - 1)] == NULL)
		return;
	pg->slot[id & (NODETAB_PAGE - 1)] = NULL;
	if (--pg->used == 0) {
		free(pg);
		t->pages[p] = NULL;
	}
}

void
nameidx_init(struct nameidx *x)
{
	memset(x, 0, sizeof *x);
}

void
nameidx_free(struct nameidx *x)
{
	free(x->slots);
	nameidx_init(x);
}

static uint64_t
nameidx_hash(const struct node *n)
{
	return hash_name(n->parent, n->spec->name, strlen(n->spec->name));
}

struct node *
nameidx_get(const struct nameidx *x, const struct node *parent,
    const char *name, size_t len)
{
	size_t mask = x->cap - 1, i;
	uint64_t h;

	if (x->cap == 0)
		return NULL;
	h = hash_name(parent, name, len);
	for (i = h & mask; x->slots[i].node != NULL; i = (i + 1) & mask) {
		struct node *n = x->slots[i].node;

		if (x->slots[i].hash == h && n->parent == parent &&
		    strncmp(n->spec->name, name, len) == 0 &&
		    n->spec->name[len] == '\0')
			return n;
	}
	return NULL;
}

static void
nameidx_insert(struct nameidx_slot *slots, size_t cap, uint64_t h,
    struct node *n)
{
	size_t mask = cap - 1, i;

	for (i = h & mask; slots[i].node != NULL; i = (i + 1) & mask)
		;
	slots[i].hash = h;
	slots[i].node = n;
}

int
nameidx_put(struct nameidx *x, struct node *n)
{
	if ((x->len + 1) * 2 > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct nameidx_slot *slots = calloc(cap, sizeof *slots);

		if (slots == NULL)
			return -1;
		for (size_t i = 0; i < x->cap; i++)
			if (x->slots[i].node != NULL)
				nameidx_insert(slots, cap, x->slots[i].hash,
				    x->slots[i].node);
		free(x->slots);
		x->slots = slots;
		x->cap = cap;
	}
	nameidx_insert(x->slots, x->cap, nameidx_hash(n), n);
	x->len++;
	return 0;
}

void
nameidx_del(struct nameidx *x, const struct node *n)
{
	size_t mask = x->cap - 1, i, j;

	if (x->cap == 0)
		return;
	for (i = nameidx_hash(n) & mask; x->slots[i].node != n;
	     i = (i + 1) & mask)
		if (x->slots[i].node == NULL)
			return;
	for (j = (i + 1) & mask; x->slots[j].node != NULL; j = (j + 1) & mask) {
		size_t home = x->slots[j].hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			x->slots[i] = x->slots[j];
			i = j;
		}
	}
	x->slots[i].node = NULL;
	x->len--;
}
