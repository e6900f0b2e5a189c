/* arborctl ping: is a daemon there, and which one. */
#include <stdio.h>

#include "ctl.h"

static int ping_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_ping = {
	.name = "ping",
	.usage = "ping",
	.summary = "check that the daemon answers, and show its version",
	.run = ping_run,
};

static int
ping_run(struct ctl *c, int argc, char **argv)
{
	json_t *result;
	const json_t *uptime;
	char buf[32];
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 0, 0, NULL)) != CTL_CONTINUE)
		return rc;
	if ((rc = ctl_call(c, "ping", NULL, &result)) != 0)
		return rc;
	if (c->json)
		ctl_json_print(c, result);
	else {
		uptime = json_object_get(result, "uptime_ms");
		ctl_kv_json(c, "version", json_object_get(result, "version"));
		ctl_kv_json(c, "protocol", json_object_get(result, "protocol"));
		ctl_kv_json(c, "pid", json_object_get(result, "pid"));
		ctl_kv(c, "uptime",
		    json_is_integer(uptime) ?
		        ctl_fmt_ago(json_integer_value(uptime), buf,
		            sizeof buf) :
		        NULL);
		ctl_kv(c, "socket", c->socket);
	}
	json_decref(result);
	return CTL_EXIT_OK;
}
