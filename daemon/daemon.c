/*
 * The daemon's context: wiring the tree's events to their listeners, the
 * shutdown sequence, and applying spec files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "clock.h"
#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "exec.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "path.h"
#include "reaper.h"
#include "sentinel.h"
#include "server.h"
#include "spec.h"
#include "state.h"
#include "timer.h"

/* How long, at most, exit waits for clients to take their last answers. */
#define DAEMON_FLUSH_TRIES 40 /* of 25 ms */

static void
daemon_tree_event(void *arg, const struct tree_event *ev)
{
	struct daemon *d = arg;

	waiters_event(&d->waiters, ev);
	stats_tree_event(&d->stats, ev);
	events_tree_event(d->events, ev);
	state_tree_event(d->state, ev);
	notify_tree_event(d->notify, ev);
	/* A supervisor's cgroup goes with it (its children's went first). */
	if (node_is_sup(ev->node) &&
	    ((ev->type == TREE_EV_STATE && ev->to != ev->from &&
	         (ev->to == NODE_EXITED || ev->to == NODE_FAILED)) ||
	        ev->type == TREE_EV_REMOVED))
		cgroup_node_remove(ev->node);
	if (d->stopping && ev->type == TREE_EV_STATE && tree_idle(d->tree) &&
	    !evtimer_pending(d->exit_check, NULL))
		event_active(d->exit_check, 0, 0);
}

static void
daemon_view_hook(void *arg, const struct node *n, json_t *view, bool fresh)
{
	if (node_is_sup(n))
		cgroup_sup_view(n, view, fresh);
}

static void
daemon_exit_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, 25 * 1000 };

	if (!tree_idle(d->tree))
		return;
	if (d->exit_tries == 0)
		log_info("every node has terminated; exiting");
	if (server_output_empty(d->server) ||
	    ++d->exit_tries > DAEMON_FLUSH_TRIES) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(d->exit_check, &tv);
}

int
daemon_init(struct daemon *d, const struct daemon_config *cfg)
{
	struct tree_limits lim = { .max_nodes = cfg->max_nodes,
		.root_max_restarts = cfg->root_max_restarts,
		.root_period_ms = cfg->root_period_ms };
	struct tree_hooks hooks = { .event = daemon_tree_event,
		.view = daemon_view_hook,
		.arg = d };
	struct cgroup_config cgc = { .path = cfg->cgroup_path,
		.disabled = cfg->no_cgroup };
	struct proto_err err;
	int listen_fd;

	memset(d, 0, sizeof *d);
	d->cfg = *cfg;
	d->pid = getpid();
	d->started_mono = clock_mono_ms();
	/* Before the sentinel forks: it must not hold systemd's socket. */
	if ((listen_fd = notify_listen_fd(&err)) == -1 && err.code != 0) {
		log_warnx("%s", err.message);
		return -1;
	}
	/* First, so the sentinel holds nothing of the daemon's. */
	if (sentinel_start() == -1)
		log_warnx("no sentinel: grandchildren may outlive a crash");
	/* Three priorities: everything runs at the middle one but the
	 * state's group commit, which waits at the lowest until a turn has
	 * no request left to read (daemon.h). */
	if ((d->base = event_base_new()) == NULL ||
	    event_base_priority_init(d->base, DAEMON_PRIORITIES) == -1) {
		log_warnx("cannot create the event loop");
		return -1;
	}
	if (reaper_init(d->base) == -1 || sentinel_attach(d->base) == -1) {
		log_warnx("cannot watch child processes");
		return -1;
	}
	if (exec_init(d->base) == -1 || cgroup_init(d->base, &cgc) == -1) {
		log_warnx("out of memory");
		return -1;
	}
	if ((d->events = events_new(d->base)) == NULL ||
	    (d->tree = tree_new(d->base, &lim, &hooks)) == NULL ||
	    waiters_init(&d->waiters, d->base, d->tree) == -1 ||
	    (d->exit_check = evtimer_new(d->base, daemon_exit_check_cb, d)) ==
	        NULL) {
		log_warnx("out of memory");
		return -1;
	}
	if ((d->notify = notify_new(d)) == NULL ||
	    (d->config = conf_new(d, cfg->config_path)) == NULL ||
	    (cfg->state_path != NULL &&
	        (d->state = state_new(d, cfg->state_path)) == NULL)) {
		if (listen_fd != -1)
			close(listen_fd);
		log_warnx("out of memory");
		return -1;
	}
	if ((d->server = listen_fd != -1 ?
	            server_new_fd(d, listen_fd, cfg->socket_group, &err) :
	            server_new(d, cfg->socket_path, cfg->socket_group, &err)) ==
	    NULL) {
		log_warnx("%s", err.message);
		return -1;
	}
	if (cfg->http_addr != NULL &&
	    (d->http = http_new(d, cfg->http_addr, cfg->http_token, &err)) ==
	        NULL) {
		log_warnx("%s", err.message);
		return -1;
	}
	return 0;
}

void
daemon_free(struct daemon *d)
{
	http_free(d->http);
	server_free(d->server);
	/* After the server (its calls detach from a reload), before the
	 * waiters (a reload holds some). */
	conf_free(d->config);
	d->config = NULL;
	state_free(d->state);
	d->state = NULL;
	tree_free(d->tree);
	exec_teardown();
	/* Before the sentinel goes: what is left is killed and removed. */
	cgroup_teardown();
	/* Every node has terminated: the sentinel goes without killing. */
	sentinel_stop();
	reaper_free();
	waiters_free(&d->waiters);
	events_free(d->events);
	notify_free(d->notify);
	timer_clear(&d->exit_check);
	if (d->base != NULL)
		event_base_free(d->base);
}

void
daemon_shutdown(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	log_info("%s: stopping every node", why);
	d->stopping = true;
	notify_stopping(d->notify);
	state_freeze(d->state);
	server_stop_accepting(d->server);
	tree_shutdown(d->tree);
	/* Checked from the loop, so an answer being built now goes out. */
	event_active(d->exit_check, 0, 0);
}

int64_t
daemon_uptime_ms(const struct daemon *d)
{
	return clock_mono_ms() - d->started_mono;
}
