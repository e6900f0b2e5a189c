/* arborctl signal: send a signal to an exec node's main process, or to
 * its whole process group. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "names.h"

static int signal_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_signal = {
	.name = "signal",
	.usage =
	    "signal [--all] SIG PATH\n"
	    "\n"
	    "      --all   the whole process group, not only the main process\n"
	    "SIG is a name (HUP, USR1, SIGTERM) or a number.\n",
	.summary = "send a signal to an exec node's processes",
	.run = signal_run,
};

enum {
	OPT_ALL = CTL_OPT_CMD,
};

static int
signal_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	json_t *params, *result, *pids, *v;
	bool all = false;
	long long num;
	int ch, rc;
	size_t i;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (ch == OPT_ALL)
			all = true;
		else if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
			return rc;
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		return ctl_usage(c, "missing %s",
		    argc == 0 ? "SIG and PATH" : "PATH");
	if (argc > 2)
		return ctl_usage(c, "one SIG and one PATH, got %d arguments",
		    argc);
	if ((rc = ctl_check_path(c, argv[1])) != 0)
		return rc;
	if (ctl_parse_int(argv[0], 1, 64, &num) == 0)
		params = json_pack("{s:s,s:I,s:b}", "path", argv[1], "signal",
		    (json_int_t)num, "all", all);
	else if (proto_signal_parse(argv[0]) != -1)
		params = json_pack("{s:s,s:s,s:b}", "path", argv[1], "signal",
		    argv[0], "all", all);
	else
		return ctl_usage(c,
		    "%s is not a signal; give a name like HUP or USR1, or a "
		    "number",
		    argv[0]);
	if (params == NULL)
		return ctl_oom();
	if ((rc = ctl_call(c, "signal", params, &result)) != 0)
		return rc;
	if (c->json) {
		ctl_json_print(c, result);
	} else {
		pids = json_object_get(result, "pids");
		printf("sent %s to", argv[0]);
		json_array_foreach(pids, i, v)
			printf(" %lld", (long long)json_integer_value(v));
		printf("\n");
	}
	json_decref(result);
	return CTL_EXIT_OK;
}
