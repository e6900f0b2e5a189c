/* arborctl sup: start a supervisor node, empty, for others to join. */
#include <stdio.h>
#include <string.h>

#include "spec.h"
#include "ctl.h"
#include "duration.h"

static int sup_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_sup = {
	.name = "sup",
	.usage =
	    "sup [-p PARENT] [-r RESTART] [--strategy S] [--intensity N/DUR]\n"
	    "                    [--grace DUR] [--timeout DUR]\n"
	    "                    [--user U] [--group G] [--rlimit NAME=N]...\n"
	    "                    [--socket LISTEN[=NAME]]... NAME\n"
	    "\n" SPAWN_OPTS_HELP IDENT_OPTS_HELP
	    "      --strategy S    one_for_one (default), one_for_all or\n"
	    "                      rest_for_one, as in Erlang/OTP\n"
	    "      --intensity N/DUR\n"
	    "                      fail after more than N restarts within DUR\n"
	    "                      (default 3/5s)\n" SPAWN_SOCKET_HELP
	    "                      (passed to each exec node below it, first)\n" SPAWN_NAME_HELP
	    "The identity options are defaults for the nodes under it.\n",
	.summary = "start a supervisor node",
	.run = sup_run,
};

enum {
	OPT_STRATEGY = SPAWN_OPT_NEXT,
	OPT_INTENSITY,
	OPT_SOCKET,
};

/* "5/10s" sets both; "5" only max_restarts. */
static int
sup_intensity(struct ctl *c, json_t *spec, const char *arg)
{
	struct proto_err err;
	uint32_t max;
	int64_t ms = -1;

	if (proto_intensity_parse(arg, SPEC_MAX_RESTARTS_MAX, &max, &ms,
	        &err) == -1)
		return ctl_usage(c, "--intensity: %s", err.message);
	if (json_object_set_new(spec, "max_restarts", json_integer(max)) != 0 ||
	    (ms >= 0 &&
	        json_object_set_new(spec, "period_ms", json_integer(ms)) != 0))
		return ctl_oom();
	return 0;
}

static int
sup_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		SPAWN_LONGOPTS,
		IDENT_LONGOPTS,
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "intensity", required_argument, NULL, OPT_INTENSITY },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct spawn_args a;
	const char *name;
	int ch, rc;

	if ((rc = spawn_args_init(&a)) != 0)
		return rc;
	while ((ch = getopt_long(argc, argv, "+:h" SPAWN_SHORTOPTS, opts,
	            NULL)) != -1) {
		switch (ch) {
		case OPT_STRATEGY:
			rc = ctl_parse_choice(c, "--strategy", optarg,
			    spec_strategy_names);
			if (rc == 0 &&
			    json_object_set_new(a.spec, "strategy",
			        json_string(optarg)) != 0)
				rc = ctl_oom();
			break;
		case OPT_INTENSITY:
			rc = sup_intensity(c, a.spec, optarg);
			break;
		case OPT_SOCKET:
			rc = spawn_socket(c, a.spec, optarg);
			break;
		default:
			if ((rc = ctl_ident_opt(c, a.spec, ch, optarg)) !=
			    CTL_CONTINUE)
				break;
			if ((rc = spawn_opt(c, &a, ch, argv)) != CTL_CONTINUE)
				goto out;
			rc = 0;
			break;
		}
		if (rc != 0)
			goto out;
	}
	if ((rc = ctl_one_arg(c, argc, argv, "NAME", NULL, &name)) != 0)
		goto out;
	if ((rc = spawn_target(c, &a, name, "supervisor")) != 0)
		goto out;
	rc = spawn_send(c, a.spec);
	a.spec = NULL;
out:
	spawn_args_free(&a);
	return rc;
}
