#!/usr/bin/env bash
# Workers' output into a real systemd-journald, read back with journalctl:
# the fields of the native protocol, priorities from the stream and from
# "<N>" prefixes, long lines cut, a burst of many workers' lines packed
# several entries to a datagram with none lost, and a journald restarted
# under arbord. journald runs in a mount namespace of this test's own,
# with a tmpfs over /run (and /var/log/journal), so the host's journal is
# never touched; arbord runs there too and finds the journal at its
# default path, on by default because INVOCATION_ID is set as systemd does.
set -uo pipefail

skip() { echo "skipped: $*"; exit 77; }
JOURNALD=
for j in /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
	[ -x "$j" ] && JOURNALD=$j && break
done
if [ -z "${ARBOR_JOURNALD_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || skip "not root (a mount namespace is needed)"
	command -v unshare >/dev/null 2>&1 || skip "no unshare (util-linux)"
	[ -n "$JOURNALD" ] || skip "no systemd-journald (package systemd)"
	command -v journalctl >/dev/null 2>&1 || skip "no journalctl"
	[ -s /etc/machine-id ] || skip "no /etc/machine-id for journald"
	ARBOR_JOURNALD_NS=1 exec unshare -m --propagation private "$BASH" "$0" "$@"
fi

NAME=journald
MARK=arbor-journald-test
. "$(dirname "$0")/ctl-lib.sh"

mount -t tmpfs tmpfs /run || skip "cannot mount a tmpfs on /run"
[ -d /var/log/journal ] && mount -t tmpfs tmpfs /var/log/journal
JPID=
start_journald() {
	"$JOURNALD" >>"$DIR/journald.log" 2>&1 &
	JPID=$!
	within 10 test -S /run/systemd/journal/socket ||
		skip "journald did not start: $(cat "$DIR/journald.log")"
}
trap 'cleanup; [ -n "$JPID" ] && kill -9 "$JPID" 2>/dev/null' EXIT
start_journald
# jq of every entry of a node: one JSON object per line.
entries() { journalctl -D /run/log/journal -o json --all --no-pager "ARBOR_PATH=$1" 2>/dev/null; }
count() { entries "$1" | wc -l; }
has_n() { [ "$(count "$1")" -ge "$2" ]; }

INVOCATION_ID=0123456789abcdef0123456789abcdef start_daemon
ctl ping >/dev/null || { cat "$DIR/log"; fail "arbord did not start"; exit 1; }

# One worker: both streams, a level prefix, and a line past 64 KiB.
expect 0 "spawn a worker writing both streams" -- --json spawn w -- sh -c \
	"echo out-one; echo err-one >&2; echo '<4>warn-one'; head -c 70000 /dev/zero | tr '\\0' x; echo; : $MARK"
wpid=$(jq -r .pid <<<"$LAST")
wid=$(jq -r .id <<<"$LAST")
within 10 has_n /w 5 || fail "journal has $(count /w) entries of /w, wanted 5"
LAST=$(entries /w | jq -s .)
jhas "stdout line, priority 6" '[.[] | select(.MESSAGE == "out-one" and .PRIORITY == "6" and .ARBOR_STREAM == "stdout")] | length == 1'
jhas "stderr line, priority 3" '[.[] | select(.MESSAGE == "err-one" and .PRIORITY == "3" and .ARBOR_STREAM == "stderr")] | length == 1'
jhas "<4> sets the priority and goes" '[.[] | select(.MESSAGE == "warn-one" and .PRIORITY == "4")] | length == 1'
jhas "identifier, path, id and pid on every entry" --arg pid "$wpid" --arg id "$wid" \
	'all(.[]; .SYSLOG_IDENTIFIER == "w" and .ARBOR_PATH == "/w" and .ARBOR_ID == $id and .ARBOR_PID == $pid)'
jhas "the 70,000-byte line is cut at 64 KiB and marked" \
	'[.[] | select(.MESSAGE | type == "string" and test("^x+$"))] as $x | ($x | length) == 2 and ($x[0].ARBOR_CUT == "1") and (($x[0].MESSAGE | length) + ($x[1].MESSAGE | length) == 70000)'
jhas "journald saw arbord as the sender" '.[0]._TRANSPORT == "journal"'

# A burst: 20 workers of 500 lines each at once. The entries go several
# to a datagram; journald must get every one, each worker's in order.
expect 0 "spawn a supervisor" -- sup s
for i in $(seq 20); do
	ctl spawn "s/b$i" -- sh -c "i=0; while [ \$i -lt 500 ]; do echo line-\$i; i=\$((i+1)); done; : $MARK" >/dev/null ||
		fail "spawn s/b$i"
done
burst_done() {
	local n=0
	for i in $(seq 20); do n=$((n + $(count "/s/b$i"))); done
	[ "$n" -ge 10000 ]
}
within 20 burst_done || fail "burst: entries missing"
lost=0
for i in $(seq 20); do
	LAST=$(entries "/s/b$i" | jq -s '[.[].MESSAGE]')
	jq -e '. == [range(500) | "line-\(.)"]' <<<"$LAST" >/dev/null || lost=1
done
[ "$lost" = 0 ] && ok "10,000 lines of 20 workers, each worker's in order" ||
	fail "a worker's lines are missing or out of order"
expect 0 "stats" -- --json inspect s/b1
jhas "no line dropped" '.output.journal_dropped_lines == 0'

# journald restarted: arbord connects to the new one.
kill "$JPID"; wait "$JPID" 2>/dev/null
rm -f /run/systemd/journal/socket
start_journald
expect 0 "spawn after journald's restart" -- spawn again -- sh -c "echo after-restart; : $MARK"
within 10 has_n /again 1 && ok "a line reaches the restarted journald" ||
	fail "nothing of /again in the new journal: $(cat "$DIR/log")"

stop_daemon
exit $FAILED
