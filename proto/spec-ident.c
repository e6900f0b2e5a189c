/*
 * The identity and limit fields of a node spec (spec-ident.h): strict
 * parsing, and the way back to JSON, copies and comparison. Only the
 * syntax and the ranges are checked here; whether a user exists and
 * arbord may become it is the daemon's question (daemon/exec/ident.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RLIMIT_* beyond POSIX */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fields.h"
#include "spec-ident.h"

const struct spec_rlimit_def spec_rlimit_defs[SPEC_RLIM__COUNT] = {
	[SPEC_RLIM_AS] = { "as", RLIMIT_AS, true, INT64_MAX },
	[SPEC_RLIM_CORE] = { "core", RLIMIT_CORE, true, INT64_MAX },
	[SPEC_RLIM_CPU] = { "cpu", RLIMIT_CPU, false, INT64_MAX },
	[SPEC_RLIM_DATA] = { "data", RLIMIT_DATA, true, INT64_MAX },
	[SPEC_RLIM_FSIZE] = { "fsize", RLIMIT_FSIZE, true, INT64_MAX },
	[SPEC_RLIM_LOCKS] = { "locks", RLIMIT_LOCKS, false, INT64_MAX },
	[SPEC_RLIM_MEMLOCK] = { "memlock", RLIMIT_MEMLOCK, true, INT64_MAX },
	[SPEC_RLIM_MSGQUEUE] = { "msgqueue", RLIMIT_MSGQUEUE, true, INT64_MAX },
	[SPEC_RLIM_NICE] = { "nice", RLIMIT_NICE, false, 40 },
	[SPEC_RLIM_NOFILE] = { "nofile", RLIMIT_NOFILE, false,
	    SPEC_RLIM_NOFILE_MAX },
	[SPEC_RLIM_NPROC] = { "nproc", RLIMIT_NPROC, false, INT64_MAX },
	[SPEC_RLIM_RSS] = { "rss", RLIMIT_RSS, true, INT64_MAX },
	[SPEC_RLIM_RTPRIO] = { "rtprio", RLIMIT_RTPRIO, false, 99 },
	[SPEC_RLIM_RTTIME] = { "rttime", RLIMIT_RTTIME, false, INT64_MAX },
	[SPEC_RLIM_SIGPENDING] = { "sigpending", RLIMIT_SIGPENDING, false,
	    INT64_MAX },
	[SPEC_RLIM_STACK] = { "stack", RLIMIT_STACK, true, INT64_MAX },
};

const char *const spec_ident_fields[] = {
	"user",
	"group",
	"groups",
	"umask",
	"nice",
	"oom_score_adj",
	"no_new_privs",
	"rlimits",
	NULL,
};

#define IDENT_ID_MAX 4294967294ULL /* (uid_t)-1 means "unchanged" */

static int
ident_oom(struct proto_err *err)
{
	return proto_errf(err, PROTO_INTERNAL, "out of memory");
}

bool
spec_ident_is_num(const char *id)
{
	if (id == NULL || *id == '\0')
		return false;
	for (; *id != '\0'; id++)
		if (*id < '0' || *id > '9')
			return false;
	return true;
}

/* A user or group: a name, or a number (as JSON or as digits), kept as a
 * name or as the number in decimal. */
static int
ident_id_parse(const json_t *v, const char *field, const char *what, char **out,
    struct proto_err *err)
{
	char buf[32];
	const char *s;
	unsigned long long n;
	size_t len;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 ||
		    (unsigned long long)json_integer_value(v) > IDENT_ID_MAX)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"%s\" must be a %s name or a number from "
			    "0 to %llu",
			    field, what, IDENT_ID_MAX);
		snprintf(buf, sizeof buf, "%lld",
		    (long long)json_integer_value(v));
		s = buf;
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		len = json_string_length(v);
		if (len == 0 || strlen(s) != len || len > SPEC_IDENT_NAME_MAX ||
		    strchr(s, ':') != NULL || strchr(s, '\n') != NULL)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"%s\" must be a %s name (1 to %d bytes, "
			    "no NUL, \":\" or newline) or a number",
			    field, what, SPEC_IDENT_NAME_MAX);
		if (spec_ident_is_num(s)) {
			n = len > 10 ? IDENT_ID_MAX + 1 : strtoull(s, NULL, 10);
			if (n > IDENT_ID_MAX)
				return proto_errf(err, PROTO_INVALID_PARAMS,
				    "field \"%s\" must be a number from 0 to "
				    "%llu",
				    field, IDENT_ID_MAX);
			snprintf(buf, sizeof buf, "%llu", n);
			s = buf;
		}
	} else {
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" must be a %s name or a number", field, what);
	}
	if ((*out = strdup(s)) == NULL)
		return ident_oom(err);
	return 0;
}

static int
ident_groups_parse(const json_t *v, struct spec_ident *id,
    struct proto_err *err)
{
	char field[32];
	json_t *g;
	size_t i, n;

	if (!json_is_array(v))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"groups\" must be an array of group names or "
		    "numbers");
	n = json_array_size(v);
	if (n > SPEC_GROUPS_MAX)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"groups\" has %zu groups, more than %d", n,
		    SPEC_GROUPS_MAX);
	if ((id->groups = calloc(n + 1, sizeof *id->groups)) == NULL)
		return ident_oom(err);
	json_array_foreach(v, i, g) {
		snprintf(field, sizeof field, "groups[%zu]", i);
		if (ident_id_parse(g, field, "group", &id->groups[i], err) != 0)
			return -1;
	}
	return 0;
}

static int
ident_umask_parse(const json_t *v, struct spec_ident *id, struct proto_err *err)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	unsigned long m;

	if (!json_is_string(v) || len == 0 || len > 4 ||
	    strspn(s, "01234567") != len || (m = strtoul(s, NULL, 8)) > 0777)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"umask\" must be an octal string from \"000\" to "
		    "\"777\", like \"027\"");
	id->umask = (int)m;
	return 0;
}

/* One limit value: a number, "infinity", or for limits in bytes a size
 * like "256K" (K, M, G, T: powers of 1024). */
static int
ident_rlim_value(const json_t *v, const struct spec_rlimit_def *d,
    const char *field, uint64_t *out, struct proto_err *err)
{
	const char *s, *end;
	unsigned long long n, mul = 1;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"%s\" must not be negative", field);
		n = (unsigned long long)json_integer_value(v);
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		if (strcmp(s, "infinity") == 0) {
			*out = SPEC_RLIM_INFINITY;
			return 0;
		}
		if (*s < '0' || *s > '9' || strlen(s) != json_string_length(v))
			goto bad;
		n = strtoull(s, (char **)&end, 10);
		if (*end != '\0') {
			if (!d->bytes || end[1] != '\0')
				goto bad;
			switch (*end) {
			case 'K':
			case 'k':
				mul = 1ULL << 10;
				break;
			case 'M':
			case 'm':
				mul = 1ULL << 20;
				break;
			case 'G':
			case 'g':
				mul = 1ULL << 30;
				break;
			case 'T':
			case 't':
				mul = 1ULL << 40;
				break;
			default:
				goto bad;
			}
		}
		if (n > INT64_MAX / mul)
			n = UINT64_MAX;
		else
			n *= mul;
	} else {
		goto bad;
	}
	if (n > d->max)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"%s\" is out of range: %llu is above %llu (or use "
		    "\"infinity\")",
		    field, n, (unsigned long long)d->max);
	*out = n;
	return 0;
bad:
	return proto_errf(err, PROTO_INVALID_PARAMS,
	    "field \"%s\" must be a number, \"infinity\"%s or {\"soft\": n, "
	    "\"hard\": n}",
	    field, d->bytes ? ", a size like \"256M\"" : "");
}

static int
ident_rlimits_parse(const json_t *v, struct spec_ident *id,
    struct proto_err *err)
{
	static const char *const pair_fields[] = { "soft", "hard", NULL };
	char field[48], what[64];
	const char *key;
	json_t *val, *soft, *hard;
	struct spec_rlimit *r;
	int k;

	if (!json_is_object(v))
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "field \"rlimits\" must be an object like {\"nofile\": "
		    "65536}");
	json_object_foreach((json_t *)v, key, val) {
		for (k = 0; k < SPEC_RLIM__COUNT; k++)
			if (strcmp(spec_rlimit_defs[k].name, key) == 0)
				break;
		if (k == SPEC_RLIM__COUNT)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"rlimits\" has an unknown limit \"%.32s\" "
			    "(known: as, core, cpu, data, fsize, locks, "
			    "memlock, msgqueue, nice, nofile, nproc, rss, "
			    "rtprio, rttime, sigpending, stack)",
			    key);
		r = &id->rlimits[k];
		snprintf(field, sizeof field, "rlimits.%s", key);
		if (json_is_object(val)) {
			snprintf(what, sizeof what, "field \"%s\"", field);
			if (proto_fields_check(val, what, pair_fields, err) !=
			    0)
				return -1;
			soft = json_object_get(val, "soft");
			hard = json_object_get(val, "hard");
			if (soft == NULL || hard == NULL)
				return proto_errf(err, PROTO_INVALID_PARAMS,
				    "field \"%s\" must have both \"soft\" and "
				    "\"hard\" (or be one number for both)",
				    field);
			snprintf(field, sizeof field, "rlimits.%s.soft", key);
			if (ident_rlim_value(soft, &spec_rlimit_defs[k], field,
			        &r->soft, err) != 0)
				return -1;
			snprintf(field, sizeof field, "rlimits.%s.hard", key);
			if (ident_rlim_value(hard, &spec_rlimit_defs[k], field,
			        &r->hard, err) != 0)
				return -1;
			snprintf(field, sizeof field, "rlimits.%s", key);
		} else {
			if (ident_rlim_value(val, &spec_rlimit_defs[k], field,
			        &r->soft, err) != 0)
				return -1;
			r->hard = r->soft;
		}
		if (r->soft > r->hard)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "field \"%s\" must not have soft (%llu) above "
			    "hard (%llu)",
			    field, (unsigned long long)r->soft,
			    (unsigned long long)r->hard);
		r->set = true;
	}
	return 0;
}

int
spec_ident_parse(const json_t *obj, struct spec_ident **out,
    struct proto_err *err)
{
	struct spec_ident *id;
	json_t *v;
	int64_t n;
	bool b;
	int i;

	*out = NULL;
	for (i = 0; spec_ident_fields[i] != NULL; i++)
		if (json_object_get(obj, spec_ident_fields[i]) != NULL)
			break;
	if (spec_ident_fields[i] == NULL)
		return 0;
	if ((id = calloc(1, sizeof *id)) == NULL)
		return ident_oom(err);
	spec_ident_eff_init(id);
	*out = id; /* from here the caller frees what was filled in */
	if (((v = json_object_get(obj, "user")) != NULL &&
	        ident_id_parse(v, "user", "user", &id->user, err) != 0) ||
	    ((v = json_object_get(obj, "group")) != NULL &&
	        ident_id_parse(v, "group", "group", &id->group, err) != 0) ||
	    ((v = json_object_get(obj, "groups")) != NULL &&
	        ident_groups_parse(v, id, err) != 0) ||
	    ((v = json_object_get(obj, "umask")) != NULL &&
	        ident_umask_parse(v, id, err) != 0) ||
	    ((v = json_object_get(obj, "rlimits")) != NULL &&
	        ident_rlimits_parse(v, id, err) != 0))
		return -1;
	if (json_object_get(obj, "nice") != NULL) {
		if (proto_get_int(obj, "nice", false, -20, 19, &n, err) != 0)
			return -1;
		id->has_nice = true;
		id->nice = (int)n;
	}
	if (json_object_get(obj, "oom_score_adj") != NULL) {
		if (proto_get_int(obj, "oom_score_adj", false, -1000, 1000, &n,
		        err) != 0)
			return -1;
		id->has_oom = true;
		id->oom_score_adj = (int)n;
	}
	if (json_object_get(obj, "no_new_privs") != NULL) {
		if (proto_get_bool(obj, "no_new_privs", false, &b, err) != 0)
			return -1;
		id->no_new_privs = b ? 1 : 0;
	}
	return 0;
}

static void
ident_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
spec_ident_free(struct spec_ident *id)
{
	if (id == NULL)
		return;
	free(id->user);
	free(id->group);
	ident_strv_free(id->groups);
	free(id);
}

int
spec_ident_dup(const struct spec_ident *id, struct spec_ident **out)
{
	struct spec_ident *c;
	size_t n = 0;

	*out = NULL;
	if (id == NULL)
		return 0;
	if ((c = malloc(sizeof *c)) == NULL)
		return -1;
	*c = *id;
	c->user = c->group = NULL;
	c->groups = NULL;
	if ((id->user != NULL && (c->user = strdup(id->user)) == NULL) ||
	    (id->group != NULL && (c->group = strdup(id->group)) == NULL))
		goto fail;
	if (id->groups != NULL) {
		while (id->groups[n] != NULL)
			n++;
		if ((c->groups = calloc(n + 1, sizeof *c->groups)) == NULL)
			goto fail;
		for (size_t i = 0; i < n; i++)
			if ((c->groups[i] = strdup(id->groups[i])) == NULL)
				goto fail;
	}
	*out = c;
	return 0;
fail:
	spec_ident_free(c);
	return -1;
}

/* A user or group back as it came: a number as a JSON number. */
static json_t *
ident_id_json(const char *s)
{
	if (spec_ident_is_num(s))
		return json_integer((json_int_t)strtoll(s, NULL, 10));
	return json_string(s);
}

static json_t *
ident_rlim_json(uint64_t v)
{
	if (v == SPEC_RLIM_INFINITY)
		return json_string("infinity");
	return json_integer((json_int_t)v);
}

static int
ident_set(json_t *obj, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(obj, key, v);
}

int
spec_ident_to_json(const struct spec_ident *id, json_t *obj)
{
	json_t *groups, *rl, *pair;
	char buf[8];

	if (id == NULL)
		return 0;
	if ((id->user != NULL &&
	        ident_set(obj, "user", ident_id_json(id->user)) != 0) ||
	    (id->group != NULL &&
	        ident_set(obj, "group", ident_id_json(id->group)) != 0))
		return -1;
	if (id->groups != NULL) {
		if (ident_set(obj, "groups", groups = json_array()) != 0)
			return -1;
		for (size_t i = 0; id->groups[i] != NULL; i++)
			if (json_array_append_new(groups,
			        ident_id_json(id->groups[i])) != 0)
				return -1;
	}
	if (id->umask >= 0) {
		snprintf(buf, sizeof buf, "%03o", (unsigned)id->umask);
		if (ident_set(obj, "umask", json_string(buf)) != 0)
			return -1;
	}
	if ((id->has_nice &&
	        ident_set(obj, "nice", json_integer(id->nice)) != 0) ||
	    (id->has_oom &&
	        ident_set(obj, "oom_score_adj",
	            json_integer(id->oom_score_adj)) != 0) ||
	    (id->no_new_privs >= 0 &&
	        ident_set(obj, "no_new_privs",
	            json_boolean(id->no_new_privs)) != 0))
		return -1;
	rl = NULL;
	for (int k = 0; k < SPEC_RLIM__COUNT; k++) {
		const struct spec_rlimit *r = &id->rlimits[k];

		if (!r->set)
			continue;
		if (rl == NULL &&
		    ident_set(obj, "rlimits", rl = json_object()) != 0)
			return -1;
		if (r->soft == r->hard) {
			if (ident_set(rl, spec_rlimit_defs[k].name,
			        ident_rlim_json(r->soft)) != 0)
				return -1;
			continue;
		}
		if (ident_set(rl, spec_rlimit_defs[k].name,
		        pair = json_object()) != 0 ||
		    ident_set(pair, "soft", ident_rlim_json(r->soft)) != 0 ||
		    ident_set(pair, "hard", ident_rlim_json(r->hard)) != 0)
			return -1;
	}
	return 0;
}

static bool
ident_str_equal(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

bool
spec_ident_equal(const struct spec_ident *a, const struct spec_ident *b)
{
	struct spec_ident none;
	size_t i;

	spec_ident_eff_init(&none);
	if (a == NULL)
		a = &none;
	if (b == NULL)
		b = &none;
	if (!ident_str_equal(a->user, b->user) ||
	    !ident_str_equal(a->group, b->group) || a->umask != b->umask ||
	    a->has_nice != b->has_nice || (a->has_nice && a->nice != b->nice) ||
	    a->has_oom != b->has_oom ||
	    (a->has_oom && a->oom_score_adj != b->oom_score_adj) ||
	    a->no_new_privs != b->no_new_privs)
		return false;
	if ((a->groups == NULL) != (b->groups == NULL))
		return false;
	for (i = 0; a->groups != NULL && a->groups[i] != NULL; i++)
		if (b->groups[i] == NULL || strcmp(a->groups[i], b->groups[i]))
			return false;
	if (a->groups != NULL && b->groups[i] != NULL)
		return false;
	for (int k = 0; k < SPEC_RLIM__COUNT; k++) {
		const struct spec_rlimit *x = &a->rlimits[k],
		                         *y = &b->rlimits[k];

		if (x->set != y->set ||
		    (x->set && (x->soft != y->soft || x->hard != y->hard)))
			return false;
	}
	return true;
}

void
spec_ident_eff_init(struct spec_ident *eff)
{
	memset(eff, 0, sizeof *eff);
	eff->umask = -1;
	eff->no_new_privs = -1;
}

void
spec_ident_overlay(struct spec_ident *eff, const struct spec_ident *own)
{
	if (own == NULL)
		return;
	if (own->user != NULL)
		eff->user = own->user;
	if (own->group != NULL)
		eff->group = own->group;
	if (own->groups != NULL)
		eff->groups = own->groups;
	if (own->umask >= 0)
		eff->umask = own->umask;
	if (own->has_nice) {
		eff->has_nice = true;
		eff->nice = own->nice;
	}
	if (own->has_oom) {
		eff->has_oom = true;
		eff->oom_score_adj = own->oom_score_adj;
	}
	if (own->no_new_privs >= 0)
		eff->no_new_privs = own->no_new_privs;
	for (int k = 0; k < SPEC_RLIM__COUNT; k++)
		if (own->rlimits[k].set)
			eff->rlimits[k] = own->rlimits[k];
}

bool
spec_ident_any(const struct spec_ident *eff)
{
	struct spec_ident none;

	spec_ident_eff_init(&none);
	return !spec_ident_equal(eff, &none);
}
