#!/bin/sh
# The central system's footprint and cost per message, side by side with the
# ocpp-rpc reference server, both driven by the same generator (csms-load):
#   - idle RSS per connection at 1,000 / 10,000 / 19,500 stations
#     ((server RSS with N stations connected and idle - RSS before) / N);
#   - server CPU-seconds per 1,000 MeterValues round trips, with SQLite
#     persistence and schema validation on (closed loop, one call
#     outstanding per station).
# Targets (the central system's issue): at most a fifth of the reference's
# memory per connection and a tenth of its CPU per message.
#
#   bench/csms.sh [BUILD_DIR]            (default: build)
#
# Knobs (environment): IDLE_NS ("1000 10000 19500"), METER_NS ("100 1000"),
# METER_SECS (15), IDLE_HOLD (10), SETTLE (3), CONC (200), REPEAT (1: meter
# runs per server; the summary takes the median), SERVERS ("evctl ref floor";
# floor is bench/csms-floor, which answers without parsing or storing: the
# cost of the round trip itself),
# REF_DIR (the reference, default /work/shared/bench/ocpp-rpc-baseline),
# WORK (BUILD_DIR/bench-csms: the reference's copy and node_modules, results),
# QUICK=1 (smoke run: small N, short windows), REF_SUITE=1 (afterwards, also
# the reference's own run.sh against evctl serve through csms-contract.sh),
# KEEP_DB=1 (keep the stores in WORK/state).
# Figures are printed, never asserted.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
evctl=$build/evctl
load=$build/bench/csms-load
REF_DIR=${REF_DIR:-/work/shared/bench/ocpp-rpc-baseline}
WORK=${WORK:-$build/bench-csms}
if [ "${QUICK:-0}" = 1 ]; then
	IDLE_NS=${IDLE_NS:-"100 1000"}
	METER_NS=${METER_NS:-"100"}
	METER_SECS=${METER_SECS:-3}
	IDLE_HOLD=${IDLE_HOLD:-2}
	SETTLE=${SETTLE:-1}
fi
IDLE_NS=${IDLE_NS:-"1000 10000 19500"}
METER_NS=${METER_NS:-"100 1000"}
METER_SECS=${METER_SECS:-15}
IDLE_HOLD=${IDLE_HOLD:-10}
SETTLE=${SETTLE:-3}
CONC=${CONC:-200}
REPEAT=${REPEAT:-1}
SERVERS=${SERVERS:-"evctl ref floor"}
PORT_BASE=${PORT_BASE:-9600}

die() { echo "csms.sh: $*" >&2; exit 1; }
[ -x "$load" ] || die "no $load: build first (make in $build)"
for s in $SERVERS; do
	case $s in
	evctl) [ -x "$evctl" ] || die "no $evctl: build first" ;;
	ref) [ -f "$REF_DIR/server.js" ] || die "no reference in $REF_DIR" ;;
	floor) [ -x "$build/bench/csms-floor" ] || die "no $build/bench/csms-floor: build first" ;;
	*) die "SERVERS: evctl, ref or floor, not '$s'" ;;
	esac
done
for tool in node jq $([ "${REF_SUITE:-0}" = 1 ] && echo curl); do
	command -v "$tool" >/dev/null || die "needs $tool"
done

# Every connection is one fd in the server and one in the generator; both
# inherit this (the generator raises its own soft limit too).
# shellcheck disable=SC3045 # dash, bash and busybox sh all have ulimit -n/-H
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# shellcheck disable=SC3045
nofile=$(ulimit -n)

out=$WORK/out
mkdir -p "$out" "$WORK/ref"
rm -f "$out"/*.json "$out"/*.jsonl "$out"/*.log "$out"/manifest.tsv

# The reference is read-only where it is shared: run a copy, with its
# dependencies installed as its README says (better-sqlite3 builds with
# node-gyp against /usr/include/node: `nodedir=/usr` in ~/.npmrc).
ref=$WORK/ref
case " $SERVERS $([ "${REF_SUITE:-0}" = 1 ] && echo suite) " in *" ref "* | *" suite "*)
	for f in server.js load.js report.js run.sh package.json package-lock.json; do
		cmp -s "$REF_DIR/$f" "$ref/$f" 2>/dev/null || { cp "$REF_DIR/$f" "$ref/$f"; chmod u+w "$ref/$f"; }
	done
	if ! (cd "$ref" && node -e "require('ocpp-rpc'); require('ws'); new (require('better-sqlite3'))(':memory:')") 2>/dev/null; then
		echo "installing the reference's dependencies (npm ci; better-sqlite3 builds from source, ~2 min)"
		(cd "$ref" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) || die "npm ci failed; see $WORK/npm.log"
		(cd "$ref" && node -e "new (require('better-sqlite3'))(':memory:')") 2>/dev/null ||
			die "better-sqlite3 did not build (see $WORK/npm.log): the reference cannot persist"
	fi
esac

SPID='' URL='' idx=0
stop_server() {
	[ -n "$SPID" ] || return 0
	kill -TERM "$SPID" 2>/dev/null || true
	i=0
	while kill -0 "$SPID" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$SPID" 2>/dev/null; then
		echo "  !! server $SPID still running 15 s after SIGTERM: killed" >&2
		kill -KILL "$SPID" 2>/dev/null || true
	fi
	set +e
	wait "$SPID" 2>/dev/null
	server_rc=$?
	set -e
	SPID=
}
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

# start_server SERVER LABEL: sets SPID and URL.
start_server() {
	idx=$((idx + 1))
	log=$out/$2.server.log
	case $1 in
	evctl)
		rm -rf "$WORK/state/$2"
		mkdir -p "$WORK/state/$2"
		"$evctl" serve --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 --state-dir "$WORK/state/$2" \
			--admission auto --auto-registration accepted --sync normal --log-level warn \
			>"$log" 2>&1 &
		SPID=$!
		ready='stations connect to'
		;;
	ref)
		port=$((PORT_BASE + idx))
		rm -f "$WORK/state/$2".db*
		mkdir -p "$WORK/state"
		(cd "$ref" && exec node server.js --port=$port --stats="$out/$2.stats.jsonl" \
			--sqlite="$WORK/state/$2.db" --sqlite-sync=normal --max-lifetime=1800) >"$log" 2>&1 &
		SPID=$!
		ready='^READY'
		;;
	floor)
		"$build/bench/csms-floor" >"$log" 2>&1 &
		SPID=$!
		ready='^READY'
		;;
	esac
	i=0
	until grep -q "$ready" "$log" 2>/dev/null; do
		kill -0 "$SPID" 2>/dev/null || { cat "$log" >&2; die "$1 did not start"; }
		[ $i -lt 300 ] || die "$1 not ready after 30 s; see $log"
		sleep 0.1
		i=$((i + 1))
	done
	case $1 in
	evctl) URL=$(sed -n 's,.*stations connect to \(ws://[^ ]*\)/<id>.*,\1,p' "$log" | head -n 1) ;;
	ref) URL=ws://127.0.0.1:$port ;;
	floor) URL=ws://127.0.0.1:$(awk '/^READY/ { print $2 }' "$log") ;;
	esac
}

# db_rows SERVER LABEL: sampled values persisted, as a sanity check that
# persistence was on (evctl keeps a row per timestamp, the reference one
# per sampled value).
db_rows() {
	db=/nonexistent sql='select count(*) from meter_values'
	case $1 in
	evctl)
		db=$WORK/state/$2/evctl.db
		sql='select sum(json_array_length(sampled)) from meter_readings'
		;;
	ref) db=$WORK/state/$2.db ;;
	esac
	if command -v sqlite3 >/dev/null && [ -f "$db" ]; then
		sqlite3 "$db" "$sql" 2>/dev/null || echo -1
	else
		echo -1
	fi
}

# run SERVER MODE N [REP]: one experiment, fresh server and store.
run() {
	label=$1-$2-n$3${4:+-r$4}
	secs=$IDLE_HOLD
	[ "$2" = meter ] && secs=$METER_SECS
	start_server "$1" "$label"
	echo "== $label (server pid $SPID, $URL)"
	set +e
	"$load" --url "$URL" --n "$3" --mode "$2" --duration "$secs" --settle "$SETTLE" \
		--conc "$CONC" --server-pid "$SPID" --label "$label" --json "$out/$label.json" \
		--max-time $((secs + 600)) >/dev/null 2>"$out/$label.load.log"
	load_rc=$?
	set -e
	# The server must still be there: a crash is a finding, not noise.
	alive=1
	kill -0 "$SPID" 2>/dev/null || alive=0
	stop_server
	rows=-1
	[ "$2" = meter ] && rows=$(db_rows "$1" "$label")
	[ "${KEEP_DB:-0}" = 1 ] || rm -rf "$WORK/state/$label" "$WORK/state/$label".db*
	# Lines the server logged at warn or above (evctl serve) / at all (ref).
	loglines=$(grep -cv -e "stations connect to" -e '^READY' "$out/$label.server.log" || true)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$1" "$2" "$3" "${4:-1}" \
		"$alive" "$server_rc" "$loglines" "$rows" >>"$out/manifest.tsv"
	if [ -f "$out/$label.json" ]; then
		jq -r '"   connected \(.connected)/\(.n), errors \(.error_count)" +
			(if .idle.rss_per_conn_kib then ", RSS/connection \(.idle.rss_per_conn_kib * 10 | round / 10) KiB" else "" end) +
			(if .meter.server_cpu_s_per_1k then ", \(.meter.rtt_per_s | round) round trips/s, server CPU-s/1000 \(.meter.server_cpu_s_per_1k * 10000 | round / 10000)" else "" end) +
			(if .aborted then ", aborted: \(.aborted)" else "" end)' \
			"$out/$label.json" || true
	else
		echo "   no result (generator exit $load_rc; see $out/$label.load.log)"
	fi
	[ "$alive" = 1 ] || echo "   !! the server died during the run (exit $server_rc); see $out/$label.server.log"
	sleep 1
}

echo "csms.sh: $(nproc) cores, open-files limit $nofile; servers: $SERVERS; results in $out"
load_now=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average at start: $load_now"
for n in $IDLE_NS; do
	for s in $SERVERS; do
		[ "$s" = floor ] && continue   # it holds 64 KiB per connection: not a contender
		run "$s" idle "$n"
	done
done
for n in $METER_NS; do
	r=1
	while [ $r -le "$REPEAT" ]; do
		for s in $SERVERS; do
			run "$s" meter "$n" "$([ "$REPEAT" -gt 1 ] && echo $r)"
		done
		r=$((r + 1))
	done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
node "$top/bench/csms-report.js" "$out" | tee "$WORK/results.md"

if [ "${REF_SUITE:-0}" = 1 ]; then
	# The reference's own experiments, against evctl serve (its generator,
	# its report) through the contract wrapper.
	echo
	echo "== the reference's run.sh against evctl serve (bench/csms-contract.sh)"
	# Its knobs have the names of ours: it gets its own defaults (QUICK=1
	# still applies to both).
	rm -rf "$WORK/ref-suite"
	env -u IDLE_NS -u METER_NS -u METER_SECS -u IDLE_HOLD -u SETTLE -u CONC \
		EVCTL="$evctl" SERVER_CMD="$top/bench/csms-contract.sh" SERVER_NAME="evctl serve" SERVER_USR2=0 \
		OUT_DIR="$WORK/ref-suite" RESULTS_MD="$WORK/ref-suite.md" bash "$ref/run.sh" >/dev/null ||
		echo "   run.sh failed; see $WORK/ref-suite/run.log"
	cat "$WORK/ref-suite.md" 2>/dev/null || true
fi
