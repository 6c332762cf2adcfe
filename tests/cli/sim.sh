#!/bin/sh
# evctl sim: a sim started in a scratch directory (pointed at a port where
# nothing listens: the stations keep retrying), its status, EVs plugged and
# unplugged, faults, errors and their exit statuses, and a clean stop. Then,
# when node and ocpp-rpc are there, a sim against the strict ocpp-rpc
# central system: a plugged EV and a token start a transaction there.
. "${top_srcdir:?}/tests/cli/lib.sh"
: "${EVCTL:?}" "${EVSTATIOND:?}"

dir=$scratch/sim
csms=$scratch/sim-csms
csms_pid=""
# Whatever happens, no evstationd and no peer outlives the test.
cleanup() {
	for d in "$dir" "$csms"; do
		[ -f "$d/sim.json" ] && "$EVCTL" sim stop --state-dir "$d" >/dev/null 2>&1
	done
	[ -n "$csms_pid" ] && kill "$csms_pid" 2>/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT

# until_ok SECONDS CMD...: runs CMD until it succeeds, or fails after SECONDS.
until_ok() {
	deadline=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# gone PID: the process has exited (a zombie nobody reaps counts as gone).
gone() {
	[ ! -d "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]
}

pid_of() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$1/sim.json" 2>/dev/null; }

# status_has DIR PATTERN [STATION]: `sim status --json` matches PATTERN.
status_has() {
	"$EVCTL" sim status --json --state-dir "$1" $3 2>/dev/null | grep -q "$2"
}

# --- Before any sim.
run "status without a sim" 1 "$EVCTL" sim status --state-dir "$dir" &&
	contains "status without a sim" "$err" "evctl: sim status: no sim running in $dir"
run "stop without a sim" 1 "$EVCTL" sim stop --state-dir "$dir" &&
	contains "stop without a sim" "$err" "no sim running"
run "default directory" 1 env XDG_STATE_HOME="$scratch/xdg" "$EVCTL" sim status &&
	contains "default directory is \$XDG_STATE_HOME/evctl/sim" "$err" "$scratch/xdg/evctl/sim"
run "bad id pattern" 2 "$EVCTL" sim start --count 2 --id-pattern 'CP-%s' --state-dir "$dir" &&
	contains "bad id pattern" "$err" "--id-pattern 'CP-%s'"
run "count needs a pattern" 2 "$EVCTL" sim start --count 2 --id-pattern CP --state-dir "$dir" &&
	contains "count needs a pattern" "$err" "needs a %d"
run "bad url" 2 "$EVCTL" sim start --url http://x --state-dir "$dir" && contains "bad url" "$err" "ws://"
[ ! -e "$dir/sim.json" ] && ok "nothing started by a bad command line" ||
	not_ok "nothing started by a bad command line" "sim.json exists"

# --- Start.
run "start" 0 "$EVCTL" sim start --count 2 --url ws://127.0.0.1:1/ocpp --state-dir "$dir" && {
	[ "$out" = "SIM001
SIM002" ] && ok "start prints the station ids" || not_ok "start prints the station ids" "$out"
}
pid=$(pid_of "$dir")
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ok "evstationd runs in the background" ||
	not_ok "evstationd runs in the background" "pid '$pid'"
session=$(cut -d' ' -f6 "/proc/$pid/stat" 2>/dev/null)
[ -n "$session" ] && [ "$session" != "$(cut -d' ' -f6 /proc/$$/stat)" ] && ok "evstationd runs in a session of its own" ||
	not_ok "evstationd runs in a session of its own" "session '$session'"
[ "$(stat -c %a "$dir/sim.conf")" = 600 ] && ok "sim.conf is private" || not_ok "sim.conf is private" "mode $(stat -c %a "$dir/sim.conf")"
run "second start" 1 "$EVCTL" sim start --state-dir "$dir" &&
	contains "second start refused" "$err" "a sim is already running in $dir (pid $pid)"

# --- Status.
run "status" 0 "$EVCTL" sim status --state-dir "$dir" && {
	contains "status: header" "$out" "pid $pid, 2 stations, ws://127.0.0.1:1/ocpp"
	contains "status lists SIM001" "$out" "SIM001  not connected, booting"
	contains "status lists SIM002" "$out" "SIM002  not connected, booting"
	contains "status lists connectors" "$out" "  2   Available      no EV"
}
run "status --json" 0 "$EVCTL" sim status --json --state-dir "$dir" && {
	contains "status --json: SIM001" "$out" '"id":"SIM001"'
	contains "status --json: SIM002" "$out" '"id":"SIM002"'
	contains "status --json: pid" "$out" "\"pid\":$pid,"
}
run "status of one station" 0 "$EVCTL" sim status SIM002 --state-dir "$dir" &&
	case $out in *SIM001*) not_ok "status of one station" "$out" ;; *) ok "status of one station" ;; esac

# --- An EV: plug, token, unplug.
run "plug" 0 "$EVCTL" sim plug SIM001 1 --soc 30 --capacity 40 --state-dir "$dir" &&
	contains "plug prints the connector" "$out" "1   Preparing      EV ready, 30 % of 40 kWh"
status_has "$dir" '"connectorId":1,"status":"Preparing","hardware":{[^}]*"ev":"ready","vehicle":{"capacityKWh":40.0,"soc":30.0' SIM001 &&
	ok "plug: status shows the EV" || not_ok "plug: status shows the EV" "$("$EVCTL" sim status --json --state-dir "$dir")"
run "plug --json" 0 "$EVCTL" sim plug SIM002 2 --max-power 7.36 --phases 1 --json --state-dir "$dir" &&
	contains "plug --max-power: a current for the phases" "$out" '"acMaxCurrent":32.0,"acPhases":1'
run "plug twice" 1 "$EVCTL" sim plug SIM001 1 --state-dir "$dir" &&
	contains "plug twice" "$err" "evctl: sim plug: connector 1 of 'SIM001' already has an EV plugged in"
run "token" 0 "$EVCTL" sim token SIM001 CARD-1 --state-dir "$dir" &&
	contains "token" "$out" "SIM001: presented CARD-1 at its reader"
run "token at a connector" 0 "$EVCTL" sim token SIM001 CARD-1 --connector 1 --state-dir "$dir" &&
	contains "token at a connector" "$out" "at its connector"
run "token too long" 2 "$EVCTL" sim token SIM001 123456789012345678901 --state-dir "$dir" &&
	contains "token too long" "$err" "an id tag has 1 to 20 characters"
run "unplug" 0 "$EVCTL" sim unplug SIM001 1 --state-dir "$dir" && contains "unplug" "$out" "no EV"
status_has "$dir" '"connectorId":1,"status":"Available","hardware":{[^}]*"ev":"unplugged"' SIM001 &&
	ok "unplug: status shows no EV" || not_ok "unplug: status shows no EV" "$("$EVCTL" sim status --json --state-dir "$dir")"
run "unplug twice" 1 "$EVCTL" sim unplug SIM001 1 --state-dir "$dir" &&
	contains "unplug twice" "$err" "no EV is plugged in at connector 1 of 'SIM001'"

# --- Faults.
run "fault" 0 "$EVCTL" sim fault SIM002 1 --code GroundFailure --info "water" --state-dir "$dir" &&
	contains "fault" "$out" "Faulted        no EV, 0.0 kW, 0.000 kWh, fault GroundFailure"
status_has "$dir" '"connectorId":1,"status":"Faulted"' SIM002 && ok "fault: status shows Faulted" ||
	not_ok "fault: status shows Faulted" "not Faulted"
run "bad fault code" 2 "$EVCTL" sim fault SIM002 1 --code Fire --state-dir "$dir" &&
	contains "bad fault code" "$err" "--code takes one of OtherError"
run "clear" 0 "$EVCTL" sim clear SIM002 1 --state-dir "$dir" && contains "clear" "$out" "Available"
run "clear twice" 1 "$EVCTL" sim clear SIM002 1 --state-dir "$dir" &&
	contains "clear twice" "$err" "connector 1 of 'SIM002' has no fault to clear"

# --- Bad stations and connectors.
run "bad station" 8 "$EVCTL" sim plug NOPE 1 --state-dir "$dir" &&
	contains "bad station" "$err" "evctl: sim plug: no station 'NOPE' in this sim"
run "bad station in status" 8 "$EVCTL" sim status NOPE --state-dir "$dir" &&
	contains "bad station in status" "$err" "no station 'NOPE'"
run "no such connector" 8 "$EVCTL" sim unplug SIM001 3 --state-dir "$dir" &&
	contains "no such connector" "$err" "station 'SIM001' has no connector 3 (it has 1 to 2)"
run "connector 0" 8 "$EVCTL" sim plug SIM001 0 --state-dir "$dir" && contains "connector 0" "$err" "has no connector 0"
run "token at no such connector" 8 "$EVCTL" sim token SIM001 CARD-1 --connector 5 --state-dir "$dir" &&
	contains "token at no such connector" "$err" "it has 0 (its reader) and 1 to 2"
run "connector not a number" 2 "$EVCTL" sim plug SIM001 one --state-dir "$dir" &&
	contains "connector not a number" "$err" "connector must be a number, not 'one'"
run "missing operand" 2 "$EVCTL" sim plug SIM001 --state-dir "$dir" &&
	contains "missing operand" "$err" "expected STATION CONNECTOR"
run "bad soc" 2 "$EVCTL" sim plug SIM001 1 --soc 120 --state-dir "$dir" &&
	contains "bad soc" "$err" "--soc takes a number from 0 to 100, not '120'"

# --- Stop.
run "stop" 0 "$EVCTL" sim stop --state-dir "$dir" && contains "stop" "$out" "stopped the sim in $dir (pid $pid)"
gone "$pid" && ok "no evstationd left" || not_ok "no evstationd left" "pid $pid still runs"
[ ! -e "$dir/evstationd.sock" ] && ok "control socket removed" || not_ok "control socket removed" "still there"
run "status after stop" 1 "$EVCTL" sim status --state-dir "$dir" && ok "status after stop"
# The stations' state stays for the next start.
run "restart" 0 "$EVCTL" sim start --count 2 --url ws://127.0.0.1:1/ocpp --json --state-dir "$dir" &&
	contains "start --json" "$out" '"stations":["SIM001","SIM002"]'
pid=$(pid_of "$dir")
run "stop --json" 0 "$EVCTL" sim stop --json --state-dir "$dir" && contains "stop --json" "$out" "{\"stopped\":true,\"pid\":$pid}"
gone "$pid" && ok "no evstationd left after restart" || not_ok "no evstationd left after restart" "pid $pid"

# --- evstationd that cannot start: the reason, and nothing left running.
run "start failure" 1 "$EVCTL" sim start --url ws:// --state-dir "$dir" &&
	contains "start failure names the reason" "$err" "evstationd stopped during start-up: 'ws://' is not a URL"
run "nothing after a failed start" 1 "$EVCTL" sim stop --state-dir "$dir" && ok "nothing after a failed start"

# --- Against the strict ocpp-rpc central system: Basic Auth, a plugged EV
# and a token start a transaction; stop ends it with reason Reboot.
modules=${EVCTL_NODE_MODULES:-$top_srcdir/tests/node/node_modules}
if command -v node >/dev/null 2>&1 && [ -d "$modules/ocpp-rpc" ]; then
	NODE_PATH=$modules
	export NODE_PATH
	cat >"$scratch/sim-tx.js" <<'EOF'
module.exports = async (peer, t) => {
	const started = peer.expect('StartTransaction', { reply: { transactionId: 4242, idTagInfo: { status: 'Accepted' } } });
	t.equal(await peer.connected(), 'CP-SIM');
	const start = await started;
	t.equal(start.idTag, 'TAG-SIM');
	t.equal(start.connectorId, 1);
	const stop = await peer.expect('StopTransaction');
	t.equal(stop.transactionId, 4242);
	t.equal(stop.reason, 'Reboot');
};
EOF
	password=sim-test-password-0123
	node "$top_srcdir/tests/node/ocpp-peer.js" --role csms --ocpp 1.6 --port 0 --password "$password" \
		--scenario "$scratch/sim-tx.js" --timeout 60 --log "$scratch/sim.frames" \
		>"$scratch/csms.out" 2>"$scratch/csms.err" &
	csms_pid=$!
	until_ok 20 grep -q READY "$scratch/csms.out" && port=$(awk '/^READY/ { print $2 }' "$scratch/csms.out")
	run "start against the central system" 0 "$EVCTL" sim start --id-pattern CP-SIM --password "$password" \
		--url "ws://127.0.0.1:$port/ocpp" --state-dir "$csms" && ok "start against the central system"
	pid=$(pid_of "$csms")
	until_ok 20 status_has "$csms" '"connected":true' && ok "station connects with Basic Auth" ||
		not_ok "station connects with Basic Auth" "$(cat "$scratch/csms.err" "$csms/sim.log")"
	"$EVCTL" sim plug CP-SIM 1 --state-dir "$csms" >/dev/null &&
		"$EVCTL" sim token CP-SIM TAG-SIM --state-dir "$csms" >/dev/null
	until_ok 20 status_has "$csms" '"transaction":{[^}]*"idTag":"TAG-SIM"[^}]*"transactionId":4242' &&
		ok "plug + token: a transaction, numbered by the central system" ||
		not_ok "plug + token: a transaction, numbered by the central system" "$("$EVCTL" sim status --state-dir "$csms")"
	run "status shows the transaction" 0 "$EVCTL" sim status --state-dir "$csms" &&
		contains "status shows the transaction" "$out" "tag TAG-SIM, transaction 4242"
	run "stop against the central system" 0 "$EVCTL" sim stop --state-dir "$csms" && ok "stop against the central system"
	gone "$pid" && ok "no evstationd left (central system)" || not_ok "no evstationd left (central system)" "pid $pid"
	if wait "$csms_pid"; then ok "central system saw StartTransaction and StopTransaction (Reboot)"; else
		not_ok "central system saw StartTransaction and StopTransaction (Reboot)" "$(cat "$scratch/csms.err")"; fi
	csms_pid=""
	run "frames valid" 0 "$EVCTL" ocpp validate -q "$scratch/sim.frames" && ok "every frame valid against the schemas"
elif [ "${EVCTL_REQUIRE_NODE:-0}" = 1 ]; then
	not_ok "sim against a central system" "node or ocpp-rpc is missing"
else
	echo "# node or ocpp-rpc missing: the sim is not tried against a central system"
fi

finish
