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
# An in-tree ./configure (README's "building by hand") leaves config.status
# and config.h in the source, which a build elsewhere refuses ("source
# directory already configured"): that build is cleaned away first.
if [ "$(pwd -P)" != "$(cd "$top" && pwd -P)" ] && [ -f "$top/config.status" ]; then
	echo "build.sh: cleaning the in-tree build (make distclean in $top) to build in $dir" >&2
	make -s -C "$top" distclean >/dev/null 2>&1 ||
		rm -f "$top/config.status" "$top/config.h" "$top/Makefile" "$top/config.log" "$top/stamp-h1"
fi
if [ ! -f Makefile ] || [ "$(cat .flags 2>/dev/null)" != "$*" ]; then
	"$top/configure" -q "$@"
	echo "$*" > .flags
fi
make -s -j"$(nproc)"
