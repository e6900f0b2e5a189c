/* arborctl cancel: close nodes' done handles, children first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "ctl.h"

static int cancel_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_cancel = {
	.name = "cancel",
	.usage =
	    "cancel [--wait] [--rm] [--reason TEXT] PATH...\n"
	    "\n"
	    "      --wait         answer once each node is terminated\n"
	    "      --rm           remove each node once it is terminated\n"
	    "      --reason TEXT  recorded in the cause: \"cancelled: TEXT\"\n"
	    "Cancelling / cancels every node but the root.\n",
	.summary = "cancel nodes and their subtrees",
	.run = cancel_run,
};

enum {
	OPT_WAIT = CTL_OPT_CMD,
	OPT_RM,
	OPT_REASON,
};

static int
cancel_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "reason", required_argument, NULL, OPT_REASON },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL;
	bool wait = false, rm = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_WAIT:
			wait = true;
			break;
		case OPT_RM:
			rm = true;
			break;
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
	return ctl_cancel(c, argc - optind, argv + optind, reason, wait, rm);
}

int
ctl_reason_arg(struct ctl *c, const char *arg, const char **reason)
{
	if (strlen(arg) > PARAMS_REASON_MAX)
		return ctl_usage(c, "--reason is longer than %d bytes",
		    PARAMS_REASON_MAX);
	*reason = arg;
	return 0;
}

int
ctl_cancel(struct ctl *c, int argc, char **argv, const char *reason, bool wait,
    bool rm)
{
	json_t **params;
	int rc, i;

	if (argc <= 0)
		return ctl_usage(c, "missing PATH");
	for (i = 0; i < argc; i++) {
		if ((rc = ctl_path_arg(c, &argv[i])) != 0)
			return rc;
	}
	if ((params = calloc((size_t)argc, sizeof *params)) == NULL)
		return ctl_oom();
	for (i = 0; i < argc; i++) {
		params[i] = json_pack("{s:s}", "path", argv[i]);
		if (params[i] != NULL && reason != NULL)
			json_object_set_new(params[i], "reason",
			    json_string(reason));
		if (params[i] != NULL && wait)
			json_object_set_new(params[i], "wait", json_true());
		if (params[i] != NULL && rm)
			json_object_set_new(params[i], "remove", json_true());
	}
	rc = ctl_call_each(c, "cancel", params, (size_t)argc, true);
	free(params);
	return rc;
}
