/* arborctl apply: make subtrees match a JSON file of node specs (the
 * daemon's `apply`), and print what changed. */
#include <getopt.h>
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
	    "apply [--prune] [--dry-run] FILE.json\n"
	    "\n"
	    "      --prune    remove nodes of the file's subtrees that the\n"
	    "                 file no longer has\n"
	    "      --dry-run  print what would change, change nothing\n"
	    "FILE holds one node spec (the params of `spawn`, children\n"
	    "included) or an array of them: each is the subtree at its\n"
	    "\"parent\" (default /) and name. The daemon makes the tree match\n"
	    "in one step, checking the whole file first: new nodes are\n"
	    "spawned, changed ones updated in place (same id; restarted only\n"
	    "when their program, environment or parameters changed),\n"
	    "unchanged ones left alone; nodes outside those subtrees are never\n"
	    "touched. Applying the same file again changes nothing. FILE -\n"
	    "reads stdin.\n",
	.summary = "make subtrees match a spec file (spawn, update, prune)",
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

	json_array_foreach(specs, i, one) {
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

/* "spawned /a" lines (with "would" before on a dry run), as reload
 * lists its changes. */
static size_t
apply_list(struct ctl *c, const char *key, const json_t *list)
{
	const json_t *v;
	size_t i, n = 0;

	json_array_foreach(list, i, v) {
		if (json_is_string(v)) {
			ctl_kv(c, key, json_string_value(v));
			n++;
		} else if (json_is_object(v)) {
			const char *p = ctl_str(v, "path");
			const char *msg = ctl_str(v, "message");

			printf("%-12s ", key);
			p = p != NULL ? p : "?";
			msg = msg != NULL ? msg : "?";
			ctl_put_safe(stdout, p, strlen(p));
			fputs(": ", stdout);
			ctl_put_safe(stdout, msg, strlen(msg));
			putchar('\n');
			n++;
		}
	}
	return n;
}

static int
apply_print(struct ctl *c, const json_t *res, bool dry_run)
{
	const json_t *unchanged = json_object_get(res, "unchanged");
	size_t changes = 0, failed;

	changes += apply_list(c, dry_run ? "would spawn" : "spawned",
	    json_object_get(res, "spawned"));
	changes += apply_list(c, dry_run ? "would update" : "updated",
	    json_object_get(res, "updated"));
	changes += apply_list(c, dry_run ? "would remove" : "removed",
	    json_object_get(res, "removed"));
	failed = apply_list(c, "failed", json_object_get(res, "failed"));
	ctl_kv_json(c, "unchanged", unchanged);
	if (changes == 0 && failed == 0)
		printf("nothing %s: the tree already matches the file\n",
		    dry_run ? "to change" : "changed");
	else if (dry_run)
		printf("dry run: nothing was changed\n");
	return failed > 0 ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

enum {
	OPT_PRUNE = CTL_OPT_CMD,
	OPT_DRY_RUN,
};

static int
apply_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prune", no_argument, NULL, OPT_PRUNE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *path;
	json_t *doc, *specs, *res;
	bool many, prune = false, dry_run = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_PRUNE:
			prune = true;
			break;
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	if ((rc = ctl_one_arg(c, argc, argv, "FILE", NULL, &path)) != 0)
		return rc;
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
	if ((rc = apply_check(c, path, specs, many)) != 0) {
		json_decref(specs);
		return rc;
	}
	rc = ctl_call(c, "apply",
	    json_pack("{s:o,s:b,s:b}", "specs", specs, "prune", prune,
	        "dry_run", dry_run),
	    &res);
	if (rc != 0)
		return rc;
	if (c->json || !json_is_object(res)) {
		ctl_json_print(c, res);
		rc = json_array_size(json_object_get(res, "failed")) > 0 ?
		    CTL_EXIT_ERROR :
		    CTL_EXIT_OK;
	} else
		rc = apply_print(c, res, dry_run);
	json_decref(res);
	return rc;
}
