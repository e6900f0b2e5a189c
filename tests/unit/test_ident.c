/*
 * Tests for daemon/exec/ident.c: resolving users and groups, the defaults
 * (primary group, initgroups), the environment values, the allow lists,
 * and what an arbord that is not root refuses (run in a child that gave
 * up root, when the test runs as root).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ident.h"
#include "spec-ident.h"
#include "spec.h"

static struct node_spec *
parse(const char *text)
{
	struct node_spec *spec = NULL;
	struct proto_err err;
	const char *parent;
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);

	if (o == NULL || spec_parse(o, NULL, &parent, &spec, NULL, &err) != 0)
		fail_msg("%s: %s", text, o == NULL ? jerr.text : err.message);
	json_decref(o);
	return spec;
}

/* ident_resolve of an exec spec with extra fields; 0 or -1, err kept. */
static int
resolve(const char *extra, struct ident_creds *cr, struct proto_err *err)
{
	char text[512];
	struct node_spec *s;
	struct spec_ident eff;
	int rc;

	snprintf(text, sizeof text,
	    "{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"]%s%s}",
	    *extra ? "," : "", extra);
	s = parse(text);
	ident_effective(NULL, s, &eff);
	proto_err_clear(err);
	rc = ident_resolve(&eff, cr, err);
	spec_free(s);
	return rc;
}

static void
expect_refused(const char *extra, int code, const char *needle)
{
	struct ident_creds cr;
	struct proto_err err;

	if (resolve(extra, &cr, &err) != -1)
		fail_msg("%s was not refused", extra);
	if (err.code != code || strstr(err.message, needle) == NULL)
		fail_msg("%s: %d \"%s\", wanted %d \"%s\"", extra, err.code,
		    err.message, code, needle);
	if (code == PROTO_CONFLICT)
		assert_string_equal(err.kind, "forbidden");
}

static void
test_nothing_set_changes_nothing(void **state)
{
	struct ident_creds cr;
	struct proto_err err;

	(void)state;
	assert_int_equal(resolve("", &cr, &err), 0);
	assert_false(cr.set_uid);
	assert_false(cr.set_gid);
	assert_false(cr.set_groups);
	assert_null(cr.name);
	ident_creds_free(&cr);
}

static void
test_a_user_brings_its_group_groups_and_environment(void **state)
{
	struct ident_creds cr;
	struct proto_err err;
	struct passwd *pw = getpwuid(0);

	(void)state;
	if (pw == NULL)
		skip();
	assert_int_equal(resolve("\"user\":0", &cr, &err), 0);
	if (geteuid() == 0) {
		assert_true(cr.set_uid);
		assert_true(cr.set_groups);
	}
	assert_int_equal(cr.uid, 0);
	assert_int_equal(cr.gid, pw->pw_gid);
	assert_string_equal(cr.name, pw->pw_name);
	assert_string_equal(cr.home, pw->pw_dir);
	ident_creds_free(&cr);
}

static void
test_a_uid_without_entry_is_its_own_group(void **state)
{
	struct ident_creds cr;
	struct proto_err err;

	(void)state;
	if (geteuid() != 0 || getpwuid(4000123) != NULL)
		skip();
	assert_int_equal(resolve("\"user\":4000123", &cr, &err), 0);
	assert_int_equal(cr.uid, 4000123);
	assert_int_equal(cr.gid, 4000123);
	assert_true(cr.set_groups);
	assert_int_equal(cr.ngroups, 0);
	assert_string_equal(cr.name, "4000123");
	assert_string_equal(cr.home, "/");
	ident_creds_free(&cr);
}

static void
test_unknown_names_are_invalid_params(void **state)
{
	(void)state;
	expect_refused("\"user\":\"no-such-user-x\"", PROTO_INVALID_PARAMS,
	    "user: no such user \"no-such-user-x\"");
	expect_refused("\"group\":\"no-such-group-x\"", PROTO_INVALID_PARAMS,
	    "group: no such group \"no-such-group-x\"");
	expect_refused("\"groups\":[0,\"no-such-group-x\"]",
	    PROTO_INVALID_PARAMS, "groups[1]: no such group");
	expect_refused("\"rlimits\":{\"nofile\":\"infinity\"}",
	    PROTO_INVALID_PARAMS, "rlimits.nofile: cannot be infinity");
}

static void
test_allow_lists(void **state)
{
	struct ident_creds cr;
	struct proto_err err;
	char list[64], extra[64];

	(void)state;
	assert_int_equal(ident_allow_set("no-such-user-x", NULL, &err), -1);
	assert_non_null(strstr(err.message, "--allow-users: no such user"));
	assert_int_equal(ident_allow_set(NULL, "no-such-group-x", &err), -1);
	assert_int_equal(ident_allow_set(",", NULL, &err), -1);
	/* Only a uid that is not ours: nothing set runs as ours. */
	snprintf(list, sizeof list, "%ld", (long)geteuid() + 1);
	assert_int_equal(ident_allow_set(list, NULL, &err), 0);
	expect_refused("", PROTO_CONFLICT, "not in --allow-users");
	ident_allow_free();
	/* Ours in the list, a group list without ours. */
	snprintf(list, sizeof list, "x,%ld", (long)geteuid());
	snprintf(extra, sizeof extra, "%ld", (long)getegid() + 1);
	assert_int_equal(ident_allow_set(list + 2, extra, &err), 0);
	expect_refused("", PROTO_CONFLICT, "not in --allow-groups");
	ident_allow_free();
	snprintf(extra, sizeof extra, "%ld", (long)getegid());
	assert_int_equal(ident_allow_set(list + 2, extra, &err), 0);
	assert_int_equal(resolve("", &cr, &err), 0);
	ident_creds_free(&cr);
	ident_allow_free();
}

/* As a user that is not root: only its own ids, no hard limit above its
 * own. The checks run in a child that dropped root. */
static int
unprivileged_checks(uid_t uid, gid_t gid)
{
	struct ident_creds cr;
	struct proto_err err;
	struct rlimit rl;
	char extra[128];

	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return 10;
	if (resolve("\"user\":0", &cr, &err) != -1 ||
	    err.code != PROTO_INVALID_PARAMS ||
	    strstr(err.message, "cannot start workers as uid 0") == NULL)
		return 11;
	snprintf(extra, sizeof extra, "\"user\":%ld", (long)uid);
	if (resolve(extra, &cr, &err) != 0)
		return 12;
	/* Its own: the child makes no call that would fail. */
	if (cr.set_uid || cr.set_gid || cr.set_groups)
		return 13;
	ident_creds_free(&cr);
	if (resolve("\"group\":0", &cr, &err) != -1 ||
	    strstr(err.message, "group: ") != err.message)
		return 14;
	if (resolve("\"groups\":[0]", &cr, &err) != -1 ||
	    strstr(err.message, "groups: ") != err.message)
		return 15;
	if (getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
		snprintf(extra, sizeof extra, "\"rlimits\":{\"core\":%llu}",
		    (unsigned long long)rl.rlim_max + 1);
		if (resolve(extra, &cr, &err) != -1 ||
		    strstr(err.message, "rlimits.core: arbord lacks CAP_SYS_RESOURCE") ==
		        NULL)
			return 16;
	}
	if (resolve("\"rlimits\":{\"core\":0}", &cr, &err) != 0)
		return 17;
	ident_creds_free(&cr);
	return 0;
}

static void
test_not_root_refuses_a_uid_it_cannot_become(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	struct rlimit rl = { 1000, 1000 };
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0 || pw == NULL) {
		printf("skipped: needs root and a user \"nobody\" to drop to\n");
		skip();
	}
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		/* A finite hard limit to be refused above. */
		setrlimit(RLIMIT_CORE, &rl);
		_exit(unprivileged_checks(pw->pw_uid, pw->pw_gid));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_set_changes_nothing),
		cmocka_unit_test(test_a_user_brings_its_group_groups_and_environment),
		cmocka_unit_test(test_a_uid_without_entry_is_its_own_group),
		cmocka_unit_test(test_unknown_names_are_invalid_params),
		cmocka_unit_test(test_allow_lists),
		cmocka_unit_test(test_not_root_refuses_a_uid_it_cannot_become),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
