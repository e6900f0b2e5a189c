/* arborctl restart: stop nodes (children first) and start them again from
 * their specs, keeping path and id. */
#ifdef HAVE_CONFIG_H
#endif

#include "ctl.h"

static int restart_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_restart = {
	.name = "restart",
	.usage =
	    "restart PATH...\n"
	    "\n"
	    "A running or terminated node is stopped and started again; this\n"
	    "does not count against its supervisor's restart intensity.\n",
	.summary = "stop nodes and start them again",
	.run = restart_run,
};

static int
restart_run(struct ctl *c, int argc, char **argv)
{
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 1, -1, "PATH")) != CTL_CONTINUE)
		return rc;
	return ctl_call_paths(c, "restart", argc - optind, argv + optind, true);
}
