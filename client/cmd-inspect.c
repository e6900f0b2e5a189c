/* arborctl inspect: one node in full, then its subtree. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <limits.h>
#include <stdio.h>

#include "ctl.h"

static int inspect_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_inspect = {
	.name = "inspect",
	.usage =
	    "inspect [-d DEPTH] PATH\n"
	    "\n"
	    "  -d, --depth N  levels of children to show (default -1: all)\n",
	.summary = "show every field of a node, and its subtree",
	.run = inspect_run,
};

static int
inspect_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "depth", required_argument, NULL, 'd' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	json_t *view;
	long long depth = -1;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:hd:", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ctl_parse_int(optarg, -1, INT_MAX, &depth) != 0)
				return ctl_usage(c, "--depth wants a number "
				    "of levels, or -1 for all");
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return argc == 0 ? ctl_usage(c, "missing PATH") :
		    ctl_usage(c, "unexpected argument '%s'", argv[1]);
	if ((rc = ctl_check_path(c, argv[0])) != 0)
		return rc;

	rc = ctl_call(c, "inspect", json_pack("{s:s,s:I}", "path", argv[0],
	    "depth", (json_int_t)depth), &view);
	if (rc != 0)
		return rc;
	if (c->json)
		ctl_json_print(c, view);
	else
		ctl_print_node(c, view);
	json_decref(view);
	return CTL_EXIT_OK;
}
