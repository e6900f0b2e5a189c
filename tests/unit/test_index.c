/*
 * daemon/tree/index.c: the id map (open addressing, linear probing,
 * backward-shift deletion), the dense node table and the (parent, name)
 * index keep every entry findable through growth, collisions and
 * deletions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "index.h"
#include "node.h"
#include "spec.h"

/* Values are never dereferenced: any distinct non-NULL pointer will do. */
#define VAL(k) ((void *)(uintptr_t)((k) * 8 + 8))

static void
test_an_empty_map_finds_nothing(void **state)
{
	struct idmap m;

	idmap_init(&m);
	assert_null(idmap_get(&m, 1));
	assert_null(idmap_del(&m, 1));
	assert_int_equal(m.len, 0);
	idmap_free(&m);
}

static void
test_put_then_get_then_del(void **state)
{
	struct idmap m;

	idmap_init(&m);
	assert_int_equal(idmap_put(&m, 42, VAL(42)), 0);
	assert_ptr_equal(idmap_get(&m, 42), VAL(42));
	assert_int_equal(m.len, 1);
	assert_ptr_equal(idmap_del(&m, 42), VAL(42));
	assert_null(idmap_get(&m, 42));
	assert_int_equal(m.len, 0);
	idmap_free(&m);
}

static void
test_put_on_a_present_key_replaces_its_value(void **state)
{
	struct idmap m;

	idmap_init(&m);
	assert_int_equal(idmap_put(&m, 7, VAL(1)), 0);
	assert_int_equal(idmap_put(&m, 7, VAL(2)), 0);
	assert_ptr_equal(idmap_get(&m, 7), VAL(2));
	assert_int_equal(m.len, 1);
	idmap_free(&m);
}

static void
test_growth_keeps_every_entry(void **state)
{
	struct idmap m;
	size_t cap0;

	idmap_init(&m);
	assert_int_equal(idmap_put(&m, 1, VAL(1)), 0);
	cap0 = m.cap;
	for (uint64_t k = 2; k <= 10 * cap0; k++)
		assert_int_equal(idmap_add(&m, k, VAL(k)), 0);
	assert_true(m.cap > cap0);
	assert_int_equal(m.cap & (m.cap - 1), 0); /* a power of two */
	for (uint64_t k = 1; k <= 10 * cap0; k++)
		assert_ptr_equal(idmap_get(&m, k), VAL(k));
	idmap_free(&m);
}

/* Keys that are multiples of a large power of two land in few buckets:
 * long probe runs, then deletions from the middle of them. */
static void
test_collisions_survive_deletion_from_the_middle_of_a_run(void **state)
{
	struct idmap m;
	const uint64_t step = (uint64_t)1 << 40;

	idmap_init(&m);
	for (uint64_t i = 1; i <= 200; i++)
		assert_int_equal(idmap_put(&m, i * step, VAL(i)), 0);
	for (uint64_t i = 1; i <= 200; i += 3)
		assert_ptr_equal(idmap_del(&m, i * step), VAL(i));
	for (uint64_t i = 1; i <= 200; i++) {
		if (i % 3 == 1)
			assert_null(idmap_get(&m, i * step));
		else
			assert_ptr_equal(idmap_get(&m, i * step), VAL(i));
	}
	idmap_free(&m);
}

static void
test_many_ids_put_and_deleted_in_turn(void **state)
{
	struct idmap m;
	const uint64_t n = 200000;

	idmap_init(&m);
	for (uint64_t k = 1; k <= n; k++)
		assert_int_equal(idmap_add(&m, k, VAL(k)), 0);
	assert_int_equal(m.len, n);
	for (uint64_t k = 2; k <= n; k += 2)
		assert_ptr_equal(idmap_del(&m, k), VAL(k));
	assert_int_equal(m.len, n / 2);
	for (uint64_t k = 1; k <= n; k++) {
		if (k % 2 == 0)
			assert_null(idmap_get(&m, k));
		else
			assert_ptr_equal(idmap_get(&m, k), VAL(k));
	}
	idmap_free(&m);
}

static void
test_the_node_table_maps_ids_across_pages(void **state)
{
	struct nodetab t;
	const uint64_t ids[] = { 1, 2, NODETAB_PAGE - 1, NODETAB_PAGE,
		NODETAB_PAGE + 1, 5 * NODETAB_PAGE + 17 };
	const size_t n = sizeof ids / sizeof ids[0];

	nodetab_init(&t);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(nodetab_put(&t, ids[i], VAL(ids[i])), 0);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(nodetab_get(&t, ids[i]), VAL(ids[i]));
	assert_null(nodetab_get(&t, 3));
	assert_null(nodetab_get(&t, 100 * NODETAB_PAGE));
	nodetab_del(&t, NODETAB_PAGE);
	assert_null(nodetab_get(&t, NODETAB_PAGE));
	assert_ptr_equal(nodetab_get(&t, NODETAB_PAGE + 1),
	    VAL(NODETAB_PAGE + 1));
	nodetab_free(&t);
}

/* Nodes for the name index: only parent and spec->name are read. */
struct fake {
	struct node node;
	struct node_spec spec;
	char name[24];
};

static struct fake *
fakes_new(size_t n, struct node *parent)
{
	struct fake *f = calloc(n, sizeof *f);

	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		snprintf(f[i].name, sizeof f[i].name, "w%zu", i);
		f[i].spec.name = f[i].name;
		f[i].node.spec = &f[i].spec;
		f[i].node.parent = parent;
		f[i].node.id = i + 1;
	}
	return f;
}

static void
test_names_are_found_under_their_own_parent_only(void **state)
{
	struct fake *p = fakes_new(2, NULL);
	struct fake *a = fakes_new(1, &p[0].node),
	            *b = fakes_new(1, &p[1].node);
	struct nameidx x;

	nameidx_init(&x);
	assert_null(nameidx_get(&x, &p[0].node, "w0", 2));
	assert_int_equal(nameidx_put(&x, &a[0].node), 0);
	assert_int_equal(nameidx_put(&x, &b[0].node), 0);
	/* The same name under two parents: two entries. */
	assert_ptr_equal(nameidx_get(&x, &p[0].node, "w0", 2), &a[0].node);
	assert_ptr_equal(nameidx_get(&x, &p[1].node, "w0", 2), &b[0].node);
	/* The length is the key's: a prefix or a longer name is not it. */
	assert_null(nameidx_get(&x, &p[0].node, "w", 1));
	assert_ptr_equal(nameidx_get(&x, &p[0].node, "w0/rest", 2), &a[0].node);
	assert_null(nameidx_get(&x, &p[0].node, "w01", 3));
	nameidx_del(&x, &a[0].node);
	assert_null(nameidx_get(&x, &p[0].node, "w0", 2));
	assert_ptr_equal(nameidx_get(&x, &p[1].node, "w0", 2), &b[0].node);
	assert_int_equal(x.len, 1);
	/* Deleting what is not there changes nothing. */
	nameidx_del(&x, &a[0].node);
	assert_int_equal(x.len, 1);
	nameidx_free(&x);
	free(a);
	free(b);
	free(p);
}

static void
test_names_survive_growth_and_deletions(void **state)
{
	const size_t n = 5000;
	struct fake *p = fakes_new(1, NULL), *c = fakes_new(n, &p[0].node);
	struct nameidx x;

	nameidx_init(&x);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(nameidx_put(&x, &c[i].node), 0);
	assert_int_equal(x.len, n);
	assert_int_equal(x.cap & (x.cap - 1), 0); /* a power of two */
	for (size_t i = 0; i < n; i += 3)
		nameidx_del(&x, &c[i].node);
	for (size_t i = 0; i < n; i++) {
		const char *name = c[i].name;

		if (i % 3 == 0)
			assert_null(
			    nameidx_get(&x, &p[0].node, name, strlen(name)));
		else
			assert_ptr_equal(nameidx_get(&x, &p[0].node, name,
			                     strlen(name)),
			    &c[i].node);
	}
	nameidx_free(&x);
	free(c);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_empty_map_finds_nothing),
		cmocka_unit_test(test_put_then_get_then_del),
		cmocka_unit_test(test_put_on_a_present_key_replaces_its_value),
		cmocka_unit_test(test_growth_keeps_every_entry),
		cmocka_unit_test(
		    test_collisions_survive_deletion_from_the_middle_of_a_run),
		cmocka_unit_test(test_many_ids_put_and_deleted_in_turn),
		cmocka_unit_test(test_the_node_table_maps_ids_across_pages),
		cmocka_unit_test(
		    test_names_are_found_under_their_own_parent_only),
		cmocka_unit_test(test_names_survive_growth_and_deletions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
