/*
 * The state's files (state-int.h says the format): reading the snapshot
 * and replaying the journal at start, bringing the saved nodes back,
 * writing a snapshot and appending to the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cause.h"
#include "daemon.h"
#include "log.h"
#include "path.h"
#include "state-int.h"
#include "tree.h"

/* --- entries ---------------------------------------------------------- */

const struct node *
state_entry_of(const struct node *n)
{
	const struct node *e = n;

	while (e->parent != NULL && e->parent->parent != NULL &&
	    !e->parent->from_config)
		e = e->parent;
	return e;
}

static json_t *state_node_json(const struct node *n, bool all);

/* A node a client stopped inside a live entry: whole, marked "stopped"
 * with its cause. */
static json_t *
state_stopped_json(const struct node *n)
{
	const char *why = cause_text(n->cause);
	json_t *obj = state_node_json(n, true);

	if (obj != NULL &&
	    json_object_set_new(obj, "stopped",
	        json_string(why != NULL ? why : "cancelled")) == -1) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* n's spec with its children: the live ones and those a client stopped
 * (marked), or, for a stopped node (all) every one, to come back stopped
 * with it. */
static json_t *
state_node_json(const struct node *n, bool all)
{
	json_t *obj = spec_to_json(n->spec), *kids;

	/* Instances come back from `instances`, not as children. */
	if (obj == NULL || !node_is_sup(n) || n->spec->inst != NULL)
		return obj;
	if ((kids = json_array()) == NULL) {
		json_decref(obj);
		return NULL;
	}
	for (uint32_t i = 0; i < n->nchildren; i++) {
		const struct node *c = n->children[i];
		json_t *k;

		/* Kept stopped also inside a stopped node: a restart of
		 * that node leaves them exited. */
		if (state_client_stopped(c))
			k = state_stopped_json(c);
		else if (!all && node_terminated(c))
			continue;
		else
			k = state_node_json(c, all);
		if (k == NULL || json_array_append_new(kids, k) == -1) {
			json_decref(kids);
			json_decref(obj);
			return NULL;
		}
	}
	json_object_set_new(obj, "children", kids);
	return obj;
}

json_t *
state_entry_json(const struct node *n, bool *oom)
{
	char path[PROTO_PATH_MAX];
	bool stopped = state_stopped(n);
	const char *why = cause_text(n->cause);
	json_t *obj;

	*oom = false;
	/* Saved: permanent nodes a client spawned, under the root or under
	 * a node of the config. */
	if (n->parent == NULL || n->from_config ||
	    n->spec->restart != RESTART_PERMANENT || state_entry_of(n) != n)
		return NULL;
	if ((obj = state_node_json(n, stopped)) == NULL ||
	    json_object_set_new(obj, "parent",
	        json_string(node_path(n->parent, path, sizeof path))) == -1 ||
	    (stopped &&
	        json_object_set_new(obj, "stopped",
	            json_string(why != NULL ? why : "cancelled")) == -1)) {
		json_decref(obj);
		*oom = true;
		return NULL;
	}
	return obj;
}

static int
state_collect(const struct node *p, json_t *out)
{
	for (uint32_t i = 0; i < p->nchildren; i++) {
		const struct node *c = p->children[i];
		json_t *obj;
		bool oom;

		if (c->from_config) {
			if (node_is_sup(c) && state_collect(c, out) == -1)
				return -1;
			continue;
		}
		if ((obj = state_entry_json(c, &oom)) == NULL) {
			if (oom)
				return -1;
			continue;
		}
		if (json_array_append_new(out, obj) == -1)
			return -1;
	}
	return 0;
}

/* --- reading ------------------------------------------------------------ */

/* An entry's key: the path it is saved at. */
static int
state_entry_key(const json_t *entry, char *buf, size_t size)
{
	const char *parent = json_string_value(
	    json_object_get(entry, "parent"));
	const char *name = json_string_value(json_object_get(entry, "name"));

	if (parent == NULL || name == NULL)
		return -1;
	snprintf(buf, size, "%s%s%s", parent,
	    strcmp(parent, "/") == 0 ? "" : "/", name);
	return 0;
}

/* A child below obj carries "stopped". */
static bool
state_has_marks(const json_t *obj)
{
	const json_t *kids = json_object_get(obj, "children"), *c;
	size_t i;

	json_array_foreach(kids, i, c) {
		if (json_object_get(c, "stopped") != NULL || state_has_marks(c))
			return true;
	}
	return false;
}

/* Takes the "stopped" members off the children below obj (the caller's
 * copy), appending [path below the entry, cause] to marks, parents
 * first. -1 when one is not a string, -2 when out of memory. */
static int
state_marks_take(json_t *obj, const char *prefix, json_t *marks)
{
	json_t *kids = json_object_get(obj, "children"), *c, *st;
	char path[PROTO_PATH_MAX];
	const char *name;
	size_t i;
	int rc;

	json_array_foreach(kids, i, c) {
		/* Without a name it is no spec: spec_parse says so. */
		if ((name = json_string_value(json_object_get(c, "name"))) ==
		    NULL)
			continue;
		snprintf(path, sizeof path, "%s/%s", prefix, name);
		if ((st = json_object_get(c, "stopped")) != NULL) {
			if (!json_is_string(st))
				return -1;
			if (json_array_append_new(marks,
			        json_pack("[s,s]", path,
			            json_string_value(st))) == -1)
				return -2;
			json_object_del(c, "stopped");
		}
		if ((rc = state_marks_take(c, path, marks)) != 0)
			return rc;
	}
	return 0;
}

/* A saved entry is a node spec, and for a node that was stopped,
 * "stopped": the cause it had; inside a live one, the nodes a client
 * stopped carry theirs. *spec is a new reference to the entry without
 * those members (so it parses as a spec), *why the top's text (borrowed
 * from obj), NULL for a live node, and *marks, when marks is not NULL, a
 * new array of [path below the entry, cause] of the nodes inside it that
 * were stopped, parents first. -1 when a "stopped" is not a string, -2
 * when out of memory. */
static int
state_entry_split(json_t *obj, json_t **spec, const char **why, json_t **marks)
{
	json_t *st = json_object_get(obj, "stopped"), *m = NULL;
	int rc;

	*why = NULL;
	*spec = NULL;
	if (marks != NULL)
		*marks = NULL;
	if (st != NULL && !json_is_string(st))
		return -1;
	if (st == NULL && !state_has_marks(obj)) {
		*spec = json_incref(obj);
		return 0;
	}
	/* Deep: the marks below are taken off too. */
	if ((*spec = json_deep_copy(obj)) == NULL ||
	    (m = json_array()) == NULL) {
		json_decref(*spec);
		*spec = NULL;
		return -2;
	}
	json_object_del(*spec, "stopped");
	if ((rc = state_marks_take(*spec, "", m)) != 0) {
		json_decref(m);
		json_decref(*spec);
		*spec = NULL;
		return rc;
	}
	*why = st != NULL ? json_string_value(st) : NULL;
	if (marks != NULL)
		*marks = m;
	else
		json_decref(m);
	return 0;
}

/* The snapshot's entries into byname (path -> entry, in file order). */
static int
state_read_snapshot(struct state *s, json_t *byname, struct proto_err *err)
{
	char key[PROTO_PATH_MAX];
	json_error_t jerr;
	json_t *doc, *nodes, *one;
	json_int_t version;
	size_t i;

	if ((doc = json_load_file(s->path, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		if (jerr.line > 0)
			return proto_errf(err, PROTO_PARSE_ERROR,
			    "state file %s:%d:%d: %s; fix or remove it",
			    s->path, jerr.line, jerr.column, jerr.text);
		return proto_errf(err, PROTO_PARSE_ERROR, "state file: %s",
		    jerr.text);
	}
	version = json_integer_value(json_object_get(doc, "version"));
	if (!json_is_object(doc) || version < 1 || version > STATE_VERSION ||
	    !json_is_array(nodes = json_object_get(doc, "nodes")) ||
	    json_object_size(doc) != (version >= 3 ? 3 : 2) ||
	    (version >= 3 && !json_is_integer(json_object_get(doc, "epoch")))) {
		json_decref(doc);
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "state file %s is not {\"version\": %d, \"epoch\": N, "
		    "\"nodes\": [...]}; fix or remove it",
		    s->path, STATE_VERSION);
	}
	s->epoch = (uint64_t)json_integer_value(json_object_get(doc, "epoch"));
	json_array_foreach(nodes, i, one) {
		if (state_entry_key(one, key, sizeof key) == -1) {
			json_decref(doc);
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "state file %s: nodes[%zu] has no \"parent\" or "
			    "\"name\"",
			    s->path, i);
		}
		json_object_set(byname, key, one);
	}
	json_decref(doc);
	return 0;
}

/* One journal line onto byname; -1 when it is not a journal record. */
static int
state_replay_line(json_t *byname, const json_t *rec)
{
	char key[PROTO_PATH_MAX];
	const json_t *put = json_object_get(rec, "put");
	const json_t *del = json_object_get(rec, "del");

	if (json_object_size(rec) != 1)
		return -1;
	if (json_is_string(del)) {
		json_object_del(byname, json_string_value(del));
		return 0;
	}
	if (!json_is_object(put) || state_entry_key(put, key, sizeof key) == -1)
		return -1;
	return json_object_set(byname, key, (json_t *)put);
}

/* The journal's records onto byname, when it belongs to the snapshot. A
 * last line cut short (a crash mid-append) is dropped; any other bad line
 * refuses the state. */
static int
state_replay(struct state *s, json_t *byname, struct proto_err *err)
{
	FILE *f = fopen(s->logpath, "re");
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	json_t *rec;
	int rc = 0;

	if (f == NULL)
		return 0;
	while (rc == 0 && (len = getline(&line, &cap, f)) != -1) {
		bool whole = len > 0 && line[len - 1] == '\n';

		n++;
		rec = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES,
		    NULL);
		if (n == 1) {
			/* Another epoch: older than the snapshot. */
			if (rec == NULL ||
			    (uint64_t)json_integer_value(
			        json_object_get(rec, "epoch")) != s->epoch) {
				json_decref(rec);
				break;
			}
		} else if (rec == NULL && !whole) {
			log_warnx("state: %s: the last line was cut short "
			          "(a crash while it was written); dropped",
			    s->logpath);
		} else if (rec == NULL ||
		    state_replay_line(byname, rec) == -1) {
			rc = proto_errf(err, PROTO_INVALID_PARAMS,
			    "state journal %s:%zu is not a journal record; fix "
			    "or remove it",
			    s->logpath, n);
		}
		json_decref(rec);
	}
	free(line);
	fclose(f);
	return rc;
}

/* Every entry must be a valid spec under a valid parent. */
static int
state_check(struct state *s, json_t *nodes, struct proto_err *err)
{
	struct spec_limits lim = { .max_depth = PROTO_DEPTH_MAX,
		.max_nodes = s->d->tree->lim.max_nodes };
	struct node_spec *spec;
	const char *parent, *why;
	json_t *one, *entry;
	size_t i;
	int rc;

	json_array_foreach(nodes, i, one) {
		parent = NULL;
		if ((rc = state_entry_split(one, &entry, &why, NULL)) == -2)
			return proto_errf(err, PROTO_INTERNAL,
			    "out of memory reading %s", s->path);
		if (rc == -1)
			return proto_errf(err, PROTO_INVALID_PARAMS,
			    "state file %s: nodes[%zu]: \"stopped\" must be a "
			    "string",
			    s->path, i);
		rc = spec_parse(entry, &lim, &parent, &spec, NULL, err);
		if (rc == 0)
			spec_free(spec);
		if (rc == 0 &&
		    (parent == NULL ||
		        proto_path_check(parent, "parent", err) == -1))
			rc = proto_errf(err, PROTO_INVALID_PARAMS,
			    "nodes[%zu] has no valid \"parent\"", i);
		json_decref(entry);
		if (rc == -1) {
			proto_err_prefix(err, "state file %s: nodes[%zu]",
			    s->path, i);
			return -1;
		}
	}
	return 0;
}

int
state_load(struct state *s, struct proto_err *err)
{
	json_t *byname, *nodes, *v;
	const char *key;

	if (s == NULL)
		return 0;
	/* A .new left by a crash mid-write was never the state. */
	unlink(s->tmp);
	if (access(s->path, F_OK) == -1 && errno == ENOENT) {
		log_info("%s does not exist yet; starting with no saved nodes",
		    s->path);
		return 0;
	}
	if ((byname = json_object()) == NULL || (nodes = json_array()) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	if (state_read_snapshot(s, byname, err) == -1 ||
	    state_replay(s, byname, err) == -1) {
		json_decref(byname);
		json_decref(nodes);
		return -1;
	}
	json_object_foreach(byname, key, v)
		json_array_append(nodes, v);
	json_decref(byname);
	if (state_check(s, nodes, err) == -1) {
		json_decref(nodes);
		return -1;
	}
	s->loaded = nodes;
	return 0;
}

/* Brings back one entry: a stopped one exited whole, a live one started
 * but for the nodes inside it a client stopped (marks). */
static int
state_restore_one(struct state *s, const char *parent, struct node_spec *spec,
    size_t count, const char *why, const json_t *marks, struct proto_err *err)
{
	struct tree_stopped *stopped = NULL;
	size_t i, nmarks = json_array_size(marks);
	const json_t *m;
	struct node *n;
	int rc;

	if (nmarks > 0 && (stopped = calloc(nmarks, sizeof *stopped)) == NULL)
		return proto_errf(err, PROTO_INTERNAL, "out of memory");
	json_array_foreach(marks, i, m) {
		stopped[i].path = json_string_value(json_array_get(m, 0));
		stopped[i].why = json_string_value(json_array_get(m, 1));
	}
	/* A node a client stopped comes back stopped: exited, until a
	 * client restarts it. */
	rc = why != NULL ? tree_add_stopped(s->d->tree, parent, spec, count,
	                       why, stopped, nmarks, &n, err) :
	                   tree_spawn_restored(s->d->tree, parent, spec, count,
	                       stopped, nmarks, &n, err);
	free(stopped);
	return rc;
}

void
state_restore(struct state *s)
{
	struct spec_limits lim = { .max_depth = PROTO_DEPTH_MAX };
	struct proto_err err;
	struct node_spec *spec;
	const char *parent, *why;
	size_t i, count, ok = 0;
	json_t *one, *entry, *marks;
	int rc;

	if (s == NULL || s->loaded == NULL)
		return;
	lim.max_nodes = s->d->tree->lim.max_nodes;
	json_array_foreach(s->loaded, i, one) {
		parent = "/";
		if ((rc = state_entry_split(one, &entry, &why, &marks)) != 0) {
			/* state_load checked the rest. */
			log_warnx("state: nodes[%zu]: out of memory; not "
			          "restored",
			    i);
			continue;
		}
		rc = spec_parse(entry, &lim, &parent, &spec, &count, &err);
		if (rc == -1) {
			log_warnx("state: nodes[%zu]: %s", i, err.message);
			json_decref(entry);
			json_decref(marks);
			continue;
		}
		rc = state_restore_one(s, parent, spec, count, why, marks,
		    &err);
		if (rc == -1) {
			log_warnx("state: %s/%s is not restored: %s; it is "
			          "dropped from %s",
			    strcmp(parent, "/") == 0 ? "" : parent, spec->name,
			    err.message, s->path);
			spec_free(spec);
		} else {
			ok++;
		}
		json_decref(entry);
		json_decref(marks);
	}
	log_info("%s: %zu of %zu saved nodes restored", s->path, ok,
	    json_array_size(s->loaded));
	json_decref(s->loaded);
	s->loaded = NULL;
}

/* --- writing ------------------------------------------------------------ */

static int
state_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
state_fail(struct state *s, const char *what, const char *file, int e)
{
	snprintf(s->last_error, sizeof s->last_error, "%s %s: %s", what, file,
	    strerror(e));
	return -1;
}

static void
state_sync_dir(struct state *s)
{
	int fd;

	if ((fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == -1)
			log_warn("state: fsync %s", s->dir);
		close(fd);
	}
}

/* text to path atomically: path.new, fsync, rename, fsync of the
 * directory. */
static int
state_put_file(struct state *s, const char *text, size_t len)
{
	int fd, e;

	if ((fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	         0600)) == -1)
		return state_fail(s, "open", s->tmp, errno);
	if (state_write_all(fd, text, len) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlink(s->tmp);
		return state_fail(s, "write", s->tmp, e);
	}
	if (close(fd) == -1 || rename(s->tmp, s->path) == -1) {
		e = errno;
		unlink(s->tmp);
		return state_fail(s, "rename to", s->path, e);
	}
	state_sync_dir(s);
	return 0;
}

void
state_log_close(struct state *s)
{
	if (s->logfd != -1)
		close(s->logfd);
	s->logfd = -1;
}

/* A new, empty journal for the epoch of the snapshot just written. */
static int
state_log_start(struct state *s)
{
	char head[64];
	int n;

	state_log_close(s);
	if ((s->logfd = open(s->logpath,
	         O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600)) ==
	    -1)
		return state_fail(s, "open", s->logpath, errno);
	n = snprintf(head, sizeof head, "{\"epoch\":%llu}\n",
	    (unsigned long long)s->epoch);
	s->logsize = 0;
	if (state_append(s, head, (size_t)n) == -1) {
		state_log_close(s);
		return -1;
	}
	state_sync_dir(s);
	return 0;
}

int
state_snapshot(struct state *s)
{
	json_t *doc = NULL, *nodes;
	char *text = NULL;
	size_t len;

	if ((nodes = json_array()) != NULL &&
	    state_collect(s->d->tree->root, nodes) == -1) {
		json_decref(nodes);
		nodes = NULL;
	}
	/* "o" takes nodes, also when the pack fails. */
	if (nodes != NULL &&
	    (doc = json_pack("{s:i,s:I,s:o}", "version", STATE_VERSION, "epoch",
	         (json_int_t)(s->epoch + 1), "nodes", nodes)) != NULL)
		text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL)
		return state_fail(s, "build", s->path, ENOMEM);
	len = strlen(text);
	text[len++] = '\n'; /* json_dumps left room: its NUL */
	if (state_put_file(s, text, len) == -1) {
		free(text);
		return -1;
	}
	free(text);
	/* From here the snapshot holds everything: a journal of the old
	 * epoch, if one is left by a crash now, is ignored at start. */
	s->epoch++;
	s->snapsize = len;
	return state_log_start(s);
}

int
state_append(struct state *s, const char *text, size_t len)
{
	int e;

	if (state_write_all(s->logfd, text, len) == -1 ||
	    fdatasync(s->logfd) == -1) {
		e = errno;
		/* What got out must not be half a line. */
		if (ftruncate(s->logfd, s->logsize) == -1)
			state_log_close(s);
		return state_fail(s, "append to", s->logpath, e);
	}
	s->logsize += (off_t)len;
	return 0;
}
