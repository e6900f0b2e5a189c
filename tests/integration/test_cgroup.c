/*
 * Cgroups (v2) with a real arbord, each test below its own --cgroup under
 * the host's cgroup2 mount (so parallel runs never meet): a worker's
 * cgroup sits at its node's path and holds it; cancel kills escaped
 * grandchildren through cgroup.kill; a run ends when its cgroup is empty;
 * accounting is plausible; limits are written where the controller is
 * there and refused, naming it, where not; kill -9 of arbord and a start
 * again leave nothing; --no-cgroup works as before. Nothing is left under
 * the cgroup mount after any test. A host without a writable cgroup2
 * mount skips them and says why.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static struct daemon_proc d;
static char mnt[256];   /* the cgroup2 mount */
static char root[512];  /* this test's --cgroup */
static char why[512];   /* why the tests cannot run, "" when they can */

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* A readable cgroup2 mount where we may make a directory. */
static int
group_setup(void **state)
{
	char line[1024], m[256], fs[64], *dash, probe[300];
	FILE *f = fopen("/proc/self/mountinfo", "r");

	while (f != NULL && mnt[0] == '\0' &&
	    fgets(line, sizeof line, f) != NULL)
		if ((dash = strstr(line, " - ")) != NULL &&
		    sscanf(dash + 3, "%63s", fs) == 1 &&
		    strcmp(fs, "cgroup2") == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %255s", m) == 1)
			snprintf(mnt, sizeof mnt, "%s", m);
	if (f != NULL)
		fclose(f);
	if (mnt[0] == '\0') {
		snprintf(why, sizeof why, "no cgroup2 file system is mounted");
		return 0;
	}
	snprintf(probe, sizeof probe, "%s/arbor-test-probe-%ld", mnt,
	    (long)getpid());
	if (mkdir(probe, 0755) == -1) {
		snprintf(why, sizeof why, "cannot create a cgroup in %s: %s",
		    mnt, strerror(errno));
		return 0;
	}
	rmdir(probe);
	return 0;
}

/* Each test's own root, named by pid and a counter. */
static int
setup(void **state)
{
	static int n;

	if (why[0] != '\0')
		return 0;
	snprintf(root, sizeof root, "%s/arbor-test-%ld-%d", mnt,
	    (long)getpid(), n++);
	return 0;
}

/* Kills and removes whatever is below dir, deepest first (only when a
 * test failed half-way: arbord removes its own). */
static void
purge(const char *dir)
{
	char sub[1024], path[1100];
	struct dirent *de;
	DIR *dd;

	snprintf(path, sizeof path, "%s/cgroup.kill", dir);
	if (exists(path)) {
		int fd = open(path, O_WRONLY);

		if (fd != -1) {
			if (write(fd, "1", 1) != 1)
				(void)0;
			close(fd);
		}
	}
	if ((dd = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dd)) != NULL)
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
			purge(sub);
		}
	closedir(dd);
	for (int i = 0; i < 200 && rmdir(dir) == -1 && errno == EBUSY; i++)
		sleep_ms(10);
}

static int
teardown(void **state)
{
	if (d.pid > 0)
		h_stop(&d);
	d.pid = 0;
	if (root[0] != '\0' && exists(root)) {
		purge(root);
		root[0] = '\0';
		fail_msg("arbord left its cgroup root behind");
	}
	root[0] = '\0';
	return 0;
}

#define NEED_CGROUPS()                                                        \
	do {                                                                   \
		if (why[0] != '\0') {                                          \
			print_message("skipped: %s\n", why);                   \
			skip();                                                \
		}                                                              \
	} while (0)

static void
start(const char *extra)
{
	const char *args[] = { "--cgroup", root, extra, NULL };

	h_start(&d, args);
}

/* The directory of a node's cgroup. */
static const char *
dir_of(const char *path)
{
	static char buf[1024];

	snprintf(buf, sizeof buf, "%s/tree%s", root,
	    strcmp(path, "/") == 0 ? "" : path);
	return buf;
}

static bool
file_has_pid(const char *file, long pid)
{
	char line[64];
	bool found = false;
	FILE *f = fopen(file, "r");

	while (f != NULL && !found && fgets(line, sizeof line, f) != NULL)
		found = atol(line) == pid;
	if (f != NULL)
		fclose(f);
	return found;
}

/* The pids in a cgroup.procs file, up to max. */
static int
procs_of(const char *dir, long *v, int max)
{
	char file[1100], line[64];
	int n = 0;
	FILE *f;

	snprintf(file, sizeof file, "%s/cgroup.procs", dir);
	if ((f = fopen(file, "r")) == NULL)
		return -1;
	while (n < max && fgets(line, sizeof line, f) != NULL)
		v[n++] = atol(line);
	fclose(f);
	return n;
}

/* Alive and not a zombie. */
static bool
alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool live = false;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		live = p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return live;
}

/* The view of path once its cpu_usec passed min (a loaded machine may
 * take its time: up to 20 s). */
static json_t *
inspect_cpu_over(int fd, const char *path, json_int_t min)
{
	json_t *v = NULL;

	for (int i = 0; i < 400; i++) {
		json_decref(v);
		v = h_ok(fd, "inspect", json_pack("{s:s}", "path", path));
		if (h_num(v, "cpu_usec") > min)
			break;
		sleep_ms(50);
	}
	return v;
}

static json_t *
wait_for(int fd, const char *path, const char *what, int ms)
{
	return h_ok(fd, "wait", json_pack("{s:s,s:s,s:i}", "path", path, "for",
	    what, "timeout_ms", ms));
}

static void
test_a_worker_runs_in_a_cgroup_at_its_node_path(void **state)
{
	char file[1100], line[1200], want[1200];
	json_t *v, *st;
	long pid;
	FILE *f;
	int fd;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	st = h_ok(fd, "stats", NULL);
	v = json_object_get(st, "cgroups");
	assert_true(json_is_true(json_object_get(v, "available")));
	assert_string_equal(h_str(v, "root"), root);
	assert_true(json_is_array(json_object_get(v, "controllers")));
	json_decref(st);

	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s,s:[s,s]},"
	    "{s:s,s:s,s:[s,s]}]}", "name", "web", "kind", "supervisor",
	    "children", "name", "w1", "kind", "exec", "argv", "sleep", "600",
	    "name", "cgroup.procs", "kind", "exec", "argv", "sleep", "600")));
	v = wait_for(fd, "/web/w1", "running", 5000);
	pid = (long)h_num(v, "pid");
	json_decref(v);
	snprintf(file, sizeof file, "%s/cgroup.procs", dir_of("/web/w1"));
	assert_true(file_has_pid(file, pid));
	/* The kernel's own word for where it is. */
	snprintf(file, sizeof file, "/proc/%ld/cgroup", pid);
	assert_non_null(f = fopen(file, "r"));
	snprintf(want, sizeof want, "0::%s/tree/web/w1\n", root + strlen(mnt));
	while (fgets(line, sizeof line, f) != NULL &&
	    strncmp(line, "0::", 3) != 0)
		;
	fclose(f);
	assert_string_equal(line, want);
	/* A name that is an interface file's is escaped, not taken for it. */
	v = wait_for(fd, "/web/cgroup.procs", "running", 5000);
	pid = (long)h_num(v, "pid");
	json_decref(v);
	snprintf(file, sizeof file, "%s/_cgroup.procs/cgroup.procs",
	    dir_of("/web"));
	assert_true(file_has_pid(file, pid));

	/* Cancelled: every cgroup of the subtree goes. */
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/web",
	    "wait", 1)));
	assert_false(exists(dir_of("/web/w1")));
	assert_false(exists(dir_of("/web")));
	assert_true(exists(dir_of("/")));
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
	/* An orderly exit removes what arbord made. */
	assert_false(exists(root));
}

/* A worker whose child double-forks into its own session and ignores
 * SIGTERM, as does the worker: only SIGKILL after the grace stops them,
 * through cgroup.kill. */
static const char escaper[] =
    "trap '' TERM; (setsid sh -c 'trap \"\" TERM; while :; do sleep 1; "
    "done' &); while :; do sleep 1; done";

static void
test_cancel_kills_escaped_grandchildren_through_cgroup_kill(void **state)
{
	long pids[32];
	int n = 0, fd;
	json_t *v;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s,s],s:i}",
	    "name", "esc", "kind", "exec", "argv", "sh", "-c", escaper,
	    "shutdown_ms", 300)));
	/* The worker, the subshell's child in its own session, its sleep. */
	for (int i = 0; i < 1000 && (n = procs_of(dir_of("/esc"), pids, 32)) < 3;
	     i++)
		sleep_ms(10);
	assert_true(n >= 3);
	v = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/esc", "wait",
	    1));
	assert_string_equal(h_str(v, "state"), "exited");
	assert_string_equal(h_str(v, "cause"), "cancelled");
	json_decref(v);
	for (int i = 0; i < n; i++)
		assert_false(alive(pids[i]));
	assert_false(exists(dir_of("/esc")));
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

/* What file holds, or "" (up to 63 bytes). */
static const char *
file_text(const char *file)
{
	static char buf[64];
	FILE *f = fopen(file, "r");

	buf[0] = '\0';
	if (f != NULL) {
		if (fgets(buf, sizeof buf, f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	return buf;
}

/* Until file says "term" (at most ms); whether it did. */
static bool
text_within(const char *file, const char *text, int ms)
{
	int64_t end = h_now_ms() + ms;

	while (strncmp(file_text(file), text, strlen(text)) != 0) {
		if (h_now_ms() > end)
			return false;
		sleep_ms(10);
	}
	return true;
}

static bool
term_within(const char *file, int ms)
{
	return text_within(file, "term", ms);
}

/* The stop signal goes to the run's process group first and to the rest
 * of its cgroup (a process that left the group by setsid) once the main
 * process is gone, or a moment later while it lives: in both cases well
 * before the grace ends, so the escaped process ends by SIGTERM, as one
 * in the group does, not by the SIGKILL at the end of the grace. */
static void
test_the_stop_signal_reaches_escaped_processes(void **state)
{
	char cmd[512], file[64], main_up[80];
	int64_t t0;
	json_t *v;
	long main_pid;
	int fd;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	snprintf(file, sizeof file, "/tmp/arbor-cg-esc.%ld", (long)getpid());
	snprintf(main_up, sizeof main_up, "%s.main", file);
	unlink(file);
	unlink(main_up);
	/* The main process ignores SIGTERM and lives on: the escaped one
	 * must have it within the sweep's delay (0.2 s), long before the
	 * 10 s grace is over (within half of it: a loaded machine may take
	 * its time, but the SIGKILL at the end would leave no "term"). Each
	 * says "up" once its trap is set (the main one sets it after
	 * starting the other, whose trap an inherited ignore would
	 * defeat). */
	snprintf(cmd, sizeof cmd,
	    "setsid sh -c 'trap \"echo term > %s; exit 0\" TERM; "
	    "echo up > %s; while :; do sleep 0.05; done' & trap '' TERM; "
	    "echo up > %s; while :; do sleep 0.05; done",
	    file, file, main_up);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s,s],s:i}",
	    "name", "lives", "kind", "exec", "argv", "sh", "-c", cmd,
	    "shutdown_ms", 10000)));
	v = wait_for(fd, "/lives", "running", 5000);
	main_pid = (long)h_num(v, "pid");
	json_decref(v);
	assert_true(text_within(file, "up", 10000));
	assert_true(text_within(main_up, "up", 10000));
	t0 = h_now_ms();
	json_decref(h_ok(fd, "cancel", json_pack("{s:s}", "path", "/lives")));
	assert_true(term_within(file, 5000));
	assert_true(h_now_ms() - t0 < 5000);
	/* The main process would live to the end of the grace: ended here
	 * (it ignores TERM, so it is still there), the run ends now. */
	assert_int_equal(kill((pid_t)main_pid, SIGKILL), 0);
	v = wait_for(fd, "/lives", "terminated", 8000);
	assert_string_equal(h_str(v, "state"), "exited");
	json_decref(v);
	unlink(file);
	unlink(main_up);

	/* The main process ends at SIGTERM: the escaped one has it as soon
	 * as the main process is reaped, and the run is over long before
	 * its 10 s grace. */
	snprintf(cmd, sizeof cmd,
	    "setsid sh -c 'trap \"echo term > %s; exit 0\" TERM; "
	    "echo up > %s; while :; do sleep 0.05; done' & exec sleep 1000",
	    file, file);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s,s],s:i}",
	    "name", "ends", "kind", "exec", "argv", "sh", "-c", cmd,
	    "shutdown_ms", 10000)));
	json_decref(wait_for(fd, "/ends", "running", 5000));
	assert_true(text_within(file, "up", 10000));
	t0 = h_now_ms();
	v = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/ends", "wait",
	    1));
	json_decref(v);
	assert_true(h_now_ms() - t0 < 5000);
	assert_true(term_within(file, 1000));
	unlink(file);
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

/* signal with all: every process of the cgroup, the one that left the
 * worker's process group by setsid included. */
static void
test_signal_all_reaches_the_whole_cgroup(void **state)
{
	/* Each shell sets its trap before it says it is ready (the main one
	 * before it starts the other): a USR1 that came first would kill it,
	 * which is an abnormal end, and the node would be restarted. */
	static const char script[] =
	    "trap 'exit 0' USR1; (setsid sh -c 'trap \"exit 0\" USR1; "
	    ": > \"$0\"; while :; do sleep 0.05; done' \"$1\" &); "
	    "while :; do sleep 0.05; done";
	bool with_main = false, with_escaped = false;
	char ready[300];
	long pids[32], main_pid, escaped_pid = 0;
	int n = 0, fd;
	json_t *v, *p;
	size_t k;

	NEED_CGROUPS();
	start(NULL);
	snprintf(ready, sizeof ready, "%s/sig-ready", d.dir);
	fd = h_connect(&d);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s,s,s,s]}",
	    "name", "sig", "kind", "exec", "argv", "sh", "-c", script, "sh",
	    ready)));
	v = wait_for(fd, "/sig", "running", 5000);
	main_pid = (long)h_num(v, "pid");
	json_decref(v);
	for (int i = 0; i < 1000 && !exists(ready); i++)
		sleep_ms(10);
	assert_true(exists(ready));
	/* The main shell and the one that left its group by setsid both
	 * live until USR1 (their sleeps come and go). */
	n = procs_of(dir_of("/sig"), pids, 32);
	for (int i = 0; i < n; i++)
		if (pids[i] != main_pid && getpgid((pid_t)pids[i]) == pids[i])
			escaped_pid = pids[i];
	assert_true(escaped_pid > 0);
	v = h_ok(fd, "signal", json_pack("{s:s,s:s,s:b}", "path", "/sig",
	    "signal", "USR1", "all", 1));
	json_array_foreach(json_object_get(v, "pids"), k, p) {
		with_main |= json_integer_value(p) == main_pid;
		with_escaped |= json_integer_value(p) == escaped_pid;
	}
	json_decref(v);
	assert_true(with_main);
	assert_true(with_escaped);
	/* Both shells leave on USR1 (their sleeps die with the cgroup's
	 * end): the run ends with code 0. */
	v = h_ok(fd, "wait", json_pack("{s:s,s:s,s:i}", "path", "/sig", "for",
	    "terminated", "timeout_ms", 8000));
	assert_string_equal(h_str(v, "state"), "exited");
	json_decref(v);
	for (int i = 0; i < n; i++)
		if (alive(pids[i]))
			fail_msg("pid %ld outlived signal all", pids[i]);
	unlink(ready);
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

static void
test_a_run_ends_when_its_cgroup_is_empty(void **state)
{
	json_t *v;
	int fd;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	/* The main process exits at once, leaving a grandchild in its own
	 * session that ignores the stop signal and goes by itself in 0.5 s:
	 * the run ends then, not when the 60 s grace would. */
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s,s],s:i}",
	    "name", "left", "kind", "exec", "restart", "temporary", "argv",
	    "sh", "-c", "setsid sh -c 'trap \"\" TERM; sleep 0.5' & exit 7",
	    "shutdown_ms", 60000)));
	v = wait_for(fd, "/left", "terminated", 8000);
	assert_int_equal(h_num(json_object_get(v, "exit"), "code"), 7);
	assert_string_equal(h_str(v, "cause"), "exited with code 7");
	json_decref(v);
	assert_false(exists(dir_of("/left")));
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

/* A worker that fails and is restarted at once, many times, and one a
 * client restarts: each run starts in its node's cgroup, made again
 * after the last run's was removed, and the last one goes when the node
 * stops. */
static void
test_each_run_of_a_restarted_node_is_in_its_cgroup(void **state)
{
	char file[1100];
	json_t *v;
	long pid = 0;
	int fd, i, seen = 0;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:i,s:i,s:[{s:s,s:s,"
	    "s:s,s:i,s:i,s:[s,s,s]}]}", "name", "s", "kind", "supervisor",
	    "max_restarts", 1000, "period_ms", 1000, "children", "name", "flap",
	    "kind", "exec", "restart", "permanent", "backoff_ms", 1,
	    "backoff_max_ms", 1, "argv", "sh", "-c", "sleep 0.02; exit 1")));
	snprintf(file, sizeof file, "%s/cgroup.procs", dir_of("/s/flap"));
	/* Runs of 20 ms: catch a few of them in their cgroup (a loaded
	 * machine misses more of them). */
	for (i = 0; i < 2000 && seen < 5; i++) {
		v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/s/flap"));
		if (json_is_integer(json_object_get(v, "pid")) &&
		    h_num(v, "pid") != pid) {
			pid = (long)h_num(v, "pid");
			if (file_has_pid(file, pid))
				seen++;
		}
		json_decref(v);
		sleep_ms(5);
	}
	assert_true(seen >= 5);
	v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/s/flap"));
	assert_true(h_num(v, "restarts") >= 4);
	json_decref(v);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s/flap",
	    "wait", 1)));
	assert_false(exists(dir_of("/s/flap")));
	/* A client's restart starts the next run in the turn the last one
	 * ended. */
	v = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s]}", "name", "r",
	    "kind", "exec", "argv", "sleep", "100"));
	json_decref(v);
	snprintf(file, sizeof file, "%s/cgroup.procs", dir_of("/r"));
	for (i = 0; i < 3; i++) {
		v = wait_for(fd, "/r", "running", 5000);
		pid = (long)h_num(v, "pid");
		json_decref(v);
		assert_true(file_has_pid(file, pid));
		json_decref(h_ok(fd, "restart", json_pack("{s:s}", "path",
		    "/r")));
		for (int k = 0; k < 500; k++) {
			v = h_ok(fd, "inspect", json_pack("{s:s}", "path",
			    "/r"));
			seen = json_is_integer(json_object_get(v, "pid")) &&
			    h_num(v, "pid") != pid;
			json_decref(v);
			if (seen)
				break;
			sleep_ms(10);
		}
	}
	v = wait_for(fd, "/r", "running", 5000);
	assert_true(file_has_pid(file, (long)h_num(v, "pid")));
	json_decref(v);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/r",
	    "wait", 1)));
	assert_false(exists(dir_of("/r")));
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

/* Two runs that end by themselves: one whose CPU was spent by its main
 * process (its rusage says it all), one whose CPU was spent by an orphan
 * that arbord, the subreaper, reaped (only cpu.stat says it). Both views
 * keep the run's whole CPU time. */
static void
test_a_runs_cpu_counts_its_orphans_too(void **state)
{
	/* The same work in both: CPU time, not wall time, so a busy
	 * machine changes nothing. */
	const char *burn = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";
	char cmd[512];
	int64_t own;
	json_t *v;
	int fd;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	snprintf(cmd, sizeof cmd, "%s; exit 0", burn);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s,s]}",
	    "name", "own", "kind", "exec", "restart", "temporary", "argv", "sh",
	    "-c", cmd)));
	/* The subshell exits at once: the burner is an orphan, reaped by
	 * arbord; the main process waits for its file and exits, about
	 * when the orphan does (its reap may come before the main
	 * process's or after it: its CPU counts either way). */
	snprintf(cmd, sizeof cmd,
	    "f=/tmp/arbor-orphan.$$; (sh -c '%s; touch '$f &); "
	    "while [ ! -e $f ]; do sleep 0.05; done; rm -f $f",
	    burn);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s,s]}",
	    "name", "orphan", "kind", "exec", "restart", "temporary", "argv",
	    "sh", "-c", cmd)));
	v = wait_for(fd, "/own", "terminated", 20000);
	own = h_num(v, "cpu_usec");
	json_decref(v);
	assert_true(own > 20000);
	v = wait_for(fd, "/orphan", "terminated", 20000);
	assert_true(h_num(v, "cpu_usec") > own / 2);
	json_decref(v);
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

/* A process's state letter and CPU time (utime + stime, in us) from
 * /proc/PID/stat; '?' when it is gone. */
static char
stat_of(long pid, int64_t *cpu_usec)
{
	char path[64], buf[1024], *p, st = '?';
	unsigned long long ut, stime;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return st;
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
	    "%llu", &st, &ut, &stime) == 3)
		*cpu_usec = (int64_t)(ut + stime) * 1000000 /
		    sysconf(_SC_CLK_TCK);
	fclose(f);
	return st;
}

/* The orphan of a run and its main process end together: both are
 * zombies when arbord, the subreaper, reaps them, the main process first
 * (the older child). The cgroup is empty by then, but the orphan's CPU
 * is not in the main process's rusage: the run's view must still count
 * it. (arbord is stopped meanwhile so that the two end before its next
 * reap, as they may on a loaded machine.) */
static void
test_an_orphan_ending_with_the_main_process_counts_in_its_cpu(
    void **state)
{
	const char *burn = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";
	char ready[300], cmd[1400];
	long main_pid, orphan_pid = 0;
	int64_t orphan_usec = 0, ignored;
	json_t *v;
	FILE *f;
	int fd;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	snprintf(ready, sizeof ready, "%s/orphan-pid", d.dir);
	/* The orphan burns, then writes its pid (whole, by a rename) and
	 * sleeps; the main process sleeps. */
	snprintf(cmd, sizeof cmd,
	    "(sh -c '%s; echo $$ >%s.tmp; mv %s.tmp %s; exec sleep 1000' &); "
	    "exec sleep 1000",
	    burn, ready, ready, ready);
	v = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:s,s:[s,s,s]}", "name",
	    "o", "kind", "exec", "restart", "temporary", "argv", "sh", "-c",
	    cmd));
	main_pid = (long)h_num(v, "pid");
	json_decref(v);
	for (int i = 0; i < 2000 && !exists(ready); i++)
		sleep_ms(10);
	assert_non_null(f = fopen(ready, "r"));
	assert_int_equal(fscanf(f, "%ld", &orphan_pid), 1);
	fclose(f);
	unlink(ready);
	assert_true(orphan_pid > 0);
	assert_int_equal(kill(d.pid, SIGSTOP), 0);
	assert_int_equal(kill((pid_t)orphan_pid, SIGKILL), 0);
	assert_int_equal(kill((pid_t)main_pid, SIGKILL), 0);
	for (int i = 0; i < 1000 && (stat_of(orphan_pid, &orphan_usec) != 'Z' ||
	    stat_of(main_pid, &ignored) != 'Z'); i++)
		sleep_ms(10);
	assert_int_equal(stat_of(orphan_pid, &orphan_usec), 'Z');
	assert_int_equal(kill(d.pid, SIGCONT), 0);
	v = wait_for(fd, "/o", "terminated", 8000);
	print_message("the orphan used %lld us; the run's view says %lld\n",
	    (long long)orphan_usec, (long long)h_num(v, "cpu_usec"));
	assert_true(orphan_usec > 20000);
	assert_true(h_num(v, "cpu_usec") > orphan_usec / 2);
	json_decref(v);
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

static char *
http_get(int port, const char *path)
{
	char req[256], *buf = calloc(1, 1 << 20);
	size_t len = 0;
	ssize_t r;
	int fd = h_tcp_connect(port, 100);

	assert_true(fd >= 0);
	snprintf(req, sizeof req,
	    "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: "
	    "close\r\n\r\n",
	    path, port);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((r = read(fd, buf + len, (1 << 20) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	return buf;
}

static void
test_accounting_is_plausible(void **state)
{
	char addr[64], *text, want[128];
	int port = h_free_port(), fd;
	const char *args[] = { "--cgroup", root, "--http", addr, NULL };
	json_t *v, *r;

	NEED_CGROUPS();
	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
	h_start(&d, args);
	fd = h_connect(&d);
	v = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s,s:[s,s,"
	    "s]}]}", "name", "s", "kind", "supervisor", "children", "name",
	    "busy", "kind", "exec", "argv", "sh", "-c",
	    "sleep 600 & while :; do :; done"));
	/* An action's answer reads nothing from the kernel: its
	 * accounting is null; inspect reads it. */
	assert_true(json_is_null(json_object_get(v, "cpu_usec")));
	assert_true(json_is_null(json_object_get(v, "tasks")));
	json_decref(v);
	v = h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s]}", "name", "lone",
	    "kind", "exec", "argv", "sleep", "600"));
	assert_true(json_is_null(json_object_get(v, "cpu_usec")));
	assert_true(json_is_null(json_object_get(v, "memory_bytes")));
	json_decref(v);
	v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/lone"));
	assert_int_equal(h_num(v, "tasks"), 1);
	assert_true(json_is_integer(json_object_get(v, "cpu_usec")));
	json_decref(v);
	json_decref(wait_for(fd, "/s/busy", "running", 5000));
	v = inspect_cpu_over(fd, "/s/busy", 50000);
	assert_true(h_num(v, "cpu_usec") > 50000);
	/* The shell and its sleep. */
	assert_int_equal(h_num(v, "tasks"), 2);
	assert_true(h_num(v, "memory_bytes") > 0);
	assert_non_null(json_object_get(v, "memory_peak_bytes"));
	assert_non_null(json_object_get(v, "oom_kills"));
	json_decref(v);
	/* The supervisor's cgroup counts its subtree. */
	r = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/s"));
	assert_true(h_num(r, "cpu_usec") > 50000);
	json_decref(r);
	text = http_get(port, "/metrics");
	if (strstr(text, "arbor_node_tasks") == NULL)
		print_message("%s\n", text);
	snprintf(want, sizeof want, "arbor_node_cpu_seconds_total{path=\"%s\"}",
	    "/s/busy");
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "arbor_node_tasks{path=\"/s/busy\"} 2"));
	assert_non_null(
	    strstr(text, "arbor_node_cpu_seconds_total{path=\"/s\"}"));
	assert_non_null(strstr(text, "arbor_cgroups_available 1"));
	free(text);
	/* After the run: what it used stays in the view. */
	v = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s/busy",
	    "wait", 1));
	assert_true(h_num(v, "cpu_usec") > 50000);
	assert_int_equal(h_num(v, "tasks"), 0);
	json_decref(v);
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

/* Each limit, its controller and the file it goes to. */
static const struct {
	const char *field, *ctrl, *file, *value, *written;
} limits[] = {
	{ "memory_max", "memory", "memory.max", "\"256M\"", "268435456" },
	{ "memory_high", "memory", "memory.high", "\"128M\"", "134217728" },
	{ "memory_swap_max", "memory", "memory.swap.max", "0", "0" },
	{ "cpu_max", "cpu", "cpu.max", "\"50%\"", "50000 100000" },
	{ "cpu_weight", "cpu", "cpu.weight", "200", "200" },
	{ "pids_max", "pids", "pids.max", "64", "64" },
	{ "io_weight", "io", "io.weight", "300", "default 300" },
};

static void
test_limits_are_written_or_refused_naming_the_controller(void **state)
{
	char spec[512], file[1100], buf[128], want[1200];
	json_t *st, *ctrls, *v, *err;
	char *list;
	int fd, tested = 0, refused = 0;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	st = h_ok(fd, "stats", NULL);
	ctrls = json_object_get(json_object_get(st, "cgroups"), "controllers");
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		bool have = false;
		size_t k;
		json_t *c;

		json_array_foreach(ctrls, k, c)
		have = have || strcmp(json_string_value(c), limits[i].ctrl) == 0;
		snprintf(spec, sizeof spec,
		    "{\"name\":\"l%zu\",\"kind\":\"supervisor\",\"children\":"
		    "[{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"sleep\","
		    "\"600\"],\"%s\":%s}]}",
		    i, limits[i].field, limits[i].value);
		v = json_loads(spec, 0, NULL);
		assert_non_null(v);
		if (!have) {
			json_t *resp = h_call(fd, "spawn", v);

			err = json_object_get(resp, "error");
			assert_int_equal(h_num(err, "code"), -32602);
			snprintf(want, sizeof want,
			    "children[0].%s: the %s controller is not "
			    "available in %s",
			    limits[i].field, limits[i].ctrl, root);
			assert_string_equal(h_str(err, "message"), want);
			json_decref(resp);
			refused++;
			continue;
		}
		json_decref(h_ok(fd, "spawn", v));
		snprintf(file, sizeof file, "/l%zu/w", i);
		json_decref(wait_for(fd, file, "running", 5000));
		snprintf(file, sizeof file, "%s/tree/l%zu/w/%s", root, i,
		    limits[i].file);
		{
			FILE *f = fopen(file, "r");

			assert_non_null(f);
			assert_non_null(fgets(buf, sizeof buf, f));
			fclose(f);
		}
		buf[strcspn(buf, "\n")] = '\0';
		assert_string_equal(buf, limits[i].written);
		tested++;
	}
	list = json_dumps(ctrls, JSON_COMPACT);
	print_message("limits written: %d; refused for a missing "
	              "controller: %d (controllers here: %s)\n",
	    tested, refused, list);
	free(list);
	json_decref(st);
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

static void
test_kill9_then_start_again_leaves_nothing(void **state)
{
	long pids[32];
	int n = 0, fd;
	char stale[1100];
	DIR *dd;
	struct dirent *de;
	int subdirs = 0;

	NEED_CGROUPS();
	start(NULL);
	fd = h_connect(&d);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[{s:s,s:s,s:[s,s,"
	    "s]}]}", "name", "web", "kind", "supervisor", "children", "name",
	    "esc", "kind", "exec", "argv", "sh", "-c", escaper)));
	for (int i = 0; i < 1000 &&
	     (n = procs_of(dir_of("/web/esc"), pids, 32)) < 3;
	     i++)
		sleep_ms(10);
	assert_true(n >= 3);
	h_close(fd);
	kill(d.pid, SIGKILL);
	waitpid(d.pid, NULL, 0);
	d.pid = 0;
	/* The sentinel writes cgroup.kill of the tree: all of it goes. */
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 1000 && alive(pids[i]); k++)
			sleep_ms(10);
	for (int i = 0; i < n; i++)
		assert_false(alive(pids[i]));
	/* The directories are left for the next start to clean. */
	assert_true(exists(dir_of("/web")));
	/* A stale cgroup with a process in it, as if even the sentinel had
	 * died: the next start kills and removes it. */
	snprintf(stale, sizeof stale, "%s/stale", dir_of("/"));
	assert_int_equal(mkdir(stale, 0755), 0);
	{
		pid_t p = fork();
		char procs[1200];

		if (p == 0) {
			execlp("sleep", "sleep", "600", (char *)NULL);
			_exit(127);
		}
		snprintf(procs, sizeof procs, "%s/cgroup.procs", stale);
		fd = open(procs, O_WRONLY);
		assert_true(fd >= 0);
		snprintf(procs, sizeof procs, "%ld", (long)p);
		assert_true(write(fd, procs, strlen(procs)) > 0);
		close(fd);
		d.pid = 0;
		unlink(d.sock);
		rmdir(d.dir);
		start(NULL);
		/* Killed by the new arbord; ours to reap (10 s at most). */
		for (int k = 0; k < 1000 && waitpid(p, NULL, WNOHANG) == 0;
		     k++)
			sleep_ms(10);
		if (kill(p, 0) == 0) {
			kill(p, SIGKILL);
			waitpid(p, NULL, 0);
			fail_msg("the stale cgroup's process outlived the start");
		}
	}
	assert_false(exists(stale));
	assert_false(exists(dir_of("/web")));
	assert_true((dd = opendir(dir_of("/"))) != NULL);
	while ((de = readdir(dd)) != NULL)
		subdirs += de->d_type == DT_DIR && de->d_name[0] != '.';
	closedir(dd);
	assert_int_equal(subdirs, 0);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
	/* The first arbord made ROOT: the second leaves it, empty. */
	assert_int_equal(rmdir(root), 0);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A --config reload that adds a limit the host cannot apply is refused
 * whole, naming the limit; the running worker is left as it was. */
static void
test_a_reload_with_a_limit_the_host_lacks_is_refused(void **state)
{
	char cfg[300], want[700];
	const char *args[] = { "--cgroup", root, "--config", cfg, NULL };
	json_t *resp, *err, *v;
	int fd;
	long pid;

	NEED_CGROUPS();
	snprintf(cfg, sizeof cfg, "/tmp/test_cgroup-%ld.json", (long)getpid());
	write_file(cfg, "[{\"name\":\"s\",\"kind\":\"supervisor\","
	                "\"children\":[{\"name\":\"w\",\"kind\":\"exec\","
	                "\"argv\":[\"sleep\",\"600\"]}]}]");
	h_start(&d, args);
	fd = h_connect(&d);
	v = wait_for(fd, "/s/w", "running", 5000);
	pid = (long)h_num(v, "pid");
	json_decref(v);
	write_file(cfg, "[{\"name\":\"s\",\"kind\":\"supervisor\","
	                "\"children\":[{\"name\":\"w\",\"kind\":\"exec\","
	                "\"argv\":[\"sleep\",\"600\"],\"pids_max\":8}]}]");
	resp = h_call(fd, "reload", NULL);
	err = json_object_get(resp, "error");
	snprintf(want, sizeof want,
	    "children[0].pids_max: the pids controller is not available in %s",
	    root);
	if (json_object_get(resp, "result") != NULL) {
		/* A host with the pids controller: written in place. */
		char file[1100], buf[64];
		FILE *f;

		snprintf(file, sizeof file, "%s/pids.max", dir_of("/s/w"));
		assert_non_null(f = fopen(file, "r"));
		assert_non_null(fgets(buf, sizeof buf, f));
		fclose(f);
		assert_string_equal(buf, "8\n");
	} else {
		assert_int_equal(h_num(err, "code"), -32602);
		assert_non_null(strstr(h_str(err, "message"), want));
	}
	json_decref(resp);
	v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/s/w"));
	assert_int_equal(h_num(v, "pid"), pid);
	json_decref(v);
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
	unlink(cfg);
}

static void
test_without_cgroups_workers_run_as_before(void **state)
{
	const char *args[] = { "--no-cgroup", NULL };
	json_t *st, *v, *err, *resp;
	int fd;

	h_start(&d, args);
	fd = h_connect(&d);
	st = h_ok(fd, "stats", NULL);
	v = json_object_get(st, "cgroups");
	assert_true(json_is_false(json_object_get(v, "available")));
	assert_string_equal(h_str(v, "reason"), "disabled by --no-cgroup");
	json_decref(st);
	json_decref(h_ok(fd, "spawn", json_pack("{s:s,s:s,s:[s,s,s]}", "name",
	    "w", "kind", "exec", "argv", "sh", "-c",
	    "while :; do :; done")));
	v = inspect_cpu_over(fd, "/w", 0);
	/* From /proc of its main process. */
	assert_true(h_num(v, "cpu_usec") > 0);
	assert_int_equal(h_num(v, "tasks"), 1);
	assert_true(h_num(v, "memory_bytes") > 0);
	assert_true(json_is_null(json_object_get(v, "oom_kills")));
	json_decref(v);
	resp = h_call(fd, "spawn", json_pack("{s:s,s:s,s:[s],s:s}", "name", "m",
	    "kind", "exec", "argv", "true", "memory_max", "1G"));
	err = json_object_get(resp, "error");
	assert_int_equal(h_num(err, "code"), -32602);
	assert_non_null(strstr(h_str(err, "message"),
	    "memory_max: the memory controller is not available: no "
	    "cgroups (disabled by --no-cgroup)"));
	json_decref(resp);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/w",
	    "wait", 1)));
	h_close(fd);
	assert_int_equal(h_stop(&d), 0);
	d.pid = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_a_worker_runs_in_a_cgroup_at_its_node_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_signal_all_reaches_the_whole_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_stop_signal_reaches_escaped_processes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_kills_escaped_grandchildren_through_cgroup_kill,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_run_ends_when_its_cgroup_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounting_is_plausible,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_runs_cpu_counts_its_orphans_too, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_orphan_ending_with_the_main_process_counts_in_its_cpu,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_each_run_of_a_restarted_node_is_in_its_cgroup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_limits_are_written_or_refused_naming_the_controller,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kill9_then_start_again_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_reload_with_a_limit_the_host_lacks_is_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_without_cgroups_workers_run_as_before, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
