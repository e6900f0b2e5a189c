/*
 * Cgroups without a cgroup file system: escaping node names, building a
 * node's cgroup path, reading keyed files (cpu.stat, memory.events),
 * finding the hierarchy from fake mountinfo and /proc/self/cgroup files,
 * checking a spec's limits against what the host has; and the limit
 * fields of a spec (proto/spec-cgroup.c): sizes, cpu_max's forms, the
 * values written to the kernel, and the way back to JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "spec-cgroup.h"
#include "spec.h"

static char *
escaped(const char *name)
{
	static char buf[128];

	assert_true(cgroup_escape(name, buf, sizeof buf) > 0);
	return buf;
}

static void
test_names_that_could_be_interface_files_are_escaped(void **state)
{
	assert_string_equal(escaped("web"), "web");
	assert_string_equal(escaped("w-1"), "w-1");
	assert_string_equal(escaped("cgroup.procs"), "_cgroup.procs");
	assert_string_equal(escaped("memory.max"), "_memory.max");
	assert_string_equal(escaped("cgroup.kill"), "_cgroup.kill");
	assert_string_equal(escaped("a.b"), "_a.b");
	assert_string_equal(escaped(".hidden"), "_.hidden");
	/* "_x" must not meet the escape of "x.": a leading "_" is escaped. */
	assert_string_equal(escaped("_x"), "__x");
	assert_string_equal(escaped("_cgroup.procs"), "__cgroup.procs");
	{
		char small[4];

		assert_int_equal(cgroup_escape("a.bcd", small, sizeof small),
		    -1);
	}
}

static void
test_the_cgroup_path_mirrors_the_node_path(void **state)
{
	char buf[256];

	assert_int_equal(cgroup_path_dir("/cg", "/", buf, sizeof buf), 0);
	assert_string_equal(buf, "/cg/tree");
	assert_int_equal(cgroup_path_dir("/cg", "/web/w1", buf, sizeof buf),
	    0);
	assert_string_equal(buf, "/cg/tree/web/w1");
	assert_int_equal(cgroup_path_dir("/cg", "/web/cgroup.procs/memory.max",
	                     buf, sizeof buf),
	    0);
	assert_string_equal(buf, "/cg/tree/web/_cgroup.procs/_memory.max");
	assert_int_equal(cgroup_path_dir("/cg", "/a/b", buf, 10), -1);
}

static void
test_keyed_files_are_read_by_whole_key(void **state)
{
	const char *cpu = "usage_usec 1234\nuser_usec 1000\n"
	                  "system_usec 234\nnr_periods 0\n";
	const char *events = "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n"
	                     "oom_group_kill 0\n";
	int64_t v = -7;

	assert_int_equal(cgroup_keyed(cpu, "usage_usec", &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(cgroup_keyed(cpu, "system_usec", &v), 0);
	assert_int_equal(v, 234);
	assert_int_equal(cgroup_keyed(events, "oom_kill", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(cgroup_keyed(events, "oom", &v), 0);
	assert_int_equal(v, 2);
	v = -7;
	assert_int_equal(cgroup_keyed(events, "oom_k", &v), -1);
	assert_int_equal(cgroup_keyed("", "usage_usec", &v), -1);
	assert_int_equal(v, -7);
}

static char fake_dir[64];

/* A file in a fresh temporary directory; its path in buf. */
static void
fake(char *buf, size_t size, const char *name, const char *text)
{
	char *dir = fake_dir;
	FILE *f;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof fake_dir, "/tmp/test_cgroup.XXXXXX");
		assert_non_null(mkdtemp(dir));
	}
	snprintf(buf, size, "%s/%s", dir, name);
	assert_non_null(f = fopen(buf, "w"));
	fputs(text, f);
	fclose(f);
}

static const char hybrid_mountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
    "rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 "
    "rw\n";
static const char unified_mountinfo[] =
    "22 1 0:21 / / rw shared:1 - ext4 /dev/sda1 rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime "
    "shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

static void
test_the_hierarchy_is_found_from_mountinfo_and_proc_cgroup(void **state)
{
	char mi[128], pc[128], dir[256], why[256];
	bool own = true;

	/* Hybrid, in the top cgroup: taken as arbord's own (a container's
	 * cgroup namespace), if arbord turns out to be all there is in it. */
	fake(mi, sizeof mi, "mi1", hybrid_mountinfo);
	fake(pc, sizeof pc, "pc1",
	    "4:memory:/process_api/x\n1:cpu:/\n0::/\n");
	assert_int_equal(cgroup_find_mount(mi, dir, sizeof dir), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified");
	own = false;
	assert_int_equal(cgroup_detect(mi, pc, dir, sizeof dir, &own, why,
	                     sizeof why),
	    0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified");
	assert_true(own);
	/* Outside the namespace's view: refused, saying what to do. */
	fake(pc, sizeof pc, "pc1b", "0::/../../elsewhere\n");
	assert_int_equal(cgroup_detect(mi, pc, dir, sizeof dir, &own, why,
	                     sizeof why),
	    -1);
	assert_non_null(strstr(why, "--cgroup"));

	/* Unified, a delegated service: its own cgroup, left for a leaf. */
	fake(mi, sizeof mi, "mi2", unified_mountinfo);
	fake(pc, sizeof pc, "pc2", "0::/system.slice/arbord.service\n");
	assert_int_equal(cgroup_detect(mi, pc, dir, sizeof dir, &own, why,
	                     sizeof why),
	    0);
	assert_string_equal(dir, "/sys/fs/cgroup/system.slice/arbord.service");
	assert_true(own);

	/* A mount point with a space in it, escaped as mountinfo does. */
	fake(mi, sizeof mi, "mi3",
	    "41 31 0:38 / /mnt/c\\040g rw - cgroup2 none rw\n");
	assert_int_equal(cgroup_find_mount(mi, dir, sizeof dir), 0);
	assert_string_equal(dir, "/mnt/c g");

	/* v1 only: no cgroup2 mount, no "0::" line; each says so. */
	fake(mi, sizeof mi, "mi4",
	    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n");
	assert_int_equal(cgroup_detect(mi, pc, dir, sizeof dir, &own, why,
	                     sizeof why),
	    -1);
	assert_non_null(strstr(why, "no cgroup2"));
	fake(mi, sizeof mi, "mi5", unified_mountinfo);
	fake(pc, sizeof pc, "pc5", "1:name=systemd:/\n");
	assert_int_equal(cgroup_detect(mi, pc, dir, sizeof dir, &own, why,
	                     sizeof why),
	    -1);
	assert_non_null(strstr(why, "0::"));
	assert_int_equal(cgroup_find_own("/nonexistent", dir, sizeof dir), -1);
}

static struct node_spec *
parse(const char *text, struct proto_err *err)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	struct node_spec *s = NULL;

	assert_non_null(j);
	spec_parse(j, NULL, NULL, &s, NULL, err);
	json_decref(j);
	return s;
}

static void
test_limits_the_host_lacks_are_refused_naming_the_controller(void **state)
{
	struct cgroup_config off = { .disabled = true };
	struct proto_err err;
	struct node_spec *s;

	/* Without cgroups (the module is not set up here). */
	assert_int_equal(cgroup_init(NULL, &off), 0);
	assert_false(cgroup_available());
	s = parse("{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	          "{\"name\":\"a\",\"kind\":\"sleep\"},"
	          "{\"name\":\"b\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	          "\"pids_max\":10}]}",
	    &err);
	assert_non_null(s);
	assert_int_equal(cgroup_check_spec(s, &err), -1);
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	assert_non_null(strstr(err.message,
	    "children[1].pids_max: the pids controller is not available"));
	assert_non_null(strstr(err.message, "--no-cgroup"));
	spec_free(s);
	/* Without limits, nothing to refuse. */
	s = parse("{\"name\":\"b\",\"kind\":\"exec\",\"argv\":[\"x\"]}", &err);
	assert_int_equal(cgroup_check_spec(s, &err), 0);
	spec_free(s);
	cgroup_teardown();
}

static void
test_sizes_take_bytes_and_binary_units(void **state)
{
	int64_t v;
	char buf[32];

	assert_int_equal(spec_cgroup_size_parse("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(spec_cgroup_size_parse("256K", &v), 0);
	assert_int_equal(v, 256 * 1024);
	assert_int_equal(spec_cgroup_size_parse("256M", &v), 0);
	assert_int_equal(v, 256 * 1024 * 1024);
	assert_int_equal(spec_cgroup_size_parse("2G", &v), 0);
	assert_int_equal(v, INT64_C(2) << 30);
	assert_int_equal(spec_cgroup_size_parse("1t", &v), 0);
	assert_int_equal(v, INT64_C(1) << 40);
	assert_int_equal(spec_cgroup_size_parse("", &v), -1);
	assert_int_equal(spec_cgroup_size_parse("M", &v), -1);
	assert_int_equal(spec_cgroup_size_parse("-1", &v), -1);
	assert_int_equal(spec_cgroup_size_parse("12MB", &v), -1);
	assert_int_equal(spec_cgroup_size_parse("1.5G", &v), -1);
	assert_int_equal(spec_cgroup_size_parse("99999999999999T", &v), -1);
	spec_cgroup_size_format(256 * 1024 * 1024, buf, sizeof buf);
	assert_string_equal(buf, "256M");
	spec_cgroup_size_format(1536, buf, sizeof buf);
	assert_string_equal(buf, "1536");
	spec_cgroup_size_format(INT64_C(3) << 30, buf, sizeof buf);
	assert_string_equal(buf, "3G");
	spec_cgroup_size_format(0, buf, sizeof buf);
	assert_string_equal(buf, "0");
	spec_cgroup_size_format(SPEC_CG_MAX, buf, sizeof buf);
	assert_string_equal(buf, "max");
}

static void
expect_written(const struct node_spec *s, enum spec_cg_field f, const char *want)
{
	char buf[64];

	spec_cgroup_value(s->cgroup, f, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void
test_limits_become_the_kernels_values(void **state)
{
	struct proto_err err;
	struct node_spec *s;

	s = parse("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	          "\"memory_max\":\"256M\",\"memory_high\":1000000,"
	          "\"memory_swap_max\":\"max\",\"cpu_max\":\"50%\","
	          "\"cpu_weight\":200,\"pids_max\":64,\"io_weight\":300}",
	    &err);
	assert_non_null(s);
	expect_written(s, SPEC_CG_MEMORY_MAX, "268435456");
	expect_written(s, SPEC_CG_MEMORY_HIGH, "1000000");
	expect_written(s, SPEC_CG_MEMORY_SWAP_MAX, "max");
	expect_written(s, SPEC_CG_CPU_MAX, "50000 100000");
	expect_written(s, SPEC_CG_CPU_WEIGHT, "200");
	expect_written(s, SPEC_CG_PIDS_MAX, "64");
	expect_written(s, SPEC_CG_IO_WEIGHT, "default 300");
	spec_free(s);
	s = parse("{\"name\":\"s\",\"kind\":\"supervisor\","
	          "\"cpu_max\":{\"quota_us\":20000,\"period_us\":10000}}",
	    &err);
	assert_non_null(s);
	expect_written(s, SPEC_CG_CPU_MAX, "20000 10000");
	/* Unset: the kernel's defaults, for a reload that drops a limit. */
	expect_written(s, SPEC_CG_MEMORY_MAX, "max");
	expect_written(s, SPEC_CG_CPU_WEIGHT, "100");
	expect_written(s, SPEC_CG_IO_WEIGHT, "default 100");
	spec_free(s);
	s = parse("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	          "\"cpu_max\":\"max\"}",
	    &err);
	expect_written(s, SPEC_CG_CPU_MAX, "max 100000");
	spec_free(s);
}

static void
expect_refused(const char *text, const char *what)
{
	struct proto_err err;
	struct node_spec *s = parse(text, &err);

	assert_null(s);
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	if (strstr(err.message, what) == NULL)
		fail_msg("\"%s\" not in \"%s\"", what, err.message);
}

static void
test_bad_limits_are_refused_naming_the_field(void **state)
{
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"memory_max\":\"256MB\"}",
	    "\"memory_max\" must be a number of bytes");
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"memory_high\":-5}",
	    "\"memory_high\"");
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"cpu_max\":\"0%\"}",
	    "\"cpu_max\" must be a percentage");
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"cpu_max\":\"50\"}",
	    "\"cpu_max\"");
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"cpu_max\":{\"quota_us\":10}}",
	    "cpu_max");
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"cpu_max\":{\"quota_us\":10000,\"burst\":1}}",
	    "burst");
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"cpu_weight\":0}",
	    "\"cpu_weight\" must be a number from 1 to 10000");
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"io_weight\":10001}",
	    "\"io_weight\"");
	expect_refused("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	               "\"pids_max\":0}",
	    "\"pids_max\"");
	expect_refused("{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":"
	               "[{\"name\":\"z\",\"kind\":\"sleep\","
	               "\"memory_max\":\"1G\"}]}",
	    "children[0].memory_max: does not apply to kind \"sleep\"");
}

static void
test_limits_go_back_to_json_and_compare(void **state)
{
	struct proto_err err;
	struct node_spec *a, *b, *c;
	json_t *j;
	char *text;

	a = parse("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	          "\"memory_max\":268435456,\"cpu_max\":\"150%\","
	          "\"pids_max\":\"max\",\"io_weight\":50}",
	    &err);
	assert_non_null(a);
	assert_non_null(j = spec_to_json(a));
	assert_non_null(text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT));
	assert_non_null(strstr(text, "\"memory_max\":\"256M\""));
	assert_non_null(strstr(text, "\"cpu_max\":\"150%\""));
	assert_non_null(strstr(text, "\"pids_max\":\"max\""));
	assert_non_null(strstr(text, "\"io_weight\":50"));
	b = parse(text, &err);
	assert_non_null(b);
	assert_true(spec_equal_shallow(a, b));
	free(text);
	json_decref(j);
	c = spec_dup(b);
	assert_non_null(c);
	assert_true(spec_equal_shallow(a, c));
	/* A limit is policy: not the same configuration, the same work. */
	c->cgroup->v[SPEC_CG_IO_WEIGHT] = 60;
	assert_false(spec_equal_shallow(a, c));
	assert_true(spec_same_work(a, c));
	spec_free(a);
	spec_free(b);
	spec_free(c);
	a = parse("{\"name\":\"w\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	          "\"cpu_max\":{\"quota_us\":5000,\"period_us\":10000}}",
	    &err);
	assert_non_null(j = spec_to_json(a));
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(j, "cpu_max"), "quota_us")),
	    5000);
	json_decref(j);
	spec_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_names_that_could_be_interface_files_are_escaped),
		cmocka_unit_test(test_the_cgroup_path_mirrors_the_node_path),
		cmocka_unit_test(test_keyed_files_are_read_by_whole_key),
		cmocka_unit_test(
		    test_the_hierarchy_is_found_from_mountinfo_and_proc_cgroup),
		cmocka_unit_test(
		    test_limits_the_host_lacks_are_refused_naming_the_controller),
		cmocka_unit_test(test_sizes_take_bytes_and_binary_units),
		cmocka_unit_test(test_limits_become_the_kernels_values),
		cmocka_unit_test(test_bad_limits_are_refused_naming_the_field),
		cmocka_unit_test(test_limits_go_back_to_json_and_compare),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	if (fake_dir[0] != '\0') {
		const char *names[] = { "mi1", "pc1", "mi2", "pc2", "mi3",
			"mi4", "mi5", "pc5" };
		char path[128];

		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			snprintf(path, sizeof path, "%s/%s", fake_dir,
			    names[i]);
			unlink(path);
		}
		rmdir(fake_dir);
	}
	return rc;
}
