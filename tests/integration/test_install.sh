#!/bin/sh
# make install's layout, into a scratch DESTDIR: an empty tree [] as
# /etc/arbor/tree.json with the example next to it (not the demo tree),
# the sysusers.d file that creates the group arbor, a tree.json an
# operator edited kept by a second install and by uninstall.
set -u
top=${abs_top_builddir:-$(pwd)}
dir=$(mktemp -d "${TMPDIR:-/tmp}/arbor-install.XXXXXX")
trap 'rm -rf "$dir"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }
ok() { echo "ok: $*"; }
# The build's own make, without the jobs of the make check running us.
inst() {
	env -u MAKEFLAGS -u MFLAGS make -s -C "$top" "$@" DESTDIR="$dir" \
	    prefix=/usr sysconfdir=/etc >"$dir.log" 2>&1 ||
		{ echo "make $*: $(tail -20 "$dir.log")"; rm -f "$dir.log"; exit 1; }
	rm -f "$dir.log"
}

inst install
conf=$dir/etc/arbor
[ "$(tr -d ' \n' <"$conf/tree.json")" = "[]" ] && ok "tree.json is []" ||
	fail "tree.json: $(cat "$conf/tree.json")"
if command -v jq >/dev/null 2>&1; then
	jq -e 'type == "array" and length > 0' "$conf/tree.json.example" >/dev/null &&
		ok "tree.json.example is a tree" || fail "tree.json.example"
fi
[ -f "$conf/tree.json.example" ] && ok "example installed" || fail "no example"
grep -q '^g arbor ' "$dir/usr/lib/sysusers.d/arbor.conf" 2>/dev/null &&
	ok "sysusers.d/arbor.conf creates the group arbor" || fail "no sysusers.d/arbor.conf"
[ -x "$dir/usr/sbin/arbord" ] && [ -x "$dir/usr/bin/arborctl" ] &&
	ok "programs installed" || fail "programs missing"

echo '[{"name":"mine","kind":"sleep"}]' >"$conf/tree.json"
inst install
grep -q mine "$conf/tree.json" && ok "a second install keeps an edited tree.json" ||
	fail "tree.json overwritten: $(cat "$conf/tree.json")"
inst uninstall
grep -q mine "$conf/tree.json" 2>/dev/null && ok "uninstall keeps an edited tree.json" ||
	fail "uninstall removed an edited tree.json"
[ ! -e "$dir/usr/lib/sysusers.d/arbor.conf" ] && ok "uninstall removes arbor.conf" ||
	fail "arbor.conf left"
rm -f "$conf/tree.json"
inst install
inst uninstall
[ ! -e "$conf" ] && ok "uninstall removes an empty tree.json and its directory" ||
	fail "left: $(ls -A "$conf")"
exit $failed
