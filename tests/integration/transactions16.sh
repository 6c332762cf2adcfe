#!/bin/sh
# Charging sessions: evstationd with its simulated EV, driven through the
# control socket, against a strict ocpp-rpc central system.
. "${top_srcdir:?}/tests/integration/lib.sh"
: "${EVSTATIOND:?}" "${EVCTL:?}"

EVSTATIOND_CTL=$scratch/ctl.sock
export EVSTATIOND_CTL
start_csms tx "$node_tests/scenarios/station16-tx.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP-TX --connectors 2 --log-level debug \
	--state-dir "$scratch/state" --ctl-socket "$EVSTATIOND_CTL" >"$scratch/station.log" 2>&1 &
station=$!
pids="$pids $station"
if wait "$csms_pid"; then ok "charging sessions"; else not_ok "charging sessions" "$(cat "$scratch/tx.err")"; fi
kill -TERM "$station"
wait "$station" && ok "evstationd exits 0" || not_ok "evstationd exits 0" "status $?"
run "frames valid" 0 "$EVCTL" ocpp validate -q "$scratch/tx.frames" && ok "every frame valid against the schemas"
if [ $failed -ne 0 ]; then echo "--- station log"; grep -v "ocpp \(send\|recv\)" "$scratch/station.log" | grep -v "cannot queue meter" | head -n 40; cat "$scratch/tx.err"; fi
finish
