/* arborctl actor: start a built-in actor (sleep, tick, fail), the workers
 * for trying out trees, restarts and deadlines without real programs. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int actor_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_actor = {
	.name = "actor",
	.usage =
	    "actor [-p PARENT] [-r RESTART] [--grace DUR] [--timeout DUR]\n"
	    "                      NAME sleep|tick|fail [KEY=VALUE...]\n"
	    "\n" SPAWN_OPTS_HELP SPAWN_NAME_HELP "\n"
	    "KEY=VALUE, by kind:\n"
	    "  sleep  ms=DUR        exit 0 after DUR (default: sleep until "
	    "cancelled)\n"
	    "  tick   interval=DUR  count a tick every DUR (1s)\n"
	    "  fail   after=DUR     exit after DUR (0)\n"
	    "         code=N        with exit status N (1)\n"
	    "The spec's own names (interval_ms, after_ms) work too.\n",
	.summary = "start a built-in actor: sleep, tick or fail",
	.run = actor_run,
};

/* KEY=VALUE words and the spec field each sets. */
static const struct actor_key {
	const char *kind;
	const char *key;
	const char *field;
	bool duration; /* else an exit code */
} actor_keys[] = {
	{ "sleep", "ms", "ms", true },
	{ "tick", "interval", "interval_ms", true },
	{ "tick", "interval_ms", "interval_ms", true },
	{ "fail", "after", "after_ms", true },
	{ "fail", "after_ms", "after_ms", true },
	{ "fail", "code", "code", false },
};
#define ACTOR_NKEYS (sizeof actor_keys / sizeof actor_keys[0])

static const char *const actor_kinds[] = { "sleep", "tick", "fail", NULL };

static int
actor_keyval(struct ctl *c, json_t *spec, const char *kind, const char *kv)
{
	const struct actor_key *k = NULL;
	const char *eq = strchr(kv, '=');
	size_t len, i;
	long long code;
	int64_t ms;
	int rc;

	if (eq == NULL)
		return ctl_usage(c, "'%s' is not KEY=VALUE", kv);
	len = (size_t)(eq - kv);
	for (i = 0; i < ACTOR_NKEYS; i++) {
		if (strcmp(actor_keys[i].kind, kind) == 0 &&
		    strlen(actor_keys[i].key) == len &&
		    strncmp(actor_keys[i].key, kv, len) == 0)
			k = &actor_keys[i];
	}
	if (k == NULL)
		return ctl_usage(c,
		    "unknown key '%.*s' for a %s actor (see "
		    "'arborctl help actor')",
		    (int)len, kv, kind);
	if (k->duration) {
		if ((rc = ctl_parse_duration(c, k->key, eq + 1, &ms)) != 0)
			return rc;
		rc = json_object_set_new(spec, k->field, json_integer(ms));
	} else {
		if (ctl_parse_int(eq + 1, 0, 255, &code) != 0)
			return ctl_usage(c,
			    "%s must be an exit status from 0 "
			    "to 255, not '%s'",
			    k->key, eq + 1);
		rc = json_object_set_new(spec, k->field, json_integer(code));
	}
	if (rc != 0)
		return ctl_oom();
	return 0;
}

static int
actor_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		SPAWN_LONGOPTS,
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct spawn_args a;
	int ch, rc, i;

	if ((rc = spawn_args_init(&a)) != 0)
		return rc;
	while ((ch = getopt_long(argc, argv, "+:h" SPAWN_SHORTOPTS, opts,
	            NULL)) != -1) {
		if ((rc = spawn_opt(c, &a, ch, argv)) != CTL_CONTINUE)
			goto out;
	}
	argc -= optind;
	argv += optind;

	if (argc < 2) {
		rc = ctl_usage(c,
		    argc == 0 ? "missing NAME and KIND" :
		                "missing KIND (sleep, tick or fail)");
		goto out;
	}
	if ((rc = ctl_parse_choice(c, "KIND", argv[1], actor_kinds)) != 0 ||
	    (rc = spawn_target(c, &a, argv[0], argv[1])) != 0)
		goto out;
	for (i = 2; i < argc; i++) {
		if ((rc = actor_keyval(c, a.spec, argv[1], argv[i])) != 0)
			goto out;
	}
	rc = spawn_send(c, a.spec);
	a.spec = NULL;
out:
	spawn_args_free(&a);
	return rc;
}
