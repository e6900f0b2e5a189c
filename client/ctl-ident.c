/* The identity options of spawn and sup (ctl.h): --user, --group,
 * --groups, --umask, --nice, --oom-score-adj, --no-new-privs, --rlimit.
 * Values go to the daemon as typed, numbers as numbers; it checks them. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int
ident_set(json_t *spec, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(spec, key, v) != 0)
		return ctl_oom();
	return 0;
}

/* "65534" as a number, "nobody" or "2G" as a string. */
static json_t *
ident_value(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	if (len > 0 && len <= 18 && i == len)
		return json_integer(strtoll(s, NULL, 10));
	return json_stringn(s, len);
}

static int
ident_groups(json_t *spec, const char *arg)
{
	json_t *arr = json_array();
	const char *p = arg, *end;

	if (arr == NULL)
		return ctl_oom();
	while (*p != '\0') {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (end > p &&
		    json_array_append_new(arr,
		        ident_value(p, (size_t)(end - p))) != 0) {
			json_decref(arr);
			return ctl_oom();
		}
		p = *end == ',' ? end + 1 : end;
	}
	return ident_set(spec, "groups", arr);
}

/* NAME=SOFT[:HARD] into rlimits.NAME; a later one for NAME wins. */
static int
ident_rlimit(struct ctl *c, json_t *spec, const char *arg)
{
	const char *eq = strchr(arg, '='), *colon;
	json_t *rl, *v;
	char *name;
	int rc;

	if (eq == NULL || eq == arg || eq[1] == '\0')
		return ctl_usage(c, "--rlimit wants NAME=SOFT[:HARD], not '%s'",
		    arg);
	if ((rl = json_object_get(spec, "rlimits")) == NULL) {
		if (ident_set(spec, "rlimits", json_object()) != 0)
			return CTL_EXIT_ERROR;
		rl = json_object_get(spec, "rlimits");
	}
	colon = strchr(eq + 1, ':');
	if (colon == NULL)
		v = ident_value(eq + 1, strlen(eq + 1));
	else
		v = json_pack("{s:o,s:o}", "soft",
		    ident_value(eq + 1, (size_t)(colon - eq - 1)), "hard",
		    ident_value(colon + 1, strlen(colon + 1)));
	if ((name = strndup(arg, (size_t)(eq - arg))) == NULL) {
		json_decref(v);
		return ctl_oom();
	}
	rc = ident_set(rl, name, v);
	free(name);
	return rc;
}

int
ctl_ident_opt(struct ctl *c, json_t *spec, int ch, const char *arg)
{
	long long n;

	switch (ch) {
	case IDENT_OPT_USER:
		return ident_set(spec, "user", ident_value(arg, strlen(arg)));
	case IDENT_OPT_GROUP:
		return ident_set(spec, "group", ident_value(arg, strlen(arg)));
	case IDENT_OPT_GROUPS:
		return ident_groups(spec, arg);
	case IDENT_OPT_UMASK:
		return ident_set(spec, "umask", json_string(arg));
	case IDENT_OPT_NICE:
		if (ctl_parse_int(arg, -20, 19, &n) != 0)
			return ctl_usage(c, "--nice wants -20 to 19, not '%s'",
			    arg);
		return ident_set(spec, "nice", json_integer(n));
	case IDENT_OPT_OOM:
		if (ctl_parse_int(arg, -1000, 1000, &n) != 0)
			return ctl_usage(c,
			    "--oom-score-adj wants -1000 to 1000, not '%s'",
			    arg);
		return ident_set(spec, "oom_score_adj", json_integer(n));
	case IDENT_OPT_NNP:
		return ident_set(spec, "no_new_privs", json_true());
	case IDENT_OPT_RLIMIT:
		return ident_rlimit(c, spec, arg);
	}
	return CTL_CONTINUE;
}
