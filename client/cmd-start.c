/* arborctl start: run stopped nodes again, with the same id; a node that
 * is already running is left as it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int start_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_start = {
	.name = "start",
	.usage =
	    "start PATH...\n"
	    "\n"
	    "A terminated node (stopped, exited or failed) is started again\n"
	    "from its spec, keeping its path and id, as restart does; a node\n"
	    "that is starting, running, in backoff or stopping is left alone\n"
	    "and shown as it is.\n",
	.summary = "start stopped nodes again",
	.run = start_run,
};

static bool
start_terminated(const char *state)
{
	return state != NULL &&
	    (strcmp(state, "exited") == 0 || strcmp(state, "failed") == 0);
}

static int
start_run(struct ctl *c, int argc, char **argv)
{
	json_t **views, *view;
	int rc, one, i, n, done = 0;

	if ((rc = ctl_parse_args(c, argc, argv, 1, -1, "PATH")) != CTL_CONTINUE)
		return rc;
	argc -= optind;
	argv += optind;
	for (i = 0; i < argc; i++) {
		if ((rc = ctl_path_arg(c, &argv[i])) != 0)
			return rc;
	}
	n = argc;
	if ((views = calloc((size_t)n, sizeof *views)) == NULL)
		return ctl_oom();
	rc = CTL_EXIT_OK;
	for (i = 0; i < n; i++) {
		one = ctl_call(c, "inspect",
		    json_pack("{s:s}", "path", argv[i]), &view);
		if (one == CTL_EXIT_OK &&
		    start_terminated(ctl_str(view, "state"))) {
			json_decref(view);
			one = ctl_call(c, "restart",
			    json_pack("{s:s}", "path", argv[i]), &view);
		}
		if (one != CTL_EXIT_OK) {
			if (rc == CTL_EXIT_OK)
				rc = one;
			if (one == CTL_EXIT_NODAEMON)
				break;
			continue;
		}
		if (c->json) {
			ctl_json_print(c, view);
			json_decref(view);
		} else
			views[done++] = view;
	}
	if (done > 0)
		ctl_print_views(c, views, (size_t)done);
	for (i = 0; i < done; i++)
		json_decref(views[i]);
	free(views);
	return rc;
}
