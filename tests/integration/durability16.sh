#!/bin/sh
# kill -9 of evctl serve under load loses no acknowledged row: three
# stations send meter values as fast as they are answered, each writing
# down what was acknowledged; after the kill and a restart, the store has
# every one of them.
. "${top_srcdir:?}/tests/integration/lib.sh"
: "${EVCTL:?}"

start_serve cs --admission auto --auto-registration accepted ||
	{ not_ok "evctl serve starts" "$(cat "$scratch/cs.err")"; finish; exit 1; }
for i in 1 2 3; do
	ACK_FILE=$scratch/ack$i start_station load$i LOAD-$i "$node_tests/scenarios/serve16-load.js"
done
# Under load: wait until every station has had a good number acknowledged.
for i in 1 2 3; do
	deadline=$(($(date +%s) + 30))
	while [ "$(cat "$scratch/ack$i" 2>/dev/null | wc -l)" -lt 50 ] && [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 0.1
	done
done
kill -KILL "$serve_pid"
wait "$serve_pid" 2>/dev/null


start_serve cs --admission auto --auto-registration accepted ||
	{ not_ok "evctl serve restarts on the same store" "$(cat "$scratch/cs.err")"; finish; exit 1; }
ok "evctl serve restarts on the same store after kill -9"
for i in 1 2 3; do
	session=$(sed -n 's/^session //p' "$scratch/ack$i")
	acked=$(grep -c '^[0-9]' "$scratch/ack$i")
	node -e '
		const { api } = require(process.argv[1]);
		(async () => {
			const id = process.argv[2];
			let { status, body } = await api("GET", `/sessions/${id}`);
			if (status !== 200) { console.log(`HTTP ${status}`); process.exit(1); }
			const values = body.meter_values;
			// A long session comes a page at a time.
			for (let next = body.meter_values_next; next; next = body.next) {
				({ status, body } = await api("GET", `/sessions/${id}/meter-values?after=${next}`));
				if (status !== 200) { console.log(`HTTP ${status} for a page`); process.exit(1); }
				values.push(...body.meter_values);
			}
			const stored = new Set(values.map((v) => v.value));
			const acked = require("fs").readFileSync(process.argv[3], "utf8").split("\n").filter((l) => /^[0-9]+$/.test(l));
			const lost = acked.filter((v) => !stored.has(v));
			console.log(`${acked.length} acknowledged, ${stored.size} stored, ${lost.length} lost${lost.length ? ": " + lost.slice(0, 5) : ""}`);
			process.exit(lost.length ? 1 : 0);
		})();' "$node_tests/api.js" "$session" "$scratch/ack$i" >"$scratch/check$i" 2>&1 &&
		ok "station $i: no acknowledged row lost ($(cat "$scratch/check$i"))" ||
		not_ok "station $i: no acknowledged row lost" "$(cat "$scratch/check$i")"
	[ "$acked" -ge 50 ] && ok "station $i was under load ($acked acknowledged)" || not_ok "station $i was under load" "only $acked"
done
stop_serve
finish
