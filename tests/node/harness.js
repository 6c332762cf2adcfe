'use strict';
// Interop harness: an independent OCPP-J peer built on ocpp-rpc in strict
// mode, acting as a CSMS (RPCServer) or as a charging station (RPCClient) and
// driven by a scenario function.  Used by ocpp-peer.js and importable from
// other Node tests.  See README.md in this directory for the scenario API.

const { EventEmitter } = require('node:events');
const https = require('node:https');
const { inspect, isDeepStrictEqual } = require('node:util');
const {
    RPCServer, RPCClient, RPCError, TimeoutError, NOREPLY, createRPCError,
} = require('ocpp-rpc');

const SUBPROTOCOLS = { '1.6': 'ocpp1.6', '2.0.1': 'ocpp2.0.1' };
const CALL = 2;
const CALLRESULT = 3;
const CALLERROR = 4;
const TYPE_NAMES = { [CALL]: 'CALL', [CALLRESULT]: 'CALLRESULT', [CALLERROR]: 'CALLERROR' };
const FRAME_LENGTHS = { [CALL]: 4, [CALLRESULT]: 3, [CALLERROR]: 5 };

// CALLERROR codes each version allows.  1.6 takes both spellings of the two
// codes its errata corrected, because peers in the field send either.
const ERROR_CODES = {
    '1.6': ['NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError',
        'SecurityError', 'FormationViolation', 'FormatViolation',
        'PropertyConstraintViolation', 'OccurenceConstraintViolation',
        'OccurrenceConstraintViolation', 'TypeConstraintViolation', 'GenericError'],
    '2.0.1': ['FormatViolation', 'GenericError', 'InternalError', 'MessageTypeNotSupported',
        'NotImplemented', 'NotSupported', 'OccurrenceConstraintViolation',
        'PropertyConstraintViolation', 'ProtocolError', 'RpcFrameworkError',
        'SecurityError', 'TypeConstraintViolation'],
};

const CLOSE_GRACE_MS = 2000;

// Station->CSMS messages whose schema-valid answer is an empty object.
const EMPTY_REPLIES = {
    '1.6': ['StatusNotification', 'MeterValues', 'DiagnosticsStatusNotification',
        'FirmwareStatusNotification', 'SecurityEventNotification', 'LogStatusNotification',
        'SignedFirmwareStatusNotification'],
    '2.0.1': ['StatusNotification', 'MeterValues', 'NotifyReport', 'NotifyEvent',
        'NotifyMonitoringReport', 'FirmwareStatusNotification', 'LogStatusNotification',
        'SecurityEventNotification', 'NotifyChargingLimit', 'ClearedChargingLimit',
        'NotifyCustomerInformation', 'NotifyDisplayMessages', 'ReportChargingProfiles',
        'PublishFirmwareStatusNotification', 'ReservationStatusUpdate'],
};

/** Default CSMS answers to station->CSMS calls, so scenarios only spell out what they test. */
function defaultHandlers(ocpp) {
    let nextTransactionId = 1;
    const now = () => new Date().toISOString();
    const accepted = () => ({ status: 'Accepted' });
    const handlers = Object.fromEntries(EMPTY_REPLIES[ocpp].map((action) => [action, () => ({})]));
    Object.assign(handlers, {
        BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
        Heartbeat: () => ({ currentTime: now() }),
        DataTransfer: () => ({ status: 'UnknownVendorId' }),
        SignCertificate: accepted,
    });
    if (ocpp === '1.6') {
        Object.assign(handlers, {
            Authorize: () => ({ idTagInfo: accepted() }),
            StartTransaction: () => ({ idTagInfo: accepted(), transactionId: nextTransactionId++ }),
            StopTransaction: (p) => (p.idTag ? { idTagInfo: accepted() } : {}),
        });
    } else {
        Object.assign(handlers, {
            Authorize: () => ({ idTokenInfo: accepted() }),
            TransactionEvent: (p) => (p.idToken ? { idTokenInfo: accepted() } : {}),
            NotifyEVChargingNeeds: accepted,
            NotifyEVChargingSchedule: accepted,
        });
    }
    return handlers;
}

/** A minimal schema-valid BootNotification request, for station-role scenarios. */
function exampleBoot(ocpp, model = 'ocpp-peer', vendor = 'evctl-tests') {
    if (ocpp === '1.6') return { chargePointVendor: vendor, chargePointModel: model };
    return { reason: 'PowerUp', chargingStation: { vendorName: vendor, model } };
}

/** A CALLERROR received in answer to peer.call(). */
class CallError extends Error {
    constructor(action, err) {
        super(`call ${action}: answered with CALLERROR ${err.rpcErrorCode}: ${err.message}`);
        this.name = 'CallError';
        this.action = action;
        this.code = err.rpcErrorCode;
        this.description = err.message;
        this.details = err.details;
    }
}

/** Build an error that, used as a reply, is sent as a CALLERROR. */
function callError(code, description = '', details = {}) {
    return createRPCError(code, description, details);
}

function deferred() {
    const d = {};
    d.promise = new Promise((resolve, reject) => Object.assign(d, { resolve, reject }));
    return d;
}

function parseJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

function clip(text, max = 200) {
    return text.length > max ? `${text.slice(0, max)}...` : text;
}

function describeFrame(frame) {
    const type = TYPE_NAMES[frame.message?.[0]];
    if (!type) return `frame ${clip(frame.text)}`;
    const action = frame.action ? (type === 'CALL' ? ` ${frame.action}` : ` (${frame.action})`) : '';
    return `${type}${action} ${clip(frame.text)}`;
}

/** Checks the frame layout rules ocpp-rpc lets through (length, id, CALLERROR fields). */
function shapeProblem(message, ocpp) {
    const [type, id, code, description, details] = message;
    const length = FRAME_LENGTHS[type];
    if (message.length !== length) return `${TYPE_NAMES[type]} must have ${length} elements, has ${message.length}`;
    if (id.length > 36) return 'message id is longer than 36 characters';
    if (type !== CALLERROR) return null;
    if (!ERROR_CODES[ocpp].includes(code)) return `CALLERROR code ${JSON.stringify(code)} does not exist in OCPP ${ocpp}`;
    if (typeof description !== 'string') return 'CALLERROR description must be a string';
    if (ocpp === '2.0.1' && description.length > 255) return 'CALLERROR description is longer than 255 characters';
    if (details === null || typeof details !== 'object' || Array.isArray(details)) return 'CALLERROR details must be an object';
    return null;
}

function withTimeout(promise, ms) {
    let timer;
    const expiry = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms);
    });
    return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}

class Peer extends EventEmitter {
    /**
     * @param {object} o
     * @param {'csms'|'station'} o.role
     * @param {'1.6'|'2.0.1'} o.ocpp
     * @param {number} [o.port]          csms: port to listen on, 0 = any free port
     * @param {string} [o.url]           station: ws:// URL; the identity is appended
     * @param {string} [o.identity]      station: our identity (csms: peer.identity is the station's)
     * @param {string} [o.password]      csms: required Basic Auth password; station: password to send
     * @param {number} [o.callTimeoutMs] default bound on peer.call()
     * @param {object} [o.tls]           csms: serve wss:// with {cert, key} (PEM text); with
     *                                   ca as well, stations must present a certificate signed
     *                                   by it whose CN is their identity (security profile 3)
     */
    constructor({ role, ocpp, port = 0, url, identity = 'ocpp-peer', password, callTimeoutMs = 30000, tls }) {
        super();
        if (!['csms', 'station'].includes(role)) throw new Error(`unknown role ${role}`);
        if (!SUBPROTOCOLS[ocpp]) throw new Error(`unknown OCPP version ${ocpp}`);
        Object.assign(this, { role, ocpp, port, url, password, tls });
        this.identity = role === 'station' ? identity : undefined; // csms: set per connection
        this.protocol = SUBPROTOCOLS[ocpp];
        this.frames = [];           // every frame, both directions, in wire order
        this.violations = [];       // inbound frames that failed validation
        this.rejections = [];       // csms: refused WebSocket upgrades
        this.handshake = null;      // csms: ocpp-rpc handshake of the current station
        this.error = null;          // first fatal error of the run
        this.failure = new Promise((_, reject) => { this._fail = reject; });
        this.failure.catch(() => {}); // observed by runScenario(); never "unhandled"
        this._callTimeoutMs = callTimeoutMs;
        this._handlers = new Map(Object.entries(role === 'csms' ? defaultHandlers(ocpp) : {}));
        this._inbox = [];           // inbound CALLs, in arrival order
        this._rawTaken = new WeakSet(); // frames already returned by expectRaw()
        this._waiters = new Set();
        this._steps = new Set();    // what the scenario is waiting for, for timeout messages
        this._sentCalls = new Map(); // id -> {action, raw} of CALLs we sent
        this._receivedCalls = new Map(); // id -> action of CALLs we received
        this._schemaErrors = new WeakMap(); // ocpp-rpc error object -> 'request'|'response'
        this._conn = null;
        this._allowViolations = false;
        this._rawSent = false;
        this._sendingRaw = false;
    }

    // ---- lifecycle ---------------------------------------------------------

    /** csms: listen and resolve with the port; station: connect. */
    start() {
        if (this.role === 'csms') return this._step(`listen on 127.0.0.1:${this.port}`, this._listen());
        return this._step(`connect to ${this.url}`, this._connect());
    }

    async _listen() {
        this._server = new RPCServer({
            protocols: [this.protocol], strictMode: true, callTimeoutMs: this._callTimeoutMs,
        });
        this._server.auth((accept, reject, handshake) => this._authorize(accept, reject, handshake));
        this._server.on('client', (client) => this._onStation(client));
        this._server.on('upgradeAborted', ({ identity, error }) => {
            this.rejections.push({ identity, reason: error?.message ?? '', time: Date.now() });
            this._wake();
        });
        if (this.tls) return this._listenTls();
        const http = await this._server.listen(this.port, '127.0.0.1');
        this.port = http.address().port;
        return this.port;
    }

    /** wss://: our own HTTPS server hands WebSocket upgrades to ocpp-rpc. */
    async _listenTls() {
        const { cert, key, ca } = this.tls;
        this._https = https.createServer({ cert, key, ca, requestCert: !!ca, rejectUnauthorized: !!ca });
        this._https.on('upgrade', this._server.handleUpgrade);
        await new Promise((resolve, reject) => {
            this._https.once('error', reject);
            this._https.listen(this.port, '127.0.0.1', resolve);
        });
        this.port = this._https.address().port;
        return this.port;
    }

    _authorize(accept, reject, handshake) {
        // Without a shared subprotocol ocpp-rpc would accept and skip strict mode.
        if (!handshake.protocols.has(this.protocol)) return reject(400, `subprotocol ${this.protocol} required`);
        if (this.password != null && handshake.password?.toString('utf8') !== this.password) {
            return reject(401, 'wrong or missing Basic Auth password');
        }
        if (this.tls?.ca) {
            const cn = handshake.request.socket.getPeerCertificate?.()?.subject?.CN;
            if (cn !== handshake.identity) return reject(401, `certificate CN ${cn} is not the station id`);
        }
        return accept();
    }

    _onStation(client) {
        const previous = this._conn;
        if (previous?.open) previous.client.close({ code: 1000, reason: 'replaced by a new connection' });
        this.handshake = client.handshake;
        this.identity = client.identity;
        this._opened(this._attach(client, client.identity));
    }

    async _connect() {
        const client = new RPCClient({
            endpoint: this.url, identity: this.identity, password: this.password,
            protocols: [this.protocol], strictMode: true, reconnect: false,
            callTimeoutMs: this._callTimeoutMs,
        });
        const conn = this._attach(client, this.identity);
        try {
            await client.connect();
        } catch (err) {
            const why = err.code && err.response ? `HTTP ${err.code} ${err.message}` : err.message;
            throw new Error(`cannot connect to ${this.url}/${this.identity}: ${why}`);
        }
        this._opened(conn);
    }

    /** station: drop the connection (if open) and connect again. */
    async reconnect() {
        if (this.role !== 'station') throw new Error('reconnect() is for the station role');
        if (this._conn?.open) await this._conn.client.close({ code: 1000 });
        await this.start();
    }

    /** Close gracefully, then by force; never hangs. */
    async close() {
        // A call held for expect() would stop ocpp-rpc's graceful close from finishing.
        for (const entry of this._inbox) entry.reply.resolve(NOREPLY);
        const conn = this._conn;
        if (conn?.open) {
            await withTimeout(conn.client.close({ code: 1000, reason: 'test peer closing' }), CLOSE_GRACE_MS)
                // ocpp-rpc cannot escalate a close already in progress; end the socket directly.
                .catch(() => conn.client._ws?.terminate());
        }
        if (this._server) await withTimeout(this._server.close({ force: true }), CLOSE_GRACE_MS).catch(() => {});
        if (this._https) {
            this._https.closeAllConnections?.();
            await withTimeout(new Promise((r) => this._https.close(r)), CLOSE_GRACE_MS).catch(() => {});
        }
    }

    // ---- recording and validation -----------------------------------------

    _attach(client, identity) {
        const conn = { client, identity, open: false, closeInfo: null };
        client.on('message', (event) => this._record(event));
        client.on('badMessage', (event) => this._onBadMessage(event));
        client.on('strictValidationFailure', (event) => this._onSchemaFailure(event));
        client.once('disconnect', (info) => this._onDisconnect(conn, info));
        client.handle((call) => this._onCall(conn, call));
        return conn;
    }

    _opened(conn) {
        conn.open = true;
        this._conn = conn;
        this._wake();
    }

    _onDisconnect(conn, { code, reason }) {
        conn.open = false;
        conn.closeInfo = { code, reason: String(reason ?? '') };
        // Calls from this connection can no longer be answered.
        for (const entry of this._inbox.filter((e) => e.conn === conn)) {
            entry.reply.resolve(NOREPLY);
            entry.sent.resolve();
        }
        this._wake();
    }

    _record({ message, outbound }) {
        const text = Buffer.isBuffer(message) ? message.toString('utf8') : String(message);
        const frame = {
            dir: outbound ? 'out' : 'in', time: Date.now(), text, message: parseJson(text),
            action: undefined, valid: outbound && this._sendingRaw ? null : true, error: undefined,
        };
        if (outbound) frame.raw = this._sendingRaw;
        this.frames.push(frame);
        if (!outbound) this._lastInbound = frame;
        this._label(frame);
        if (outbound) {
            this._onSent(frame);
        } else {
            this._checkShape(frame);
            // ocpp-rpc reports failures of this frame synchronously after this event;
            // wake waiters only once those are in.
            queueMicrotask(() => this._wake());
        }
        this.emit('frame', frame);
    }

    _label(frame) {
        const [type, id, action] = Array.isArray(frame.message) ? frame.message : [];
        if (typeof id !== 'string') return;
        const out = frame.dir === 'out';
        if (type === CALL) {
            frame.action = typeof action === 'string' ? action : undefined;
            if (out) this._sentCalls.set(id, { action: frame.action, raw: frame.raw });
            else this._receivedCalls.set(id, frame.action);
        } else if (type === CALLRESULT || type === CALLERROR) {
            frame.action = out ? this._receivedCalls.get(id) : this._sentCalls.get(id)?.action;
        }
    }

    _onSent(frame) {
        const [type, id] = Array.isArray(frame.message) ? frame.message : [];
        if (type !== CALLRESULT && type !== CALLERROR) return;
        for (const entry of this._inbox) if (entry.messageId === id) entry.sent.resolve();
    }

    _checkShape(frame) {
        const m = frame.message;
        // Frames that are not even an OCPP-J array are ocpp-rpc's to report (badMessage).
        if (!Array.isArray(m) || !FRAME_LENGTHS[m[0]] || typeof m[1] !== 'string') return;
        const problem = shapeProblem(m, this.ocpp);
        if (problem) this._violation(frame, problem);
    }

    // ocpp-rpc emits 'badMessage' while still handling the frame: it is the last inbound one.
    _onBadMessage({ error }) {
        const frame = this._lastInbound;
        const [type, id] = Array.isArray(frame.message) ? frame.message : [];
        const sent = this._sentCalls.get(id);
        const answersRawFrame = (type === CALLRESULT || type === CALLERROR) && this._rawSent && (!sent || sent.raw);
        if (answersRawFrame) {
            frame.note = 'answer to a frame sent with sendRaw()';
            return;
        }
        this._violation(frame, error.message);
    }

    _onSchemaFailure({ method, error, outbound, isCall }) {
        const reason = `${error.rpcErrorCode}: ${error.message}`;
        if (outbound && !isCall) {
            this._fatal(new Error(`our reply to ${method} fails the ${this.protocol} schema (fix the scenario): ${reason}`));
        } else if (outbound) {
            this._schemaErrors.set(error, 'request'); // call() rejects with it
        } else {
            if (!isCall) this._schemaErrors.set(error, 'response');
            this._violation(this._lastInbound, reason); // emitted while handling that frame
        }
    }

    _violation(frame, reason) {
        frame.error = frame.error ? `${frame.error}; ${reason}` : reason;
        if (frame.valid === false) return;
        frame.valid = false;
        this.violations.push(frame);
        if (!this._allowViolations) {
            const other = this.role === 'csms' ? 'station' : 'CSMS';
            this._fatal(new Error(`invalid frame from the ${other}: ${describeFrame(frame)}: ${reason}`));
        }
    }

    _fatal(err) {
        if (this.error) return;
        this.error = err;
        this._fail(err);
    }

    // ---- inbound calls ------------------------------------------------------

    // ocpp-rpc wildcard handler: every inbound CALL goes to the inbox; a waiting
    // expect() takes it first, else a standing handler answers, else it is held
    // unanswered until an expect() takes it.
    _onCall(conn, { method, params, messageId }) {
        const entry = {
            action: method, params, messageId, conn, time: Date.now(),
            claimed: false, answered: false, reply: deferred(), sent: deferred(),
        };
        this._inbox.push(entry);
        this._wake();
        const handler = this._handlers.get(method);
        if (!entry.answered && handler !== undefined) this._answer(entry, handler);
        return entry.reply.promise;
    }

    _answer(entry, spec) {
        entry.answered = true;
        entry.reply.resolve(this._evaluate(entry, spec));
    }

    async _evaluate(entry, spec) {
        let value = spec;
        if (typeof spec === 'function') {
            try {
                value = await spec(entry.params, { action: entry.action, messageId: entry.messageId });
            } catch (err) {
                if (err instanceof RPCError) throw err; // deliberate CALLERROR
                this._fatal(new Error(`reply to ${entry.action} threw: ${err.message}`));
                throw createRPCError('InternalError', 'test peer failed');
            }
        }
        if (value instanceof Error) throw value; // ocpp-rpc answers with a CALLERROR
        return value === undefined ? {} : value;
    }

    // ---- waiting ------------------------------------------------------------

    _step(desc, promise) {
        const token = { desc };
        this._steps.add(token);
        return promise.finally(() => this._steps.delete(token));
    }

    /** What the scenario is currently waiting for. */
    get waitingFor() {
        return [...this._steps].map((s) => s.desc);
    }

    // Resolves with the first non-undefined result of check(), re-run after every event.
    _waitFor(desc, check, timeoutMs) {
        return new Promise((resolve, reject) => {
            const waiter = {};
            const done = (settle, value) => {
                clearTimeout(waiter.timer);
                this._waiters.delete(waiter);
                settle(value);
            };
            waiter.poll = () => {
                if (!this._waiters.has(waiter)) return;
                try {
                    const value = check();
                    if (value !== undefined) done(resolve, value);
                } catch (err) {
                    done(reject, err);
                }
            };
            if (timeoutMs) {
                waiter.timer = setTimeout(() => done(reject, new Error(`${desc}: nothing within ${timeoutMs} ms`)), timeoutMs);
            }
            this._waiters.add(waiter);
            waiter.poll();
        });
    }

    _wait(desc, check, timeoutMs) {
        return this._step(desc, this._waitFor(desc, check, timeoutMs));
    }

    _wake() {
        for (const waiter of [...this._waiters]) waiter.poll();
    }

    _client(verb) {
        if (!this._conn?.open) throw new Error(`${verb}: not connected`);
        return this._conn.client;
    }

    // ---- scenario API -------------------------------------------------------

    /** Resolves with the station identity once a connection is open. */
    connected({ timeout } = {}) {
        return this._wait('connected()', () => (this._conn?.open ? this._conn.identity : undefined), timeout);
    }

    /** Resolves with {code, reason} once the current (or next) connection has closed. */
    waitDisconnect({ timeout } = {}) {
        const conn = this._conn;
        return this._wait('waitDisconnect()', () => {
            const c = conn ?? this._conn;
            return c && !c.open && c.closeInfo ? c.closeInfo : undefined;
        }, timeout);
    }

    /** Send a CALL; resolves with the response payload, rejects with CallError on CALLERROR. */
    async call(action, payload = {}, { timeout } = {}) {
        const client = this._client(`call ${action}`);
        const options = timeout ? { callTimeoutMs: timeout } : {};
        return this._step(`call ${action}`, client.call(action, payload, options)
            .catch((err) => { throw this._callFailure(action, err, timeout); }));
    }

    _callFailure(action, err, timeout) {
        const schemaError = this._schemaErrors.get(err);
        if (schemaError === 'request') return new Error(`call ${action}: payload fails the ${this.protocol} schema, not sent: ${err.message}`);
        if (schemaError === 'response') return new Error(`call ${action}: response fails the ${this.protocol} schema: ${err.message}`);
        if (err instanceof TimeoutError) return new Error(`call ${action}: no response within ${timeout ?? this._callTimeoutMs} ms`);
        if (err instanceof RPCError) return new CallError(action, err);
        return new Error(`call ${action}: ${err.message}`);
    }

    /**
     * Wait for the next CALL `action` from the other side, answer it, resolve with its params.
     * opts.reply: object, function(params) -> object, or Error (sent as CALLERROR);
     *   default: the standing handler, else {}.
     * opts.match: function(params) -> bool, to skip calls that do not match.
     * opts.fresh: only take a call that arrives after this expect() started.
     * opts.timeout: ms (default: bounded by the run timeout).
     */
    expect(action, { timeout, reply, match, fresh = false } = {}) {
        const from = fresh ? this._inbox.length : 0;
        const take = () => {
            const entry = this._inbox.slice(from)
                .find((e) => !e.claimed && e.action === action && (!match || match(e.params)));
            if (!entry) return undefined;
            entry.claimed = true;
            if (!entry.answered) {
                this._answer(entry, reply !== undefined ? reply : this._handlers.get(action) ?? {});
            } else if (reply !== undefined) {
                throw new Error(`expect ${action}: it arrived before expect() and the standing handler `
                    + 'already answered it; call expect() earlier (before connected()) or use handle()');
            }
            return entry;
        };
        const desc = `expect ${action}`;
        // Resolve only once our answer is on the wire, so a scenario may close right after.
        return this._step(desc, this._waitFor(desc, take, timeout).then(async (entry) => {
            await entry.sent.promise;
            return entry.params;
        }));
    }

    /** Standing answer for every CALL `action` not taken by expect(); null removes it. */
    handle(action, reply) {
        if (reply === null) this._handlers.delete(action);
        else this._handlers.set(action, reply);
        return this;
    }

    /** Send arbitrary text, bypassing strict mode. */
    sendRaw(text) {
        const client = this._client('sendRaw');
        this._rawSent = true;
        this._sendingRaw = true;
        try {
            client.sendRaw(text);
        } finally {
            this._sendingRaw = false;
        }
    }

    /** Resolve with the next inbound frame record for which predicate(frame) is true. */
    expectRaw(predicate, { timeout } = {}) {
        const take = () => {
            const frame = this.frames.find((f) => f.dir === 'in' && !this._rawTaken.has(f) && predicate(f));
            if (frame) this._rawTaken.add(frame);
            return frame;
        };
        return this._wait(`expectRaw(${clip(String(predicate), 60)})`, take, timeout);
    }

    /** Invalid inbound frames no longer fail the run; inspect peer.violations instead. */
    allowViolations() {
        this._allowViolations = true;
        return this;
    }

    callError(code, description, details) {
        return callError(code, description, details);
    }
}

class AssertionFailure extends Error {
    constructor(message) {
        super(message);
        this.name = 'AssertionFailure';
    }
}

/** The `t` object handed to scenarios: assertions that throw with clear messages. */
function assertions() {
    const show = (v) => inspect(v, { depth: 6, breakLength: Infinity });
    const check = (cond, msg, detail) => {
        if (!cond) throw new AssertionFailure(`assertion failed: ${msg}${detail ? `: ${detail}` : ''}`);
    };
    return {
        ok: (cond, msg = 'expected a truthy value') => check(cond, msg, `got ${show(cond)}`),
        equal: (actual, expected, msg = 'values differ') => check(actual === expected, msg,
            `expected ${show(expected)}, got ${show(actual)}`),
        deepEqual: (actual, expected, msg = 'values differ') => check(isDeepStrictEqual(actual, expected), msg,
            `expected ${show(expected)}, got ${show(actual)}`),
        match: (actual, regexp, msg = 'no match') => check(regexp.test(String(actual)), msg,
            `expected ${regexp}, got ${show(actual)}`),
        fail: (msg = 'failed') => check(false, msg),
        log: (...args) => process.stderr.write(`# ${args.map((a) => (typeof a === 'string' ? a : show(a))).join(' ')}\n`),
    };
}

/** Run scenario(peer, t); rejects on its failure or on the peer's first fatal error. */
async function runScenario(peer, scenario) {
    const run = Promise.resolve().then(() => scenario(peer, assertions()));
    await Promise.race([run, peer.failure]);
    if (peer.error) throw peer.error;
}

module.exports = {
    Peer, runScenario, assertions, callError, CallError, defaultHandlers, exampleBoot, SUBPROTOCOLS,
};
