#!/bin/sh
# Builds arbor and runs the whole test suite twice: as built, and under
# AddressSanitizer + UndefinedBehaviorSanitizer.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
run() {
	dir=$1; shift
	echo "== make check in $dir ($*)"
	"$top/scripts/build.sh" "$dir" "$@"
	if ! make -C "$top/$dir" -s check; then
		find "$top/$dir/tests" -name '*.log' -newer "$top/$dir/Makefile" \
		    -exec grep -l -E '^(FAIL|ERROR)|FAILED' {} + 2>/dev/null |
		    while read -r f; do echo "--- $f"; tail -40 "$f"; done
		exit 1
	fi
	cat "$top/$dir/test-suite.log" | grep -E '^# (TOTAL|PASS|FAIL|ERROR)' || true
}
run build --enable-debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run build-asan --enable-debug --enable-asan
