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
# --- StopTransaction's transactionData (StopTxnSampledData, StopTxnAlignedData).
EVSTATIOND_CTL=$scratch/txdata.sock
start_csms txdata "$node_tests/scenarios/station16-txdata.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP-TXDATA --connectors 2 --log-level debug \
	--state-dir "$scratch/state-txdata" --ctl-socket "$EVSTATIOND_CTL" >"$scratch/station-txdata.log" 2>&1 &
station=$!
pids="$pids $station"
if wait "$csms_pid"; then ok "StopTransaction carries the sampled and clock-aligned readings"; else
	not_ok "StopTransaction carries the sampled and clock-aligned readings" "$(cat "$scratch/txdata.err")"; fi
kill -TERM "$station"; wait "$station"
run "frames valid (txdata)" 0 "$EVCTL" ocpp validate -q "$scratch/txdata.frames" && ok "every frame valid (txdata)"

# --- An outage: a session while the central system is away, replayed after.
start_csms out1 "$node_tests/scenarios/station16-outage-1.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
port=$csms_port
"$EVSTATIOND" --url "ws://127.0.0.1:$port/ocpp" --id CP-OUT --log-level debug \
	--state-dir "$scratch/state-out" --ctl-socket "$scratch/out.sock" >"$scratch/station-out.log" 2>&1 &
station=$!
pids="$pids $station"
if wait "$csms_pid"; then ok "outage: station set up"; else not_ok "outage: station set up" "$(cat "$scratch/out1.err")"; fi
ctl() { node "$node_tests/ctl.js" "$scratch/out.sock" "$1" >/dev/null; }
wait_for "$scratch/station-out.log" "disconnected" 10 && ok "outage: central system gone" || not_ok "outage: central system gone" "still connected"
ctl '{"cmd":"token","id":"OFFLINE-CARD"}' && ctl '{"cmd":"plug","connector":1,"capacityKwh":60,"soc":30}' &&
	ok "outage: offline session started" || not_ok "outage: offline session started" "ctl failed"
sleep 3   # charging while offline: meter values are taken every second
ctl '{"cmd":"token","id":"OFFLINE-CARD"}' && ok "outage: offline session stopped" || not_ok "outage: offline session stopped" "ctl failed"
node "$node_tests/ocpp-peer.js" --role csms --ocpp 1.6 --port "$port" --timeout 60 \
	--scenario "$node_tests/scenarios/station16-outage-2.js" --log "$scratch/out2.frames" \
	>"$scratch/out2.out" 2>"$scratch/out2.err" &
csms_pid=$!
pids="$pids $csms_pid"
if wait "$csms_pid"; then ok "outage: replayed in order with the new transactionId"; else
	not_ok "outage: replayed in order with the new transactionId" "$(cat "$scratch/out2.err")"; fi
kill -TERM "$station"; wait "$station"
run "frames valid (outage)" 0 "$EVCTL" ocpp validate -q "$scratch/out2.frames" && ok "every frame valid (outage)"

# --- kill -9 during a transaction.
STATION_KILL_FILE=$scratch/kill-now EVSTATIOND_CTL=$scratch/crash.sock
export STATION_KILL_FILE EVSTATIOND_CTL
start_csms crash "$node_tests/scenarios/station16-crash.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
crash_station() {
	"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP-CRASH --log-level debug \
		--state-dir "$scratch/state-crash" --ctl-socket "$EVSTATIOND_CTL" >>"$scratch/station-crash.log" 2>&1 &
	station=$!
	pids="$pids $station"
}
crash_station
if wait_for "$STATION_KILL_FILE" now 30; then
	kill -KILL "$station"; wait "$station" 2>/dev/null
	ok "killed -9 while charging"
	crash_station
fi
if wait "$csms_pid"; then ok "after kill -9: ended with PowerLoss, nothing lost or sent twice"; else
	not_ok "after kill -9: ended with PowerLoss, nothing lost or sent twice" "$(cat "$scratch/crash.err")"; fi
kill -TERM "$station"; wait "$station"
run "frames valid (crash)" 0 "$EVCTL" ocpp validate -q "$scratch/crash.frames" && ok "every frame valid (crash)"

# --- Local list, cache, reservations; what the central system set survives a restart.
STATION_RESTART_FILE=$scratch/restart-now EVSTATIOND_CTL=$scratch/auth.sock
export STATION_RESTART_FILE EVSTATIOND_CTL
start_csms auth "$node_tests/scenarios/station16-auth-resv.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
auth_station() {
	"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP-AUTH --log-level debug \
		--state-dir "$scratch/state-auth" --ctl-socket "$EVSTATIOND_CTL" >>"$scratch/station-auth.log" 2>&1 &
	station=$!
	pids="$pids $station"
}
auth_station
if wait_for "$STATION_RESTART_FILE" now 40; then
	kill -TERM "$station"; wait "$station"
	auth_station
fi
if wait "$csms_pid"; then ok "local list, cache, reservations, state kept across a restart"; else
	not_ok "local list, cache, reservations, state kept across a restart" "$(cat "$scratch/auth.err")"; fi
kill -TERM "$station"; wait "$station"
run "frames valid (auth)" 0 "$EVCTL" ocpp validate -q "$scratch/auth.frames" && ok "every frame valid (auth)"

# --- SIGTERM while charging.
STATION_TERM_FILE=$scratch/term-now EVSTATIOND_CTL=$scratch/term.sock
export STATION_TERM_FILE EVSTATIOND_CTL
start_csms term "$node_tests/scenarios/station16-sigterm.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP-TERM --log-level debug \
	--state-dir "$scratch/state-term" --ctl-socket "$EVSTATIOND_CTL" >"$scratch/station-term.log" 2>&1 &
station=$!
pids="$pids $station"
wait_for "$STATION_TERM_FILE" now 30 && kill -TERM "$station"
if wait "$csms_pid"; then ok "SIGTERM while charging: StopTransaction (Reboot) delivered"; else
	not_ok "SIGTERM while charging: StopTransaction (Reboot) delivered" "$(cat "$scratch/term.err")"; fi
wait "$station" && ok "evstationd exits 0 after SIGTERM" || not_ok "evstationd exits 0 after SIGTERM" "status $?"

# --- Firmware management: download, install hook, reboot, diagnostics.
cat >"$scratch/install-firmware" <<'HOOK'
#!/bin/sh
# Test install hook: keeps the image, prints the new version.
cp "$1" "$1.installed" && echo 2.0.0-test
HOOK
chmod +x "$scratch/install-firmware"
start_csms fw "$node_tests/scenarios/station16-firmware.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP-FW --log-level debug \
	--state-dir "$scratch/state-fw" --firmware-hook "$scratch/install-firmware" \
	>"$scratch/station-fw.log" 2>&1 &
station=$!
pids="$pids $station"
if wait "$csms_pid"; then ok "firmware update, reboot, diagnostics"; else
	not_ok "firmware update, reboot, diagnostics" "$(cat "$scratch/fw.err")"; fi
kill -TERM "$station"; wait "$station"
run "frames valid (firmware)" 0 "$EVCTL" ocpp validate -q "$scratch/fw.frames" && ok "every frame valid (firmware)"

# --- Real hardware through external commands (hal = exec).
hw=$scratch/hw
mkdir -p "$hw"
# The "hardware": a customer plugs in and shows a card once the station is
# online (the scenario creates $EXEC_GO_FILE after the boot).
EXEC_GO_FILE=$hw/go
export EXEC_GO_FILE
cat >"$hw/events" <<SCRIPT
#!/bin/sh
until [ -f "$hw/go" ]; do sleep 0.05; done
echo "plug 1"
echo "ready 1"
echo "token 0 EXEC-CARD"
exec sleep 3600
SCRIPT
cat >"$hw/meter" <<SCRIPT
#!/bin/sh
n=\$(cat "$hw/energy" 2>/dev/null || echo 1000)
n=\$((n + 5))
echo \$n >"$hw/energy"
echo "energy_wh=\$n power_w=7000 current_a=10,10,10"
SCRIPT
cat >"$hw/record" <<SCRIPT
#!/bin/sh
echo "\$*" >>"$hw/\$1.log"
SCRIPT
chmod +x "$hw/events" "$hw/meter" "$hw/record"
start_csms exec "$node_tests/scenarios/station16-exec.js" || { not_ok "central system starts" "no READY"; finish; exit 1; }
"$EVSTATIOND" --url "ws://127.0.0.1:$csms_port/ocpp" --id CP-EXEC --connectors 1 --log-level debug \
	--state-dir "$scratch/state-exec" --ctl-socket none --hal exec \
	--events-cmd "$hw/events" --meter-cmd "$hw/meter %c" --meter-interval-ms 500 \
	--contactor-cmd "$hw/record contactor %c %s" --limit-cmd "$hw/record limit %c %v %u" \
	>"$scratch/station-exec.log" 2>&1 &
station=$!
pids="$pids $station"
if wait "$csms_pid"; then ok "external-command hardware: a full session"; else
	not_ok "external-command hardware: a full session" "$(cat "$scratch/exec.err")"; fi
kill -TERM "$station"; wait "$station"
contains "contactor closed, then opened" "$(cat "$hw/contactor.log" 2>/dev/null)" "contactor 1 on
contactor 1 off"
contains "limit command run" "$(cat "$hw/limit.log" 2>/dev/null)" "limit 1 32 A"

if [ $failed -ne 0 ]; then echo "--- station log"; grep -v "ocpp \(send\|recv\)" "$scratch/station.log" | grep -v "cannot queue meter" | head -n 40; cat "$scratch/tx.err"; fi
finish
