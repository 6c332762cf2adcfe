#!/bin/sh
# evctl's operator commands against a fake of evctl serve's REST API
# (tests/cli/fake-api.js, which follows doc/API.md): the requests they send
# (method, path, JSON body, bearer token), where server and token come from
# (options, environment, config file, token file), and how answers and
# errors are shown (tables, --json, messages, exit statuses). The real
# server is tested end to end elsewhere.
. "${top_srcdir:?}/tests/cli/lib.sh"
: "${EVCTL:?}"

if ! command -v node >/dev/null 2>&1; then
	echo "node is not installed: API client tests skipped"
	[ "${EVCTL_REQUIRE_NODE:-0}" = 1 ] && exit 1
	exit 77
fi

# Nothing from the user's environment: no proxy, no config, no token file.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY \
	EVCTL_SERVER EVCTL_TOKEN
HOME=$scratch/home XDG_CONFIG_HOME=$scratch/config XDG_STATE_HOME=$scratch/state
export HOME XDG_CONFIG_HOME XDG_STATE_HOME
mkdir -p "$HOME" "$XDG_CONFIG_HOME/evctl" "$XDG_STATE_HOME/evctl"
config=$XDG_CONFIG_HOME/evctl/config

log=$scratch/requests.log
: >"$scratch/fake.out"    # before the background job's own redirection
node "$top_srcdir/tests/cli/fake-api.js" --token secret-1 --log "$log" >"$scratch/fake.out" 2>"$scratch/fake.err" &
fake=$!
trap 'kill $fake 2>/dev/null; rm -rf "$scratch"' EXIT

# Ready when it says so (polled, with a deadline).
port=
i=0
while [ $i -lt 100 ] && kill -0 $fake 2>/dev/null; do
	port=$(sed -n 's/^listening //p' "$scratch/fake.out")
	[ -n "$port" ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$port" ]; then
	echo "fake API did not start: $(cat "$scratch/fake.err")"
	exit 1
fi
server=http://127.0.0.1:$port
closed=http://127.0.0.1:1    # nothing listens there
EVCTL_SERVER=$server EVCTL_TOKEN=secret-1
export EVCTL_SERVER EVCTL_TOKEN

# sent NAME METHOD PATH BODY: the last request was exactly this, with the
# test's token (BODY null: none).
sent() {
	if [ "$4" = null ]; then type=null; else type='"application/json"'; fi
	want="{\"method\":\"$2\",\"path\":\"$3\",\"auth\":\"Bearer secret-1\",\"type\":$type,\"body\":$4}"
	got=$(tail -n 1 "$log")
	[ "$got" = "$want" ] && ok "$1" || not_ok "$1" "sent $got, wanted $want"
}

# run_in NAME WANT INPUT CMD...: run with INPUT on standard input.
run_in() {
	name=$1 want=$2 input=$3
	shift 3
	printf '%s\n' "$input" >"$scratch/in"
	"$@" >"$scratch/out" 2>"$scratch/err" <"$scratch/in"
	status=$?
	out=$(cat "$scratch/out")
	err=$(cat "$scratch/err")
	[ "$status" -eq "$want" ] && return 0
	not_ok "$name" "exit status $status, wanted $want; stderr: $err"
	return 1
}

# ---------------------------------------------------------------- where to connect

run "env server and token" 0 "$EVCTL" stations list && sent "env server and token" GET /api/v1/stations null
run "options beat the environment" 0 env EVCTL_SERVER=$closed EVCTL_TOKEN=wrong \
	"$EVCTL" stations list --server "$server" --token secret-1 &&
	sent "options beat the environment" GET /api/v1/stations null
printf '# operator settings\nserver = %s\ntoken = wrong\n' "$closed" >"$config"
run "environment beats the config file" 0 "$EVCTL" status && ok "environment beats the config file"
printf 'server = %s/\ntoken = "secret-1"   # quoted\n' "$server" >"$config"
run "config file" 0 env -u EVCTL_SERVER -u EVCTL_TOKEN "$EVCTL" status CP-001 &&
	sent "config file: server (trailing slash) and token" GET /api/v1/stations/CP-001 null
run "config file token, server option" 0 env -u EVCTL_SERVER -u EVCTL_TOKEN \
	"$EVCTL" status --server "$server" && ok "config file token, server option"
printf 'server = %s\nbogus = 1\n' "$server" >"$config"
run "config file error" 3 env -u EVCTL_TOKEN "$EVCTL" status --server "$server" &&
	contains "config file error names file:line" "$err" "evctl: $config:2: unknown option 'bogus'"
rm "$config"

printf 'secret-1\n' >"$XDG_STATE_HOME/evctl/api-token"
run "local token file" 0 env -u EVCTL_TOKEN "$EVCTL" stations list &&
	sent "local token file" GET /api/v1/stations null
run "token file only for this machine" 6 env -u EVCTL_TOKEN "$EVCTL" stations list \
	--server "http://127.0.0.1@127.0.0.1:$port" && {
	! tail -n 1 "$log" | grep -q Bearer && ok "token file only for this machine" ||
		not_ok "token file only for this machine" "$(tail -n 1 "$log")"
}
rm "$XDG_STATE_HOME/evctl/api-token"
run "no token" 6 env -u EVCTL_TOKEN "$EVCTL" stations list && {
	contains "no token: says so" "$err" "evctl: $server wants a token: use --token, EVCTL_TOKEN or 'token =' in $config"
	contains "no token: names the token file" "$err" "$XDG_STATE_HOME/evctl/api-token"
}
run "wrong token" 6 "$EVCTL" stations list --token nope &&
	contains "wrong token" "$err" "evctl: $server refused the token from --token"
run "unreachable" 6 "$EVCTL" stations list --server "$closed" &&
	contains "unreachable" "$err" "evctl: cannot reach $closed:"
run "token with a line break" 2 "$EVCTL" stations list --token "$(printf 'a\nb')" &&
	contains "token with a line break" "$err" "not printable ASCII"

# ---------------------------------------------------------------- stations

run "stations list" 0 "$EVCTL" stations list && {
	contains "stations list: header" "$out" "ID       CONNECTED  OCPP  REGISTRATION  VENDOR  MODEL  FIRMWARE  LAST SEEN"
	contains "stations list: row" "$out" "CP-001   yes        1.6   accepted      evctl   sim    1.2.0     2026-11-22T10:05:00Z"
	contains "stations list: nulls" "$out" "CP-002   no         1.6   unknown       -       -      -         -"
}
run "stations list --connected" 0 "$EVCTL" stations list --connected &&
	sent "stations list --connected" GET "/api/v1/stations?connected=true" null
run "stations list --disconnected" 0 "$EVCTL" stations list --disconnected && {
	sent "stations list --disconnected" GET "/api/v1/stations?connected=false" null
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] && ok "stations list: filtered" || not_ok "stations list: filtered" "$out"
}
run "stations list --json" 0 "$EVCTL" stations list --json && {
	contains "stations list --json: the API's answer" "$out" '{"stations":[{"id":"CP-001","connected":true,'
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && ok "--json: one line when not a terminal" ||
		not_ok "--json: one line when not a terminal" "$out"
}
run "stations show" 0 "$EVCTL" stations show CP-001 && {
	sent "stations show" GET /api/v1/stations/CP-001 null
	contains "stations show: fields" "$out" "has_password:    yes"
	contains "stations show: connectors" "$out" "2          Faulted    GroundFailure"
	contains "stations show: no control characters" "$out" "ground?[31m"
	contains "stations show: active sessions" "$out" "12       1          TAG-1   2026-11-22T10:00:00Z  2345"
}
run "stations show: path escaped" 8 "$EVCTL" stations show "CP 9/x?" && {
	sent "stations show: path escaped" GET "/api/v1/stations/CP%209%2Fx%3F" null
	contains "not found" "$err" "evctl: station 'CP 9/x?' not found"
}
run "stations show: operands" 2 "$EVCTL" stations show && {
	contains "missing operand" "$err" "evctl: stations show: missing operand"
	contains "usage line" "$err" "usage: evctl stations show [options] STATION"
}
run_in "stations add" 0 "0123456789abcdef" "$EVCTL" stations add CP-NEW --password-stdin && {
	sent "stations add" POST /api/v1/stations '{"id":"CP-NEW","password":"0123456789abcdef"}'
	contains "stations add: said" "$out" "station 'CP-NEW' added with a password"
}
run "stations add: exists" 1 "$EVCTL" stations add CP-001 &&
	contains "stations add: exists" "$err" "evctl: station 'CP-001' exists"
run "stations add: bad password" 2 "$EVCTL" stations add CP-X --password short &&
	contains "stations add: bad password" "$err" "16 to 40 characters"
run "stations password --generate" 0 "$EVCTL" stations password CP-NEW --generate && {
	pw=$(printf '%s' "$out" | sed -n "s/^station 'CP-NEW': password set to \([A-Za-z0-9]*\)$/\1/p")
	[ ${#pw} -eq 32 ] && ok "generated password: 32 characters" || not_ok "generated password: 32 characters" "$out"
	sent "stations password --generate" PATCH /api/v1/stations/CP-NEW "{\"password\":\"$pw\"}"
}
run "stations password --generate --json" 0 "$EVCTL" stations password CP-NEW --generate --json &&
	contains "generated password in --json" "$out" '"password":"'
run "stations password --clear" 0 "$EVCTL" stations password CP-NEW --clear && {
	sent "stations password --clear" PATCH /api/v1/stations/CP-NEW '{"password":null}'
	contains "stations password --clear: said" "$out" "station 'CP-NEW': password cleared"
}
run "stations password: how?" 2 "$EVCTL" stations password CP-NEW &&
	contains "stations password: how?" "$err" "give --password-stdin, --password, --generate or --clear"
run "stations remove" 0 "$EVCTL" stations remove CP-NEW && {
	sent "stations remove" DELETE /api/v1/stations/CP-NEW null
	contains "stations remove: said" "$out" "station 'CP-NEW' removed"
}
run "stations history" 0 "$EVCTL" stations history CP-001 --connector 1 --limit 2 && {
	sent "stations history" GET "/api/v1/stations/CP-001/status-history?connector=1&limit=2" null
	contains "stations history: table" "$out" "2026-11-22T10:01:00Z  1          Charging   NoError"
}
run "stations history: bad connector" 2 "$EVCTL" stations history CP-001 --connector x &&
	contains "stations history: bad connector" "$err" "--connector must be a number from 0 to"

run "status" 0 "$EVCTL" status &&
	contains "status: connectors in a line" "$out" "CP-001   yes        accepted      0 Available, 1 Charging, 2 Faulted (GroundFailure)"
run "status STATION" 0 "$EVCTL" status CP-001 && {
	contains "status STATION: summary" "$out" "CP-001: connected, OCPP 1.6, registration accepted, last seen 2026-11-22T10:05:00Z"
	contains "status STATION: connectors" "$out" "1          Charging   NoError        -            2026-11-22T10:00:00Z  12"
}

# ---------------------------------------------------------------- operations

run "reset" 0 "$EVCTL" reset CP-001 && {
	sent "reset" POST /api/v1/stations/CP-001/reset '{"type":"soft"}'
	[ "$out" = "CP-001: reset Accepted" ] && ok "reset: one line" || not_ok "reset: one line" "$out"
}
run "reset --hard --timeout" 0 "$EVCTL" reset CP-001 --hard --timeout 60 &&
	sent "reset --hard --timeout" POST /api/v1/stations/CP-001/reset '{"type":"hard","timeout":60}'
run "reset: bad timeout" 2 "$EVCTL" reset CP-001 --timeout 301 &&
	contains "reset: bad timeout" "$err" "--timeout takes a number from 1 to 300"
run "rejected" 1 "$EVCTL" reset CP-REJ && contains "rejected: shown" "$out" "CP-REJ: reset Rejected"
run "rejected --json" 1 "$EVCTL" reset CP-REJ --json &&
	contains "rejected --json" "$out" '{"station":"CP-REJ","operation":"reset","action":"Reset","status":"Rejected","response":{"status":"Rejected"}}'
run "offline" 7 "$EVCTL" reset CP-002 && {
	contains "offline: message" "$err" "evctl: station 'CP-002' is not connected"
	[ -z "$out" ] && ok "offline: nothing on stdout" || not_ok "offline: nothing on stdout" "$out"
}
run "offline --json" 7 "$EVCTL" reset CP-002 --json &&
	contains "offline --json: the error object" "$out" '{"error":{"code":"station_offline","message":"station '"'CP-002'"' is not connected"}}'
run "callerror" 7 "$EVCTL" unlock CP-ERR 1 &&
	contains "callerror: OCPP error shown" "$err" "evctl: station 'CP-ERR' answered UnlockConnector with an error: NotSupported: not on this model"
run "station timeout" 7 "$EVCTL" reset CP-SLOW && contains "station timeout" "$err" "did not answer Reset in time"
run "busy" 7 "$EVCTL" reset CP-BUSY && contains "busy" "$err" "too many operations queued"
run "unknown station" 8 "$EVCTL" reset CP-404 && contains "unknown station" "$err" "evctl: station 'CP-404' not found"

printf '{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}\n' >"$scratch/profile.json"
profile=$(cat "$scratch/profile.json")
run "start" 0 "$EVCTL" start CP-001 TAG-1 --connector 2 --profile "$scratch/profile.json" && {
	sent "start" POST /api/v1/stations/CP-001/start "{\"id_tag\":\"TAG-1\",\"connector\":2,\"profile\":$profile}"
	contains "start: said" "$out" "CP-001: start Accepted"
}
run "start: operands" 2 "$EVCTL" start CP-001 &&
	contains "start: usage" "$err" "usage: evctl start [options] STATION ID_TAG"
run "start: bad connector" 2 "$EVCTL" start CP-001 TAG-1 --connector 0 &&
	contains "start: bad connector" "$err" "evctl: start: --connector must be a number from 1 to"
run "start: profile not JSON" 2 "$EVCTL" start CP-001 TAG-1 --profile "$top_srcdir/tests/cli/api.sh" &&
	contains "start: profile not JSON" "$err" "api.sh:1:"
run "stop" 0 "$EVCTL" stop CP-001 12 && sent "stop" POST /api/v1/stations/CP-001/stop '{"transaction":12}'
run "stop --session" 0 "$EVCTL" stop CP-001 --session 12 &&
	sent "stop --session" POST /api/v1/stations/CP-001/stop '{"session":12}'
run "stop: both" 2 "$EVCTL" stop CP-001 12 --session 3 && contains "stop: both" "$err" "unexpected operand '12'"
run "unlock" 0 "$EVCTL" unlock CP-001 1 && {
	sent "unlock" POST /api/v1/stations/CP-001/unlock '{"connector":1}'
	contains "unlock: said" "$out" "CP-001: unlock Unlocked"
}
run "unlock failed" 1 "$EVCTL" unlock CP-REJ 1 && contains "unlock failed" "$out" "CP-REJ: unlock UnlockFailed"
run "availability" 0 "$EVCTL" availability CP-001 1 off && {
	sent "availability" POST /api/v1/stations/CP-001/availability '{"connector":1,"available":false}'
	contains "availability: Scheduled is success" "$out" "CP-001: availability Scheduled"
}
run "availability on" 0 "$EVCTL" availability CP-001 0 on &&
	sent "availability on" POST /api/v1/stations/CP-001/availability '{"connector":0,"available":true}'
run "availability: bad state" 2 "$EVCTL" availability CP-001 0 maybe &&
	contains "availability: bad state" "$err" "say 'on' (Operative) or 'off' (Inoperative), not 'maybe'"
run "trigger" 0 "$EVCTL" trigger CP-001 meter-values --connector 1 &&
	sent "trigger" POST /api/v1/stations/CP-001/trigger '{"message":"meter_values","connector":1}'
run "trigger: refused by the API" 2 "$EVCTL" trigger CP-001 bogus &&
	contains "trigger: the API's message" "$err" "evctl: field 'message': expected boot or heartbeat"
run "config get" 0 "$EVCTL" config get CP-001 && {
	sent "config get" POST /api/v1/stations/CP-001/config-get '{}'
	contains "config get: table" "$out" "NumberOfConnectors  2      read-only"
}
run "config get KEY" 1 "$EVCTL" config get CP-001 HeartbeatInterval Foo && {
	sent "config get KEY" POST /api/v1/stations/CP-001/config-get '{"keys":["HeartbeatInterval","Foo"]}'
	contains "config get KEY: known" "$out" "HeartbeatInterval  300    read-write"
	contains "config get KEY: unknown" "$err" "evctl: config get: CP-001 has no key 'Foo'"
}
run "config set" 0 "$EVCTL" config set CP-001 MeterValueSampleInterval 30 && {
	sent "config set" POST /api/v1/stations/CP-001/config-set '{"key":"MeterValueSampleInterval","value":"30"}'
	contains "config set: RebootRequired is success" "$out" "CP-001: config-set RebootRequired"
}
run "clear-cache" 0 "$EVCTL" clear-cache CP-001 && sent "clear-cache" POST /api/v1/stations/CP-001/clear-cache '{}'
run "data-transfer" 0 "$EVCTL" data-transfer CP-001 com.example --message-id m1 --data ping && {
	sent "data-transfer" POST /api/v1/stations/CP-001/data-transfer '{"vendor_id":"com.example","message_id":"m1","data":"ping"}'
	contains "data-transfer: data shown" "$out" "data: echo:ping"
}

"$EVCTL" tokens list --json >"$scratch/tokens.json"
run "auth-list send" 0 "$EVCTL" auth-list send CP-001 --version 2 "$scratch/tokens.json" &&
	sent "auth-list send: entries from tokens list --json" POST /api/v1/stations/CP-001/local-list-send \
		'{"version":2,"update":"full","list":[{"id_tag":"TAG-1","status":"Accepted"},{"id_tag":"TAG-2","status":"Blocked","expiry":"2027-01-01T00:00:00Z","parent_id_tag":"FLEET"}]}'
run_in "auth-list send -" 0 '[{"id_tag":"TAG-3","extra":1}]' "$EVCTL" auth-list send CP-001 --version 3 --differential - &&
	sent "auth-list send -" POST /api/v1/stations/CP-001/local-list-send '{"version":3,"update":"differential","list":[{"id_tag":"TAG-3"}]}'
run "auth-list send: empty" 0 "$EVCTL" auth-list send CP-001 --version 4 &&
	sent "auth-list send: empty" POST /api/v1/stations/CP-001/local-list-send '{"version":4,"update":"full"}'
run "auth-list send: version" 2 "$EVCTL" auth-list send CP-001 &&
	contains "auth-list send: version required" "$err" "--version is required"
run "auth-list version" 0 "$EVCTL" auth-list version CP-001 &&
	contains "auth-list version" "$out" "CP-001: local list version 3"

run "reserve" 0 "$EVCTL" reserve CP-001 1 TAG-1 --expiry 2026-12-01T10:00:00+01:00 --parent FLEET && {
	sent "reserve: time in UTC" POST /api/v1/stations/CP-001/reserve '{"connector":1,"id_tag":"TAG-1","expiry":"2026-12-01T09:00:00Z","parent_id_tag":"FLEET"}'
	contains "reserve: id shown" "$out" "reservation 7"
}
run "reserve --minutes" 0 "$EVCTL" reserve CP-001 0 TAG-1 --minutes 30 --reservation 9 &&
	tail -n 1 "$log" | grep -q '"body":{"connector":0,"id_tag":"TAG-1","expiry":"20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]*Z","reservation":9}' &&
	ok "reserve --minutes" || not_ok "reserve --minutes" "$(tail -n 1 "$log")"
run "reserve: no expiry" 2 "$EVCTL" reserve CP-001 1 TAG-1 && contains "reserve: no expiry" "$err" "give either --expiry or --minutes"
run "reserve: bad time" 2 "$EVCTL" reserve CP-001 1 TAG-1 --expiry tomorrow &&
	contains "reserve: bad time" "$err" "--expiry must be an RFC 3339 time"
run "unreserve" 0 "$EVCTL" unreserve CP-001 7 && sent "unreserve" POST /api/v1/stations/CP-001/cancel-reservation '{"reservation":7}'

run "profile set" 0 "$EVCTL" profile set CP-001 0 "$scratch/profile.json" &&
	sent "profile set" POST /api/v1/stations/CP-001/profile-set "{\"connector\":0,\"profile\":$profile}"
run "profile clear" 0 "$EVCTL" profile clear CP-001 --purpose TxDefaultProfile --stack-level 0 &&
	sent "profile clear" POST /api/v1/stations/CP-001/profile-clear '{"stack_level":0,"purpose":"TxDefaultProfile"}'
run "profile composite" 0 "$EVCTL" profile composite CP-001 1 --duration 3600 --unit W && {
	sent "profile composite" POST /api/v1/stations/CP-001/composite '{"connector":1,"duration":3600,"unit":"W"}'
	contains "profile composite: schedule" "$out" "schedule from 2026-11-22T10:00:00Z, 3600 s, unit W"
	contains "profile composite: periods" "$out" "1800       8.5    3"
}
run "profile composite: duration" 2 "$EVCTL" profile composite CP-001 1 &&
	contains "profile composite: duration required" "$err" "--duration is required"
run "firmware update" 0 "$EVCTL" firmware update CP-001 https://fw.example/1.3.bin \
	--retrieve-date 2026-11-23T00:00:00Z --retries 3 --retry-interval 60 && {
	sent "firmware update" POST /api/v1/stations/CP-001/firmware-update '{"location":"https://fw.example/1.3.bin","retrieve_date":"2026-11-23T00:00:00Z","retries":3,"retry_interval":60}'
	contains "firmware update: no status" "$out" "CP-001: firmware-update acknowledged"
}
run "diagnostics" 0 "$EVCTL" diagnostics CP-001 ftp://logs.example/up --start 2026-11-21T00:00:00Z --stop now && {
	tail -n 1 "$log" | grep -q '"body":{"location":"ftp://logs.example/up","start":"2026-11-21T00:00:00Z","stop":"20[0-9-]*T[0-9:]*Z"}' &&
		ok "diagnostics: request" || not_ok "diagnostics: request" "$(tail -n 1 "$log")"
	contains "diagnostics: file name" "$out" "CP-001: diagnostics will be uploaded as diagnostics-CP-001.tar.gz"
}
run "call" 0 "$EVCTL" call CP-001 Reset '{"type":"Soft"}' && {
	sent "call" POST /api/v1/stations/CP-001/call '{"action":"Reset","payload":{"type":"Soft"}}'
	contains "call: the station's answer" "$out" '{"status":"Accepted"}'
}
run "call: no payload" 0 "$EVCTL" call CP-001 GetLocalListVersion &&
	sent "call: no payload" POST /api/v1/stations/CP-001/call '{"action":"GetLocalListVersion","payload":{}}'
run_in "call: stdin" 0 '{"type":"Hard"}' "$EVCTL" call CP-001 Reset - &&
	sent "call: stdin" POST /api/v1/stations/CP-001/call '{"action":"Reset","payload":{"type":"Hard"}}'
run "call: schema" 2 "$EVCTL" call CP-001 Reset '{}' &&
	contains "call: the API's schema message" "$err" "payload: required property 'type' is missing"
run "call: not JSON" 2 "$EVCTL" call CP-001 Reset '{type}' && contains "call: not JSON" "$err" "the payload is not JSON"
run "audit" 0 "$EVCTL" audit --station CP-001 --limit 5 && {
	sent "audit" GET "/api/v1/audit?station=CP-001&limit=5" null
	contains "audit: table" "$out" "2026-11-22T10:03:00Z  operator  CP-001   reset      Accepted"
}

# ---------------------------------------------------------------- sessions

run "sessions list" 0 "$EVCTL" sessions list && {
	sent "sessions list" GET /api/v1/sessions null
	contains "sessions list: kWh" "$out" "12  CP-001   1          TAG-1   active     2026-11-22T10:00:00Z  -                     2.345"
}
run "sessions list: filters" 0 "$EVCTL" sessions list --station CP-001 --active --id-tag TAG-1 \
	--since 2026-11-01T00:00:00Z --until 2026-12-01T00:00:00+01:00 --limit 5 &&
	sent "sessions list: filters" GET "/api/v1/sessions?station=CP-001&status=active&id_tag=TAG-1&since=2026-11-01T00%3A00%3A00Z&until=2026-11-30T23%3A00%3A00Z&limit=5" null
run "sessions list --since 7d" 0 "$EVCTL" sessions list --completed --since 7d &&
	tail -n 1 "$log" | grep -q '"path":"/api/v1/sessions?status=completed&since=20[0-9-]*T[0-9]*%3A[0-9]*%3A[0-9]*Z"' &&
	ok "sessions list --since 7d" || not_ok "sessions list --since 7d" "$(tail -n 1 "$log")"
run "sessions list: both" 2 "$EVCTL" sessions list --active --completed &&
	contains "sessions list: both" "$err" "--active and --completed exclude each other"
run "sessions show" 0 "$EVCTL" sessions show 12 && {
	sent "sessions show: the next page of meter values" GET "/api/v1/sessions/12/meter-values?after=1795341600-1" null
	contains "sessions show: the first page's values" "$out" "2026-11-22T10:00:00Z  Energy.Active.Import.Register  -      1000"
	contains "sessions show: fields" "$out" "energy_wh:    2345"
	contains "sessions show: meter values" "$out" "2026-11-22T10:01:00Z  Current.Import                 L1     16.0   A     Sample.Periodic    -"
}
run "sessions show --json" 0 "$EVCTL" sessions show 12 --json &&
	contains "sessions show --json" "$out" '"meter_values":[{"time":"2026-11-22T10:00:00Z"' &&
	contains "sessions show --json: both pages" "$out" '"value":"16.0"}]' &&
	if echo "$out" | grep -q meter_values_next; then not_ok "sessions show --json: no cursor left" "$out"
	else ok "sessions show --json: no cursor left"; fi
run "sessions show: none" 8 "$EVCTL" sessions show 99 && contains "sessions show: none" "$err" "evctl: session '99' not found"
run "sessions show: not a number" 2 "$EVCTL" sessions show x && contains "sessions show: not a number" "$err" "ID must be a number"

# ---------------------------------------------------------------- tokens

run "tokens list" 0 "$EVCTL" tokens list && {
	sent "tokens list" GET /api/v1/tokens null
	contains "tokens list: table" "$out" "TAG-2   Blocked   2027-01-01T00:00:00Z  FLEET   2026-11-22T10:00:00Z"
}
run "tokens add" 0 "$EVCTL" tokens add TAG-9 --status Blocked --expiry 2027-01-01T01:00:00+01:00 --parent FLEET && {
	sent "tokens add" POST /api/v1/tokens '{"id_tag":"TAG-9","status":"Blocked","expiry":"2027-01-01T00:00:00Z","parent_id_tag":"FLEET"}'
	contains "tokens add: said" "$out" "token 'TAG-9' added: Blocked"
}
run "tokens add: exists" 1 "$EVCTL" tokens add TAG-1 && contains "tokens add: exists" "$err" "evctl: token 'TAG-1' exists"
run "tokens add: bad status" 2 "$EVCTL" tokens add TAG-8 --status Lost && contains "tokens add: bad status" "$err" "field 'status'"
run "tokens set" 0 "$EVCTL" tokens set TAG-9 --status Accepted --no-expiry --no-parent && {
	sent "tokens set" PATCH /api/v1/tokens/TAG-9 '{"status":"Accepted","expiry":null,"parent_id_tag":null}'
	contains "tokens set: said" "$out" "token 'TAG-9' changed: Accepted"
}
run "tokens set: nothing" 2 "$EVCTL" tokens set TAG-9 && contains "tokens set: nothing" "$err" "nothing to change"
run "tokens block" 0 "$EVCTL" tokens block TAG-9 && {
	sent "tokens block" POST /api/v1/tokens/TAG-9/block null
	contains "tokens block: said" "$out" "token 'TAG-9' blocked: Blocked"
}
run "tokens unblock" 0 "$EVCTL" tokens unblock TAG-9 &&
	contains "tokens unblock" "$out" "token 'TAG-9' unblocked: Accepted"
run "tokens show" 0 "$EVCTL" tokens show TAG-9 && {
	sent "tokens show" GET /api/v1/tokens/TAG-9 null
	contains "tokens show: fields" "$out" "status:         Accepted"
}
run "tokens remove" 0 "$EVCTL" tokens remove TAG-9 && {
	sent "tokens remove" DELETE /api/v1/tokens/TAG-9 null
	contains "tokens remove: said" "$out" "token 'TAG-9' removed"
}
run "tokens show: gone" 8 "$EVCTL" tokens show TAG-9 && contains "tokens show: gone" "$err" "evctl: token 'TAG-9' not found"

# ---------------------------------------------------------------- watch

# watch_until NAME LINES ARGS...: runs watch in the background until it has
# printed LINES lines (deadline 10 s), then stops it. (SIGTERM: a
# background job of a script ignores SIGINT.)
watch_until() {
	name=$1 lines=$2
	shift 2
	: >"$scratch/watch.out"   # before the background job's own redirection
	"$EVCTL" watch "$@" >"$scratch/watch.out" 2>"$scratch/watch.err" </dev/null &
	pid=$!
	i=0
	while [ "$(wc -l <"$scratch/watch.out")" -lt "$lines" ] && [ $i -lt 100 ] && kill -0 $pid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill $pid 2>/dev/null
	{ wait $pid; } 2>/dev/null
	out=$(cat "$scratch/watch.out")
	err=$(cat "$scratch/watch.err")
	[ "$(printf '%s\n' "$out" | wc -l)" -ge "$lines" ] && ok "$name: $lines events" ||
		not_ok "$name: $lines events" "got: $out; stderr: $err"
}

# The stream's first connection ends after four events (a server restart);
# the second brings the fifth.
watch_until "watch" 5
contains "watch: connected" "$out" "2026-11-22T10:00:00Z CP-001 connected from 127.0.0.1"
contains "watch: status across writes, CRLF" "$out" "2026-11-22T10:00:00Z CP-001 connector 1 Charging"
contains "watch: two data lines" "$out" "CP-001 session 12 started on connector 1 by TAG-1, meter 1000 Wh"
contains "watch: meter" "$out" "CP-001 connector 1 meter (session 12): Energy.Active.Import.Register 3345 Wh"
contains "watch: after the restart" "$out" "2026-11-22T11:00:00Z CP-001 session 12 stopped: 2345 Wh, reason Local"
contains "watch: says it lost the stream" "$err" "evctl: watch: the event stream ended; reconnecting"
contains "watch: says it is back" "$err" "evctl: watch: reconnected to $server"
grep -q '"path":"/api/v1/events"' "$log" && ok "watch: request" || not_ok "watch: request" "no GET /api/v1/events"

watch_until "watch --json" 5 --station CP-001 --json
grep -q '"path":"/api/v1/events?station=CP-001"' "$log" && ok "watch --station: request" ||
	not_ok "watch --station: request" "no GET /api/v1/events?station=CP-001"
contains "watch --json: JSON lines" "$(printf '%s\n' "$out" | sed -n 2p)" \
	'{"event":"status","data":{"station":"CP-001","connector":1,"status":"Charging","error_code":"NoError","time":"2026-11-22T10:00:00Z"}}'
contains "watch --json: last" "$(printf '%s\n' "$out" | sed -n 5p)" '{"event":"session.stopped","data":{"station":"CP-001","session":12,'

run "watch: wrong token" 6 "$EVCTL" watch --token nope && contains "watch: wrong token" "$err" "refused the token"
run "watch: unreachable" 6 "$EVCTL" watch --server "$closed" && contains "watch: unreachable" "$err" "cannot reach"

# ---------------------------------------------------------------- help

run "operation help" 0 "$EVCTL" reset --help && {
	contains "operation help: own option" "$out" "--timeout S"
	contains "operation help: API options" "$out" "--server URL"
}

finish
