/*
 * Tests for proto/spec-sockets.c: the `sockets` field of exec and
 * supervisor specs: addresses, defaults (the name from the listen text),
 * the fields that apply to some types only, errors located in a subtree,
 * and the round trip through spec_to_json, spec_dup and comparison.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <cmocka.h>

#include "spec.h"

static const struct spec_limits lim = { 1000, 8 };

static json_t *
obj(const char *text)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);

	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return o;
}

static struct node_spec *
parse_ok(const char *text)
{
	struct node_spec *spec = NULL;
	struct proto_err err;
	json_t *o = obj(text);

	if (spec_parse(o, &lim, NULL, &spec, NULL, &err) != 0)
		fail_msg("%s: %s", text, err.message);
	json_decref(o);
	return spec;
}

static void
parse_bad(const char *text, const char *needle)
{
	struct node_spec *spec = NULL;
	struct proto_err err;
	json_t *o = obj(text);

	proto_err_clear(&err);
	assert_int_equal(spec_parse(o, &lim, NULL, &spec, NULL, &err), -1);
	assert_null(spec);
	assert_int_equal(err.code, PROTO_INVALID_PARAMS);
	if (strstr(err.message, needle) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", text, err.message,
		    needle);
	json_decref(o);
}

/* The issue's example, on an exec node. */
#define EXAMPLE                                                        \
	"[{\"name\":\"http\",\"listen\":\"tcp:127.0.0.1:8080\"},"      \
	"{\"listen\":\"unix:/run/app/app.sock\",\"mode\":\"0660\","    \
	"\"owner\":\"app\",\"group\":\"app\"},"                        \
	"{\"listen\":\"udp:[::]:5353\"},"                              \
	"{\"listen\":\"tcp:0.0.0.0:80\",\"backlog\":1024,\"reuse_port\":" \
	"false}]"

static void
test_the_example_parses_with_its_defaults(void **state)
{
	struct node_spec *s = parse_ok("{\"name\":\"e\",\"kind\":\"exec\","
	                               "\"argv\":[\"a\"],\"sockets\":" EXAMPLE
	                               "}");
	const struct spec_sockets *k = s->sockets;
	const struct sockaddr_in *a4;
	const struct sockaddr_in6 *a6;
	const struct sockaddr_un *un;

	assert_non_null(k);
	assert_int_equal(k->n, 4);
	assert_string_equal(k->v[0].name, "http");
	assert_int_equal(k->v[0].type, SPEC_SOCK_TCP);
	a4 = (const struct sockaddr_in *)&k->v[0].addr;
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 8080);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(k->v[0].backlog, SOMAXCONN);
	assert_false(k->v[0].reuse_port);
	assert_int_equal(k->v[0].mode, -1);

	/* The default name is the listen text, each ':' made '_'. */
	assert_string_equal(k->v[1].name, "unix_/run/app/app.sock");
	assert_int_equal(k->v[1].type, SPEC_SOCK_UNIX);
	un = (const struct sockaddr_un *)&k->v[1].addr;
	assert_string_equal(un->sun_path, "/run/app/app.sock");
	assert_int_equal(k->v[1].mode, 0660);
	assert_string_equal(k->v[1].owner, "app");
	assert_string_equal(k->v[1].group, "app");

	assert_string_equal(k->v[2].name, "udp_[__]_5353");
	assert_int_equal(k->v[2].type, SPEC_SOCK_UDP);
	a6 = (const struct sockaddr_in6 *)&k->v[2].addr;
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 5353);
	assert_int_equal(k->v[2].backlog, 0);

	assert_int_equal(k->v[3].backlog, 1024);
	spec_free(s);
}

static void
test_unix_paths_abstract_names_and_default_mode(void **state)
{
	struct node_spec *s = parse_ok(
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"sockets\":["
	    "{\"listen\":\"unix:/tmp/a.sock\"},{\"listen\":\"unix:@abs\"}]}");
	const struct sockaddr_un *un;

	assert_int_equal(s->sockets->v[0].mode, SPEC_SOCK_MODE_DEF);
	assert_int_equal(s->sockets->v[0].addrlen,
	    offsetof(struct sockaddr_un, sun_path) + sizeof "/tmp/a.sock");
	un = (const struct sockaddr_un *)&s->sockets->v[1].addr;
	assert_int_equal(un->sun_path[0], '\0');
	assert_memory_equal(un->sun_path + 1, "abs", 3);
	assert_int_equal(s->sockets->v[1].addrlen,
	    offsetof(struct sockaddr_un, sun_path) + 4);
	/* No file, so no mode. */
	assert_int_equal(s->sockets->v[1].mode, -1);
	spec_free(s);
}

static void
test_bad_listen_texts_are_refused(void **state)
{
	static const char *const bad[] = {
		"tcp:127.0.0.1",
		"tcp:127.0.0.1:0",
		"tcp:127.0.0.1:65536",
		"tcp:127.0.0.1:80x",
		"tcp:localhost:80",
		"tcp:::1:80",
		"tcp:[::1]80",
		"tcp:[nope]:80",
		"sctp:127.0.0.1:80",
		"127.0.0.1:80",
		"unix:relative.sock",
		"unix:",
		"unix:@",
		"unix:/tmp/"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
	};
	char text[512];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
		    "{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		    "\"sockets\":[{\"listen\":\"%s\"}]}",
		    bad[i]);
		parse_bad(text, "field \"sockets[0].listen\" must be");
	}
}

static void
test_fields_that_do_not_apply_and_bad_values_are_refused(void **state)
{
	static const struct {
		const char *sock, *needle;
	} bad[] = {
		{ "{\"listen\":\"tcp:1.2.3.4:80\",\"mode\":\"0600\"}",
		    "sockets[0].mode\" applies to unix" },
		{ "{\"listen\":\"unix:@x\",\"owner\":\"a\"}",
		    "sockets[0].owner\" applies to unix" },
		{ "{\"listen\":\"udp:1.2.3.4:80\",\"backlog\":5}",
		    "sockets[0].backlog\" applies to stream" },
		{ "{\"listen\":\"unix:/x\",\"reuse_port\":true}",
		    "sockets[0].reuse_port\" applies to tcp and udp" },
		{ "{\"listen\":\"unix:/x\",\"mode\":\"0999\"}",
		    "sockets[0].mode\" must be an octal string" },
		{ "{\"listen\":\"unix:/x\",\"mode\":420}",
		    "sockets[0].mode\" must be an octal string" },
		{ "{\"listen\":\"unix:/x\",\"mode\":\"01777\"}",
		    "sockets[0].mode\" must be an octal string" },
		{ "{\"listen\":\"unix:/x\",\"owner\":\"\"}",
		    "sockets[0].owner\" must be a non-empty string" },
		{ "{\"listen\":\"tcp:1.2.3.4:80\",\"backlog\":0}",
		    "sockets[0].backlog\" must be an integer" },
		{ "{\"listen\":\"tcp:1.2.3.4:80\",\"reuse_port\":1}",
		    "sockets[0].reuse_port\" must be true or false" },
		{ "{\"listen\":\"tcp:1.2.3.4:80\",\"name\":\"a:b\"}",
		    "sockets[0].name\" must be printable ASCII without \":\"" },
		{ "{\"listen\":\"tcp:1.2.3.4:80\",\"name\":\"a\\tb\"}",
		    "sockets[0].name\" must be printable" },
		{ "{\"listen\":\"tcp:1.2.3.4:80\",\"nope\":1}",
		    "unknown field \"nope\" in sockets[0]" },
		{ "{\"name\":\"x\"}", "field \"sockets[0].listen\" must be" },
		{ "\"tcp:1.2.3.4:80\"", "field \"sockets[0]\" must be an object" },
	};
	char text[512];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
		    "{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
		    "\"sockets\":[%s]}",
		    bad[i].sock);
		parse_bad(text, bad[i].needle);
	}
	parse_bad("{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	          "\"sockets\":{}}",
	    "field \"sockets\" must be an array");
	parse_bad("{\"name\":\"e\",\"kind\":\"sleep\",\"sockets\":[]}",
	    "field \"sockets\" does not apply to kind \"sleep\"");
	parse_bad("{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	          "\"sockets\":[{\"listen\":\"tcp:1.2.3.4:80\"},"
	          "{\"listen\":\"tcp:1.2.3.4:80\",\"name\":\"other\"}]}",
	    "sockets[1].listen\" \"tcp:1.2.3.4:80\" is listed twice");
}

static void
test_errors_in_a_subtree_say_where(void **state)
{
	parse_bad("{\"name\":\"s\",\"kind\":\"supervisor\",\"children\":["
	          "{\"name\":\"a\",\"kind\":\"sleep\"},"
	          "{\"name\":\"b\",\"kind\":\"exec\",\"argv\":[\"x\"],"
	          "\"sockets\":[{\"listen\":\"tcp:x:1\"}]}]}",
	    "children[1].sockets[0].listen: must be");
}

static void
test_too_many_sockets_are_refused(void **state)
{
	char text[8192];
	size_t len;

	len = (size_t)snprintf(text, sizeof text,
	    "{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],\"sockets\":[");
	for (int i = 0; i <= SPEC_SOCKETS_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
		    "%s{\"listen\":\"tcp:127.0.0.1:%d\"}", i ? "," : "",
		    1000 + i);
	snprintf(text + len, sizeof text - len, "]}");
	parse_bad(text, "more than 64");
}

static void
test_fdname_rules_are_systemds(void **state)
{
	char long_name[300];

	assert_true(spec_fdname_valid(""));
	assert_true(spec_fdname_valid("http"));
	assert_true(spec_fdname_valid("a b/c.d@e"));
	assert_false(spec_fdname_valid("a:b"));
	assert_false(spec_fdname_valid("a\nb"));
	assert_false(spec_fdname_valid("caf\xc3\xa9"));
	memset(long_name, 'a', 255);
	long_name[255] = '\0';
	assert_true(spec_fdname_valid(long_name));
	long_name[255] = 'a';
	long_name[256] = '\0';
	assert_false(spec_fdname_valid(long_name));
}

static void
test_round_trip_dup_and_equal(void **state)
{
	struct node_spec *a = parse_ok(
	    "{\"name\":\"s\",\"kind\":\"supervisor\",\"sockets\":" EXAMPLE
	    ",\"children\":[{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],"
	    "\"sockets\":[{\"listen\":\"unix:@x\"}]}]}");
	struct node_spec *b, *c;
	struct proto_err err;
	json_t *j, *j2;

	j = spec_to_json(a);
	assert_non_null(j);
	assert_int_equal(spec_parse(j, &lim, NULL, &b, NULL, &err), 0);
	assert_true(spec_equal_shallow(a, b));
	assert_true(spec_equal_shallow(a->u.sup.children[0],
	    b->u.sup.children[0]));
	j2 = spec_to_json(b);
	assert_true(json_equal(j, j2));
	/* Every value is written as it takes effect. */
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(j, "sockets"), 1),
	                        "mode")),
	    "0660");
	json_decref(j2);
	json_decref(j);

	c = spec_dup(a);
	assert_non_null(c);
	assert_ptr_not_equal(c->sockets, a->sockets);
	assert_ptr_not_equal(c->sockets->v[1].owner, a->sockets->v[1].owner);
	assert_true(spec_equal_shallow(a, c));
	spec_free(a);
	spec_free(b);
	spec_free(c);
}

static void
test_a_socket_change_is_a_change_of_work(void **state)
{
	static const char *const base =
	    "{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],\"sockets\":["
	    "{\"listen\":\"unix:/x\",\"mode\":\"0600\",\"owner\":\"u\"}]}";
	static const char *const differ[] = {
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"]}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],\"sockets\":["
		"{\"listen\":\"unix:/y\",\"mode\":\"0600\",\"owner\":\"u\"}]}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],\"sockets\":["
		"{\"listen\":\"unix:/x\",\"mode\":\"0660\",\"owner\":\"u\"}]}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],\"sockets\":["
		"{\"listen\":\"unix:/x\",\"mode\":\"0600\"}]}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],\"sockets\":["
		"{\"listen\":\"unix:/x\",\"mode\":\"0600\",\"owner\":\"u\","
		"\"name\":\"n\"}]}",
		"{\"name\":\"e\",\"kind\":\"exec\",\"argv\":[\"a\"],\"sockets\":["
		"{\"listen\":\"unix:/x\",\"mode\":\"0600\",\"owner\":\"u\","
		"\"backlog\":7}]}",
	};
	struct node_spec *a = parse_ok(base), *b;

	b = parse_ok(base);
	assert_true(spec_same_work(a, b));
	spec_free(b);
	for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
		b = parse_ok(differ[i]);
		if (spec_same_work(a, b))
			fail_msg("same work: %s", differ[i]);
		spec_free(b);
	}
	/* A supervisor's sockets are its work too. */
	spec_free(a);
	a = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\"}");
	b = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\",\"sockets\":"
	             "[{\"listen\":\"tcp:1.2.3.4:5\"}]}");
	assert_false(spec_same_work(a, b));
	spec_free(b);
	/* An empty list is no list. */
	b = parse_ok("{\"name\":\"s\",\"kind\":\"supervisor\",\"sockets\":[]}");
	assert_true(spec_equal_shallow(a, b));
	assert_null(b->sockets);
	spec_free(a);
	spec_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_example_parses_with_its_defaults),
		cmocka_unit_test(
		    test_unix_paths_abstract_names_and_default_mode),
		cmocka_unit_test(test_bad_listen_texts_are_refused),
		cmocka_unit_test(
		    test_fields_that_do_not_apply_and_bad_values_are_refused),
		cmocka_unit_test(test_errors_in_a_subtree_say_where),
		cmocka_unit_test(test_too_many_sockets_are_refused),
		cmocka_unit_test(test_fdname_rules_are_systemds),
		cmocka_unit_test(test_round_trip_dup_and_equal),
		cmocka_unit_test(test_a_socket_change_is_a_change_of_work),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
