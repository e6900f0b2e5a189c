/* arbord: options, signals, and the loop. */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "daemon.h"
#include "duration.h"
#include "exec.h"
#include "frame.h"
#include "ident.h"
#include "jsonrpc.h"
#include "journal.h"
#include "log.h"
#include "notify.h"
#include "spec.h"

#define DEFAULT_MAX_NODES               2000000
#define DEFAULT_MAX_CONNECTIONS         1024
#define DEFAULT_MAX_PENDING             1024
#define DEFAULT_IDLE_TIMEOUT_MS         30000
#define DEFAULT_HTTP_MAX_CONNECTIONS    256
#define DEFAULT_HTTP_MAX_QUEUED         (64 * 1024 * 1024)
#define DEFAULT_HTTP_REQUEST_TIMEOUT_MS 10000

static const char usage_text[] =
    "usage: arbord [-s SOCKET] [--socket-group GROUP] [--config FILE]\n"
    "              [--state FILE] [--allow-users LIST] [--allow-groups LIST]\n"
    "              [--max-nodes N] [--max-message BYTES]\n"
    "              [--root-intensity N/DUR]\n"
    "              [--max-connections N] [--max-batch N]\n"
    "              [--idle-timeout DUR]\n"
    "              [--http ADDR:PORT [--http-token TOKEN]\n"
    "               [--http-max-connections N] [--http-max-queued BYTES]\n"
    "               [--http-request-timeout DUR]]\n"
    "              [--journal-socket PATH]\n"
    "              [--cgroup PATH | --no-cgroup]\n"
    "              [--log-level error|warn|info|debug]\n"
    "\n"
    "Runs the arbor supervision daemon in the foreground.\n"
    "\n"
    "  -s, --socket PATH       control socket (default: $ARBOR_SOCKET, else\n"
    "                          /run/arbor/arbord.sock for root, else\n"
    "                          $XDG_RUNTIME_DIR/arbor/arbord.sock)\n"
    "      --socket-group G    socket mode 0660 with group G (default 0600)\n"
    "  -c, --config FILE       spawn the node specs in FILE at start; SIGHUP\n"
    "                          and `arborctl reload` apply its changes\n"
    "      --state FILE        save client-spawned permanent nodes in FILE\n"
    "                          and bring them back at start\n"
    "      --allow-users LIST  users workers may run as: names or uids,\n"
    "                          comma-separated (default: any; the control\n"
    "                          socket is then root-equivalent)\n"
    "      --allow-groups LIST groups workers may run with (default: any\n"
    "                          with no --allow-users, else the user's own)\n"
    "      --max-nodes N       nodes in the tree, root included (2000000)\n"
    "      --root-intensity N/DUR  restarts the root allows in DUR before it\n"
    "                          gives up on the child that fails (3/5s)\n"
    "      --max-message BYTES longest request line (1048576)\n"
    "      --max-connections N clients at once (1024)\n"
    "      --max-batch N       requests in one batch (1000)\n"
    "      --idle-timeout DUR  time a client has to finish a message it\n"
    "                          began (30s; 0 waits forever)\n"
    "      --http ADDR:PORT    serve monitoring over HTTP on exactly that\n"
    "                          address (off by default; keep it on loopback)\n"
    "      --http-token T      allow POST /v1/rpc with \"Authorization: Bearer\n"
    "                          T\" (default: $ARBOR_HTTP_TOKEN, which ps\n"
    "                          does not show)\n"
    "      --http-max-connections N  HTTP clients at once (256)\n"
    "      --http-max-queued BYTES  answers waiting for HTTP clients that\n"
    "                          do not read, over all; past it new requests\n"
    "                          get 503 (67108864)\n"
    "      --http-request-timeout DUR  time an HTTP request has to arrive\n"
    "                          whole (10s; 0 waits forever)\n"
    "      --journal-socket PATH  where workers' lines go to journald\n"
    "                          (default: $ARBOR_JOURNAL_SOCKET, else\n"
    "                          /run/systemd/journal/socket)\n"
    "      --cgroup PATH       give nodes cgroups below PATH, a directory in\n"
    "                          a cgroup2 file system (made if missing;\n"
    "                          default: arbord's own cgroup when delegated,\n"
    "                          else arbor/ at the top of the hierarchy)\n"
    "      --no-cgroup         no cgroups: process groups, the subreaper\n"
    "                          and the sentinel contain workers\n"
    "      --log-level LEVEL   error, warn, info (default) or debug\n"
    "  -h, --help              this text\n"
    "  -V, --version           the version\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

static int
parse_size(const char *s, const char *what, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min ||
	    v > max) {
		fprintf(stderr,
		    "arbord: %s must be a number from %zu to %zu, "
		    "got \"%s\"\n",
		    what, min, max, s);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

/* PROTOCOL.md's default path, in buf. */
static const char *
default_socket(char *buf, size_t size)
{
	const char *env = getenv("ARBOR_SOCKET"), *xdg;

	if (env != NULL && *env != '\0')
		return env;
	if (geteuid() == 0)
		return "/run/arbor/arbord.sock";
	if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && *xdg != '\0')
		snprintf(buf, size, "%s/arbor/arbord.sock", xdg);
	else
		snprintf(buf, size, "/tmp/arbor-%ld/arbord.sock",
		    (long)geteuid());
	return buf;
}

static void
main_reload_done(void *arg, json_t *result, const struct proto_err *err)
{
	json_decref(result);
}

/* SIGHUP speaks the reload protocol to the service manager every time:
 * RELOADING=1 (with MONOTONIC_USEC), then READY=1, also when there is
 * nothing to reload or the file is refused, so `systemctl reload` never
 * waits out its timeout. A reload that runs sends its own pair (conf.c);
 * one already under way sends its READY=1 when it ends. */
static void
main_reload(struct daemon *d)
{
	struct proto_err err;

	if (d->cfg.config_path == NULL) {
		log_info("SIGHUP: nothing to reload without --config");
		notify_reloading(d->notify);
		notify_reloaded(d->notify);
		return;
	}
	log_info("SIGHUP: reloading %s", d->cfg.config_path);
	if (conf_reload(d->config, main_reload_done, NULL, &err) == 0)
		return;
	log_warnx("SIGHUP: %s; the tree is unchanged", err.message);
	if (!conf_reloading(d->config)) {
		notify_reloading(d->notify);
		notify_reloaded(d->notify);
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		daemon_shutdown(d, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGHUP:
		main_reload(d);
		break;
	}
}

static const struct option main_longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "socket-group", required_argument, NULL, 'g' },
	{ "config", required_argument, NULL, 'c' },
	{ "state", required_argument, NULL, 'S' },
	{ "allow-users", required_argument, NULL, 'u' },
	{ "allow-groups", required_argument, NULL, 'G' },
	{ "max-nodes", required_argument, NULL, 'N' },
	{ "root-intensity", required_argument, NULL, 'R' },
	{ "max-message", required_argument, NULL, 'M' },
	{ "max-connections", required_argument, NULL, 'C' },
	{ "max-batch", required_argument, NULL, 'B' },
	{ "idle-timeout", required_argument, NULL, 'I' },
	{ "http", required_argument, NULL, 'H' },
	{ "http-token", required_argument, NULL, 'T' },
	{ "http-max-connections", required_argument, NULL, 'x' },
	{ "http-max-queued", required_argument, NULL, 'q' },
	{ "http-request-timeout", required_argument, NULL, 't' },
	{ "journal-socket", required_argument, NULL, 'j' },
	{ "cgroup", required_argument, NULL, 'P' },
	{ "no-cgroup", no_argument, NULL, 'n' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* What the command line says beyond the daemon's config. */
struct main_opts {
	int level;
	char *token; /* owned: --http-token, copied off argv */
	const char *allow_users, *allow_groups; /* borrowed from argv */
};

/* One option into cfg or o. Returns 0, 2 for a usage error, or 1 when
 * the program is done (help, version). Longer than most functions: one
 * case per option, each a few lines, is the option table written out;
 * splitting it would only scatter the table. */
static int
main_option(int ch, struct daemon_config *cfg, struct main_opts *o)
{
	struct proto_err err;

	switch (ch) {
	case 's':
		cfg->socket_path = optarg;
		return 0;
	case 'g':
		cfg->socket_group = optarg;
		return 0;
	case 'c':
		cfg->config_path = optarg;
		return 0;
	case 'S':
		cfg->state_path = optarg;
		return 0;
	case 'u':
		o->allow_users = optarg;
		return 0;
	case 'G':
		o->allow_groups = optarg;
		return 0;
	case 'N':
		return parse_size(optarg, "--max-nodes", 1, 100000000,
		           &cfg->max_nodes) == -1 ?
		    2 :
		    0;
	case 'R':
		if (proto_intensity_parse(optarg, SPEC_MAX_RESTARTS_MAX,
		        &cfg->root_max_restarts, &cfg->root_period_ms,
		        &err) == -1) {
			fprintf(stderr, "arbord: --root-intensity: %s\n",
			    err.message);
			return 2;
		}
		return 0;
	case 'M':
		return parse_size(optarg, "--max-message", 64,
		           256 * 1024 * 1024, &cfg->max_message) == -1 ?
		    2 :
		    0;
	case 'C':
		return parse_size(optarg, "--max-connections", 1, 1000000,
		           &cfg->max_connections) == -1 ?
		    2 :
		    0;
	case 'B':
		return parse_size(optarg, "--max-batch", 1, 1000000,
		           &cfg->max_batch) == -1 ?
		    2 :
		    0;
	case 'I':
		if (proto_duration_parse(optarg, &cfg->idle_timeout_ms, &err) ==
		    -1) {
			fprintf(stderr, "arbord: --idle-timeout: %s\n",
			    err.message);
			return 2;
		}
		return 0;
	case 'H':
		cfg->http_addr = optarg;
		return 0;
	case 'T':
		/* Kept out of ps from here on. */
		free(o->token);
		if ((o->token = strdup(optarg)) == NULL)
			fatalx("out of memory");
		memset(optarg, 'x', strlen(optarg));
		return 0;
	case 'x':
		return parse_size(optarg, "--http-max-connections", 1, 1000000,
		           &cfg->http_max_connections) == -1 ?
		    2 :
		    0;
	case 'q':
		return parse_size(optarg, "--http-max-queued", 65536,
		           (size_t)16 * 1024 * 1024 * 1024,
		           &cfg->http_max_queued) == -1 ?
		    2 :
		    0;
	case 't':
		if (proto_duration_parse(optarg, &cfg->http_request_timeout_ms,
		        &err) == -1) {
			fprintf(stderr, "arbord: --http-request-timeout: %s\n",
			    err.message);
			return 2;
		}
		return 0;
	case 'j':
		if (journal_configure(optarg) == -1) {
			fprintf(stderr,
			    "arbord: --journal-socket: path too "
			    "long for a socket\n");
			return 2;
		}
		return 0;
	case 'P':
		if (optarg[0] != '/') {
			fprintf(stderr,
			    "arbord: --cgroup needs an absolute "
			    "path\n");
			return 2;
		}
		cfg->cgroup_path = optarg;
		return 0;
	case 'n':
		cfg->no_cgroup = true;
		return 0;
	case 'l':
		if ((o->level = log_level_parse(optarg)) == -1) {
			fprintf(stderr, "arbord: unknown log level \"%s\"\n",
			    optarg);
			return 2;
		}
		return 0;
	case 'h':
		usage(stdout);
		return 1;
	case 'V':
		printf("arbord %s (protocol %d)\n", PACKAGE_VERSION,
		    PROTO_VERSION);
		return 1;
	default:
		usage(stderr);
		return 2;
	}
}

/* The command line into cfg and o: 0 to run, else main's exit code
 * (0 after help or version, 2 for a usage error). */
static int
main_parse(int argc, char **argv, struct daemon_config *cfg,
    struct main_opts *o, char *sockbuf, size_t socksize)
{
	int ch, r;

	memset(cfg, 0, sizeof *cfg);
	cfg->max_nodes = DEFAULT_MAX_NODES;
	cfg->root_max_restarts = SPEC_MAX_RESTARTS;
	cfg->root_period_ms = SPEC_PERIOD_MS;
	cfg->max_message = PROTO_MAX_MESSAGE_DEFAULT;
	cfg->max_connections = DEFAULT_MAX_CONNECTIONS;
	cfg->max_batch = PROTO_MAX_BATCH_DEFAULT;
	cfg->max_pending = DEFAULT_MAX_PENDING;
	cfg->idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
	cfg->http_max_connections = DEFAULT_HTTP_MAX_CONNECTIONS;
	cfg->http_max_queued = DEFAULT_HTTP_MAX_QUEUED;
	cfg->http_request_timeout_ms = DEFAULT_HTTP_REQUEST_TIMEOUT_MS;
	while (
	    (ch = getopt_long(argc, argv, "s:c:hV", main_longopts, NULL)) != -1)
		if ((r = main_option(ch, cfg, o)) != 0)
			return r == 1 ? -1 : 2;
	if (optind != argc) {
		fprintf(stderr, "arbord: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (cfg->socket_path == NULL)
		cfg->socket_path = default_socket(sockbuf, socksize);
	if (o->token != NULL && cfg->http_addr == NULL) {
		fprintf(stderr, "arbord: --http-token needs --http\n");
		return 2;
	}
	/* From the environment, and out of it, so workers do not inherit
	 * the token. */
	if (o->token == NULL && getenv("ARBOR_HTTP_TOKEN") != NULL &&
	    *getenv("ARBOR_HTTP_TOKEN") != '\0' &&
	    (o->token = strdup(getenv("ARBOR_HTTP_TOKEN"))) == NULL)
		fatalx("out of memory");
	unsetenv("ARBOR_HTTP_TOKEN");
	cfg->http_token = o->token;
	return 0;
}

/* arbord's own fd limit up to the hard one, so clients and workers' pipes
 * have room (the soft limit is often 1024, for select's sake); workers get
 * back the limit it found. */
static void
main_raise_nofile(void)
{
	struct rlimit rl, found;
	FILE *f;
	unsigned long long nr_open;

	if (getrlimit(RLIMIT_NOFILE, &found) == -1)
		return;
	rl = found;
	if (rl.rlim_max == RLIM_INFINITY) {
		/* The kernel's ceiling for any process. */
		rl.rlim_cur = 1024 * 1024;
		if ((f = fopen("/proc/sys/fs/nr_open", "r")) != NULL) {
			if (fscanf(f, "%llu", &nr_open) == 1)
				rl.rlim_cur = (rlim_t)nr_open;
			fclose(f);
		}
	} else {
		rl.rlim_cur = rl.rlim_max;
	}
	if (rl.rlim_cur <= found.rlim_cur)
		return;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("cannot raise the fd limit from %llu",
		    (unsigned long long)found.rlim_cur);
		return;
	}
	exec_set_child_nofile(&found);
	log_debug("fd limit raised from %llu to %llu; workers get %llu",
	    (unsigned long long)found.rlim_cur, (unsigned long long)rl.rlim_cur,
	    (unsigned long long)found.rlim_cur);
}

int
main(int argc, char **argv)
{
	struct main_opts o = { .level = LOG_LEVEL_INFO };
	struct daemon_config cfg;
	struct daemon d;
	struct event *sigs[3];
	static const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	char sockbuf[PATH_MAX];
	sigset_t startup;
	struct proto_err err;
	int code;

	if ((code = main_parse(argc, argv, &cfg, &o, sockbuf,
	         sizeof sockbuf)) != 0) {
		free(o.token);
		return code == -1 ? 0 : code;
	}
	log_init(o.level);
	if (ident_allow_set(o.allow_users, o.allow_groups, &err) == -1) {
		fprintf(stderr, "arbord: %s\n", err.message);
		free(o.token);
		return 2;
	}
	main_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	/* A stop asked for while starting stays pending until the loop
	 * watches for it, instead of killing a half-made daemon. */
	sigemptyset(&startup);
	for (int i = 0; i < 3; i++)
		sigaddset(&startup, signums[i]);
	sigprocmask(SIG_BLOCK, &startup, NULL);

	if (daemon_init(&d, &cfg) == -1) {
		daemon_free(&d);
		ident_allow_free();
		free(o.token);
		return 1;
	}
	for (int i = 0; i < 3; i++)
		if ((sigs[i] = evsignal_new(d.base, signums[i], signal_cb,
		         &d)) == NULL ||
		    evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot watch signals");
	sigprocmask(SIG_UNBLOCK, &startup, NULL);
	if (conf_start(d.config, &err) == -1) {
		log_warnx("%s", err.message);
		code = 1;
	}
	if (code == 0) {
		log_info("arbord %s ready on %s (pid %ld)", PACKAGE_VERSION,
		    cfg.socket_path, (long)d.pid);
		notify_startup_done(d.notify);
		event_base_dispatch(d.base);
	}
	/* On the way out a late SIGTERM must not kill the teardown (freeing
	 * the watchers would give it back its default action). */
	sigprocmask(SIG_BLOCK, &startup, NULL);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	daemon_free(&d);
	ident_allow_free();
	free(o.token);
	return code;
}
