/*
 * logs: the last lines of a node's captured output, of one stream or
 * both, since a time; for a supervisor, its subtree's lines merged by
 * time, each prefixed with its node's path. In a batch past its bound
 * (RPC_WHOLE_BYTES), a member's answer is read only when its turn to be
 * written comes, so a batch of many holds one answer at a time.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "daemon.h"
#include "params.h"
#include "rpc.h"
#include "tree.h"
#include "utf8.h"
#include "worker.h"

#define LOGS_CUT_MARK " [cut]"
#define LOGS_SEP      " | "

/* A line collected: its text (escaped to valid UTF-8) in the arena. */
struct logs_line {
	int64_t t_ms;
	uint64_t seq;
	uint32_t node; /* index in paths */
	uint32_t run;
	uint8_t stream;
	uint8_t flags;
	size_t off, len;
};

struct logs_set {
	struct logs_line *v; /* owned */
	size_t n, cap;
	char *text; /* owned arena */
	size_t tlen, tcap;
	char **paths; /* owned, each owned */
	size_t npaths, cappaths;
	bool merged; /* a supervisor's: lines carry their path */
	bool lost;
};

/* A tail read when written. */
struct logs_body {
	struct tree *tree; /* borrowed */
	uint64_t id;       /* the node; it may be gone by then */
	struct params_logs p;
};

static void
logs_set_free(struct logs_set *s)
{
	for (size_t i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->v);
	free(s->text);
}

static int
logs_collect_cb(void *arg, const struct worker_line *l)
{
	struct logs_set *s = arg;
	struct logs_line *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct logs_line *v = realloc(s->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if (s->tlen + l->len * 4 > s->tcap) {
		size_t cap = s->tcap ? s->tcap : 65536;
		char *t;

		while (cap < s->tlen + l->len * 4)
			cap *= 2;
		if ((t = realloc(s->text, cap)) == NULL)
			return -1;
		s->text = t;
		s->tcap = cap;
	}
	e = &s->v[s->n++];
	e->t_ms = l->t_ms;
	e->seq = l->seq;
	e->node = (uint32_t)(s->npaths - 1);
	e->run = l->run;
	e->stream = l->stream;
	e->flags = l->flags;
	e->off = s->tlen;
	e->len = proto_utf8_escape(l->text, l->len, s->text + s->tlen);
	s->tlen += e->len;
	return 0;
}

/* n's lines, and its subtree's. */
static int
logs_collect(struct logs_set *s, const struct node *n, unsigned streams,
    int64_t since_ms)
{
	char path[PROTO_PATH_MAX];
	bool lost = false;

	if (n->ops != NULL && n->ops->lines != NULL) {
		if (s->npaths == s->cappaths) {
			size_t cap = s->cappaths ? s->cappaths * 2 : 16;
			char **v = realloc(s->paths, cap * sizeof *v);

			if (v == NULL)
				return -1;
			s->paths = v;
			s->cappaths = cap;
		}
		if ((s->paths[s->npaths] = strdup(
		         node_path(n, path, sizeof path))) == NULL)
			return -1;
		s->npaths++;
		if (n->ops->lines(n, streams, since_ms, logs_collect_cb, s,
		        &lost) == -1)
			return -1;
		s->lost |= lost;
	}
	for (uint32_t i = 0; i < n->nchildren; i++)
		if (logs_collect(s, n->children[i], streams, since_ms) == -1)
			return -1;
	return 0;
}

static int
logs_cmp(const void *a, const void *b)
{
	const struct logs_line *x = a, *y = b;

	if (x->node == y->node)
		return (x->seq > y->seq) - (x->seq < y->seq);
	if (x->t_ms != y->t_ms)
		return (x->t_ms > y->t_ms) - (x->t_ms < y->t_ms);
	return (x->node > y->node) - (x->node < y->node);
}

/* Bytes the line takes in `data`. */
static size_t
logs_size(const struct logs_set *s, const struct logs_line *e)
{
	size_t n = e->len + ((e->flags & 2) ? 0 : 1);

	if (e->flags & 1)
		n += sizeof LOGS_CUT_MARK - 1;
	if (s->merged)
		n += strlen(s->paths[e->node]) + sizeof LOGS_SEP - 1;
	return n;
}

static json_t *
logs_record(const struct logs_set *s, const struct logs_line *e, size_t skip)
{
	/* jansson 2.10 has no "s%": the text as a string of its own. */
	json_t *r = json_pack("{s:I,s:s,s:I,s:s,s:o}", "t_ms",
	    (json_int_t)e->t_ms, "stream", e->stream == 1 ? "stderr" : "stdout",
	    "run", (json_int_t)e->run, "path", s->paths[e->node], "text",
	    json_stringn(s->text + e->off + skip, e->len - skip));

	if (r != NULL && (e->flags & 1))
		json_object_set_new(r, "cut", json_true());
	if (r != NULL && (e->flags & 2))
		json_object_set_new(r, "eol", json_false());
	return r;
}

static json_t *
logs_result(const struct node *n, const struct params_logs *p)
{
	unsigned streams = p->stream == LOGS_STDOUT ? 1 :
	    p->stream == LOGS_STDERR                ? 2 :
	                                              3;
	struct logs_set s;
	size_t first, used = 0, skip = 0;
	struct evbuffer *data = NULL;
	json_t *result = NULL, *records = NULL, *str;
	bool truncated;

	memset(&s, 0, sizeof s);
	/* Supervisors (and actors' parents) answer for their subtree. */
	s.merged = n->ops == NULL;
	if (logs_collect(&s, n, streams, p->since_ms) == -1)
		goto out;
	if (s.n > 1)
		qsort(s.v, s.n, sizeof *s.v, logs_cmp);
	/* From the end: as many whole lines as asked and as fit. */
	for (first = s.n; first > 0; first--) {
		size_t sz = logs_size(&s, &s.v[first - 1]);

		if (p->lines >= 0 && (int64_t)(s.n - first) >= p->lines)
			break;
		if (p->bytes >= 0 && used + sz > (size_t)p->bytes) {
			/* Not even one line fits: the end of it. */
			if (first == s.n) {
				struct logs_line *e = &s.v[first - 1];

				skip = sz - (size_t)p->bytes;
				if (skip > e->len)
					skip = e->len;
				while (skip < e->len &&
				    ((unsigned char)s.text[e->off + skip] &
				        0xc0) == 0x80)
					skip++;
				first--;
			}
			break;
		}
		used += sz;
	}
	truncated = s.lost || first > 0 || skip > 0;
	if ((data = evbuffer_new()) == NULL ||
	    (p->records && (records = json_array()) == NULL))
		goto out;
	for (size_t i = first; i < s.n; i++) {
		struct logs_line *e = &s.v[i];
		size_t k = i == first ? skip : 0;

		if (s.merged && k == 0)
			evbuffer_add_printf(data, "%s" LOGS_SEP,
			    s.paths[e->node]);
		evbuffer_add(data, s.text + e->off + k, e->len - k);
		if (e->flags & 1)
			evbuffer_add(data, LOGS_CUT_MARK,
			    sizeof LOGS_CUT_MARK - 1);
		if (!(e->flags & 2))
			evbuffer_add(data, "\n", 1);
		if (records != NULL &&
		    json_array_append_new(records, logs_record(&s, e, k)) != 0)
			goto out;
	}
	/* An empty buffer pulls up to NULL. */
	str = evbuffer_get_length(data) == 0 ?
	    json_string("") :
	    json_stringn((const char *)evbuffer_pullup(data, -1),
	        evbuffer_get_length(data));
	result = json_pack("{s:o,s:b}", "data", str, "truncated", truncated);
	if (result != NULL && records != NULL) {
		json_object_set_new(result, "records", records);
		records = NULL;
	}
out:
	json_decref(records);
	if (data != NULL)
		evbuffer_free(data);
	logs_set_free(&s);
	return result;
}

json_t *
rpc_logs_result(const struct node *n, const struct params_logs *p)
{
	return logs_result(n, p);
}

static int
logs_dump_cb(const char *buf, size_t len, void *arg)
{
	return evbuffer_add(arg, buf, len);
}

static int
logs_fill(void *arg, struct evbuffer *out, size_t budget)
{
	struct logs_body *b = arg;
	struct node *n = tree_get(b->tree, b->id);
	json_t *r;
	int rc;

	/* Removed since: its output went with it. */
	r = n != NULL ? logs_result(n, &b->p) :
	                json_pack("{s:s,s:b}", "data", "", "truncated", 1);
	if (r == NULL)
		return -1;
	rc = json_dump_callback(r, logs_dump_cb, out,
	    JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(r);
	return rc;
}

static enum rpc_status
logs_run(struct rpc_call *call, json_t **result, struct proto_err *err)
{
	struct params_logs p;
	struct logs_body *b;
	struct node *n;
	size_t size;

	if (params_logs(call->params, &p, err) == -1)
		return RPC_ERROR;
	if ((n = rpc_node(call, p.path, err)) == NULL)
		return RPC_ERROR;
	/* About what the answer may hold; lines alone are bounded by the
	 * rings, up to PARAMS_LOGS_MAX a stream. */
	size = p.bytes >= 0 ? (size_t)p.bytes : 2 * PARAMS_LOGS_MAX;
	if (p.records)
		size *= 2;
	if (rpc_whole(call, size)) {
		if ((*result = logs_result(n, &p)) == NULL) {
			proto_errf(err, PROTO_INTERNAL, "out of memory");
			return RPC_ERROR;
		}
		/* Where nothing streams, measured: the estimate is a
		 * ceiling, and a batch's answers share one bound. */
		if (!rpc_streams(call) &&
		    rpc_sink_fits(call,
		        json_dumpb(*result, NULL, 0, JSON_COMPACT),
		        "ask for fewer lines or bytes, or read them over the "
		        "socket, which streams them",
		        err) == -1) {
			json_decref(*result);
			*result = NULL;
			return RPC_ERROR;
		}
		return RPC_DONE;
	}
	if ((b = malloc(sizeof *b)) == NULL) {
		proto_errf(err, PROTO_INTERNAL, "out of memory");
		return RPC_ERROR;
	}
	b->tree = call->d->tree;
	b->id = n->id;
	b->p = p;
	b->p.path = NULL; /* borrowed from params, gone by then */
	call->body.fill = logs_fill;
	call->body.free = free;
	call->body.arg = b;
	return RPC_STREAM;
}

const struct rpc_method rpc_logs = {
	.name = "logs",
	.run = logs_run,
};
