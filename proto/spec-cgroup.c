/*
 * The cgroup limits of a node spec (spec-cgroup.h): strict parsing, the way
 * back to JSON, copies, comparison, and the values cgroup v2 files take.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "spec-cgroup.h"

const char *const spec_cgroup_fields[] = {
	"memory_max",
	"memory_high",
	"memory_swap_max",
	"cpu_max",
	"cpu_weight",
	"pids_max",
	"io_weight",
	NULL,
};

const struct spec_cg_file spec_cgroup_files[SPEC_CG__FIELDS] = {
	[SPEC_CG_MEMORY_MAX] = { "memory", "memory.max", "max" },
	[SPEC_CG_MEMORY_HIGH] = { "memory", "memory.high", "max" },
	[SPEC_CG_MEMORY_SWAP_MAX] = { "memory", "memory.swap.max", "max" },
	[SPEC_CG_CPU_MAX] = { "cpu", "cpu.max", "max 100000" },
	[SPEC_CG_CPU_WEIGHT] = { "cpu", "cpu.weight", "100" },
	[SPEC_CG_PIDS_MAX] = { "pids", "pids.max", "max" },
	[SPEC_CG_IO_WEIGHT] = { "io", "io.weight", "default 100" },
};

#define CG_WEIGHT_MAX    10000
#define CG_PERIOD_MIN_US 1000
#define CG_PERIOD_MAX_US 1000000
#define CG_QUOTA_MIN_US  1000
#define CG_PERCENT_MAX   100000 /* 1000 CPUs */

int
spec_cgroup_size_parse(const char *s, int64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end != '\0') {
		char c = *end >= 'a' && *end <= 'z' ? (char)(*end - 32) : *end;

		if (end[1] != '\0' || (u = strchr(units, c)) == NULL || c == 0)
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (v > (unsigned long long)(INT64_MAX >> shift) ||
	    (v << shift) >= (unsigned long long)INT64_MAX)
		return -1;
	*out = (int64_t)(v << shift);
	return 0;
}

void
spec_cgroup_size_format(int64_t bytes, char *buf, size_t size)
{
	static const char units[] = "TGMK";

	if (bytes == SPEC_CG_MAX) {
		snprintf(buf, size, "max");
		return;
	}
	for (int i = 0; i < 4; i++) {
		int shift = 10 * (4 - i);

		if (bytes > 0 && (bytes & ((INT64_C(1) << shift) - 1)) == 0) {
			snprintf(buf, size, "%" PRId64 "%c", bytes >> shift,
			    units[i]);
			return;
		}
	}
	snprintf(buf, size, "%" PRId64, bytes);
}

static int
cg_bad(struct proto_err *err, enum spec_cg_field f, const char *what)
{
	return proto_errf(err, PROTO_INVALID_PARAMS, "field \"%s\" %s",
	    spec_cgroup_fields[f], what);
}

/* A size or "max". */
static int
cg_parse_size(const json_t *v, enum spec_cg_field f, int64_t *out,
    struct proto_err *err)
{
	static const char what[] = "must be a number of bytes, a size like "
	                           "\"256M\" (K, M, G, T) or \"max\"";

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return cg_bad(err, f, what);
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return cg_bad(err, f, what);
	if (strcmp(json_string_value(v), "max") == 0) {
		*out = SPEC_CG_MAX;
		return 0;
	}
	if (strlen(json_string_value(v)) != json_string_length(v) ||
	    spec_cgroup_size_parse(json_string_value(v), out) == -1)
		return cg_bad(err, f, what);
	return 0;
}

/* A count or "max". */
static int
cg_parse_count(const json_t *v, enum spec_cg_field f, int64_t *out,
    struct proto_err *err)
{
	if (json_is_string(v) && strcmp(json_string_value(v), "max") == 0) {
		*out = SPEC_CG_MAX;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return cg_bad(err, f, "must be a number from 1 or \"max\"");
	*out = json_integer_value(v);
	return 0;
}

static int
cg_parse_weight(const json_t *v, enum spec_cg_field f, int64_t *out,
    struct proto_err *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > CG_WEIGHT_MAX)
		return cg_bad(err, f, "must be a number from 1 to 10000");
	*out = json_integer_value(v);
	return 0;
}

/* "50%" (of one CPU; "200%" is two), "max", or {"quota_us", "period_us"}. */
static int
cg_parse_cpu(const json_t *v, struct spec_cgroup *cg, struct proto_err *err)
{
	static const char *const keys[] = { "quota_us", "period_us", NULL };
	int64_t quota = 0, period = SPEC_CG_CPU_PERIOD_US;
	const char *s;
	char *end;
	long pct;

	if (json_is_string(v)) {
		s = json_string_value(v);
		if (strcmp(s, "max") == 0) {
			cg->v[SPEC_CG_CPU_MAX] = SPEC_CG_MAX;
			cg->cpu_period_us = SPEC_CG_CPU_PERIOD_US;
			return 0;
		}
		errno = 0;
		pct = *s >= '0' && *s <= '9' ? strtol(s, &end, 10) : -1;
		if (pct < 1 || pct > CG_PERCENT_MAX || errno != 0 ||
		    strcmp(end, "%") != 0)
			return cg_bad(err, SPEC_CG_CPU_MAX,
			    "must be a percentage of one CPU like \"50%\" "
			    "(\"200%\" is two), \"max\", or {\"quota_us\": "
			    "N, \"period_us\": N}");
		cg->v[SPEC_CG_CPU_MAX] = pct * (SPEC_CG_CPU_PERIOD_US / 100);
		cg->cpu_period_us = SPEC_CG_CPU_PERIOD_US;
		cg->cpu_percent = true;
		return 0;
	}
	if (!json_is_object(v))
		return cg_bad(err, SPEC_CG_CPU_MAX,
		    "must be \"50%\", \"max\" or {\"quota_us\": N, "
		    "\"period_us\": N}");
	if (proto_fields_check(v, "cpu_max", keys, err) != 0 ||
	    proto_get_int(v, "quota_us", true, CG_QUOTA_MIN_US, INT64_MAX / 2,
	        &quota, err) != 0 ||
	    proto_get_int(v, "period_us", false, CG_PERIOD_MIN_US,
	        CG_PERIOD_MAX_US, &period, err) != 0) {
		proto_err_prefix(err, "cpu_max");
		return -1;
	}
	cg->v[SPEC_CG_CPU_MAX] = quota;
	cg->cpu_period_us = period;
	return 0;
}

int
spec_cgroup_parse(const json_t *obj, struct spec_cgroup **out,
    struct proto_err *err)
{
	struct spec_cgroup *cg;
	const json_t *v;
	int rc = 0;

	*out = NULL;
	for (int f = 0; f < SPEC_CG__FIELDS; f++)
		if (json_object_get(obj, spec_cgroup_fields[f]) != NULL)
			break;
		else if (f == SPEC_CG__FIELDS - 1)
			return 0;
	if ((cg = malloc(sizeof *cg)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	for (int f = 0; f < SPEC_CG__FIELDS; f++)
		cg->v[f] = SPEC_CG_UNSET;
	cg->cpu_period_us = 0;
	cg->cpu_percent = false;
	for (int f = 0; f < SPEC_CG__FIELDS && rc == 0; f++) {
		if ((v = json_object_get(obj, spec_cgroup_fields[f])) == NULL)
			continue;
		switch (f) {
		case SPEC_CG_MEMORY_MAX:
		case SPEC_CG_MEMORY_HIGH:
		case SPEC_CG_MEMORY_SWAP_MAX:
			rc = cg_parse_size(v, f, &cg->v[f], err);
			break;
		case SPEC_CG_CPU_MAX:
			rc = cg_parse_cpu(v, cg, err);
			break;
		case SPEC_CG_PIDS_MAX:
			rc = cg_parse_count(v, f, &cg->v[f], err);
			break;
		default:
			rc = cg_parse_weight(v, f, &cg->v[f], err);
			break;
		}
	}
	if (rc != 0) {
		free(cg);
		return -1;
	}
	*out = cg;
	return 0;
}

void
spec_cgroup_free(struct spec_cgroup *cg)
{
	free(cg);
}

int
spec_cgroup_dup(const struct spec_cgroup *cg, struct spec_cgroup **out)
{
	*out = NULL;
	if (cg == NULL)
		return 0;
	if ((*out = malloc(sizeof **out)) == NULL)
		return -1;
	**out = *cg;
	return 0;
}

bool
spec_cgroup_has(const struct spec_cgroup *cg, enum spec_cg_field f)
{
	return cg != NULL && cg->v[f] != SPEC_CG_UNSET;
}

int
spec_cgroup_to_json(const struct spec_cgroup *cg, json_t *obj)
{
	char buf[64];
	json_t *v;

	for (int f = 0; cg != NULL && f < SPEC_CG__FIELDS; f++) {
		if (!spec_cgroup_has(cg, f))
			continue;
		if (f == SPEC_CG_CPU_MAX && cg->v[f] != SPEC_CG_MAX &&
		    !cg->cpu_percent)
			v = json_pack("{s:I,s:I}", "quota_us",
			    (json_int_t)cg->v[f], "period_us",
			    (json_int_t)cg->cpu_period_us);
		else if (f == SPEC_CG_CPU_WEIGHT || f == SPEC_CG_IO_WEIGHT ||
		    (f == SPEC_CG_PIDS_MAX && cg->v[f] != SPEC_CG_MAX))
			v = json_integer(cg->v[f]);
		else {
			spec_cgroup_show(cg, f, buf, sizeof buf);
			v = json_string(buf);
		}
		if (v == NULL ||
		    json_object_set_new(obj, spec_cgroup_fields[f], v) != 0)
			return -1;
	}
	return 0;
}

bool
spec_cgroup_equal(const struct spec_cgroup *a, const struct spec_cgroup *b)
{
	for (int f = 0; f < SPEC_CG__FIELDS; f++) {
		if (spec_cgroup_has(a, f) != spec_cgroup_has(b, f))
			return false;
		if (spec_cgroup_has(a, f) && a->v[f] != b->v[f])
			return false;
	}
	if (spec_cgroup_has(a, SPEC_CG_CPU_MAX) &&
	    (a->cpu_period_us != b->cpu_period_us ||
	        a->cpu_percent != b->cpu_percent))
		return false;
	return true;
}

void
spec_cgroup_value(const struct spec_cgroup *cg, enum spec_cg_field f, char *buf,
    size_t size)
{
	int64_t v;

	if (!spec_cgroup_has(cg, f)) {
		snprintf(buf, size, "%s", spec_cgroup_files[f].unset);
		return;
	}
	v = cg->v[f];
	if (f == SPEC_CG_CPU_MAX)
		snprintf(buf, size,
		    v == SPEC_CG_MAX ? "max %" PRId64 : "%" PRId64 " %" PRId64,
		    v == SPEC_CG_MAX ? cg->cpu_period_us : v,
		    cg->cpu_period_us);
	else if (f == SPEC_CG_IO_WEIGHT)
		snprintf(buf, size, "default %" PRId64, v);
	else if (v == SPEC_CG_MAX)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRId64, v);
}

void
spec_cgroup_show(const struct spec_cgroup *cg, enum spec_cg_field f, char *buf,
    size_t size)
{
	int64_t v = spec_cgroup_has(cg, f) ? cg->v[f] : SPEC_CG_MAX;

	switch (f) {
	case SPEC_CG_MEMORY_MAX:
	case SPEC_CG_MEMORY_HIGH:
	case SPEC_CG_MEMORY_SWAP_MAX:
		spec_cgroup_size_format(v, buf, size);
		return;
	case SPEC_CG_CPU_MAX:
		if (v == SPEC_CG_MAX)
			snprintf(buf, size, "max");
		else if (cg->cpu_percent)
			snprintf(buf, size, "%" PRId64 "%%",
			    v / (SPEC_CG_CPU_PERIOD_US / 100));
		else
			snprintf(buf, size, "%" PRId64 "/%" PRId64 "us", v,
			    cg->cpu_period_us);
		return;
	default:
		if (v == SPEC_CG_MAX)
			snprintf(buf, size, "max");
		else
			snprintf(buf, size, "%" PRId64, v);
		return;
	}
}
