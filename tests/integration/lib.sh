# Integration-test helpers: real processes on loopback, each test with its
# own port (the peer picks a free one and says READY) and scratch directory.
. "${top_srcdir:?}/tests/cli/lib.sh"
. "$top_srcdir/tests/node/node-env.sh"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$scratch"' EXIT

# wait_for FILE PATTERN SECONDS: polls FILE until PATTERN appears.
wait_for() {
	deadline=$(($(date +%s) + $3))
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# start_csms NAME SCENARIO [OCPP]: an ocpp-rpc central system in strict
# mode; sets csms_port and csms_pid; frames go to $scratch/NAME.frames.
start_csms() {
	node "$node_tests/ocpp-peer.js" --role csms --ocpp "${3:-1.6}" --port 0 \
		--scenario "$2" --timeout 30 --log "$scratch/$1.frames" \
		>"$scratch/$1.out" 2>"$scratch/$1.err" &
	csms_pid=$!
	pids="$pids $csms_pid"
	wait_for "$scratch/$1.out" READY 20 || { cat "$scratch/$1.err"; return 1; }
	csms_port=$(awk '/^READY/ { print $2 }' "$scratch/$1.out")
}
