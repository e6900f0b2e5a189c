#!/bin/sh
# Installs what one role needs, when it is missing (Debian 12, as root).
# Safe to run again: it installs nothing twice.
#   deps.sh build   building arbor (scripts/demo.sh, scripts/build.sh)
#   deps.sh test    building it and running make check
#   deps.sh check   everything scripts/check.sh runs (the default): make
#                   check, fuzzing and valgrind too
set -eu
role=${1:-check}
build="autoconf automake libtool pkg-config make gcc libevent-dev libjansson-dev libsystemd-dev"
# make check: the unit and integration tests (cmocka); the shell tests
# read JSON with jq; make format-check, which CI runs first, needs
# clang-format; the dashboard's browser test (tests/integration/
# test_dashboard.sh) chromium, large, and without it that test skips;
# the man pages' lint (test_man.sh) groff and mandoc; the units' check
# (test_units.sh) systemd-analyze; test_notify runs real programs written
# for systemd: systemd-notify and redis-server --supervised systemd;
# test_journald.sh a real systemd-journald, read back with journalctl.
# test_sockets runs a real server that takes LISTEN_FDS: gunicorn.
test="libcmocka-dev jq clang-format chromium groff-base mandoc systemd redis-server gunicorn"
# scripts/check.sh beyond make check: fuzzing (tests/fuzz/run.sh) needs
# clang and libclang-rt-14-dev for libFuzzer's runtime; the valgrind step
# (scripts/valgrind.sh) valgrind.
check="clang libclang-rt-14-dev valgrind"
case $role in
build) pkgs=$build ;;
test) pkgs="$build $test" ;;
check) pkgs="$build $test $check" ;;
*)
	echo "usage: deps.sh [build|test|check]" >&2
	exit 2
	;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "arbor: missing packages:$missing (run as root, or install them)" >&2
		exit 1
	fi
	echo "arbor: installing$missing" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
