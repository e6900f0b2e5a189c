/*
 * Who a worker runs as, resolved: the identity fields of its spec and its
 * ancestors' (spec-ident.h) turned into uid, gid and groups through the
 * user and group databases, checked against what arbord can become and
 * against --allow-users / --allow-groups. Resolution happens when a spec
 * is validated (the whole subtree, before anything is created) and again
 * before each start, outside the vfork child, which only makes the calls.
 * The allow lists are this module's, set once at start.
 */
#ifndef IDENT_H
#define IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct node;
struct node_spec;
struct spec_ident;

/* A resolved identity. The caller owns it and frees it with
 * ident_creds_free; the set_* flags say which calls the child makes. */
struct ident_creds {
	bool set_uid, set_gid, set_groups;
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* owned */
	size_t ngroups;
	char *name;     /* owned: USER and LOGNAME; NULL without a user */
	char *home;     /* owned: HOME */
	char *shell;    /* owned: SHELL */
	bool has_entry; /* the user is in the user database */
};

/* --allow-users and --allow-groups: comma-separated names or numbers,
 * resolved now; NULL leaves that side open. -1 with err on an unknown
 * name or an empty list. */
int
ident_allow_set(const char *users, const char *groups, struct proto_err *err);
void ident_allow_free(void);

struct event_base;

/* Lookups in the user and group databases are shared within one turn of
 * base's loop once attached (ident.c); detach frees them. */
int ident_attach(struct event_base *base);
void ident_detach(void);

/* The identity a node under parent with spec own runs with: every
 * ancestor's fields, root first, then own's, each overriding the one
 * before. eff borrows from the specs. */
void ident_effective(const struct node *parent, const struct node_spec *own,
    struct spec_ident *eff);

/* Resolves eff and checks it: invalid_params for an unknown user or
 * group or one arbord cannot become, and a limit out of range;
 * -32003 "forbidden" outside the allow lists. Messages start with the
 * field: "user: no such user \"x\"". */
int ident_resolve(const struct spec_ident *eff, struct ident_creds *cr,
    struct proto_err *err);
void ident_creds_free(struct ident_creds *cr);

/* spec (with its children) about to be created under parent: every node
 * checked, errors located ("children[1].user: ..."). */
int ident_check_spawn(const struct node *parent, const struct node_spec *spec,
    struct proto_err *err);
/* spec (without children) about to replace n's: n and its subtree
 * checked with it. */
int ident_check_update(const struct node *n, const struct node_spec *spec,
    struct proto_err *err);

#endif
