/*
 * exec-bench: 1,000 `sleep` workers through arbord (spawn until all run,
 * cancel until no process remains) against the floor of a plain loop of
 * posix_spawn + kill + waitpid of the same 1,000. One JSON line per
 * measure, with the ratio to the floor.
 * usage: exec_bench SOCKET [N]
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Processes whose command line is "sleep <marker>". */
static int
count_marked(const char *marker)
{
	char path[300], buf[256];
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0, fd;
	ssize_t r;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		r = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (r > 6 && strcmp(buf, "sleep") == 0 &&
		    strcmp(buf + 6, marker) == 0)
			n++;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

static int
rpc_line(int fd, const char *msg, char **resp)
{
	size_t len = strlen(msg), off = 0, cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	while (off < len) {
		if ((r = write(fd, msg + off, len - off)) <= 0)
			return -1;
		off += (size_t)r;
	}
	for (;;) {
		if (n + 1 >= cap && (buf = realloc(buf, cap *= 2)) == NULL)
			return -1;
		if ((r = read(fd, buf + n, cap - n - 1)) <= 0)
			return -1;
		n += (size_t)r;
		if (buf[n - 1] == '\n')
			break;
	}
	buf[n] = '\0';
	*resp = buf;
	return 0;
}

static void
report(const char *what, int n, double ms, double floor_ms)
{
	printf("{\"bench\":\"exec\",\"measure\":\"%s\",\"n\":%d,\"ms\":%.1f,"
	    "\"per_op_us\":%.1f,\"floor_ms\":%.1f,\"ratio\":%.2f}\n", what, n,
	    ms, ms * 1e3 / n, floor_ms, floor_ms > 0 ? ms / floor_ms : 0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = argc > 2 ? atoi(argv[2]) : 1000, fd;
	char marker[32], *msg, *resp;
	double t0, t_spawn, t_cancel, f_spawn, f_stop;
	pid_t *pids;
	size_t cap, off = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: exec_bench SOCKET [N]\n");
		return 2;
	}
	snprintf(marker, sizeof marker, "1000.%ld", (long)getpid());
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		perror("connect");
		return 3;
	}

	/* arbord: one batch of n spawns; each answer means it runs. */
	cap = (size_t)n * 200 + 16;
	msg = malloc(cap);
	off += (size_t)snprintf(msg + off, cap - off, "[");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(msg + off, cap - off,
		    "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"spawn\","
		    "\"params\":{\"name\":\"b%d\",\"kind\":\"exec\",\"argv\":"
		    "[\"sleep\",\"%s\"]}}", i ? "," : "", i, i, marker);
	snprintf(msg + off, cap - off, "]\n");
	t0 = now_ms();
	if (rpc_line(fd, msg, &resp) == -1)
		return 1;
	while (count_marked(marker) < n)
		usleep(1000);
	t_spawn = now_ms() - t0;
	free(resp);
	t0 = now_ms();
	if (rpc_line(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cancel\","
	    "\"params\":{\"path\":\"/\",\"wait\":true}}\n", &resp) == -1)
		return 1;
	while (count_marked(marker) > 0)
		usleep(1000);
	t_cancel = now_ms() - t0;
	free(resp);

	/* The floor: the same processes, started and stopped by hand. */
	pids = calloc((size_t)n, sizeof *pids);
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		char *args[] = { "sleep", marker, NULL };

		if (posix_spawnp(&pids[i], "sleep", NULL, NULL, args, environ))
			return 1;
	}
	f_spawn = now_ms() - t0;
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	f_stop = now_ms() - t0;

	report("spawn_until_running", n, t_spawn, f_spawn);
	report("cancel_until_gone", n, t_cancel, f_stop);
	report("total", n, t_spawn + t_cancel, f_spawn + f_stop);
	free(pids);
	free(msg);
	close(fd);
	return 0;
}
