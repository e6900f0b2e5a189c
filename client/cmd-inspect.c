/* arborctl inspect: one node in full, then its subtree. The option parsing
 * and the call are shared with tree, which draws the same view. */
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

/*
 * [-d DEPTH] PATH, the `inspect` call, and the view printed by print (as
 * JSON with --json). dflt, when not NULL, is the path when none is given.
 */
int
ctl_inspect_run(struct ctl *c, int argc, char **argv, const char *dflt,
    void (*print)(struct ctl *, const json_t *))
{
	static const struct option opts[] = {
		{ "depth", required_argument, NULL, 'd' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *path;
	json_t *view;
	long long depth = -1;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:hd:", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ctl_parse_int(optarg, -1, INT_MAX, &depth) != 0)
				return ctl_usage(c,
				    "--depth wants a number "
				    "of levels, or -1 for all");
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	if ((rc = ctl_one_path(c, argc, argv, dflt, &path)) != 0)
		return rc;

	rc = ctl_call(c, "inspect",
	    json_pack("{s:s,s:I}", "path", path, "depth", (json_int_t)depth),
	    &view);
	if (rc != 0)
		return rc;
	if (c->json)
		ctl_json_print(c, view);
	else
		print(c, view);
	json_decref(view);
	return CTL_EXIT_OK;
}

static int
inspect_run(struct ctl *c, int argc, char **argv)
{
	return ctl_inspect_run(c, argc, argv, NULL, ctl_print_node);
}
