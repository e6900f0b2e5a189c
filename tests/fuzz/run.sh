#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz/ with clang in build-fuzz/
# and runs each for a bounded time on a copy of its seed corpus.
#
#   tests/fuzz/run.sh [--quick] [--time SECONDS] [--jobs N] [TARGET...]
#
# --time is the total across targets (default 90: 18 s each); --quick runs
# every target for a fixed number of inputs instead (a smoke test). Crash
# inputs land in build-fuzz/crashes/; the exit status is 1 if any target
# found one. FUZZ_ARGS adds libFuzzer flags.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build-fuzz
total=90
runs=
jobs=1
while [ $# -gt 0 ]; do
	case $1 in
	--quick) runs=${FUZZ_QUICK_RUNS:-20000}; shift ;;
	--time) total=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "usage: $0 [--quick] [--time SECONDS] [--jobs N] [TARGET...]" >&2
	    exit 2 ;;
	*) break ;;
	esac
done
targets=${*:-fuzz_frame fuzz_jsonrpc fuzz_spec fuzz_params fuzz_path_duration}
command -v clang >/dev/null || { echo "fuzz: clang is needed" >&2; exit 1; }

# A source tree configured in place cannot host a VPATH build: build from
# a copy of its files then (only changed files are rewritten).
src=$top
mkdir -p "$out"
if [ -f "$top/config.status" ]; then
	src=$out/src
	mkdir -p "$src"
	(cd "$top" && git ls-files -co --exclude-standard -z |
	    xargs -0 tar -cf -) | tar -C "$src" -xf -
fi
(
	cd "$src"
	[ -x configure ] && [ -f Makefile.in ] &&
	    [ configure -nt configure.ac ] &&
	    [ configure -nt Makefile.am ] || autoreconf -fi >/dev/null 2>&1
)
mkdir -p "$out/obj"
cd "$out/obj"
flags="CC=clang --enable-fuzzing"
if [ ! -f Makefile ] || [ "$(cat .flags 2>/dev/null)" != "$flags" ]; then
	"$src/configure" -q CC=clang CFLAGS="-O1 -g" --enable-fuzzing
	echo "$flags" > .flags
fi
make -s -j"$(nproc)" fuzz 2>&1 | grep -v "^ar: " || true
for t in $targets; do
	[ -x "tests/fuzz/$t" ] || { echo "fuzz: $t did not build" >&2; exit 1; }
done

n=$(echo $targets | wc -w)
each=$(( total / n )); [ "$each" -ge 1 ] || each=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
mkdir -p "$out/crashes"
status=0
for t in $targets; do
	corpus=$out/corpus/$t
	mkdir -p "$corpus"
	cp -R "$top/tests/fuzz/corpus/$t/." "$corpus/"
	if [ -n "$runs" ]; then
		limit="-runs=$runs"
	else
		limit="-max_total_time=$each"
	fi
	dict=
	case $t in
	fuzz_jsonrpc|fuzz_spec|fuzz_params) dict="-dict=$top/tests/fuzz/json.dict" ;;
	esac
	log=$out/$t.log
	start=$(date +%s)
	if ./tests/fuzz/$t $limit $dict -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -jobs="$jobs" \
	    -workers="$jobs" -artifact_prefix="$out/crashes/$t-" \
	    ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1; then
		result=ok
	else
		result=FAILED
		status=1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    awk '{s += $1} END {print s + 0}')
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" |
	    awk '{s += $1} END {print s + 0}')
	echo "fuzz: $t $result: $execs execs, $rate exec/s," \
	    "$(( $(date +%s) - start )) s, corpus $(ls "$corpus" | wc -l)"
	if [ $result = FAILED ]; then
		grep -E "ERROR|invariant|SUMMARY|Test unit written|==[0-9]+==" \
		    "$log" | head -20
		[ "$jobs" -gt 1 ] && cat fuzz-*.log 2>/dev/null | tail -40
	fi
done
exit $status
