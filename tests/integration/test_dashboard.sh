#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium loads / from a real
# arbord with --http, and the rendered DOM must show the spawned nodes with
# their states, and a cancelled node as exited. Then, driving Chromium over
# the DevTools protocol (tests/integration/cdp.py, on a pipe): a node's log
# tail follows a line printed after the page loaded; with the token, the
# actions show and work (restart, signal); without it, or with a wrong one,
# they do not show and the server refuses a POST; 10,000 nodes render with
# only the rows in view in the DOM, scroll, and filter. Also leaves a
# screenshot for people. Skips (77) only when chromium (or python3, for the
# driver) is not installed (scripts/deps.sh installs them). Whatever
# happens, the EXIT trap kills by pid (and the browser by its process
# group) what the test started.
set -euo pipefail

ARBORD=${ARBORD:-./arbord}
ARBORCTL=${ARBORCTL:-./arborctl}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (scripts/deps.sh installs it)"
	exit 77
fi

PYTHON=$(command -v python3 || true)
if [ -z "$PYTHON" ]; then
	echo "SKIP: python3 is not installed (the DevTools driver needs it)"
	exit 77
fi
CDP_PY=${TESTDATA:-$(dirname "$0")/..}/integration/cdp.py
TOKEN=dash-test-token-$$

DIR=$(mktemp -d "${TMPDIR:-/tmp}/arbor-dash.XXXXXX")
SOCK=$DIR/sock
SHOT=$(pwd)/tests/integration/dashboard.png
DPID=
CPID=
BPID=

cleanup() {
	set +e
	[ -n "$CPID" ] && kill -9 -- "-$CPID" 2>/dev/null
	[ -n "$BPID" ] && kill -9 -- "-$BPID" 2>/dev/null
	[ -n "${CDP_PID:-}" ] && kill -9 "$CDP_PID" 2>/dev/null
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	[ -n "$DPID" ] && wait "$DPID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

# To stderr: it may be called where stdout goes nowhere.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ctl() {
	"$ARBORCTL" -s "$SOCK" "$@" >/dev/null
}

# A free port: arbord binds exactly what it is given, so try a few. It
# binds its socket first and the HTTP port after: up once it answers (a
# port taken makes it exit after the socket is there). A minute at most
# for one that is slow to come up, killed then.
for try in 1 2 3 4 5 6 7 8; do
	PORT=$((20000 + RANDOM % 40000))
	ARBOR_HTTP_TOKEN=$TOKEN "$ARBORD" -s "$SOCK" --http "127.0.0.1:$PORT" \
	    --log-level warn 2>"$DIR/arbord.log" &
	DPID=$!
	up=
	for _ in $(seq 1200); do
		"$ARBORCTL" -s "$SOCK" ping >/dev/null 2>&1 && { up=1; break; }
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$up" ] && break
	kill -9 "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	rm -f "$SOCK"
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

# ---- Driving the page over the DevTools protocol ----

# The driver answers each command with one line (cdp.py).
coproc CDP { exec "$PYTHON" "$CDP_PY" "$CHROMIUM" "$DIR/cdp-profile" \
    2>>"$DIR/chromium.log"; }
read -r -t 30 word BPID <&"${CDP[0]}" || fail "the DevTools driver did not start"
[ "$word" = pid ] || fail "the DevTools driver said: $word $BPID"

cdp() {
	local out
	printf '%s\n' "$*" >&"${CDP[1]}"
	read -r -t 90 out <&"${CDP[0]}" || fail "no answer from the driver to: $*"
	case $out in
	error*) fail "$* -> $out" ;;
	esac
	printf '%s\n' "$out"
}

# Waits up to $1 s for the JavaScript $2 to be truthy; fails with $3.
# (30 s: what the page shows may wait on a loaded ASan arbord and a
# browser on the same two cores; the driver's own read waits 90 s.)
wait_js() {
	local out
	out=$(cdp wait "$1" "$2")
	case $out in
	timeout*) fail "$3 (last: $out)" ;;
	esac
	printf '%s\n' "$out"
}

js_row_count='document.querySelectorAll("#rows .row").length'
js_log='document.getElementById("log").textContent'

# -- A node's log tail follows: the recent lines, then a line printed
# after the page loaded.
ctl spawn -p /web talk -- sh -c "echo before-load; echo an-error >&2;
    while [ ! -e '$DIR/go' ]; do sleep 0.1; done;
    echo printed-after-load; exec sleep 600"
ctl wait --for running /web/talk
cdp open "${URL}#node=/web/talk" >/dev/null
wait_js 30 "$js_log.includes(\"before-load\") && $js_log.includes(\"an-error\")" \
    "the log tail does not show the recent lines" >/dev/null
[ "$(cdp eval "$js_log.includes(\"printed-after-load\")")" = false ] ||
    fail "the line came before it was printed"
touch "$DIR/go"
wait_js 30 "$js_log.includes(\"printed-after-load\")" \
    "the log tail does not follow: the new line is not shown" >/dev/null
[ "$(cdp eval 'document.querySelector("#log .ln-stderr").textContent')" = '"an-error"' ] ||
    fail "stderr is not marked as such in the log tail"
[ "$(cdp eval 'document.getElementById("d-path").textContent')" = '"/web/talk"' ] ||
    fail "the details panel does not name the node"
wait_js 30 'document.querySelector("#d-fields [data-field=pid]") !== null' \
    "the details do not show the pid" >/dev/null
wait_js 30 'document.querySelector("#d-fields [data-field=started]").textContent.includes("up ")' \
    "the details do not show the uptime" >/dev/null
echo "ok: the log tail shows the recent lines, then follows a line printed after the page loaded"

# -- Without the token: no actions, and the server refuses them.
[ "$(cdp eval 'document.getElementById("actions").hidden')" = true ] ||
    fail "actions are shown without the token"
[ "$(cdp eval 'document.getElementById("auth").textContent')" = '"read-only"' ] ||
    fail "the page does not say it is read-only"
code=$(cdp eval 'fetch("/v1/rpc", {method: "POST", body: JSON.stringify({jsonrpc: "2.0", id: 1, method: "restart", params: {path: "/web/w2"}})}).then(r => r.status)')
[ "$code" = 403 ] || fail "a POST without the token was answered $code"
cdp open "${URL}#token=wrong-$TOKEN&node=/web/w2" >/dev/null
wait_js 30 'document.getElementById("auth").textContent.includes("refused")' \
    "a wrong token is not reported refused" >/dev/null
[ "$(cdp eval 'document.getElementById("actions").hidden')" = true ] ||
    fail "actions are shown with a wrong token"
echo "ok: without the token (or with a wrong one) no actions show, and POST /v1/rpc is refused (403)"

# -- With the token: the actions show, and work.
r0=$("$ARBORCTL" -s "$SOCK" --json inspect /web/w2 | jq .restarts)
cdp open "${URL}#token=$TOKEN&node=/web/w2" >/dev/null
wait_js 30 '!document.getElementById("actions").hidden' \
    "the actions do not show with the token" >/dev/null
[ "$(cdp eval "location.href.includes(\"$TOKEN\")")" = false ] ||
    fail "the token stayed in the address"
cdp eval 'document.getElementById("act-restart").click(), 1' >/dev/null
wait_js 30 'document.getElementById("act-result").textContent === "restart: done"' \
    "the restart button did not work" >/dev/null
r1=$("$ARBORCTL" -s "$SOCK" --json inspect /web/w2 | jq .restarts)
[ "$r1" -gt "$r0" ] || fail "restart did not restart /web/w2 ($r0 -> $r1)"
wait_js 30 "document.querySelector('#rows .row[data-path=\"/web/w2\"]').textContent.includes('restarts $r1')" \
    "the row does not show the restart" >/dev/null
# A signal of our choosing to an exec node's process: CONT is harmless.
cdp eval 'document.querySelector("#rows .row[data-path=\"/web/talk\"] .name").click(), 1' >/dev/null
wait_js 30 'document.getElementById("d-path").textContent === "/web/talk" && !document.getElementById("actions").hidden && !document.getElementById("act-signal").disabled' \
    "no signal button for a running exec node" >/dev/null
cdp eval 'document.getElementById("act-sig").value = "CONT", document.getElementById("act-signal").click(), 1' >/dev/null
wait_js 30 'document.getElementById("act-result").textContent === "signal CONT: done"' \
    "the signal button did not work" >/dev/null
# Stop, then start again.
cdp eval 'document.getElementById("act-stop").click(), 1' >/dev/null
wait_js 30 'document.querySelector("#rows .row[data-path=\"/web/talk\"]").getAttribute("data-state") === "exited"' \
    "stop did not stop /web/talk" >/dev/null
wait_js 30 '!document.getElementById("act-start").disabled' \
    "start is not offered for a stopped node" >/dev/null
cdp eval 'document.getElementById("act-start").click(), 1' >/dev/null
wait_js 30 'document.querySelector("#rows .row[data-path=\"/web/talk\"]").getAttribute("data-state") === "running"' \
    "start did not start /web/talk again" >/dev/null
echo "ok: with the token the actions show; restart, signal, stop and start work"

# -- 10,000 nodes: only the rows in view are in the DOM.
"$PYTHON" -c 'import json; print(json.dumps({"name": "big", "kind": "supervisor",
    "children": [{"name": "c%d" % i, "kind": "sleep"} for i in range(10000)]}))' \
    >"$DIR/big.json"
"$ARBORCTL" -s "$SOCK" call spawn - <"$DIR/big.json" >/dev/null
ctl wait --for running /big
cdp open "$URL" >/dev/null
wait_js 60 'document.getElementById("s-nodes").textContent === "10007"' \
    "the page does not count the 10,007 nodes" >/dev/null
n=$(cdp eval "$js_row_count")
[ "$n" -gt 10 ] && [ "$n" -lt 200 ] || fail "$n rows in the DOM for 10,007 nodes"
h=$(cdp eval 'parseInt(document.getElementById("spacer").style.height)')
[ "$h" = $((10007 * 26)) ] || fail "the list is $h px high, not that of 10,007 rows"
cdp eval 'document.getElementById("list").scrollTop = 1e9, 1' >/dev/null
wait_js 30 'document.querySelector("#rows .row[data-path=\"/big/c9999\"]") !== null' \
    "scrolled to the end, the last node is not shown" >/dev/null
n=$(cdp eval "$js_row_count")
[ "$n" -lt 200 ] || fail "$n rows in the DOM after scrolling"
cdp eval 'document.getElementById("filter").value = "c123", document.getElementById("filter").dispatchEvent(new Event("input")), 1' >/dev/null
wait_js 30 "$js_row_count === 11" "filtering by path does not leave the 11 matches" >/dev/null
cdp eval 'document.getElementById("filter").value = "", document.getElementById("filter").dispatchEvent(new Event("input")), document.getElementById("state-filter").value = "exited", document.getElementById("state-filter").dispatchEvent(new Event("change")), 1' >/dev/null
wait_js 30 "$js_row_count === 2" "filtering by state does not leave /web/w1 and /crash" >/dev/null
[ "$(cdp eval '[...document.querySelectorAll("#rows .row")].map(r => r.getAttribute("data-path")).join(" ")')" = '"/web/w1 /crash"' ] ||
    fail "the exited nodes are not /web/w1 and /crash"
# Still responsive: an event reaches the page and a row of the 10,000.
"$ARBORCTL" -s "$SOCK" cancel /big/c5 >/dev/null
cdp eval 'document.getElementById("state-filter").value = "", document.getElementById("state-filter").dispatchEvent(new Event("change")), document.getElementById("filter").value = "/big/c5", document.getElementById("filter").dispatchEvent(new Event("input")), 1' >/dev/null
wait_js 30 'document.querySelector("#rows .row[data-path=\"/big/c5\"]").getAttribute("data-state") === "exited"' \
    "a change in a 10,000-node tree does not show" >/dev/null
echo "ok: 10,007 nodes: $n rows in the DOM, scrolling and filters work, events show"

cdp eval 'document.getElementById("filter").value = "", document.getElementById("filter").dispatchEvent(new Event("input")), 1' >/dev/null
cdp quit >/dev/null || true
BPID=

browse --screenshot="$SHOT" --window-size=1200,800
[ -s "$SHOT" ] || fail "no screenshot"
echo "screenshot: $SHOT"
