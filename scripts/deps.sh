#!/bin/sh
# Installs what building and testing arbor needs, when it is missing
# (Debian 12, as root). Safe to run again: it installs nothing twice.
set -eu
pkgs="autoconf automake libtool pkg-config make gcc libevent-dev libjansson-dev libcmocka-dev libsystemd-dev systemd"
# The shell tests read JSON with jq (tests/integration/test_cli.sh,
# test_exec.sh).
pkgs="$pkgs jq"
# make format-check, which CI runs first (.clang-format).
pkgs="$pkgs clang-format"
# The dashboard's browser test (tests/integration/test_dashboard.sh); large,
# and without it that test skips.
pkgs="$pkgs chromium"
# Fuzzing (tests/fuzz/run.sh): clang, and libclang-rt-14-dev for libFuzzer's
# runtime (libclang_rt.fuzzer-x86_64.a).
pkgs="$pkgs clang libclang-rt-14-dev"
# A real server that takes LISTEN_FDS (tests/integration/test_sockets.c);
# without it that one test skips.
pkgs="$pkgs gunicorn"
# The valgrind step of check.sh (scripts/valgrind.sh).
pkgs="$pkgs valgrind"
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
