#!/bin/sh
# evctl and evstationd as a user runs them: help, versions, exit statuses,
# errors, and `evctl ocpp validate` on real logs.
. "${top_srcdir:?}/tests/cli/lib.sh"
: "${EVCTL:?}" "${EVSTATIOND:?}"
ex=$top_srcdir/examples

run "version" 0 "$EVCTL" --version && contains "version" "$out" "evctl 0."
run "version --json" 0 "$EVCTL" version --json && contains "version --json" "$out" '"ocpp":["1.6","2.0.1"]'
run "no command" 2 "$EVCTL" && contains "no command: usage on stderr" "$err" "usage: evctl"
run "help" 0 "$EVCTL" --help && contains "help lists ocpp" "$out" "ocpp"
run "help lists exit statuses" 0 "$EVCTL" help && contains "help lists exit statuses" "$out" "4 I/O error"
run "unknown command" 2 "$EVCTL" frobnicate &&
	contains "unknown command" "$err" "evctl: unknown command 'frobnicate'"
run "unknown global option" 2 "$EVCTL" --frob && contains "unknown global option" "$err" "--frob"
run "prefix" 0 "$EVCTL" oc val --help && contains "prefix resolves" "$out" "usage: evctl ocpp validate"
run "family without command" 2 "$EVCTL" ocpp && contains "family usage" "$err" "validate"
run "help of a command" 0 "$EVCTL" help ocpp validate && contains "help of a command" "$out" "--ocpp VERSION"
run "unknown option" 2 "$EVCTL" ocpp validate --frob &&
	contains "unknown option" "$err" "evctl: ocpp validate: unknown option '--frob'"
run "bad version" 2 "$EVCTL" ocpp validate --ocpp 3.0 "$ex/station-1.6.log" &&
	contains "bad version" "$err" "unknown OCPP version '3.0'"

# Validation of real logs.
run "valid 1.6 log" 0 "$EVCTL" ocpp validate "$ex/station-1.6.log" &&
	contains "valid 1.6 log" "$out" "18 frames, 0 invalid"
run "valid 2.0.1 log" 0 "$EVCTL" ocpp validate --ocpp 2.0.1 "$ex/station-2.0.1.log" &&
	contains "valid 2.0.1 log" "$out" "10 frames, 0 invalid"
run "subprotocol name as version" 0 "$EVCTL" ocpp validate --ocpp ocpp2.0.1 "$ex/station-2.0.1.log" &&
	ok "subprotocol name as version"
run "2.0.1 log read as 1.6" 1 "$EVCTL" ocpp validate "$ex/station-2.0.1.log" &&
	contains "2.0.1 log read as 1.6" "$out" "NotImplemented: OCPP 1.6 has no action 'TransactionEvent'"
run "broken log" 1 "$EVCTL" ocpp validate "$ex/broken-1.6.log" && {
	contains "missing field" "$out" "broken-1.6.log:1: OccurenceConstraintViolation: required property 'chargePointModel' is missing"
	contains "wrong type" "$out" "TypeConstraintViolation: connectorId: expected integer, got string"
	contains "bad enum" "$out" "status: 'available' is not an allowed value"
	contains "too long" "$out" "idTag: longer than 20 characters"
	contains "bad date" "$out" "is not an RFC 3339 date-time"
	contains "frame shape" "$out" "FormationViolation: CALL must have 4 elements, not 5"
	contains "unmatched answer" "$out" "ProtocolError: no CALL with id 'zz' before this answer"
	contains "not JSON" "$out" ":10: FormationViolation: not JSON"
	contains "summary" "$out" "10 frames, 10 invalid"
}
run "quiet" 1 "$EVCTL" ocpp validate -q "$ex/broken-1.6.log" "$ex/station-1.6.log" && {
	lines=$(printf '%s\n' "$out" | wc -l)
	[ "$lines" -eq 10 ] && ok "quiet prints only problems" || not_ok "quiet prints only problems" "$lines lines"
}

# JSON: one object per frame, in order.
run "json" 1 "$EVCTL" ocpp validate --json "$ex/broken-1.6.log" && {
	n=$(printf '%s\n' "$out" | grep -c '^{"file":')
	[ "$n" -eq 10 ] && ok "json: one object per frame" || not_ok "json: one object per frame" "$n objects"
	first=$(printf '%s\n' "$out" | head -n 1)
	contains "json fields" "$first" '"line":1,"valid":false,"type":"CALL","id":"b1","action":"BootNotification","code":"OccurenceConstraintViolation"'
}
run "json valid frame" 0 "$EVCTL" ocpp validate --json "$ex/station-1.6.log" &&
	contains "json valid frame" "$(printf '%s\n' "$out" | sed -n 2p)" '"valid":true,"type":"CALLRESULT","id":"b1","action":"BootNotification","code":null,"reason":null'

# Standard input, "-" and blank lines.
printf '\n[2,"1","Heartbeat",{}]\n\n[3,"1",{"currentTime":"2026-01-01T00:00:00Z"}]\r\n' >"$scratch/in.log"
run "stdin" 0 sh -c '"$0" ocpp validate <"$1"' "$EVCTL" "$scratch/in.log" &&
	contains "stdin: blank lines skipped, CRLF accepted" "$out" "-:4: ok CALLRESULT Heartbeat"
run "dash" 0 sh -c '"$0" ocpp validate - <"$1"' "$EVCTL" "$scratch/in.log" && ok "dash reads stdin"

# Answers are matched per file.
printf '[3,"1",{"currentTime":"2026-01-01T00:00:00Z"}]\n' >"$scratch/answer.log"
run "match per file" 1 "$EVCTL" ocpp validate "$scratch/in.log" "$scratch/answer.log" &&
	contains "match per file" "$out" "answer.log:1: ProtocolError"

# I/O errors.
run "missing file" 4 "$EVCTL" ocpp validate "$scratch/nope.log" "$ex/station-1.6.log" && {
	contains "missing file named" "$err" "evctl: $scratch/nope.log: No such file or directory"
	contains "other files still checked" "$out" "18 frames, 0 invalid"
}
if [ -w /dev/full ]; then
	run "write error" 4 sh -c '"$0" ocpp validate "$1" >/dev/full' "$EVCTL" "$ex/station-1.6.log" &&
		contains "write error" "$err" "write error on standard output"
fi

# evstationd's command line.
run "evstationd --version" 0 "$EVSTATIOND" --version && contains "evstationd --version" "$out" "evstationd 0."
run "evstationd --help" 0 "$EVSTATIOND" --help && contains "evstationd --help" "$out" "usage: evstationd"
run "evstationd bad option" 2 "$EVSTATIOND" --frob && contains "evstationd bad option" "$err" "unknown option '--frob'"
run "evstationd --check-config" 0 "$EVSTATIOND" --check-config && contains "evstationd --check-config" "$out" "settings are valid"
run "example config is valid" 0 "$EVSTATIOND" -c "$top_srcdir/examples/evstationd.conf" --state-dir "$scratch/st" --check-config &&
	ok "examples/evstationd.conf is valid"
run "evstationd --help lists settings" 0 "$EVSTATIOND" --help && contains "evstationd --help lists settings" "$out" "--connectors VALUE"

finish
