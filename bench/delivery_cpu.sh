#!/bin/sh
# The daemon's CPU for 1,000,000 open()/close() of one file with every
# event delivered to `bpfd trace --json` (docs/performance.md, "The process
# part made once"): utime+stime of the daemon from /proc, in ms, and each.
#
#   bench/delivery_cpu.sh BPFD [CONFIG_LINE]   e.g. build/bpfd "ancestors = 0"
#
# As root, after the build (bench/openloop). Builds and settings compared
# in alternation, a few rounds each: one run means little on a busy machine.
set -eu
cd "$(dirname "$0")/.."
bpfd=$1
line=${2:-}
tmp=$(mktemp -d /tmp/bpfd-cpu-XXXXXX)
trap 'kill "$trace" "$daemon" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
printf '[daemon]\ndefault_actions = none\n%s\n' "$line" > "$tmp/bpfd.conf"
"$bpfd" daemon -s "$tmp/sock" --tracers open --config "$tmp/bpfd.conf" > "$tmp/daemon.log" 2>&1 &
daemon=$!
trace=
i=0
until grep -q ready "$tmp/daemon.log"; do
	i=$((i + 1))
	[ $i -lt 300 ] || { cat "$tmp/daemon.log" >&2; exit 1; }
	sleep 0.1
done
"$bpfd" -s "$tmp/sock" trace --json --tracer open > /dev/null &
trace=$!
sleep 1
touch "$tmp/target"
# utime and stime of the daemon, in clock ticks (a comm without spaces: bpfd).
ticks() { awk '{ print $14, $15 }' "/proc/$daemon/stat"; }
set -- $(ticks)
user0=$1 sys0=$2
build/bench/openloop "$tmp/target" 1000000 > /dev/null
sleep 2
set -- $(ticks)
hz=$(getconf CLK_TCK)
user=$(( ($1 - user0) * 1000 / hz )) sys=$(( ($2 - sys0) * 1000 / hz ))
echo "$bpfd ${line:-(defaults)}: $((user + sys)) ms of daemon CPU (user $user ms, system $sys ms)"
