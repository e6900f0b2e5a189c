#!/usr/bin/env bash
# arborctl against a real arbord: every command's happy path, its output
# for people and with --json, and the exit codes 0-4 of ARCHITECTURE.md.
set -uo pipefail

# JSON is checked by parsing it (jq), never by grepping its compact text.
NAME=cli
MARK="sleep 4242$$"
. "$(dirname "$0")/ctl-lib.sh"

# Before the daemon: no daemon is exit 3, bad usage exit 2, help exit 0.
expect 3 "no daemon at the socket" -- ping
has "says which socket" "$SOCK"
expect 2 "unknown command" -- frobnicate
expect 2 "unknown option" -- ping --bogus
expect 2 "actor with a bad kind" -- actor x dance
expect 2 "actor with an unknown key" -- actor x sleep colour=red
expect 2 "spawn without a program" -- spawn w
has "spawn names what is missing" "missing PROGRAM after NAME"
expect 2 "spawn without anything" -- spawn
has "spawn wants NAME and PROGRAM" "missing NAME and PROGRAM"
expect 2 "spawn with an option after NAME" -- spawn w -x
has "options go before NAME" "options go before NAME"
expect 2 "spawn with an empty program" -- spawn w ''
has "says PROGRAM is empty" "PROGRAM is empty"
expect 2 "spawn --instances 0" -- spawn -n 0 w -- true
has "names --instances" "--instances takes a number from 1"
for b in 0 2M 1G 1T x 1KK; do
	expect 2 "logs --bytes $b" -- logs --bytes "$b" /x
	has "logs --bytes $b is refused" "--bytes wants a size from 1 to"
done
long=$(printf '%1025s' '' | tr ' ' r)
expect 2 "cancel --reason over 1024 bytes" -- cancel --reason "$long" /x
has "cancel names --reason" "--reason is longer than 1024 bytes"
expect 2 "stop --reason over 1024 bytes" -- stop --reason "$long" /x
has "stop names --reason" "--reason is longer than 1024 bytes"
expect 2 "bad duration" -- wait --timeout 5parsecs /x
expect 0 "program help" -- --help
has "help lists commands" "restart"
for c in ping stats shutdown spawn sup actor apply cancel restart rm inspect tree logs wait call; do
	out=$("$ARBORCTL" "$c" --help 2>&1) && grep -q "usage: arborctl $c" <<<"$out" ||
		fail "help of $c: $out"
done
ok "every command has --help"

# Up once it answers (the socket file is there a moment before).
start_daemon

expect 0 "ping" -- ping
expect 0 "ping --json" -- --json ping
jhas "ping JSON has the protocol" '.protocol == 1'
expect 0 "sup" -- sup --strategy one_for_all --intensity 5/10s web
expect 0 "actor under a parent" -- actor -p /web a tick interval=50ms
expect 0 "actor by path" -- actor /web/b sleep ms=300ms
expect 1 "a name used twice is the daemon's error" -- actor /web/a tick
has "the error is a sentence" "already has a child named"
expect 1 "parent that is a worker" -- actor -p /web/a x sleep
expect 0 "tree" -- tree
has "tree shows nodes" "web"
has "tree shows states" "running"
expect 0 "inspect" -- inspect /web
has "inspect shows the strategy" "one_for_all"
expect 0 "inspect --json" -- --json inspect /web/a
jhas "inspect JSON is the node view" '.path == "/web/a"'
expect 4 "wait that times out" -- wait --timeout 50ms /web/a
expect 0 "wait until terminated" -- wait --for terminated --timeout 15s /web/b
expect 0 "restart" -- restart /web/b
expect 0 "cancel --wait --reason" -- cancel --wait --reason deploy /web
expect 0 "tree after cancel" -- tree /web
has "tree shows the exited state" "exited"
has "tree shows the cause" "cancelled: deploy"
expect 0 "rm" -- rm /web
expect 1 "inspect of a removed node" -- inspect /web
has "not found says so" "/web"

cat >"$DIR/tree.json" <<'JSON'
[{"name": "app", "kind": "supervisor", "children": [
   {"name": "t", "kind": "tick"}, {"name": "s", "kind": "sleep"}]},
 {"name": "solo", "kind": "sleep"}]
JSON
expect 0 "apply a file of specs" -- apply "$DIR/tree.json"
expect 0 "stats" -- --json stats
jhas "stats counts the nodes" '.nodes == 5'
echo '{"name":"bad","kind":"sleep","ms":"soon"}' >"$DIR/bad.json"
expect 2 "apply of an invalid spec" -- apply "$DIR/bad.json"
expect 0 "call with raw params" -- call inspect '{"path":"/app","depth":1}'
jhas "call prints the raw result" 'has("children")'
expect 1 "call of an unknown method" -- call nosuch

expect 0 "spawn a program" -- spawn -e GREETING=hi w -- sh -c "echo \$GREETING; exec sleep 4242$$"
expect 0 "wait for it" -- wait --for running --timeout 15s /w
# Running is not printed yet: wait for the output itself.
logs_say() { ctl logs "$1" 2>/dev/null | grep -q -- "$2"; }
within 20 logs_say /w hi || fail "no output from /w in 20 s"
expect 0 "logs" -- logs /w
has "logs has its output" "hi"
expect 0 "inspect shows its pid" -- --json inspect /w
jhas "pid in the view" '.pid | type == "number" and . > 0'
expect 0 "spawn --ready notify --watchdog" -- --json spawn --ready notify --watchdog 2s nw -- sh -c 'exec sleep 4242'$$
jhas "ready notify and the watchdog reach the spec" '.state == "starting" and .notify.watchdog_ms == 2000 and .status == null'
expect 2 "--watchdog takes a duration" -- spawn --watchdog soon nw2 -- true
expect 0 "cancel it" -- cancel --rm /nw
expect 1 "a program that does not exist" -- spawn nope -- /nonexistent/prog
has "spawn_failed says why" "No such file"
# Identity and limits from the command line, read back from /proc.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	# Under valgrind the child runs on valgrind's core until its exec,
	# and valgrind refuses any RLIMIT_NOFILE but its own (EPERM).
	nofile="--rlimit nofile=100:200"
	[ -n "${ARBOR_VALGRIND:-}" ] && nofile=
	expect 0 "spawn as nobody with limits" -- --json spawn --user nobody \
		--groups "" --umask 027 --nice 3 --no-new-privs \
		$nofile --rlimit core=0 --rlimit as=4G \
		who -- sleep 4242$$
	pid=$(jq -r .pid <<<"$LAST")
	st=/proc/$pid/status
	grep -q "^Uid:[[:space:]]*$(id -u nobody)[[:space:]]" "$st" && ok "runs as nobody" || fail "not nobody: $(grep ^Uid "$st")"
	grep -q "^Groups:[[:space:]]*$" "$st" && ok "--groups \"\" clears them" || fail "groups: $(grep ^Groups "$st")"
	grep -q "^Umask:[[:space:]]*0027" "$st" && ok "umask 027" || fail "umask: $(grep ^Umask "$st")"
	grep -q "^NoNewPrivs:[[:space:]]*1" "$st" && ok "no_new_privs" || fail "no_new_privs: $(grep ^NoNewPrivs "$st")"
	[ -z "$nofile" ] || { grep -Eq "^Max open files +100 +200 " "/proc/$pid/limits" && ok "nofile 100:200" || fail "nofile: $(grep 'open files' "/proc/$pid/limits")"; }
	grep -Eq "^Max address space +4294967296 +4294967296 " "/proc/$pid/limits" && ok "as 4G" || fail "as: $(grep 'address space' "/proc/$pid/limits")"
	expect 0 "a supervisor with identity defaults" -- sup --user nobody --rlimit nofile=50 ids
	expect 1 "an unknown user is refused" -- spawn -p /ids --user no-such-user-x bad -- true
	has "names the field" "user: no such user"
	expect 1 "a bad rlimit is refused" -- spawn --rlimit nofile=10:5 bad -- true
	has "names the limit" "rlimits.nofile"
	expect 2 "--rlimit without =" -- spawn --rlimit nofile bad -- true
	expect 2 "--nice out of range" -- spawn --nice 40 bad -- true
	expect 0 "cancel them" -- cancel --rm /who /ids
else
	echo "skipped: identity options need root and a user nobody"
fi
# --socket: sockets arbord holds, a supervisor's first (LISTEN_FDS).
expect 0 "sup with a socket" -- sup --socket "unix:$DIR/web.sock=web" sw
expect 0 "spawn with a socket under it" -- spawn -p /sw --socket "unix:$DIR/own.sock" sk -- sh -c 'echo "fds=$LISTEN_FDS names=$LISTEN_FDNAMES"; exec sleep 4242'"$$"
within 20 logs_say /sw/sk "fds=2 names=web:unix_$DIR/own.sock" ||
	fail "no LISTEN_FDS=2 with both names from /sw/sk in 20 s"
[ -S "$DIR/web.sock" ] && ok "the supervisor's socket is bound" ||
	fail "no socket at $DIR/web.sock"
expect 2 "--socket without LISTEN" -- spawn --socket =x x -- true
expect 0 "cancel --rm the socket holders" -- cancel --rm /sw
[ -e "$DIR/web.sock" ] && fail "$DIR/web.sock outlived its node" ||
	ok "the socket file went with its node"
expect 0 "cancel --rm" -- cancel --rm /w /app /solo
pgrep -f "sleep 4242$$" >/dev/null && fail "the program outlived its cancel"

# watch: events as they happen, for people and as JSON. (Killed below
# once seen: their timeout only bounds a test gone wrong.)
timeout 120 "$ARBORCTL" -s "$SOCK" watch /wt >"$DIR/watch.txt" 2>&1 &
wpid=$!
timeout 120 "$ARBORCTL" -s "$SOCK" --json watch /wt >"$DIR/watch.json" 2>&1 &
jpid=$!
subscribed() { ctl --json stats | jq -e ".subscriptions == $1" >/dev/null 2>&1; }
within 20 subscribed 2 || fail "the two watches did not subscribe in 20 s"
expect 0 "spawn under watch" -- sup wt
expect 0 "cancel under watch" -- cancel --wait --reason bye /wt
# Both watches print the last event, the move to exited with its cause.
watched() {
	grep -q "bye" "$DIR/watch.txt" && jq -e -s 'any(.[]; .type == "state"
	    and .path == "/wt" and .to == "exited")' "$DIR/watch.json" >/dev/null 2>&1
}
within 20 watched || fail "the watches did not print the exit in 20 s"
kill "$wpid" "$jpid" 2>/dev/null; wait "$wpid" "$jpid" 2>/dev/null
LAST=$(cat "$DIR/watch.txt")
has "watch prints state changes" "/wt"
has "watch prints the cause" "bye"
LAST=$(cat "$DIR/watch.json")
jhas "watch --json prints event params" -s 'any(.[]; .type == "state")'
jhas "watch --json has the transition" -s \
    'any(.[]; .type == "state" and .path == "/wt" and .to == "exited")'

# logs -f: the tail, then output as it comes, until the node is removed.
expect 0 "spawn a talker" -- spawn talk -- sh -c 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.1; done'
# Ended by the removal below: its timeout only bounds a test gone wrong.
timeout 120 "$ARBORCTL" -s "$SOCK" logs -f /talk >"$DIR/follow.txt" 2>&1 &
fpid=$!
followed() { [ "$(grep -c "^line " "$DIR/follow.txt")" -ge "$1" ]; }
within 20 followed 5 || fail "logs -f printed under 5 lines in 20 s"
# --bytes: a size with K or M, the last that many bytes of whole lines.
expect 0 "logs --bytes 1K" -- logs --bytes 1K /talk
n=$(grep -c "^line " <<<"$LAST")
[ "$n" -ge 5 ] && [ "${#LAST}" -le 1024 ] && ok "logs --bytes 1K: $n lines" ||
	fail "logs --bytes 1K: ${#LAST} bytes: $LAST"
expect 0 "logs -c 12" -- logs -c 12 /talk
n=$(grep -c "^line " <<<"$LAST")
[ "$n" -eq 1 ] && ok "logs -c 12: one line" || fail "logs -c 12: $LAST"
expect 0 "cancel the talker and remove it" -- cancel --rm /talk
wait "$fpid"; rc=$?
[ "$rc" -eq 0 ] && ok "logs -f ends when the node is removed" ||
	fail "logs -f exited $rc"
n=$(grep -c "^line " "$DIR/follow.txt")
[ "$n" -ge 5 ] && ok "logs -f followed $n lines" ||
	fail "logs -f saw $n lines: $(cat "$DIR/follow.txt")"

expect 0 "shutdown" -- shutdown
wait "$DPID"; rc=$?
DPID=
[ "$rc" -eq 0 ] && ok "arbord exited 0" || fail "arbord exited $rc"
exit $FAILED
