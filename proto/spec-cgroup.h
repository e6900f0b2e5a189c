/*
 * The cgroup limits of a node spec (exec nodes and supervisors; a
 * supervisor's cover its whole subtree): memory_max, memory_high,
 * memory_swap_max, cpu_max, cpu_weight, pids_max, io_weight. Parsing,
 * freeing, copying, writing back and comparing them, and the cgroup v2
 * file and value each one becomes. No I/O: whether the host has the
 * controller is the daemon's question (daemon/exec/cgroup.c).
 */
#ifndef PROTO_SPEC_CGROUP_H
#define PROTO_SPEC_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "err.h"

/* "max": no limit, as cgroup v2 writes it. */
#define SPEC_CG_MAX   INT64_MAX
#define SPEC_CG_UNSET (-1)

/* cpu_max's period when it is given as a percentage. */
#define SPEC_CG_CPU_PERIOD_US 100000

enum spec_cg_field {
	SPEC_CG_MEMORY_MAX,
	SPEC_CG_MEMORY_HIGH,
	SPEC_CG_MEMORY_SWAP_MAX,
	SPEC_CG_CPU_MAX,
	SPEC_CG_CPU_WEIGHT,
	SPEC_CG_PIDS_MAX,
	SPEC_CG_IO_WEIGHT,
	SPEC_CG__FIELDS
};

struct spec_cgroup {
	/* Indexed by enum spec_cg_field: SPEC_CG_UNSET, SPEC_CG_MAX or the
	 * value (bytes, quota in us, weight, count). */
	int64_t v[SPEC_CG__FIELDS];
	int64_t cpu_period_us; /* with cpu_max */
	bool cpu_percent;      /* cpu_max was given as "N%" */
};

/* The spec field names, NULL-terminated, in enum order. */
extern const char *const spec_cgroup_fields[];

/* What one field becomes in a cgroup: its controller, the interface file
 * and the value written there when it is not set (the kernel's default). */
struct spec_cg_file {
	const char *controller;
	const char *file;
	const char *unset;
};
extern const struct spec_cg_file spec_cgroup_files[SPEC_CG__FIELDS];

/* The fields of obj that are limits: *out is NULL when there are none,
 * else a new struct the caller owns. Errors name the field. */
int spec_cgroup_parse(const json_t *obj, struct spec_cgroup **out,
    struct proto_err *err);
void spec_cgroup_free(struct spec_cgroup *cg);
/* Deep copy into *out (NULL for NULL); -1 when out of memory. */
int spec_cgroup_dup(const struct spec_cgroup *cg, struct spec_cgroup **out);
/* Adds the fields that are set to obj; -1 when out of memory. */
int spec_cgroup_to_json(const struct spec_cgroup *cg, json_t *obj);
bool
spec_cgroup_equal(const struct spec_cgroup *a, const struct spec_cgroup *b);
/* Whether field f is set (cg may be NULL). */
bool spec_cgroup_has(const struct spec_cgroup *cg, enum spec_cg_field f);
/* The value to write into f's file ("268435456", "50000 100000", "max",
 * "default 200"); the kernel's default when f is not set. */
void spec_cgroup_value(const struct spec_cgroup *cg, enum spec_cg_field f,
    char *buf, size_t size);
/* f's value as a person wrote it: "256M", "50%", "max", "200". */
void spec_cgroup_show(const struct spec_cgroup *cg, enum spec_cg_field f,
    char *buf, size_t size);
/* A size: bytes (a number or digits) or "256K"/"256M"/"2G"/"1T" (powers
 * of 1024); -1 when it is not one. */
int spec_cgroup_size_parse(const char *s, int64_t *out);
/* Bytes the shortest way that is exact: 268435456 -> "256M". */
void spec_cgroup_size_format(int64_t bytes, char *buf, size_t size);

#endif
