/* arborctl's small shared checks: running out of memory, the one
 * operand (a PATH, or a NAME) left after a command's options, bare names
 * as paths, and the command meant by a mistyped one. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int
ctl_oom(void)
{
	fprintf(stderr, "arborctl: out of memory\n");
	return CTL_EXIT_ERROR;
}

/*
 * The single operand at argv[optind], named what in messages, into *arg.
 * dflt, when not NULL, stands for a missing one; else it is required.
 * Returns 0, or the exit status of a usage error.
 */
int
ctl_one_arg(struct ctl *c, int argc, char **argv, const char *what,
    const char *dflt, const char **arg)
{
	int n = argc - optind;

	if (n > 1)
		return ctl_usage(c, "unexpected argument '%s'",
		    argv[optind + 1]);
	if (n == 0 && dflt == NULL)
		return ctl_usage(c, "missing %s", what);
	*arg = n == 1 ? argv[optind] : dflt;
	return 0;
}

/* ctl_one_arg for a PATH, which is checked too. */
int
ctl_one_path(struct ctl *c, int argc, char **argv, const char *dflt,
    const char **path)
{
	int rc;

	if ((rc = ctl_one_arg(c, argc, argv, "PATH", dflt, path)) != 0)
		return rc;
	if ((*path = ctl_abs_path(c, *path)) == NULL)
		return ctl_oom();
	return ctl_check_path(c, *path);
}

char *
ctl_abs_path(struct ctl *c, const char *arg)
{
	json_t *s;

	if (arg[0] == '/' || arg[0] == '\0')
		return (char *)arg;
	if (c->paths == NULL && (c->paths = json_array()) == NULL)
		return NULL;
	if ((s = json_sprintf("/%s", arg)) == NULL ||
	    json_array_append_new(c->paths, s) != 0)
		return NULL;
	return (char *)json_string_value(s);
}

int
ctl_path_arg(struct ctl *c, char **arg)
{
	char *p = ctl_abs_path(c, *arg);

	if (p == NULL)
		return ctl_oom();
	*arg = p;
	return ctl_check_path(c, p);
}

/* Edits from a to b, a swap of two neighbours counting as one ("tpo" is
 * one from "top"); for names of a few letters. */
static size_t
ctl_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, v;
	size_t d[32][32];

	if (la >= 32 || lb >= 32)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

const char *
ctl_suggest(const char *typed)
{
	const struct ctl_cmd *const *cmd;
	const char *best = NULL;
	size_t d, best_d = (size_t)-1, len = strlen(typed);

	for (cmd = ctl_cmd_table; *cmd != NULL; cmd++) {
		d = ctl_distance(typed, (*cmd)->name);
		/* A prefix of a longer name ("insp") counts as close. */
		if (len >= 2 && strncmp(typed, (*cmd)->name, len) == 0)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = (*cmd)->name;
		}
	}
	/* One typo in a short name, two in a longer one. */
	return best_d <= (len <= 4 ? 1u : 2u) ? best : NULL;
}
