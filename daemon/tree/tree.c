/*
 * The tree: creating and removing nodes, finding them by path or id, and
 * the client-facing operations that check state before acting.
 */
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "clock.h"
#include "exec.h"
#include "ident.h"
#include "log.h"
#include "path.h"
#include "sockets.h"
#include "supervisor.h"
#include "tree.h"
#include "worker.h"

static const struct worker_ops *const tree_worker_ops[KIND__COUNT] = {
	[KIND_SLEEP] = &worker_sleep_ops,
	[KIND_TICK] = &worker_tick_ops,
	[KIND_FAIL] = &worker_fail_ops,
	[KIND_EXEC] = &worker_exec_ops,
};

void
tree_emit(struct tree *t, const struct tree_event *ev)
{
	if (t->hooks.event != NULL)
		t->hooks.event(t->hooks.arg, ev);
}

/* A node of spec, not yet in the tree; spec's children are left in it. */
static struct node *
tree_node_new(struct tree *t, struct node *parent, struct node_spec *spec)
{
	struct node *n;

	if ((n = calloc(1, sizeof *n)) == NULL)
		return NULL;
	n->tree = t;
	n->parent = parent;
	n->spec = spec;
	n->ops = tree_worker_ops[spec->kind];
	node_init_state(n, NODE_QUEUED);
	n->id = t->next_id++;
	if (spec->kind == KIND_SUPERVISOR && sup_init(n) == -1) {
		free(n);
		return NULL;
	}
	return n;
}

static int
tree_children_reserve(struct node *p, uint32_t more)
{
	uint32_t cap = p->capchildren;
	struct node **children;

	if (p->nchildren + more <= cap)
		return 0;
	while (cap < p->nchildren + more)
		cap = cap ? cap * 2 : 4;
	if ((children = realloc(p->children, cap * sizeof *children)) == NULL)
		return -1;
	p->children = children;
	p->capchildren = cap;
	return 0;
}

/* Puts n (and, from its spec, its subtree) into the tree under its parent,
 * announcing each node parents first. Memory was checked by the caller's
 * reservation only for the top node; a failure deeper is fatal because the
 * tree must never be half-built. socks, when not NULL, walks the sockets
 * opened for the subtree (sock_subtree_open), one per node below n, in
 * the order the nodes are made. */
static void
tree_link(struct tree *t, struct node *n, struct sock_set ***socks)
{
	struct node *p = n->parent;
	struct tree_event ev;
	struct node_spec **kids = NULL;
	size_t nkids = 0;

	if (tree_children_reserve(p, 1) == -1 ||
	    nodetab_put(&t->ids, n->id, n) == -1 ||
	    nameidx_put(&t->names, n) == -1)
		fatalx("out of memory building the tree");
	/* New nodes wait for their parent's start: idle, not in nlive. */
	p->children[p->nchildren++] = n;
	t->stats.nodes++;
	t->stats.spawns++;
	t->stats.by_state[n->shown]++;
	t->stats.by_kind[n->spec->kind]++;
	memset(&ev, 0, sizeof ev);
	ev.type = TREE_EV_SPAWNED;
	ev.node = n;
	tree_emit(t, &ev);

	if (n->spec->kind != KIND_SUPERVISOR)
		return;
	/* The children's specs move into their nodes. */
	kids = n->spec->u.sup.children;
	nkids = n->spec->u.sup.nchildren;
	n->spec->u.sup.children = NULL;
	n->spec->u.sup.nchildren = 0;
	if (nkids > 0 && tree_children_reserve(n, (uint32_t)nkids) == -1)
		fatalx("out of memory building the tree");
	for (size_t i = 0; i < nkids; i++) {
		struct node *c = tree_node_new(t, n, kids[i]);

		if (c == NULL)
			fatalx("out of memory building the tree");
		if (socks != NULL)
			c->socks = *(*socks)++;
		tree_link(t, c, socks);
	}
	free(kids);
}

struct tree *
tree_new(struct event_base *base, const struct tree_limits *lim,
    const struct tree_hooks *hooks)
{
	struct tree *t;
	struct node_spec *spec;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	t->base = base;
	t->lim = *lim;
	if (hooks != NULL)
		t->hooks = *hooks;
	t->next_id = 1;
	nodetab_init(&t->ids);
	nameidx_init(&t->names);
	if ((spec = calloc(1, sizeof *spec)) == NULL ||
	    (spec->name = strdup("")) == NULL) {
		free(spec);
		free(t);
		return NULL;
	}
	spec->kind = KIND_SUPERVISOR;
	spec->restart = RESTART_PERMANENT;
	spec->shutdown_ms = SPEC_SHUTDOWN_MS;
	spec->timeout_ms = -1;
	spec->backoff_ms = SPEC_BACKOFF_MS;
	spec->backoff_max_ms = SPEC_BACKOFF_MAX_MS;
	spec->start_timeout_ms = -1;
	spec->u.sup.strategy = STRATEGY_ONE_FOR_ONE;
	spec->u.sup.max_restarts = lim->root_period_ms > 0 ?
	    lim->root_max_restarts :
	    SPEC_MAX_RESTARTS;
	spec->u.sup.period_ms = lim->root_period_ms > 0 ? lim->root_period_ms :
	                                                  SPEC_PERIOD_MS;
	if ((t->root = tree_node_new(t, NULL, spec)) == NULL ||
	    nodetab_put(&t->ids, t->root->id, t->root) == -1) {
		tree_free(t);
		return NULL;
	}
	node_init_state(t->root, NODE_RUNNING);
	t->root->ever_started = true;
	t->root->started_ms = clock_wall_ms();
	t->stats.nodes = 1;
	t->stats.by_state[NODE_RUNNING] = 1;
	t->stats.by_kind[KIND_SUPERVISOR] = 1;
	return t;
}

void
tree_free(struct tree *t)
{
	if (t == NULL)
		return;
	if (t->root != NULL)
		node_free(t->root);
	nodetab_free(&t->ids);
	nameidx_free(&t->names);
	free(t);
}

struct node *
tree_lookup(struct tree *t, const char *path, struct proto_err *err)
{
	struct node *n = t->root;
	size_t pos = 0, len;
	const char *name;

	if (proto_path_check(path, "path", err) == -1)
		return NULL;
	while ((name = proto_path_next(path, &pos, &len)) != NULL) {
		if ((n = nameidx_get(&t->names, n, name, len)) == NULL) {
			proto_errf(err, PROTO_NOT_FOUND, "no node at %s", path);
			return NULL;
		}
	}
	return n;
}

struct node *
tree_get(struct tree *t, uint64_t id)
{
	return nodetab_get(&t->ids, id);
}

int
tree_depth(const struct node *n)
{
	int d = 0;

	for (; n->parent != NULL; n = n->parent)
		d++;
	return d;
}

static int
spec_depth(const struct node_spec *s)
{
	int d = 0;

	if (s->kind != KIND_SUPERVISOR)
		return 1;
	for (size_t i = 0; i < s->u.sup.nchildren; i++) {
		int cd = spec_depth(s->u.sup.children[i]);

		if (cd > d)
			d = cd;
	}
	return d + 1;
}

/* The parent starts a new child at once (rather than queueing it). */
static bool
tree_starts_now(const struct node *p)
{
	return p->state == NODE_RUNNING && p->sup->cursor == p->nchildren &&
	    !p->sup->group;
}

/* The parent a spawn of spec under parent_path goes into, once every
 * check passed; NULL with err filled when one did not. */
static struct node *
tree_spawn_parent(struct tree *t, const char *parent_path,
    const struct node_spec *spec, size_t count, struct proto_err *err)
{
	char path[PROTO_PATH_MAX];
	struct node *p;

	if (t->shutting_down) {
		proto_errf(err, PROTO_CONFLICT, "the daemon is shutting down");
		return NULL;
	}
	if ((p = tree_lookup(t, parent_path, err)) == NULL) {
		if (err != NULL && err->code == PROTO_NOT_FOUND)
			proto_errf(err, PROTO_NOT_FOUND,
			    "parent %s does not exist", parent_path);
		return NULL;
	}
	node_path(p, path, sizeof path);
	if (!node_is_sup(p))
		proto_errf(err, PROTO_CONFLICT,
		    "parent %s is a worker (%s), not a supervisor", path,
		    spec_kind_names[p->spec->kind]);
	else if (p->state == NODE_STOPPING || node_terminated(p) ||
	    p->state == NODE_ENDED)
		proto_errf(err, PROTO_CONFLICT,
		    "parent %s is %s; only a supervisor that is starting, "
		    "running or in backoff takes new children",
		    path, node_state_names[p->state]);
	else if (!spec_inst_takes(p->spec, spec->name))
		proto_errf(err, PROTO_CONFLICT,
		    "%s holds the %u instances of an exec node, named 0 to "
		    "%u; change their number with scale",
		    path, p->spec->inst->n, p->spec->inst->n - 1);
	else if (nameidx_get(&t->names, p, spec->name, strlen(spec->name)) !=
	    NULL)
		proto_errf(err, PROTO_EXISTS,
		    "%s already has a child named \"%s\"", path, spec->name);
	else if (count > t->lim.max_nodes ||
	    t->stats.nodes > t->lim.max_nodes - count)
		proto_errf(err, PROTO_LIMIT,
		    "%zu more nodes would pass the limit of %zu (--max-nodes);"
		    " %zu exist",
		    count, t->lim.max_nodes, t->stats.nodes);
	else if (tree_depth(p) + spec_depth(spec) > PROTO_DEPTH_MAX)
		proto_errf(err, PROTO_INVALID_PARAMS,
		    "the tree would be deeper than %d levels", PROTO_DEPTH_MAX);
	else
		return p;
	return NULL;
}

/* Stops the nodes below n that come back stopped; n is linked and has
 * not started, so each goes from waiting to exited through the lifecycle.
 * Children before their parents (stopped is in the other order), so each
 * keeps its own cause, as a child a client stopped before its parent
 * does. */
static void
tree_stop_restored(struct tree *t, struct node *n,
    const struct tree_stopped *stopped, size_t nstopped)
{
	char path[PROTO_PATH_MAX];

	for (size_t i = nstopped; i-- > 0;) {
		const char *rel = stopped[i].path, *name;
		struct node *d = n;
		size_t pos = 0, len;
		struct cause *c;

		while (d != NULL &&
		    (name = proto_path_next(rel, &pos, &len)) != NULL)
			d = nameidx_get(&t->names, d, name, len);
		if (d == NULL || d == n) {
			log_warnx("%s%s is not in the restored subtree; "
			          "not stopped",
			    node_path(n, path, sizeof path), rel);
			continue;
		}
		if ((c = cause_new(CAUSE_CANCELLED, "%s", stopped[i].why)) ==
		    NULL)
			fatalx("out of memory");
		node_cancel(d, c);
		cause_unref(c);
	}
}

static int
tree_spawn_in(struct tree *t, const char *parent_path, struct node_spec *spec,
    size_t count, const struct tree_stopped *stopped, size_t nstopped,
    struct node **out, struct proto_err *err)
{
	struct node *p, *n;
	struct sock_set **socks = NULL, **cur;
	bool prestart, ready = false;

	if ((p = tree_spawn_parent(t, parent_path, spec, count, err)) == NULL)
		return -1;
	/* A lone program is executed before it exists in the tree, so one
	 * that cannot start leaves nothing behind. One that must wait for
	 * its turn is checked as execvp would, so a typo never becomes a
	 * child failure that counts against p. Every node's user, groups
	 * and limits are checked before anything exists; a program that
	 * starts now is checked by its start, which resolves them alike. */
	prestart = spec->kind == KIND_EXEC && tree_starts_now(p);
	/* A restored subtree holding stopped nodes is not checked whole: a
	 * stopped node is checked, and binds, only when it starts again (so
	 * a user deleted since does not drop its live siblings), and the
	 * others likewise at their start. */
	if (!prestart && nstopped == 0 && ident_check_spawn(p, spec, err) == -1)
		return -1;
	/* Every socket of the subtree is bound before any node exists: one
	 * that cannot be leaves nothing behind. */
	if (nstopped == 0 && sock_subtree_open(spec, count, &socks, err) == -1)
		return -1;
	if ((n = tree_node_new(t, p, spec)) == NULL) {
		sock_subtree_free(socks, count);
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	if (socks != NULL) {
		n->socks = socks[0];
		socks[0] = NULL;
	}
	if ((prestart && node_prestart(n, &ready, err) == -1) ||
	    (spec->kind == KIND_EXEC && !prestart &&
	        exec_check_spec(spec, err) == -1)) {
		sock_node_close(n);
		sock_subtree_free(socks, count);
		n->spec = NULL;
		t->next_id--;
		free(n);
		return -1;
	}
	cur = socks != NULL ? socks + 1 : NULL;
	tree_link(t, n, socks != NULL ? &cur : NULL);
	free(socks);
	tree_stop_restored(t, n, stopped, nstopped);
	if (prestart)
		node_start_prestarted(n, ready);
	sup_continue(p);
	*out = n;
	return 0;
}

int
tree_spawn(struct tree *t, const char *parent_path, struct node_spec *spec,
    size_t count, struct node **out, struct proto_err *err)
{
	return tree_spawn_in(t, parent_path, spec, count, NULL, 0, out, err);
}

int
tree_spawn_restored(struct tree *t, const char *parent_path,
    struct node_spec *spec, size_t count, const struct tree_stopped *stopped,
    size_t nstopped, struct node **out, struct proto_err *err)
{
	return tree_spawn_in(t, parent_path, spec, count, stopped, nstopped,
	    out, err);
}

int
tree_add_stopped(struct tree *t, const char *parent_path,
    struct node_spec *spec, size_t count, const char *why,
    const struct tree_stopped *stopped, size_t nstopped, struct node **out,
    struct proto_err *err)
{
	struct node *p, *n;
	struct cause *c;

	if ((p = tree_spawn_parent(t, parent_path, spec, count, err)) == NULL)
		return -1;
	if ((c = cause_new(CAUSE_CANCELLED, "%s", why)) == NULL ||
	    (n = tree_node_new(t, p, spec)) == NULL) {
		cause_unref(c);
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	/* Linked waiting and ended at once: it never starts. Those below
	 * that a client stopped first, so they keep their own cause. */
	tree_link(t, n, NULL);
	tree_stop_restored(t, n, stopped, nstopped);
	node_cancel(n, c);
	cause_unref(c);
	*out = n;
	return 0;
}

int
tree_update(struct tree *t, struct node *n, struct node_spec *spec,
    bool restart, bool *restarted, struct proto_err *err)
{
	char path[PROTO_PATH_MAX];
	struct node_spec *old = n->spec;
	struct proto_err ignored;

	*restarted = false;
	if (n == t->root || spec->kind != old->kind ||
	    strcmp(spec->name, old->name) != 0 ||
	    (spec->kind == KIND_SUPERVISOR && spec->u.sup.nchildren != 0))
		return proto_errf(err, PROTO_INTERNAL,
		    "%s cannot take that spec in place",
		    node_path(n, path, sizeof path));
	if (ident_check_update(n, spec, err) == -1)
		return -1;
	/* The children's specs moved into their nodes at link time. */
	n->spec = spec;
	spec_free(old);
	if (n->sup != NULL)
		sup_policy_changed(n);
	if (n->ops != NULL && n->ops->policy != NULL && n->work != NULL)
		n->ops->policy(n);
	if (restart && n->state != NODE_STOPPING && !node_waiting(n) &&
	    tree_restart(t, n, &ignored) == 0)
		*restarted = true;
	return 0;
}

int
tree_cancel(struct tree *t, struct node *n, const char *reason,
    struct proto_err *err)
{
	struct cause *c;

	if (node_terminated(n))
		return 0;
	c = reason != NULL ?
	    cause_new(CAUSE_CANCELLED, "cancelled: %s", reason) :
	    cause_new(CAUSE_CANCELLED, "cancelled");
	if (c == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	t->stats.cancels++;
	if (n == t->root) {
		/* The root stays; its children go, each told where from. */
		struct cause *cc = node_child_cause(n, c);

		for (uint32_t i = n->nchildren; i > 0; i--)
			if (!node_terminated(n->children[i - 1]))
				node_cancel(n->children[i - 1], cc);
		cause_unref(cc);
	} else {
		node_cancel(n, c);
	}
	cause_unref(c);
	return 0;
}

int
tree_restart(struct tree *t, struct node *n, struct proto_err *err)
{
	char path[PROTO_PATH_MAX];
	struct node *p = n->parent;

	if (n == t->root)
		return proto_errf(err, PROTO_CONFLICT,
		    "the root cannot be restarted; restart its children");
	if (t->shutting_down)
		return proto_errf(err, PROTO_CONFLICT,
		    "the daemon is shutting down");
	if (n->state == NODE_STOPPING)
		return proto_errf(err, PROTO_CONFLICT,
		    "%s is stopping; restart it once it has terminated",
		    node_path(n, path, sizeof path));
	if (p->state == NODE_QUEUED || p->state == NODE_HELD ||
	    p->state == NODE_BACKOFF)
		return proto_errf(err, PROTO_CONFLICT,
		    "parent %s has not started yet (%s); its children start "
		    "with it: restart the parent instead",
		    node_path(p, path, sizeof path),
		    node_state_names[p->state]);
	if (p->state != NODE_STARTING && p->state != NODE_RUNNING)
		return proto_errf(err, PROTO_CONFLICT,
		    "parent %s is %s; restart the parent instead",
		    node_path(p, path, sizeof path),
		    node_state_names[p->state]);
	/* A node waiting for its parent's ordered or group start is left
	 * to it: it starts in its turn, never twice. */
	node_restart(n);
	return 0;
}

static void
tree_unlink(struct tree *t, struct node *n)
{
	struct tree_event ev;

	for (uint32_t i = n->nchildren; i > 0; i--)
		tree_unlink(t, n->children[i - 1]);
	memset(&ev, 0, sizeof ev);
	ev.type = TREE_EV_REMOVED;
	ev.node = n;
	tree_emit(t, &ev);
	nodetab_del(&t->ids, n->id);
	nameidx_del(&t->names, n);
	t->stats.nodes--;
	t->stats.by_state[n->shown]--;
	t->stats.by_kind[n->spec->kind]--;
}

int
tree_remove(struct tree *t, struct node *n, struct proto_err *err)
{
	char path[PROTO_PATH_MAX];
	struct node *p = n->parent;
	uint32_t i;

	if (n == t->root)
		return proto_errf(err, PROTO_CONFLICT,
		    "the root cannot be removed");
	if (!node_terminated(n))
		return proto_errf(err, PROTO_CONFLICT,
		    "%s is %s; cancel it before removing it",
		    node_path(n, path, sizeof path),
		    node_state_names[n->state]);
	tree_unlink(t, n);
	for (i = 0; i < p->nchildren && p->children[i] != n; i++)
		;
	memmove(&p->children[i], &p->children[i + 1],
	    (p->nchildren - i - 1) * sizeof *p->children);
	p->nchildren--;
	if (p->sup->cursor > i)
		p->sup->cursor--;
	node_free(n);
	return 0;
}

void
tree_shutdown(struct tree *t)
{
	struct cause *c;

	if (t->shutting_down)
		return;
	t->shutting_down = true;
	if ((c = cause_new(CAUSE_SHUTDOWN, "daemon shutdown")) == NULL)
		fatalx("out of memory");
	for (uint32_t i = t->root->nchildren; i > 0; i--)
		node_cancel(t->root->children[i - 1], c);
	cause_unref(c);
}

bool
tree_idle(const struct tree *t)
{
	return t->root->nlive == 0;
}
