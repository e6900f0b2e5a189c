/* The integration test harness: a real arbord, spoken to over its socket. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static long h_next_id = 1;

struct daemon_proc D;
const struct rlimit *h_child_nofile;

/* Bytes read past the last line, per fd (tests use few fds). */
static struct {
	int fd;
	char *buf;
	size_t len;
} h_bufs[64];

static void
h_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void
h_start(struct daemon_proc *d, const char *const *args)
{
	h_start_stderr(d, args, -1);
}

void
h_start_stderr(struct daemon_proc *d, const char *const *args, int errfd)
{
	const char *bin = getenv("ARBORD");
	const char *argv[32];
	int i = 0;

	if (bin == NULL)
		bin = "./arbord";
	snprintf(d->dir, sizeof d->dir, "/tmp/arbor-test-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->sock, sizeof d->sock, "%s/arbord.sock", d->dir);
	argv[i++] = bin;
	argv[i++] = "-s";
	argv[i++] = d->sock;
	argv[i++] = "--log-level";
	argv[i++] = getenv("ARBOR_TEST_LOG") ? getenv("ARBOR_TEST_LOG") :
	    "warn";
	for (; args != NULL && *args != NULL && i < 30; args++)
		argv[i++] = *args;
	argv[i] = NULL;
	d->pid = fork();
	assert_true(d->pid != -1);
	if (d->pid == 0) {
		if (errfd != -1 && dup2(errfd, STDERR_FILENO) == -1)
			_exit(127);
		if (h_child_nofile != NULL &&
		    setrlimit(RLIMIT_NOFILE, h_child_nofile) == -1)
			_exit(127);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	/* 30 s: arbord under valgrind on a loaded machine took 5. */
	for (i = 0; i < 3000; i++) {
		struct sockaddr_un sun;
		int status, fd;

		/* Up once it accepts: the file exists a moment before. */
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, d->sock);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun,
		    sizeof sun) == 0) {
			close(fd);
			return;
		}
		if (fd >= 0)
			close(fd);
		if (waitpid(d->pid, &status, WNOHANG) == d->pid)
			fail_msg("arbord exited at start (status %d)", status);
		h_sleep_ms(10);
	}
	kill(d->pid, SIGKILL);
	fail_msg("arbord did not create %s", d->sock);
}

int
h_stop(struct daemon_proc *d)
{
	int status = -1;

	if (d->pid <= 0)
		return -1;
	/* 30 s: a big tree freed, then the leak check of ASan or valgrind,
	 * on a loaded machine, took more than 5. */
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 3000; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid)
			break;
		h_sleep_ms(10);
		if (i == 2999) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
		}
	}
	d->pid = 0;
	unlink(d->sock);
	rmdir(d->dir);
	return status;
}

int
h_connect(const struct daemon_proc *d)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, d->sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return fd;
}

void
h_send_raw(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, data, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		data += w;
		len -= (size_t)w;
	}
}

static int
h_slot(int fd)
{
	for (int i = 0; i < 64; i++)
		if (h_bufs[i].buf != NULL && h_bufs[i].fd == fd)
			return i;
	for (int i = 0; i < 64; i++)
		if (h_bufs[i].buf == NULL) {
			h_bufs[i].fd = fd;
			h_bufs[i].buf = malloc(1);
			h_bufs[i].len = 0;
			return i;
		}
	fail_msg("too many connections in one test");
	return -1;
}

void
h_close(int fd)
{
	for (int i = 0; i < 64; i++)
		if (h_bufs[i].buf != NULL && h_bufs[i].fd == fd) {
			free(h_bufs[i].buf);
			h_bufs[i].buf = NULL;
		}
	close(fd);
}

json_t *
h_recv(int fd, int timeout_ms)
{
	int s = h_slot(fd);
	char chunk[65536];

	for (;;) {
		char *nl = memchr(h_bufs[s].buf, '\n', h_bufs[s].len);

		if (nl != NULL) {
			size_t linelen = (size_t)(nl - h_bufs[s].buf);
			json_error_t jerr;
			json_t *msg = json_loadb(h_bufs[s].buf, linelen, 0,
			    &jerr);

			if (msg == NULL)
				fail_msg("bad JSON from arbord: %s", jerr.text);
			memmove(h_bufs[s].buf, nl + 1, h_bufs[s].len - linelen
			    - 1);
			h_bufs[s].len -= linelen + 1;
			return msg;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return NULL;
		ssize_t r = recv(fd, chunk, sizeof chunk, 0);
		if (r <= 0) {
			free(h_bufs[s].buf);
			h_bufs[s].buf = NULL;
			return NULL;
		}
		h_bufs[s].buf = realloc(h_bufs[s].buf, h_bufs[s].len +
		    (size_t)r + 1);
		memcpy(h_bufs[s].buf + h_bufs[s].len, chunk, (size_t)r);
		h_bufs[s].len += (size_t)r;
	}
}

json_t *
h_call(int fd, const char *method, json_t *params)
{
	long id = h_next_id++;
	json_t *req = json_pack("{s:s,s:i,s:s}", "jsonrpc", "2.0", "id",
	    (int)id, "method", method);
	char *text;

	if (params != NULL)
		json_object_set_new(req, "params", params);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	h_send_raw(fd, text, strlen(text));
	h_send_raw(fd, "\n", 1);
	free(text);
	for (;;) {
		json_t *resp = h_recv(fd, 10000);

		if (resp == NULL)
			fail_msg("no answer to %s", method);
		if (json_integer_value(json_object_get(resp, "id")) == id)
			return resp;
		json_decref(resp);
	}
}

json_t *
h_ok(int fd, const char *method, json_t *params)
{
	json_t *resp = h_call(fd, method, params), *result;

	result = json_object_get(resp, "result");
	if (result == NULL) {
		char *text = json_dumps(resp, 0);

		fail_msg("%s failed: %s", method, text);
	}
	json_incref(result);
	json_decref(resp);
	return result;
}

json_t *
h_wait(int fd, const char *path, const char *cond, int ms)
{
	for (;;) {
		int slice = ms < 5000 ? ms : 5000;
		json_t *resp = h_call(fd, "wait", json_pack("{s:s,s:s,s:i}",
		    "path", path, "for", cond, "timeout_ms", slice));
		json_t *res = json_object_get(resp, "result");
		json_t *err = json_object_get(resp, "error");

		if (res != NULL) {
			json_incref(res);
			json_decref(resp);
			return res;
		}
		ms -= slice;
		if (ms <= 0 || h_num(err, "code") != -32005) {
			char *text = json_dumps(resp, 0);

			fail_msg("wait %s for %s: %s", path, cond, text);
		}
		json_decref(resp);
	}
}

int
h_err(int fd, const char *method, json_t *params, const char **kind)
{
	static char kindbuf[64];
	json_t *resp = h_call(fd, method, params), *err;
	int code;

	err = json_object_get(resp, "error");
	if (err == NULL) {
		char *text = json_dumps(resp, 0);

		fail_msg("%s should have failed: %s", method, text);
	}
	code = (int)json_integer_value(json_object_get(err, "code"));
	assert_true(json_is_string(json_object_get(err, "message")));
	assert_true(strlen(json_string_value(json_object_get(err, "message")))
	    > 5);
	snprintf(kindbuf, sizeof kindbuf, "%s", json_string_value(
	    json_object_get(json_object_get(err, "data"), "kind")));
	if (kind != NULL)
		*kind = kindbuf;
	json_decref(resp);
	return code;
}

int
h_fd_count(pid_t pid)
{
	char path[64];
	DIR *dir;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* The count once the daemon has closed what a just-finished exchange
 * left (h_start's own probe, a previous client): the same for 100 ms,
 * or whatever it is after 3 s. A baseline taken earlier counts a
 * connection that is about to go. */
int
h_fd_count_settled(pid_t pid)
{
	int n = h_fd_count(pid), same = 0, i, m;

	for (i = 0; i < 300 && same < 10; i++) {
		usleep(10000);
		m = h_fd_count(pid);
		same = m == n ? same + 1 : 0;
		n = m;
	}
	return n;
}

int
h_setup(void **state)
{
	h_start(&D, NULL);
	return 0;
}

int
h_teardown(void **state)
{
	int status = h_stop(&D);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return 0;
}

int
h_teardown_files(void **state)
{
	char dir[sizeof D.dir], path[600];
	struct dirent *de;
	DIR *dp;

	memcpy(dir, D.dir, sizeof dir);
	h_teardown(state);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		/* A mount point a failed test left mounted goes too. */
		if (unlink(path) == -1 && errno == EISDIR && rmdir(path) == -1 &&
		    errno == EBUSY && umount2(path, MNT_DETACH) == 0)
			rmdir(path);
	}
	closedir(dp);
	rmdir(dir);
	return 0;
}

const char *
h_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

json_int_t
h_num(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

int
h_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	p = ntohs(sin.sin_port);
	h_close(fd);
	return p;
}

int
h_tcp_connect(int port, int tries)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < tries; i++) {
		if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
			return fd;
		usleep(10000);
	}
	fail_msg("cannot connect to port %d: %s", port, strerror(errno));
	return -1;
}

long
h_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int64_t
h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_int_t
h_stat(int fd, const char *key)
{
	json_t *st = h_ok(fd, "stats", NULL);
	json_int_t v = json_integer_value(json_object_get(st, key));

	json_decref(st);
	return v;
}

json_int_t
h_stat_until(int fd, const char *key, json_int_t n)
{
	json_int_t v = h_stat(fd, key);

	for (int i = 0; i < 1000 && v != n; i++) {
		usleep(10000);
		v = h_stat(fd, key);
	}
	return v;
}

void
h_skip_under_valgrind(const char *why)
{
	if (getenv("ARBOR_VALGRIND") == NULL)
		return;
	print_message("skipped under valgrind: %s\n", why);
	skip();
}
