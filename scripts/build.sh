#!/bin/sh
# Builds arbor in DIR (default build/) with configure flags given after it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}; [ $# -gt 0 ] && shift
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] ||
	autoreconf -fi >/dev/null
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$(cat .flags 2>/dev/null)" != "$*" ]; then
	"$top/configure" -q "$@"
	echo "$*" > .flags
fi
make -s -j"$(nproc)"
