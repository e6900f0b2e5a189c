/*
 * --state FILE: which changes of the tree touch what is saved, writing
 * them with group commit (every change of one loop turn goes into one
 * journal append and fsync, made at the start of the next turn; a
 * snapshot now and then), and telling the calls that wait for their change
 * to be on disk. The files themselves are state-file.c's. The state owns
 * its timer, its waiting syncs, the changes not written yet, the journal's
 * fd and what it read at start until restored.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "log.h"
#include "path.h"
#include "state-int.h"
#include "timer.h"
#include "tree.h"

/* A journal past this, and past four times the snapshot's size, is
 * folded into a new snapshot: the files stay within a few times what is
 * saved, and rewriting it all costs little against what was appended. */
#define STATE_LOG_MIN (8 * 1024 * 1024)
/* How long a change may wait for a turn with nothing else to do: under a
 * steady stream of requests the write goes out anyway. */
#define STATE_GROUP_MAX_MS 2

static void state_write_cb(evutil_socket_t, short, void *);

static char *
state_path_with(const char *path, const char *suffix)
{
	char *p = malloc(strlen(path) + strlen(suffix) + 1);

	if (p != NULL)
		sprintf(p, "%s%s", path, suffix);
	return p;
}

struct state *
state_new(struct daemon *d, const char *path)
{
	struct state *s;
	char *copy;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->d = d;
	s->logfd = -1;
	s->need_snapshot = true;
	TAILQ_INIT(&s->syncs);
	idmap_init(&s->recorded);
	if ((s->path = strdup(path)) == NULL ||
	    (s->tmp = state_path_with(path, ".new")) == NULL ||
	    (s->logpath = state_path_with(path, ".log")) == NULL ||
	    (copy = strdup(path)) == NULL) {
		state_free(s);
		return NULL;
	}
	s->dir = strdup(dirname(copy));
	free(copy);
	if (s->dir == NULL ||
	    (s->write_ev = evtimer_new(d->base, state_write_cb, s)) == NULL ||
	    event_priority_set(s->write_ev, DAEMON_PRIO_IDLE) == -1 ||
	    (s->due_ev = evtimer_new(d->base, state_write_cb, s)) == NULL) {
		state_free(s);
		return NULL;
	}
	return s;
}

static void
state_recs_clear(struct state *s)
{
	for (size_t i = 0; i < s->nrecs; i++)
		free(s->recs[i].delpath);
	s->nrecs = 0;
	idmap_free(&s->recorded);
	idmap_init(&s->recorded);
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
	timer_clear(&s->due_ev);
	state_recs_clear(s);
	idmap_free(&s->recorded);
	free(s->recs);
	state_log_close(s);
	json_decref(s->loaded);
	free(s->dir);
	free(s->logpath);
	free(s->tmp);
	free(s->path);
	free(s);
}

/* --- what changed --------------------------------------------------------- */

static int
state_rec_add(struct state *s, uint64_t id, const char *delpath)
{
	struct state_rec *r;

	if (s->nrecs == s->caprecs) {
		size_t cap = s->caprecs ? s->caprecs * 2 : 64;

		if ((r = realloc(s->recs, cap * sizeof *r)) == NULL)
			return -1;
		s->recs = r;
		s->caprecs = cap;
	}
	r = &s->recs[s->nrecs];
	r->id = id;
	r->delpath = NULL;
	if (delpath != NULL && (r->delpath = strdup(delpath)) == NULL)
		return -1;
	s->nrecs++;
	return 0;
}

/* Records what ev changes of the saved entries; a failure to record (out
 * of memory) makes the next write a whole snapshot. */
static void
state_record(struct state *s, const struct tree_event *ev)
{
	const struct node *e = state_entry_of(ev->node);
	char path[PROTO_PATH_MAX];
	int rc = 0;

	if (e->parent == NULL || e->from_config)
		return;
	if (ev->type == TREE_EV_REMOVED && e == ev->node) {
		rc = state_rec_add(s, 0, node_path(e, path, sizeof path));
		/* A later spawn at that path is a new entry. */
		idmap_del(&s->recorded, e->id);
	} else if (idmap_get(&s->recorded, e->id) == NULL) {
		rc = state_rec_add(s, e->id, NULL);
		if (rc == 0)
			rc = idmap_put(&s->recorded, e->id, (void *)e);
	}
	if (rc == -1)
		s->need_snapshot = true;
}

/* --- writing -------------------------------------------------------------- */

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

/* A write in ms; for a group commit (0), in the first loop turn with no
 * request left to read, or STATE_GROUP_MAX_MS at the latest. */
static void
state_schedule(struct state *s, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
		(suseconds_t)(ms % 1000 * 1000) };
	struct timeval due = { 0, STATE_GROUP_MAX_MS * 1000 };

	s->dirty = true;
	evtimer_add(ms == 0 ? s->write_ev : s->due_ev, &tv);
	if (ms == 0)
		evtimer_add(s->due_ev, &due);
}

/* The records as journal lines, each entry as it is now. NULL when out
 * of memory. */
static char *
state_recs_text(struct state *s, size_t *len)
{
	json_t *line, *entry;
	char *text = NULL, *one;
	size_t cap = 0, n;
	bool oom = false;

	*len = 0;
	for (size_t i = 0; i < s->nrecs && !oom; i++) {
		const struct state_rec *r = &s->recs[i];
		struct node *nd;

		entry = NULL;
		if (r->delpath != NULL)
			line = json_pack("{s:s}", "del", r->delpath);
		else if ((nd = tree_get(s->d->tree, r->id)) == NULL ||
		    (entry = state_entry_json(nd, &oom)) == NULL)
			continue; /* removed since (a del follows), or not saved
			           */
		else
			line = json_pack("{s:o}", "put", entry);
		if (line == NULL ||
		    (one = json_dumps(line, JSON_COMPACT)) == NULL) {
			json_decref(line);
			oom = true;
			break;
		}
		json_decref(line);
		n = strlen(one);
		if (*len + n + 2 > cap) {
			char *t = realloc(text, cap = (*len + n + 2) * 2);

			if (t == NULL) {
				free(one);
				oom = true;
				break;
			}
			text = t;
		}
		memcpy(text + *len, one, n);
		*len += n;
		text[(*len)++] = '\n';
		free(one);
	}
	if (oom) {
		free(text);
		return NULL;
	}
	return text != NULL ? text : strdup("");
}

/* One write for everything changed since the last: an append to the
 * journal, or a whole snapshot when the journal has outgrown it, when
 * there is none yet, or after a failure. */
static int
state_flush(struct state *s)
{
	size_t len;
	char *text;
	int rc;

	if (!s->need_snapshot && s->logfd != -1 &&
	    (size_t)s->logsize <= s->snapsize * 4 + STATE_LOG_MIN) {
		if ((text = state_recs_text(s, &len)) == NULL) {
			snprintf(s->last_error, sizeof s->last_error,
			    "out of memory writing %s", s->logpath);
			return -1;
		}
		rc = len > 0 ? state_append(s, text, len) : 0;
		free(text);
		if (rc == 0 && len > 0)
			s->writes++;
		return rc;
	}
	if (state_snapshot(s) == -1)
		return -1;
	s->writes++;
	s->need_snapshot = false;
	return 0;
}

static void
state_write(struct state *s)
{
	uint64_t gen = s->gen;

	s->dirty = false;
	evtimer_del(s->write_ev);
	evtimer_del(s->due_ev);
	if (state_flush(s) == -1) {
		s->errors++;
		s->need_snapshot = true;
		log_warnx("state: %s; %s keeps its previous contents "
		          "(retrying in %d s)",
		    s->last_error, s->path, STATE_RETRY_MS / 1000);
		state_recs_clear(s);
		state_schedule(s, STATE_RETRY_MS);
		state_syncs_release(s, gen, s->last_error);
		return;
	}
	state_recs_clear(s);
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
	 * live and terminated, or into a stop for good of a saved entry or
	 * of a node a client stopped inside one. */
	if (ev->type == TREE_EV_OUTPUT || ev->type == TREE_EV_STATUS ||
	    ev->type == TREE_EV_HEALTH ||
	    (ev->type == TREE_EV_STATE &&
	        (ev->from == NODE_EXITED || ev->from == NODE_FAILED) ==
	            (ev->to == NODE_EXITED || ev->to == NODE_FAILED) &&
	        !(ev->to == NODE_STOPPING &&
	            (state_client_stopped(ev->node) ||
	                (state_stopped(ev->node) &&
	                    state_entry_of(ev->node) == ev->node)))))
		return;
	state_record(s, ev);
	s->gen++;
	/* Group commit: the write goes at the start of the next loop turn,
	 * after every request this turn read; a retry after a failure keeps
	 * its delay. */
	if (!s->dirty)
		state_schedule(s, 0);
}

void
state_node_updated(struct state *s, const struct node *n)
{
	/* Recorded as a spawn is: its entry is written whole again. */
	struct tree_event ev = { .type = TREE_EV_SPAWNED,
		.node = (struct node *)n };

	state_tree_event(s, &ev);
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
	if (s->dirty || s->gen != s->gen_disk)
		state_write(s);
	evtimer_del(s->write_ev);
	evtimer_del(s->due_ev);
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
