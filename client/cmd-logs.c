/* arborctl logs: the tail of a node's captured stdout and stderr. */
#ifdef HAVE_CONFIG_H
#endif

#include <stdio.h>
#include <string.h>

#include "jsonrpc.h"
#include "params.h"
#include "ctl.h"

static int logs_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_logs = {
	.name = "logs",
	.usage =
	    "logs [-f] [-n BYTES] PATH\n"
	    "\n"
	    "  -f, --follow   then print output as it comes, until interrupted\n"
	    "                 or the node is removed\n"
	    "  -n, --bytes N  how much of the end to show (4096; K and M\n"
	    "                 suffixes; at most 1M)\n",
	.summary = "show the end of a node's output",
	.run = logs_run,
};

/* "4096", "64K", "1M". */
static int
logs_bytes(const char *s, long long *out)
{
	char num[32];
	size_t len = strlen(s);
	long long mult = 1;

	if (len == 0 || len >= sizeof num)
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	}
	if (mult != 1)
		num[len - 1] = '\0';
	if (ctl_parse_int(num, 0, PARAMS_LOGS_MAX / mult, out) != 0)
		return -1;
	*out *= mult;
	return 0;
}

static int
logs_follow_one(struct ctl *, const char *, json_int_t, json_int_t *);

static void
logs_print(struct ctl *c, json_t *result)
{
	json_t *data = json_object_get(result, "data");

	/* The program's own bytes, as it wrote them: like cat, not
	 * filtered the way daemon-made strings are. */
	if (c->json)
		ctl_json_print(c, result);
	else if (json_is_string(data))
		fwrite(json_string_value(data), 1, json_string_length(data),
		    stdout);
	fflush(stdout);
}

/*
 * The tail, then output as it comes. logs and watch go in one batch, which
 * the daemon runs in one go, so no output falls between the two.
 */
static int
logs_follow(struct ctl *c, json_t *params)
{
	const char *path = ctl_str(params, "path");
	json_int_t logs_id = c->next_id++, watch_id = c->next_id++;
	json_t *batch;
	int rc;

	batch = json_pack("[o,o]",
	    proto_rpc_call(logs_id, "logs", json_incref(params)),
	    proto_rpc_call(watch_id, "watch",
	        json_pack("{s:s,s:b}", "path", path, "output", 1)));
	rc = batch != NULL ? ctl_send_json(c, batch) : CTL_EXIT_ERROR;
	json_decref(batch);
	while (rc == 0)
		rc = logs_follow_one(c, path, logs_id, &watch_id);
	json_decref(params); /* path was in it */
	return rc == -1 ? CTL_EXIT_OK : rc;
}

/* One message of logs -f: 0 to go on, -1 when the node is gone, else
 * the exit status. */
static int
logs_follow_one(struct ctl *c, const char *path, json_int_t logs_id,
    json_int_t *watch_id)
{
	json_t *msg, *p, *r;
	const char *type;
	size_t i;
	int rc;

	if ((rc = ctl_next(c, &msg)) != 0)
		return rc;
	if (json_is_array(msg)) {
		json_array_foreach(msg, i, r)
		{
			json_int_t id = json_integer_value(
			    json_object_get(r, "id"));

			if (json_object_get(r, "error") != NULL) {
				rc = ctl_report_error(c, r);
				json_decref(msg);
				return rc;
			}
			if (id == logs_id)
				logs_print(c, json_object_get(r, "result"));
		}
	} else if (json_object_get(msg, "error") != NULL) {
		rc = ctl_report_error(c, msg);
		json_decref(msg);
		return rc;
	}
	p = json_object_get(msg, "params");
	type = ctl_str(p, "type");
	if (type == NULL || !json_is_object(p)) {
		json_decref(msg);
		return 0;
	}
	if (strcmp(type, "output") == 0 &&
	    strcmp(ctl_str(p, "path"), path) == 0) {
		if (c->json)
			ctl_json_print(c, p);
		else
			fwrite(ctl_str(p, "data"), 1,
			    json_string_length(json_object_get(p, "data")),
			    stdout);
		fflush(stdout);
	} else if (strcmp(type, "removed") == 0 &&
	    strcmp(ctl_str(p, "path"), path) == 0) {
		json_decref(msg);
		return -1;
	} else if (strcmp(type, "gap") == 0) {
		fflush(stdout);
		fprintf(stderr, "arborctl: some output was lost\n");
	} else if (strcmp(type, "overflow") == 0 &&
	    (rc = ctl_watch_send(c, path, true, true,
	         json_integer_value(json_object_get(p, "seq")), watch_id)) !=
	        0) {
		json_decref(msg);
		return rc;
	}
	json_decref(msg);
	return 0;
}

static int
logs_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bytes", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *path;
	json_t *params, *result;
	long long bytes = -1;
	bool follow = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:hn:f", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (logs_bytes(optarg, &bytes) != 0)
				return ctl_usage(c,
				    "--bytes wants a size from "
				    "0 to %d (K and M allowed), not '%s'",
				    PARAMS_LOGS_MAX, optarg);
			break;
		case 'f':
			follow = true;
			break;
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	if ((rc = ctl_one_path(c, argc, argv, NULL, &path)) != 0)
		return rc;

	params = json_pack("{s:s}", "path", path);
	if (params != NULL && bytes >= 0)
		json_object_set_new(params, "bytes", json_integer(bytes));
	if (follow)
		return logs_follow(c, params);
	if ((rc = ctl_call(c, "logs", params, &result)) != 0)
		return rc;
	logs_print(c, result);
	json_decref(result);
	return CTL_EXIT_OK;
}
