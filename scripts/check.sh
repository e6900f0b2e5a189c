#!/bin/sh
# Checks the format, builds arbor and runs the whole test suite twice: as
# built, and under AddressSanitizer + UndefinedBehaviorSanitizer; then
# integration tests with arbord under valgrind, the fuzzers, and distcheck.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" check
run() {
	dir=$1; shift
	echo "== make check in $dir ($*) $(date +%T)"
	"$top/scripts/build.sh" "$dir" "$@"
	if ! make -C "$top/$dir" -s check; then
		find "$top/$dir/tests" -name '*.log' -newer "$top/$dir/Makefile" \
		    -exec grep -l -E '^(FAIL|ERROR)|FAILED' {} + 2>/dev/null |
		    while read -r f; do echo "--- $f"; tail -40 "$f"; done
		exit 1
	fi
	cat "$top/$dir/test-suite.log" | grep -E '^# (TOTAL|PASS|FAIL|ERROR)' || true
}
# The house style (.clang-format): every source file as clang-format
# writes it, checked first so a drift fails fast.
echo "== format-check $(date +%T)"
"$top/scripts/build.sh" build --enable-debug
make -C "$top/build" -s format-check
run build --enable-debug
# Sanitizers cost memory of their own (shadow, quarantine): tests that
# bound the daemon's RSS read their limit from ARBOR_TEST_RSS_KIB.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:quarantine_size_mb=16 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
ARBOR_TEST_RSS_KIB=262144 \
	run build-asan --enable-debug --enable-asan
# arbord under valgrind (memcheck) for a subset of the integration tests,
# from the plain build above: errors or leaks at exit fail them.
echo "== valgrind (build/) $(date +%T)"
"$top/scripts/valgrind.sh" build
# The libFuzzer targets of proto/, 60 s in all (docs/fuzzing.md).
echo "== fuzz (build-fuzz/) $(date +%T)"
"$top/tests/fuzz/run.sh" --time "${ARBOR_FUZZ_SECONDS:-60}"
# The release tarball: builds from it in a VPATH tree, installs and
# uninstalls into a scratch prefix, and runs the tests that prove the
# tarball is whole (every unit test and protocol case, the units, one
# integration test); the full suite ran above already.
echo "== make distcheck $(date +%T)"
dist_tests="tests/unit/test_frame tests/unit/test_jsonrpc tests/unit/test_path
	tests/unit/test_duration tests/unit/test_names tests/unit/test_fields
	tests/unit/test_spec tests/unit/test_params tests/unit/test_cases
	tests/unit/test_tree tests/unit/test_supervisor tests/unit/test_ring
	tests/integration/test_units.sh tests/integration/test_daemon"
if ! make -C "$top/build" -s distcheck TESTS="$(echo $dist_tests)" \
    >"$top/build/distcheck.log" 2>&1; then
	tail -60 "$top/build/distcheck.log"
	exit 1
fi
echo "distcheck: ok $(date +%T)"
