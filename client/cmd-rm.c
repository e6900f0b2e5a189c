/* arborctl rm: forget terminated nodes, their views and output tails. */
#include "ctl.h"

static int rm_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_rm = {
	.name = "rm",
	.usage =
	    "rm PATH...\n"
	    "\n"
	    "Removes each terminated node and its subtree; a node with any of\n"
	    "it still alive is refused (cancel --rm stops and removes).\n",
	.summary = "remove terminated nodes",
	.run = rm_run,
};

static int
rm_run(struct ctl *c, int argc, char **argv)
{
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 1, -1, "PATH")) != CTL_CONTINUE)
		return rc;
	/* Like rm(1): nothing to say on success (--json still prints {}). */
	return ctl_call_paths(c, "remove", argc - optind, argv + optind, false);
}
