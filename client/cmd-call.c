/* arborctl call: any method with raw JSON params, its raw answer. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int call_run(struct ctl *, int, char **);

const struct ctl_cmd ctl_cmd_call = {
	.name = "call",
	.usage =
	    "call METHOD [JSON]\n"
	    "\n"
	    "JSON is the params, an object or an array; - reads them from\n"
	    "stdin. Prints the result, or the error object, as JSON.\n"
	    "Example: arborctl call inspect '{\"path\":\"/\",\"depth\":1}'\n",
	.summary = "call any method with raw JSON params",
	.run = call_run,
};

static int
call_run(struct ctl *c, int argc, char **argv)
{
	json_error_t jerr;
	json_t *params = NULL, *msg, *result;
	const char *method, *text;
	json_int_t id;
	int rc;

	if ((rc = ctl_parse_args(c, argc, argv, 1, 2, "METHOD")) !=
	    CTL_CONTINUE)
		return rc;
	method = argv[optind];
	text = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (*method == '\0')
		return ctl_usage(c, "METHOD is empty");
	if (text != NULL) {
		/* Top level must be an object or array: jansson's default. */
		if (strcmp(text, "-") == 0)
			params = json_loadf(stdin, JSON_REJECT_DUPLICATES,
			    &jerr);
		else
			params = json_loads(text, JSON_REJECT_DUPLICATES,
			    &jerr);
		if (params == NULL)
			return ctl_usage(c,
			    "params are not a JSON object or "
			    "array: %s (line %d, column %d)",
			    jerr.text, jerr.line, jerr.column);
	}

	if ((rc = ctl_send(c, method, params, &id)) != 0 ||
	    (rc = ctl_recv(c, id, &msg)) != 0)
		return rc;
	if ((result = json_object_get(msg, "result")) != NULL) {
		ctl_json_print(c, result);
		rc = CTL_EXIT_OK;
	} else {
		/* The error object goes to stdout in both modes: it is the
		 * answer asked for. */
		if (!c->json && json_is_object(json_object_get(msg, "error")))
			ctl_json_print(c, json_object_get(msg, "error"));
		rc = ctl_report_error(c, msg);
	}
	json_decref(msg);
	return rc;
}
