/*
 * The identity and process limits of a node spec: user, group, groups,
 * umask, nice, oom_score_adj, no_new_privs and rlimits. On an exec node
 * they are what its program runs as; on a supervisor they are defaults
 * for its subtree, each field overridable by a descendant. A node_spec
 * owns its struct spec_ident (NULL when the spec sets none of them); the
 * strings in it are owned by it. Names are not resolved here (no I/O):
 * the daemon does that (daemon/exec/ident.c).
 */
#ifndef PROTO_SPEC_IDENT_H
#define PROTO_SPEC_IDENT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "err.h"

/* The limits a spec can set, by their names in "rlimits". */
enum spec_rlim {
	SPEC_RLIM_AS,
	SPEC_RLIM_CORE,
	SPEC_RLIM_CPU,
	SPEC_RLIM_DATA,
	SPEC_RLIM_FSIZE,
	SPEC_RLIM_LOCKS,
	SPEC_RLIM_MEMLOCK,
	SPEC_RLIM_MSGQUEUE,
	SPEC_RLIM_NICE,
	SPEC_RLIM_NOFILE,
	SPEC_RLIM_NPROC,
	SPEC_RLIM_RSS,
	SPEC_RLIM_RTPRIO,
	SPEC_RLIM_RTTIME,
	SPEC_RLIM_SIGPENDING,
	SPEC_RLIM_STACK,
	SPEC_RLIM__COUNT
};

#define SPEC_RLIM_INFINITY UINT64_MAX
/* The kernel's ceiling on nofile (fs.nr_open cannot go higher). */
#define SPEC_RLIM_NOFILE_MAX 1073741816ULL
#define SPEC_GROUPS_MAX      65536 /* NGROUPS_MAX */
#define SPEC_IDENT_NAME_MAX  256   /* bytes of a user or group name */

struct spec_rlimit_def {
	const char *name; /* "nofile" */
	int resource;     /* RLIMIT_NOFILE */
	bool bytes;       /* takes "256K", "2G" */
	uint64_t max;     /* largest finite value */
};
extern const struct spec_rlimit_def spec_rlimit_defs[SPEC_RLIM__COUNT];

struct spec_rlimit {
	bool set;
	uint64_t soft, hard; /* SPEC_RLIM_INFINITY: unlimited */
};

struct spec_ident {
	char *user;    /* owned: a name, or a uid in decimal; NULL unset */
	char *group;   /* owned: likewise a gid; NULL unset */
	char **groups; /* owned, NULL-terminated; NULL unset (the user's) */
	int umask;     /* -1 unset */
	bool has_nice;
	bool has_oom;
	int8_t no_new_privs; /* -1 unset, 0, 1 */
	int nice;            /* -20..19 */
	int oom_score_adj;   /* -1000..1000 */
	struct spec_rlimit rlimits[SPEC_RLIM__COUNT];
};

/* The keys of a node spec that belong here (NULL-terminated). */
extern const char *const spec_ident_fields[];

/* True when id (a user or group as stored) is a number. */
bool spec_ident_is_num(const char *id);

/* Reads the ident fields of obj; *out is NULL when obj has none, else a
 * new struct the caller owns. Errors name the field: `field
 * "rlimits.nofile" must not have soft (10) above hard (5)`. */
int spec_ident_parse(const json_t *obj, struct spec_ident **out,
    struct proto_err *err);
void spec_ident_free(struct spec_ident *id);
/* Deep copy; 0, or -1 when out of memory (*out NULL then). NULL copies as
 * NULL. */
int spec_ident_dup(const struct spec_ident *id, struct spec_ident **out);
/* Adds the fields set to obj; -1 when out of memory. */
int spec_ident_to_json(const struct spec_ident *id, json_t *obj);
/* NULL and a struct with nothing set are equal. */
bool spec_ident_equal(const struct spec_ident *a, const struct spec_ident *b);

/* An unset effective identity: nothing set, borrowing nothing. */
void spec_ident_eff_init(struct spec_ident *eff);
/* Lays own's fields that are set over eff, which then borrows own's
 * strings: eff is a view, never passed to spec_ident_free. */
void spec_ident_overlay(struct spec_ident *eff, const struct spec_ident *own);
/* eff sets anything at all. */
bool spec_ident_any(const struct spec_ident *eff);

#endif
