/* arborctl reload: make the daemon re-read its --config file. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int reload_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_reload = {
	.name = "reload",
	.usage =
	    "reload\n"
	    "\n"
	    "The daemon reads its --config file again and applies the\n"
	    "difference: new nodes are spawned, removed ones cancelled and\n"
	    "removed, changed ones updated in place (same id and place;\n"
	    "restarted only when their program, environment or parameters\n"
	    "changed); unchanged nodes and nodes that clients spawned are\n"
	    "left alone. A file with any error changes nothing. Answers once\n"
	    "restarted nodes are back (as SIGHUP does).\n",
	.summary = "re-read the daemon's --config file and apply its changes",
	.run = reload_run,
};

static void
reload_list(struct ctl *c, const char *key, const json_t *list)
{
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		if (json_is_string(v))
			ctl_kv(c, key, json_string_value(v));
		else if (json_is_object(v)) {
			const char *path = ctl_str(v, "path");
			const char *msg = ctl_str(v, "message");

			path = path != NULL ? path : "?";
			msg = msg != NULL ? msg : "?";
			printf("%-12s ", key);
			ctl_put_safe(stdout, path, strlen(path));
			fputs(": ", stdout);
			ctl_put_safe(stdout, msg, strlen(msg));
			putchar('\n');
		}
	}
}

static int
reload_run(struct ctl *c, int argc, char **argv)
{
	json_t *result;
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 0, 0, NULL)) != CTL_CONTINUE)
		return rc;
	if ((rc = ctl_call(c, "reload", NULL, &result)) != 0)
		return rc;
	if (c->json || !json_is_object(result)) {
		ctl_json_print(c, result);
		json_decref(result);
		return CTL_EXIT_OK;
	}
	reload_list(c, "spawned", json_object_get(result, "spawned"));
	reload_list(c, "cancelled", json_object_get(result, "cancelled"));
	reload_list(c, "restarted", json_object_get(result, "restarted"));
	reload_list(c, "updated", json_object_get(result, "updated"));
	ctl_kv_json(c, "unchanged", json_object_get(result, "unchanged"));
	reload_list(c, "failed", json_object_get(result, "failed"));
	rc = json_array_size(json_object_get(result, "failed")) > 0 ?
	    CTL_EXIT_ERROR :
	    CTL_EXIT_OK;
	json_decref(result);
	return rc;
}
