/*
 * --state FILE: collecting the nodes to save, writing them atomically and
 * coalesced (at most one write per STATE_MIN_GAP_MS, on a timer armed only
 * when something changed), reading them back at start. The state owns its
 * timer, the text it last wrote and what it read at start until restored.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "path.h"
#include "state.h"
#include "timer.h"
#include "tree.h"

#define STATE_VERSION 1
#define STATE_MIN_GAP_MS 100	/* between two writes */
#define STATE_RETRY_MS 10000	/* after a failed write */

struct state {
	struct daemon *d;		/* borrowed */
	char *path;			/* owned */
	char *tmp;			/* owned: path + ".new" */
	char *dir;			/* owned: path's directory */
	struct event *write_ev;		/* owned */
	char *last;			/* owned: the text last written */
	json_t *loaded;			/* owned: entries read at start */
	int64_t last_write_mono;
	bool dirty;			/* a write is scheduled */
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
	s->last_write_mono = -STATE_MIN_GAP_MS;
	if ((s->path = strdup(path)) == NULL ||
	    (s->tmp = malloc(strlen(path) + 5)) == NULL ||
	    (copy = strdup(path)) == NULL) {
		state_free(s);
		return NULL;
	}
	sprintf(s->tmp, "%s.new", path);
	s->dir = strdup(dirname(copy));
	free(copy);
	if (s->dir == NULL || (s->write_ev = evtimer_new(d->base,
	    state_write_cb, s)) == NULL) {
		state_free(s);
		return NULL;
	}
	return s;
}

void
state_free(struct state *s)
{
	if (s == NULL)
		return;
	timer_clear(&s->write_ev);
	json_decref(s->loaded);
	free(s->last);
	free(s->dir);
	free(s->tmp);
	free(s->path);
	free(s);
}

/* --- reading --------------------------------------------------------- */

int
state_load(struct state *s, struct proto_err *err)
{
	struct spec_limits lim = { .max_depth = PROTO_DEPTH_MAX };
	json_error_t jerr;
	json_t *doc, *nodes, *one;
	struct node_spec *spec;
	const char *parent;
	size_t i;

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
	if ((doc = json_load_file(s->path, JSON_REJECT_DUPLICATES, &jerr))
	    == NULL) {
		if (jerr.line > 0)
			return proto_errf(err, PROTO_PARSE_ERROR,
			    "state file %s:%d:%d: %s; fix or remove it",
			    s->path, jerr.line, jerr.column, jerr.text);
		return proto_errf(err, PROTO_PARSE_ERROR, "state file: %s",
		    jerr.text);
	}
	if (!json_is_object(doc) || json_integer_value(json_object_get(doc,
	    "version")) != STATE_VERSION || !json_is_array(nodes =
	    json_object_get(doc, "nodes")) || json_object_size(doc) != 2) {
		json_decref(doc);
		return proto_errf(err, PROTO_INVALID_PARAMS, "state file %s is "
		    "not {\"version\": %d, \"nodes\": [...]}; fix or remove "
		    "it", s->path, STATE_VERSION);
	}
	json_array_foreach(nodes, i, one) {
		parent = NULL;
		if (spec_parse(one, &lim, &parent, &spec, NULL, err) == -1) {
			proto_err_prefix(err, "state file %s: nodes[%zu]",
			    s->path, i);
			json_decref(doc);
			return -1;
		}
		spec_free(spec);
		if (parent == NULL || proto_path_check(parent, "parent", err)
		    == -1) {
			proto_errf(err, PROTO_INVALID_PARAMS, "state file %s: "
			    "nodes[%zu] has no valid \"parent\"", s->path, i);
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
	const char *parent;
	size_t i, count, ok = 0;
	json_t *one;

	if (s == NULL || s->loaded == NULL)
		return;
	lim.max_nodes = s->d->tree->lim.max_nodes;
	json_array_foreach(s->loaded, i, one) {
		parent = "/";
		if (spec_parse(one, &lim, &parent, &spec, &count, &err) == -1) {
			log_warnx("state: nodes[%zu]: %s", i, err.message);
			continue;
		}
		if (tree_spawn(s->d->tree, parent, spec, count, &n, &err)
		    == -1) {
			log_warnx("state: %s/%s is not restored: %s; it is "
			    "dropped from %s", strcmp(parent, "/") == 0 ? "" :
			    parent, spec->name, err.message, s->path);
			spec_free(spec);
			continue;
		}
		ok++;
	}
	log_info("%s: %zu of %zu saved nodes restored", s->path, ok,
	    json_array_size(s->loaded));
	json_decref(s->loaded);
	s->loaded = NULL;
}

/* --- writing --------------------------------------------------------- */

/* n's spec with the children it has now, terminated ones left out. */
static json_t *
state_node_json(const struct node *n)
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

		if (node_terminated(n->children[i]))
			continue;
		if ((k = state_node_json(n->children[i])) == NULL ||
		    json_array_append_new(kids, k) == -1) {
			json_decref(kids);
			json_decref(obj);
			return NULL;
		}
	}
	json_object_set_new(obj, "children", kids);
	return obj;
}

static int
state_collect(const struct node *p, json_t *out)
{
	char path[PROTO_PATH_MAX];

	for (uint32_t i = 0; i < p->nchildren; i++) {
		const struct node *c = p->children[i];
		json_t *obj;

		if (c->from_config) {
			if (node_is_sup(c) && state_collect(c, out) == -1)
				return -1;
			continue;
		}
		if (c->spec->restart != RESTART_PERMANENT ||
		    node_terminated(c))
			continue;
		if ((obj = state_node_json(c)) == NULL ||
		    json_object_set_new(obj, "parent",
		    json_string(node_path(p, path, sizeof path))) == -1 ||
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

static void
state_error(struct state *s, const char *what, const char *file, int e)
{
	struct timeval tv = { STATE_RETRY_MS / 1000, 0 };

	s->errors++;
	snprintf(s->last_error, sizeof s->last_error, "%s %s: %s", what, file,
	    strerror(e));
	log_warnx("state: %s; %s keeps its previous contents (retrying in "
	    "%d s)", s->last_error, s->path, STATE_RETRY_MS / 1000);
	free(s->last);
	s->last = NULL;
	s->dirty = true;
	evtimer_add(s->write_ev, &tv);
}

/* The one blocking write of the daemon: small, and coalesced. */
static void
state_write(struct state *s)
{
	json_t *doc, *nodes;
	char *text;
	int fd, e;

	s->dirty = false;
	s->last_write_mono = clock_mono_ms();
	if ((nodes = json_array()) == NULL ||
	    state_collect(s->d->tree->root, nodes) == -1 ||
	    (doc = json_pack("{s:i,s:o}", "version", STATE_VERSION, "nodes",
	    nodes)) == NULL) {
		state_error(s, "build", s->path, ENOMEM);
		return;
	}
	text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL) {
		state_error(s, "build", s->path, ENOMEM);
		return;
	}
	if (s->last != NULL && strcmp(s->last, text) == 0) {
		free(text);
		return;
	}
	if ((fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		state_error(s, "open", s->tmp, errno);
		free(text);
		return;
	}
	if (state_write_all(fd, text, strlen(text)) == -1 ||
	    state_write_all(fd, "\n", 1) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlink(s->tmp);
		state_error(s, "write", s->tmp, e);
		free(text);
		return;
	}
	if (close(fd) == -1 || rename(s->tmp, s->path) == -1) {
		e = errno;
		unlink(s->tmp);
		state_error(s, "rename to", s->path, e);
		free(text);
		return;
	}
	if ((fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == -1)
			log_warn("state: fsync %s", s->dir);
		close(fd);
	}
	s->writes++;
	free(s->last);
	s->last = text;
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
	struct timeval tv;
	int64_t wait;

	if (s == NULL || s->frozen || s->dirty)
		return;
	if (ev->type == TREE_EV_OUTPUT || (ev->type == TREE_EV_STATE &&
	    (ev->from == NODE_EXITED || ev->from == NODE_FAILED) ==
	    (ev->to == NODE_EXITED || ev->to == NODE_FAILED)))
		return;
	s->dirty = true;
	wait = s->last_write_mono + STATE_MIN_GAP_MS - clock_mono_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000 * 1000);
	evtimer_add(s->write_ev, &tv);
}

void
state_freeze(struct state *s)
{
	if (s == NULL || s->frozen)
		return;
	if (s->dirty) {
		evtimer_del(s->write_ev);
		state_write(s);
	}
	evtimer_del(s->write_ev);
	s->frozen = true;
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
