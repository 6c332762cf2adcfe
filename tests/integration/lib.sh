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

# start_serve NAME [OPTION...]: evctl serve on free ports with its own state
# directory; sets serve_pid, EVCTL_API, EVCTL_TOKEN, serve_ocpp (ws URL).
start_serve() {
	name=$1
	shift
	"${EVCTL:?}" serve --json --state-dir "$scratch/$name" --listen 127.0.0.1:0 \
		--api-listen 127.0.0.1:0 --log-level debug "$@" >"$scratch/$name.out" 2>"$scratch/$name.err" &
	serve_pid=$!
	pids="$pids $serve_pid"
	wait_for "$scratch/$name.out" '"api"' 20 || return 1
	EVCTL_API=$(sed -n 's/.*"api":"\([^"]*\)\/api\/v1".*/\1/p' "$scratch/$name.out")
	serve_ocpp=$(sed -n 's/.*"ocpp":"\([^"]*\)".*/\1/p' "$scratch/$name.out")
	EVCTL_TOKEN=$(cat "$scratch/$name/api-token")
	EVCTL_SERVER=$EVCTL_API
	export EVCTL_API EVCTL_TOKEN EVCTL_SERVER
}

# stop_serve: SIGTERM and wait; returns its exit status.
stop_serve() {
	kill -TERM "$serve_pid" 2>/dev/null
	wait "$serve_pid"
}

# start_station NAME ID SCENARIO [PEER-OPTION...]: an ocpp-rpc station in
# strict mode against the running evctl serve; sets station_pid.
start_station() {
	sname=$1 sid=$2 sscenario=$3
	shift 3
	node "$node_tests/ocpp-peer.js" --role station --ocpp 1.6 --url "$serve_ocpp" \
		--identity "$sid" --scenario "$sscenario" --timeout 60 --log "$scratch/$sname.frames" "$@" \
		>"$scratch/$sname.out" 2>"$scratch/$sname.err" &
	station_pid=$!
	pids="$pids $station_pid"
}

# run_station NAME ID SCENARIO [PEER-OPTION...]: the same, waited for.
run_station() {
	start_station "$@"
	wait "$station_pid"
}
