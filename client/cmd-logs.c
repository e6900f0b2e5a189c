/* arborctl logs: the tail of a node's captured stdout and stderr. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "params.h"
#include "ctl.h"

static int logs_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_logs = {
	.name = "logs",
	.usage =
	    "logs [-n BYTES] PATH\n"
	    "\n"
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
logs_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bytes", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		CTL_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	json_t *params, *result, *data;
	long long bytes = -1;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+:hn:f", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (logs_bytes(optarg, &bytes) != 0)
				return ctl_usage(c, "--bytes wants a size from "
				    "0 to %d (K and M allowed), not '%s'",
				    PARAMS_LOGS_MAX, optarg);
			break;
		case 'f':
			/* Following needs `watch` with output events. */
			return ctl_usage(c, "-f (follow) is not supported yet");
		default:
			if ((rc = ctl_opt_common(c, ch, argv)) != CTL_CONTINUE)
				return rc;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return argc == 0 ? ctl_usage(c, "missing PATH") :
		    ctl_usage(c, "unexpected argument '%s'", argv[1]);
	if ((rc = ctl_check_path(c, argv[0])) != 0)
		return rc;

	params = json_pack("{s:s}", "path", argv[0]);
	if (params != NULL && bytes >= 0)
		json_object_set_new(params, "bytes", json_integer(bytes));
	if ((rc = ctl_call(c, "logs", params, &result)) != 0)
		return rc;
	/* The program's own bytes, as it wrote them: like cat, not
	 * filtered the way daemon-made strings are. */
	data = json_object_get(result, "data");
	if (c->json)
		ctl_json_print(c, result);
	else if (json_is_string(data))
		fwrite(json_string_value(data), 1, json_string_length(data),
		    stdout);
	json_decref(result);
	return CTL_EXIT_OK;
}
