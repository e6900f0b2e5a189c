/*
 * arborctl's shared declarations: the context every command gets, the
 * command entry, and the helpers of arborctl.c (arguments, usage),
 * ctl-util.c (small shared checks), ctl-conn.c (the socket), ctl-output.c
 * (printing) and cmd-spawn.c (what the commands that create nodes share).
 */
#ifndef CTL_H
#define CTL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <getopt.h>
#include <jansson.h>

#include "frame.h"

/* Exit statuses; scripts rely on them, so they never change meaning. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_ERROR = 1,    /* the daemon answered with an error */
	CTL_EXIT_USAGE = 2,    /* bad usage; nothing was sent */
	CTL_EXIT_NODAEMON = 3, /* no daemon at the socket, or it went away */
	CTL_EXIT_TIMEOUT = 4,  /* `wait` ran out of time */
};

/* ctl_opt_common's "not mine, keep parsing". */
#define CTL_CONTINUE (-1)

/* getopt_long values for long-only options; commands number theirs from
 * CTL_OPT_CMD so they never collide with the common ones. */
enum {
	CTL_OPT_JSON = 0x100,
	CTL_OPT_CMD = 0x110,
};

/* Every command accepts these after its name as well. */
#define CTL_LONGOPTS_COMMON                                                    \
	{ "help", no_argument, NULL, 'h' },                                    \
	{                                                                      \
		"json", no_argument, NULL, CTL_OPT_JSON                        \
	}

struct ctl {
	const char *socket; /* borrowed: -s, environ or socket_buf */
	char socket_buf[PATH_MAX];
	bool json;                 /* --json: results as JSON, one per line */
	bool color;                /* stdout is a terminal that wants colour */
	bool utf8;                 /* the locale can draw box-drawing guides */
	const struct ctl_cmd *cmd; /* borrowed: the command running */

	int fd;    /* owned; -1 until the first request */
	char *buf; /* owned: bytes read, not yet framed from off */
	size_t off;
	size_t len;
	size_t size;
	struct proto_framer framer;
	json_int_t next_id;
	json_t *early; /* owned: responses read before asked for */
	json_t *paths; /* owned: bare names made paths (ctl_abs_path) */
};

struct ctl_cmd {
	const char *name;
	/* The synopsis after "arborctl ", then optionally a blank line and
	 * option descriptions for `arborctl help NAME`. */
	const char *usage;
	const char *summary; /* one line for `arborctl --help` */
	/* argv[0] is the command's name; returns an enum ctl_exit. */
	int (*run)(struct ctl *, int argc, char **argv);
};

extern const struct ctl_cmd *const ctl_cmd_table[];

/* arborctl.c: usage, help and argument parsing. */
int ctl_usage(struct ctl *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ctl_help(const struct ctl_cmd *, FILE *);
int ctl_opt_common(struct ctl *, int ch, char **argv);
int
ctl_parse_duration(struct ctl *, const char *what, const char *s, int64_t *ms);
int ctl_parse_int(const char *s, long long min, long long max, long long *out);
int ctl_parse_choice(struct ctl *, const char *what, const char *s,
    const char *const *choices);
int ctl_check_path(struct ctl *, const char *path);
int ctl_parse_args(struct ctl *, int argc, char **argv, int min, int max,
    const char *what);

/* ctl-util.c. ctl_oom says so on stderr and returns CTL_EXIT_ERROR. The
 * others take the one operand at argv[optind] (dflt: it may be left out)
 * and return 0 or the exit status of a usage error. */
int ctl_oom(void);
int ctl_one_arg(struct ctl *, int argc, char **argv, const char *what,
    const char *dflt, const char **arg);
int ctl_one_path(struct ctl *, int argc, char **argv, const char *dflt,
    const char **path);
/* A bare name means the node under /: "web" is "/web". Returns arg, or a
 * copy c keeps (c->paths); NULL when out of memory. */
char *ctl_abs_path(struct ctl *, const char *arg);
/* *arg made absolute (ctl_abs_path) and checked: 0 or an exit status. */
int ctl_path_arg(struct ctl *, char **arg);
/* cancel of each path (made absolute), with a reason, wait and remove as
 * given; cancel and stop share it. An exit status. */
int ctl_cancel(struct ctl *, int argc, char **argv, const char *reason,
    bool wait, bool rm);
/* --reason TEXT of cancel and stop into *reason: 0, or a usage error's
 * exit status when it is longer than the daemon takes. */
int ctl_reason_arg(struct ctl *, const char *arg, const char **reason);
/* The command a mistyped name most likely meant, or NULL. */
const char *ctl_suggest(const char *typed);

/* ctl-conn.c: the connection to arbord. Each returns an enum ctl_exit
 * after saying what went wrong on stderr. */
void ctl_close(struct ctl *);
int ctl_send(struct ctl *, const char *method, json_t *params, json_int_t *id);
int ctl_recv(struct ctl *, json_int_t id, json_t **msg);
json_t *ctl_result(struct ctl *, json_t *msg, int *rc);
int ctl_report_error(struct ctl *, const json_t *msg);
int ctl_call(struct ctl *, const char *method, json_t *params, json_t **result);
int ctl_call_view(struct ctl *, const char *method, json_t *params);
/* Any message: a request or batch out (msg borrowed); the next message in,
 * responses and notifications alike (for watch and logs -f). */
int ctl_send_json(struct ctl *, const json_t *msg);
int ctl_next(struct ctl *, json_t **msg);
int ctl_call_many(struct ctl *, const char *method, json_t **params, size_t n,
    json_t **replies);
int ctl_call_each(struct ctl *, const char *method, json_t **params, size_t n,
    bool views);
int ctl_call_paths(struct ctl *, const char *method, int argc, char **argv,
    bool views);

/* ctl-output.c: what people and scripts read. */
void ctl_json_print(struct ctl *, const json_t *);
/* The SGR sequence a state is drawn in, or NULL. */
const char *ctl_state_color(const char *state);
const char *ctl_str(const json_t *obj, const char *key);
char *ctl_fmt_ago(int64_t ms, char *buf, size_t size);
char *ctl_fmt_bytes(int64_t n, char *buf, size_t size);
void ctl_put_safe(FILE *, const char *s, size_t len);
void ctl_kv(struct ctl *, const char *key, const char *value);
void ctl_kv_json(struct ctl *, const char *key, const json_t *value);
void ctl_kv_state(struct ctl *, const char *key, const char *state);
void ctl_print_views(struct ctl *, json_t *const *views, size_t n);
void ctl_print_tree(struct ctl *, const json_t *view);
void ctl_print_node(struct ctl *, const json_t *view);
int ctl_print_replies(struct ctl *, json_t **replies, size_t n, bool views);

/* cmd-status.c: shared with top. The rows of a subtree's view (borrowed
 * from it): its workers in tree order, supervisors too with all. */
struct status_row {
	const json_t *view; /* borrowed */
	double cpu;         /* percent of one CPU; < 0: not known */
	int64_t uptime;     /* ms since its last start while running; -1 */
	int64_t mem;        /* bytes; < 0: not known */
};
struct status_rows {
	struct status_row *rows; /* owned */
	size_t n, cap;
	bool oom;
};
int status_rows_build(struct status_rows *, const json_t *view, bool all);
void status_rows_free(struct status_rows *);
/* The table: lines cut at max_cols columns (0: no cut), at most max_rows
 * rows (-1: all), each line ended by eol. */
void status_print(struct ctl *, const struct status_rows *, int max_cols,
    int max_rows, const char *eol);
json_t *status_row_json(const struct status_row *);

/* cmd-watch.c: shared with logs -f. Sends `watch`; its answer comes
 * with the events (ctl_next). */
int ctl_watch_send(struct ctl *, const char *path, bool output, bool has_since,
    json_int_t since, json_int_t *id);

/* cmd-inspect.c: shared with tree. [-d DEPTH] PATH (dflt: PATH may be
 * left out), then the `inspect` call, its view printed by print. */
int ctl_inspect_run(struct ctl *, int argc, char **argv, const char *dflt,
    void (*print)(struct ctl *, const json_t *));

/* cmd-spawn.c: shared by spawn, sup, actor and apply. */
#define SPAWN_SHORTOPTS "p:r:"
#define SPAWN_LONGOPTS                                                         \
	{ "parent", required_argument, NULL, 'p' },                            \
	    { "restart", required_argument, NULL, 'r' },                       \
	    { "grace", required_argument, NULL, SPAWN_OPT_GRACE },             \
	{                                                                      \
		"timeout", required_argument, NULL, SPAWN_OPT_TIMEOUT          \
	}
#define SPAWN_OPTS_HELP                                                         \
	"  -p, --parent PATH   the supervisor to start it under (\"/\")\n"      \
	"  -r, --restart TYPE  permanent, transient (default) or temporary\n"   \
	"      --grace DUR     time between the stop signal and SIGKILL (5s)\n" \
	"      --timeout DUR   cancel it this long after it starts\n"
#define SPAWN_NAME_HELP                                                        \
	"NAME may also be a path: /web/w1 (or web/w1) is w1 under /web.\n"
enum {
	SPAWN_OPT_GRACE = CTL_OPT_CMD,
	SPAWN_OPT_TIMEOUT,
	SPAWN_OPT_NEXT, /* commands go on from here */
};

/* ctl-ident.c: who a node runs as, for spawn and sup (the identity
 * fields of the spec; a supervisor's are its subtree's defaults). */
#define IDENT_LONGOPTS                                                         \
	{ "user", required_argument, NULL, IDENT_OPT_USER },                   \
	    { "group", required_argument, NULL, IDENT_OPT_GROUP },             \
	    { "groups", required_argument, NULL, IDENT_OPT_GROUPS },           \
	    { "umask", required_argument, NULL, IDENT_OPT_UMASK },             \
	    { "nice", required_argument, NULL, IDENT_OPT_NICE },               \
	    { "oom-score-adj", required_argument, NULL, IDENT_OPT_OOM },       \
	    { "no-new-privs", no_argument, NULL, IDENT_OPT_NNP },              \
	{                                                                      \
		"rlimit", required_argument, NULL, IDENT_OPT_RLIMIT            \
	}
#define IDENT_OPTS_HELP                                                         \
	"      --user U        run as user U (name or uid)\n"                   \
	"      --group G       with group G (default: the user's)\n"            \
	"      --groups G,...  supplementary groups (default: the user's;\n"    \
	"                      \"\" for none)\n"                                \
	"      --umask MODE    octal, like 027\n"                               \
	"      --nice N        -20 to 19\n"                                     \
	"      --oom-score-adj N  -1000 to 1000\n"                              \
	"      --no-new-privs  no privileges gained through exec (setuid)\n"    \
	"      --rlimit NAME=SOFT[:HARD]  a limit (repeatable): nofile=1024,\n" \
	"                      core=0, as=2G, cpu=infinity, nofile=1024:4096\n"
enum {
	IDENT_OPT_USER = CTL_OPT_CMD + 0x40,
	IDENT_OPT_GROUP,
	IDENT_OPT_GROUPS,
	IDENT_OPT_UMASK,
	IDENT_OPT_NICE,
	IDENT_OPT_OOM,
	IDENT_OPT_NNP,
	IDENT_OPT_RLIMIT,
};
/* One identity option into spec: 0, CTL_CONTINUE when ch is not one,
 * else an exit status. */
int ctl_ident_opt(struct ctl *, json_t *spec, int ch, const char *arg);

struct spawn_args {
	const char *parent; /* borrowed: -p, NULL when not given */
	json_t *spec;       /* owned: fields the options set */
};

int spawn_args_init(struct spawn_args *);
void spawn_args_free(struct spawn_args *);
int spawn_opt(struct ctl *, struct spawn_args *, int ch, char **argv);
int spawn_target(struct ctl *, struct spawn_args *, const char *target,
    const char *kind);
int spawn_send(struct ctl *, json_t *spec);
/* --socket LISTEN[=NAME] (spawn, sup): one more entry of spec.sockets. */
#define SPAWN_SOCKET_HELP                                                      \
	"      --socket LISTEN[=NAME]\n"                                       \
	"                      a socket arbord holds for it and passes as\n"   \
	"                      LISTEN_FDS (tcp:HOST:PORT, udp:HOST:PORT,\n"    \
	"                      unix:/PATH, unix:@NAME; repeatable)\n"
int spawn_socket(struct ctl *, json_t *spec, const char *arg);

#endif
