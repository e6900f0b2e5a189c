#!/bin/sh
# Builds arbord and runs it in the foreground with a small demo tree, on a
# socket in a private temporary directory. Ctrl-C stops it (and the tree).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" build
"$top/scripts/build.sh" build
dir=$(mktemp -d /tmp/arbor-demo-XXXXXX)
sock="$dir/arbord.sock"
cat <<MSG
arbord is starting with the demo tree of systemd/example-tree.json on
  $sock
From another terminal:
  $top/build/arborctl -s $sock tree
  $top/build/arborctl -s $sock status -a
  $top/build/arborctl -s $sock top
  $top/build/arborctl -s $sock inspect /demo/flaky
  $top/build/arborctl -s $sock logs -f /demo
  $top/build/arborctl -s $sock cancel --wait /demo/clock
  $top/build/arborctl -s $sock --json stats
  $top/build/arborctl -s $sock shutdown
Ctrl-C here stops arbord and everything it started.
MSG
exec "$top/build/arbord" -s "$sock" --config "$top/systemd/example-tree.json"
