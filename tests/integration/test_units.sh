#!/bin/sh
# systemd-analyze verify on arbord.service and arbord.socket, made from
# their .in with ExecStart pointing at the arbord just built, then again
# with the strict drop-in example in place. The default unit must carry no
# sandbox that workers would inherit, and Delegate=yes. Skips (77)
# without systemd-analyze. Works without systemd as PID 1.
set -eu
command -v systemd-analyze >/dev/null 2>&1 || { echo "skipped: no systemd-analyze here (install systemd to run it)"; exit 77; }
top=${abs_top_builddir:-$(pwd)}
src=${TESTDATA:-$top/tests}/..
dir=$(mktemp -d /tmp/arbor-units-XXXXXX)
trap 'rm -rf "$dir"' EXIT
for u in arbord.service arbord.socket; do
	sed -e "s|@sbindir[@]|$top|g" "$src/systemd/$u.in" > "$dir/$u"
done
grep -q '^Type=notify$' "$dir/arbord.service"
grep -q '^Delegate=yes$' "$dir/arbord.service"
grep -q '^ListenStream=/run/arbor/arbord.sock$' "$dir/arbord.socket"
for opt in NoNewPrivileges ProtectSystem ProtectHome PrivateTmp \
	ProtectControlGroups PrivateDevices ReadWritePaths; do
	if grep -q "^$opt=" "$dir/arbord.service"; then
		echo "arbord.service sets $opt=, which every worker would inherit"
		exit 1
	fi
done
verify() {
	out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
		arbord.service arbord.socket 2>&1) || { echo "$out"; exit 1; }
	# verify reports some problems without failing; none is expected.
	if [ -n "$out" ]; then echo "$out"; exit 1; fi
}
cd "$dir"
verify
echo "units verified"
mkdir arbord.service.d
cp "$src/systemd/arbord.service.d/strict.conf.example" \
	arbord.service.d/strict.conf
verify
echo "units verified with the strict drop-in"
