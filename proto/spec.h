/*
 * Node specs: the params of `spawn`, and the children inside them, parsed
 * strictly into C structs. A whole subtree is validated before anything is
 * created; a spec owns its strings, its argv/env arrays and its children.
 */
#ifndef PROTO_SPEC_H
#define PROTO_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "err.h"
#include "spec-cgroup.h"
#include "spec-health.h"
#include "spec-inst.h"
#include "spec-log.h"
#include "spec-sockets.h"

struct spec_ident;

enum node_kind {
	KIND_SUPERVISOR,
	KIND_EXEC,
	KIND_SLEEP,
	KIND_TICK,
	KIND_FAIL,
	KIND__COUNT
};

enum restart_type {
	RESTART_PERMANENT,
	RESTART_TRANSIENT,
	RESTART_TEMPORARY,
	RESTART__COUNT
};

enum strategy {
	STRATEGY_ONE_FOR_ONE,
	STRATEGY_ONE_FOR_ALL,
	STRATEGY_REST_FOR_ONE,
	STRATEGY__COUNT
};

enum ready_mode { READY_EXEC, READY_FD, READY_NOTIFY, READY__COUNT };

/* Defaults, as PROTOCOL.md lists them. */
#define SPEC_SHUTDOWN_MS      5000
#define SPEC_MAX_RESTARTS     3
#define SPEC_PERIOD_MS        5000
#define SPEC_BACKOFF_MS       100
#define SPEC_BACKOFF_MAX_MS   30000
#define SPEC_START_TIMEOUT_MS 10000
#define SPEC_INTERVAL_MS      1000
#define SPEC_FAIL_CODE        1

/* Bounds that keep one spec from costing the daemon without limit. */
#define SPEC_MAX_RESTARTS_MAX 10000
#define SPEC_ARGV_MAX         4096  /* arguments */
#define SPEC_ENV_MAX          4096  /* variables */
#define SPEC_STRING_MAX       65536 /* bytes in one argument, variable or cwd */

struct spec_sup {
	uint8_t strategy; /* enum strategy */
	uint32_t max_restarts;
	int64_t period_ms;
	struct node_spec **children; /* owned, each owned */
	size_t nchildren;
};

struct spec_exec {
	char **argv;         /* owned, NULL-terminated, argc >= 1 */
	char **env;          /* owned, "K=V", NULL-terminated (may be NULL) */
	char *cwd;           /* owned, NULL: the daemon's */
	int stop_signal;     /* SIGTERM by default */
	uint8_t ready;       /* enum ready_mode */
	int64_t watchdog_ms; /* sd_notify watchdog; 0: none */
	struct spec_health *health; /* owned; NULL: no check (policy) */
};

struct spec_actor {
	int64_t ms;          /* sleep: -1 = until cancelled */
	int64_t interval_ms; /* tick */
	int64_t after_ms;    /* fail */
	int code;            /* fail */
};

struct node_spec {
	char *name;      /* owned */
	uint8_t kind;    /* enum node_kind */
	uint8_t restart; /* enum restart_type */
	int64_t shutdown_ms;
	int64_t timeout_ms; /* -1: no deadline */
	int64_t backoff_ms;
	int64_t backoff_max_ms;
	int64_t start_timeout_ms;
	struct spec_ident *ident;     /* owned; NULL: none set (spec-ident.h) */
	struct spec_sockets *sockets; /* owned; NULL: none (exec, supervisor) */
	struct spec_log *log; /* owned; NULL: all inherited (spec-log.h) */
	struct spec_cgroup *cgroup; /* owned; NULL: no limits (spec-cgroup.h) */
	struct spec_inst *inst;     /* owned; supervisors made from an exec
	                               spec with `instances` (spec-inst.h) */
	union {
		struct spec_sup sup;
		struct spec_exec exec;
		struct spec_actor actor;
	} u;
};

struct spec_limits {
	size_t max_nodes; /* nodes in one spec, the root of it included */
	int max_depth;    /* levels of children */
};

extern const char *const spec_kind_names[]; /* NULL-terminated */
extern const char *const spec_restart_names[];
extern const char *const spec_strategy_names[];
extern const char *const spec_ready_names[];

/*
 * Parses spawn params. With parent_out not NULL the object may carry
 * "parent" (default "/"), returned in *parent_out (borrowed from obj);
 * children never may. On success *out is a new spec tree the caller owns
 * and frees with spec_free; *count (if not NULL) is its number of nodes.
 * Errors say where: "children[3].argv: ...".
 */
int spec_parse(const json_t *obj, const struct spec_limits *lim,
    const char **parent_out, struct node_spec **out, size_t *count,
    struct proto_err *err);

void spec_free(struct node_spec *spec);

/* The spec back as JSON (no parent), every field written out, children
 * included: what `spec_parse` reads gives an equal spec. */
json_t *spec_to_json(const struct node_spec *spec);

/* Deep copy; NULL when out of memory. */
struct node_spec *spec_dup(const struct node_spec *spec);

/* Same node as configured, children not compared (each is its own node). */
bool spec_equal_shallow(const struct node_spec *a, const struct node_spec *b);
/* a and b describe the same work: the same kind and the fields a running
 * worker was started from (exec: argv, env, cwd, ready; actors: their
 * parameters; exec and supervisor: identity and limits, and the same
 * sockets, held by the node: changing them means reopening them). The
 * others (restart type, times, stop signal, health check, strategy,
 * intensity) are policy, which a node can take on without a restart.
 * Children are not compared. */
bool spec_same_work(const struct node_spec *a, const struct node_spec *b);

#endif
