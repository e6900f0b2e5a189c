#!/usr/bin/env bash
# Exec workers against a real arbord on a private socket: start, stop, the
# done fd, the grace, process groups, escaped grandchildren, kill -9 of the
# daemon, spawn_failed, ready fd, logs, an output flood, and fds after many
# cycles. Every case is bounded in time; whatever happens, the EXIT trap
# kills by pid what the test started.
set -euo pipefail

ARBORD=${ARBORD:-./arbord}
RPC=${RPC:-$(dirname "$ARBORD")/tests/helpers/rpc}
[ -x "$RPC" ] || { echo "no rpc helper at $RPC (make check builds it)"; exit 77; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/arbor-exec.XXXXXX")
SOCK=$DIR/sock
TAG="$$.$RANDOM"		# unique marker: "sleep 1000.$TAG-ish" arguments
DPID=
FAILED=0

marker() { echo "10$1$$.$((RANDOM % 100))"; }	# a unique sleep duration

cleanup() {
	set +e
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	# Whatever carries our tag, by pid.
	for p in $(pgrep -f "arbor-exec-$TAG|sleep 10[0-9]*$$\." 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	for p in $(grep -l "ARBOR_TEST_TAG=$TAG" /proc/[0-9]*/environ 2>/dev/null |
	    cut -d/ -f3); do
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$DIR"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

rpc() { timeout 20 "$RPC" -s "$SOCK" "$@"; }
req() { printf '{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}' "$1" "$2"; }
call() { rpc "$(req "$1" "$2")"; }
# An exec spawn under the root; $1 name, $2 argv as JSON, $3 extra fields.
spawn() {
	call spawn "{\"name\":\"$1\",\"kind\":\"exec\",\"argv\":$2,\"env\":{\"ARBOR_TEST_TAG\":\"$TAG\"}${3:+,$3}}"
}
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2- | tr -d '"'; }
alive() { pgrep -f "$1" >/dev/null 2>&1; }
# Waits (up to $2 ms) until nothing matches $1.
gone_within() {
	local end=$(( $(now_ms) + $2 ))
	while alive "$1"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.02
	done
}

start_daemon() {
	rm -f "$SOCK"
	env ARBOR_TEST_TAG="$TAG" "$ARBORD" -s "$SOCK" --log-level warn \
	    2>>"$DIR/arbord.log" &
	DPID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && call ping '{}' >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "arbord did not start"; cat "$DIR/arbord.log"; exit 1
}
# shutdown, then arbord must exit 0 (under a sanitizer or valgrind, an
# error or a leak makes that non-zero).
stop_daemon() {
	local rc=0
	call shutdown '{}' >/dev/null || true
	timeout 20 tail --pid="$DPID" -f /dev/null || kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || rc=$?
	DPID=
	if [ "$rc" -eq 0 ]; then ok "arbord exited 0"; else
		fail "arbord exited $rc: $(tail -40 "$DIR/arbord.log")"; fi
}

start_daemon

# --- the done fd: a worker that watches it exits 0, no signal needed ------
out=$(spawn done '["sh","-c","trap \"\" TERM; read x <&3; exit 0"]' '"shutdown_ms":5000')
echo "$out" | grep -q '"state":"running"' || fail "done: $out"
t0=$(now_ms)
out=$(call cancel '{"path":"/done","wait":true}')
dt=$(( $(now_ms) - t0 ))
if echo "$out" | grep -q '"exit":{"code":0}' && [ "$dt" -lt 2000 ]; then
	ok "done fd: exit 0 after ${dt} ms"
else
	fail "done fd ($dt ms): $out"
fi

# --- the grace: a worker ignoring TERM is killed after shutdown_ms --------
spawn grace '["sh","-c","trap \"\" TERM; while :; do sleep 0.05; done"]' '"shutdown_ms":300' >/dev/null
t0=$(now_ms)
out=$(call cancel '{"path":"/grace","wait":true}')
dt=$(( $(now_ms) - t0 ))
if echo "$out" | grep -q '"exit":{"signal":"KILL"}' && [ "$dt" -ge 300 ] &&
    [ "$dt" -lt 1000 ]; then
	ok "grace: KILL after ${dt} ms"
else
	fail "grace ($dt ms): $out"
fi

# --- a group that goes at once terminates at once -------------------------
spawn quick '["sleep","1000"]' '"shutdown_ms":5000' >/dev/null
t0=$(now_ms)
out=$(call cancel '{"path":"/quick","wait":true}')
dt=$(( $(now_ms) - t0 ))
if echo "$out" | grep -q '"exit":{"signal":"TERM"}' && [ "$dt" -lt 500 ]; then
	ok "quick stop: ${dt} ms"
else
	fail "quick stop ($dt ms): $out"
fi

# --- the process group: background children go too -----------------------
m=$(marker 1)
spawn group "[\"sh\",\"-c\",\"sleep $m & sleep $m\"]" >/dev/null
sleep 0.2
[ "$(pgrep -fc "^sleep $m")" -eq 2 ] || fail "group: expected 2 sleeps"
call cancel '{"path":"/group","wait":true}' >/dev/null
if gone_within "sleep $m" 200; then ok "group: nothing left"; else
	fail "group: left $(pgrep -fa "sleep $m")"; fi

# --- escaped grandchildren (setsid) go too --------------------------------
m=$(marker 2)
spawn esc "[\"sh\",\"-c\",\"setsid sleep $m & sleep $m\"]" >/dev/null
sleep 0.3
[ "$(pgrep -fc "^sleep $m")" -eq 2 ] || fail "setsid: expected 2 sleeps"
call cancel '{"path":"/esc","wait":true}' >/dev/null
if gone_within "sleep $m" 200; then ok "setsid grandchild: nothing left"
else fail "setsid: left $(pgrep -fa "sleep $m")"; fi

# --- a main that exits on its own leaving an escapee: stopped before end --
m=$(marker 3)
out=$(spawn left "[\"sh\",\"-c\",\"setsid sleep $m & sleep 0.2; exit 3\"]" '"restart":"temporary","shutdown_ms":2000')
out=$(call wait '{"path":"/left","for":"terminated","timeout_ms":5000}')
if echo "$out" | grep -q '"exit":{"code":3}' && ! alive "sleep $m"; then
	ok "leftover escapee stopped before the end"
else
	fail "leftover: $out $(pgrep -fa "sleep $m" || true)"
fi
# The escapee was orphaned to arbord, which reaped it as a stray.
strays=$(call stats '{}' | field strays)
if [ "${strays:-0}" -ge 1 ]; then ok "strays counted: $strays"; else
	fail "strays not counted: $(call stats '{}')"; fi

# --- spawn_failed: nothing is created -------------------------------------
out=$(spawn missing '["arbor-no-such-program"]')
if echo "$out" | grep -q '"code":-32006' && echo "$out" | grep -q '"errno":2' &&
    echo "$out" | grep -q '"error":"ENOENT"'; then
	ok "spawn_failed ENOENT"
else
	fail "spawn_failed: $out"
fi
out=$(call inspect '{"path":"/missing"}')
echo "$out" | grep -q '"code":-32001' || fail "missing was created: $out"
out=$(spawn badcwd '["true"]' '"cwd":"/nonexistent/dir"')
echo "$out" | grep -q '"code":-32006' || fail "bad cwd: $out"

# --- ready fd: starting until the line arrives ----------------------------
out=$(spawn rdy '["sh","-c","sleep 0.6; echo ready >&4; exec sleep 1000"]' '"ready":"fd"')
echo "$out" | grep -q '"state":"starting"' || fail "ready: not starting: $out"
sleep 0.2
call inspect '{"path":"/rdy"}' | grep -q '"state":"starting"' ||
    fail "ready: running too early"
out=$(call wait '{"path":"/rdy","for":"running","timeout_ms":3000}')
if echo "$out" | grep -q '"state":"running"'; then ok "ready fd"; else
	fail "ready: $out"; fi
call cancel '{"path":"/rdy","wait":true}' >/dev/null

# --- logs: both streams, kept after the end -------------------------------
spawn lg '["sh","-c","echo to-stdout; echo to-stderr >&2; printf \"\\377\\n\""]' '"restart":"temporary"' >/dev/null
call wait '{"path":"/lg","for":"terminated","timeout_ms":3000}' >/dev/null
out=$(call logs '{"path":"/lg"}')
if echo "$out" | grep -q 'to-stdout' && echo "$out" | grep -q 'to-stderr' &&
    echo "$out" | grep -q '"truncated":false'; then
	ok "logs: both streams"
else
	fail "logs: $out"
fi
out=$(call logs '{"path":"/lg","bytes":5}')
echo "$out" | grep -q '"truncated":true' || fail "logs bytes=5: $out"
out=$(call logs '{"path":"/"}')
echo "$out" | grep -q '"data":"","truncated":false' || fail "logs /: $out"
# A restart keeps what the earlier run printed, so a crash can be read.
call restart '{"path":"/lg"}' >/dev/null
call wait '{"path":"/lg","for":"terminated","timeout_ms":3000}' >/dev/null
out=$(call logs '{"path":"/lg"}')
if [ "$(echo "$out" | grep -o 'to-stdout' | wc -l)" -eq 2 ]; then
	ok "logs: kept across a restart"
else
	fail "logs after restart: $out"
fi

# --- a flood: bounded memory, the daemon answers meanwhile ----------------
spawn flood "[\"sh\",\"-c\",\"exec yes arbor-exec-$TAG-flood\"]" >/dev/null
worst=0
end=$(( $(now_ms) + 1000 ))
while [ "$(now_ms)" -lt "$end" ]; do
	t0=$(now_ms)
	call ping '{}' | grep -q '"result"' || fail "flood: no ping"
	dt=$(( $(now_ms) - t0 ))
	[ "$dt" -gt "$worst" ] && worst=$dt
	sleep 0.05
done
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$DPID/status")
out=$(call logs '{"path":"/flood","bytes":100}')
call cancel '{"path":"/flood","wait":true}' >/dev/null
if [ "$rss" -lt "${ARBOR_TEST_RSS_KIB:-32768}" ] && [ "$worst" -lt 500 ] &&
    echo "$out" | grep -q '"truncated":true'; then
	ok "flood: RSS ${rss} kB, slowest ping ${worst} ms"
else
	fail "flood: RSS ${rss} kB, slowest ping ${worst} ms, $out"
fi

# --- fds: the same after 100 spawn/cancel cycles --------------------------
fds_before=$(ls "/proc/$DPID/fd" | wc -l)
args=()
for i in $(seq 100); do
	args+=("$(req spawn "{\"name\":\"c$i\",\"kind\":\"exec\",\"argv\":[\"sleep\",\"1000\"]}")")
	args+=("$(req cancel "{\"path\":\"/c$i\",\"wait\":true,\"remove\":true}")")
done
rpc "${args[@]}" >"$DIR/cycles.out"
fds_after=$(ls "/proc/$DPID/fd" | wc -l)
nok=$(grep -c '"exit":{"signal":"TERM"}' "$DIR/cycles.out" || true)
if [ "$fds_before" -eq "$fds_after" ] && [ "$nok" -eq 100 ]; then
	ok "100 cycles: $fds_before fds before and after"
else
	fail "cycles: fds $fds_before -> $fds_after, $nok ended by TERM"
fi

stop_daemon
if grep -Eq "ERROR|AddressSanitizer|LeakSanitizer|runtime error|^==[0-9]+==" "$DIR/arbord.log"; then
	fail "sanitizer: $(cat "$DIR/arbord.log")"
fi

# --- kill -9 of the daemon: nothing it started survives -------------------
start_daemon
m=$(marker 4)
args=()
for i in $(seq 50); do
	args+=("$(req spawn "{\"name\":\"k$i\",\"kind\":\"exec\",\"argv\":[\"sh\",\"-c\",\"setsid sleep $m & sleep $m & sleep $m\"]}")")
done
rpc "${args[@]}" >"$DIR/k.out"
sleep 0.5
n=$(pgrep -fc "^sleep $m" || true)
[ "$n" -eq 150 ] || fail "kill -9: expected 150 sleeps, saw $n"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
if gone_within "sleep $m" 5000; then ok "kill -9: nothing left of $n"; else
	fail "kill -9: left $(pgrep -fc "sleep $m")"; fi

exit $FAILED
