#!/bin/sh
# evstationd's footprint: RSS of one station, RSS of 1,000 stations in one
# process, and how often an idle process wakes up.
#   bench/station.sh [BUILD_DIR]        (default: build)
# Targets (issue 3): one station < 5 MiB RSS; 1,000 stations < 100 MiB;
# no busy polling (an idle station wakes only for its timers).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
evstationd=$build/evstationd
NODE_PATH=$top/tests/node/node_modules
export NODE_PATH
[ -x "$evstationd" ] || { echo "no $evstationd: build first (scripts/quickstart)"; exit 1; }
[ -d "$NODE_PATH/ocpp-rpc" ] || { echo "no ocpp-rpc: cd tests/node && npm ci"; exit 1; }

tmp=$(mktemp -d)
trap 'kill $csms $station 2>/dev/null; rm -rf "$tmp"' EXIT
csms= station=

wait_for() { # FILE PATTERN SECONDS
	deadline=$(($(date +%s) + $3))
	until grep -q "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "timeout waiting for '$2' in $1"; exit 1; }
		sleep 0.1
	done
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$1/status"; }

# run N: starts N stations, waits until all are accepted, prints figures.
run() {
	n=$1
	: >"$tmp/csms.out"
	node "$top/bench/csms-stub.js" 300 >"$tmp/csms.out" &
	csms=$!
	wait_for "$tmp/csms.out" READY 20
	port=$(awk '/^READY/ { print $2 }' "$tmp/csms.out")
	# A state directory of its own: the user's is not ours to migrate.
	rm -rf "$tmp/state"
	"$evstationd" --url "ws://127.0.0.1:$port/ocpp" --count "$n" --id 'BENCH%05ld' \
		--log-level warn --state-dir "$tmp/state" --ctl-socket none 2>"$tmp/station.err" &
	station=$!
	start=$(date +%s.%N)
	wait_for "$tmp/csms.out" "^BOOTED $n\$" 120
	booted=$(date +%s.%N)
	sleep 3        # let the status notifications settle
	rss=$(rss_kib "$station")
	# The shared libraries it maps: a ws:// station must not map
	# libwebsockets or OpenSSL (they are opened for wss:// only).
	awk '$6 ~ /\.so/ { n = split($6, p, "/"); print p[n] }' "/proc/$station/maps" |
		sort -u | tr '\n' ' ' >"$tmp/libs.$n"
	s0=$(switches "$station")
	sleep 10
	s1=$(switches "$station")
	kill "$station"; wait "$station" || true
	kill "$csms"; wait "$csms" || true
	awk -v n="$n" -v rss="$rss" -v w="$((s1 - s0))" -v t0="$start" -v t1="$booted" 'BEGIN {
		printf "| %5d | %8.1f | %8.1f | %6.2f | %5.1f |\n", n, rss / 1024, rss / n, w / 10, t1 - t0 }'
}

echo "evstationd $("$evstationd" --version | awk '{ print $2 }'), $(nproc) cores, heartbeat 300 s, ping 60 s"
echo
echo "| stations | RSS (MiB) | RSS per station (KiB) | idle wake-ups/s | all booted in (s) |"
echo "|---:|---:|---:|---:|---:|"
run 1
run 100
run 1000
echo
echo "one station maps: $(cat "$tmp/libs.1")"
