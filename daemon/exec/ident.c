/*
 * Resolving and checking who a worker runs as (ident.h). The user and
 * group databases are read here, in the daemon, never in the vfork child;
 * the allow lists (--allow-users, --allow-groups) are this module's state.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getgrouplist, getresgid */
#endif

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "ident.h"
#include "node.h"
#include "spec-ident.h"
#include "spec.h"

#define IDENT_NOLOGIN "/usr/sbin/nologin"

struct ident_list {
	bool set;
	unsigned long *ids; /* owned */
	size_t n;
};

static struct ident_list ident_users, ident_groups;

static int
ident_oom(struct proto_err *err)
{
	return proto_errf(err, PROTO_INTERNAL, "out of memory");
}

static bool
ident_list_has(const struct ident_list *l, unsigned long id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

/* One allow list from its option text. */
static int
ident_list_parse(const char *text, bool user, struct ident_list *l,
    struct proto_err *err)
{
	const char *opt = user ? "--allow-users" : "--allow-groups";
	char *copy, *tok, *save = NULL;
	struct passwd *pw;
	struct group *gr;
	unsigned long id;
	size_t cap = 1;

	for (const char *p = text; *p != '\0'; p++)
		cap += *p == ',';
	if ((copy = strdup(text)) == NULL ||
	    (l->ids = calloc(cap, sizeof *l->ids)) == NULL) {
		free(copy);
		return ident_oom(err);
	}
	l->set = true;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (spec_ident_is_num(tok) && strlen(tok) <= 10)
			id = strtoul(tok, NULL, 10);
		else if (user && (pw = getpwnam(tok)) != NULL)
			id = pw->pw_uid;
		else if (!user && (gr = getgrnam(tok)) != NULL)
			id = gr->gr_gid;
		else {
			proto_errf(err, PROTO_INVALID_PARAMS,
			    "%s: no such %s \"%.64s\"", opt,
			    user ? "user" : "group", tok);
			free(copy);
			return -1;
		}
		l->ids[l->n++] = id;
	}
	free(copy);
	if (l->n == 0)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s: give at least one name or number", opt);
	return 0;
}

int
ident_allow_set(const char *users, const char *groups, struct proto_err *err)
{
	ident_allow_free();
	if ((users != NULL &&
	        ident_list_parse(users, true, &ident_users, err) == -1) ||
	    (groups != NULL &&
	        ident_list_parse(groups, false, &ident_groups, err) == -1)) {
		ident_allow_free();
		return -1;
	}
	return 0;
}

void
ident_allow_free(void)
{
	free(ident_users.ids);
	free(ident_groups.ids);
	memset(&ident_users, 0, sizeof ident_users);
	memset(&ident_groups, 0, sizeof ident_groups);
}

/*
 * The user and group databases as one turn of the loop saw them: a
 * pipelined batch of spawns as "nobody" reads /etc/passwd and /etc/group
 * once, not three times a spawn (the check, the start, the owner of its
 * log files). Forgotten when the turn ends, so the next request sees an
 * edit of the databases as it would without it. Without an event base
 * (ident_attach) every lookup goes to the databases.
 */
#define IDENT_MEMO 8

struct ident_pw {
	char *key; /* owned: the name or number asked for */
	bool found;
	uid_t uid;
	gid_t gid;
	char *name, *dir, *shell; /* owned */
};

struct ident_gl {
	char *name; /* owned */
	gid_t base;
	gid_t *g; /* owned */
	size_t n;
};

struct ident_gr {
	char *key; /* owned */
	bool found;
	gid_t gid;
};

static struct {
	struct event *ev; /* owned: the end of the turn */
	struct ident_pw pw[IDENT_MEMO];
	struct ident_gl gl[IDENT_MEMO];
	struct ident_gr gr[IDENT_MEMO];
	size_t npw, ngl, ngr;
} memo;

static void
ident_memo_clear(void)
{
	for (size_t i = 0; i < memo.npw; i++) {
		free(memo.pw[i].key);
		free(memo.pw[i].name);
		free(memo.pw[i].dir);
		free(memo.pw[i].shell);
	}
	for (size_t i = 0; i < memo.ngl; i++) {
		free(memo.gl[i].name);
		free(memo.gl[i].g);
	}
	for (size_t i = 0; i < memo.ngr; i++)
		free(memo.gr[i].key);
	memo.npw = memo.ngl = memo.ngr = 0;
}

static void
ident_memo_cb(evutil_socket_t fd, short what, void *arg)
{
	ident_memo_clear();
}

int
ident_attach(struct event_base *base)
{
	ident_detach();
	if ((memo.ev = event_new(base, -1, 0, ident_memo_cb, NULL)) == NULL)
		return -1;
	return 0;
}

void
ident_detach(void)
{
	ident_memo_clear();
	if (memo.ev != NULL)
		event_free(memo.ev);
	memo.ev = NULL;
}

/* Whether an entry may be kept (a memo of this turn, not full). */
static bool
ident_memo_room(size_t n)
{
	if (memo.ev == NULL || n >= IDENT_MEMO)
		return false;
	event_active(memo.ev, EV_TIMEOUT, 1);
	return true;
}

/* user (a name, or a number: getpwuid) in the user database; NULL with
 * errno (0: no such entry) when not found. The entry is the memo's, or
 * *tmp's (the caller frees it with ident_pw_free). */
static const struct ident_pw *
ident_pw_get(const char *user, struct ident_pw *tmp)
{
	bool num = spec_ident_is_num(user);
	struct ident_pw *e = tmp;
	struct passwd *pw;

	memset(tmp, 0, sizeof *tmp);
	for (size_t i = 0; i < memo.npw; i++)
		if (strcmp(memo.pw[i].key, user) == 0) {
			errno = 0;
			return memo.pw[i].found ? &memo.pw[i] : NULL;
		}
	errno = 0;
	pw = num ? getpwuid((uid_t)strtoul(user, NULL, 10)) : getpwnam(user);
	if (pw == NULL && errno != 0)
		return NULL; /* not a final answer: not kept */
	if (ident_memo_room(memo.npw))
		e = &memo.pw[memo.npw];
	memset(e, 0, sizeof *e);
	if ((e->key = strdup(user)) == NULL)
		goto oom;
	if ((e->found = pw != NULL)) {
		e->uid = pw->pw_uid;
		e->gid = pw->pw_gid;
		if ((e->name = strdup(pw->pw_name)) == NULL ||
		    (e->dir = strdup(pw->pw_dir)) == NULL ||
		    (e->shell = strdup(pw->pw_shell)) == NULL)
			goto oom;
	}
	if (e != tmp)
		memo.npw++;
	errno = 0;
	return e->found ? e : NULL;
oom:
	free(e->key);
	free(e->name);
	free(e->dir);
	free(e->shell);
	memset(e, 0, sizeof *e);
	errno = ENOMEM;
	return NULL;
}

static void
ident_pw_free(struct ident_pw *tmp)
{
	free(tmp->key);
	free(tmp->name);
	free(tmp->dir);
	free(tmp->shell);
	memset(tmp, 0, sizeof *tmp);
}

/* arbord holds capability cap now (root in a container may lack some:
 * CAP_SYS_RESOURCE often). */
static bool
ident_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) == -1)
		return geteuid() == 0;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

static void
ident_overlay_up(const struct node *n, struct spec_ident *eff)
{
	if (n == NULL)
		return;
	ident_overlay_up(n->parent, eff);
	spec_ident_overlay(eff, n->spec->ident);
}

void
ident_effective(const struct node *parent, const struct node_spec *own,
    struct spec_ident *eff)
{
	spec_ident_eff_init(eff);
	ident_overlay_up(parent, eff);
	if (own != NULL)
		spec_ident_overlay(eff, own->ident);
}

void
ident_creds_free(struct ident_creds *cr)
{
	free(cr->groups);
	free(cr->name);
	free(cr->home);
	free(cr->shell);
	memset(cr, 0, sizeof *cr);
}

static int
ident_grouplist_db(const char *name, gid_t base, gid_t **out, size_t *n);

/* The groups initgroups would give name with primary group base; *out
 * is the caller's. */
static int
ident_grouplist(const char *name, gid_t base, gid_t **out, size_t *n)
{
	struct ident_gl *e;

	for (size_t i = 0; i < memo.ngl; i++) {
		e = &memo.gl[i];
		if (e->base != base || strcmp(e->name, name) != 0)
			continue;
		if ((*out = malloc((e->n + 1) * sizeof **out)) == NULL)
			return -1;
		memcpy(*out, e->g, e->n * sizeof **out);
		*n = e->n;
		return 0;
	}
	if (ident_grouplist_db(name, base, out, n) == -1)
		return -1;
	if (!ident_memo_room(memo.ngl))
		return 0;
	e = &memo.gl[memo.ngl];
	if ((e->name = strdup(name)) == NULL ||
	    (e->g = malloc((*n + 1) * sizeof *e->g)) == NULL) {
		free(e->name);
		e->name = NULL;
		return 0; /* not kept; the answer stands */
	}
	memcpy(e->g, *out, *n * sizeof *e->g);
	e->n = *n;
	e->base = base;
	memo.ngl++;
	return 0;
}

static int
ident_grouplist_db(const char *name, gid_t base, gid_t **out, size_t *n)
{
	gid_t *g = NULL, *ng;
	int cap = 32, cnt;

	for (;;) {
		if ((ng = realloc(g, (size_t)cap * sizeof *g)) == NULL) {
			free(g);
			return -1;
		}
		g = ng;
		cnt = cap;
		if (getgrouplist(name, base, g, &cnt) != -1) {
			*out = g;
			*n = (size_t)cnt;
			return 0;
		}
		if (cap >= SPEC_GROUPS_MAX) {
			free(g);
			errno = E2BIG;
			return -1;
		}
		cap = cnt > cap ? cnt : cap * 2;
	}
}

static int
ident_group_id(const char *s, const char *field, gid_t *out,
    struct proto_err *err)
{
	struct ident_gr *e;
	struct group *gr;

	if (spec_ident_is_num(s)) {
		*out = (gid_t)strtoul(s, NULL, 10);
		return 0;
	}
	for (size_t i = 0; i < memo.ngr; i++) {
		e = &memo.gr[i];
		if (strcmp(e->key, s) != 0)
			continue;
		if (!e->found)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "%s: no such group \"%.64s\"", field, s);
		*out = e->gid;
		return 0;
	}
	errno = 0;
	gr = getgrnam(s);
	if ((gr != NULL || errno == 0) && ident_memo_room(memo.ngr) &&
	    (memo.gr[memo.ngr].key = strdup(s)) != NULL) {
		memo.gr[memo.ngr].found = gr != NULL;
		memo.gr[memo.ngr].gid = gr != NULL ? gr->gr_gid : 0;
		memo.ngr++;
	}
	if (gr == NULL)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s: no such group \"%.64s\"%s%s", field, s,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
	*out = gr->gr_gid;
	return 0;
}

/* user: uid, and name, home and shell for the environment (as systemd
 * does for a uid with no entry: the number, "/", nologin). */
static int
ident_user(const char *user, struct ident_creds *cr, gid_t *primary,
    struct proto_err *err)
{
	struct ident_pw tmp;
	const struct ident_pw *pw;
	bool num = spec_ident_is_num(user);
	int rc = 0;

	pw = ident_pw_get(user, &tmp);
	if (pw == NULL && errno == ENOMEM)
		return ident_oom(err);
	if (pw == NULL && !num) {
		rc = proto_errf(err, PROTO_INVALID_PARAMS,
		    "user: no such user \"%.64s\"%s%s", user,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		ident_pw_free(&tmp);
		return rc;
	}
	cr->set_uid = true;
	cr->uid = pw != NULL ? pw->uid : (uid_t)strtoul(user, NULL, 10);
	*primary = pw != NULL ? pw->gid : (gid_t)cr->uid;
	cr->has_entry = pw != NULL;
	if ((cr->name = strdup(pw != NULL ? pw->name : user)) == NULL ||
	    (cr->home = strdup(
	         pw != NULL && pw->dir[0] != '\0' ? pw->dir : "/")) == NULL ||
	    (cr->shell = strdup(pw != NULL && pw->shell[0] != '\0' ?
	             pw->shell :
	             IDENT_NOLOGIN)) == NULL)
		rc = ident_oom(err);
	ident_pw_free(&tmp);
	return rc;
}

static bool
ident_gid_in(const gid_t *g, size_t n, gid_t id)
{
	for (size_t i = 0; i < n; i++)
		if (g[i] == id)
			return true;
	return false;
}

/* What the child could not set with arbord's capabilities is refused
 * now: a hard limit above arbord's own, oom_score_adj or nice below
 * arbord's. */
static int
ident_limits_check(const struct spec_ident *eff, struct proto_err *err)
{
	unsigned long long nr_open = SPEC_RLIM_NOFILE_MAX;
	const struct spec_rlimit *r;
	struct rlimit own;
	FILE *f;

	r = &eff->rlimits[SPEC_RLIM_NOFILE];
	if (r->set) {
		if ((f = fopen("/proc/sys/fs/nr_open", "re")) != NULL) {
			if (fscanf(f, "%llu", &nr_open) != 1)
				nr_open = SPEC_RLIM_NOFILE_MAX;
			fclose(f);
		}
		if (r->hard == SPEC_RLIM_INFINITY)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "rlimits.nofile: cannot be infinity; at most the "
			    "kernel's fs.nr_open (%llu)",
			    nr_open);
		if (r->hard > nr_open)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "rlimits.nofile: hard %llu is above the kernel's "
			    "fs.nr_open (%llu)",
			    (unsigned long long)r->hard, nr_open);
	}
	/* As the kernel's can_nice: lower than now needs CAP_SYS_NICE or
	 * room under RLIMIT_NICE. */
	if (eff->has_nice && !ident_cap(CAP_SYS_NICE)) {
		int cur;

		errno = 0;
		cur = getpriority(PRIO_PROCESS, 0);
		if (errno == 0 && eff->nice < cur &&
		    getrlimit(RLIMIT_NICE, &own) == 0 &&
		    own.rlim_cur != RLIM_INFINITY &&
		    (rlim_t)(20 - eff->nice) > own.rlim_cur)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "nice: arbord lacks CAP_SYS_NICE and cannot go "
			    "below its own (%d)",
			    cur);
	}
	if (eff->has_oom && !ident_cap(CAP_SYS_RESOURCE)) {
		int cur = 0;

		if ((f = fopen("/proc/self/oom_score_adj", "re")) != NULL) {
			if (fscanf(f, "%d", &cur) != 1)
				cur = 0;
			fclose(f);
		}
		if (eff->oom_score_adj < cur)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "oom_score_adj: arbord lacks CAP_SYS_RESOURCE "
			    "and cannot go below its own (%d)",
			    cur);
	}
	if (ident_cap(CAP_SYS_RESOURCE))
		return 0;
	for (int k = 0; k < SPEC_RLIM__COUNT; k++) {
		r = &eff->rlimits[k];
		if (!r->set ||
		    getrlimit(spec_rlimit_defs[k].resource, &own) == -1 ||
		    own.rlim_max == RLIM_INFINITY ||
		    (r->hard != SPEC_RLIM_INFINITY &&
		        r->hard <= (uint64_t)own.rlim_max))
			continue;
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "rlimits.%s: arbord lacks CAP_SYS_RESOURCE and cannot "
		    "raise the hard limit above its own (%llu)",
		    spec_rlimit_defs[k].name, (unsigned long long)own.rlim_max);
	}
	return 0;
}

/* Without CAP_SETUID (CAP_SETGID), arbord can only keep its own uid
 * (gid, groups): the child makes no call that would fail, and anything
 * else is refused now. */
static int
ident_unprivileged(const struct spec_ident *eff, struct ident_creds *cr,
    struct proto_err *err)
{
	uid_t self = geteuid();
	gid_t r, e, s, cur[256];
	int n;

	if (!cr->set_uid && !cr->set_gid && eff->groups == NULL)
		return 0;
	if (ident_cap(CAP_SETUID))
		goto gid;
	if (cr->set_uid && cr->uid != self)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "user: arbord (uid %ld) is not root (no CAP_SETUID) "
		    "and cannot start workers as uid %ld",
		    (long)self, (long)cr->uid);
	cr->set_uid = false;
gid:
	if (ident_cap(CAP_SETGID))
		return 0;
	if (cr->set_gid) {
		if (getresgid(&r, &e, &s) == -1 ||
		    (cr->gid != r && cr->gid != e && cr->gid != s))
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "group: arbord (uid %ld) is not root (no "
			    "CAP_SETGID) and cannot start workers as gid %ld",
			    (long)self, (long)cr->gid);
		cr->set_gid = !(cr->gid == r && cr->gid == e && cr->gid == s);
	}
	if (eff->groups != NULL) {
		n = getgroups(256, cur);
		for (size_t i = 0; i < cr->ngroups; i++)
			if (n < 0 ||
			    !ident_gid_in(cur, (size_t)n, cr->groups[i]))
				return proto_errf(err, PROTO_INVALID_PARAMS,
				    "groups: arbord is not root (no CAP_SETGID) "
				    "and cannot give workers gid %ld",
				    (long)cr->groups[i]);
	}
	cr->set_groups = false;
	return 0;
}

/* The groups the user of eff belongs to (arbord's own user when eff has
 * none): what --allow-users alone lets a worker take. */
static int
ident_member_groups(const struct spec_ident *eff, const struct ident_creds *cr,
    gid_t **out, size_t *n)
{
	struct passwd *pw;

	pw = cr->name != NULL ? getpwnam(cr->name) : getpwuid(geteuid());
	if (pw != NULL)
		return ident_grouplist(pw->pw_name, pw->pw_gid, out, n);
	if ((*out = malloc(sizeof **out)) == NULL)
		return -1;
	(*out)[0] = eff->user != NULL ? (gid_t)cr->uid : getegid();
	*n = 1;
	return 0;
}

static int
ident_allowed(const struct spec_ident *eff, const struct ident_creds *cr,
    struct proto_err *err)
{
	uid_t uid = eff->user != NULL ? cr->uid : geteuid();
	gid_t gid = eff->user != NULL || eff->group != NULL ? cr->gid :
	                                                      getegid();
	gid_t *member = NULL;
	size_t nmember = 0;
	int rc = 0;

	if (ident_users.set && !ident_list_has(&ident_users, uid)) {
		if (eff->user != NULL)
			return proto_errk(err, PROTO_CONFLICT, "forbidden",
			    "user: \"%.64s\" (uid %ld) is not in "
			    "--allow-users",
			    eff->user, (long)uid);
		return proto_errk(err, PROTO_CONFLICT, "forbidden",
		    "user: not set, and workers would run as arbord's uid %ld, "
		    "which is not in --allow-users",
		    (long)uid);
	}
	if (ident_groups.set) {
		if (!ident_list_has(&ident_groups, gid))
			return proto_errk(err, PROTO_CONFLICT, "forbidden",
			    "group: gid %ld is not in --allow-groups",
			    (long)gid);
		for (size_t i = 0; eff->groups != NULL && i < cr->ngroups; i++)
			if (!ident_list_has(&ident_groups, cr->groups[i]))
				return proto_errk(err, PROTO_CONFLICT,
				    "forbidden",
				    "groups: gid %ld is not in --allow-groups",
				    (long)cr->groups[i]);
		return 0;
	}
	/* --allow-users alone: a worker keeps to its user's own groups,
	 * or "group": "root" would undo the restriction. */
	if (!ident_users.set || (eff->group == NULL && eff->groups == NULL))
		return 0;
	if (ident_member_groups(eff, cr, &member, &nmember) == -1)
		return ident_oom(err);
	if (eff->group != NULL && !ident_gid_in(member, nmember, gid))
		rc = proto_errk(err, PROTO_CONFLICT, "forbidden",
		    "group: gid %ld is not a group of uid %ld (with "
		    "--allow-users and no --allow-groups, workers keep to "
		    "their user's groups)",
		    (long)gid, (long)uid);
	for (size_t i = 0; rc == 0 && eff->groups != NULL && i < cr->ngroups;
	     i++)
		if (!ident_gid_in(member, nmember, cr->groups[i]))
			rc = proto_errk(err, PROTO_CONFLICT, "forbidden",
			    "groups: gid %ld is not a group of uid %ld (with "
			    "--allow-users and no --allow-groups, workers "
			    "keep to their user's groups)",
			    (long)cr->groups[i], (long)uid);
	free(member);
	return rc;
}

static int
ident_resolve_x(const struct spec_ident *eff, bool allow,
    struct ident_creds *cr, struct proto_err *err)
{
	char field[32];
	gid_t primary = 0;
	size_t n = 0;

	memset(cr, 0, sizeof *cr);
	/* The common case, a worker as arbord: no call at all. */
	if (!spec_ident_any(eff) &&
	    (!allow || (!ident_users.set && !ident_groups.set)))
		return 0;
	if (eff->user != NULL && ident_user(eff->user, cr, &primary, err) == -1)
		goto fail;
	if (eff->group != NULL) {
		if (ident_group_id(eff->group, "group", &cr->gid, err) == -1)
			goto fail;
		cr->set_gid = true;
	} else if (eff->user != NULL) {
		cr->gid = primary;
		cr->set_gid = true;
	}
	if (eff->groups != NULL) {
		while (eff->groups[n] != NULL)
			n++;
		if ((cr->groups = calloc(n + 1, sizeof *cr->groups)) == NULL) {
			ident_oom(err);
			goto fail;
		}
		for (size_t i = 0; i < n; i++) {
			snprintf(field, sizeof field, "groups[%zu]", i);
			if (ident_group_id(eff->groups[i], field,
			        &cr->groups[i], err) == -1)
				goto fail;
		}
		cr->ngroups = n;
		cr->set_groups = true;
	} else if (eff->user != NULL) {
		/* A uid with no entry has no groups of its own. */
		if (!spec_ident_is_num(eff->user) || cr->has_entry) {
			if (ident_grouplist(cr->name, cr->gid, &cr->groups,
			        &cr->ngroups) == -1) {
				proto_errf(err, PROTO_INVALID_PARAMS,
				    "groups: cannot list the groups of user "
				    "\"%.64s\": %s",
				    cr->name, strerror(errno));
				goto fail;
			}
		}
		cr->set_groups = true;
	}
	if (ident_limits_check(eff, err) == -1 ||
	    ident_unprivileged(eff, cr, err) == -1 ||
	    (allow && ident_allowed(eff, cr, err) == -1))
		goto fail;
	return 0;
fail:
	ident_creds_free(cr);
	return -1;
}

int
ident_resolve(const struct spec_ident *eff, struct ident_creds *cr,
    struct proto_err *err)
{
	return ident_resolve_x(eff, true, cr, err);
}

/* Puts where in front of the message, which starts with the field:
 * "children[1]" + "user: ..." -> "children[1].user: ...". */
static void
ident_err_locate(struct proto_err *err, const char *where, char sep)
{
	char old[PROTO_ERR_MESSAGE_MAX];

	if (err == NULL || where[0] == '\0')
		return;
	memcpy(old, err->message, sizeof old);
	old[sizeof old - 1] = '\0';
	if (snprintf(err->message, sizeof err->message, "%s%c%s%s", where, sep,
	        sep == ':' ? " " : "", old) >= (int)sizeof err->message)
		memcpy(err->message + sizeof err->message - 4, "...", 4);
}

/* A node is checked where its identity is used: an exec node always (the
 * allow lists apply to it even with nothing set), a supervisor when it
 * sets anything (its fields must resolve; whom it runs as does not
 * matter, it runs nothing). */
static int
ident_check_one(const struct spec_ident *eff, const struct node_spec *s,
    struct proto_err *err)
{
	struct ident_creds cr;

	if (s->kind != KIND_EXEC &&
	    (s->kind != KIND_SUPERVISOR || s->ident == NULL))
		return 0;
	if (ident_resolve_x(eff, s->kind == KIND_EXEC, &cr, err) == -1)
		return -1;
	ident_creds_free(&cr);
	return 0;
}

static int
ident_check_tree(const struct spec_ident *up, const struct node_spec *s,
    char *loc, size_t len, size_t cap, struct proto_err *err)
{
	struct spec_ident eff = *up;
	int w;

	spec_ident_overlay(&eff, s->ident);
	if (ident_check_one(&eff, s, err) == -1) {
		ident_err_locate(err, loc, '.');
		return -1;
	}
	if (s->kind != KIND_SUPERVISOR)
		return 0;
	for (size_t i = 0; i < s->u.sup.nchildren; i++) {
		w = snprintf(loc + len, cap - len, "%schildren[%zu]",
		    len > 0 ? "." : "", i);
		if (w < 0 || (size_t)w >= cap - len)
			w = 0; /* too deep to say: the field still tells */
		if (ident_check_tree(&eff, s->u.sup.children[i], loc,
		        len + (size_t)w, cap, err) == -1)
			return -1;
		loc[len] = '\0';
	}
	return 0;
}

int
ident_check_spawn(const struct node *parent, const struct node_spec *spec,
    struct proto_err *err)
{
	struct spec_ident up;
	char loc[192] = "";

	ident_effective(parent, NULL, &up);
	return ident_check_tree(&up, spec, loc, 0, sizeof loc, err);
}

static int
ident_check_nodes(const struct spec_ident *up, const struct node *n,
    struct proto_err *err)
{
	char path[PROTO_PATH_MAX];

	for (uint32_t i = 0; i < n->nchildren; i++) {
		const struct node *c = n->children[i];
		struct spec_ident eff = *up;

		spec_ident_overlay(&eff, c->spec->ident);
		if (ident_check_one(&eff, c->spec, err) == -1) {
			ident_err_locate(err, node_path(c, path, sizeof path),
			    ':');
			return -1;
		}
		if (ident_check_nodes(&eff, c, err) == -1)
			return -1;
	}
	return 0;
}

int
ident_check_update(const struct node *n, const struct node_spec *spec,
    struct proto_err *err)
{
	struct spec_ident eff;

	ident_effective(n->parent, spec, &eff);
	if (ident_check_one(&eff, spec, err) == -1)
		return -1;
	return ident_check_nodes(&eff, n, err);
}
