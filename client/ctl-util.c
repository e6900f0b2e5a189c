/* arborctl's small shared checks: running out of memory, and the one
 * operand (a PATH, or a NAME) left after a command's options. */
#ifdef HAVE_CONFIG_H
#endif

#include <getopt.h>
#include <stdio.h>

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
	return ctl_check_path(c, *path);
}
