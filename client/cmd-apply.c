/* arborctl apply: spawn whole subtrees from a JSON file of node specs. */
#ifdef HAVE_CONFIG_H
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "spec.h"
#include "ctl.h"

static int apply_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_apply = {
	.name = "apply",
	.usage =
	    "apply FILE.json\n"
	    "\n"
	    "FILE holds one node spec (the params of `spawn`, children\n"
	    "included) or an array of them, each started under its \"parent\"\n"
	    "or under /, in order. Every spec is checked before any is sent;\n"
	    "the first the daemon refuses stops the rest. FILE - reads stdin.\n",
	.summary = "spawn whole subtrees from a spec file",
	.run = apply_run,
};

static json_t *
apply_load(struct ctl *c, const char *path)
{
	json_error_t jerr;
	json_t *doc;

	if (strcmp(path, "-") == 0)
		doc = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	else
		doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc != NULL)
		return doc;
	if (jerr.line > 0)
		ctl_usage(c, "%s:%d:%d: %s", path, jerr.line, jerr.column,
		    jerr.text);
	else if (strcmp(path, "-") != 0)
		ctl_usage(c, "%s", jerr.text); /* it names the file */
	else
		ctl_usage(c, "%s: %s", path, jerr.text);
	return NULL;
}

/* The daemon checks again; checking here first keeps a typo in the third
 * spec from leaving the first two running. */
static int
apply_check(struct ctl *c, const char *path, json_t *specs, bool many)
{
	const struct spec_limits lim = {
		.max_nodes = SIZE_MAX,
		.max_depth = PROTO_DEPTH_MAX,
	};
	struct proto_err err;
	struct node_spec *spec;
	const char *parent;
	json_t *one;
	size_t i;

	json_array_foreach(specs, i, one)
	{
		proto_err_clear(&err);
		if (!json_is_object(one))
			return ctl_usage(c,
			    "%s: [%zu] is not a node spec "
			    "object",
			    path, i);
		parent = NULL;
		spec = NULL;
		if (spec_parse(one, &lim, &parent, &spec, NULL, &err) != 0) {
			if (many)
				return ctl_usage(c, "%s: [%zu]: %s", path, i,
				    err.message);
			return ctl_usage(c, "%s: %s", path, err.message);
		}
		spec_free(spec);
	}
	return 0;
}

static int
apply_run(struct ctl *c, int argc, char **argv)
{
	const char *path;
	json_t *doc, *specs, *one, *view, **views = NULL;
	size_t i, n, done = 0;
	bool many;
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 1, 1, "FILE")) != CTL_CONTINUE)
		return rc;
	path = argv[optind];
	if ((doc = apply_load(c, path)) == NULL)
		return CTL_EXIT_USAGE;
	many = json_is_array(doc);
	if (json_is_object(doc)) {
		specs = json_array();
		if (specs == NULL || json_array_append(specs, doc) != 0) {
			json_decref(specs);
			json_decref(doc);
			return ctl_oom();
		}
		json_decref(doc);
	} else if (json_is_array(doc))
		specs = doc;
	else {
		json_decref(doc);
		return ctl_usage(c,
		    "%s holds neither a node spec nor an array "
		    "of them",
		    path);
	}
	n = json_array_size(specs);
	if (n == 0) {
		rc = ctl_usage(c, "%s holds no node spec", path);
		goto out;
	}
	if ((rc = apply_check(c, path, specs, many)) != 0)
		goto out;
	if ((views = calloc(n, sizeof *views)) == NULL) {
		rc = ctl_oom();
		goto out;
	}

	/* One at a time: a later spec may name an earlier one as parent. */
	json_array_foreach(specs, i, one)
	{
		if ((rc = ctl_call(c, "spawn", json_incref(one), &view)) != 0)
			break;
		if (c->json) {
			ctl_json_print(c, view);
			json_decref(view);
		} else
			views[done] = view;
		done++;
	}
	if (!c->json && done > 0)
		ctl_print_views(c, views, done);
	if (rc != CTL_EXIT_OK && many && done > 0) {
		fflush(stdout);
		fprintf(stderr,
		    "arborctl: %s: stopped at [%zu]; the specs "
		    "before it were started\n",
		    path, done);
	}
	for (i = 0; i < done; i++)
		json_decref(views[i]);
out:
	free(views);
	json_decref(specs);
	return rc;
}
