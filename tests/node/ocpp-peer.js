#!/usr/bin/env node
'use strict';
// Command-line runner for the interop harness: runs an independent OCPP-J
// peer (ocpp-rpc, strict mode) as CSMS or station, driven by a scenario file.
// Exit status: 0 scenario passed, 1 failed (reason on stderr), 2 usage error.

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const USAGE = 'usage: node ocpp-peer.js --role csms|station --ocpp 1.6|2.0.1 --scenario FILE.js'
    + ' [--port N] [--url ws://host:port/path] [--identity ID] [--password PW]'
    + ' [--timeout SECONDS] [--log FILE] [--tls-cert PEM --tls-key PEM [--tls-ca PEM]]';

const CLOSE_HARD_LIMIT_MS = 5000;

class UsageError extends Error {}

const OPTIONS = {
    role: { type: 'string' }, ocpp: { type: 'string' }, scenario: { type: 'string' },
    port: { type: 'string' }, url: { type: 'string' }, identity: { type: 'string' },
    password: { type: 'string' }, timeout: { type: 'string' }, log: { type: 'string' },
    'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-ca': { type: 'string' },
    help: { type: 'boolean' },
};

function parseCli(argv) {
    let values;
    try {
        ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
    } catch (err) {
        throw new UsageError(err.message);
    }
    if (values.help) return { help: true };
    const need = (cond, msg) => { if (!cond) throw new UsageError(msg); };
    need(['csms', 'station'].includes(values.role), '--role must be csms or station');
    need(['1.6', '2.0.1'].includes(values.ocpp), '--ocpp must be 1.6 or 2.0.1');
    need(values.scenario, '--scenario FILE.js is required');
    const timeout = Number(values.timeout ?? 60);
    need(timeout > 0 && timeout <= 3600, '--timeout must be a number of seconds (0 < N <= 3600)');
    const opts = { ...values, timeout };
    if (values.role === 'csms') {
        need(values.url === undefined && values.identity === undefined, '--url and --identity are for --role station');
        opts.port = Number(values.port ?? 0);
        need(Number.isInteger(opts.port) && opts.port >= 0 && opts.port < 65536, '--port must be 0..65535');
        need(!values['tls-cert'] === !values['tls-key'], '--tls-cert and --tls-key go together');
        need(!values['tls-ca'] || values['tls-cert'], '--tls-ca needs --tls-cert and --tls-key');
        if (values['tls-cert']) {
            const read = (f) => { try { return fs.readFileSync(f); } catch (e) { throw new UsageError(e.message); } };
            opts.tls = { cert: read(values['tls-cert']), key: read(values['tls-key']),
                ca: values['tls-ca'] ? read(values['tls-ca']) : undefined };
        }
    } else {
        need(values.port === undefined, '--port is for --role csms');
        need(/^wss?:\/\/[^/]/.test(values.url ?? ''), '--role station needs --url ws://host:port/path');
        opts.url = values.url.replace(/\/+$/, ''); // ocpp-rpc appends "/<identity>"
    }
    return opts;
}

function loadScenario(file) {
    let mod;
    try {
        mod = require(path.resolve(file));
    } catch (err) {
        throw new UsageError(`cannot load scenario ${file}: ${err.message}`);
    }
    const scenario = typeof mod === 'function' ? mod : mod?.default;
    if (typeof scenario !== 'function') throw new UsageError(`scenario ${file} must export an async function (peer, t)`);
    return scenario;
}

// One raw frame per line.  Line breaks can only sit between JSON tokens, so
// replacing them keeps a valid frame valid and the log line-oriented.
function openLog(file, peer) {
    let fd;
    try {
        fd = fs.openSync(file, 'w');
    } catch (err) {
        throw new UsageError(`cannot write --log ${file}: ${err.message}`);
    }
    peer.on('frame', (frame) => fs.writeSync(fd, `${frame.text.replace(/[\r\n]+/g, ' ')}\n`));
    return () => fs.closeSync(fd);
}

function waiting(peer) {
    const steps = peer.waitingFor;
    return steps.length ? steps.join(', ') : 'the scenario (no harness step pending)';
}

function usageExit(err) {
    process.stderr.write(`ocpp-peer: ${err.message}\n${USAGE}\n`);
    process.exit(2);
}

function setup(argv) {
    const opts = parseCli(argv);
    if (opts.help) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    const scenario = loadScenario(opts.scenario);
    // Loaded only now: ocpp-rpc takes a while to load its schemas, and usage errors need none.
    const { Peer, runScenario } = require('./harness');
    const peer = new Peer({
        role: opts.role, ocpp: opts.ocpp, port: opts.port, url: opts.url,
        identity: opts.identity, password: opts.password, callTimeoutMs: opts.timeout * 1000,
        tls: opts.tls,
    });
    const closeLog = opts.log ? openLog(opts.log, peer) : () => {};
    return { opts, peer, closeLog, run: () => runScenario(peer, scenario) };
}

/** Returns finish(code, reason): close everything and exit; the first call decides. */
function makeFinish(peer, closeLog) {
    let finishing = false;
    return async (code, reason) => {
        if (finishing) return;
        finishing = true;
        if (reason) process.stderr.write(`ocpp-peer: ${reason}\n`);
        setTimeout(() => process.exit(code), CLOSE_HARD_LIMIT_MS).unref(); // should closing itself hang
        await peer.close().catch(() => {});
        closeLog();
        process.exit(code);
    };
}

function armExitPaths(peer, timeoutSeconds, finish) {
    // Deliberately not unref'd: it also keeps a stuck scenario alive until it can be reported.
    setTimeout(() => finish(1, `timeout after ${timeoutSeconds} s waiting for: ${waiting(peer)}`),
        timeoutSeconds * 1000);
    for (const signal of ['SIGTERM', 'SIGINT']) {
        process.on(signal, () => finish(1, `${signal} received while waiting for: ${waiting(peer)}`));
    }
    process.on('uncaughtException', (err) => finish(1, `internal error: ${err.stack}`));
    process.on('unhandledRejection', (err) => finish(1, `unhandled rejection: ${err?.stack ?? err}`));
}

async function main() {
    let session;
    try {
        session = setup(process.argv.slice(2));
    } catch (err) {
        if (err instanceof UsageError) usageExit(err);
        throw err;
    }
    const { opts, peer, closeLog, run } = session;
    const finish = makeFinish(peer, closeLog);
    armExitPaths(peer, opts.timeout, finish);
    try {
        await peer.start();
        process.stdout.write(opts.role === 'csms' ? `READY ${peer.port}\n` : 'READY connected\n');
        await run();
        await finish(0);
    } catch (err) {
        await finish(1, err.message);
    }
}

main().catch((err) => {
    process.stderr.write(`ocpp-peer: internal error: ${err.stack}\n`);
    process.exit(1);
});
