#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium loads / from a real
# arbord with --http, and the rendered DOM must show the spawned nodes with
# their states, and a cancelled node as exited. Also leaves a screenshot for
# people. Skips (77) only when chromium is not installed (scripts/deps.sh
# installs it). Whatever happens, the EXIT trap kills by pid (and the
# browser by its process group) what the test started.
set -euo pipefail

ARBORD=${ARBORD:-./arbord}
ARBORCTL=${ARBORCTL:-./arborctl}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (scripts/deps.sh installs it)"
	exit 77
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/arbor-dash.XXXXXX")
SOCK=$DIR/sock
SHOT=$(pwd)/tests/integration/dashboard.png
DPID=
CPID=

cleanup() {
	set +e
	[ -n "$CPID" ] && kill -9 -- "-$CPID" 2>/dev/null
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	[ -n "$DPID" ] && wait "$DPID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

ctl() {
	"$ARBORCTL" -s "$SOCK" "$@" >/dev/null
}

# A free port: arbord binds exactly what it is given, so try a few.
for try in 1 2 3 4 5 6 7 8; do
	PORT=$((20000 + RANDOM % 40000))
	"$ARBORD" -s "$SOCK" --http "127.0.0.1:$PORT" --log-level warn \
	    2>"$DIR/arbord.log" &
	DPID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && break
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	[ -S "$SOCK" ] && break
	wait "$DPID" 2>/dev/null || true
	DPID=
done
[ -n "$DPID" ] || fail "arbord did not start: $(cat "$DIR/arbord.log")"
URL="http://127.0.0.1:$PORT/"

ctl sup web
ctl actor -p /web w1 tick
ctl actor -p /web w2 sleep
ctl actor -r temporary crash fail after_ms=100 code=3
ctl wait --for running /web

# Runs chromium in its own process group (killed whole by cleanup).
# Not --virtual-time-budget: virtual time stops while a fetch is pending,
# and the page's event stream always is. The page renders the tree the
# server put in it before it has loaded, so the dump at load shows it;
# --timeout bounds the load in real time.
browse() {
	setsid timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$(mktemp -d "$DIR/profile.XXXXXX")" \
	    --timeout=5000 "$@" "$URL" 2>>"$DIR/chromium.log" &
	CPID=$!
	wait "$CPID" || fail "chromium failed: $(tail -5 "$DIR/chromium.log")"
	kill -9 -- "-$CPID" 2>/dev/null || true
	CPID=
}

# The state the rendered page shows for a path.
state_of() {
	grep -o "data-path=\"$1\" data-state=\"[a-z]*\"" "$2" |
	    sed 's/.*data-state="\([a-z]*\)"/\1/' | head -1
}

browse --dump-dom >"$DIR/dom1.html"
for p in / /web /web/w1 /web/w2; do
	[ "$(state_of "$p" "$DIR/dom1.html")" = running ] ||
	    fail "$p is not shown running: $(state_of "$p" "$DIR/dom1.html")"
done
grep -q '>tick<' "$DIR/dom1.html" || fail "the kind of /web/w1 is not shown"
st=$(state_of /crash "$DIR/dom1.html")
case $st in
exited|failed|backoff|starting|running) ;;
*) fail "/crash is not shown: '$st'" ;;
esac
echo "ok: the dashboard shows /, /web, /web/w1, /web/w2 running, /crash $st"

"$ARBORCTL" -s "$SOCK" cancel --wait --reason dashboard-test /web/w1 >/dev/null
browse --dump-dom >"$DIR/dom2.html"
[ "$(state_of /web/w1 "$DIR/dom2.html")" = exited ] ||
    fail "/web/w1 is not shown exited after cancel"
[ "$(state_of /web/w2 "$DIR/dom2.html")" = running ] ||
    fail "/web/w2 should still be running"
grep -q 'cancelled: dashboard-test' "$DIR/dom2.html" ||
    fail "the cause of /web/w1 is not shown"
echo "ok: after cancel, the dashboard shows /web/w1 exited with its cause"

browse --screenshot="$SHOT" --window-size=1200,800
[ -s "$SHOT" ] || fail "no screenshot"
echo "screenshot: $SHOT"
