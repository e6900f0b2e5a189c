/*
 * The service manager's side: sd_notify messages (sent here, as sd_notify
 * does, so NOTIFY_SOCKET can leave the environment workers inherit), the
 * watchdog timer, the rate-limited STATUS line and socket activation.
 * libsystemd, when built with it, parses WATCHDOG_* and LISTEN_*; without
 * it the same variables are read here, so both builds behave alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "clock.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "timer.h"
#include "tree.h"

/* STATUS= at most this often, and only after something changed. */
#define NOTIFY_STATUS_MS 1000
#define NOTIFY_LISTEN_FD 3 /* SD_LISTEN_FDS_START */

struct notify {
	struct daemon *d;          /* borrowed */
	char *socket;              /* owned: NOTIFY_SOCKET; NULL: off */
	struct event *watchdog_ev; /* owned; NULL: no watchdog */
	struct event *status_ev;   /* owned */
	int64_t last_status_mono;
	bool waiting_ready; /* start-up done, READY not yet sent */
	bool ready;
};

static void
notify_send(struct notify *n, const char *msg)
{
	struct sockaddr_un sun;
	socklen_t len;
	size_t plen;
	int fd;

	if (n == NULL || n->socket == NULL)
		return;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	plen = strlen(n->socket);
	memcpy(sun.sun_path, n->socket, plen);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify: socket");
		return;
	}
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
	        (struct sockaddr *)&sun, len) == -1)
		log_debug("notify: sendto %s: %s", n->socket, strerror(errno));
	close(fd);
}

/* "STATUS=12 nodes: 10 running, 1 backoff, 1 failed" */
static void
notify_status_text(struct notify *n, char *buf, size_t size)
{
	const struct tree_stats *st = &n->d->tree->stats;
	const char *sep = ": ";
	size_t off;

	off = (size_t)snprintf(buf, size, "STATUS=%zu nodes", st->nodes);
	for (int i = 0; i < NODE__STATES && off < size; i++) {
		if (st->by_state[i] == 0)
			continue;
		off += (size_t)snprintf(buf + off, size - off,
		    "%s%" PRIu64 " %s", sep, st->by_state[i],
		    node_state_names[i]);
		sep = ", ";
	}
}

static void
notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	char buf[256];

	notify_status_text(n, buf, sizeof buf);
	notify_send(n, buf);
	n->last_status_mono = clock_mono_ms();
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_send(arg, "WATCHDOG=1");
}

/* The watchdog interval in microseconds, 0 when off. */
static uint64_t
notify_watchdog_usec(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(1, &usec) <= 0)
		return 0;
	return usec;
#else
	const char *s = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	unsigned long long usec = 0;
	char *end;

	if (s != NULL) {
		errno = 0;
		usec = strtoull(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0')
			usec = 0;
	}
	if (p != NULL && strtol(p, NULL, 10) != (long)getpid())
		usec = 0;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return usec;
#endif
}

struct notify *
notify_new(struct daemon *d)
{
	struct notify *n;
	const char *env = getenv("NOTIFY_SOCKET");
	uint64_t usec;

	if ((n = calloc(1, sizeof *n)) == NULL)
		return NULL;
	n->d = d;
	if (env != NULL && (env[0] == '/' || env[0] == '@') &&
	    strlen(env) < sizeof((struct sockaddr_un *)0)->sun_path &&
	    (n->socket = strdup(env)) == NULL)
		goto fail;
	unsetenv("NOTIFY_SOCKET");
	if ((n->status_ev = evtimer_new(d->base, notify_status_cb, n)) == NULL)
		goto fail;
	usec = notify_watchdog_usec();
	if (usec > 0 && n->socket != NULL) {
		struct timeval tv = {
			.tv_sec = (time_t)(usec / 2 / 1000000),
			.tv_usec = (suseconds_t)(usec / 2 % 1000000),
		};

		if ((n->watchdog_ev = event_new(d->base, -1, EV_PERSIST,
		         notify_watchdog_cb, n)) == NULL ||
		    event_add(n->watchdog_ev, &tv) == -1)
			goto fail;
		log_info("watchdog: pinging every %" PRIu64 " ms",
		    usec / 2 / 1000);
	}
	return n;
fail:
	notify_free(n);
	return NULL;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	timer_clear(&n->watchdog_ev);
	timer_clear(&n->status_ev);
	free(n->socket);
	free(n);
}

int
notify_listen_fd(struct proto_err *err)
{
	int fd = NOTIFY_LISTEN_FD, count;

	proto_err_clear(err);
#ifdef HAVE_SYSTEMD
	if ((count = sd_listen_fds(1)) < 0)
		return proto_errf(err, PROTO_INTERNAL, "LISTEN_FDS: %s",
		    strerror(-count));
	if (count == 0)
		return -1;
	if (count != 1 || sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "socket activation passed %d fds; arbord takes exactly one "
		    "listening unix stream socket (ListenStream=/path)",
		    count);
#else
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	int type = 0, acc = 0;
	socklen_t olen = sizeof type;

	count = fds != NULL ? atoi(fds) : 0;
	if (pid == NULL || strtol(pid, NULL, 10) != (long)getpid())
		count = 0;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (count == 0)
		return -1;
	if (count != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    type != SOCK_STREAM ||
	    (olen = sizeof acc,
	        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen)) == -1 ||
	    !acc || getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    sun.sun_family != AF_UNIX)
		return proto_errf(err, PROTO_INVALID_PARAMS,
		    "socket activation passed %d fds; arbord takes exactly one "
		    "listening unix stream socket (ListenStream=/path)",
		    count);
#endif
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		return proto_errf(err, PROTO_INTERNAL, "fcntl fd %d: %s", fd,
		    strerror(errno));
	return fd;
}

static void
notify_check_ready(struct notify *n)
{
	char buf[300];

	if (!n->waiting_ready || !conf_settled(n->d->config))
		return;
	n->waiting_ready = false;
	n->ready = true;
	strcpy(buf, "READY=1\n");
	notify_status_text(n, buf + strlen(buf), sizeof buf - strlen(buf));
	notify_send(n, buf);
	n->last_status_mono = clock_mono_ms();
	log_info("the configured tree is up");
}

void
notify_startup_done(struct notify *n)
{
	if (n == NULL)
		return;
	n->waiting_ready = true;
	notify_check_ready(n);
}

void
notify_tree_event(struct notify *n, const struct tree_event *ev)
{
	struct timeval tv;
	int64_t wait;

	if (n == NULL || n->socket == NULL || ev->type == TREE_EV_OUTPUT ||
	    ev->type == TREE_EV_STATUS)
		return;
	if (n->waiting_ready)
		notify_check_ready(n);
	if (!n->ready || evtimer_pending(n->status_ev, NULL))
		return;
	wait = n->last_status_mono + NOTIFY_STATUS_MS - clock_mono_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000 * 1000);
	evtimer_add(n->status_ev, &tv);
}

void
notify_reloading(struct notify *n)
{
	struct timespec ts;
	char buf[128];

	if (n == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof buf,
	    "RELOADING=1\nSTATUS=reloading the "
	    "config\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	notify_send(n, buf);
}

void
notify_reloaded(struct notify *n)
{
	char buf[300];

	/* A reload that ends during shutdown: STOPPING=1 was the last word. */
	if (n == NULL || n->d->stopping)
		return;
	strcpy(buf, "READY=1\n");
	notify_status_text(n, buf + strlen(buf), sizeof buf - strlen(buf));
	notify_send(n, buf);
	n->last_status_mono = clock_mono_ms();
	if (n->waiting_ready) {
		n->waiting_ready = false;
		n->ready = true;
	}
}

void
notify_stopping(struct notify *n)
{
	if (n == NULL)
		return;
	evtimer_del(n->status_ev);
	n->ready = false;
	n->waiting_ready = false;
	notify_send(n, "STOPPING=1\nSTATUS=stopping every node");
}
