#!/bin/sh
# systemd-analyze verify on arbord.service and arbord.socket, made from
# their .in with ExecStart pointing at the arbord just built. Skips (77)
# without systemd-analyze. Works without systemd as PID 1.
set -eu
command -v systemd-analyze >/dev/null 2>&1 || { echo "no systemd-analyze"; exit 77; }
top=${abs_top_builddir:-$(pwd)}
src=${TESTDATA:-$top/tests}/..
dir=$(mktemp -d /tmp/arbor-units-XXXXXX)
trap 'rm -rf "$dir"' EXIT
for u in arbord.service arbord.socket; do
	sed -e "s|@sbindir[@]|$top|g" "$src/systemd/$u.in" > "$dir/$u"
done
grep -q '^Type=notify$' "$dir/arbord.service"
grep -q '^ListenStream=/run/arbor/arbord.sock$' "$dir/arbord.socket"
cd "$dir"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	arbord.service arbord.socket 2>&1) || { echo "$out"; exit 1; }
# verify reports some problems without failing; none is expected here.
if [ -n "$out" ]; then echo "$out"; exit 1; fi
echo "units verified"
