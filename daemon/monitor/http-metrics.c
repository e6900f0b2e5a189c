/*
 * GET /metrics: the daemon's counters and gauges in the Prometheus text
 * format (version 0.0.4), and per node (exec nodes and supervisors,
 * labelled by path) what their cgroups (or /proc) account.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "cgroup.h"
#include "daemon.h"
#include "exec.h"
#include "events.h"
#include "health.h"
#include "http-int.h"
#include "journal.h"
#include "logfile.h"
#include "node.h"
#include "reaper.h"
#include "server.h"
#include "spec.h"
#include "state.h"
#include "stats.h"
#include "tree.h"

static void
http_metric(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* The tree's: nodes by state and kind, and what happened to them. */
/* A metric without labels, and its value. */
static void
http_metric_value(struct evbuffer *b, const char *name, const char *type,
    const char *help, unsigned long long value)
{
	http_metric(b, name, type, help);
	evbuffer_add_printf(b, "%s %llu\n", name, value);
}

static void
http_metrics_tree(struct http *h, struct evbuffer *b)
{
	const struct tree_stats *st = &h->d->tree->stats;
	size_t i;

	http_metric(b, "arbor_nodes", "gauge",
	    "Nodes in the tree, the root included, by state.");
	for (i = 0; i < NODE__STATES; i++)
		evbuffer_add_printf(b, "arbor_nodes{state=\"%s\"} %llu\n",
		    node_state_names[i], (unsigned long long)st->by_state[i]);
	http_metric(b, "arbor_nodes_by_kind", "gauge",
	    "Nodes in the tree, the root included, by kind.");
	for (i = 0; i < KIND__COUNT; i++)
		evbuffer_add_printf(b,
		    "arbor_nodes_by_kind{kind=\"%s\"} %llu\n",
		    spec_kind_names[i], (unsigned long long)st->by_kind[i]);
	http_metric_value(b, "arbor_spawns_total", "counter", "Nodes created.",
	    st->spawns);
	http_metric_value(b, "arbor_restarts_total", "counter",
	    "Starts of nodes after their first.", st->restarts);
	http_metric_value(b, "arbor_cancels_total", "counter",
	    "Cancel requests that stopped something.", st->cancels);
	http_metric(b, "arbor_exits_total", "counter",
	    "Ends of node runs, restarted ones included, by class of cause.");
	for (i = 0; i < STATS_EXIT__CLASSES; i++)
		evbuffer_add_printf(b, "arbor_exits_total{cause=\"%s\"} %llu\n",
		    stats_exit_class_names[i],
		    (unsigned long long)h->d->stats.exits[i]);
}

static void
http_metrics_healthy(void *arg, const struct node *n, enum health_state st)
{
	char path[PROTO_PATH_MAX];

	/* Paths need no escaping: names are [A-Za-z0-9_.-]. */
	evbuffer_add_printf(arg, "arbor_node_healthy{path=\"%s\"} %d\n",
	    node_path(n, path, sizeof path), st == HEALTH_HEALTHY);
}

/* Health checks: each checked node's state, and the results so far. */
static void
http_metrics_health(struct evbuffer *b)
{
	http_metric(b, "arbor_node_healthy", "gauge",
	    "1 when the node's last health check passed; 0 while it is "
	    "starting or unhealthy. Only nodes being checked.");
	health_foreach(http_metrics_healthy, b);
	http_metric(b, "arbor_health_checks_total", "counter",
	    "Health checks done, by result.");
	evbuffer_add_printf(b,
	    "arbor_health_checks_total{result=\"ok\"} %llu\n",
	    (unsigned long long)health_checks_total(true));
	evbuffer_add_printf(b,
	    "arbor_health_checks_total{result=\"failed\"} %llu\n",
	    (unsigned long long)health_checks_total(false));
}

/* The daemon's: clients, events, memory, time, strays, the state file. */
/* Workers' output: the journal and the log files. */
static void
http_metrics_logs(struct evbuffer *b)
{
	const struct journal_stats *j = journal_stats();
	struct logfile_totals t;

	logfile_totals(&t);
	http_metric_value(b, "arbor_log_journal_sent_total", "counter",
	    "Lines of workers sent to journald.", j->sent);
	http_metric_value(b, "arbor_log_journal_memfd_total", "counter",
	    "Journal entries too big for a datagram, sent in a memfd.",
	    j->memfd);
	http_metric_value(b, "arbor_log_journal_dropped_total", "counter",
	    "Lines journald did not take (socket full or missing).",
	    j->dropped);
	http_metric_value(b, "arbor_log_file_written_bytes_total", "counter",
	    "Bytes written to log files.", t.written);
	http_metric_value(b, "arbor_log_file_dropped_bytes_total", "counter",
	    "Bytes lost to log file errors (a full disk).", t.dropped);
	http_metric_value(b, "arbor_log_file_errors_total", "counter",
	    "Failed log file writes, opens and renames.", t.errors);
	http_metric_value(b, "arbor_log_file_rotations_total", "counter",
	    "Log files rotated.", t.rotations);
}

static void
http_metrics_daemon(struct http *h, struct evbuffer *b)
{
	uint64_t writes, errors;

	http_metric_value(b, "arbor_connections", "gauge",
	    "Connections open on the control socket.", h->d->server->nconns);
	http_metric_value(b, "arbor_subscriptions", "gauge",
	    "Event subscriptions (watch and SSE).",
	    events_sub_count(h->d->events));
	http_metric_value(b, "arbor_http_streams", "gauge",
	    "Server-Sent Events streams open.", h->nstreams);
	http_metric_value(b, "arbor_http_rpc_pending", "gauge",
	    "POST /v1/rpc requests whose deferred calls are not done.",
	    h->nheld);
	http_metric_value(b, "arbor_event_history_size", "gauge",
	    "Events held for replay.", events_history_size(h->d->events));
	http_metric_value(b, "arbor_event_seq", "gauge",
	    "The sequence number of the last event.", events_seq(h->d->events));
	http_metric(b, "arbor_resident_memory_bytes", "gauge",
	    "Resident memory of arbord.");
	evbuffer_add_printf(b, "arbor_resident_memory_bytes %lld\n",
	    (long long)stats_rss_bytes());
	http_metric(b, "arbor_uptime_seconds", "gauge",
	    "Seconds since arbord started.");
	evbuffer_add_printf(b, "arbor_uptime_seconds %.3f\n",
	    (double)daemon_uptime_ms(h->d) / 1000.0);
	http_metric_value(b, "arbor_strays_total", "counter",
	    "Processes reaped that no node started (orphaned grandchildren).",
	    reaper_strays());
	state_counts(h->d->state, &writes, &errors);
	http_metric_value(b, "arbor_state_writes_total", "counter",
	    "State file writes that succeeded (--state).", writes);
	http_metric_value(b, "arbor_state_write_errors_total", "counter",
	    "State file writes that failed; the old file was kept.", errors);
}

/* HTTP's own, by status. */
static void
http_metrics_requests(struct http *h, struct evbuffer *b)
{
	size_t i;

	http_metric(b, "arbor_http_requests_total", "counter",
	    "HTTP requests answered, by status code.");
	/* This request is counted once it is answered. */
	for (i = 0; i < HTTP_NCODES; i++) {
		if (http_codes[i] != 0)
			evbuffer_add_printf(b,
			    "arbor_http_requests_total"
			    "{code=\"%d\"} %llu\n",
			    http_codes[i], (unsigned long long)h->requests[i]);
		else
			evbuffer_add_printf(b,
			    "arbor_http_requests_total"
			    "{code=\"other\"} %llu\n",
			    (unsigned long long)h->requests[i]);
	}
}

/* HTTP's limits at work. */
static void
http_metrics_limits(struct http *h, struct evbuffer *b)
{
	size_t i;

	http_metric_value(b, "arbor_http_connections", "gauge",
	    "HTTP connections open.", h->nconns);
	http_metric_value(b, "arbor_http_queued_bytes", "gauge",
	    "Bytes of answers queued for HTTP clients, not yet taken.",
	    http_queued_total(h));
	http_metric(b, "arbor_http_refused_total", "counter",
	    "HTTP connections and requests refused, by reason.");
	for (i = 0; i < HTTP__REFUSALS; i++)
		evbuffer_add_printf(b,
		    "arbor_http_refused_total{reason=\"%s\"} %llu\n",
		    http_refusal_names[i], (unsigned long long)h->refused[i]);
	http_metric_value(b, "arbor_http_timeouts_total", "counter",
	    "HTTP connections closed because a request did not arrive whole "
	    "in time.",
	    h->timed_out);
	http_metric_value(b, "arbor_http_slow_dropped_total", "counter",
	    "HTTP connections closed because the client did not take its "
	    "answer.",
	    h->dropped_slow);
	http_metric_value(b, "arbor_http_streams_dropped_total", "counter",
	    "Event and logs streams ended because the client fell behind "
	    "(overflow).",
	    h->dropped_streams);
}

/* Per-node series, for at most this many nodes: each costs a few reads
 * of pseudo-files, and the answer is built whole. */
#define HTTP_NODE_SERIES_MAX 2000

struct node_sample {
	uint64_t id;
	struct cgroup_acct a;
};

struct node_samples {
	struct node_sample *v;
	size_t n, cap;
	bool truncated;
};

static void
http_node_collect(const struct node *n, struct node_samples *s)
{
	if (n->spec->kind == KIND_EXEC || n->spec->kind == KIND_SUPERVISOR) {
		if (s->n == s->cap) {
			s->truncated = true;
			return;
		}
		s->v[s->n].id = n->id;
		if (n->spec->kind == KIND_EXEC)
			exec_node_acct(n, &s->v[s->n].a);
		else
			cgroup_sup_acct(n, &s->v[s->n].a);
		s->n++;
	}
	for (uint32_t i = 0; i < n->nchildren && !s->truncated; i++)
		http_node_collect(n->children[i], s);
}

/* One metric over every sample that knows it. */
static void
http_node_metric(struct http *h, struct evbuffer *b,
    const struct node_samples *s, const char *name, const char *type,
    const char *help, size_t off, double scale)
{
	char path[PROTO_PATH_MAX];

	http_metric(b, name, type, help);
	for (size_t i = 0; i < s->n; i++) {
		const struct node *n = tree_get(h->d->tree, s->v[i].id);
		int64_t v = *(const int64_t *)((const char *)&s->v[i].a + off);

		if (v < 0 || n == NULL)
			continue;
		if (scale != 1.0)
			evbuffer_add_printf(b, "%s{path=\"%s\"} %.6f\n", name,
			    node_path(n, path, sizeof path), (double)v * scale);
		else
			evbuffer_add_printf(b, "%s{path=\"%s\"} %lld\n", name,
			    node_path(n, path, sizeof path), (long long)v);
	}
}

static void
http_metrics_nodes(struct http *h, struct evbuffer *b)
{
	struct node_samples s = { .cap = HTTP_NODE_SERIES_MAX };

	if ((s.v = calloc(s.cap, sizeof *s.v)) == NULL)
		return;
	http_node_collect(h->d->tree->root, &s);
	http_node_metric(h, b, &s, "arbor_node_cpu_seconds_total", "counter",
	    "CPU time of a node's processes (its cgroup's cpu.stat).",
	    offsetof(struct cgroup_acct, cpu_usec), 1e-6);
	http_node_metric(h, b, &s, "arbor_node_memory_bytes", "gauge",
	    "Memory of a node's processes now (memory.current, else RSS).",
	    offsetof(struct cgroup_acct, memory_bytes), 1.0);
	http_node_metric(h, b, &s, "arbor_node_memory_peak_bytes", "gauge",
	    "Peak memory of a node's processes (memory.peak).",
	    offsetof(struct cgroup_acct, memory_peak_bytes), 1.0);
	http_node_metric(h, b, &s, "arbor_node_tasks", "gauge",
	    "Processes (tasks with the pids controller) of a node.",
	    offsetof(struct cgroup_acct, tasks), 1.0);
	http_node_metric(h, b, &s, "arbor_node_oom_kills_total", "counter",
	    "Processes of a node the OOM killer killed (memory.events).",
	    offsetof(struct cgroup_acct, oom_kills), 1.0);
	http_metric_value(b, "arbor_node_series_truncated", "gauge",
	    "1 when the per-node series stop at 2000 nodes.", s.truncated);
	http_metric_value(b, "arbor_cgroups_available", "gauge",
	    "1 when nodes get cgroups (stats.cgroups says why not).",
	    cgroup_available());
	free(s.v);
}

void
http_metrics(struct http *h, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		http_error(h, req, 500, "out of memory");
		return;
	}
	http_metrics_tree(h, b);
	http_metrics_logs(b);
	http_metrics_health(b);
	http_metrics_daemon(h, b);
	http_metrics_requests(h, b);
	http_metrics_limits(h, b);
	http_metrics_nodes(h, b);
	http_send(h, req, 200, "text/plain; version=0.0.4; charset=utf-8", b);
	evbuffer_free(b);
}
