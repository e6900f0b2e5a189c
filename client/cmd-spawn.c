/* arborctl spawn: start a program as an exec node; and what every command
 * that creates nodes shares (spawn_*): common options, NAME or path, send. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"
#include "spec.h"
#include "ctl.h"

static int spawn_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_spawn = {
	.name = "spawn",
	.usage =
	    "spawn [-p PARENT] [-r RESTART] [--grace DUR] [--timeout DUR]\n"
	    "                      [--ready MODE] [--watchdog DUR] [-e K=V]...\n"
	    "                      [-C DIR] [--user U] [--group G]\n"
	    "                      [--rlimit NAME=N]...\n"
	    "                      [--socket LISTEN[=NAME]]... [-n N]\n"
	    "                      NAME -- PROGRAM [ARG...]\n"
	    "\n" SPAWN_OPTS_HELP IDENT_OPTS_HELP
	    "      --ready MODE    exec (default): running once executed;\n"
	    "                      fd: once it writes a line to $ARBOR_READY_FD;\n"
	    "                      notify: once it sends READY=1 (sd_notify)\n"
	    "      --watchdog DUR  it must send WATCHDOG=1 this often (sd_notify)\n"
	    "  -e, --env K=V       add a variable to its environment (repeatable)\n"
	    "  -C, --cwd DIR       its working directory (relative to here)\n"
	    "  -n, --instances N   N copies, NAME/0 ... NAME/N-1, under a\n"
	    "                      supervisor at NAME, sharing its sockets;\n"
	    "                      each gets ARBOR_INSTANCE (1-1000)\n" SPAWN_SOCKET_HELP
	        SPAWN_NAME_HELP
	    "PROGRAM without a / is looked up in the daemon's PATH; no shell is\n"
	    "involved.\n",
	.summary = "start a program as a new node",
	.run = spawn_run,
};

enum {
	OPT_READY = SPAWN_OPT_NEXT,
	OPT_WATCHDOG,
	OPT_SOCKET,
	OPT_INSTANCES,
};

int
spawn_args_init(struct spawn_args *a)
{
	a->parent = NULL;
	if ((a->spec = json_object()) == NULL)
		return ctl_oom();
	return 0;
}

void
spawn_args_free(struct spawn_args *a)
{
	json_decref(a->spec);
	a->spec = NULL;
}

/* Sets spec.key to a new value, reporting only running out of memory. */
static int
spawn_set(json_t *spec, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(spec, key, v) != 0)
		return ctl_oom();
	return 0;
}

/*
 * The options every kind of node has, then the common ones: returns
 * CTL_CONTINUE to go on parsing, else the exit status (0 after --help).
 */
int
spawn_opt(struct ctl *c, struct spawn_args *a, int ch, char **argv)
{
	int64_t ms;
	int rc = 0;

	switch (ch) {
	case 'p':
		if ((rc = ctl_path_arg(c, &optarg)) == 0)
			a->parent = optarg;
		break;
	case 'r':
		if ((rc = ctl_parse_choice(c, "--restart", optarg,
		         spec_restart_names)) == 0)
			rc = spawn_set(a->spec, "restart", json_string(optarg));
		break;
	case SPAWN_OPT_GRACE:
		if ((rc = ctl_parse_duration(c, "--grace", optarg, &ms)) == 0)
			rc = spawn_set(a->spec, "shutdown_ms",
			    json_integer(ms));
		break;
	case SPAWN_OPT_TIMEOUT:
		if ((rc = ctl_parse_duration(c, "--timeout", optarg, &ms)) == 0)
			rc = spawn_set(a->spec, "timeout_ms", json_integer(ms));
		break;
	default:
		return ctl_opt_common(c, ch, argv);
	}
	return rc == 0 ? CTL_CONTINUE : rc;
}

/*
 * NAME under -p (or "/"), or a whole path: "/web/w1" (or "web/w1") is w1
 * under /web, which is what people copy from `arborctl tree`. Sets parent,
 * name, kind.
 */
int
spawn_target(struct ctl *c, struct spawn_args *a, const char *target,
    const char *kind)
{
	struct proto_err err;
	const char *slash;
	json_t *parent;

	proto_err_clear(&err);
	/* "web/w1" is a path too: bare paths are under / everywhere. */
	if (target[0] != '/' && strchr(target, '/') != NULL &&
	    (target = ctl_abs_path(c, target)) == NULL)
		return ctl_oom();
	if (target[0] == '/') {
		if (a->parent != NULL)
			return ctl_usage(c,
			    "give NAME with -p, or a full path "
			    "like %s, not both",
			    target);
		if (strcmp(target, "/") == 0)
			return ctl_usage(c,
			    "/ always exists; give the new "
			    "node a name");
		if (proto_path_check(target, "path", &err) != 0)
			return ctl_usage(c, "%s", err.message);
		slash = strrchr(target, '/');
		parent = slash == target ?
		    json_string("/") :
		    json_stringn(target, (size_t)(slash - target));
		if (spawn_set(a->spec, "parent", parent) != 0 ||
		    spawn_set(a->spec, "name", json_string(slash + 1)) != 0)
			return CTL_EXIT_ERROR;
	} else {
		if (proto_name_check(target, "name", &err) != 0)
			return ctl_usage(c, "%s", err.message);
		if (spawn_set(a->spec, "parent",
		        json_string(a->parent != NULL ? a->parent : "/")) !=
		        0 ||
		    spawn_set(a->spec, "name", json_string(target)) != 0)
			return CTL_EXIT_ERROR;
	}
	return spawn_set(a->spec, "kind", json_string(kind));
}

/* One spawn, its view printed. spec is stolen. */
int
spawn_send(struct ctl *c, json_t *spec)
{
	return ctl_call_view(c, "spawn", spec);
}

/* K=V into env; a later -e of the same K wins, as in a shell. */
static int
spawn_env(struct ctl *c, json_t *spec, const char *kv)
{
	const char *eq = strchr(kv, '=');
	json_t *env;
	char *key;
	int rc;

	if (eq == NULL || eq == kv)
		return ctl_usage(c, "-e wants KEY=VALUE, not '%s'", kv);
	if ((env = json_object_get(spec, "env")) == NULL) {
		if (spawn_set(spec, "env", json_object()) != 0)
			return CTL_EXIT_ERROR;
		env = json_object_get(spec, "env");
	}
	if ((key = strndup(kv, (size_t)(eq - kv))) == NULL)
		return ctl_oom();
	rc = spawn_set(env, key, json_string(eq + 1));
	free(key);
	return rc;
}

/* LISTEN[=NAME]: the name after the last '=' (a listen text has none,
 * but for a unix path; such a one goes through `arborctl call`). */
int
spawn_socket(struct ctl *c, json_t *spec, const char *arg)
{
	const char *eq = strrchr(arg, '=');
	json_t *list, *sock;
	char *listen;

	if (*arg == '\0' || eq == arg)
		return ctl_usage(c,
		    "--socket wants LISTEN[=NAME], like "
		    "tcp:127.0.0.1:8080=http");
	if ((list = json_object_get(spec, "sockets")) == NULL) {
		if (spawn_set(spec, "sockets", json_array()) != 0)
			return CTL_EXIT_ERROR;
		list = json_object_get(spec, "sockets");
	}
	listen = eq != NULL ? strndup(arg, (size_t)(eq - arg)) : strdup(arg);
	if (listen == NULL)
		return ctl_oom();
	sock = json_pack("{s:s}", "listen", listen);
	free(listen);
	if (sock == NULL ||
	    (eq != NULL && spawn_set(sock, "name", json_string(eq + 1)) != 0) ||
	    json_array_append_new(list, sock) != 0)
		return ctl_oom();
	return 0;
}

/* The daemon runs elsewhere, so "-C ." must mean this directory, not its. */
static int
spawn_cwd(struct ctl *c, json_t *spec, const char *dir)
{
	char *here, *abs;
	int rc;

	if (*dir == '\0')
		return ctl_usage(c, "-C wants a directory");
	if (dir[0] == '/')
		return spawn_set(spec, "cwd", json_string(dir));
	if ((here = getcwd(NULL, 0)) == NULL) {
		fprintf(stderr, "arborctl: the current directory: %s\n",
		    strerror(errno));
		return CTL_EXIT_USAGE;
	}
	if ((abs = malloc(strlen(here) + strlen(dir) + 2)) == NULL) {
		free(here);
		return ctl_oom();
	}
	sprintf(abs, "%s%s%s", here, strcmp(here, "/") == 0 ? "" : "/", dir);
	rc = spawn_set(spec, "cwd", json_string(abs));
	free(abs);
	free(here);
	return rc;
}

static int
spawn_argv(struct ctl *c, json_t *spec, int argc, char **argv)
{
	json_t *array;
	int i;

	if ((array = json_array()) == NULL)
		return ctl_oom();
	for (i = 0; i < argc; i++) {
		if (json_array_append_new(array, json_string(argv[i])) != 0) {
			json_decref(array);
			return ctl_oom();
		}
	}
	(void)c;
	return spawn_set(spec, "argv", array);
}

/* NAME [--] PROGRAM [ARG...]: options stop at NAME, so anything
 * dash-like right after it was meant as an option, too late. The index
 * of PROGRAM into *prog: 0, or a usage error's exit status. */
static int
spawn_operands(struct ctl *c, int argc, char **argv, int *prog)
{
	int i = 1;

	if (argc == 0)
		return ctl_usage(c, "missing NAME and PROGRAM");
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	else if (i < argc && argv[i][0] == '-')
		return ctl_usage(c,
		    "options go before NAME; put -- before a PROGRAM "
		    "that starts with '-' (got '%s')",
		    argv[i]);
	if (i >= argc)
		return ctl_usage(c, "missing PROGRAM after NAME");
	if (argv[i][0] == '\0')
		return ctl_usage(c, "PROGRAM is empty");
	*prog = i;
	return 0;
}

/* --instances N. */
static int
spawn_instances(struct ctl *c, json_t *spec, const char *arg)
{
	long long n;

	if (ctl_parse_int(arg, 1, SPEC_INSTANCES_MAX, &n) != 0)
		return ctl_usage(c,
		    "--instances takes a number from 1 to %d, got '%s'",
		    SPEC_INSTANCES_MAX, arg);
	return spawn_set(spec, "instances", json_integer(n));
}

static int
spawn_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		SPAWN_LONGOPTS,
		IDENT_LONGOPTS,
		{ "ready", required_argument, NULL, OPT_READY },
		{ "watchdog", required_argument, NULL, OPT_WATCHDOG },
		{ "env", required_argument, NULL, 'e' },
		{ "cwd", required_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "instances", required_argument, NULL, 'n' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct spawn_args a;
	int ch, rc, i;

	if ((rc = spawn_args_init(&a)) != 0)
		return rc;
	while ((ch = getopt_long(argc, argv,
	            "+:h" SPAWN_SHORTOPTS "e:C:n:", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_READY:
			rc = ctl_parse_choice(c, "--ready", optarg,
			    spec_ready_names);
			if (rc == 0)
				rc = spawn_set(a.spec, "ready",
				    json_string(optarg));
			break;
		case OPT_WATCHDOG: {
			int64_t ms;

			rc = ctl_parse_duration(c, "--watchdog", optarg, &ms);
			if (rc == 0)
				rc = spawn_set(a.spec, "watchdog_ms",
				    json_integer(ms));
			break;
		}
		case 'e':
			rc = spawn_env(c, a.spec, optarg);
			break;
		case 'C':
			rc = spawn_cwd(c, a.spec, optarg);
			break;
		case OPT_SOCKET:
			rc = spawn_socket(c, a.spec, optarg);
			break;
		case 'n':
			rc = spawn_instances(c, a.spec, optarg);
			break;
		default:
			if ((rc = ctl_ident_opt(c, a.spec, ch, optarg)) !=
			    CTL_CONTINUE)
				break;
			if ((rc = spawn_opt(c, &a, ch, argv)) != CTL_CONTINUE)
				goto out;
			rc = 0;
			break;
		}
		if (rc != 0)
			goto out;
	}
	argc -= optind;
	argv += optind;

	if ((rc = spawn_operands(c, argc, argv, &i)) != 0)
		goto out;
	if ((rc = spawn_target(c, &a, argv[0], "exec")) != 0 ||
	    (rc = spawn_argv(c, a.spec, argc - i, argv + i)) != 0)
		goto out;
	rc = spawn_send(c, a.spec);
	a.spec = NULL;
out:
	spawn_args_free(&a);
	return rc;
}
