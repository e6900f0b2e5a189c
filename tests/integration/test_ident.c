/*
 * Workers as their spec says, end to end (arbord as root): user, group,
 * supplementary groups, umask, nice, oom_score_adj, no_new_privs and every
 * rlimit, read back from /proc/PID of the worker; a supervisor's defaults
 * and a child's overrides; the environment of the user; refusals that
 * name the field and create nothing; a cwd the user may not enter;
 * --allow-users and --allow-groups; a reload that changes the user.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static const char *skip_why;

/* Root, and a "nobody" to run as: else every test says why it skips. */
static int
ident_group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip_why = "not root: arbord cannot switch users";
	else if (getpwnam("nobody") == NULL)
		skip_why = "no user \"nobody\" here";
	return 0;
}

static int
ident_setup(void **state)
{
	if (skip_why != NULL)
		return 0;
	return h_setup(state);
}

static int
ident_teardown(void **state)
{
	if (skip_why != NULL)
		return 0;
	return h_teardown(state);
}

#define SKIP_UNLESS_ROOT()                                                     \
	do {                                                                   \
		if (skip_why != NULL) {                                        \
			printf("skipped: %s\n", skip_why);                     \
			skip();                                                \
		}                                                              \
	} while (0)

static json_t *
spec(const char *text)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);

	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return o;
}

static pid_t
spawn_pid(int fd, const char *text)
{
	json_t *r = h_ok(fd, "spawn", spec(text));
	pid_t pid = (pid_t)h_num(r, "pid");

	assert_true(pid > 0);
	json_decref(r);
	return pid;
}

/* The pid of a running node, once it runs. */
static pid_t
running_pid(int fd, const char *path)
{
	json_t *r = h_ok(fd, "wait",
	    json_pack("{s:s,s:s,s:i}", "path", path, "for", "running",
	        "timeout_ms", 8000));
	pid_t pid = (pid_t)h_num(r, "pid");

	assert_true(pid > 0);
	json_decref(r);
	return pid;
}

/* The error of a call that must fail: code, kind, and a message that
 * holds needle. */
static void
refused(int fd, const char *text, int code, const char *kind,
    const char *needle)
{
	json_t *resp = h_call(fd, "spawn", spec(text)), *err;
	const char *msg;

	err = json_object_get(resp, "error");
	if (err == NULL)
		fail_msg("spawn %s was not refused", text);
	msg = h_str(err, "message");
	if (h_num(err, "code") != code || strstr(msg, needle) == NULL)
		fail_msg("spawn %s: got %lld \"%s\", wanted %d with \"%s\"",
		    text, (long long)h_num(err, "code"), msg, code, needle);
	assert_string_equal(h_str(json_object_get(err, "data"), "kind"), kind);
	json_decref(resp);
}

/* The value after "Key:" in /proc/PID/status, whitespace squeezed. */
static void
status_field(pid_t pid, const char *key, char *out, size_t size)
{
	char path[64], line[512];
	size_t klen = strlen(key), o = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	out[0] = '\0';
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, key, klen) != 0 || line[klen] != ':')
			continue;
		for (char *p = line + klen + 1; *p != '\0' && o + 1 < size;
		     p++) {
			if (*p == '\t' || *p == ' ' || *p == '\n') {
				if (o > 0 && out[o - 1] != ' ')
					out[o++] = ' ';
			} else
				out[o++] = *p;
		}
		while (o > 0 && out[o - 1] == ' ')
			o--;
		out[o] = '\0';
		break;
	}
	fclose(f);
}

static void
expect_status(pid_t pid, const char *key, const char *want)
{
	char got[512];

	status_field(pid, key, got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("pid %ld %s: \"%s\", wanted \"%s\"", (long)pid, key,
		    got, want);
}

static bool
environ_has(pid_t pid, const char *kv)
{
	char path[64], buf[65536];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (strcmp(buf + i, kv) == 0)
			return true;
	return false;
}

/* "Max open files  100  200  files" -> soft and hard as printed. */
static void
expect_limit(pid_t pid, const char *name, const char *soft, const char *hard)
{
	char path[64], line[256], s[64], h[64];
	size_t len = strlen(name);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/limits", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, name, len) != 0 || line[len] != ' ')
			continue;
		assert_int_equal(sscanf(line + 26, "%63s %63s", s, h), 2);
		found = true;
		break;
	}
	fclose(f);
	if (!found)
		fail_msg("no \"%s\" in %s", name, path);
	if (strcmp(s, soft) != 0 || strcmp(h, hard) != 0)
		fail_msg("%s: %s %s, wanted %s %s", name, s, h, soft, hard);
}

static int
child_count(int fd, const char *path)
{
	json_t *r = h_ok(fd, "inspect", json_pack("{s:s}", "path", path));
	int n = (int)h_num(r, "child_count");

	json_decref(r);
	return n;
}

/* "a b c" of the groups getgrouplist gives name with primary gid. */
static void
initgroups_of(const char *name, char *out, size_t size)
{
	struct passwd *pw = getpwnam(name);
	gid_t g[256];
	int n = 256;
	size_t o = 0;

	assert_non_null(pw);
	assert_true(getgrouplist(name, pw->pw_gid, g, &n) != -1);
	/* /proc lists them sorted, as setgroups keeps them. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && g[j - 1] > g[j]; j--) {
			gid_t t = g[j];

			g[j] = g[j - 1];
			g[j - 1] = t;
		}
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%ld",
		    i ? " " : "", (long)g[i]);
}

static void
test_worker_runs_as_nobody_with_its_groups_and_environment(void **state)
{
	struct passwd *pw;
	char want[128], groups[512];
	int fd;
	pid_t pid;

	SKIP_UNLESS_ROOT();
	fd = h_connect(&D);
	pid = spawn_pid(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\"}");
	pw = getpwnam("nobody");
	snprintf(want, sizeof want, "%ld %ld %ld %ld", (long)pw->pw_uid,
	    (long)pw->pw_uid, (long)pw->pw_uid, (long)pw->pw_uid);
	expect_status(pid, "Uid", want);
	snprintf(want, sizeof want, "%ld %ld %ld %ld", (long)pw->pw_gid,
	    (long)pw->pw_gid, (long)pw->pw_gid, (long)pw->pw_gid);
	expect_status(pid, "Gid", want);
	initgroups_of("nobody", groups, sizeof groups);
	expect_status(pid, "Groups", groups);
	snprintf(want, sizeof want, "HOME=%s", pw->pw_dir);
	assert_true(environ_has(pid, want));
	assert_true(environ_has(pid, "USER=nobody"));
	assert_true(environ_has(pid, "LOGNAME=nobody"));
	snprintf(want, sizeof want, "SHELL=%s", pw->pw_shell);
	assert_true(environ_has(pid, want));
	/* The spec's env wins over the user's. */
	pid = spawn_pid(fd,
	    "{\"name\":\"w2\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":65534,\"env\":{\"HOME\":\"/srv\"}}");
	assert_true(environ_has(pid, "HOME=/srv"));
	json_decref(h_ok(fd, "cancel",
	    json_pack("{s:s,s:b}", "path", "/", "wait", 1)));
	close(fd);
}

static void
test_group_and_groups_override_the_users(void **state)
{
	int fd;
	pid_t pid;

	SKIP_UNLESS_ROOT();
	fd = h_connect(&D);
	/* Numbers need no entry in /etc/group. */
	pid = spawn_pid(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\",\"group\":4242,\"groups\":[4343,4444]}");
	expect_status(pid, "Gid", "4242 4242 4242 4242");
	expect_status(pid, "Groups", "4343 4444");
	/* An empty list: no supplementary groups at all. */
	pid = spawn_pid(fd,
	    "{\"name\":\"w2\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\",\"groups\":[]}");
	expect_status(pid, "Groups", "");
	/* A group without a user: arbord's uid, that gid. */
	pid = spawn_pid(fd,
	    "{\"name\":\"w3\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"group\":4242}");
	expect_status(pid, "Uid", "0 0 0 0");
	expect_status(pid, "Gid", "4242 4242 4242 4242");
	json_decref(h_ok(fd, "cancel",
	    json_pack("{s:s,s:b}", "path", "/", "wait", 1)));
	close(fd);
}

/* The test runs as arbord does; root in a container may lack some. */
static bool
has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) == -1)
		return false;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

static void
test_umask_nice_oom_score_adj_and_no_new_privs(void **state)
{
	char path[64], buf[64];
	const char *want_oom;
	FILE *f;
	int fd;
	pid_t pid;

	SKIP_UNLESS_ROOT();
	fd = h_connect(&D);
	/* Lowering oom_score_adj takes CAP_SYS_RESOURCE: without it, the
	 * spec is refused before anything starts. */
	if (has_cap(CAP_SYS_RESOURCE)) {
		want_oom = "-500\n";
		pid = spawn_pid(fd,
		    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\","
		    "\"30\"],\"user\":\"nobody\",\"umask\":\"027\",\"nice\":7,"
		    "\"oom_score_adj\":-500,\"no_new_privs\":true}");
	} else {
		printf("no CAP_SYS_RESOURCE: oom_score_adj -500 must be "
		       "refused, 500 is used\n");
		refused(fd,
		    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\","
		    "\"30\"],\"oom_score_adj\":-500}",
		    -32602, "invalid_params",
		    "oom_score_adj: arbord lacks CAP_SYS_RESOURCE");
		want_oom = "500\n";
		pid = spawn_pid(fd,
		    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\","
		    "\"30\"],\"user\":\"nobody\",\"umask\":\"027\",\"nice\":7,"
		    "\"oom_score_adj\":500,\"no_new_privs\":true}");
	}
	expect_status(pid, "Umask", "0027");
	expect_status(pid, "NoNewPrivs", "1");
	snprintf(path, sizeof path, "/proc/%ld/oom_score_adj", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, want_oom);
	errno = 0;
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)pid), 7);
	/* Without them: nothing changes. */
	pid = spawn_pid(fd,
	    "{\"name\":\"w2\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"]}");
	expect_status(pid, "NoNewPrivs", "0");
	json_decref(h_ok(fd, "cancel",
	    json_pack("{s:s,s:b}", "path", "/", "wait", 1)));
	close(fd);
}

struct limit_case {
	const char *name;   /* in "rlimits" */
	int resource;
	const char *proc;   /* in /proc/PID/limits */
	unsigned long long soft, hard; /* ULLONG_MAX: infinity */
};

/* Each limit, every one set, with values a hard limit of arbord's own
 * allows when it lacks CAP_SYS_RESOURCE (then raising one is refused). */
static void
test_every_rlimit_reaches_the_worker(void **state)
{
	static const unsigned long long inf = ULLONG_MAX;
	struct limit_case cases[] = {
		{ "as", RLIMIT_AS, "Max address space", 8ULL << 30, 8ULL << 30 },
		{ "core", RLIMIT_CORE, "Max core file size", 0, 0 },
		{ "cpu", RLIMIT_CPU, "Max cpu time", 1000, 2000 },
		{ "data", RLIMIT_DATA, "Max data size", 4ULL << 30, 4ULL << 30 },
		{ "fsize", RLIMIT_FSIZE, "Max file size", 1ULL << 30, inf },
		{ "locks", RLIMIT_LOCKS, "Max file locks", 1000, 1000 },
		{ "memlock", RLIMIT_MEMLOCK, "Max locked memory", 64ULL << 20,
		    64ULL << 20 },
		{ "msgqueue", RLIMIT_MSGQUEUE, "Max msgqueue size", 8192, 8192 },
		{ "nice", RLIMIT_NICE, "Max nice priority", 10, 10 },
		{ "nofile", RLIMIT_NOFILE, "Max open files", 1024, 4096 },
		{ "nproc", RLIMIT_NPROC, "Max processes", 10000, 10000 },
		{ "rss", RLIMIT_RSS, "Max resident set", 1ULL << 30, 1ULL << 30 },
		{ "rtprio", RLIMIT_RTPRIO, "Max realtime priority", 0, 0 },
		{ "rttime", RLIMIT_RTTIME, "Max realtime timeout", 1000000,
		    1000000 },
		{ "sigpending", RLIMIT_SIGPENDING, "Max pending signals", 1000,
		    1000 },
		{ "stack", RLIMIT_STACK, "Max stack size", 8ULL << 20,
		    16ULL << 20 },
	};
	size_t n = sizeof cases / sizeof cases[0];
	bool cap = has_cap(CAP_SYS_RESOURCE);
	json_t *sp, *rl;
	char soft[32], hard[32], text[256];
	struct rlimit own;
	int fd;
	pid_t pid;

	h_skip_under_valgrind("valgrind lowers the nofile limit workers inherit");

	SKIP_UNLESS_ROOT();
	fd = h_connect(&D);
	sp = spec("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\","
	          "\"30\"],\"user\":\"nobody\",\"rlimits\":{}}");
	rl = json_object_get(sp, "rlimits");
	for (size_t i = 0; i < n; i++) {
		struct limit_case *c = &cases[i];

		assert_int_equal(getrlimit(c->resource, &own), 0);
		if (!cap && own.rlim_max != RLIM_INFINITY) {
			if (c->hard > own.rlim_max) {
				/* Refused, naming the limit. */
				snprintf(text, sizeof text,
				    "{\"name\":\"x\",\"kind\":\"exec\","
				    "\"argv\":[\"true\"],\"rlimits\":"
				    "{\"%s\":%llu}}",
				    c->name, (unsigned long long)own.rlim_max + 1);
				refused(fd, text, -32602, "invalid_params",
				    c->name);
			}
			if (c->hard > own.rlim_max)
				c->hard = own.rlim_max;
			if (c->soft > c->hard)
				c->soft = c->hard;
		}
		json_object_set_new(rl, c->name,
		    json_pack("{s:o,s:o}", "soft",
		        c->soft == inf ? json_string("infinity") :
		                         json_integer((json_int_t)c->soft),
		        "hard",
		        c->hard == inf ? json_string("infinity") :
		                         json_integer((json_int_t)c->hard)));
	}
	{
		json_t *r = h_ok(fd, "spawn", sp);

		pid = (pid_t)h_num(r, "pid");
		json_decref(r);
	}
	for (size_t i = 0; i < n; i++) {
		const struct limit_case *c = &cases[i];

		if (c->soft == inf)
			snprintf(soft, sizeof soft, "unlimited");
		else
			snprintf(soft, sizeof soft, "%llu", c->soft);
		if (c->hard == inf)
			snprintf(hard, sizeof hard, "unlimited");
		else
			snprintf(hard, sizeof hard, "%llu", c->hard);
		expect_limit(pid, c->proc, soft, hard);
	}
	json_decref(h_ok(fd, "cancel",
	    json_pack("{s:s,s:b}", "path", "/", "wait", 1)));
	close(fd);
}

/* A worker with no nofile of its own gets the limit arbord started with,
 * as before. */
static void
test_without_nofile_a_worker_gets_arbords_first_limit(void **state)
{
	struct rlimit own;
	char soft[32], hard[32];
	int fd;
	pid_t pid;

	SKIP_UNLESS_ROOT();
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &own), 0);
	fd = h_connect(&D);
	pid = spawn_pid(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\",\"rlimits\":{\"core\":0}}");
	snprintf(soft, sizeof soft, "%llu", (unsigned long long)own.rlim_cur);
	snprintf(hard, sizeof hard, "%llu", (unsigned long long)own.rlim_max);
	if (own.rlim_max == RLIM_INFINITY)
		snprintf(hard, sizeof hard, "unlimited");
	expect_limit(pid, "Max open files", soft, hard);
	json_decref(h_ok(fd, "cancel",
	    json_pack("{s:s,s:b}", "path", "/", "wait", 1)));
	close(fd);
}

static void
test_supervisor_defaults_are_inherited_and_overridden(void **state)
{
	struct passwd *pw;
	char want[64];
	int fd;
	pid_t a, b, c;

	h_skip_under_valgrind("valgrind lowers the nofile limit workers inherit");

	SKIP_UNLESS_ROOT();
	pw = getpwnam("nobody");
	fd = h_connect(&D);
	json_decref(h_ok(fd, "spawn",
	    spec("{\"name\":\"s\",\"kind\":\"supervisor\",\"user\":\"nobody\","
	         "\"umask\":\"077\",\"rlimits\":{\"nofile\":300},"
	         "\"children\":["
	         "{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"]},"
	         "{\"name\":\"b\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	         "\"user\":\"root\",\"umask\":\"022\"},"
	         "{\"name\":\"t\",\"kind\":\"supervisor\",\"rlimits\":"
	         "{\"nofile\":200},\"children\":[{\"name\":\"c\","
	         "\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"]}]}]}")));
	a = running_pid(fd, "/s/a");
	b = running_pid(fd, "/s/b");
	c = running_pid(fd, "/s/t/c");
	snprintf(want, sizeof want, "%ld %ld %ld %ld", (long)pw->pw_uid,
	    (long)pw->pw_uid, (long)pw->pw_uid, (long)pw->pw_uid);
	expect_status(a, "Uid", want);
	expect_status(a, "Umask", "0077");
	expect_limit(a, "Max open files", "300", "300");
	expect_status(b, "Uid", "0 0 0 0");
	expect_status(b, "Umask", "0022");
	expect_limit(b, "Max open files", "300", "300");
	/* Two levels down: the nearest ancestor's value wins. */
	expect_status(c, "Uid", want);
	expect_limit(c, "Max open files", "200", "200");
	/* A child spawned later under /s takes its defaults too. */
	c = spawn_pid(fd,
	    "{\"parent\":\"/s\",\"name\":\"d\",\"kind\":\"exec\","
	    "\"argv\":[\"sleep\",\"30\"]}");
	expect_status(c, "Uid", want);
	json_decref(h_ok(fd, "cancel",
	    json_pack("{s:s,s:b}", "path", "/", "wait", 1)));
	close(fd);
}

static void
test_bad_identity_or_limit_is_refused_naming_the_field(void **state)
{
	int fd;

	SKIP_UNLESS_ROOT();
	fd = h_connect(&D);
#define X(extra) "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"true\"]," extra "}"
	refused(fd, X("\"user\":\"no-such-user-x\""), -32602, "invalid_params",
	    "user: no such user \"no-such-user-x\"");
	refused(fd, X("\"group\":\"no-such-group-x\""), -32602,
	    "invalid_params", "group: no such group");
	refused(fd, X("\"groups\":[\"root\",\"no-such-group-x\"]"), -32602,
	    "invalid_params", "groups[1]: no such group");
	refused(fd, X("\"user\":-1"), -32602, "invalid_params", "\"user\"");
	refused(fd, X("\"umask\":\"999\""), -32602, "invalid_params",
	    "\"umask\"");
	refused(fd, X("\"umask\":18"), -32602, "invalid_params", "\"umask\"");
	refused(fd, X("\"nice\":20"), -32602, "invalid_params", "\"nice\"");
	refused(fd, X("\"nice\":-21"), -32602, "invalid_params", "\"nice\"");
	refused(fd, X("\"oom_score_adj\":1001"), -32602, "invalid_params",
	    "\"oom_score_adj\"");
	refused(fd, X("\"no_new_privs\":1"), -32602, "invalid_params",
	    "\"no_new_privs\"");
	refused(fd, X("\"rlimits\":{\"nofile\":{\"soft\":10,\"hard\":5}}"),
	    -32602, "invalid_params",
	    "\"rlimits.nofile\" must not have soft (10) above hard (5)");
	refused(fd, X("\"rlimits\":{\"files\":10}"), -32602, "invalid_params",
	    "unknown limit \"files\"");
	refused(fd, X("\"rlimits\":{\"nofile\":-1}"), -32602, "invalid_params",
	    "\"rlimits.nofile\"");
	refused(fd, X("\"rlimits\":{\"nofile\":\"1K\"}"), -32602,
	    "invalid_params", "\"rlimits.nofile\"");
	refused(fd, X("\"rlimits\":{\"core\":\"12X\"}"), -32602,
	    "invalid_params", "\"rlimits.core\"");
	refused(fd, X("\"rlimits\":{\"nofile\":2000000000}"), -32602,
	    "invalid_params", "rlimits.nofile");
	refused(fd, X("\"rlimits\":{\"nofile\":\"infinity\"}"), -32602,
	    "invalid_params", "rlimits.nofile: cannot be infinity");
	refused(fd, X("\"rlimits\":{\"nice\":41}"), -32602, "invalid_params",
	    "\"rlimits.nice\"");
	refused(fd,
	    "{\"name\":\"z\",\"kind\":\"sleep\",\"user\":\"nobody\"}", -32602,
	    "invalid_params", "does not apply to kind \"sleep\"");
#undef X
	assert_int_equal(child_count(fd, "/"), 0);
	close(fd);
}

static void
test_subtree_with_one_bad_child_is_refused_whole(void **state)
{
	int fd;

	SKIP_UNLESS_ROOT();
	fd = h_connect(&D);
	refused(fd,
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"]},"
	    "{\"name\":\"t\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"b\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"no-such-user-x\"}]}]}",
	    -32602, "invalid_params",
	    "children[1].children[0].user: no such user");
	/* Inherited from the supervisor, refused at the supervisor. */
	refused(fd,
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"group\":"
	    "\"no-such-group-x\",\"children\":[{\"name\":\"a\",\"kind\":"
	    "\"exec\",\"argv\":[\"sleep\",\"30\"]}]}",
	    -32602, "invalid_params", "group: no such group");
	refused(fd,
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"a\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"rlimits\":{\"stack\":{\"soft\":\"16M\",\"hard\":\"8M\"}}}]}",
	    -32602, "invalid_params", "children[0].rlimits.stack");
	assert_int_equal(child_count(fd, "/"), 0);
	/* Under an existing supervisor: it keeps the children it had. */
	json_decref(h_ok(fd, "spawn",
	    spec("{\"name\":\"p\",\"kind\":\"supervisor\"}")));
	refused(fd,
	    "{\"parent\":\"/p\",\"name\":\"s\",\"kind\":\"supervisor\","
	    "\"children\":[{\"name\":\"a\",\"kind\":\"exec\",\"argv\":"
	    "[\"sleep\",\"30\"]},{\"name\":\"b\",\"kind\":\"exec\",\"argv\":"
	    "[\"sleep\",\"30\"],\"nice\":99}]}",
	    -32602, "invalid_params", "children[1].nice");
	assert_int_equal(child_count(fd, "/p"), 0);
	close(fd);
}

static void
test_cwd_the_user_cannot_enter_is_spawn_failed_eacces(void **state)
{
	json_t *resp, *err;
	char text[512];
	int fd;

	SKIP_UNLESS_ROOT();
	/* The harness's directory is root's, mode 0700. */
	fd = h_connect(&D);
	snprintf(text, sizeof text,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\",\"cwd\":\"%s\"}",
	    D.dir);
	resp = h_call(fd, "spawn", spec(text));
	err = json_object_get(resp, "error");
	assert_non_null(err);
	assert_int_equal(h_num(err, "code"), -32006);
	assert_int_equal(h_num(json_object_get(err, "data"), "errno"), EACCES);
	assert_non_null(strstr(h_str(err, "message"), "cannot change to"));
	json_decref(resp);
	assert_int_equal(child_count(fd, "/"), 0);
	/* As root the same directory is fine. */
	snprintf(text, sizeof text,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"cwd\":\"%s\"}",
	    D.dir);
	spawn_pid(fd, text);
	json_decref(h_ok(fd, "cancel",
	    json_pack("{s:s,s:b}", "path", "/", "wait", 1)));
	close(fd);
}

static void
test_allow_users_refuses_others_as_forbidden(void **state)
{
	static const char *const args[] = { "--allow-users", "nobody,65533",
		NULL };
	struct daemon_proc d;
	int fd, status;

	(void)state;
	SKIP_UNLESS_ROOT();
	h_start(&d, args);
	fd = h_connect(&d);
	/* Nothing set: arbord's own uid, root, not in the list. */
	refused(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"]}",
	    -32003, "forbidden", "not in --allow-users");
	refused(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"root\"}",
	    -32003, "forbidden", "user: \"root\" (uid 0) is not in");
	/* A group that is not the user's own. */
	refused(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\",\"group\":0}",
	    -32003, "forbidden", "group: gid 0 is not a group of");
	/* A whole subtree, refused for one child. */
	refused(fd,
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"user\":\"nobody\","
	    "\"children\":[{\"name\":\"a\",\"kind\":\"exec\",\"argv\":"
	    "[\"sleep\",\"30\"]},{\"name\":\"b\",\"kind\":\"exec\",\"argv\":"
	    "[\"sleep\",\"30\"],\"user\":0}]}",
	    -32003, "forbidden", "children[1].user");
	assert_int_equal(child_count(fd, "/"), 0);
	spawn_pid(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\"}");
	spawn_pid(fd,
	    "{\"name\":\"w2\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":65533}");
	close(fd);
	status = h_stop(&d);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_allow_groups_refuses_other_groups(void **state)
{
	static const char *const args[] = { "--allow-users", "nobody",
		"--allow-groups", "4242", NULL };
	struct daemon_proc d;
	int fd, status;

	(void)state;
	SKIP_UNLESS_ROOT();
	h_start(&d, args);
	fd = h_connect(&d);
	/* nobody's own primary group is not in the list. */
	refused(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\"}",
	    -32003, "forbidden", "not in --allow-groups");
	refused(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\",\"group\":4242,\"groups\":[0]}",
	    -32003, "forbidden", "groups: gid 0 is not in --allow-groups");
	spawn_pid(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"30\"],"
	    "\"user\":\"nobody\",\"group\":4242,\"groups\":[]}");
	close(fd);
	status = h_stop(&d);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_unknown_allow_list_name_stops_arbord_at_start(void **state)
{
	const char *bin = getenv("ARBORD") ? getenv("ARBORD") : "./arbord";
	pid_t pid;
	int status, null;

	(void)state;
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		execl(bin, bin, "-s", "/nonexistent/x.sock", "--allow-users",
		    "no-such-user-x", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
}

/* --config: the same checks at start, and a reload that changes the
 * user restarts the worker as the new one. */
static void
test_config_checks_and_reload_restarts_on_a_new_user(void **state)
{
	struct daemon_proc d;
	char conf[300], text[512];
	const char *args[] = { "--config", conf, NULL };
	FILE *f;
	int fd, status;
	pid_t pid;

	(void)state;
	SKIP_UNLESS_ROOT();
	snprintf(conf, sizeof conf, "/tmp/arbor-ident-%ld.json",
	    (long)getpid());
#define CONF(user)                                                             \
	"{\"name\":\"s\",\"kind\":\"supervisor\",\"user\":" user ","           \
	"\"children\":[{\"name\":\"a\",\"kind\":\"exec\","                     \
	"\"argv\":[\"sleep\",\"30\"]}]}"
	assert_non_null(f = fopen(conf, "w"));
	fputs(CONF("\"nobody\""), f);
	fclose(f);
	h_start(&d, args);
	fd = h_connect(&d);
	pid = running_pid(fd, "/s/a");
	snprintf(text, sizeof text, "%ld %ld %ld %ld",
	    (long)getpwnam("nobody")->pw_uid, (long)getpwnam("nobody")->pw_uid,
	    (long)getpwnam("nobody")->pw_uid, (long)getpwnam("nobody")->pw_uid);
	expect_status(pid, "Uid", text);
	assert_non_null(f = fopen(conf, "w"));
	fputs(CONF("\"root\""), f);
	fclose(f);
	json_decref(h_ok(fd, "reload", NULL));
	for (int i = 0; i < 1000; i++) {
		json_t *r = h_ok(fd, "inspect",
		    json_pack("{s:s}", "path", "/s/a"));
		pid_t now = (pid_t)h_num(r, "pid");

		json_decref(r);
		if (now > 0 && now != pid) {
			pid = now;
			break;
		}
		assert_true(i < 999);
		usleep(10000);
	}
	expect_status(pid, "Uid", "0 0 0 0");
	/* A reload to a user that does not exist is refused, and the worker
	 * stays as it was. */
	assert_non_null(f = fopen(conf, "w"));
	fputs(CONF("\"no-such-user-x\""), f);
	fclose(f);
	{
		json_t *resp = h_call(fd, "reload", NULL);
		json_t *err = json_object_get(resp, "error");

		/* Refused whole, before anything changed. */
		assert_non_null(err);
		assert_int_equal(h_num(err, "code"), -32602);
		assert_non_null(strstr(h_str(err, "message"),
		    "[0]: user: no such user"));
		json_decref(resp);
	}
	snprintf(text, sizeof text, "/proc/%ld", (long)pid);
	assert_int_equal(access(text, F_OK), 0);
	expect_status(pid, "Uid", "0 0 0 0");
	close(fd);
	status = h_stop(&d);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* At start, a bad user in the file stops arbord. */
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		const char *bin = getenv("ARBORD") ? getenv("ARBORD") :
		                                     "./arbord";
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		snprintf(text, sizeof text, "/tmp/arbor-ident-%ld.sock",
		    (long)getpid());
		execl(bin, bin, "-s", text, "--config", conf, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	unlink(conf);
#undef CONF
}

/* The state file keeps the fields: a node comes back after a restart of
 * arbord as the same user, with the same limits. */
static void
test_state_file_brings_a_worker_back_as_its_user(void **state)
{
	struct daemon_proc d;
	char path[300], want[64];
	const char *args[] = { "--state", path, NULL };
	struct passwd *pw;
	int fd, status;
	pid_t pid;

	h_skip_under_valgrind("valgrind lowers the nofile limit workers inherit");

	(void)state;
	SKIP_UNLESS_ROOT();
	pw = getpwnam("nobody");
	snprintf(path, sizeof path, "/tmp/arbor-ident-state-%ld.json",
	    (long)getpid());
	unlink(path);
	h_start(&d, args);
	fd = h_connect(&d);
	spawn_pid(fd,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"restart\":\"permanent\","
	    "\"argv\":[\"sleep\",\"30\"],\"user\":\"nobody\",\"umask\":"
	    "\"027\",\"rlimits\":{\"nofile\":{\"soft\":123,\"hard\":456}}}");
	close(fd);
	status = h_stop(&d);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	h_start(&d, args);
	fd = h_connect(&d);
	pid = running_pid(fd, "/w");
	snprintf(want, sizeof want, "%ld %ld %ld %ld", (long)pw->pw_uid,
	    (long)pw->pw_uid, (long)pw->pw_uid, (long)pw->pw_uid);
	expect_status(pid, "Uid", want);
	expect_status(pid, "Umask", "0027");
	expect_limit(pid, "Max open files", "123", "456");
	close(fd);
	status = h_stop(&d);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unlink(path);
	/* The state's journal beside it (protocol-notes.md). */
	strcat(path, ".log");
	unlink(path);
}

/* arbord run as nobody (no CAP_SETUID): a worker as another user is
 * refused before anything exists, one as nobody itself (or with no user)
 * runs. */
static void
test_a_uid_arbord_cannot_become_is_refused(void **state)
{
	const char *bin = getenv("ARBORD") ? getenv("ARBORD") : "./arbord";
	struct passwd *pw;
	struct daemon_proc nd = { 0 };
	json_t *r;
	int fd, status;

	(void)state;
	SKIP_UNLESS_ROOT();
	pw = getpwnam("nobody");
	snprintf(nd.dir, sizeof nd.dir, "/tmp/arbor-test-XXXXXX");
	assert_non_null(mkdtemp(nd.dir));
	assert_int_equal(chown(nd.dir, pw->pw_uid, pw->pw_gid), 0);
	snprintf(nd.sock, sizeof nd.sock, "%s/arbord.sock", nd.dir);
	nd.pid = fork();
	assert_true(nd.pid != -1);
	if (nd.pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1)
			_exit(126);
		execl(bin, bin, "-s", nd.sock, "--log-level", "warn",
		    "--no-cgroup", (char *)NULL);
		_exit(127);
	}
	/* Up once it accepts: the socket's file exists a moment before it
	 * listens. */
	for (int i = 0;; i++) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		assert_true((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) >= 0);
		/* The harness's sockets fit: mkdtemp's short /tmp name. */
		memcpy(sun.sun_path, nd.sock, strlen(nd.sock) + 1);
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
			break;
		close(fd);
		if (waitpid(nd.pid, &status, WNOHANG) == nd.pid)
			fail_msg("arbord as nobody exited at start (%d)",
			    status);
		if (i == 1000) {
			kill(nd.pid, SIGKILL);
			waitpid(nd.pid, NULL, 0);
			fail_msg("arbord as nobody did not listen on %s",
			    nd.sock);
		}
		usleep(10000);
	}
	refused(fd, "{\"name\":\"r\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"user\":\"root\"}", -32602, "invalid_params", "user: arbord");
	refused(fd, "{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	    "{\"name\":\"ok\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"5\"]},"
	    "{\"name\":\"r\",\"kind\":\"exec\",\"argv\":[\"true\"],"
	    "\"user\":\"root\"}]}", -32602, "invalid_params",
	    "children[1].user");
	/* Nothing was created. */
	r = h_call(fd, "inspect", json_pack("{s:s}", "path", "/s"));
	assert_non_null(json_object_get(r, "error"));
	json_decref(r);
	/* Its own user is fine. */
	json_decref(h_ok(fd, "spawn", spec("{\"name\":\"me\",\"kind\":\"exec\","
	    "\"argv\":[\"sleep\",\"5\"],\"user\":\"nobody\"}")));
	json_decref(h_ok(fd, "shutdown", NULL));
	close(fd);
	assert_int_equal(waitpid(nd.pid, &status, 0), nd.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rmdir(nd.dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worker_runs_as_nobody_with_its_groups_and_environment, ident_setup, ident_teardown),
		cmocka_unit_test_setup_teardown(test_group_and_groups_override_the_users, ident_setup, ident_teardown),
		cmocka_unit_test_setup_teardown(test_umask_nice_oom_score_adj_and_no_new_privs, ident_setup, ident_teardown),
		cmocka_unit_test_setup_teardown(test_every_rlimit_reaches_the_worker, ident_setup, ident_teardown),
		cmocka_unit_test_setup_teardown(test_without_nofile_a_worker_gets_arbords_first_limit, ident_setup, ident_teardown),
		cmocka_unit_test_setup_teardown(test_supervisor_defaults_are_inherited_and_overridden, ident_setup, ident_teardown),
		cmocka_unit_test_setup_teardown(test_bad_identity_or_limit_is_refused_naming_the_field, ident_setup, ident_teardown),
		cmocka_unit_test_setup_teardown(test_subtree_with_one_bad_child_is_refused_whole, ident_setup, ident_teardown),
		cmocka_unit_test_setup_teardown(test_cwd_the_user_cannot_enter_is_spawn_failed_eacces, ident_setup, ident_teardown),
		cmocka_unit_test(test_a_uid_arbord_cannot_become_is_refused),
		cmocka_unit_test(test_allow_users_refuses_others_as_forbidden),
		cmocka_unit_test(test_allow_groups_refuses_other_groups),
		cmocka_unit_test(test_unknown_allow_list_name_stops_arbord_at_start),
		cmocka_unit_test(test_config_checks_and_reload_restarts_on_a_new_user),
		cmocka_unit_test(test_state_file_brings_a_worker_back_as_its_user),
	};

	return cmocka_run_group_tests(tests, ident_group_setup, NULL);
}
