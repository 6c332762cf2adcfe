#!/bin/sh
# The operator's whole path with real processes: evctl serve, evstationd
# stations (through evctl sim, and directly over wss with security profiles
# 2 and 3), and the evctl commands an operator types.
. "${top_srcdir:?}/tests/integration/lib.sh"
: "${EVCTL:?}" "${EVSTATIOND:?}"

start_serve cs || { not_ok "evctl serve starts" "$(cat "$scratch/cs.err")"; finish; exit 1; }
sim="--state-dir $scratch/sim"
# until_ok SECONDS CMD...: retries CMD until it succeeds.
until_ok() {
	deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}
has() { "$EVCTL" "$@" 2>/dev/null | grep -q -- "$want"; }

run "stations add" 0 "$EVCTL" stations add SIM001 && contains "station added" "$out" "station 'SIM001' added"
run "stations add 2" 0 "$EVCTL" stations add SIM002
run "tokens add" 0 "$EVCTL" tokens add TAG-1
"$EVCTL" watch --json >"$scratch/watch.out" 2>"$scratch/watch.err" &
watch_pid=$!
pids="$pids $watch_pid"
run "sim start" 0 "$EVCTL" sim start --count 2 --url "$serve_ocpp" $sim
want=SIM002
until_ok 20 has stations list --connected && ok "simulated stations connected" || not_ok "simulated stations connected" "$("$EVCTL" stations list)"

# A remotely started session, to its end.
run "config set" 0 "$EVCTL" config set SIM001 MeterValueSampleInterval 1 && contains "config set answered" "$out" "Accepted"
run "config get" 0 "$EVCTL" config get SIM001 MeterValueSampleInterval && contains "config get shows the value" "$out" "1"
run "remote start" 0 "$EVCTL" start SIM001 TAG-1 --connector 1 && contains "start accepted" "$out" "SIM001: start Accepted"
run "plug in" 0 "$EVCTL" sim plug SIM001 1 --soc 20 --capacity 40 $sim
want=active
until_ok 20 has sessions list --station SIM001 && ok "session started" || not_ok "session started" "$("$EVCTL" sessions list)"
session=$("$EVCTL" sessions list --active --json | sed -n 's/.*"id": *\([0-9][0-9]*\).*/\1/p' | head -n 1)
want=Sample.Periodic
until_ok 20 has sessions show "$session" && ok "meter values arrive" || not_ok "meter values arrive" "$("$EVCTL" sessions show "$session")"
run "stop" 0 "$EVCTL" stop SIM001 --session "$session" && contains "stop accepted" "$out" "Accepted"
want=completed
until_ok 20 has sessions show "$session" && ok "session completed" || not_ok "session completed" "$("$EVCTL" sessions show "$session")"
run "session json" 0 "$EVCTL" sessions show "$session" --json
contains "stop reason Remote" "$out" '"stop_reason":"Remote"'
energy=$(printf '%s' "$out" | sed -n 's/.*"energy_wh": *\([0-9][0-9]*\).*/\1/p' | head -n 1)
[ "${energy:-0}" -gt 0 ] && ok "energy recorded ($energy Wh)" || not_ok "energy recorded" "$energy"
run "sim unplug" 0 "$EVCTL" sim unplug SIM001 1 $sim

# A local session: the EV is plugged in and a card is shown.
run "plug in 2" 0 "$EVCTL" sim plug SIM002 2 $sim
run "card" 0 "$EVCTL" sim token SIM002 TAG-1 --connector 2 $sim
want=TAG-1
until_ok 20 has sessions list --station SIM002 --active && ok "local session started by a card" ||
	not_ok "local session started by a card" "$("$EVCTL" sessions list)"
run "unplug 2" 0 "$EVCTL" sim unplug SIM002 2 --force $sim
want=completed
until_ok 20 has sessions list --station SIM002 && ok "local session ended by unplugging" ||
	not_ok "local session ended by unplugging" "$("$EVCTL" sessions list --station SIM002)"

# Other operations against a real station.
run "availability" 0 "$EVCTL" availability SIM002 1 off && contains "availability" "$out" "Accepted"
want=Unavailable
until_ok 10 has status SIM002 && ok "connector shown Unavailable" || not_ok "connector shown Unavailable" "$("$EVCTL" status SIM002)"
run "trigger" 0 "$EVCTL" trigger SIM002 heartbeat && contains "trigger" "$out" "Accepted"
run "unknown key" 1 "$EVCTL" config set SIM002 NoSuchKey 1 && contains "station says NotSupported" "$out" "NotSupported"
run "reset" 0 "$EVCTL" reset SIM002 && contains "reset" "$out" "Accepted"
run "composite" 0 "$EVCTL" profile composite SIM001 1 --duration 600 && contains "composite schedule" "$out" "Accepted"
run "audit" 0 "$EVCTL" audit --station SIM001 && contains "audit lists operations" "$out" "config-set"

# The event stream saw it all.
kill "$watch_pid" 2>/dev/null
for ev in station.connected station.boot status session.started meter session.stopped; do
	contains "watch: $ev" "$(cat "$scratch/watch.out")" "\"$ev\""
done

# Offline and unknown stations: clear errors and exit statuses.
run "sim stop" 0 "$EVCTL" sim stop $sim
want=no
until_ok 10 sh -c "\"$EVCTL\" stations show SIM001 --json | grep -q '\"connected\": *false'" &&
	ok "stations shown disconnected" || not_ok "stations shown disconnected" "$("$EVCTL" stations show SIM001)"
run "offline" 7 "$EVCTL" reset SIM001 && contains "offline says so" "$err" "not connected"
run "unknown station" 8 "$EVCTL" reset NOPE && contains "unknown says so" "$err" "not found"
stop_serve
run "no server" 6 "$EVCTL" stations list

# Security profiles 2 and 3: TLS, Basic Auth, client certificates.
if command -v openssl >/dev/null 2>&1; then
	pki=$scratch/pki
	mkdir -p "$pki"
	mkcert() { # NAME CN
		openssl req -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$2" 2>/dev/null &&
		openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
			-out "$pki/$1.pem" -days 2 ${3:+-extfile "$3"} 2>/dev/null
	}
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 \
		-subj "/CN=evctl test ca" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$pki/san.ext"
	mkcert server 127.0.0.1 "$pki/san.ext" && mkcert client SP3-A && mkcert other SP3-OTHER ||
		{ not_ok "certificates" "openssl failed"; finish; exit 1; }

	start_serve tls --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" ||
		{ not_ok "evctl serve with TLS starts" "$(cat "$scratch/tls.err")"; finish; exit 1; }
	contains "wss:// URL" "$serve_ocpp" "wss://127.0.0.1:"
	printf '0123456789abcdef0123\n' | "$EVCTL" stations add SP2-A --password-stdin >/dev/null
	"$EVSTATIOND" --url "$serve_ocpp" --id SP2-A --ca-file "$pki/ca.pem" --password 0123456789abcdef0123 \
		--state-dir "$scratch/sp2" >"$scratch/sp2.log" 2>&1 &
	sp2=$!
	pids="$pids $sp2"
	want='"registration": "accepted"'
	until_ok 20 sh -c "\"$EVCTL\" stations show SP2-A --json | grep -q '\"connected\": *true'" &&
		ok "profile 2: TLS and Basic Auth" || not_ok "profile 2: TLS and Basic Auth" "$(tail -n 5 "$scratch/sp2.log")"
	kill "$sp2"; wait "$sp2" 2>/dev/null
	stop_serve

	start_serve tls3 --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-ca "$pki/ca.pem" ||
		{ not_ok "evctl serve with client certificates starts" "$(cat "$scratch/tls3.err")"; finish; exit 1; }
	"$EVCTL" stations add SP3-A >/dev/null
	"$EVSTATIOND" --url "$serve_ocpp" --id SP3-A --ca-file "$pki/ca.pem" --cert-file "$pki/client.pem" \
		--key-file "$pki/client.key" --state-dir "$scratch/sp3" >"$scratch/sp3.log" 2>&1 &
	sp3=$!
	pids="$pids $sp3"
	until_ok 20 sh -c "\"$EVCTL\" stations show SP3-A --json | grep -q '\"connected\": *true'" &&
		ok "profile 3: client certificate for the station's id" || not_ok "profile 3: client certificate" "$(tail -n 5 "$scratch/sp3.log")"
	kill "$sp3"; wait "$sp3" 2>/dev/null
	"$EVCTL" stations add SP3-B >/dev/null
	"$EVSTATIOND" --url "$serve_ocpp" --id SP3-B --ca-file "$pki/ca.pem" --cert-file "$pki/other.pem" \
		--key-file "$pki/other.key" --state-dir "$scratch/sp3b" >"$scratch/sp3b.log" 2>&1 &
	sp3b=$!
	pids="$pids $sp3b"
	until_ok 20 grep -q "client certificate is for 'SP3-OTHER'" "$scratch/tls3.err" &&
		ok "profile 3: a certificate for another id is refused" || not_ok "profile 3: a certificate for another id is refused" "$(tail -n 5 "$scratch/tls3.err")"
	contains "and the station stays out" "$("$EVCTL" stations show SP3-B --json)" '"connected":false'
	kill "$sp3b"; wait "$sp3b" 2>/dev/null
	stop_serve
else
	echo "# openssl not installed: TLS not exercised"
fi
finish
