/*
 * --config FILE: loading and checking it whole, spawning it at start, and
 * reloads. A reload is planned against the tree without changing anything
 * (so a bad file or a conflict leaves the tree alone), then run: new nodes
 * are spawned, removed ones cancelled and, once terminated, removed;
 * changed ones cancelled, removed and spawned again from the new spec. The
 * config owns the reload under way, its ops, their specs and waiters.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cgroup.h"
#include "conf.h"
#include "daemon.h"
#include "exec.h"
#include "ident.h"
#include "index.h"
#include "log.h"
#include "notify.h"
#include "path.h"
#include "state.h"
#include "timer.h"
#include "tree.h"
#include "waiter.h"

#define CONF_REASON "config reload"

enum reload_op_kind {
	OP_SPAWN,   /* new in the file: spawn spec under parent */
	OP_REMOVE,  /* gone from the file: cancel, then remove */
	OP_REPLACE, /* another kind: cancel, remove, spawn spec again */
	OP_UPDATE,  /* changed: the new spec in place, same id and place;
	               restarted when its work changed */
	OP_RESTART, /* the same, and its work changed */
};

struct reload;

struct reload_op {
	uint8_t kind;           /* enum reload_op_kind */
	uint64_t id;            /* OP_REMOVE, OP_REPLACE, OP_UPDATE */
	char *parent;           /* owned: the parent's path */
	char *path;             /* owned: the node's path */
	struct node_spec *spec; /* owned; NULL for OP_REMOVE */
	struct waiter *waiter;  /* owned while waiting */
	struct reload *r;       /* borrowed */
};

struct reload {
	struct conf *c;        /* borrowed */
	struct reload_op *ops; /* owned */
	size_t nops, capops;
	size_t pending; /* ops waiting for a termination */
	size_t unchanged;
	json_t *spawned, *cancelled, *restarted, *updated, *failed; /* owned */
	conf_done_fn *done; /* NULL: nobody waits for it */
	void *arg;          /* borrowed */
	bool apply;         /* `apply`: client nodes, not the config's */
	bool prune;         /* apply: remove what the specs no longer have */
};

struct conf {
	struct daemon *d;        /* borrowed */
	const char *path;        /* borrowed from argv; NULL: none */
	struct reload *reload;   /* owned: the reload under way */
	struct event *finish_ev; /* owned: ends the reload */
};

struct conf *
conf_new(struct daemon *d, const char *path)
{
	struct conf *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->d = d;
	c->path = path;
	return c;
}

static void
reload_free(struct reload *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nops; i++) {
		waiter_free(r->ops[i].waiter);
		spec_free(r->ops[i].spec);
		free(r->ops[i].parent);
		free(r->ops[i].path);
	}
	free(r->ops);
	json_decref(r->spawned);
	json_decref(r->cancelled);
	json_decref(r->restarted);
	json_decref(r->updated);
	json_decref(r->failed);
	free(r);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	reload_free(c->reload);
	timer_clear(&c->finish_ev);
	free(c);
}

void
conf_specs_free(struct node_spec **specs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		spec_free(specs[i]);
	free(specs);
}

static size_t
conf_count(const struct node_spec *s)
{
	size_t n = 1;

	if (s->kind == KIND_SUPERVISOR)
		for (size_t i = 0; i < s->u.sup.nchildren; i++)
			n += conf_count(s->u.sup.children[i]);
	return n;
}

/* The file as an array of top-level specs (one object is an array of
 * one); NULL with err set. */
static json_t *
conf_read(const char *path, struct proto_err *err)
{
	json_error_t jerr;
	json_t *root, *arr;

	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		if (jerr.line > 0)
			proto_errf(err, PROTO_PARSE_ERROR, "%s:%d:%d: %s", path,
			    jerr.line, jerr.column, jerr.text);
		else
			proto_errf(err, PROTO_PARSE_ERROR, "%s", jerr.text);
		return NULL;
	}
	if (json_is_array(root))
		return root;
	if (!json_is_object(root)) {
		json_decref(root);
		proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s: expected a node spec or an array of them", path);
		return NULL;
	}
	arr = json_array();
	json_array_append_new(arr, root);
	return arr;
}

/* Entry i of the file, parsed into out[i] and checked against the ones
 * before it; *total counts the nodes so far. */
static int
conf_entry(const char *path, json_t *arr, size_t i, size_t max_nodes,
    struct node_spec **out, size_t *total, struct proto_err *err)
{
	struct spec_limits lim = { .max_nodes = max_nodes,
		.max_depth = PROTO_DEPTH_MAX };
	const char *parent = "/";
	size_t count;

	if (spec_parse(json_array_get(arr, i), &lim, &parent, &out[i], &count,
	        err) == -1 ||
	    cgroup_check_spec(out[i], err) == -1) {
		proto_err_prefix(err, "%s: [%zu]", path, i);
		return -1;
	}
	if (strcmp(parent, "/") != 0)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "%s: [%zu] (\"%s\"): parent must be \"/\" or left out; "
		    "deeper nodes go in a supervisor's children",
		    path, i, out[i]->name);
	for (size_t j = 0; j < i; j++)
		if (strcmp(out[j]->name, out[i]->name) == 0)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "%s: [%zu] and [%zu] are both named \"%s\"", path,
			    j, i, out[i]->name);
	if ((*total += count) > max_nodes)
		return proto_errf(err, PROTO_LIMIT,
		    "%s holds more than %zu nodes (--max-nodes)", path,
		    max_nodes);
	return 0;
}

int
conf_load(const char *path, size_t max_nodes, struct node_spec ***specs,
    size_t *n, struct proto_err *err)
{
	struct node_spec **out = NULL;
	size_t i, total = 0, len;
	json_t *arr;

	*specs = NULL;
	*n = 0;
	if ((arr = conf_read(path, err)) == NULL)
		return -1;
	len = json_array_size(arr);
	if (len > 0 && (out = calloc(len, sizeof *out)) == NULL) {
		json_decref(arr);
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	for (i = 0; i < len; i++)
		if (conf_entry(path, arr, i, max_nodes, out, &total, err) ==
		    -1) {
			/* out[i] may be parsed (a later check failed). */
			conf_specs_free(out, i + 1);
			json_decref(arr);
			return -1;
		}
	json_decref(arr);
	*specs = out;
	*n = len;
	return 0;
}

static void
conf_mark(struct node *n)
{
	n->from_config = true;
	for (uint32_t i = 0; i < n->nchildren; i++)
		conf_mark(n->children[i]);
}

/* Spawns spec (stolen) under parent as config nodes. */
static int
conf_spawn(struct conf *c, const char *parent, struct node_spec *spec,
    struct proto_err *err)
{
	struct node *n;

	if (tree_spawn(c->d->tree, parent, spec, conf_count(spec), &n, err) ==
	    -1) {
		spec_free(spec);
		return -1;
	}
	conf_mark(n);
	return 0;
}

int
conf_start(struct conf *c, struct proto_err *err)
{
	struct node_spec **specs = NULL;
	size_t n = 0, i;

	if (c->path != NULL &&
	    conf_load(c->path, c->d->tree->lim.max_nodes, &specs, &n, err) ==
	        -1)
		return -1;
	if (state_load(c->d->state, err) == -1) {
		conf_specs_free(specs, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (conf_spawn(c, "/", specs[i], err) == -1) {
			proto_err_prefix(err, "%s: [%zu]", c->path, i);
			specs[i] = NULL;
			conf_specs_free(specs, n);
			return -1;
		}
		specs[i] = NULL;
	}
	conf_specs_free(specs, n);
	if (c->path != NULL)
		log_info("%s: %zu top-level nodes spawned", c->path, n);
	state_restore(c->d->state);
	return 0;
}

bool
conf_settled(const struct conf *c)
{
	const struct node *root;

	if (c == NULL || c->path == NULL)
		return true;
	root = c->d->tree->root;
	for (uint32_t i = 0; i < root->nchildren; i++) {
		const struct node *n = root->children[i];

		if (n->from_config && n->state != NODE_RUNNING &&
		    !node_terminated(n))
			return false;
	}
	return true;
}

/* --- planning ------------------------------------------------------- */

/* The spec an op keeps: whole for a spawn, without children for an
 * update in place (the node keeps its own; the plan recurses into them). */
static struct node_spec *
reload_spec_copy(enum reload_op_kind kind, const struct node_spec *spec)
{
	struct node_spec *copy = spec_dup(spec);

	if (copy != NULL && (kind == OP_UPDATE || kind == OP_RESTART) &&
	    copy->kind == KIND_SUPERVISOR) {
		for (size_t i = 0; i < copy->u.sup.nchildren; i++)
			spec_free(copy->u.sup.children[i]);
		free(copy->u.sup.children);
		copy->u.sup.children = NULL;
		copy->u.sup.nchildren = 0;
	}
	return copy;
}

static int
reload_add(struct reload *r, enum reload_op_kind kind, struct node *n,
    const char *parent, const struct node_spec *spec, struct proto_err *err)
{
	char buf[PROTO_PATH_MAX];
	struct reload_op *op;

	if (r->nops == r->capops) {
		size_t cap = r->capops ? r->capops * 2 : 8;
		struct reload_op *ops = realloc(r->ops, cap * sizeof *ops);

		if (ops == NULL)
			return proto_errf(err, PROTO_INTERNAL, "out of memory");
		r->ops = ops;
		r->capops = cap;
	}
	op = &r->ops[r->nops];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	op->r = r;
	if (n != NULL) {
		op->id = n->id;
		op->path = strdup(node_path(n, buf, sizeof buf));
	} else {
		snprintf(buf, sizeof buf, "%s%s%s", parent,
		    strcmp(parent, "/") == 0 ? "" : "/", spec->name);
		op->path = strdup(buf);
	}
	op->parent = strdup(parent);
	if (spec != NULL && (op->spec = reload_spec_copy(kind, spec)) == NULL) {
		free(op->path);
		free(op->parent);
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	if (op->path == NULL || op->parent == NULL) {
		spec_free(op->spec);
		free(op->path);
		free(op->parent);
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	}
	r->nops++;
	return 0;
}

/* A reload manages the config's nodes; an apply the clients' ones. */
static bool
reload_owns(const struct reload *r, const struct node *n)
{
	return r->apply ? !n->from_config : n->from_config;
}

static int reload_plan(struct reload *r, struct node *p,
    struct node_spec *const *specs, size_t n, struct proto_err *err);

/* Compares spec s with p's child of its name (ppath: p's path). */
static int
reload_plan_one(struct reload *r, struct node *p, const char *ppath,
    const struct node_spec *s, struct proto_err *err)
{
	struct tree *t = r->c->d->tree;
	char cpath[PROTO_PATH_MAX];
	struct node *c = nameidx_get(&t->names, p, s->name, strlen(s->name));

	if (c == NULL)
		return reload_add(r, OP_SPAWN, NULL, ppath, s, err);
	if (!reload_owns(r, c) && r->apply)
		return proto_errf(err, PROTO_CONFLICT,
		    "%s was spawned from --config %s; change it there "
		    "(and reload)",
		    node_path(c, cpath, sizeof cpath),
		    r->c->path != NULL ? r->c->path : "");
	if (!reload_owns(r, c))
		return proto_errf(err, PROTO_EXISTS,
		    "%s exists and "
		    "was spawned by a client, not by %s; remove it "
		    "or rename it in the file",
		    node_path(c, cpath, sizeof cpath), r->c->path);
	if (c->spec->kind != s->kind)
		return reload_add(r, OP_REPLACE, c, ppath, s, err);
	if (spec_equal_shallow(c->spec, s))
		r->unchanged++;
	else if (reload_add(r,
	             spec_same_work(c->spec, s) ? OP_UPDATE : OP_RESTART, c,
	             ppath, s, err) == -1)
		return -1;
	/* A stopped supervisor takes no new children; it stays as it is
	 * until restarted. */
	if (s->kind == KIND_SUPERVISOR && c->state != NODE_STOPPING &&
	    !node_terminated(c) &&
	    reload_plan(r, c, s->u.sup.children, s->u.sup.nchildren, err) == -1)
		return -1;
	return 0;
}

/* Compares supervisor p's children with specs, one level, recursing into
 * unchanged supervisors. */
static int
reload_plan(struct reload *r, struct node *p, struct node_spec *const *specs,
    size_t n, struct proto_err *err)
{
	char ppath[PROTO_PATH_MAX];
	size_t i;

	node_path(p, ppath, sizeof ppath);
	for (i = 0; i < n; i++)
		if (reload_plan_one(r, p, ppath, specs[i], err) == -1)
			return -1;
	/* An apply leaves what the specs do not name, unless pruning;
	 * instances past the count always go (the count scales them). */
	if (r->apply && !r->prune && p->spec->inst == NULL)
		return 0;
	for (uint32_t k = 0; k < p->nchildren; k++) {
		struct node *c = p->children[k];

		if (!reload_owns(r, c))
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(specs[i]->name, c->spec->name) == 0)
				break;
		if (i == n &&
		    reload_add(r, OP_REMOVE, c, ppath, NULL, err) == -1)
			return -1;
	}
	return 0;
}

/* --- running -------------------------------------------------------- */

static void
reload_failed(struct reload *r, const char *path, const struct proto_err *e)
{
	log_warnx("reload: %s: %s", path, e->message);
	json_array_append_new(r->failed,
	    json_pack("{s:s,s:s}", "path", path, "message", e->message));
}

static void
reload_spawn(struct reload *r, struct reload_op *op, json_t *list)
{
	struct proto_err err;
	struct node_spec *spec = op->spec;
	struct node *n;
	int rc;

	op->spec = NULL;
	if (r->apply) {
		rc = tree_spawn(r->c->d->tree, op->parent, spec,
		    conf_count(spec), &n, &err);
		if (rc == -1)
			spec_free(spec);
	} else
		rc = conf_spawn(r->c, op->parent, spec, &err);
	if (rc == -1)
		reload_failed(r, op->path, &err);
	else
		json_array_append_new(list, json_string(op->path));
}

/* A changed node takes its new spec where it is; it is restarted only
 * when its work changed, and listed as restarted or updated. */
static void
reload_update(struct reload *r, struct reload_op *op)
{
	struct node *n = tree_get(r->c->d->tree, op->id);
	struct proto_err err;
	bool restarted;

	if (n == NULL)
		return;
	if (tree_update(r->c->d->tree, n, op->spec, op->kind == OP_RESTART,
	        &restarted, &err) == -1) {
		reload_failed(r, op->path, &err);
		return;
	}
	op->spec = NULL; /* the node's now */
	state_node_updated(r->c->d->state, n);
	/* Limits are policy: its cgroup takes them now. */
	cgroup_node_apply(n);
	json_array_append_new(restarted ? r->restarted : r->updated,
	    json_string(op->path));
}

static void
reload_wait_cb(struct waiter *w, enum waiter_status st, void *arg)
{
	struct reload_op *op = arg;
	struct reload *r = op->r;
	struct tree *t = r->c->d->tree;
	struct proto_err err;
	struct node *n;

	waiter_free(op->waiter);
	op->waiter = NULL;
	if (st != WAITER_REMOVED && (n = tree_get(t, op->id)) != NULL &&
	    tree_remove(t, n, &err) == -1) {
		reload_failed(r, op->path, &err);
	} else if (op->kind == OP_REMOVE) {
		json_array_append_new(r->cancelled, json_string(op->path));
	} else {
		reload_spawn(r, op, r->restarted);
	}
	if (--r->pending == 0)
		event_active(r->c->finish_ev, 0, 0);
}

static void
conf_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conf *c = arg;
	struct reload *r = c->reload;
	json_t *result;

	if (r == NULL || r->pending > 0)
		return;
	c->reload = NULL;
	log_info("%s%s: %zu spawned, %zu cancelled, %zu restarted, "
	         "%zu updated in place, %zu unchanged, %zu failed",
	    r->apply ? "apply" : "reload of ", r->apply ? "" : c->path,
	    json_array_size(r->spawned), json_array_size(r->cancelled),
	    json_array_size(r->restarted), json_array_size(r->updated),
	    r->unchanged, json_array_size(r->failed));
	if (r->apply) {
		json_array_extend(r->updated, r->restarted);
		result = json_pack("{s:O,s:O,s:O,s:I,s:O}", "spawned",
		    r->spawned, "updated", r->updated, "removed", r->cancelled,
		    "unchanged", (json_int_t)r->unchanged, "failed", r->failed);
	} else {
		result = json_pack("{s:O,s:O,s:O,s:O,s:I,s:O}", "spawned",
		    r->spawned, "cancelled", r->cancelled, "restarted",
		    r->restarted, "updated", r->updated, "unchanged",
		    (json_int_t)r->unchanged, "failed", r->failed);
		notify_reloaded(c->d->notify);
	}
	if (r->done != NULL)
		r->done(r->arg, result, NULL);
	else
		json_decref(result);
	reload_free(r);
}

static struct reload *
reload_new(struct conf *c, struct proto_err *err)
{
	struct reload *r;

	if (c->d->stopping) {
		proto_errf(err, PROTO_CONFLICT, "the daemon is shutting down");
		return NULL;
	}
	if (c->reload != NULL) {
		proto_errf(err, PROTO_CONFLICT,
		    "%s is still under way (waiting for changed nodes to stop)",
		    c->reload->apply ? "an apply" : "a reload");
		return NULL;
	}
	if (c->finish_ev == NULL &&
	    (c->finish_ev = event_new(c->d->base, -1, 0, conf_finish_cb, c)) ==
	        NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return NULL;
	}
	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (r->spawned = json_array()) == NULL ||
	    (r->cancelled = json_array()) == NULL ||
	    (r->restarted = json_array()) == NULL ||
	    (r->updated = json_array()) == NULL ||
	    (r->failed = json_array()) == NULL) {
		reload_free(r);
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return NULL;
	}
	r->c = c;
	return r;
}

/* Runs the plan of r, which the config owns from here. */
static void
reload_run(struct conf *c, struct reload *r)
{
	struct tree *t = c->d->tree;
	struct proto_err err;

	c->reload = r;
	/* Updates in place, then stops, so a replaced node's name is free
	 * when its new spec is spawned; waiters fire from the loop, never
	 * from here. */
	for (size_t i = 0; i < r->nops; i++)
		if (r->ops[i].kind == OP_UPDATE || r->ops[i].kind == OP_RESTART)
			reload_update(r, &r->ops[i]);
	for (size_t i = 0; i < r->nops; i++) {
		struct reload_op *op = &r->ops[i];
		struct node *node;

		if ((op->kind != OP_REMOVE && op->kind != OP_REPLACE) ||
		    (node = tree_get(t, op->id)) == NULL)
			continue;
		if (tree_cancel(t, node, CONF_REASON, &err) == -1 ||
		    (op->waiter = waiter_add(&c->d->waiters, node,
		         WAITER_TERMINATED, -1, reload_wait_cb, op)) == NULL) {
			proto_errf(&err, PROTO_INTERNAL, "out of memory");
			reload_failed(r, op->path, &err);
			continue;
		}
		r->pending++;
	}
	for (size_t i = 0; i < r->nops; i++)
		if (r->ops[i].kind == OP_SPAWN)
			reload_spawn(r, &r->ops[i], r->spawned);
	if (r->pending == 0)
		event_active(c->finish_ev, 0, 0);
}

int
conf_reload(struct conf *c, conf_done_fn *done, void *arg,
    struct proto_err *err)
{
	struct tree *t = c->d->tree;
	struct node_spec **specs;
	struct reload *r;
	size_t n;

	if (c->path == NULL)
		return proto_errf(err, PROTO_CONFLICT,
		    "arbord was started "
		    "without --config; there is no file to reload");
	if ((r = reload_new(c, err)) == NULL)
		return -1;
	if (conf_load(c->path, t->lim.max_nodes, &specs, &n, err) == -1) {
		reload_free(r);
		return -1;
	}
	/* Users, groups and limits as well, before anything changes: every
	 * config node's identity comes from the file alone. */
	for (size_t i = 0; i < n; i++)
		if (ident_check_spawn(t->root, specs[i], err) == -1) {
			proto_err_prefix(err, "%s: [%zu]", c->path, i);
			reload_free(r);
			conf_specs_free(specs, n);
			return -1;
		}
	if (reload_plan(r, t->root, specs, n, err) == -1) {
		reload_free(r);
		conf_specs_free(specs, n);
		return -1;
	}
	conf_specs_free(specs, n);
	r->done = done;
	r->arg = arg;
	notify_reloading(c->d->notify);
	reload_run(c, r);
	return 0;
}

/* The users, groups and limits of what op creates or changes, so that a
 * bad one changes nothing. */
static int
apply_check_ident(struct tree *t, const struct reload_op *op,
    struct proto_err *err)
{
	struct node *n;
	int rc = 0;

	if (op->kind == OP_UPDATE && (n = tree_get(t, op->id)) != NULL)
		rc = ident_check_update(n, op->spec, err);
	else if ((op->kind == OP_SPAWN || op->kind == OP_REPLACE) &&
	    (n = tree_lookup(t, op->parent, NULL)) != NULL)
		rc = ident_check_spawn(n, op->spec, err);
	if (rc == -1)
		proto_err_prefix(err, "%s", op->path);
	return rc;
}

/* Every exec spec a plan would start (children of new subtrees included)
 * can be executed, so that a typo changes nothing. */
static int
apply_check_exec(const struct node_spec *s, const char *path,
    struct proto_err *err)
{
	char sub[PROTO_PATH_MAX];

	if (s->kind == KIND_EXEC && exec_check_spec(s, err) == -1) {
		proto_err_prefix(err, "%s", path);
		return -1;
	}
	if (s->kind == KIND_SUPERVISOR)
		for (size_t i = 0; i < s->u.sup.nchildren; i++) {
			snprintf(sub, sizeof sub, "%s/%s", path,
			    s->u.sup.children[i]->name);
			if (apply_check_exec(s->u.sup.children[i], sub, err) ==
			    -1)
				return -1;
		}
	return 0;
}

/* The plan as the answer lists it. */
static json_t *
apply_plan_json(const struct reload *r)
{
	json_t *res = json_pack("{s:[],s:[],s:[],s:I,s:[]}", "spawned",
	    "updated", "removed", "unchanged", (json_int_t)r->unchanged,
	    "failed");
	static const char *const keys[] = {
		[OP_SPAWN] = "spawned",
		[OP_REMOVE] = "removed",
		[OP_REPLACE] = "updated",
		[OP_UPDATE] = "updated",
		[OP_RESTART] = "updated",
	};

	for (size_t i = 0; res != NULL && i < r->nops; i++)
		json_array_append_new(json_object_get(res,
		                          keys[r->ops[i].kind]),
		    json_string(r->ops[i].path));
	return res;
}

int
conf_apply(struct conf *c, const struct conf_apply *a, conf_done_fn *done,
    void *arg, json_t **plan, struct proto_err *err)
{
	struct tree *t = c->d->tree;
	char ppath[PROTO_PATH_MAX];
	struct reload *r;
	struct node *p;
	size_t i, grow = 0;

	*plan = NULL;
	if ((r = reload_new(c, err)) == NULL)
		return -1;
	r->apply = true;
	r->prune = a->prune;
	for (i = 0; i < a->n; i++) {
		if ((p = tree_lookup(t, a->parents[i], err)) == NULL) {
			if (err->code == PROTO_NOT_FOUND)
				proto_errf(err, PROTO_NOT_FOUND,
				    "specs[%zu]: parent %s does not exist", i,
				    a->parents[i]);
			goto fail;
		}
		node_path(p, ppath, sizeof ppath);
		if (!node_is_sup(p) || p->state == NODE_STOPPING ||
		    node_terminated(p) || p->state == NODE_ENDED) {
			proto_errf(err, PROTO_CONFLICT,
			    "specs[%zu]: parent %s is %s %s; only a running "
			    "supervisor takes new children",
			    i, ppath, node_is_sup(p) ? "a supervisor" : "a",
			    node_is_sup(p) ? node_state_names[p->state] :
			                     spec_kind_names[p->spec->kind]);
			goto fail;
		}
		if (reload_plan_one(r, p, ppath, a->specs[i], err) == -1)
			goto fail;
	}
	for (i = 0; i < r->nops; i++) {
		const struct reload_op *op = &r->ops[i];

		if (op->spec != NULL &&
		    (apply_check_exec(op->spec, op->path, err) == -1 ||
		        apply_check_ident(t, op, err) == -1))
			goto fail;
		if (op->kind == OP_SPAWN || op->kind == OP_REPLACE)
			grow += conf_count(op->spec);
	}
	/* Removed nodes go only once stopped: count them still there. */
	if (grow > t->lim.max_nodes ||
	    t->stats.nodes > t->lim.max_nodes - grow) {
		proto_errf(err, PROTO_LIMIT,
		    "%zu more nodes would pass the limit of %zu (--max-nodes);"
		    " %zu exist",
		    grow, t->lim.max_nodes, t->stats.nodes);
		goto fail;
	}
	if (a->dry_run) {
		*plan = apply_plan_json(r);
		reload_free(r);
		if (*plan == NULL)
			return proto_errf(err, PROTO_INTERNAL, "out of memory");
		return 0;
	}
	r->done = done;
	r->arg = arg;
	reload_run(c, r);
	return 0;
fail:
	reload_free(r);
	return -1;
}

bool
conf_reloading(const struct conf *c)
{
	return c != NULL && c->reload != NULL;
}

void
conf_reload_detach(struct conf *c, void *arg)
{
	if (c != NULL && c->reload != NULL && c->reload->arg == arg)
		c->reload->done = NULL;
}
