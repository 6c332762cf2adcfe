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
