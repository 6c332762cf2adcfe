#!/bin/sh
# evstationd as OCPP 1.6 station against an independent, strict central
# system (ocpp-rpc); every frame exchanged is checked against the schemas.
. "${top_srcdir:?}/tests/integration/lib.sh"
: "${EVSTATIOND:?}" "${EVCTL:?}"

start_csms core "$node_tests/scenarios/station16-core.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP001 --log-level debug \
	--state-dir "$scratch/state" >"$scratch/station.log" 2>&1 &
station=$!
pids="$pids $station"
if wait "$csms_pid"; then ok "core scenario"; else not_ok "core scenario" "$(cat "$scratch/core.err")"; fi
# libcurl (and what it links) waits for the first transfer.
if grep -q libcurl "/proc/$station/maps"; then not_ok "libcurl not loaded without a transfer" "mapped"
else ok "libcurl not loaded without a transfer"; fi
kill -TERM "$station"
if wait "$station"; then ok "evstationd exits 0 on SIGTERM"; else not_ok "evstationd exits 0 on SIGTERM" "status $?"; fi
run "frames valid" 0 "$EVCTL" ocpp validate -q "$scratch/core.frames" && ok "every frame valid against the schemas"
n=$(wc -l <"$scratch/core.frames")
[ "$n" -ge 14 ] && ok "frames logged ($n)" || not_ok "frames logged" "only $n"

# Configuration keys and smart charging.
start_csms config "$node_tests/scenarios/station16-config-sc.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP002 --log-level debug \
	--state-dir "$scratch/state2" >"$scratch/station2.log" 2>&1 &
station=$!
pids="$pids $station"
if wait "$csms_pid"; then ok "configuration and smart-charging scenario"; else
	not_ok "configuration and smart-charging scenario" "$(cat "$scratch/config.err")"; fi
kill -TERM "$station"; wait "$station"
run "frames valid (config)" 0 "$EVCTL" ocpp validate -q "$scratch/config.frames" && ok "every frame valid (config)"

# Live changes: WebSocketPingInterval, and SIGHUP reloading the config file.
STATION_HUP_FILE=$scratch/hup
export STATION_HUP_FILE
conf=$scratch/live.conf
write_conf() { # PING LOG-LEVEL CONNECTORS
	printf 'id = CP-LIVE\nstate-dir = %s\nctl-socket = none\nping-interval = %s\nlog-level = %s\nconnectors = %s\n' \
		"$scratch/state-live" "$1" "$2" "$3" >"$conf"
}
start_csms live "$node_tests/scenarios/station16-live.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
write_conf 60 info 2
"$EVSTATIOND" -c "$conf" --url "ws://127.0.0.1:$csms_port/ocpp" >"$scratch/station-live.log" 2>&1 &
station=$!
pids="$pids $station"
# Each time the scenario asks: a new file, then SIGHUP.
(
	wait_for "$STATION_HUP_FILE.1" now 30 && write_conf 1 debug 3 && kill -HUP "$station"
	wait_for "$STATION_HUP_FILE.2" now 60 && write_conf 60 debug 3 && kill -HUP "$station"
	wait_for "$STATION_HUP_FILE.3" now 60 && printf 'ping-interval = often\n' >"$conf" && kill -HUP "$station"
) &
pids="$pids $!"
if wait "$csms_pid"; then ok "ping interval changed live (ChangeConfiguration, SIGHUP)"; else
	not_ok "ping interval changed live (ChangeConfiguration, SIGHUP)" "$(cat "$scratch/live.err")"; fi
kill -TERM "$station"; wait "$station"
log=$(cat "$scratch/station-live.log")
contains "SIGHUP: what was applied" "$log" "reload: ping-interval is now 1"
contains "SIGHUP: log level applied" "$log" "reload: log-level is now debug"
contains "SIGHUP: what needs a restart" "$log" "reload: connectors changed; it takes effect after a restart"
contains "SIGHUP: summary" "$log" "reloaded $conf: applied ping-interval, log-level; needs a restart: connectors"
contains "SIGHUP: the central system's value stays" "$log" "keeping the central system's WebSocketPingInterval 1"
contains "SIGHUP: a bad file is refused" "$log" "reload failed, keeping the settings in force: $conf:1:"
before=$(sed -n '1,/reloaded /p' "$scratch/station-live.log" | grep -c '\[debug\]')
after=$(sed -n '/reloaded /,$p' "$scratch/station-live.log" | grep -c '\[debug\]')
[ "$before" -eq 0 ] && [ "$after" -gt 0 ] && ok "debug lines only after the reload" ||
	not_ok "debug lines only after the reload" "$before before, $after after"
run "frames valid (live)" 0 "$EVCTL" ocpp validate -q "$scratch/live.frames" && ok "every frame valid (live)"

# A central system that sends garbage.
start_csms bad "$node_tests/scenarios/station16-bad-input.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP-BAD --log-level info \
	--state-dir "$scratch/state-bad" >"$scratch/station-bad.log" 2>&1 &
station=$!
pids="$pids $station"
if wait "$csms_pid"; then ok "bad input: right CALLERRORs, hang-up on oversize, reconnect, flood"; else
	not_ok "bad input: right CALLERRORs, hang-up on oversize, reconnect, flood" "$(cat "$scratch/bad.err")"; fi
kill -TERM "$station"
wait "$station" && ok "evstationd survived the garbage" || not_ok "evstationd survived the garbage" "status $?"

# A bad setting is refused before anything starts.
run "bad url" 3 "$EVSTATIOND" --url "http://x/ocpp" && contains "bad url says why" "$err" "scheme must be ws or wss"
run "unknown setting" 2 "$EVSTATIOND" --colour red && contains "unknown setting" "$err" "unknown option '--colour'"
printf 'url = ws://127.0.0.1:1/ocpp\nconnectors = 99\n' >"$scratch/bad.conf"
run "bad config file" 3 "$EVSTATIOND" -c "$scratch/bad.conf" --check-config &&
	contains "config error names file:line" "$err" "bad.conf:2: 'connectors' must be an integer from 1 to 64, not '99'"
printf 'url = ws://127.0.0.1:1/ocpp\nconnectors = 4\n' >"$scratch/good.conf"
run "good config file" 0 "$EVSTATIOND" -c "$scratch/good.conf" --check-config && ok "good config file accepted"
if [ $failed -ne 0 ]; then
	for f in "$scratch"/station*.log; do echo "--- $f"; tail -n 30 "$f"; done
fi
finish
