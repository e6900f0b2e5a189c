#!/usr/bin/env bash
# The operator's commands against a real arbord: status/ls (table and
# --json), top (frames, keys, the terminal put back on q and SIGTERM),
# stop/start, bare names, "did you mean", inspect's times, stats' tables,
# and README's "Using it" typed in order, read from README.md itself.
set -uo pipefail

NAME=status
. "$(dirname "$0")/ctl-lib.sh"
SRC=${TESTDATA:-$(dirname "$0")/..}/..

# Before any daemon: a mistyped command names the one meant.
expect 2 "a typo is a usage error" -- inspct /
has "did you mean inspect" "did you mean 'inspect'"
expect 2 "a typo of status" -- sttus
has "did you mean status" "did you mean 'status'"
expect 2 "nothing close" -- frobnicate
hasnt "no guess for a word far from all" "did you mean"
expect 2 "help of a typo" -- help tpo
has "help guesses too" "did you mean 'top'"

start_daemon
# The sentinel (docs/exec.md) reads as itself in ps, not as a second arbord.
# It is forked before arbord answers, but names itself once it runs: a
# moment later, on a loaded machine.
sen=
args=
sentinel_named() {
	for p in $(pgrep -P "$DPID"); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = "arbord-sentinel" ] && sen=$p
	done
	[ -n "$sen" ] || return 1
	args=$(tr '\0' ' ' </proc/"$sen"/cmdline 2>/dev/null | sed 's/ *$//')
	[ "$args" = "arbord: sentinel" ]
}
if [ -n "${ARBOR_VALGRIND:-}" ]; then
	# The kernel shows valgrind's own arguments, whatever arbord writes.
	echo "skipped under valgrind: the sentinel's name in ps"
elif within 10 sentinel_named; then
	ok "ps shows arbord: sentinel"
else
	fail "sentinel ${sen:-not found}: args '$args'"
fi
expect 0 "sup" -- sup web
expect 0 "an actor" -- actor /web/clock tick interval=50ms
expect 0 "a program" -- spawn -p web sleeper -- sleep 300
expect 0 "a bare path for spawn" -- spawn web/bare -- sleep 300
has "web/bare is /web/bare" "^/web/bare "
expect 0 "stop it" -- stop web/bare
expect 0 "rm it" -- rm web/bare
expect 0 "a bare name for tree" -- tree web
has "tree web is /web" "^/web "
expect 0 "status" -- status
has "status has a header" "PATH *STATE *PID *UPTIME *RESTARTS *LAST EXIT *CPU% *MEM *HEALTH *STATUS"
has "status lists the program" "^/web/sleeper *running"
hasnt "status leaves supervisors out" "^/web  "
expect 0 "status -a" -- status -a web
has "status -a lists the supervisor" "^/web  *running"
expect 0 "ls is status" -- ls web
has "ls lists the actor" "^/web/clock *running"
expect 0 "status --json" -- --json status web
jhas "one object per worker with the contract's fields" -s \
	'length == 2 and all(.[]; has("path") and has("state") and has("pid")
	 and has("uptime_ms") and has("restarts"))'
jhas "the program's pid and uptime" -s \
	'.[] | select(.path == "/web/sleeper") | .pid > 0 and .uptime_ms >= 0 and .restarts == 0'
expect 1 "status of a missing node" -- status nope
has "names the path" "/nope"

# inspect: times for people, not epoch milliseconds.
expect 0 "inspect by bare name" -- inspect web
if grep -qE '^started +([0-9]{4}-[0-9]{2}-[0-9]{2} )?[0-9]{2}:[0-9]{2}:[0-9]{2} \(.* ago\)$' <<<"$LAST"; then
	ok "started as local time and ago"; else fail "started: $LAST"; fi
if grep -qE '[0-9]{13}' <<<"$LAST"; then fail "epoch ms in inspect: $LAST"; else
	ok "no epoch ms in inspect"; fi
expect 0 "inspect --json keeps raw fields" -- --json inspect web
jhas "started_ms in the view" '(.started_ms | type) == "number"'

# stats: the counters by kind and exits as aligned tables.
expect 0 "stats" -- stats
has "by kind table" "^by kind$"
has "exec row" "^  exec  "
has "exits table" "^exits$"
hasnt "no raw JSON objects" "{"
# Every key/value row starts its value at the same column.
cols=$(grep -vE '^(  |by kind$|[a-z_]+$)' <<<"$LAST" | awk '{ match($0, /^[^ ]+ +/); print RLENGTH }' | sort -u | wc -l)
[ "$cols" -eq 1 ] && ok "stats rows aligned" || fail "stats rows start at $cols columns: $LAST"

# stop keeps the node; start brings the same id back.
id=$(ctl --json inspect web/sleeper | jq .id)
expect 0 "stop" -- stop web/sleeper
has "stop answers once exited" "exited"
expect 0 "still there" -- --json inspect /web/sleeper
jhas "stopped, kept" '.state == "exited"'
expect 0 "start" -- start web/sleeper
expect 0 "started again" -- --json inspect /web/sleeper
jhas "same id, running" ".id == $id and (.state == \"running\" or .state == \"starting\")"
expect 0 "start of a running node leaves it" -- --json start web/sleeper
jhas "still the same" ".id == $id and .restarts == 1"

# top, not on a terminal: frames one after another, then exit.
expect 0 "top -n 2" -- top -n 2 -d 100ms web
n=$(grep -c "^PATH " <<<"$LAST")
[ "$n" -eq 2 ] && ok "two frames" || fail "top drew $n frames: $LAST"
hasnt "no escapes off a terminal" $'\033'
expect 0 "top sorted by memory" -- top -n 1 --sort mem web
has "says its order" "sorted by mem"
expect 2 "top --sort bad" -- top --sort colour

# top on a terminal (script gives it a pty): the alternate screen, q
# quits, and the terminal settings are the same after as before. Keys
# and signals go once top shows it is ready for them: script -f writes
# what top draws to the typescript as it comes, and top enters the
# alternate screen once its terminal is set up and its signals handled.
# seen TEXT: top drew TEXT.
seen() { grep -q -- "$1" "$DIR/typescript" 2>/dev/null; }
ALT=$'\033\\[?1049h'
# For pty.sh: until top entered the alternate screen (30 s at most).
cat >"$DIR/drawn.sh" <<'EOF'
for _ in $(seq 600); do
	grep -q "$(printf '\033')\[?1049h" "$1" 2>/dev/null && break
	sleep 0.05
done
EOF
# The pipe into script stays open until pty.sh is done: script gives
# top its terminal while it runs.
until_done() { within 30 test -e "$DIR/rc"; }
if command -v script >/dev/null 2>&1 && command -v stty >/dev/null 2>&1; then
	cat >"$DIR/pty.sh" <<EOF
stty -g >"$DIR/before"
"$ARBORCTL" -s "$SOCK" top web
echo "rc=\$?" >"$DIR/rc"
stty -g >"$DIR/after"
EOF
	rm -f "$DIR/typescript" "$DIR/rc"
	(within 30 seen "$ALT"; printf 'm'; within 30 seen "sorted by mem"; printf 'q') |
		TERM=xterm timeout 60 script -qefc "sh $DIR/pty.sh" "$DIR/typescript" >/dev/null 2>&1
	grep -q "rc=0" "$DIR/rc" 2>/dev/null && ok "top quits on q" || fail "top on q: $(cat "$DIR/rc" 2>/dev/null)"
	cmp -s "$DIR/before" "$DIR/after" && ok "terminal restored after q" ||
		fail "terminal settings differ: $(cat "$DIR/before") / $(cat "$DIR/after")"
	grep -q $'\033\\[?1049h' "$DIR/typescript" && grep -q $'\033\\[?1049l' "$DIR/typescript" &&
		ok "alternate screen entered and left" || fail "no alternate screen"
	grep -q "sorted by mem" "$DIR/typescript" && ok "m sorts by memory" ||
		fail "m did not sort: $(tr -d '\033' <"$DIR/typescript" | tail -5)"
	cat >"$DIR/pty.sh" <<EOF
stty -g >"$DIR/before"
"$ARBORCTL" -s "$SOCK" top web </dev/tty &
pid=\$!
sh "$DIR/drawn.sh" "$DIR/typescript"
kill -TERM \$pid
wait \$pid
echo "rc=\$?" >"$DIR/rc"
stty -g >"$DIR/after"
EOF
	rm -f "$DIR/typescript" "$DIR/rc"
	until_done | TERM=xterm timeout 60 script -qefc "sh $DIR/pty.sh" "$DIR/typescript" >/dev/null 2>&1
	grep -q "rc=143" "$DIR/rc" 2>/dev/null && ok "top ends by SIGTERM" || fail "top on SIGTERM: $(cat "$DIR/rc" 2>/dev/null)"
	cmp -s "$DIR/before" "$DIR/after" && ok "terminal restored after SIGTERM" ||
		fail "terminal settings differ after SIGTERM"
	grep -q $'\033\\[?1049l' "$DIR/typescript" && ok "alternate screen left on SIGTERM" ||
		fail "alternate screen not left on SIGTERM"
	# The daemon goes away: top says so once back on the main screen.
	cat >"$DIR/pty.sh" <<EOF
"$ARBORCTL" -s "$SOCK" top web </dev/tty &
pid=\$!
sh "$DIR/drawn.sh" "$DIR/typescript"
"$ARBORCTL" -s "$SOCK" shutdown >/dev/null
wait \$pid
echo "rc=\$?" >"$DIR/rc"
EOF
	rm -f "$DIR/typescript" "$DIR/rc"
	until_done | TERM=xterm timeout 60 script -qefc "sh $DIR/pty.sh" "$DIR/typescript" >/dev/null 2>&1
	wait "$DPID"
	DPID=
	grep -q "rc=3" "$DIR/rc" 2>/dev/null && ok "top exits 3 when the daemon goes" ||
		fail "top without a daemon: $(cat "$DIR/rc" 2>/dev/null)"
	sed 's/.*\x1b\[?1049l//' "$DIR/typescript" | grep -q "arborctl: .*$SOCK" &&
		ok "its message shows after the alternate screen" ||
		fail "message lost: $(tr -d '\033' <"$DIR/typescript" | tail -3)"
else
	echo "skip: no script(1) or stty to give top a terminal"
fi
[ -n "$DPID" ] && stop_daemon

# README's "Using it", typed in order on a fresh daemon, with tree.json
# the example README points at.
start_daemon
cp "$SRC/systemd/tree.json.example" "$DIR/tree.json"
sed -n '/^## Using it/,/^```$/p' "$SRC/README.md" | grep '^arborctl ' >"$DIR/using.txt"
[ "$(wc -l <"$DIR/using.txt")" -ge 10 ] && ok "README's Using it read" ||
	fail "README's Using it: $(cat "$DIR/using.txt")"
arborctl() { timeout 20 "$ARBORCTL" -s "$SOCK" "$@"; }
while IFS= read -r line; do
	out=$(cd "$DIR" && eval "$line" 2>&1); rc=$?
	if [ "$rc" -eq 0 ]; then ok "README: $line"; else
		fail "README: $line: exit $rc: $out"; fi
done <"$DIR/using.txt"
wait "$DPID"; rc=$?
DPID=
[ "$rc" -eq 0 ] && ok "README's shutdown stopped arbord" || fail "arbord exited $rc"
exit $FAILED
