#!/bin/sh
# evctl serve against independent OCPP 1.6 stations (ocpp-rpc, strict):
# every handler, every API operation, admission, durability. Every frame the
# server sends is checked against the official schemas.
. "${top_srcdir:?}/tests/integration/lib.sh"
: "${EVCTL:?}"

start_serve cs --admission known --message-log || { not_ok "evctl serve starts" "$(cat "$scratch/cs.err")"; finish; exit 1; }
ok "evctl serve starts and prints where it listens"

# Health needs no token; everything else does.
contains "health without a token" "$(node "$node_tests/api.js" GET /health)" '"status":"ok"'
r=$(EVCTL_TOKEN=wrong node "$node_tests/api.js" GET /stations)
contains "a wrong token is refused" "$r" '401 {"error":{"code":"unauthorized"'
node "$node_tests/api.js" POST /stations '{"id":"SERVE-1B"}' >/dev/null
r=$(node "$node_tests/api.js" POST /stations '{"id":"SERVE-1"}')
contains "station registered" "$r" '201 {"id":"SERVE-1"'
r=$(node "$node_tests/api.js" POST /stations '{"id":"SERVE-1"}')
contains "registering twice is a conflict" "$r" '409 {"error":{"code":"conflict"'
node "$node_tests/api.js" POST /tokens '{"id_tag":"TAG-OK","parent_id_tag":"PARENT-1"}' >/dev/null
node "$node_tests/api.js" POST /tokens '{"id_tag":"TAG-BLOCKED","status":"Blocked"}' >/dev/null
r=$(node "$node_tests/api.js" POST /tokens '{"id_tag":"TAG-OLD","expiry":"2020-01-01T00:00:00Z"}')
contains "token with an expiry" "$r" '"expiry":"2020-01-01T00:00:00Z"'

# The whole 1.6 surface, from a strict station.
if run_station core SERVE-1 "$node_tests/scenarios/serve16-core.js"; then ok "1.6 handlers, operations, events"
else not_ok "1.6 handlers, operations, events" "$(tail -n 20 "$scratch/core.err")"; fi
run "frames valid (serve)" 0 "$EVCTL" ocpp validate -q "$scratch/core.frames" && ok "every frame valid against the schemas"
r=$(node "$node_tests/api.js" GET '/stations/SERVE-1/messages?limit=10000')
contains "message log: what the station sent" "$r" '"direction":"in","text":"[2,'
contains "message log: what the station was sent" "$r" '"direction":"out","text":"[3,'
contains "message log: the boot" "$r" 'BootNotification'
run "stations messages" 0 "$EVCTL" stations messages SERVE-1 --limit 2 && contains "evctl stations messages" "$out" "out "

# Bad frames; the oversized one closes the connection and nothing else.
start_station other SERVE-1B "$node_tests/scenarios/serve16-replaced.js"
other=$station_pid
node "$node_tests/api.js" POST /stations '{"id":"SERVE-BAD"}' >/dev/null
if run_station bad SERVE-BAD "$node_tests/scenarios/serve16-bad.js"; then ok "bad frames: right CALLERRORs, flood answered, oversize closes"
else not_ok "bad frames: right CALLERRORs, flood answered, oversize closes" "$(tail -n 5 "$scratch/bad.err")"; fi
contains "the other station is still connected" "$(node "$node_tests/api.js" GET /stations/SERVE-1B)" '"connected":true'
kill "$other" 2>/dev/null

# Admission: unknown ids, passwords (refused at the handshake).
refused() {  # NAME ID HTTP-STATUS [PEER-OPTION...]
	rname=$1 rid=$2 rstatus=$3
	shift 3
	if run_station "$rname" "$rid" "$node_tests/scenarios/serve16-boot.js" "$@"; then
		not_ok "$rname: refused" "it got in"
	else
		contains "$rname: refused with HTTP $rstatus" "$(cat "$scratch/$rname.err")" "HTTP $rstatus"
	fi
}
refused unknown NOBODY 404
r=$(node "$node_tests/api.js" POST /stations '{"id":"SERVE-PW","password":"0123456789abcdef0123"}')
contains "station with a password" "$r" '"has_password":true'
refused nopw SERVE-PW 401
refused badpw SERVE-PW 401 --password wrongwrongwrongwrong
run_station goodpw SERVE-PW "$node_tests/scenarios/serve16-boot.js" --password 0123456789abcdef0123 &&
	ok "right password: accepted" || not_ok "right password: accepted" "$(tail -n 5 "$scratch/goodpw.err")"
run_station goodpw2 SERVE-PW "$node_tests/scenarios/serve16-boot.js" --password 0123456789abcdef0123 &&
	ok "right password again (remembered)" || not_ok "right password again (remembered)" "$(tail -n 5 "$scratch/goodpw2.err")"
if grep -q "0123456789abcdef0123" "$scratch/cs/evctl.db" "$scratch/cs/evctl.db-wal" 2>/dev/null; then
	not_ok "the password is not stored in the clear" "found in the store"
else
	ok "the password is not stored in the clear"
fi

# A second connection for the same id replaces the first.
start_station first SERVE-1 "$node_tests/scenarios/serve16-replaced.js"
first=$station_pid
wait_for "$scratch/first.out" READY 10
run_station second SERVE-1 "$node_tests/scenarios/serve16-boot.js" && ok "second connection accepted" ||
	not_ok "second connection accepted" "$(tail -n 5 "$scratch/second.err")"
wait "$first" && ok "the first connection was closed" || not_ok "the first connection was closed" "$(tail -n 5 "$scratch/first.err")"

# Auto-registration: unknown ids come in Pending, and are accepted later.
stop_serve
start_serve auto --admission auto || { not_ok "evctl serve --admission auto starts" "$(cat "$scratch/auto.err")"; finish; exit 1; }
if run_station pending NEW-1 "$node_tests/scenarios/serve16-pending.js"; then ok "auto-registered station is Pending, then Accepted"
else not_ok "auto-registered station is Pending, then Accepted" "$(tail -n 20 "$scratch/pending.err")"; fi
# Stopped with a station connected (under the sanitizers this is where a
# connection freed twice would show).
start_station held NEW-1 "$node_tests/scenarios/serve16-replaced.js"
held=$station_pid
wait_for "$scratch/held.out" READY 10
n=0
until node "$node_tests/api.js" GET /stations/NEW-1 | grep -q '"connected":true' || [ $n -ge 100 ]; do
	n=$((n + 1))
	sleep 0.1
done
stop_serve && ok "SIGTERM stops evctl serve with status 0, stations connected" ||
	not_ok "SIGTERM stops evctl serve with status 0, stations connected" "status $?; $(tail -n 20 "$scratch/auto.err")"
wait "$held" && ok "the connected station saw the server go" || not_ok "the connected station saw the server go" "$(tail -n 5 "$scratch/held.err")"

# Bad command lines and configuration files.
run "unknown option" 2 "$EVCTL" serve --bogus && contains "unknown option named" "$err" "bogus"
printf 'listen = 127.0.0.1:0\ncolour = red\n' >"$scratch/bad.conf"
run "bad config file" 3 "$EVCTL" serve --config "$scratch/bad.conf" && contains "config error names file:line" "$err" "bad.conf:2: unknown setting 'colour'"
run "bad listen" 2 "$EVCTL" serve --listen nowhere && contains "bad listen says why" "$err" "expected ADDRESS:PORT"
finish
