/* arborctl tree: the tree, or a subtree, drawn with states. */
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

/* inspect's options and call, drawn as a tree. */
static int
tree_run(struct ctl *c, int argc, char **argv)
{
	return ctl_inspect_run(c, argc, argv, "/", ctl_print_tree);
}
