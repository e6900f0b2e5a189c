#!/usr/bin/env bash
# apply against a real arbord: the same file twice changes nothing, a file
# with two specs for one path (or any bad spec) changes nothing at all,
# changes are made in place (same ids), --prune removes what the file
# dropped and only inside its subtrees, --dry-run changes nothing, nodes
# outside the file are never touched, and with --state the result is on
# disk before the answer (it survives kill -9).
set -uo pipefail

NAME=apply
MARK="sleep 4343$$"
. "$(dirname "$0")/ctl-lib.sh"

# ids of every node, path -> id, as one JSON object.
ids() { ctl --json inspect -d -1 / | jq -c '[recurse(.children[]?) | {(.path): .id}] | add'; }

start_daemon --state "$DIR/state.json"
expect 0 "a node outside the file" -- sup other
expect 0 "its child" -- actor /other/keep tick interval=1s

cat >"$DIR/v1.json" <<EOF
[{"name": "app", "kind": "supervisor", "restart": "permanent", "children": [
   {"name": "w", "kind": "exec", "argv": ["sleep", "4343$$"], "restart": "permanent"},
   {"name": "t", "kind": "tick", "interval_ms": 100, "restart": "permanent"},
   {"name": "gone", "kind": "sleep", "restart": "permanent"}]},
 {"name": "side", "parent": "/other", "kind": "sleep", "restart": "permanent"}]
EOF
expect 0 "apply v1" -- --json apply "$DIR/v1.json"
jhas "spawned both subtrees" '.spawned == ["/app", "/other/side"] and .updated == [] and .removed == []'
before=$(ids)
expect 0 "apply v1 again" -- --json apply "$DIR/v1.json"
jhas "the second apply changes nothing" '.spawned == [] and .updated == [] and .removed == [] and .unchanged == 5'
expect 0 "apply v1 again, for people" -- apply "$DIR/v1.json"
has "says nothing changed" "nothing changed"
[ "$(ids)" = "$before" ] && ok "same nodes, same ids" || fail "ids changed: $before / $(ids)"

# Two specs for one path: refused whole, nothing created.
cat >"$DIR/dup.json" <<'EOF'
[{"name": "fresh", "kind": "sleep"}, {"name": "u", "kind": "sleep"}, {"name": "u", "kind": "tick"}]
EOF
expect 1 "two specs named u" -- apply "$DIR/dup.json"
has "names both" "specs\[1\] and specs\[2\] are both /u"
expect 1 "nothing of it created" -- inspect /fresh
# Any bad part refuses the whole file: a program that cannot be executed.
cat >"$DIR/bad.json" <<'EOF'
[{"name": "fresh", "kind": "sleep"}, {"name": "app", "kind": "supervisor", "restart": "permanent", "children": [
   {"name": "w", "kind": "exec", "argv": ["/nonexistent/prog"], "restart": "permanent"}]}]
EOF
expect 1 "a program that cannot start" -- apply "$DIR/bad.json"
has "names the node" "/app/w"
expect 1 "still nothing created" -- inspect /fresh
[ "$(ids)" = "$before" ] && ok "nothing changed by refused files" || fail "changed: $(ids)"

# v2: t changed (restarted in place), gone dropped, side left out.
cat >"$DIR/v2.json" <<EOF
[{"name": "app", "kind": "supervisor", "restart": "permanent", "children": [
   {"name": "w", "kind": "exec", "argv": ["sleep", "4343$$"], "restart": "permanent"},
   {"name": "t", "kind": "tick", "interval_ms": 250, "restart": "permanent"},
   {"name": "new", "kind": "tick", "interval_ms": 1000, "restart": "permanent"}]}]
EOF
expect 0 "dry run" -- --json apply --dry-run --prune "$DIR/v2.json"
jhas "the plan" '.spawned == ["/app/new"] and .updated == ["/app/t"] and .removed == ["/app/gone"]'
[ "$(ids)" = "$before" ] && ok "a dry run changes nothing" || fail "dry run changed: $(ids)"
expect 0 "dry run for people" -- apply --dry-run --prune "$DIR/v2.json"
has "would update" "would update *\/app\/t"
has "says it is a dry run" "dry run: nothing was changed"

expect 0 "apply v2 without prune" -- --json apply "$DIR/v2.json"
jhas "no removal without prune" '.spawned == ["/app/new"] and .updated == ["/app/t"] and .removed == []'
expect 0 "gone stays" -- inspect /app/gone
expect 0 "apply v2 with prune" -- --json apply --prune "$DIR/v2.json"
jhas "prune removes gone only" '.removed == ["/app/gone"] and .spawned == [] and .updated == []'
expect 1 "gone is gone" -- inspect /app/gone
after=$(ids)
jq -e --argjson b "$before" '.["/app/t"] == $b["/app/t"] and .["/app/w"] == $b["/app/w"]
	and .["/other/keep"] == $b["/other/keep"] and .["/other/side"] == $b["/other/side"]' \
	<<<"$after" >/dev/null && ok "updated in place, same ids; outside untouched" ||
	fail "ids: $before / $after"
expect 0 "interval changed" -- --json inspect /app/t
jhas "the new spec" '.interval_ms == 250'
expect 0 "outside the file" -- --json inspect /other/side
jhas "side still running" '.state == "running"'

# Nodes from the file: the state holds them once apply answered.
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
DPID=
pkill -9 -f "sleep 4343$$" 2>/dev/null
start_daemon --state "$DIR/state.json"
expect 0 "after kill -9" -- --json inspect /app/t
jhas "the updated spec came back" '.interval_ms == 250'
expect 1 "the pruned node did not" -- inspect /app/gone
expect 0 "apply v2 after the restart" -- --json apply --prune "$DIR/v2.json"
jhas "nothing to change" '.spawned == [] and .updated == [] and .removed == []'

# Params checked by the daemon.
expect 1 "an unknown field" -- call apply '{"specs":[],"colour":1}'
has "unknown field named" "colour"
expect 1 "overlapping specs" -- call apply \
	'{"specs":[{"name":"app","kind":"supervisor"},{"name":"x","parent":"/app","kind":"sleep"}]}'
has "overlap named" "overlap"
expect 1 "a missing parent" -- call apply '{"specs":[{"name":"x","parent":"/nope","kind":"sleep"}]}'
has "parent named" "parent /nope does not exist"
expect 1 "a worker as parent" -- call apply '{"specs":[{"name":"x","parent":"/other/keep","kind":"sleep"}]}'
has "a worker is no parent" "/other/keep"

ctl shutdown >/dev/null 2>&1
wait "$DPID"
DPID=
exit $FAILED
