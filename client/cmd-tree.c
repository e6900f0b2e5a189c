/* arborctl tree: the tree, or a subtree, drawn with states. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <limits.h>
#include <stdio.h>

#include "ctl.h"

static int tree_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_tree = {
	.name = "tree",
	.usage =
	    "tree [-d DEPTH] [PATH]\n"
	    "\n"
	    "  -d, --depth N  levels to draw below PATH (default -1: all)\n"
	    "PATH defaults to /, the whole tree.\n",
	.summary = "draw the tree of nodes with their states",
	.run = tree_run,
};

static int
tree_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "depth", required_argument, NULL, 'd' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	const char *path = "/";
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
	if (argc > 1)
		return ctl_usage(c, "unexpected argument '%s'", argv[1]);
	if (argc == 1)
		path = argv[0];
	if ((rc = ctl_check_path(c, path)) != 0)
		return rc;

	rc = ctl_call(c, "inspect", json_pack("{s:s,s:I}", "path", path,
	    "depth", (json_int_t)depth), &view);
	if (rc != 0)
		return rc;
	if (c->json)
		ctl_json_print(c, view);
	else
		ctl_print_tree(c, view);
	json_decref(view);
	return CTL_EXIT_OK;
}
