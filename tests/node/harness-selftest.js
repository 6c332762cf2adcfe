#!/usr/bin/env node
'use strict';
// Self-test of the interop harness: runs ocpp-peer.js against itself (CSMS
// and station roles) in OCPP 1.6 and 2.0.1.  Prints "ok - name" or
// "not ok - name: why" per case and ends with "N passed, M failed".

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { defaultHandlers, SUBPROTOCOLS } = require('./harness');
const validators = require('ocpp-rpc/lib/standard-validators');

const PEER = path.join(__dirname, 'ocpp-peer.js');
const PEER_TIMEOUT = '10'; // seconds; a hung peer fails with its own message...
const READY_LIMIT_MS = 10000; // ...well before the self-test kills it
const EXIT_LIMIT_MS = 20000;
const children = new Set();

const scenario = (name) => path.join(__dirname, 'scenarios', `selftest-${name}.js`);

function check(cond, why) {
    if (!cond) throw new Error(why);
}

function deadline(promise, ms, what, onExpiry) {
    let timer;
    const expiry = new Promise((_, reject) => {
        timer = setTimeout(() => {
            onExpiry?.();
            reject(new Error(`${what} not within ${ms} ms`));
        }, ms);
        timer.unref(); // the awaited child process keeps the self-test alive, not this
    });
    return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}

/** Start ocpp-peer.js; `ready` resolves with the text after READY, `done` with the exit. */
function startPeer(args) {
    const child = spawn(process.execPath, [PEER, '--timeout', PEER_TIMEOUT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => { out.stdout += d; });
    child.stderr.on('data', (d) => { out.stderr += d; });
    let readyAt;
    const exited = new Promise((resolve) => child.once('close', (code, signal) => {
        children.delete(child);
        // Measured from READY: process start-up time varies with machine load.
        resolve({ code, signal, msAfterReady: Date.now() - readyAt, ...out });
    }));
    const ready = new Promise((resolve, reject) => {
        child.stdout.on('data', () => {
            const m = out.stdout.match(/^READY (.*)$/m);
            if (m && !readyAt) {
                readyAt = Date.now();
                resolve(m[1]);
            }
        });
        exited.then((r) => reject(new Error(`peer exited ${r.code} before READY: ${r.stderr.trim()}`)));
    });
    const kill = () => child.kill('SIGKILL');
    const handle = {
        child,
        ready: deadline(ready, READY_LIMIT_MS, 'READY', kill),
        done: deadline(exited, EXIT_LIMIT_MS, 'exit', kill),
    };
    // A failed case may leave these unawaited; its error is reported already.
    handle.ready.catch(() => {});
    handle.done.catch(() => {});
    return handle;
}

function startCsms(ocpp, name, extra = []) {
    return startPeer(['--role', 'csms', '--ocpp', ocpp, '--port', '0', '--scenario', scenario(name), ...extra]);
}

function startStation(ocpp, port, name, extra = []) {
    return startPeer(['--role', 'station', '--ocpp', ocpp, '--url', `ws://127.0.0.1:${port}/ocpp`,
        '--scenario', scenario(name), ...extra]);
}

function expectExit(result, code, who, stderrPattern) {
    const said = result.stderr.trim() || '(nothing on stderr)';
    check(result.code === code, `${who} exited ${result.code ?? result.signal}, expected ${code}: ${said}`);
    if (stderrPattern) check(stderrPattern.test(result.stderr), `${who} stderr does not match ${stderrPattern}: ${said}`);
}

/** Run a CSMS scenario and one station scenario against it. */
async function runPair(ocpp, csmsName, stationName, { csmsArgs = [], stationArgs = ['--identity', 'SELFTEST-1'] } = {}) {
    const csms = startCsms(ocpp, csmsName, csmsArgs);
    const port = await csms.ready;
    const station = startStation(ocpp, port, stationName, stationArgs);
    return { station: await station.done, csms: await csms.done };
}

// ---- cases ----------------------------------------------------------------

async function basicExchange(ocpp) {
    const { csms, station } = await runPair(ocpp, 'basic-csms', 'basic-station');
    expectExit(station, 0, 'station');
    expectExit(csms, 0, 'csms');
}

async function logFile(ocpp) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocpp-peer-'));
    try {
        const [csmsLog, stationLog] = [path.join(dir, 'csms.log'), path.join(dir, 'station.log')];
        const { csms, station } = await runPair(ocpp, 'basic-csms', 'basic-station', {
            csmsArgs: ['--log', csmsLog],
            stationArgs: ['--identity', 'SELFTEST-1', '--log', stationLog],
        });
        expectExit(station, 0, 'station');
        expectExit(csms, 0, 'csms');
        const lines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
        const csmsLines = lines(csmsLog);
        check(csmsLines.length === 8, `expected 8 frames in the csms log, got ${csmsLines.length}`);
        for (const line of csmsLines) {
            const frame = JSON.parse(line);
            check(Array.isArray(frame) && [2, 3, 4].includes(frame[0]), `not an OCPP-J frame: ${line}`);
        }
        // Same bytes on both ends of the wire (the order may interleave differently).
        check(JSON.stringify(csmsLines.sort()) === JSON.stringify(lines(stationLog).sort()),
            'csms and station logs hold different frames');
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function basicAuth(ocpp) {
    const csms = startCsms(ocpp, 'auth-csms', ['--password', 's3cret']);
    const port = await csms.ready;
    const bad = await startStation(ocpp, port, 'boot-station', ['--identity', 'SELFTEST-BAD', '--password', 'wrong']).done;
    expectExit(bad, 1, 'station with the wrong password', /ocpp-peer: cannot connect .*401/);
    const good = await startStation(ocpp, port, 'boot-station', ['--identity', 'SELFTEST-GOOD', '--password', 's3cret']).done;
    expectExit(good, 0, 'station with the right password');
    expectExit(await csms.done, 0, 'csms');
}

async function rawFrames(ocpp) {
    const { csms, station } = await runPair(ocpp, 'raw-csms', 'raw-station');
    expectExit(station, 0, 'station');
    expectExit(csms, 0, 'csms');
}

async function schemaViolation(ocpp) {
    const { csms, station } = await runPair(ocpp, 'boot-csms', 'invalid-boot-station');
    expectExit(csms, 1, 'csms', /ocpp-peer: invalid frame from the station: CALL BootNotification .*TypeConstraintViolation/);
    expectExit(station, 0, 'station');
}

async function failingScenario(ocpp) {
    const { csms, station } = await runPair(ocpp, 'fail-csms', 'boot-station');
    expectExit(csms, 1, 'csms', /ocpp-peer: assertion failed: vendor check: expected 'NoSuchVendor', got 'evctl-tests'/);
    expectExit(station, 0, 'station');
}

async function timeout(ocpp) {
    const { csms, station } = await runPair(ocpp, 'idle-csms', 'timeout-station', {
        stationArgs: ['--identity', 'SELFTEST-1', '--timeout', '1.5'],
    });
    expectExit(station, 1, 'station', /ocpp-peer: timeout after 1.5 s waiting for: expect Reset/);
    check(station.msAfterReady < 3500, `station took ${station.msAfterReady} ms after READY to give up on a 1.5 s timeout`);
    expectExit(csms, 0, 'csms (sees the timed-out station close)');
}

async function sigterm(ocpp) {
    const csms = startCsms(ocpp, 'idle-csms');
    await csms.ready;
    const killed = Date.now();
    csms.child.kill('SIGTERM');
    const result = await csms.done;
    expectExit(result, 1, 'csms', /ocpp-peer: SIGTERM received while waiting for: connected\(\)/);
    check(Date.now() - killed < 3000, `csms took ${Date.now() - killed} ms to exit after SIGTERM`);
}

async function usageErrors(ocpp) {
    const good = ['--ocpp', ocpp, '--scenario', scenario('boot-csms')];
    const cases = [
        [],
        ['--role', 'hub', ...good],
        ['--role', 'csms', '--ocpp', '1.5', '--scenario', scenario('boot-csms')],
        ['--role', 'csms', '--ocpp', ocpp],
        ['--role', 'station', ...good],
        ['--role', 'csms', ...good, '--port', 'x'],
        ['--role', 'csms', ...good, '--bogus'],
        ['--role', 'csms', '--ocpp', ocpp, '--scenario', scenario('does-not-exist')],
    ];
    const results = await Promise.all(cases.map((args) => startPeer(args).done));
    results.forEach((r, i) => expectExit(r, 2, `ocpp-peer ${cases[i].join(' ')}`, /usage: /));
}

async function defaultReplies(ocpp) {
    const validator = validators.find((v) => v.subprotocol === SUBPROTOCOLS[ocpp]);
    for (const [action, handler] of Object.entries(defaultHandlers(ocpp))) {
        for (const params of [{}, { idTag: 'T1', idToken: { idToken: 'T1', type: 'ISO14443' } }]) {
            try {
                validator.validate(`urn:${action}.conf`, handler(params));
            } catch (err) {
                throw new Error(`default reply to ${action} fails the schema: ${err.message}`);
            }
        }
    }
}

const CASES = [
    ['boot, heartbeat, calls both ways, reply function, CALLERROR', basicExchange],
    ['--log holds every frame as one JSON array per line', logFile],
    ['Basic Auth: right password accepted, wrong one refused', basicAuth],
    ['raw malformed frames recorded as failures', rawFrames],
    ['schema-invalid frame from the other side fails the run', schemaViolation],
    ['failing scenario exits 1 with its message', failingScenario],
    ['timeout exits 1 naming the waiting step', timeout],
    ['SIGTERM exits 1 promptly', sigterm],
    ['usage errors exit 2', usageErrors],
    ['default replies are schema-valid', defaultReplies],
];

async function outcome(label, run) {
    try {
        await run();
        return { ok: true, line: `ok - ${label}` };
    } catch (err) {
        return { ok: false, line: `not ok - ${label}: ${err.message.replace(/\n/g, ' | ')}` };
    }
}

// The cases of one version run in sequence; the versions run side by side.
function runVersion(ocpp) {
    let previous = Promise.resolve();
    return CASES.map(([name, run]) => {
        previous = previous.then(() => outcome(`${name} (OCPP ${ocpp})`, () => run(ocpp)));
        return previous;
    });
}

async function main() {
    let passed = 0;
    let failed = 0;
    for (const result of Object.keys(SUBPROTOCOLS).flatMap(runVersion)) {
        const { ok, line } = await result; // printed in a fixed order
        console.log(line);
        if (ok) passed++;
        else failed++;
    }
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
    children.forEach((child) => child.kill('SIGKILL')); // left behind by failed cases
}

process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
main();
