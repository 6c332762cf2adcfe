#!/usr/bin/env node
'use strict';
// Tables for bench/csms.sh from csms-load's JSON results and the run's
// manifest (label, server, mode, n, repeat, alive, exit status, log lines,
// meter_values rows). Usage: node csms-report.js OUT_DIR
const fs = require('fs');
const os = require('os');
const path = require('path');

const dir = process.argv[2];
const names = { evctl: 'evctl serve', ref: 'ocpp-rpc reference', floor: 'floor (csms-floor)' };
const runs = fs.readFileSync(path.join(dir, 'manifest.tsv'), 'utf8').split('\n').filter(Boolean).map((l) => {
	const [label, server, mode, n, rep, alive, rc, loglines, rows] = l.split('\t');
	let r = null;
	try { r = JSON.parse(fs.readFileSync(path.join(dir, `${label}.json`), 'utf8')); } catch (_) { /* none */ }
	return { label, server, mode, n: +n, rep: +rep, alive: alive === '1', rc: +rc, loglines: +loglines, rows: +rows, r };
});

const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x)) ? '–' : Number(x).toFixed(d);
const mib = (b) => (b === null || b === undefined) ? '–' : (b / 1048576).toFixed(1);
const pct = (x) => (x === null || x === undefined) ? '–' : (x * 100).toFixed(0) + '%';
const median = (a) => {
	const s = a.filter((x) => x !== null && x !== undefined).sort((x, y) => x - y);
	if (!s.length) return null;
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const out = [];
const p = (s = '') => out.push(s);

p(`# evctl serve vs the ocpp-rpc reference (${new Date().toISOString()})`);
p();
p(`${os.cpus().length} × ${os.cpus()[0].model.trim()}, Linux ${os.release()}; both servers and the generator ` +
  'share these cores with whatever else runs. Same generator (bench/csms-load) for both servers.');
p();
p('## Idle connections');
p();
p('Each station: connect, BootNotification, StatusNotification, Heartbeat, then idle. ' +
  'RSS per connection = (server RSS after the hold − RSS before the first connect) / N connected.');
p();
p('| server | N | connected | booted in (s) | server CPU-ms per connect | RSS before (MiB) | RSS with N (MiB) | **RSS per connection (KiB)** | anon per connection (KiB) | server CPU while idle | errors |');
p('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const x of runs.filter((x) => x.mode === 'idle')) {
	const r = x.r;
	if (!r || !r.idle) { p(`| ${names[x.server]} | ${x.n} | – | – | – | – | – | – | – | – | no result |`); continue; }
	const c = r.connect, i = r.idle;
	const anon = (i.anon_after !== null && i.anon_before !== null && r.connected) ? (i.anon_after - i.anon_before) / r.connected / 1024 : null;
	p(`| ${names[x.server]} | ${x.n} | ${r.connected} | ${f(c.all_booted_s, 2)} | ` +
	  `${c.cpu.server_cpu_s !== null && r.connected ? f(c.cpu.server_cpu_s * 1000 / r.connected, 3) : '–'} | ` +
	  `${mib(i.rss_before)} | ${mib(i.rss_after)} | **${f(i.rss_per_conn_kib, 1)}** | ${f(anon, 1)} | ` +
	  `${pct(i.cpu.server_util)} | ${r.error_count} |`);
}
p();
p('## MeterValues, persisted and validated');
p();
p('Each station: connect, boot, StartTransaction, then MeterValues (4 sampled values, ~630 B) back to back, ' +
  'one call outstanding per station, for the window; then StopTransaction. Both servers validate every message ' +
  'against the OCPP 1.6 schemas and commit each MeterValues to SQLite (WAL, synchronous=NORMAL). ' +
  'Server CPU-s per 1000 = server CPU seconds in the window / (round trips / 1000). CPU: 100% = one core.');
p();
p('| server | N | run | round trips/s | p50 (ms) | p99 (ms) | server CPU | generator CPU | machine busy | **server CPU-s / 1000** | sampled values stored | errors |');
p('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const x of runs.filter((x) => x.mode === 'meter')) {
	const r = x.r;
	if (!r || !r.meter) { p(`| ${names[x.server]} | ${x.n} | ${x.rep} | – | – | – | – | – | – | – | – | no result |`); continue; }
	const m = r.meter;
	p(`| ${names[x.server]} | ${x.n} | ${x.rep} | ${f(m.rtt_per_s, 0)} | ${f(m.latency.p50_ms, 2)} | ${f(m.latency.p99_ms, 2)} | ` +
	  `${pct(m.cpu.server_util)} | ${pct(m.cpu.gen_util)} | ${pct(m.cpu.machine_busy)} | **${f(m.server_cpu_s_per_1k, 4)}** | ` +
	  `${x.server === 'floor' ? '–' : x.rows >= 0 ? x.rows : '?'} | ${r.error_count} |`);
}
p();

// Against the targets: ours / reference at the same N.
const idleOf = (s, n) => {
	const x = runs.find((x) => x.mode === 'idle' && x.server === s && x.n === n);
	return x && x.r && x.r.idle ? x.r.idle.rss_per_conn_kib : null;
};
const cpuOf = (s, n) => median(runs.filter((x) => x.mode === 'meter' && x.server === s && x.n === n)
	.map((x) => x.r && x.r.meter ? x.r.meter.server_cpu_s_per_1k : null));
p('## Against the targets');
p();
p('| figure | evctl serve | reference | ratio | target | met |');
p('|---|---:|---:|---:|---:|---|');
const row = (what, a, b, target, d) => {
	const ratio = (a !== null && b) ? a / b : null;
	p(`| ${what} | ${f(a, d)} | ${f(b, d)} | ${f(ratio, 3)} | ≤ ${target} | ${ratio === null ? '–' : ratio <= target ? 'yes' : '**no**'} |`);
};
for (const n of [...new Set(runs.filter((x) => x.mode === 'idle').map((x) => x.n))])
	row(`idle RSS per connection (KiB), N = ${n}`, idleOf('evctl', n), idleOf('ref', n), 0.2, 1);
for (const n of [...new Set(runs.filter((x) => x.mode === 'meter').map((x) => x.n))]) {
	const reps = runs.filter((x) => x.mode === 'meter' && x.server === 'evctl' && x.n === n).length;
	row(`server CPU-s per 1000 MeterValues, N = ${n}${reps > 1 ? ` (median of ${reps})` : ''}`,
	    cpuOf('evctl', n), cpuOf('ref', n), 0.1, 4);
}
p();
// The floor: a server that answers every call from a table, parsing and
// storing nothing. What it spends is the round trip itself (the kernel's
// TCP work, one read and one write); no server can spend less.
const floors = [...new Set(runs.filter((x) => x.mode === 'meter' && x.server === 'floor').map((x) => x.n))];
if (floors.length) {
	p('The floor, as a share of the reference (no server can go below it):');
	p();
	p('| N | floor CPU-s / 1000 | reference | floor / reference | evctl serve / floor |');
	p('|---:|---:|---:|---:|---:|');
	for (const n of floors) {
		const fl = cpuOf('floor', n), ref = cpuOf('ref', n), ev = cpuOf('evctl', n);
		p(`| ${n} | ${f(fl, 4)} | ${f(ref, 4)} | ${f(fl !== null && ref ? fl / ref : null, 3)} | ` +
		  `${f(ev !== null && fl ? ev / fl : null, 2)} |`);
	}
	p();
}

const trouble = runs.filter((x) => !x.alive || (x.rc !== 0 && x.rc !== 143) || (x.server === 'evctl' && x.loglines > 0) || !x.r || x.r.error_count);
if (trouble.length) {
	p('## Problems seen');
	p();
	for (const x of trouble) {
		const what = [];
		if (!x.alive) what.push('server died during the run');
		if (x.rc !== 0 && x.rc !== 143) what.push(`server exit status ${x.rc} after SIGTERM`);
		if (x.server === 'evctl' && x.loglines > 0) what.push(`${x.loglines} log lines at warn or above`);
		if (!x.r) what.push('no result from the generator');
		else if (x.r.error_count) what.push(`generator errors: ${JSON.stringify(x.r.errors)}`);
		p(`- ${x.label}: ${what.join('; ')} (logs: ${x.label}.server.log, ${x.label}.load.log)`);
	}
	p();
}
process.stdout.write(out.join('\n') + '\n');
