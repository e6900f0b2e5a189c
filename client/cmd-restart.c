/* arborctl restart: stop nodes (children first) and start them again from
 * their specs, keeping path and id; --rolling restarts a supervisor's
 * children one at a time. */
#include <stdlib.h>

#include "ctl.h"

static int restart_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_restart = {
	.name = "restart",
	.usage =
	    "restart [--rolling] PATH...\n"
	    "\n"
	    "      --rolling  restart the children of each supervisor PATH one\n"
	    "                 at a time, the next once the one before is\n"
	    "                 running (ready) again, and healthy when it has\n"
	    "                 a health check; stops at a child that does not\n"
	    "                 come back and names it\n"
	    "A running or terminated node is stopped and started again; this\n"
	    "does not count against its supervisor's restart intensity.\n",
	.summary = "stop nodes and start them again",
	.run = restart_run,
};

enum {
	OPT_ROLLING = CTL_OPT_CMD,
};

static int
restart_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rolling", no_argument, NULL, OPT_ROLLING },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	json_t **params;
	int ch, rc, i, rolling = 0;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (ch == OPT_ROLLING)
			rolling = 1;
		else if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
			return rc;
	}
	argc -= optind;
	argv += optind;
	if (argc <= 0)
		return ctl_usage(c, "missing PATH");
	for (i = 0; i < argc; i++)
		if ((rc = ctl_path_arg(c, &argv[i])) != 0)
			return rc;
	if ((params = calloc((size_t)argc, sizeof *params)) == NULL)
		return ctl_oom();
	for (i = 0; i < argc; i++)
		params[i] = rolling ?
		    json_pack("{s:s,s:b}", "path", argv[i], "rolling", 1) :
		    json_pack("{s:s}", "path", argv[i]);
	rc = ctl_call_each(c, "restart", params, (size_t)argc, true);
	free(params);
	return rc;
}
