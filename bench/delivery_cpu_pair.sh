#!/bin/sh
# Two daemons at once, each with its own `bpfd trace --json` subscriber,
# both delivering every event of the same 1,000,000 open()/close() of one
# file: the CPU of each (utime+stime from /proc, in ms, and each), measured
# over the same seconds. The machine's phases of load, which move a single
# run of bench/delivery_cpu.sh by tens of percent, then fall on both alike,
# and their ratio is a paired measurement (docs/performance.md, "The
# enrichment's cost").
#
#   bench/delivery_cpu_pair.sh BPFD_A CONFIG_LINE_A BPFD_B CONFIG_LINE_B
#   e.g. bench/delivery_cpu_pair.sh build/bpfd "ancestors = 0" build/bpfd "ancestors = 4"
#
# As root, after the build (bench/openloop). Each daemon sees the other's
# BPF programs' work in the loop, not in its own CPU time.
#
# SCRAPE_B=URL: while the loop runs, GET URL every 100 ms (B's metrics
# page: CONFIG_LINE_B sets `metrics = ...`), as Prometheus would, and say
# how many scrapes there were and how long they took (docs/performance.md,
# "Scraping the metrics").
set -eu
cd "$(dirname "$0")/.."
[ $# -eq 4 ] || { echo "usage: $0 BPFD_A CONFIG_LINE_A BPFD_B CONFIG_LINE_B" >&2; exit 2; }
tmp=$(mktemp -d /tmp/bpfd-pair-XXXXXX)
pids=
trap 'kill $pids 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# start NAME BPFD LINE: a daemon and its subscriber; the daemon's pid in $tmp/NAME.pid.
start() {
	printf '[daemon]\ndefault_actions = none\n%s\n' "$3" > "$tmp/$1.conf"
	"$2" daemon -s "$tmp/$1.sock" --tracers open --config "$tmp/$1.conf" \
		> "$tmp/$1.log" 2>&1 &
	echo $! > "$tmp/$1.pid"
	pids="$pids $!"
	i=0
	until grep -qs ready "$tmp/$1.log"; do
		i=$((i + 1))
		[ $i -lt 300 ] || { cat "$tmp/$1.log" >&2; exit 1; }
		sleep 0.1
	done
	"$2" -s "$tmp/$1.sock" trace --json --tracer open > /dev/null &
	pids="$pids $!"
}

# The daemon NAME's utime and stime, in clock ticks.
ticks() { awk '{ print $14, $15 }' "/proc/$(cat "$tmp/$1.pid")/stat"; }

# report NAME BPFD LINE USER0 SYS0: what the daemon used since, and its events.
report() {
	set -- "$@" $(ticks "$1")
	user=$(( ($6 - $4) * 1000 / hz )) sys=$(( ($7 - $5) * 1000 / hz ))
	events=$("$2" -s "$tmp/$1.sock" status --json |
		grep -o '"events":{"seen":[0-9]*,"matched":[0-9]*,"lost":[0-9]*' | tr -dc '0-9,' |
		awk -F, '{ print "seen " $1 ", lost " $3 }')
	echo "$2 ${3:-(defaults)}: $((user + sys)) ms of daemon CPU (user $user ms, system $sys ms); events $events"
}

# scrape URL: GETs URL every 100 ms until killed; one line of curl's time per scrape.
scrape() {
	while :; do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$1" >> "$tmp/scrapes" || true
		sleep 0.1
	done
}

hz=$(getconf CLK_TCK)
start a "$1" "$2"
start b "$3" "$4"
sleep 1
touch "$tmp/target"
set -- "$@" $(ticks a) $(ticks b)
if [ -n "${SCRAPE_B:-}" ]; then
	scrape "$SCRAPE_B" &
	scraper=$!
	pids="$pids $scraper"
fi
build/bench/openloop "$tmp/target" 1000000 > /dev/null
sleep 2
if [ -n "${SCRAPE_B:-}" ]; then
	kill "$scraper"
	awk '$1 == 200 { n++; t += $2; if ($2 > max) max = $2 } $1 != 200 { bad++ }
	     END { printf "scrapes of B: %d answered 200 (%d not), %.1f ms each on average, %.1f ms at most\n",
		   n, bad, n ? t * 1000 / n : 0, max * 1000 }' "$tmp/scrapes"
fi
report a "$1" "$2" "$5" "$6"
report b "$3" "$4" "$7" "$8"
