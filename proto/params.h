/*
 * Params of every method but spawn (see spec.h), turned into typed structs.
 * Strings are borrowed from the params object, which must outlive the
 * struct. Absent params read as {}. Unknown fields are invalid_params.
 */
#ifndef PROTO_PARAMS_H
#define PROTO_PARAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "err.h"

/* For methods that take nothing: params absent, {} or []. */
int params_none(const json_t *params, struct proto_err *err);

struct params_restart {
	const char *path;
	bool rolling; /* a supervisor's children one at a time */
};
int params_restart(const json_t *params, struct params_restart *p,
    struct proto_err *err);

struct params_scale {
	const char *path;
	uint32_t instances; /* 1..SPEC_INSTANCES_MAX */
};
int params_scale(const json_t *params, struct params_scale *p,
    struct proto_err *err);

struct params_path { /* remove */
	const char *path;
};
int
params_path(const json_t *params, struct params_path *p, struct proto_err *err);

struct params_cancel {
	const char *path;
	const char *reason; /* NULL: none */
	bool wait;
	bool remove;
};
int params_cancel(const json_t *params, struct params_cancel *p,
    struct proto_err *err);

struct params_inspect {
	const char *path; /* "/" */
	int depth;        /* 0; -1 = the whole subtree */
};
int params_inspect(const json_t *params, struct params_inspect *p,
    struct proto_err *err);

enum logs_stream { LOGS_BOTH, LOGS_STDOUT, LOGS_STDERR };
struct params_logs {
	const char *path;
	int64_t bytes;    /* 4096 when lines is not given, else -1: any */
	int64_t lines;    /* -1: any */
	int stream;       /* enum logs_stream */
	int64_t since_ms; /* 0: all */
	bool records;     /* the answer lists each line too */
};
int
params_logs(const json_t *params, struct params_logs *p, struct proto_err *err);

struct params_reopen {
	const char *path; /* "/" */
};
int params_reopen(const json_t *params, struct params_reopen *p,
    struct proto_err *err);

struct params_watch {
	const char *path; /* "/" */
	bool output;
	bool has_since;
	uint64_t since;
};
int params_watch(const json_t *params, struct params_watch *p,
    struct proto_err *err);

struct params_unwatch {
	uint64_t subscription;
};
int params_unwatch(const json_t *params, struct params_unwatch *p,
    struct proto_err *err);

enum wait_for {
	WAIT_TERMINATED,
	WAIT_RUNNING,
};
struct params_wait {
	const char *path;
	int wait_for;       /* enum wait_for, WAIT_TERMINATED */
	int64_t timeout_ms; /* -1: no timeout */
};
int
params_wait(const json_t *params, struct params_wait *p, struct proto_err *err);

struct params_signal {
	const char *path;
	int signal; /* a name (with or without SIG) or a number */
	bool all;   /* the whole process group */
};
int params_signal(const json_t *params, struct params_signal *p,
    struct proto_err *err);

/* Largest signal number `signal` takes (Linux's real-time ones included). */
#define PARAMS_SIGNAL_MAX 64
/* Largest `reason` a client may give. */
#define PARAMS_REASON_MAX 1024
/* Largest `bytes` for logs: the whole ring. */
#define PARAMS_LOGS_MAX (1024 * 1024)
/* Largest `lines` for logs. */
#define PARAMS_LOGS_LINES_MAX 100000

#endif
