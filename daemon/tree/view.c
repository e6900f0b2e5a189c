/* Building node views. */
#include <jansson.h>

#include "cause.h"
#include "names.h"
#include "node.h"
#include "supervisor.h"
#include "tree.h"
#include "view.h"
#include "worker.h"

json_t *
view_exit(const struct node *n)
{
	const char *sig;

	switch (n->exit.kind) {
	case EXIT_CODE:
		return json_pack("{s:i}", "code", n->exit.value);
	case EXIT_SIGNAL:
		if ((sig = proto_signal_name(n->exit.value)) != NULL)
			return json_pack("{s:s}", "signal", sig);
		return json_pack("{s:i}", "signal", n->exit.value);
	default:
		return json_null();
	}
}

static json_t *
view_build(const struct node *n, int depth, bool fresh)
{
	char path[PROTO_PATH_MAX];
	const struct node_spec *sp = n->spec;
	const char *cause = cause_text(n->cause);
	json_t *v, *kids;

	v = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:i,s:o,s:n}", "id",
	    (json_int_t)n->id, "path", node_path(n, path, sizeof path), "name",
	    sp->name, "kind", spec_kind_names[sp->kind], "state",
	    node_state_names[node_wire_state(n)], "restart",
	    spec_restart_names[sp->restart], "restarts", (int)n->restarts,
	    "started_ms",
	    n->ever_started ? json_integer(n->started_ms) : json_null(), "pid");
	if (v == NULL)
		return NULL;
	json_object_set_new(v, "exit", view_exit(n));
	json_object_set_new(v, "cause",
	    cause ? json_string(cause) : json_null());
	json_object_set_new(v, "child_count", json_integer(n->nchildren));
	if (n->ended_ms != 0)
		json_object_set_new(v, "ended_ms", json_integer(n->ended_ms));
	if (node_wire_state(n) == NODE_BACKOFF && n->due_ms != 0)
		json_object_set_new(v, "due_ms", json_integer(n->due_ms));
	if (sp->timeout_ms >= 0)
		json_object_set_new(v, "timeout_ms",
		    json_integer(sp->timeout_ms));
	if (n->ops != NULL && n->ops->view != NULL)
		n->ops->view(n, v);
	if (n->ops != NULL && n->ops->acct != NULL)
		n->ops->acct(n, v, fresh);
	if (node_is_sup(n))
		sup_view(n, v);
	if (n->tree->hooks.view != NULL)
		n->tree->hooks.view(n->tree->hooks.arg, n, v, fresh);
	if (depth == 0 || !node_is_sup(n))
		return v;
	kids = json_array();
	for (uint32_t i = 0; i < n->nchildren; i++)
		json_array_append_new(kids,
		    view_build(n->children[i], depth < 0 ? depth : depth - 1,
		        fresh));
	json_object_set_new(v, "children", kids);
	return v;
}

json_t *
view_node(const struct node *n, int depth)
{
	return view_build(n, depth, true);
}

json_t *
view_node_brief(const struct node *n)
{
	return view_build(n, 0, false);
}
