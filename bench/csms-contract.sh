#!/bin/bash
# Adapts `evctl serve` to the server contract of the ocpp-rpc reference's
# run.sh, so that its own generator and report can run against us:
#   SERVER_CMD=bench/csms-contract.sh SERVER_USR2=0 bash run.sh
#   csms-contract.sh --port=P --stats=FILE [--sqlite=DB] [--sqlite-sync=MODE] [--max-lifetime=S]
#
# What evctl serve lacks for the contract, and what stands in for it here:
# - no READY line: its own "stations connect to" line is turned into one;
# - stations connect to PREFIX/<id>: --path / makes that /<id>;
# - it always persists, with or without --sqlite; the store stays in a
#   temporary state directory (removed afterwards), not at DB, because
#   run.sh's row count expects the reference's tables (transactions,
#   meter_values), so its "DB rows" column shows '?';
# - synchronous=OFF does not exist: --sqlite-sync=off runs as normal;
# - unknown idTags are Invalid (the reference accepts any): TAG0 ..
#   TAG<CONTRACT_TAGS - 1> (default 1000, as run.sh's load.js names them) are
#   registered through the API before READY;
# - no stats on SIGUSR2: the generator reads RSS and CPU from /proc/PID,
#   which must be evctl's own, so this script becomes evctl (exec) and the
#   stats file gets periodic RSS lines from a watcher instead; SIGUSR2 is
#   ignored (it would kill evctl), so run with SERVER_USR2=0 or not.
# EVCTL: the binary (default: build/evctl next to this script).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
evctl=${EVCTL:-$top/build/evctl}
port='' stats='' sync=normal life=3600
for a in "$@"; do
	case $a in
	--port=*) port=${a#*=} ;;
	--stats=*) stats=${a#*=} ;;
	--sqlite=*) ;;
	--sqlite-sync=*) sync=${a#*=}; [ "$sync" = full ] || sync=normal ;;
	--max-lifetime=*) life=${a#*=} ;;
	*) echo "csms-contract: unknown argument $a" >&2; exit 2 ;;
	esac
done
[ -n "$port" ] || { echo "csms-contract: --port is required" >&2; exit 2; }
state=$(mktemp -d "${TMPDIR:-/tmp}/csms-contract.XXXXXX")
api=$((port + 1000))
pid=$$

# Helpers outlive the exec as children of evctl; each stops once it is gone.
{
	n=0
	until curl -sf "http://127.0.0.1:$api/api/v1/health" >/dev/null 2>&1 && [ -s "$state/api-token" ]; do
		if ! kill -0 "$pid" 2>/dev/null || [ $n -ge 300 ]; then
			echo "csms-contract: evctl serve did not start" >&2
			exit 1
		fi
		sleep 0.1
		n=$((n + 1))
	done
	token=$(cat "$state/api-token")
	i=0
	while [ $i -lt "${CONTRACT_TAGS:-1000}" ]; do
		printf 'url = "http://127.0.0.1:%s/api/v1/tokens"\ndata = "{\\"id_tag\\":\\"TAG%s\\"}"\n' "$api" $i
		printf -- '-H "Content-Type: application/json"\n-H "Authorization: Bearer %s"\n-s\n-o /dev/null\nnext\n' "$token"
		i=$((i + 1))
	done >"$state/tags.curl"
	# In parallel: one commit each, and the group commit batches them.
	# run.sh waits 10 s for READY.
	timeout 8 curl -Z --parallel-max 32 -K "$state/tags.curl" ||
		echo "csms-contract: could not register the idTags: Authorize will answer Invalid" >&2
	echo "READY port=$port pid=$pid"
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$stats" ]; then
			rss=$(awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$pid/status" 2>/dev/null || echo 0)
			printf '{"ts":%s,"reason":"periodic","pid":%s,"rss":%s}\n' "$(date +%s%3N)" "$pid" "${rss:-0}" >>"$stats"
		fi
		sleep 1
	done
	rm -rf "$state"
} &
{
	t=0
	while kill -0 "$pid" 2>/dev/null; do
		[ $t -lt "$life" ] || { kill -TERM "$pid"; break; }
		sleep 1
		t=$((t + 1))
	done
} &
trap '' USR2
exec "$evctl" serve --listen "127.0.0.1:$port" --path / --api-listen "127.0.0.1:$api" \
	--state-dir "$state" --admission auto --auto-registration accepted \
	--sync "$sync" --log-level warn
