#!/usr/bin/env bash
# arbord as root at the top of a cgroup hierarchy that is all its own (a
# container's cgroup namespace, made here with unshare): it takes the top
# as its cgroup, moves itself into a leaf (arbord), gives a worker the
# cgroup at its node's path (tree/w), and leaves no node cgroup behind.
set -uo pipefail

NAME=cgroup-ns
. "$(dirname "$0")/ctl-lib.sh"
skip() { echo "skipped: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "not root"
command -v unshare >/dev/null 2>&1 || skip "no unshare (util-linux)"
MNT=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
[ -n "$MNT" ] || skip "no cgroup2 file system mounted"
CG=$MNT/arbor-ns-test-$$
mkdir "$CG" 2>/dev/null || skip "cannot make a cgroup in $MNT"
cleanup_cg() {
	cleanup
	[ -e "$CG/cgroup.kill" ] && echo 1 >"$CG/cgroup.kill" 2>/dev/null
	# Killed processes leave their cgroups a moment later (5 s at most).
	for _ in $(seq 100); do
		grep -qx "populated 0" "$CG/cgroup.events" 2>/dev/null && break
		sleep 0.05
	done
	for d in "$CG"/tree/* "$CG"/tree "$CG"/arbord "$CG"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
}
trap cleanup_cg EXIT

# The new namespace sees CG as its top once cgroup2 is mounted again in
# a mount namespace of its own.
( echo "$BASHPID" >"$CG/cgroup.procs" &&
	exec unshare -C -m --propagation private sh -c \
	"umount '$MNT' 2>/dev/null; mount -t cgroup2 none '$MNT' &&
	 exec '$ARBORD' -s '$SOCK' --log-level info" 2>>"$DIR/log" ) &
DPID=$!
for _ in $(seq 200); do "$ARBORCTL" -s "$SOCK" ping >/dev/null 2>&1 && break; sleep 0.05; done
ctl ping >/dev/null 2>&1 || { cat "$DIR/log"; skip "arbord did not start in a cgroup namespace here"; }

expect 0 "stats" -- --json stats
jhas "cgroups are available at the top" '.cgroups.available == true'
[ -d "$CG/arbord" ] && ok "arbord moved into its leaf" || fail "no $CG/arbord"
# The subshell exec'd unshare, sh and arbord in turn: DPID is arbord.
grep -qx "$DPID" "$CG/arbord/cgroup.procs" 2>/dev/null &&
	ok "the leaf holds arbord" ||
	fail "arbord ($DPID) is not in $CG/arbord: $(cat "$CG/arbord/cgroup.procs")"
expect 0 "spawn a worker" -- --json spawn w -- sleep 4545$$
pid=$(jq -r .pid <<<"$LAST")
grep -q "^0::/arbor-ns-test-$$/tree/w$" "/proc/$pid/cgroup" &&
	ok "the worker is in tree/w" || fail "worker cgroup: $(cat /proc/$pid/cgroup)"
expect 0 "shutdown" -- shutdown
wait "$DPID"; DPID=
[ ! -e "$CG/tree" ] && ok "no node cgroup left" || fail "left: $(ls "$CG/tree")"
grep -q "cgroups: nodes in" "$DIR/log" && ok "logged where nodes go" ||
	fail "log: $(cat "$DIR/log")"
exit $FAILED
