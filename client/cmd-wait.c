/* arborctl wait: block until a node is running or terminated. */
#include <stdio.h>

#include "ctl.h"

static int wait_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_wait = {
	.name = "wait",
	.usage =
	    "wait [--for running|terminated] [--timeout DUR] PATH\n"
	    "\n"
	    "      --for STATE    running, or terminated (default: exited or\n"
	    "                     failed)\n"
	    "      --timeout DUR  give up after DUR: exit status 4\n",
	.summary = "wait until a node is running or terminated",
	.run = wait_run,
};

enum {
	OPT_FOR = CTL_OPT_CMD,
	OPT_TIMEOUT,
};

static const char *const wait_fors[] = { "running", "terminated", NULL };

static int
wait_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, OPT_FOR },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *what = NULL, *path;
	json_t *params;
	int64_t timeout = -1;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_FOR:
			if ((rc = ctl_parse_choice(c, "--for", optarg,
			         wait_fors)) != 0)
				return rc;
			what = optarg;
			break;
		case OPT_TIMEOUT:
			if ((rc = ctl_parse_duration(c, "--timeout", optarg,
			         &timeout)) != 0)
				return rc;
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	if ((rc = ctl_one_path(c, argc, argv, NULL, &path)) != 0)
		return rc;

	/* Left out, for and timeout_ms take the daemon's defaults. */
	params = json_pack("{s:s}", "path", path);
	if (params != NULL && what != NULL)
		json_object_set_new(params, "for", json_string(what));
	if (params != NULL && timeout >= 0)
		json_object_set_new(params, "timeout_ms",
		    json_integer(timeout));
	/* A timeout is CTL_EXIT_TIMEOUT. */
	return ctl_call_view(c, "wait", params);
}
