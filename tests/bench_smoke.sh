#!/bin/sh
# bench/run --smoke against the binaries of this build: every measure of
# the benchmark suite once with tiny sizes; checks only that it runs and
# that its JSON parses. Skips (77) when bench/bench is not built.
top_srcdir=${TESTDATA:+$TESTDATA/..}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${abs_top_builddir:-$(dirname "${ARBORD:-./arbord}")}
BENCH=${BENCH:-$builddir/bench/bench}
export ARBORD="${ARBORD:-$builddir/arbord}" BENCH
[ -x "$BENCH" ] || { echo "SKIP: $BENCH not built"; exit 77; }
exec timeout -k 5 60 "$top_srcdir/bench/run" --smoke
