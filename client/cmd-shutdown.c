/* arborctl shutdown: ask the daemon to cancel the whole tree and exit. */
#include <stdio.h>

#include "ctl.h"

static int shutdown_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_shutdown = {
	.name = "shutdown",
	.usage = "shutdown",
	.summary = "cancel the whole tree, then stop the daemon",
	.run = shutdown_run,
};

static int
shutdown_run(struct ctl *c, int argc, char **argv)
{
	json_t *result;
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 0, 0, NULL)) != CTL_CONTINUE)
		return rc;
	if ((rc = ctl_call(c, "shutdown", NULL, &result)) != 0)
		return rc;
	/* The daemon only promised to begin; people are told as much. */
	if (c->json)
		ctl_json_print(c, result);
	else
		printf("arbord at %s is shutting down\n", c->socket);
	json_decref(result);
	return CTL_EXIT_OK;
}
