/* arborctl stop: cancel nodes and answer once they are terminated, keeping
 * them in the tree (start brings them back). */
#include <stdio.h>

#include "ctl.h"

static int stop_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_stop = {
	.name = "stop",
	.usage =
	    "stop [--reason TEXT] PATH...\n"
	    "\n"
	    "      --reason TEXT  recorded in the cause: \"cancelled: TEXT\"\n"
	    "The same as cancel --wait: answers once each node and its\n"
	    "subtree are terminated. The node stays in the tree, stopped;\n"
	    "start runs it again with the same id, rm forgets it.\n",
	.summary = "stop nodes and wait until they are terminated",
	.run = stop_run,
};

enum {
	OPT_REASON = CTL_OPT_CMD,
};

static int
stop_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, OPT_REASON },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_REASON:
			if ((rc = ctl_reason_arg(c, optarg, &reason)) != 0)
				return rc;
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	return ctl_cancel(c, argc - optind, argv + optind, reason, true, false);
}
