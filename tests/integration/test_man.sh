#!/bin/sh
# The man pages through the linters: groff -ww (every warning) and
# mandoc -T lint (warnings and up), then rendered, with no run of words a
# flag macro turned into flags ("-or -the -group", "-- -reads -stdin").
# Skips (77) with neither groff nor mandoc (scripts/deps.sh test installs
# both).
set -u
src=${TESTDATA:-$(dirname "$0")/..}/..
pages="$src/docs/arborctl.1 $src/docs/arbord.8"
ran=0
failed=0
if command -v mandoc >/dev/null 2>&1; then
	ran=1
	# -W warning: style notes (a page it cannot find) are no error.
	if out=$(mandoc -T lint -W warning $pages 2>&1) && [ -z "$out" ]; then
		echo "ok: mandoc -T lint"
	else
		echo "FAIL: mandoc -T lint: $out"; failed=1
	fi
fi
if command -v groff >/dev/null 2>&1; then
	ran=1
	for p in $pages; do
		out=$(groff -ww -z -mandoc "$p" 2>&1)
		if [ -n "$out" ]; then
			echo "FAIL: groff -ww $p: $out"; failed=1
		else
			echo "ok: groff -ww $p"
		fi
		bad=$(groff -mandoc -Tascii -P-c -P-b -P-u "$p" 2>/dev/null |
			grep -E '(^|[ (])-[-a-z]+ -[a-z]+ -[a-z]+')
		if [ -n "$bad" ]; then
			echo "FAIL: $p renders words as flags: $bad"; failed=1
		else
			echo "ok: $p renders no words as flags"
		fi
	done
fi
[ "$ran" -eq 1 ] || { echo "skip: neither mandoc nor groff is installed"; exit 77; }
exit $failed
