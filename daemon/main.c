/* arbord: options, signals, and the loop. */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "frame.h"
#include "jsonrpc.h"
#include "log.h"

#define DEFAULT_MAX_NODES 2000000
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_MAX_PENDING 1024

static const char usage_text[] =
"usage: arbord [-s SOCKET] [--socket-group GROUP] [--config FILE]\n"
"              [--max-nodes N] [--max-message BYTES]\n"
"              [--max-connections N] [--max-batch N]\n"
"              [--log-level error|warn|info|debug]\n"
"\n"
"Runs the arbor supervision daemon in the foreground.\n"
"\n"
"  -s, --socket PATH       control socket (default: $ARBOR_SOCKET, else\n"
"                          /run/arbor/arbord.sock for root, else\n"
"                          $XDG_RUNTIME_DIR/arbor/arbord.sock)\n"
"      --socket-group G    socket mode 0660 with group G (default 0600)\n"
"  -c, --config FILE       spawn the node specs in FILE at start\n"
"      --max-nodes N       nodes in the tree, root included (2000000)\n"
"      --max-message BYTES longest request line (1048576)\n"
"      --max-connections N clients at once (1024)\n"
"      --max-batch N       requests in one batch (1000)\n"
"      --log-level LEVEL   error, warn, info (default) or debug\n"
"  -h, --help              this text\n"
"  -V, --version           the version\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

static int
parse_size(const char *s, const char *what, size_t min, size_t max,
    size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min ||
	    v > max) {
		fprintf(stderr, "arbord: %s must be a number from %zu to %zu, "
		    "got \"%s\"\n", what, min, max, s);
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
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		daemon_shutdown(d, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGHUP:
		log_info("SIGHUP: nothing to reload without --config");
		break;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "config", required_argument, NULL, 'c' },
		{ "max-nodes", required_argument, NULL, 'N' },
		{ "max-message", required_argument, NULL, 'M' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "max-batch", required_argument, NULL, 'B' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon_config cfg;
	struct daemon d;
	struct event *sigs[3];
	static const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	char sockbuf[PATH_MAX];
	sigset_t startup;
	struct proto_err err;
	int ch, level = LOG_LEVEL_INFO, code = 0;

	memset(&cfg, 0, sizeof cfg);
	cfg.max_nodes = DEFAULT_MAX_NODES;
	cfg.max_message = PROTO_MAX_MESSAGE_DEFAULT;
	cfg.max_connections = DEFAULT_MAX_CONNECTIONS;
	cfg.max_batch = PROTO_MAX_BATCH_DEFAULT;
	cfg.max_pending = DEFAULT_MAX_PENDING;
	while ((ch = getopt_long(argc, argv, "s:c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			cfg.socket_path = optarg;
			break;
		case 'g':
			cfg.socket_group = optarg;
			break;
		case 'c':
			cfg.config_path = optarg;
			break;
		case 'N':
			if (parse_size(optarg, "--max-nodes", 1, 100000000,
			    &cfg.max_nodes) == -1)
				return 2;
			break;
		case 'M':
			if (parse_size(optarg, "--max-message", 64,
			    256 * 1024 * 1024, &cfg.max_message) == -1)
				return 2;
			break;
		case 'C':
			if (parse_size(optarg, "--max-connections", 1, 1000000,
			    &cfg.max_connections) == -1)
				return 2;
			break;
		case 'B':
			if (parse_size(optarg, "--max-batch", 1, 1000000,
			    &cfg.max_batch) == -1)
				return 2;
			break;
		case 'l':
			if ((level = log_level_parse(optarg)) == -1) {
				fprintf(stderr, "arbord: unknown log level "
				    "\"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("arbord %s (protocol %d)\n", PACKAGE_VERSION,
			    PROTO_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "arbord: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (cfg.socket_path == NULL)
		cfg.socket_path = default_socket(sockbuf, sizeof sockbuf);
	log_init(level);
	signal(SIGPIPE, SIG_IGN);
	/* A stop asked for while starting stays pending until the loop
	 * watches for it, instead of killing a half-made daemon. */
	sigemptyset(&startup);
	for (int i = 0; i < 3; i++)
		sigaddset(&startup, signums[i]);
	sigprocmask(SIG_BLOCK, &startup, NULL);

	if (daemon_init(&d, &cfg) == -1) {
		daemon_free(&d);
		return 1;
	}
	for (int i = 0; i < 3; i++)
		if ((sigs[i] = evsignal_new(d.base, signums[i], signal_cb, &d))
		    == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot watch signals");
	sigprocmask(SIG_UNBLOCK, &startup, NULL);
	if (cfg.config_path != NULL &&
	    daemon_apply_file(&d, cfg.config_path, &err) == -1) {
		log_warnx("%s", err.message);
		code = 1;
	}
	if (code == 0) {
		log_info("arbord %s ready on %s (pid %ld)", PACKAGE_VERSION,
		    cfg.socket_path, (long)d.pid);
		event_base_dispatch(d.base);
	}
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	daemon_free(&d);
	return code;
}
