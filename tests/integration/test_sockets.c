/*
 * Sockets held by arbord (the spec's `sockets`), end to end: programs
 * written for systemd's socket activation (a Python server of our own
 * that takes fds from 3 and checks LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES, and gunicorn when it is installed) serve tcp, unix and
 * udp; a bind error refuses the spawn and leaves nothing; the sockets
 * outlive a worker's restart and close with their node; a supervisor's
 * come first for each of its children; ARBOR_DONE_FD moves above them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

/*
 * The server: checks the contract (exit 3 if broken), then answers each
 * connection or datagram on any of its sockets (once it said it is ready,
 * with ready "fd") with one line:
 * "TAG NAME PID LISTEN_PID LISTEN_FDS LISTEN_FDNAMES ARBOR_DONE_FD". With
 * TAG "once" it exits 1 after its first answer. End of file on
 * ARBOR_DONE_FD makes it exit 0; it ignores SIGUSR1 (the stop signal of
 * the done-fd test).
 */
static const char server_py[] =
    "import os, select, signal, socket, sys\n"
    "signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
    "n = int(os.environ['LISTEN_FDS'])\n"
    "lpid = int(os.environ['LISTEN_PID'])\n"
    "names = os.environ['LISTEN_FDNAMES']\n"
    "done = int(os.environ['ARBOR_DONE_FD'])\n"
    "if lpid != os.getpid() or len(names.split(':')) != n or done != 3 + n:\n"
    "    sys.exit(3)\n"
    "socks = [socket.socket(fileno=3 + i) for i in range(n)]\n"
    "if 'ARBOR_READY_FD' in os.environ:\n"
    "    os.write(int(os.environ['ARBOR_READY_FD']), b'up\\n')\n"
    "tag = sys.argv[1]\n"
    "while True:\n"
    "    r = select.select(socks + [done], [], [])[0]\n"
    "    if done in r:\n"
    "        sys.exit(0)\n"
    "    for s in r:\n"
    "        i = socks.index(s)\n"
    "        msg = ('%s %s %d %d %d %s %d\\n' % (tag, names.split(':')[i],\n"
    "               os.getpid(), lpid, n, names, done)).encode()\n"
    "        if s.type == socket.SOCK_STREAM:\n"
    "            c = s.accept()[0]\n"
    "            c.sendall(msg)\n"
    "            c.close()\n"
    "        else:\n"
    "            data, peer = s.recvfrom(100)\n"
    "            s.sendto(msg, peer)\n"
    "        if tag == 'once':\n"
    "            sys.exit(1)\n";

static char dir[64];     /* this test's files: the script, unix sockets */
static char script[128]; /* dir/server.py */

static void
setup_files(void)
{
	FILE *f;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		skip();
	snprintf(dir, sizeof dir, "/tmp/arbor-sockets-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof script, "%s/server.py", dir);
	assert_non_null(f = fopen(script, "w"));
	fputs(server_py, f);
	fclose(f);
}

static int
setup(void **state)
{
	setup_files();
	return h_setup(state);
}

static int
teardown(void **state)
{
	char cmd[128];

	h_teardown(state);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* An exec node of the server, with its sockets (a JSON array, stolen). */
static json_t *
server_spec(const char *name, const char *tag, json_t *sockets)
{
	json_t *s = json_pack("{s:s,s:s,s:[s,s,s],s:o}", "name", name, "kind",
	    "exec", "argv", "python3", script, tag, "sockets", sockets);

	assert_non_null(s);
	return s;
}


/* Waits (30 s at most) for the node to be running or terminated, and
 * checks it is in state. */
static void
wait_state(int fd, const char *path, const char *state)
{
	json_t *v = h_wait(fd, path, strcmp(state, "running") == 0 ?
	    "running" : "terminated", 30000);

	assert_string_equal(h_str(v, "state"), state);
	json_decref(v);
}

/* n loopback TCP ports free now and distinct: each held bound until all
 * are chosen (h_free_port twice may give the same port twice). */
static void
free_ports(int *ports, int n)
{
	int fds[8];

	assert_true(n <= 8);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sin;
		socklen_t len = sizeof sin;

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(fds[i], (struct sockaddr *)&sin,
		                     sizeof sin),
		    0);
		assert_int_equal(getsockname(fds[i], (struct sockaddr *)&sin,
		                     &len),
		    0);
		ports[i] = ntohs(sin.sin_port);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static json_int_t
node_pid(int fd, const char *path)
{
	json_t *r = h_ok(fd, "inspect", json_pack("{s:s}", "path", path));
	json_int_t pid = h_num(r, "pid");

	json_decref(r);
	return pid;
}

/* One line from fd within 10 s, into buf. */
static void
read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	while (len + 1 < size) {
		ssize_t r;

		assert_int_equal(poll(&p, 1, 10000), 1);
		r = read(fd, buf + len, size - 1 - len);
		assert_true(r > 0);
		len += (size_t)r;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	buf[len] = '\0';
}

struct reply {
	char tag[16], name[300], names[1024];
	long pid, lpid, nfds, done;
};

static void
parse_reply(const char *line, struct reply *r)
{
	assert_int_equal(sscanf(line, "%15s %299s %ld %ld %ld %1023s %ld",
	                     r->tag, r->name, &r->pid, &r->lpid, &r->nfds,
	                     r->names, &r->done),
	    7);
}

static void
ask_fd(int fd, struct reply *r)
{
	char line[2048];

	read_line(fd, line, sizeof line);
	close(fd);
	parse_reply(line, r);
}

static int
tcp_connect(int port)
{
	return h_tcp_connect(port, 1);
}

/* -1 with errno when refused. */
static int
unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path) + 1);
	if (path[0] == '@') {
		sun.sun_path[0] = '\0';
		len--;
	}
	if (connect(fd, (struct sockaddr *)&sun, len) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static bool
tcp_refused(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
	close(fd);
	return rc == -1 && errno == ECONNREFUSED;
}

static void
ask_udp(int port, struct reply *r)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(send(fd, "hi", 2, 0), 2);
	ask_fd(fd, r);
}

static char *
listen_tcp(char *buf, size_t size, int port)
{
	snprintf(buf, size, "tcp:127.0.0.1:%d", port);
	return buf;
}

static void
test_tcp_unix_udp_and_abstract_sockets_are_passed_as_systemd_does(
    void **state)
{
	int fd = h_connect(&D), tport = h_free_port(), uport = h_free_port();
	char tl[64], ul[64], al[80], upath[128], abs[64], unix_name[200];
	struct reply r;
	json_int_t pid;
	json_t *v;

	snprintf(upath, sizeof upath, "%s/app.sock", dir);
	snprintf(ul, sizeof ul, "udp:127.0.0.1:%d", uport);
	snprintf(abs, sizeof abs, "@arbor-test-%ld", (long)getpid());
	snprintf(al, sizeof al, "unix:%s", abs);
	v = h_ok(fd, "spawn",
	    server_spec("srv", "x",
	        json_pack("[{s:s,s:s},{s:s},{s:s},{s:s,s:s}]", "name", "http",
	            "listen", listen_tcp(tl, sizeof tl, tport), "listen",
	            (snprintf(unix_name, sizeof unix_name, "unix:%s", upath),
	                unix_name),
	            "listen", ul, "name", "abs", "listen", al)));
	json_decref(v);
	pid = node_pid(fd, "/srv");

	ask_fd(tcp_connect(tport), &r);
	assert_string_equal(r.name, "http");
	assert_int_equal(r.pid, pid);
	assert_int_equal(r.lpid, pid);
	assert_int_equal(r.nfds, 4);
	assert_int_equal(r.done, 7);
	/* The default name is the listen text, each ':' made '_'. */
	snprintf(unix_name, sizeof unix_name, "http:unix_%s:udp_127.0.0.1_%d:abs",
	    upath, uport);
	assert_string_equal(r.names, unix_name);

	ask_fd(unix_connect(upath), &r);
	assert_int_equal(strncmp(r.name, "unix_/", 6), 0);
	ask_udp(uport, &r);
	assert_int_equal(strncmp(r.name, "udp_", 4), 0);
	ask_fd(unix_connect(abs), &r);
	assert_string_equal(r.name, "abs");
	assert_int_equal(r.pid, pid);

	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/srv",
	    "wait", 1)));
	h_close(fd);
}

static void
test_bind_error_fails_spawn_with_its_errno_and_leaves_nothing(void **state)
{
	int fd = h_connect(&D), port = h_free_port(), busy, base;
	struct sockaddr_in sin;
	char tl[64], upath[128], ul[160];
	struct stat st;
	json_t *resp, *err;

	/* Someone else holds the port. */
	busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(busy, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(busy, 1), 0);
	base = h_fd_count_settled(D.pid);

	/* A subtree: the supervisor's unix socket is bound first, then the
	 * second child's tcp one fails; nothing may stay. */
	snprintf(upath, sizeof upath, "%s/sup.sock", dir);
	snprintf(ul, sizeof ul, "unix:%s", upath);
	resp = h_call(fd, "spawn",
	    json_pack("{s:s,s:s,s:[{s:s}],s:[o,o]}", "name", "web", "kind",
	        "supervisor", "sockets", "listen", ul, "children",
	        server_spec("a", "x", json_pack("[]")),
	        server_spec("b", "x",
	            json_pack("[{s:s}]", "listen",
	                listen_tcp(tl, sizeof tl, port)))));
	err = json_object_get(resp, "error");
	assert_non_null(err);
	assert_int_equal(h_num(err, "code"), -32006);
	assert_string_equal(h_str(json_object_get(err, "data"), "kind"),
	    "spawn_failed");
	assert_int_equal(h_num(json_object_get(err, "data"), "errno"),
	    EADDRINUSE);
	assert_non_null(strstr(h_str(err, "message"), "children[1].sockets[0]"));
	json_decref(resp);
	assert_int_equal(h_err(fd, "inspect", json_pack("{s:s}", "path", "/web"),
	                     NULL),
	    -32001);
	assert_int_equal(stat(upath, &st), -1);
	assert_int_equal(h_fd_count_settled(D.pid), base);

	/* A lone exec the same. */
	resp = h_call(fd, "spawn",
	    server_spec("lone", "x",
	        json_pack("[{s:s}]", "listen",
	            listen_tcp(tl, sizeof tl, port))));
	err = json_object_get(resp, "error");
	assert_int_equal(h_num(err, "code"), -32006);
	assert_int_equal(h_num(json_object_get(err, "data"), "errno"),
	    EADDRINUSE);
	json_decref(resp);
	assert_int_equal(h_err(fd, "inspect",
	                     json_pack("{s:s}", "path", "/lone"), NULL),
	    -32001);
	assert_int_equal(h_fd_count_settled(D.pid), base);
	close(busy);
	h_close(fd);
}

static void
test_sockets_stay_open_across_worker_restarts(void **state)
{
	int fd = h_connect(&D), port = h_free_port(), c;
	char tl[64];
	struct reply r1, r2;
	json_t *v, *spec;
	bool down = false;

	spec = server_spec("once", "once",
	    json_pack("[{s:s,s:s}]", "name", "web", "listen",
	        listen_tcp(tl, sizeof tl, port)));
	json_object_set_new(spec, "restart", json_string("permanent"));
	/* Long enough to be seen, on a loaded machine. */
	json_object_set_new(spec, "backoff_ms", json_integer(2000));
	json_decref(h_ok(fd, "spawn", spec));

	ask_fd(tcp_connect(port), &r1);
	/* The worker exits after one answer: while it is down (backoff),
	 * a connection waits in the backlog instead of being refused. */
	for (int i = 0; i < 1000 && !down; i++) {
		v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/once"));
		down = strcmp(h_str(v, "state"), "backoff") == 0;
		json_decref(v);
		if (!down)
			usleep(10000);
	}
	assert_true(down);
	c = tcp_connect(port);
	assert_true(c >= 0);
	ask_fd(c, &r2);
	assert_true(r1.pid != r2.pid);
	assert_int_equal(r2.lpid, r2.pid);
	v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/once"));
	assert_true(h_num(v, "restarts") >= 1);
	json_decref(v);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/once",
	    "wait", 1)));
	h_close(fd);
}

/* A supervisor that gives up (intensity) and is restarted by its parent
 * keeps its sockets through it: only a node done for good lets go. */
static void
test_a_supervisor_keeps_its_sockets_while_its_parent_restarts_it(
    void **state)
{
	int fd = h_connect(&D), port = h_free_port(), c;
	char tl[64];
	struct reply r;
	json_t *v, *child;
	bool down = false;

	child = server_spec("c", "once", json_pack("[]"));
	json_object_set_new(child, "restart", json_string("permanent"));
	json_object_set_new(child, "backoff_ms", json_integer(0));
	json_decref(h_ok(fd, "spawn",
	    json_pack("{s:s,s:s,s:s,s:i,s:i,s:[{s:s}],s:[o]}", "name", "s",
	        "kind", "supervisor", "restart", "permanent", "max_restarts",
	        0, "backoff_ms", 3000, "sockets", "listen",
	        listen_tcp(tl, sizeof tl, port), "children", child)));
	wait_state(fd, "/s", "running");
	/* The child exits after one answer: more restarts than 0, so /s
	 * gives up, and the root restarts it 3 s later (long enough for
	 * its backoff to be seen, on a loaded machine). */
	ask_fd(tcp_connect(port), &r);
	for (int i = 0; i < 1000 && !down; i++) {
		v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/s"));
		down = strcmp(h_str(v, "state"), "backoff") == 0;
		json_decref(v);
		if (!down)
			usleep(10000);
	}
	assert_true(down);
	c = tcp_connect(port);
	ask_fd(c, &r);
	assert_string_equal(r.tag, "once");
	v = h_ok(fd, "inspect", json_pack("{s:s}", "path", "/s"));
	assert_true(h_num(v, "restarts") >= 1);
	json_decref(v);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/s",
	    "wait", 1)));
	assert_true(tcp_refused(port));
	h_close(fd);
}

static void
test_cancel_closes_sockets_and_a_restart_opens_them_again(void **state)
{
	int fd = h_connect(&D), port = h_free_port(), base;
	char tl[64], upath[128], ul[160];
	struct reply r;
	struct stat st;

	base = h_fd_count_settled(D.pid);
	snprintf(upath, sizeof upath, "%s/app.sock", dir);
	snprintf(ul, sizeof ul, "unix:%s", upath);
	json_decref(h_ok(fd, "spawn",
	    server_spec("srv", "x",
	        json_pack("[{s:s},{s:s}]", "listen",
	            listen_tcp(tl, sizeof tl, port), "listen", ul))));
	ask_fd(tcp_connect(port), &r);
	assert_int_equal(stat(upath, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/srv",
	    "wait", 1)));
	wait_state(fd, "/srv", "exited");
	assert_true(tcp_refused(port));
	assert_int_equal(stat(upath, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(h_fd_count_settled(D.pid), base);

	/* A client's restart of the cancelled node binds them again. */
	json_decref(h_ok(fd, "restart", json_pack("{s:s}", "path", "/srv")));
	wait_state(fd, "/srv", "running");
	ask_fd(tcp_connect(port), &r);
	assert_int_equal(r.pid, node_pid(fd, "/srv"));
	ask_fd(unix_connect(upath), &r);

	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/srv",
	    "wait", 1)));
	wait_state(fd, "/srv", "exited");
	json_decref(h_ok(fd, "remove", json_pack("{s:s}", "path", "/srv")));
	assert_int_equal(h_fd_count_settled(D.pid), base);
	h_close(fd);
}

static void
test_a_supervisors_sockets_come_first_for_each_exec_child(void **state)
{
	int fd = h_connect(&D), ports[3], shared, p1, p2;
	char tl[64];
	struct reply r;
	long pids[2];

	free_ports(ports, 3);
	shared = ports[0];
	p1 = ports[1];
	p2 = ports[2];

	json_decref(h_ok(fd, "spawn",
	    json_pack("{s:s,s:s,s:[{s:s,s:s}],s:[o,o]}", "name", "web", "kind",
	        "supervisor", "sockets", "name", "shared", "listen",
	        listen_tcp(tl, sizeof tl, shared), "children",
	        server_spec("c1", "one",
	            json_pack("[{s:s,s:s}]", "name", "own1", "listen",
	                listen_tcp(tl, sizeof tl, p1))),
	        server_spec("c2", "two",
	            json_pack("[{s:s,s:s}]", "name", "own2", "listen",
	                listen_tcp(tl, sizeof tl, p2))))));
	wait_state(fd, "/web", "running");
	pids[0] = (long)node_pid(fd, "/web/c1");
	pids[1] = (long)node_pid(fd, "/web/c2");

	ask_fd(tcp_connect(p1), &r);
	assert_string_equal(r.tag, "one");
	assert_string_equal(r.names, "shared:own1");
	assert_int_equal(r.nfds, 2);
	assert_int_equal(r.done, 5);
	ask_fd(tcp_connect(p2), &r);
	assert_string_equal(r.tag, "two");
	assert_string_equal(r.names, "shared:own2");
	/* Both children accept on the supervisor's socket. */
	ask_fd(tcp_connect(shared), &r);
	assert_string_equal(r.name, "shared");
	assert_true(r.pid == pids[0] || r.pid == pids[1]);

	/* A child restarted alone gets the supervisor's socket again. */
	json_decref(h_ok(fd, "restart", json_pack("{s:s}", "path", "/web/c1")));
	wait_state(fd, "/web/c1", "running");
	assert_true(node_pid(fd, "/web/c1") != pids[0]);
	ask_fd(tcp_connect(p1), &r);
	assert_string_equal(r.names, "shared:own1");

	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/web",
	    "wait", 1)));
	assert_true(tcp_refused(shared));
	assert_true(tcp_refused(p1));
	h_close(fd);
}

static void
test_done_fd_moves_above_the_listen_fds_and_still_stops_the_worker(
    void **state)
{
	int fd = h_connect(&D), port = h_free_port();
	char tl[64];
	struct reply r;
	json_t *spec, *v;
	int64_t t0;

	spec = server_spec("srv", "x",
	    json_pack("[{s:s}]", "listen", listen_tcp(tl, sizeof tl, port)));
	/* The stop signal is ignored: only the done fd can stop it. */
	json_object_set_new(spec, "stop_signal", json_string("USR1"));
	json_object_set_new(spec, "shutdown_ms", json_integer(20000));
	json_object_set_new(spec, "ready", json_string("fd"));
	json_decref(h_ok(fd, "spawn", spec));
	/* Readiness by fd works from the fd after the done fd. */
	wait_state(fd, "/srv", "running");
	ask_fd(tcp_connect(port), &r);
	assert_int_equal(r.done, 4);
	t0 = h_now_ms();
	v = h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/srv", "wait", 1));
	assert_string_equal(h_str(v, "state"), "exited");
	assert_int_equal(h_num(json_object_get(v, "exit"), "code"), 0);
	json_decref(v);
	assert_true(h_now_ms() - t0 < 10000);
	h_close(fd);
}

static void
test_unix_socket_mode_owner_and_group(void **state)
{
	int fd = h_connect(&D);
	char upath[128], ul[160];
	struct passwd *pw = getpwnam("nobody");
	struct stat st;

	if (getuid() != 0 || pw == NULL) {
		print_message("not root or no user nobody: mode only\n");
		pw = NULL;
	}
	snprintf(upath, sizeof upath, "%s/sub/dir/app.sock", dir);
	snprintf(ul, sizeof ul, "unix:%s", upath);
	json_decref(h_ok(fd, "spawn",
	    json_pack("{s:s,s:s,s:[{s:s,s:s,s:s*,s:s*}],s:[]}", "name", "sup",
	        "kind", "supervisor", "sockets", "listen", ul, "mode", "0640",
	        "owner", pw != NULL ? "nobody" : NULL, "group",
	        pw != NULL ? "65534" : NULL, "children")));
	/* The directories above it were made. */
	assert_int_equal(stat(upath, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	if (pw != NULL) {
		assert_int_equal(st.st_uid, pw->pw_uid);
		assert_int_equal(st.st_gid, 65534);
	}
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/sup",
	    "wait", 1)));
	assert_int_equal(stat(upath, &st), -1);
	h_close(fd);
}

static void
test_reuse_port_lets_two_nodes_bind_one_port(void **state)
{
	int fd = h_connect(&D), port = h_free_port();
	char tl[64];
	json_t *resp;

	listen_tcp(tl, sizeof tl, port);
	json_decref(h_ok(fd, "spawn",
	    server_spec("a", "a",
	        json_pack("[{s:s,s:b,s:i}]", "listen", tl, "reuse_port", 1,
	            "backlog", 16))));
	json_decref(h_ok(fd, "spawn",
	    server_spec("b", "b",
	        json_pack("[{s:s,s:b}]", "listen", tl, "reuse_port", 1))));
	/* Without it, the port is taken. */
	resp = h_call(fd, "spawn",
	    server_spec("c", "c", json_pack("[{s:s}]", "listen", tl)));
	assert_int_equal(h_num(json_object_get(resp, "error"), "code"), -32006);
	json_decref(resp);
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/a",
	    "wait", 1)));
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path", "/b",
	    "wait", 1)));
	h_close(fd);
}

/* The same daemon, started with --config FILE (dir/tree.json). */
static char cfg[128];

static void
write_config(int sup_port, int own_port, int solo_port)
{
	char text[2048];
	FILE *f;

	snprintf(text, sizeof text,
	    "[{\"name\":\"web\",\"kind\":\"supervisor\",\"sockets\":"
	    "[{\"name\":\"s\",\"listen\":\"tcp:127.0.0.1:%d\"}],"
	    "\"children\":[{\"name\":\"c\",\"kind\":\"exec\",\"argv\":"
	    "[\"python3\",\"%s\",\"c\"],\"sockets\":[{\"listen\":"
	    "\"tcp:127.0.0.1:%d\"}]}]},"
	    "{\"name\":\"solo\",\"kind\":\"exec\",\"argv\":[\"python3\","
	    "\"%s\",\"solo\"],\"sockets\":[{\"listen\":"
	    "\"tcp:127.0.0.1:%d\"}]}]",
	    sup_port, script, own_port, script, solo_port);
	assert_non_null(f = fopen(cfg, "w"));
	fputs(text, f);
	fclose(f);
}

/* The daemon is started by the test, once its file is written. */
static int
setup_config(void **state)
{
	setup_files();
	snprintf(cfg, sizeof cfg, "%s/tree.json", dir);
	return 0;
}

static void
test_a_reload_that_changes_sockets_restarts_on_the_new_ones(void **state)
{
	const char *args[] = { "--config", cfg, NULL };
	int ports[4], a, b, c, a2, fd;
	struct reply r;
	json_int_t solo;
	json_t *v;

	free_ports(ports, 4);
	a = ports[0];
	b = ports[1];
	c = ports[2];
	a2 = ports[3];
	write_config(a, b, c);
	h_start(&D, args);
	fd = h_connect(&D);
	wait_state(fd, "/web", "running");
	ask_fd(tcp_connect(a), &r);
	assert_string_equal(r.tag, "c");
	solo = node_pid(fd, "/solo");

	/* The supervisor's socket moves: it restarts (its child with it)
	 * on the new one; the node whose sockets did not change stays. */
	write_config(a2, b, c);
	v = h_ok(fd, "reload", NULL);
	assert_int_equal(json_array_size(json_object_get(v, "restarted")), 1);
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(v, "restarted"), 0)),
	    "/web");
	json_decref(v);
	wait_state(fd, "/web/c", "running");
	ask_fd(tcp_connect(a2), &r);
	assert_string_equal(r.name, "s");
	assert_true(tcp_refused(a));
	ask_fd(tcp_connect(b), &r);
	assert_string_equal(r.tag, "c");
	assert_int_equal(node_pid(fd, "/solo"), solo);

	/* The same file again: every socket compares equal, nothing moves. */
	v = h_ok(fd, "reload", NULL);
	assert_int_equal(json_array_size(json_object_get(v, "restarted")), 0);
	assert_int_equal(h_num(v, "unchanged"), 3);
	json_decref(v);
	h_close(fd);
}

/* gunicorn takes LISTEN_FDS as it comes from systemd (Debian's package;
 * scripts/deps.sh installs it). */
static void
test_gunicorn_serves_on_the_socket_arbord_holds(void **state)
{
	int fd = h_connect(&D), port = h_free_port(), c;
	char tl[64], app[160], buf[4096];
	FILE *f;
	json_t *spec;

	if (access("/usr/bin/gunicorn", X_OK) != 0) {
		print_message("gunicorn not installed (apt-get install "
		              "gunicorn): skipped\n");
		h_close(fd);
		skip();
	}
	snprintf(app, sizeof app, "%s/app.py", dir);
	assert_non_null(f = fopen(app, "w"));
	fputs("def application(env, start):\n"
	      "    start('200 OK', [('Content-Type', 'text/plain')])\n"
	      "    return [b'hello from gunicorn\\n']\n",
	    f);
	fclose(f);
	spec = json_pack("{s:s,s:s,s:[s,s,s,s,s,s],s:s,s:[{s:s}]}", "name",
	    "gunicorn", "kind", "exec", "argv", "/usr/bin/gunicorn", "--chdir",
	    dir, "--workers", "1", "app:application", "cwd", dir, "sockets",
	    "listen", listen_tcp(tl, sizeof tl, port));
	json_decref(h_ok(fd, "spawn", spec));
	/* Queued in the backlog until gunicorn is up. */
	c = tcp_connect(port);
	assert_int_equal(write(c, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	read_line(c, buf, sizeof buf);
	for (size_t len = strlen(buf); len < sizeof buf - 1;) {
		struct pollfd p = { c, POLLIN, 0 };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 10000), 1);
		if ((r = read(c, buf + len, sizeof buf - 1 - len)) <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
	}
	close(c);
	assert_non_null(strstr(buf, "200 OK"));
	assert_non_null(strstr(buf, "hello from gunicorn"));
	json_decref(h_ok(fd, "cancel", json_pack("{s:s,s:b}", "path",
	    "/gunicorn", "wait", 1)));
	h_close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_tcp_unix_udp_and_abstract_sockets_are_passed_as_systemd_does,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bind_error_fails_spawn_with_its_errno_and_leaves_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sockets_stay_open_across_worker_restarts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_supervisor_keeps_its_sockets_while_its_parent_restarts_it,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_closes_sockets_and_a_restart_opens_them_again,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_supervisors_sockets_come_first_for_each_exec_child,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_done_fd_moves_above_the_listen_fds_and_still_stops_the_worker,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unix_socket_mode_owner_and_group, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reuse_port_lets_two_nodes_bind_one_port, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_gunicorn_serves_on_the_socket_arbord_holds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_reload_that_changes_sockets_restarts_on_the_new_ones,
		    setup_config, teardown),
	};

	/* ARBOR_TEST_FILTER=*restart*: only the tests whose names match. */
	if (getenv("ARBOR_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ARBOR_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
