/* arborctl scale: change how many instances an instanced exec node runs;
 * answered once the new ones are spawned and the removed ones are gone. */
#include <stdio.h>

#include "ctl.h"
#include "spec.h"

static int scale_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_scale = {
	.name = "scale",
	.usage =
	    "scale PATH N\n"
	    "\n"
	    "PATH is a node spawned with instances (spawn -n N); N is its new\n"
	    "count, 1 to 1000. New instances start as PATH/N-1 and down;\n"
	    "the highest-numbered ones are stopped and removed. The others\n"
	    "are left running.\n",
	.summary = "change how many instances of a program run",
	.run = scale_run,
};

static void
scale_print_list(const json_t *list, const char *what)
{
	const json_t *v;
	size_t i;

	if (json_array_size(list) == 0)
		return;
	printf(" %s", what);
	json_array_foreach(list, i, v)
		printf(" %s", json_string_value(v));
	printf(";");
}

static int
scale_run(struct ctl *c, int argc, char **argv)
{
	json_t *params, *result;
	long long n;
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 2, 2, "PATH and N")) !=
	    CTL_CONTINUE)
		return rc;
	argv += optind;
	if ((rc = ctl_path_arg(c, &argv[0])) != 0)
		return rc;
	if (ctl_parse_int(argv[1], 1, SPEC_INSTANCES_MAX, &n) != 0)
		return ctl_usage(c, "N must be a number from 1 to %d, got '%s'",
		    SPEC_INSTANCES_MAX, argv[1]);
	if ((params = json_pack("{s:s,s:I}", "path", argv[0], "instances",
	         (json_int_t)n)) == NULL)
		return ctl_oom();
	if ((rc = ctl_call(c, "scale", params, &result)) != 0)
		return rc;
	if (c->json) {
		ctl_json_print(c, result);
	} else {
		printf("%s: %lld instances;",
		    json_string_value(json_object_get(result, "path")),
		    (long long)json_integer_value(
		        json_object_get(result, "instances")));
		scale_print_list(json_object_get(result, "added"), "added");
		scale_print_list(json_object_get(result, "removed"), "removed");
		printf("\n");
	}
	json_decref(result);
	return CTL_EXIT_OK;
}
