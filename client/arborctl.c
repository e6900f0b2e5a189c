/* arborctl's main: global options, the command table, dispatch and help. */
#include <ctype.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "path.h"
#include "ctl.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static int help_run(struct ctl *, int, char **);

static const struct ctl_cmd ctl_cmd_help = {
	.name = "help",
	.usage = "help [COMMAND]",
	.summary = "show the help of arborctl or of one command",
	.run = help_run,
};

extern const struct ctl_cmd ctl_cmd_ping;
extern const struct ctl_cmd ctl_cmd_stats;
extern const struct ctl_cmd ctl_cmd_shutdown;
extern const struct ctl_cmd ctl_cmd_spawn;
extern const struct ctl_cmd ctl_cmd_sup;
extern const struct ctl_cmd ctl_cmd_actor;
extern const struct ctl_cmd ctl_cmd_apply;
extern const struct ctl_cmd ctl_cmd_cancel;
extern const struct ctl_cmd ctl_cmd_restart;
extern const struct ctl_cmd ctl_cmd_rm;
extern const struct ctl_cmd ctl_cmd_inspect;
extern const struct ctl_cmd ctl_cmd_tree;
extern const struct ctl_cmd ctl_cmd_logs;
extern const struct ctl_cmd ctl_cmd_wait;
extern const struct ctl_cmd ctl_cmd_call;
extern const struct ctl_cmd ctl_cmd_watch;
extern const struct ctl_cmd ctl_cmd_reload;
extern const struct ctl_cmd ctl_cmd_status;
extern const struct ctl_cmd ctl_cmd_ls;
extern const struct ctl_cmd ctl_cmd_top;
extern const struct ctl_cmd ctl_cmd_start;
extern const struct ctl_cmd ctl_cmd_stop;
extern const struct ctl_cmd ctl_cmd_signal;
extern const struct ctl_cmd ctl_cmd_scale;

/* In the order `arborctl --help` lists them. */
const struct ctl_cmd *const ctl_cmd_table[] = {
	&ctl_cmd_ping,
	&ctl_cmd_stats,
	&ctl_cmd_shutdown,
	&ctl_cmd_spawn,
	&ctl_cmd_sup,
	&ctl_cmd_actor,
	&ctl_cmd_apply,
	&ctl_cmd_cancel,
	&ctl_cmd_restart,
	&ctl_cmd_rm,
	&ctl_cmd_inspect,
	&ctl_cmd_tree,
	&ctl_cmd_logs,
	&ctl_cmd_wait,
	&ctl_cmd_call,
	&ctl_cmd_watch,
	&ctl_cmd_reload,
	&ctl_cmd_status,
	&ctl_cmd_ls,
	&ctl_cmd_top,
	&ctl_cmd_start,
	&ctl_cmd_stop,
	&ctl_cmd_signal,
	&ctl_cmd_scale,
	&ctl_cmd_help,
	NULL,
};

static const char ctl_main_usage[] =
    "usage: arborctl [-s SOCKET] [--json] COMMAND [ARG...]\n"
    "\n"
    "Control arbord, the arbor supervision daemon, over its unix socket.\n"
    "\n"
    "  -s, --socket PATH  the daemon's socket; default $ARBOR_SOCKET, else\n"
    "                     /run/arbor/arbord.sock for root, else\n"
    "                     $XDG_RUNTIME_DIR/arbor/arbord.sock\n"
    "                     (or /tmp/arbor-$UID/arbord.sock)\n"
    "      --json         print each result as JSON, one per line\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show arborctl's version\n"
    "\n"
    "commands:\n";

static const char ctl_main_footer[] =
    "\n"
    "Run 'arborctl help COMMAND' for the options of one command.\n"
    "Durations read 250ms, 5s, 2m, 1h.\n"
    "Exit status: 0 success, 1 the daemon answered with an error, 2 bad\n"
    "usage, 3 no daemon at the socket, 4 wait timed out.\n";

static const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	const struct ctl_cmd *const *cmd;

	for (cmd = ctl_cmd_table; *cmd != NULL; cmd++) {
		if (strcmp((*cmd)->name, name) == 0)
			return *cmd;
	}
	return NULL;
}

static int
ctl_unknown(struct ctl *c, const char *name)
{
	const char *near = ctl_suggest(name);

	if (near != NULL)
		return ctl_usage(c, "unknown command '%s'; did you mean '%s'?",
		    name, near);
	return ctl_usage(c, "unknown command '%s'", name);
}

/* cmd NULL: the program's help, with every command and its summary. */
void
ctl_help(const struct ctl_cmd *cmd, FILE *fp)
{
	const struct ctl_cmd *const *cp;
	const char *rest;
	int width = 0, n;

	if (cmd == NULL) {
		fputs(ctl_main_usage, fp);
		for (cp = ctl_cmd_table; *cp != NULL; cp++) {
			n = (int)strlen((*cp)->name);
			if (n > width)
				width = n;
		}
		for (cp = ctl_cmd_table; *cp != NULL; cp++)
			fprintf(fp, "  %-*s  %s\n", width, (*cp)->name,
			    (*cp)->summary);
		fputs(ctl_main_footer, fp);
		return;
	}

	/* The synopsis runs up to the first blank line; options follow. */
	rest = strstr(cmd->usage, "\n\n");
	if (rest == NULL)
		fprintf(fp, "usage: arborctl %s\n", cmd->usage);
	else
		fprintf(fp, "usage: arborctl %.*s\n", (int)(rest - cmd->usage),
		    cmd->usage);
	/* The summary is a sentence here, a fragment in the list. */
	fprintf(fp, "\n%c%s.\n", toupper((unsigned char)cmd->summary[0]),
	    cmd->summary + 1);
	if (rest != NULL)
		fprintf(fp, "\n%s", rest + 2);
	fflush(fp);
}

int
ctl_usage(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("arborctl: ", stderr);
	if (c->cmd != NULL)
		fprintf(stderr, "%s: ", c->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c->cmd != NULL)
		fprintf(stderr, "\nTry 'arborctl %s --help'.\n", c->cmd->name);
	else
		fputs("\nTry 'arborctl --help'.\n", stderr);
	return CTL_EXIT_USAGE;
}

/* The option getopt_long just complained about, as the user typed it. */
static const char *
ctl_opt_name(char **argv, char *buf, size_t size)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;
	size_t len;

	if (arg != NULL && strncmp(arg, "--", 2) == 0) {
		len = strcspn(arg, "=");
		snprintf(buf, size, "%.*s", (int)len, arg);
	} else if (optopt > 0 && optopt < 0x100)
		snprintf(buf, size, "-%c", optopt);
	else
		snprintf(buf, size, "%s", arg != NULL ? arg : "?");
	return buf;
}

/*
 * What every command's option loop does with an option it does not have:
 * --help and --json are the same everywhere, the rest is a usage error.
 * Returns CTL_CONTINUE to go on parsing, else the exit status.
 */
int
ctl_opt_common(struct ctl *c, int ch, char **argv)
{
	char name[64];

	switch (ch) {
	case 'h':
		ctl_help(c->cmd, stdout);
		return CTL_EXIT_OK;
	case CTL_OPT_JSON:
		c->json = true;
		return CTL_CONTINUE;
	case ':':
		return ctl_usage(c, "option %s needs a value",
		    ctl_opt_name(argv, name, sizeof name));
	case '?':
		/* getopt_long keeps optopt for a known long option given a
		 * value it does not take ("--json=1"). */
		ctl_opt_name(argv, name, sizeof name);
		if (optopt != 0 && strncmp(name, "--", 2) == 0)
			return ctl_usage(c, "option %s takes no value", name);
		return ctl_usage(c, "unknown option %s", name);
	default:
		/* A command listed an option it has no case for. */
		return ctl_usage(c, "option %s is not handled",
		    ctl_opt_name(argv, name, sizeof name));
	}
}

int
ctl_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	/* strtoll would skip blanks and take "+1"; people mean neither. */
	if (s[0] != '-' && (s[0] < '0' || s[0] > '9'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
ctl_parse_duration(struct ctl *c, const char *what, const char *s, int64_t *ms)
{
	struct proto_err err;

	proto_err_clear(&err);
	if (proto_duration_parse(s, ms, &err) != 0)
		return ctl_usage(c, "%s: %s", what, err.message);
	return 0;
}

int
ctl_check_path(struct ctl *c, const char *path)
{
	struct proto_err err;

	proto_err_clear(&err);
	if (proto_path_check(path, "path", &err) != 0)
		return ctl_usage(c, "%s", err.message);
	return 0;
}

/* One of a NULL-terminated list of words, or a usage error listing them. */
int
ctl_parse_choice(struct ctl *c, const char *what, const char *s,
    const char *const *choices)
{
	char list[256];
	size_t i, len = 0;

	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(s, choices[i]) == 0)
			return 0;
	}
	list[0] = '\0';
	for (i = 0; choices[i] != NULL && len < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
		    i == 0                     ? "" :
		        choices[i + 1] == NULL ? " or " :
		                                 ", ",
		    choices[i]);
	return ctl_usage(c, "%s must be %s, not '%s'", what, list, s);
}

/*
 * For commands with no options of their own: the common ones, then min to
 * max operands (max -1: any number) named what in messages; they start at
 * argv[optind]. Returns CTL_CONTINUE to go on, else the exit status.
 */
int
ctl_parse_args(struct ctl *c, int argc, char **argv, int min, int max,
    const char *what)
{
	static const struct option opts[] = {
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	int ch, rc, n;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
			return rc;
	}
	n = argc - optind;
	if (n < min)
		return ctl_usage(c, "missing %s", what);
	if (max >= 0 && n > max)
		return ctl_usage(c, "unexpected argument '%s'",
		    argv[optind + max]);
	return CTL_CONTINUE;
}

static int
help_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const struct ctl_cmd *cmd;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
			return rc;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		ctl_help(NULL, stdout);
		return CTL_EXIT_OK;
	}
	if (argc > 1)
		return ctl_usage(c, "unexpected argument '%s'", argv[1]);
	if ((cmd = ctl_cmd_find(argv[0])) == NULL)
		return ctl_unknown(c, argv[0]);
	ctl_help(cmd, stdout);
	return CTL_EXIT_OK;
}

/* Colour only for a person at a terminal who did not opt out. */
static bool
ctl_want_color(void)
{
	const char *term = getenv("TERM");

	if (getenv("NO_COLOR") != NULL || !isatty(STDOUT_FILENO))
		return false;
	return term != NULL && strcmp(term, "dumb") != 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c;
	const struct ctl_cmd *cmd;
	const char *socket = NULL;
	int ch, rc;

	memset(&c, 0, sizeof c);
	c.fd = -1;
	c.next_id = 1;
	proto_framer_init(&c.framer, (size_t)-1 / 2);

	setlocale(LC_CTYPE, "");
	c.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	c.color = ctl_want_color();

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket = optarg;
			break;
		case 'V':
			printf("arborctl %s (protocol 1)\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			if ((rc = ctl_opt_common(&c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return ctl_usage(&c, "no command given");
	if ((cmd = ctl_cmd_find(argv[0])) == NULL)
		return ctl_unknown(&c, argv[0]);
	c.cmd = cmd;
	/* Resolved only when a command connects: help needs no socket. */
	c.socket = socket;

	/* Each command parses its own options from argv[1] on. */
	optind = 0;
	rc = cmd->run(&c, argc, argv);
	ctl_close(&c);
	json_decref(c.paths);

	/* A result nobody could read is not a success ("> /dev/full"). */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "arborctl: writing the output: %s\n",
		    strerror(errno));
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_ERROR;
	}
	return rc;
}
