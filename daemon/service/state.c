/*
 * --state FILE: collecting the nodes to save, writing them atomically with
 * group commit (every change of one loop turn goes into one write, made
 * at the start of the next turn), telling the calls that wait for their
 * change to be on disk, reading the file back at start. The state owns its
 * timer, its waiting syncs, the text it last wrote and what it read at
 * start until restored.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "cause.h"
#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "path.h"
#include "state.h"
#include "timer.h"
#include "tree.h"

#define STATE_VERSION  2     /* 1: no stopped entries; still read */
#define STATE_RETRY_MS 10000 /* after a failed write */

struct state_sync {
	uint64_t gen; /* done once this change is on disk */
	state_sync_cb *cb;
	void *arg; /* borrowed */
	TAILQ_ENTRY(state_sync) link;
};
TAILQ_HEAD(state_syncs, state_sync);

struct state {
	struct daemon *d;         /* borrowed */
	char *path;               /* owned */
	char *tmp;                /* owned: path + ".new" */
	char *dir;                /* owned: path's directory */
	struct event *write_ev;   /* owned */
	struct state_syncs syncs; /* owned: calls waiting for a write */
	char *last;               /* owned: the text last written */
	json_t *loaded;           /* owned: entries read at start */
	uint64_t gen;             /* changes seen */
	uint64_t gen_disk;        /* changes known to be on disk */
	bool dirty;               /* a write is scheduled */
	bool frozen;
	uint64_t writes;
	uint64_t errors;
	char last_error[PROTO_ERR_MESSAGE_MAX];
};

static void state_write_cb(evutil_socket_t, short, void *);

struct state *
state_new(struct daemon *d, const char *path)
{
	struct state *s;
	char *copy;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->d = d;
	TAILQ_INIT(&s->syncs);
	if ((s->path = strdup(path)) == NULL ||
	    (s->tmp = malloc(strlen(path) + 5)) == NULL ||
	    (copy = strdup(path)) == NULL) {
		state_free(s);
		return NULL;
	}
	sprintf(s->tmp, "%s.new", path);
	s->dir = strdup(dirname(copy));
	free(copy);
	if (s->dir == NULL ||
	    (s->write_ev = evtimer_new(d->base, state_write_cb, s)) == NULL) {
		state_free(s);
		return NULL;
	}
	return s;
}

void
state_free(struct state *s)
{
	struct state_sync *w;

	if (s == NULL)
		return;
	/* Their owners (calls) are gone by now; what is left is memory. */
	while ((w = TAILQ_FIRST(&s->syncs)) != NULL) {
		TAILQ_REMOVE(&s->syncs, w, link);
		free(w);
	}
	timer_clear(&s->write_ev);
	json_decref(s->loaded);
	free(s->last);
	free(s->dir);
	free(s->tmp);
	free(s->path);
	free(s);
}

/* --- reading --------------------------------------------------------- */

/* A saved entry is a node spec, and for a node that was stopped,
 * "stopped": the cause it had. *spec is a new reference to the entry
 * without that member (so it parses as a spec), *why its text (borrowed
 * from obj), NULL for a live node. -1 when "stopped" is not a string. */
static int
state_entry_split(json_t *obj, json_t **spec, const char **why)
{
	json_t *st = json_object_get(obj, "stopped");

	*why = NULL;
	*spec = NULL;
	if (st == NULL) {
		*spec = json_incref(obj);
		return 0;
	}
	if (!json_is_string(st) || (*spec = json_copy(obj)) == NULL)
		return -1;
	*why = json_string_value(st);
	json_object_del(*spec, "stopped");
	return 0;
}

int
state_load(struct state *s, struct proto_err *err)
{
	struct spec_limits lim = { .max_depth = PROTO_DEPTH_MAX };
	json_error_t jerr;
	json_t *doc, *nodes, *one;
	struct node_spec *spec;
	const char *parent, *why;
	json_t *entry;
	json_int_t version;
	size_t i;
	int rc;

	if (s == NULL)
		return 0;
	lim.max_nodes = s->d->tree->lim.max_nodes;
	/* A .new left by a crash mid-write was never the state. */
	unlink(s->tmp);
	if (access(s->path, F_OK) == -1 && errno == ENOENT) {
		log_info("%s does not exist yet; starting with no saved nodes",
		    s->path);
		return 0;
	}
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
	    json_object_size(doc) != 2) {
		json_decref(doc);
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "state file %s is "
		    "not {\"version\": %d, \"nodes\": [...]}; fix or remove "
		    "it",
		    s->path, STATE_VERSION);
	}
	json_array_foreach(nodes, i, one)
	{
		parent = NULL;
		if (state_entry_split(one, &entry, &why) == -1) {
			proto_errf(err, PROTO_INVALID_PARAMS,
			    "state file %s: "
			    "nodes[%zu]: \"stopped\" must be a string",
			    s->path, i);
			json_decref(doc);
			return -1;
		}
		rc = spec_parse(entry, &lim, &parent, &spec, NULL, err);
		json_decref(entry);
		if (rc == -1) {
			proto_err_prefix(err, "state file %s: nodes[%zu]",
			    s->path, i);
			json_decref(doc);
			return -1;
		}
		spec_free(spec);
		if (parent == NULL ||
		    proto_path_check(parent, "parent", err) == -1) {
			proto_errf(err, PROTO_INVALID_PARAMS,
			    "state file %s: "
			    "nodes[%zu] has no valid \"parent\"",
			    s->path, i);
			json_decref(doc);
			return -1;
		}
	}
	s->loaded = json_incref(nodes);
	json_decref(doc);
	return 0;
}

void
state_restore(struct state *s)
{
	struct spec_limits lim = { .max_depth = PROTO_DEPTH_MAX };
	struct proto_err err;
	struct node_spec *spec;
	struct node *n;
	const char *parent, *why;
	size_t i, count, ok = 0;
	json_t *one, *entry;
	int rc;

	if (s == NULL || s->loaded == NULL)
		return;
	lim.max_nodes = s->d->tree->lim.max_nodes;
	json_array_foreach(s->loaded, i, one)
	{
		parent = "/";
		if (state_entry_split(one, &entry, &why) == -1)
			continue; /* state_load checked it */
		rc = spec_parse(entry, &lim, &parent, &spec, &count, &err);
		if (rc == -1) {
			log_warnx("state: nodes[%zu]: %s", i, err.message);
			json_decref(entry);
			continue;
		}
		/* A node a client stopped comes back stopped: exited, until
		 * a client restarts it. */
		rc = why != NULL ?
		    tree_add_stopped(s->d->tree, parent, spec, count, why, &n,
		        &err) :
		    tree_spawn(s->d->tree, parent, spec, count, &n, &err);
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
	}
	log_info("%s: %zu of %zu saved nodes restored", s->path, ok,
	    json_array_size(s->loaded));
	json_decref(s->loaded);
	s->loaded = NULL;
}

/* --- writing --------------------------------------------------------- */

/* n's spec with its children: the live ones, or, for a stopped node
 * (all) every one, to come back stopped with it. */
static json_t *
state_node_json(const struct node *n, bool all)
{
	json_t *obj = spec_to_json(n->spec), *kids;

	if (obj == NULL || !node_is_sup(n))
		return obj;
	if ((kids = json_array()) == NULL) {
		json_decref(obj);
		return NULL;
	}
	for (uint32_t i = 0; i < n->nchildren; i++) {
		json_t *k;

		if (!all && node_terminated(n->children[i]))
			continue;
		if ((k = state_node_json(n->children[i], all)) == NULL ||
		    json_array_append_new(kids, k) == -1) {
			json_decref(kids);
			json_decref(obj);
			return NULL;
		}
	}
	json_object_set_new(obj, "children", kids);
	return obj;
}

/* The permanent nodes clients spawned under p: live ones, and stopped
 * ones with the cause they stopped with. */
static int
state_collect(const struct node *p, json_t *out)
{
	char path[PROTO_PATH_MAX];

	for (uint32_t i = 0; i < p->nchildren; i++) {
		const struct node *c = p->children[i];
		bool stopped = node_terminated(c);
		json_t *obj;

		if (c->from_config) {
			if (node_is_sup(c) && state_collect(c, out) == -1)
				return -1;
			continue;
		}
		if (c->spec->restart != RESTART_PERMANENT)
			continue;
		if ((obj = state_node_json(c, stopped)) == NULL ||
		    json_object_set_new(obj, "parent",
		        json_string(node_path(p, path, sizeof path))) == -1 ||
		    (stopped &&
		        json_object_set_new(obj, "stopped",
		            json_string(cause_text(c->cause) ?
		                    cause_text(c->cause) :
		                    "cancelled")) == -1) ||
		    json_array_append_new(out, obj) == -1) {
			json_decref(obj);
			return -1;
		}
	}
	return 0;
}

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

/* Tells the calls waiting for changes up to gen: done, or not written
 * (error). */
static void
state_syncs_release(struct state *s, uint64_t gen, const char *error)
{
	struct state_sync *w, *next;

	for (w = TAILQ_FIRST(&s->syncs); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (w->gen > gen)
			continue;
		TAILQ_REMOVE(&s->syncs, w, link);
		w->cb(w->arg, error);
		free(w);
	}
}

static void
state_schedule(struct state *s, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
		(suseconds_t)(ms % 1000 * 1000) };

	s->dirty = true;
	evtimer_add(s->write_ev, &tv);
}

static void
state_error(struct state *s, const char *what, const char *file, int e)
{
	s->errors++;
	snprintf(s->last_error, sizeof s->last_error, "%s %s: %s", what, file,
	    strerror(e));
	log_warnx("state: %s; %s keeps its previous contents (retrying in "
	          "%d s)",
	    s->last_error, s->path, STATE_RETRY_MS / 1000);
	free(s->last);
	s->last = NULL;
	state_schedule(s, STATE_RETRY_MS);
}

/* Writes text to the file atomically: .new, fsync, rename, fsync of the
 * directory. -1 (error reported) when it did not get there. */
static int
state_put(struct state *s, const char *text)
{
	int fd, e;

	if ((fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	         0600)) == -1) {
		state_error(s, "open", s->tmp, errno);
		return -1;
	}
	if (state_write_all(fd, text, strlen(text)) == -1 ||
	    state_write_all(fd, "\n", 1) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlink(s->tmp);
		state_error(s, "write", s->tmp, e);
		return -1;
	}
	if (close(fd) == -1 || rename(s->tmp, s->path) == -1) {
		e = errno;
		unlink(s->tmp);
		state_error(s, "rename to", s->path, e);
		return -1;
	}
	if ((fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == -1)
			log_warn("state: fsync %s", s->dir);
		close(fd);
	}
	return 0;
}

/* The one blocking write of the daemon: small, and one per loop turn
 * that changed what is saved, however many changes the turn made. */
static void
state_write(struct state *s)
{
	uint64_t gen = s->gen;
	json_t *doc, *nodes;
	char *text;

	s->dirty = false;
	text = NULL;
	if ((nodes = json_array()) != NULL &&
	    state_collect(s->d->tree->root, nodes) == -1) {
		json_decref(nodes);
		nodes = NULL;
	}
	/* "o" takes nodes, also when the pack fails. */
	if (nodes != NULL &&
	    (doc = json_pack("{s:i,s:o}", "version", STATE_VERSION, "nodes",
	         nodes)) != NULL) {
		text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		json_decref(doc);
	}
	if (text == NULL) {
		state_error(s, "build", s->path, ENOMEM);
		state_syncs_release(s, gen, s->last_error);
		return;
	}
	if (s->last == NULL || strcmp(s->last, text) != 0) {
		if (state_put(s, text) == -1) {
			free(text);
			state_syncs_release(s, gen, s->last_error);
			return;
		}
		s->writes++;
	}
	free(s->last);
	s->last = text;
	s->gen_disk = gen;
	state_syncs_release(s, gen, NULL);
}

static void
state_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct state *s = arg;

	if (!s->frozen)
		state_write(s);
}

void
state_tree_event(struct state *s, const struct tree_event *ev)
{
	if (s == NULL || s->frozen)
		return;
	/* What is saved changes with spawns, removals, and moves between
	 * live and terminated. */
	if (ev->type == TREE_EV_OUTPUT ||
	    (ev->type == TREE_EV_STATE &&
	        (ev->from == NODE_EXITED || ev->from == NODE_FAILED) ==
	            (ev->to == NODE_EXITED || ev->to == NODE_FAILED)))
		return;
	s->gen++;
	/* Group commit: the write goes at the start of the next loop turn,
	 * after every request this turn read; a retry after a failure keeps
	 * its delay. */
	if (!s->dirty)
		state_schedule(s, 0);
}

int
state_sync(struct state *s, state_sync_cb *cb, void *arg,
    struct state_sync **out)
{
	struct state_sync *w;

	*out = NULL;
	if (s == NULL || s->frozen || s->gen == s->gen_disk)
		return 0;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return -1;
	w->gen = s->gen;
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&s->syncs, w, link);
	*out = w;
	return 1;
}

void
state_sync_cancel(struct state *s, struct state_sync *w)
{
	if (s == NULL || w == NULL)
		return;
	TAILQ_REMOVE(&s->syncs, w, link);
	free(w);
}

void
state_freeze(struct state *s)
{
	if (s == NULL || s->frozen)
		return;
	evtimer_del(s->write_ev);
	if (s->dirty || s->gen != s->gen_disk)
		state_write(s);
	evtimer_del(s->write_ev);
	s->frozen = true;
	/* Nothing more will be written: whoever still waits hears so. */
	state_syncs_release(s, UINT64_MAX,
	    s->gen == s->gen_disk ? NULL : "the daemon is shutting down");
}

void
state_counts(const struct state *s, uint64_t *writes, uint64_t *errors)
{
	*writes = s != NULL ? s->writes : 0;
	*errors = s != NULL ? s->errors : 0;
}

void
state_stats(const struct state *s, json_t *obj)
{
	json_object_set_new(obj, "state_writes",
	    json_integer(s != NULL ? (json_int_t)s->writes : 0));
	json_object_set_new(obj, "state_errors",
	    json_integer(s != NULL ? (json_int_t)s->errors : 0));
	json_object_set_new(obj, "state_last_error",
	    s != NULL && s->errors > 0 ? json_string(s->last_error) :
	                                 json_null());
}
