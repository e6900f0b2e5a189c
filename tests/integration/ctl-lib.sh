# What the arborctl shell tests share (sourced, not run): a scratch
# directory and socket, an arbord started and stopped there, and checks
# that print "ok: ..." or "FAIL: ..." and leave the verdict in $FAILED.
# The sourcing test sets NAME (its scratch directory's name) and may set
# MARK (a pattern its workers' command lines carry, killed at exit).

# JSON is checked by parsing it (jq), never by grepping its compact text.
command -v jq >/dev/null 2>&1 ||
	{ echo "ERROR: jq is not installed (scripts/deps.sh installs it)"; exit 99; }

ARBORD=${ARBORD:-./arbord}
ARBORCTL=${ARBORCTL:-$(dirname "$ARBORD")/arborctl}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/arbor-${NAME:-ctl}.XXXXXX")
SOCK=$DIR/sock
DPID=
FAILED=0

cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	[ -n "${MARK:-}" ] && pkill -9 -f "$MARK" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }
ctl() { timeout 20 "$ARBORCTL" -s "$SOCK" "$@"; }
# expect CODE DESCRIPTION -- ARGS...: runs arborctl, checks its exit code;
# its output is in $LAST.
expect() {
	local want=$1 what=$2 out rc
	shift 3
	out=$(ctl "$@" 2>&1); rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else
		fail "$what: exit $rc, wanted $want: $out"; fi
	LAST=$out
}
has() { if grep -q -- "$2" <<<"$LAST"; then ok "$1"; else fail "$1: no '$2' in: $LAST"; fi; }
hasnt() { if grep -q -- "$2" <<<"$LAST"; then fail "$1: '$2' in: $LAST"; else ok "$1"; fi; }
# jhas DESCRIPTION [JQ-OPTION...] FILTER: FILTER is true of the JSON in $LAST.
jhas() {
	local what=$1
	shift
	if jq -e "$@" <<<"$LAST" >/dev/null 2>&1; then ok "$what"; else
		fail "$what: not ${*: -1} in: $LAST"; fi
}
# within SECONDS COMMAND...: polls COMMAND until it succeeds; 1 at the end.
within() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
start_daemon() {
	local end=$((SECONDS + 60))
	"$ARBORD" -s "$SOCK" --log-level warn "$@" 2>>"$DIR/log" &
	DPID=$!
	# A socket left by a daemon killed with -9 is there before the new
	# one listens, and the socket file before it accepts: wait for an
	# answer (a minute at most: arbord under valgrind, loaded).
	until "$ARBORCTL" -s "$SOCK" ping >/dev/null 2>&1; do
		if ! kill -0 "$DPID" 2>/dev/null || [ "$SECONDS" -ge "$end" ]; then
			fail "arbord did not answer: $(tail -n 5 "$DIR/log")"
			return 1
		fi
		sleep 0.05
	done
}
stop_daemon() {
	ctl shutdown >/dev/null 2>&1
	wait "$DPID"
	DPID=
}
