/*
 * arborctl top: status, live. The table is redrawn every second and soon
 * after each event of the subtree, on the alternate screen, in place
 * (cursor home, each line cleared to its end: no flicker); the terminal
 * is put back as it was on q, Ctrl-C, SIGTERM or an error. Not on a
 * terminal, frames are printed one after another.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

static int top_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_top = {
	.name = "top",
	.usage =
	    "top [-a] [--sort cpu|mem|path] [-d DUR] [-n N] [PATH]\n"
	    "\n"
	    "  -a, --all          list supervisors too, not only workers\n"
	    "      --sort KEY     cpu (default), mem or path\n"
	    "  -d, --delay DUR    time between refreshes (1s)\n"
	    "  -n, --iterations N draw N times, then exit\n"
	    "The status table, live: refreshed every DUR and soon after\n"
	    "every event of the subtree; CPU % is the rate between two\n"
	    "refreshes. Keys: c sorts by CPU, m by memory, p by path; q or\n"
	    "Ctrl-C quits.\n",
	.summary = "show the status table live, sorted by CPU or memory",
	.run = top_run,
};

enum top_sort {
	SORT_CPU,
	SORT_MEM,
	SORT_PATH,
};
static const char *const top_sort_names[] = { "cpu", "mem", "path", NULL };

enum {
	OPT_SORT = CTL_OPT_CMD,
};

/* Set by signal handlers, read by the loop. */
static volatile sig_atomic_t top_quit, top_resized;

static void
top_on_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_quit = sig;
}

struct top {
	struct ctl *c;
	const char *path;
	bool all;
	bool tty;   /* stdout is a terminal: drawn in place */
	bool keys;  /* stdin is a terminal in raw mode */
	bool saved; /* term holds the settings to restore */
	/* While on the alternate screen, stderr goes to a file that is
	 * replayed once back: leaving the screen would wipe a message. */
	FILE *errs; /* owned */
	int errfd;  /* owned: the real stderr, -1 when not diverted */
	struct termios term;
	enum top_sort sort;
	json_t *view;    /* owned: the last inspect */
	json_t *samples; /* owned: id -> [cpu_usec, mono ms] */
	struct status_rows rows;
};

static int64_t
top_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
top_term_enter(struct top *t)
{
	struct termios raw;

	if (t->keys && tcgetattr(STDIN_FILENO, &t->term) == 0) {
		t->saved = true;
		raw = t->term;
		/* Keys one at a time, unechoed; Ctrl-C still signals. */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	if (t->tty) {
		/* The alternate screen, without a cursor. */
		fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
		fflush(stdout);
		fflush(stderr);
		if ((t->errs = tmpfile()) != NULL &&
		    ((t->errfd = dup(STDERR_FILENO)) == -1 ||
		        dup2(fileno(t->errs), STDERR_FILENO) == -1)) {
			if (t->errfd != -1)
				close(t->errfd);
			t->errfd = -1;
			fclose(t->errs);
			t->errs = NULL;
		}
	}
}

static void
top_term_leave(struct top *t)
{
	char buf[4096];
	size_t n;

	if (t->tty) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
	}
	if (t->saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->term);
	t->saved = false;
	if (t->errs != NULL) {
		fflush(stderr);
		dup2(t->errfd, STDERR_FILENO);
		close(t->errfd);
		rewind(t->errs);
		while ((n = fread(buf, 1, sizeof buf, t->errs)) > 0)
			fwrite(buf, 1, n, stderr);
		fclose(t->errs);
		t->errs = NULL;
	}
}

static int
top_cmp_path(const struct status_row *a, const struct status_row *b)
{
	const char *pa = ctl_str(a->view, "path"),
	           *pb = ctl_str(b->view, "path");

	return strcmp(pa != NULL ? pa : "", pb != NULL ? pb : "");
}

static enum top_sort top_sorting;

static int
top_cmp(const void *x, const void *y)
{
	const struct status_row *a = x, *b = y;

	if (top_sorting == SORT_CPU && a->cpu != b->cpu)
		return a->cpu < b->cpu ? 1 : -1;
	if (top_sorting == SORT_MEM && a->mem != b->mem)
		return a->mem < b->mem ? 1 : -1;
	return top_cmp_path(a, b);
}

/* CPU % between this refresh and the last one, where both have a sample. */
static void
top_rates(struct top *t)
{
	json_t *samples = json_object(), *prev, *s;
	int64_t now = top_now_ms(), cpu, pcpu, pt;
	char key[32];

	for (size_t i = 0; i < t->rows.n; i++) {
		struct status_row *row = &t->rows.rows[i];
		const json_t *v = row->view;

		if (!json_is_integer(json_object_get(v, "cpu_usec")) ||
		    !json_is_integer(json_object_get(v, "id")))
			continue;
		cpu = json_integer_value(json_object_get(v, "cpu_usec"));
		snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(v, "id")));
		prev = json_object_get(t->samples, key);
		if (json_array_size(prev) == 2) {
			pcpu = json_integer_value(json_array_get(prev, 0));
			pt = json_integer_value(json_array_get(prev, 1));
			if (now > pt && cpu >= pcpu)
				row->cpu = (double)(cpu - pcpu) / 10.0 /
				    (double)(now - pt);
		}
		if (samples != NULL &&
		    (s = json_pack("[I,I]", (json_int_t)cpu,
		         (json_int_t)now)) != NULL)
			json_object_set_new(samples, key, s);
	}
	json_decref(t->samples);
	t->samples = samples;
}

static int
top_fetch(struct top *t)
{
	json_t *view;
	int rc;

	rc = ctl_call(t->c, "inspect",
	    json_pack("{s:s,s:i}", "path", t->path, "depth", -1), &view);
	if (rc != 0)
		return rc;
	status_rows_free(&t->rows);
	json_decref(t->view);
	t->view = view;
	if (status_rows_build(&t->rows, view, t->all) == -1)
		return ctl_oom();
	top_rates(t);
	return 0;
}

static void
top_draw(struct top *t)
{
	struct winsize ws;
	int cols = 0, lines = -1;
	const char *eol = "\n";
	char when[16];
	time_t now = time(NULL);
	struct tm tm;

	top_sorting = t->sort;
	if (t->rows.n > 1)
		qsort(t->rows.rows, t->rows.n, sizeof *t->rows.rows, top_cmp);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof when, "%H:%M:%S", &tm) == 0)
		strcpy(when, "-");
	if (t->tty) {
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_col > 0) {
			cols = ws.ws_col;
			lines = ws.ws_row > 3 ? ws.ws_row - 3 : 0;
		}
		eol = "\033[K\n";
		fputs("\033[H", stdout);
	}
	printf("arbor top  %s  %zu %s  sorted by %s  %s", t->path, t->rows.n,
	    t->all ? "nodes" : "workers", top_sort_names[t->sort], when);
	if (t->keys)
		fputs("  (c cpu, m mem, p path, q quit)", stdout);
	fputs(eol, stdout);
	fputs(eol, stdout);
	status_print(t->c, &t->rows, cols, lines, eol);
	if (t->tty)
		fputs("\033[J", stdout); /* rows left from a longer frame */
	else
		putchar('\n');
	fflush(stdout);
}

/* Reads what the daemon sent: events mark the view stale. */
static int
top_read_daemon(struct top *t, bool *stale)
{
	json_t *msg;
	int rc;

	do {
		if ((rc = ctl_next(t->c, &msg)) != 0)
			return rc;
		if (json_is_object(msg) &&
		    json_object_get(msg, "method") != NULL)
			*stale = true;
		json_decref(msg);
	} while (t->c->len > 0);
	return 0;
}

/* Keys: true when it should redraw; *done on q. */
static bool
top_read_keys(struct top *t, bool *done)
{
	char buf[32];
	ssize_t n;
	bool redraw = false;

	while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			switch (buf[i]) {
			case 'q':
			case 'Q':
				*done = true;
				break;
			case 'c':
			case 'C':
				t->sort = SORT_CPU;
				redraw = true;
				break;
			case 'm':
			case 'M':
				t->sort = SORT_MEM;
				redraw = true;
				break;
			case 'p':
			case 'P':
				t->sort = SORT_PATH;
				redraw = true;
				break;
			default:
				break;
			}
		}
	}
	return redraw;
}

static int
top_loop(struct top *t, int64_t delay, long long iterations)
{
	struct pollfd pfd[2];
	json_int_t wid;
	int64_t due, now;
	long long frames = 0;
	bool stale = true, done = false;
	int rc, nfds, timeout;

	/* Events make the table change soon after the tree does; its answer
	 * waits with the early ones, unread. */
	if ((rc = ctl_watch_send(t->c, t->path, false, false, 0, &wid)) != 0)
		return rc;
	due = top_now_ms();
	while (!done && !top_quit) {
		now = top_now_ms();
		if (stale || now >= due) {
			if ((rc = top_fetch(t)) != 0)
				return rc;
			top_draw(t);
			stale = false;
			due = now + delay;
			if (iterations > 0 && ++frames >= iterations)
				break;
		} else if (top_resized) {
			top_resized = 0;
			top_draw(t);
		}
		nfds = 0;
		pfd[nfds++] = (struct pollfd){ .fd = t->c->fd,
			.events = POLLIN };
		if (t->keys)
			pfd[nfds++] = (struct pollfd){ .fd = STDIN_FILENO,
				.events = POLLIN };
		timeout = (int)(due - top_now_ms());
		if (timeout < 0)
			timeout = 0;
		if (poll(pfd, (nfds_t)nfds, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "arborctl: poll: %s\n",
			    strerror(errno));
			return CTL_EXIT_ERROR;
		}
		if (pfd[0].revents != 0) {
			bool ev = false;

			if ((rc = top_read_daemon(t, &ev)) != 0)
				return rc;
			/* Many events in a burst: one redraw, a tenth of a
			 * second on. */
			if (ev && due > top_now_ms() + 100)
				due = top_now_ms() + 100;
		}
		if (t->keys && pfd[1].revents != 0 && top_read_keys(t, &done) &&
		    !done)
			top_draw(t);
	}
	return CTL_EXIT_OK;
}

/* Whether to draw in place and read keys: on a terminal, coloured or
 * not, unless it is dumb. */
static void
top_terminal(struct top *t)
{
	t->tty = isatty(STDOUT_FILENO) && t->c->color;
	if (!t->tty && isatty(STDOUT_FILENO)) {
		/* A terminal without colour (NO_COLOR, TERM=dumb) still
		 * wants drawing in place, unless it is dumb. */
		const char *term = getenv("TERM");

		t->tty = term != NULL && strcmp(term, "dumb") != 0;
	}
	t->keys = t->tty && isatty(STDIN_FILENO);
}

/* The loop with the signals it handles and the terminal set up, both
 * given back after; t's memory freed. An exit status, or the end by the
 * signal that asked for it. */
static int
top_session(struct top *t, int64_t delay, long long iterations)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
	struct sigaction sa, old[4];
	int rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = top_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	top_quit = 0;
	top_resized = 0;
	top_term_enter(t);
	rc = top_loop(t, delay, iterations);
	top_term_leave(t);
	for (size_t i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	status_rows_free(&t->rows);
	json_decref(t->view);
	json_decref(t->samples);
	/* Ended by a signal: as the shell expects of one. */
	if (top_quit == SIGTERM || top_quit == SIGHUP) {
		fflush(stdout);
		signal(top_quit, SIG_DFL);
		raise(top_quit);
	}
	return rc;
}

static int
top_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct top t;
	int64_t delay = 1000;
	long long iterations = 0;
	int ch, rc;

	memset(&t, 0, sizeof t);
	t.c = c;
	t.errfd = -1;
	while ((ch = getopt_long(argc, argv, "+:had:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			t.all = true;
			break;
		case OPT_SORT:
			if ((rc = ctl_parse_choice(c, "--sort", optarg,
			         top_sort_names)) != 0)
				return rc;
			for (int i = 0; top_sort_names[i] != NULL; i++)
				if (strcmp(top_sort_names[i], optarg) == 0)
					t.sort = (enum top_sort)i;
			break;
		case 'd':
			if ((rc = ctl_parse_duration(c, "--delay", optarg,
			         &delay)) != 0)
				return rc;
			if (delay < 100)
				return ctl_usage(c,
				    "--delay is at least 100ms");
			break;
		case 'n':
			if (ctl_parse_int(optarg, 1, 1000000000, &iterations) !=
			    0)
				return ctl_usage(c,
				    "--iterations wants a number above 0");
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	if ((rc = ctl_one_path(c, argc, argv, "/", &t.path)) != 0)
		return rc;
	if (c->json)
		return ctl_usage(c,
		    "--json: use status --json, once or in a "
		    "loop");
	top_terminal(&t);
	return top_session(&t, delay, iterations);
}
