#!/bin/sh
# OCPP 1.6 security profiles between evstationd and a strict ocpp-rpc central
# system: 1 (Basic Auth over ws), 2 (TLS, server verified against our CA, plus
# Basic Auth) and 3 (TLS with a client certificate whose CN is the station id).
. "${top_srcdir:?}/tests/integration/lib.sh"
: "${EVSTATIOND:?}" "${EVCTL:?}"
command -v openssl >/dev/null 2>&1 || { echo "openssl not installed"; exit 77; }

# Certificates, made fresh: a CA, a server certificate for 127.0.0.1, a client
# certificate for station CP-SP3, and a second CA nobody trusts.
pki=$scratch/pki
mkdir -p "$pki"
mkcert() { # NAME CN ISSUER [EXTFILE]
	openssl req -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$2" 2>/dev/null &&
	openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$3.pem" -CAkey "$pki/$3.key" -CAcreateserial \
		-out "$pki/$1.pem" -days 2 ${4:+-extfile "$4"} 2>/dev/null
}
for ca in ca rogue; do
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/$ca.key" -out "$pki/$ca.pem" -days 2 \
		-subj "/CN=evctl test $ca" 2>/dev/null
done
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$pki/san.ext"
mkcert server 127.0.0.1 ca "$pki/san.ext" && mkcert rogue-server 127.0.0.1 rogue "$pki/san.ext" &&
	mkcert client CP-SP3 ca || { not_ok "certificates" "openssl failed"; finish; exit 1; }
ok "test certificates made"

# station NAME URL ID [SETTINGS...]: starts evstationd, remembers its pid.
station() {
	name=$1 url=$2 id=$3
	shift 3
	"$EVSTATIOND" --url "$url" --id "$id" --log-level info "$@" >"$scratch/$name.station.log" 2>&1 &
	station_pid=$!
	pids="$pids $station_pid"
}
# expect NAME: the central system's scenario passed.
expect_pass() {
	if wait "$csms_pid"; then ok "$1"; else not_ok "$1" "$(cat "$scratch/$2.err")"; tail -n 5 "$scratch/$2.station.log"; fi
	kill "$station_pid" 2>/dev/null; wait "$station_pid" 2>/dev/null
}

scen=$node_tests/scenarios
# profile 1: Basic Auth.
node "$node_tests/ocpp-peer.js" --role csms --ocpp 1.6 --port 0 --password s3cret-pw \
	--scenario "$scen/station16-boot.js" --timeout 20 >"$scratch/sp1b.out" 2>"$scratch/sp1b.err" &
csms_pid=$!; pids="$pids $csms_pid"
wait_for "$scratch/sp1b.out" READY 20; port=$(awk '/^READY/ { print $2 }' "$scratch/sp1b.out")
station sp1b "ws://127.0.0.1:$port/ocpp" CP-SP1 --password s3cret-pw
expect_pass "profile 1: Basic Auth accepted" sp1b

node "$node_tests/ocpp-peer.js" --role csms --ocpp 1.6 --port 0 --password s3cret-pw \
	--scenario "$scen/station16-refused.js" --timeout 20 >"$scratch/sp1w.out" 2>"$scratch/sp1w.err" &
csms_pid=$!; pids="$pids $csms_pid"
wait_for "$scratch/sp1w.out" READY 20; port=$(awk '/^READY/ { print $2 }' "$scratch/sp1w.out")
station sp1w "ws://127.0.0.1:$port/ocpp" CP-SP1 --password wrong-pw
expect_pass "profile 1: wrong password refused, station retries" sp1w

# AuthorizationKey rotation, and the new key kept across a restart.
node "$node_tests/ocpp-peer.js" --role csms --ocpp 1.6 --port 0 --password first-key-0123456789 \
	--scenario "$scen/station16-rekey.js" --timeout 20 >"$scratch/rekey.out" 2>"$scratch/rekey.err" &
csms_pid=$!; pids="$pids $csms_pid"
wait_for "$scratch/rekey.out" READY 20; port=$(awk '/^READY/ { print $2 }' "$scratch/rekey.out")
station rekey "ws://127.0.0.1:$port/ocpp" CP-KEY --password first-key-0123456789 --state-dir "$scratch/state-key"
expect_pass "AuthorizationKey rotated: the station reconnects with the new key" rekey
node "$node_tests/ocpp-peer.js" --role csms --ocpp 1.6 --port 0 --password new-key-0123456789ab \
	--scenario "$scen/station16-boot.js" --timeout 20 >"$scratch/rekey2.out" 2>"$scratch/rekey2.err" &
csms_pid=$!; pids="$pids $csms_pid"
wait_for "$scratch/rekey2.out" READY 20; port=$(awk '/^READY/ { print $2 }' "$scratch/rekey2.out")
station rekey2 "ws://127.0.0.1:$port/ocpp" CP-KEY --password first-key-0123456789 --state-dir "$scratch/state-key"
expect_pass "the new key survives a restart (and wins over the configured password)" rekey2

# tls_csms NAME SCENARIO CERT [CA_FOR_CLIENTS] [PASSWORD]
tls_csms() {
	node "$node_tests/ocpp-peer.js" --role csms --ocpp 1.6 --port 0 --scenario "$2" --timeout 20 \
		--tls-cert "$pki/$3.pem" --tls-key "$pki/$3.key" ${4:+--tls-ca "$pki/$4.pem"} \
		${5:+--password "$5"} --log "$scratch/$1.frames" >"$scratch/$1.out" 2>"$scratch/$1.err" &
	csms_pid=$!; pids="$pids $csms_pid"
	wait_for "$scratch/$1.out" READY 20; port=$(awk '/^READY/ { print $2 }' "$scratch/$1.out")
}

tls_csms sp2 "$scen/station16-boot.js" server "" s3cret-pw
station sp2 "wss://127.0.0.1:$port/ocpp" CP-SP2 --ca-file "$pki/ca.pem" --password s3cret-pw
expect_pass "profile 2: TLS with server verification and Basic Auth" sp2

tls_csms sp2r "$scen/station16-no-tls-peer.js" rogue-server
station sp2r "wss://127.0.0.1:$port/ocpp" CP-SP2 --ca-file "$pki/ca.pem"
expect_pass "profile 2: a server signed by an unknown CA is refused" sp2r

tls_csms sp3 "$scen/station16-boot.js" server ca
station sp3 "wss://127.0.0.1:$port/ocpp" CP-SP3 --ca-file "$pki/ca.pem" \
	--cert-file "$pki/client.pem" --key-file "$pki/client.key"
expect_pass "profile 3: client certificate accepted" sp3

tls_csms sp3w "$scen/station16-refused.js" server ca
station sp3w "wss://127.0.0.1:$port/ocpp" CP-OTHER --ca-file "$pki/ca.pem" \
	--cert-file "$pki/client.pem" --key-file "$pki/client.key"
expect_pass "profile 3: a certificate for another station id is refused" sp3w

for f in "$scratch"/*.frames; do
	"$EVCTL" ocpp validate -q "$f" >/dev/null || not_ok "frames valid ($(basename "$f"))" "invalid frames"
done
finish
