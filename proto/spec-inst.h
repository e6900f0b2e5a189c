/*
 * `instances: N` on an exec spec: N copies of the program under an
 * implicit supervisor at the spec's path. At parse time the exec spec
 * becomes that supervisor (kind supervisor, one_for_one), which keeps the
 * exec spec as its template and has N children "0".."N-1", each a copy of
 * the template with ARBOR_INSTANCE=i in its environment. Where the fields
 * go:
 *
 * - the supervisor: name, `sockets` (so every instance gets them, as the
 *   sockets of a supervisor above it), `restart` and `backoff_ms` /
 *   `backoff_max_ms` (for the group as one child of its parent),
 *   `max_restarts` / `period_ms` (its intensity; allowed on an exec spec
 *   only with `instances`);
 * - each instance: everything else (argv, env, cwd, ready, health,
 *   stop_signal, watchdog_ms, restart, the times, identity and limits,
 *   log).
 *
 * Without max_restarts the group may restart 3 x N times in its period
 * (3 per instance); without period_ms, 5 s. spec_to_json writes the
 * supervisor back as the exec spec with `instances`, so --state, reload
 * and apply see what the client wrote. A spec_inst owns its template.
 */
#ifndef PROTO_SPEC_INST_H
#define PROTO_SPEC_INST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "err.h"

#define SPEC_INSTANCES_MAX 1000

struct node_spec;

struct spec_inst {
	uint32_t n;             /* instances, 1..SPEC_INSTANCES_MAX */
	bool intensity;         /* max_restarts or period_ms given */
	struct node_spec *tmpl; /* owned: the exec spec, named as the
	                           node, without its sockets */
};

/* Whether key may be in an object of kind kind (enum node_kind): 1 yes,
 * 0 not a field of this file, -1 with err filled (`instances` on another
 * kind). max_restarts and period_ms are allowed on exec only beside
 * `instances`. */
int spec_inst_field(const json_t *obj, uint8_t kind, const char *key,
    struct proto_err *err);

/*
 * When obj has `instances`, turns *sp, the exec spec parsed from obj,
 * into the supervisor of its instances (children included): *sp is then
 * the new spec and *count grows by the children made. room is how many
 * more nodes the spec may have (a limit error beyond). Without
 * `instances`, 0 and nothing changes. On error *sp is a spec
 * spec_free can free (the exec one or the supervisor).
 */
int spec_inst_wrap(const json_t *obj, size_t room, struct node_spec **sp,
    size_t *count, struct proto_err *err);

/* Instance i's spec: the template's copy named "i", ARBOR_INSTANCE=i in
 * its env; NULL when out of memory. */
struct node_spec *spec_inst_child(const struct spec_inst *in, uint32_t i);
/* The max_restarts of a group of n instances without its own. */
uint32_t spec_inst_max_restarts(uint32_t n);
/* Whether a child named name belongs under the instanced supervisor
 * spec sup: a decimal index below its count. */
bool spec_inst_takes(const struct node_spec *sup, const char *name);

void spec_inst_free(struct spec_inst *in);
/* *out NULL for NULL; -1 when out of memory. */
int spec_inst_dup(const struct spec_inst *in, struct spec_inst **out);
bool spec_inst_equal(const struct spec_inst *a, const struct spec_inst *b);
/* The instanced supervisor sup as the exec spec with `instances`; NULL
 * when out of memory. */
json_t *spec_inst_to_json(const struct node_spec *sup);

#endif
