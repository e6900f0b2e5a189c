/*
 * Integration test harness: starts a real arbord on a private socket in a
 * temporary directory, talks JSON-RPC to it, and stops it (by pid) however
 * the test ends.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

struct daemon_proc {
	pid_t pid;
	char dir[256];
	char sock[300];
};

struct rlimit;
/* When not NULL, the RLIMIT_NOFILE the next daemons start with (set in
 * the child before its exec). */
extern const struct rlimit *h_child_nofile;

/* Starts $ARBORD (or ./arbord) with extra args (NULL-terminated) and waits
 * for its socket; fails the test when it does not come up in 30 s. */
void h_start(struct daemon_proc *d, const char *const *args);
/* The same with errfd as the daemon's stderr (-1: the test's own). */
void h_start_stderr(struct daemon_proc *d, const char *const *args,
    int errfd);
/* SIGTERM, then SIGKILL after 30 s; returns the exit status (waitpid). */
int h_stop(struct daemon_proc *d);

int h_connect(const struct daemon_proc *d);
void h_send_raw(int fd, const char *data, size_t len);
/* Next line (without "\n") as JSON; NULL on EOF or after timeout_ms. */
json_t *h_recv(int fd, int timeout_ms);
/* Sends a request and returns the response with that id. */
json_t *h_call(int fd, const char *method, json_t *params);
/* The result of a call that must succeed (fails the test otherwise). */
json_t *h_ok(int fd, const char *method, json_t *params);
/* wait for cond ("running", "terminated") up to ms in all, asked in
 * slices of 5 s, each well under h_call's own 10 s read; the view, or
 * the test fails with the last answer. */
json_t *h_wait(int fd, const char *path, const char *cond, int ms);
/* The error code of a call that must fail. */
int h_err(int fd, const char *method, json_t *params, const char **kind);

/* Closes fd and forgets what was read from it but not taken, so a later
 * connection that gets the same number starts clean. */
void h_close(int fd);

/* The usual fixture: a fresh daemon D for each test, which must exit 0
 * (no leak under the sanitizers) when it is stopped. */
extern struct daemon_proc D;
int h_setup(void **state);
int h_teardown(void **state);
/* h_teardown, then the files a test left in D's directory (gates, logs,
 * empty mount points), and the directory. */
int h_teardown_files(void **state);

/* Fields of a JSON object, NULL or 0 when missing. */
const char *h_str(const json_t *obj, const char *key);
json_int_t h_num(const json_t *obj, const char *key);

/* Open fds of a process, from /proc. */
int h_fd_count(pid_t pid);
int h_fd_count_settled(pid_t pid);
/* A number of `stats`; polled until it is n, for up to 10 s (its last
 * value). */
json_int_t h_stat(int fd, const char *key);
json_int_t h_stat_until(int fd, const char *key, json_int_t n);

/* A process's resident set from /proc/PID/status, in KiB; -1 if gone. */
long h_rss_kib(pid_t pid);
/* Monotonic milliseconds. */
int64_t h_now_ms(void);

/* A loopback TCP port free now (for --http). */
int h_free_port(void);
/* A TCP connection to 127.0.0.1:port, retried for up to tries x 10 ms
 * (HTTP may come up a moment after the socket, under valgrind). */
int h_tcp_connect(int port, int tries);

/* Under scripts/valgrind.sh (ARBOR_VALGRIND set) the test is skipped,
 * saying why: one that measures the daemon's own fds, RSS or nofile
 * limit (valgrind's are the process's too) or needs it fast. Elsewhere
 * it returns. */
void h_skip_under_valgrind(const char *why);

#endif
