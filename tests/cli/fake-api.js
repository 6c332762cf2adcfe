#!/usr/bin/env node
// A fake of `evctl serve`'s REST API (doc/API.md), for tests/cli/api.sh.
//
//   node fake-api.js --token TOKEN --log FILE
//
// Listens on a free loopback port and prints "listening PORT" once ready.
// Every request is appended to FILE as one JSON line: method, path (with
// the query as sent), auth (the Authorization header), type (Content-Type)
// and body (the parsed JSON, null when empty). It follows the contract
// strictly: bearer token, routes, methods, field names and types, unknown
// fields refused, the error bodies and status codes. Answers are canned.
//
// Stations choose the station's behaviour for operations:
//   CP-001   connected, answers Accepted (or the operation's own answer)
//   CP-002   not connected: 409 station_offline
//   CP-REJ   answers Rejected (UnlockFailed for unlock)
//   CP-ERR   answers with a CALLERROR: 422 rejected
//   CP-SLOW  does not answer: 504 timeout
//   CP-BUSY  503 busy
//   others   404 not_found
//
// GET /api/v1/events: the first connection for a given ?station= value
// sends a few events and ends (a server restart); later ones send one
// more event and stay open.
'use strict';

const http = require('http');
const fs = require('fs');

const args = process.argv.slice(2);
const arg = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const TOKEN = arg('--token') || 'test-token';
const LOG = arg('--log');
const T0 = '2026-11-22T10:00:00Z';

function connector(n, status, extra) {
	return Object.assign({ connector: n, status, error_code: 'NoError', info: null,
		vendor_error_code: null, since: T0 }, extra || {});
}

function station(id, connected, extra) {
	return Object.assign({
		id, connected, ocpp: '1.6', registration: 'accepted',
		vendor: 'evctl', model: 'sim', serial: 'SN-' + id, firmware: '1.2.0',
		iccid: null, imsi: null, meter_type: null, meter_serial: null,
		has_password: false, first_seen: T0, last_seen: '2026-11-22T10:05:00Z', last_boot: T0,
		remote_address: connected ? '127.0.0.1' : null,
		connectors: [],
	}, extra || {});
}

const stations = new Map();
for (const s of [
	station('CP-001', true, { has_password: true, connectors: [
		connector(0, 'Available'), connector(1, 'Charging', { session: 12 }),
		connector(2, 'Faulted', { error_code: 'GroundFailure', info: 'ground\u001b[31m' })] }),
	station('CP-002', false, { registration: 'unknown', vendor: null, model: null, serial: null,
		firmware: null, first_seen: null, last_seen: null, last_boot: null }),
	station('CP-REJ', true), station('CP-ERR', true), station('CP-SLOW', true), station('CP-BUSY', true),
])
	stations.set(s.id, s);

function session(id, st, conn, tag, status, energy, extra) {
	return Object.assign({ id, station: st, connector: conn, transaction: id, id_tag: tag, status,
		start: T0, stop: status === 'active' ? null : '2026-11-22T11:00:00Z',
		meter_start: 1000, meter_stop: status === 'active' ? null : 1000 + energy,
		energy_wh: energy, stop_reason: status === 'active' ? null : 'Local',
		stop_id_tag: null, reservation: null }, extra || {});
}

const sessions = [
	session(12, 'CP-001', 1, 'TAG-1', 'active', 2345),
	session(11, 'CP-001', 2, 'TAG-2', 'completed', 5000),
	session(10, 'CP-002', 1, 'TAG-1', 'completed', 700),
];

const meterValues = [
	{ time: T0, context: 'Transaction.Begin', measurand: 'Energy.Active.Import.Register', phase: null,
	  location: 'Outlet', unit: 'Wh', value: '1000' },
	{ time: '2026-11-22T10:01:00Z', context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L1',
	  location: null, unit: 'A', value: '16.0' },
];

const tokens = new Map();
for (const t of [
	{ id_tag: 'TAG-1', status: 'Accepted', expiry: null, parent_id_tag: null, created: T0, updated: T0 },
	{ id_tag: 'TAG-2', status: 'Blocked', expiry: '2027-01-01T00:00:00Z', parent_id_tag: 'FLEET',
	  created: T0, updated: T0 },
])
	tokens.set(t.id_tag, t);

const history = [
	{ time: '2026-11-22T10:02:00Z', connector: 2, status: 'Faulted', error_code: 'GroundFailure',
	  info: null, vendor_error_code: 'E7', vendor_id: null },
	{ time: '2026-11-22T10:01:00Z', connector: 1, status: 'Charging', error_code: 'NoError',
	  info: null, vendor_error_code: null, vendor_id: null },
	{ time: T0, connector: 1, status: 'Preparing', error_code: 'NoError', info: null,
	  vendor_error_code: null, vendor_id: null },
];

const audit = [
	{ time: '2026-11-22T10:03:00Z', client: 'operator', station: 'CP-001', operation: 'reset',
	  request: { type: 'soft' }, result: 'Accepted', response: { status: 'Accepted' } },
	{ time: '2026-11-22T10:02:00Z', client: 'operator', station: 'CP-002', operation: 'unlock',
	  request: { connector: 1 }, result: 'station_offline', response: null },
];

// ------------------------------------------------------------ validation

class ApiError extends Error {
	constructor(status, code, message, extra) {
		super(message);
		this.status = status;
		this.code = code;
		this.extra = extra;
	}
}

const bad = (message) => new ApiError(400, 'bad_request', message);
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

// A field's type: 'string', 'int', 'bool', 'object', 'array', 'time', or
// an array of allowed strings; '!' after a name marks it required;
// '?' after a type allows null.
function check(body, fields) {
	if (typeof body !== 'object' || body === null || Array.isArray(body))
		throw bad('the body must be a JSON object');
	const spec = {};
	for (const [k, t] of Object.entries(fields))
		spec[k.replace('!', '')] = { type: t, required: k.endsWith('!') };
	for (const k of Object.keys(body))
		if (!(k in spec))
			throw bad(`unknown field '${k}'`);
	for (const [k, { type, required }] of Object.entries(spec)) {
		const v = body[k];
		if (v === undefined) {
			if (required)
				throw bad(`missing field '${k}'`);
			continue;
		}
		let t = type, nullable = false;
		if (typeof t === 'string' && t.endsWith('?')) {
			t = t.slice(0, -1);
			nullable = true;
		}
		if (v === null && nullable)
			continue;
		const ok = Array.isArray(t) ? t.includes(v)
			: t === 'string' ? typeof v === 'string'
			: t === 'int' ? Number.isInteger(v)
			: t === 'bool' ? typeof v === 'boolean'
			: t === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v)
			: t === 'array' ? Array.isArray(v)
			: t === 'time' ? typeof v === 'string' && TIME.test(v)
			: false;
		if (!ok)
			throw bad(`field '${k}': expected ${Array.isArray(t) ? t.join(' or ') : t}`);
	}
	if ('timeout' in body && (body.timeout < 1 || body.timeout > 300))
		throw bad("field 'timeout': 1 to 300 seconds");
	return body;
}

// ------------------------------------------------------------ operations

const CALL_ACTIONS = ['CancelReservation', 'ChangeAvailability', 'ChangeConfiguration', 'ClearCache',
	'ClearChargingProfile', 'DataTransfer', 'GetCompositeSchedule', 'GetConfiguration',
	'GetDiagnostics', 'GetLocalListVersion', 'RemoteStartTransaction', 'RemoteStopTransaction',
	'ReserveNow', 'Reset', 'SendLocalList', 'SetChargingProfile', 'TriggerMessage',
	'UnlockConnector', 'UpdateFirmware'];

const ops = {
	start: { action: 'RemoteStartTransaction',
		fields: { 'id_tag!': 'string', connector: 'int', profile: 'object' } },
	stop: { action: 'RemoteStopTransaction', fields: { transaction: 'int', session: 'int' },
		extra: (b) => { if (('transaction' in b) === ('session' in b))
			throw bad("give 'transaction' or 'session'"); } },
	reset: { action: 'Reset', fields: { type: ['soft', 'hard'] } },
	unlock: { action: 'UnlockConnector', fields: { 'connector!': 'int' },
		answer: () => ({ status: 'Unlocked' }), reject: { status: 'UnlockFailed' } },
	availability: { action: 'ChangeAvailability', fields: { 'connector!': 'int', 'available!': 'bool' },
		answer: (b) => ({ status: b.connector === 1 ? 'Scheduled' : 'Accepted' }) },
	trigger: { action: 'TriggerMessage', fields: { 'message!': ['boot', 'heartbeat', 'status',
		'meter_values', 'firmware_status', 'diagnostics_status'], connector: 'int' } },
	'config-get': { action: 'GetConfiguration', fields: { keys: 'array' },
		answer: (b) => {
			const known = [{ key: 'HeartbeatInterval', readonly: false, value: '300' },
				{ key: 'NumberOfConnectors', readonly: true, value: '2' }];
			if (!b.keys)
				return { configurationKey: known };
			return { configurationKey: known.filter((k) => b.keys.includes(k.key)),
				unknownKey: b.keys.filter((k) => !known.some((x) => x.key === k)) };
		} },
	'config-set': { action: 'ChangeConfiguration', fields: { 'key!': 'string', 'value!': 'string' },
		answer: (b) => ({ status: b.key === 'MeterValueSampleInterval' ? 'RebootRequired' : 'Accepted' }) },
	'clear-cache': { action: 'ClearCache', fields: {} },
	'data-transfer': { action: 'DataTransfer',
		fields: { 'vendor_id!': 'string', message_id: 'string', data: 'string' },
		answer: (b) => ({ status: 'Accepted', data: b.data ? 'echo:' + b.data : undefined }) },
	'local-list-send': { action: 'SendLocalList', fields: { 'version!': 'int',
		'update!': ['full', 'differential'], list: 'array' },
		extra: (b) => { for (const e of b.list || []) check(e, { 'id_tag!': 'string',
			status: ['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx'], expiry: 'time',
			parent_id_tag: 'string' }); } },
	'local-list-version': { action: 'GetLocalListVersion', fields: {}, answer: () => ({ listVersion: 3 }) },
	reserve: { action: 'ReserveNow', fields: { 'connector!': 'int', 'id_tag!': 'string',
		'expiry!': 'time', parent_id_tag: 'string', reservation: 'int' },
		result: (b) => ({ reservation: b.reservation === undefined ? 7 : b.reservation }) },
	'cancel-reservation': { action: 'CancelReservation', fields: { 'reservation!': 'int' } },
	'profile-set': { action: 'SetChargingProfile', fields: { 'connector!': 'int', 'profile!': 'object' } },
	'profile-clear': { action: 'ClearChargingProfile', fields: { id: 'int', connector: 'int',
		purpose: ['ChargePointMaxProfile', 'TxDefaultProfile', 'TxProfile'], stack_level: 'int' } },
	composite: { action: 'GetCompositeSchedule',
		fields: { 'connector!': 'int', 'duration!': 'int', unit: ['A', 'W'] },
		answer: (b) => ({ status: 'Accepted', connectorId: b.connector, scheduleStart: T0,
			chargingSchedule: { duration: b.duration, chargingRateUnit: b.unit || 'A',
				chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.0 },
					{ startPeriod: 1800, limit: 8.5, numberPhases: 3 }] } }) },
	'firmware-update': { action: 'UpdateFirmware', fields: { 'location!': 'string',
		retrieve_date: 'time', retries: 'int', retry_interval: 'int' }, answer: () => ({}) },
	diagnostics: { action: 'GetDiagnostics', fields: { 'location!': 'string', start: 'time',
		stop: 'time', retries: 'int', retry_interval: 'int' },
		answer: () => ({ fileName: 'diagnostics-CP-001.tar.gz' }) },
	call: { action: null, fields: { 'action!': 'string', 'payload!': 'object' },
		extra: (b) => {
			if (!CALL_ACTIONS.includes(b.action))
				throw bad(`'${b.action}' is not an OCPP 1.6 action a central system sends`);
			if (b.action === 'Reset' && !b.payload.type)
				throw bad("payload: required property 'type' is missing");
		},
		answer: (b) => b.action === 'GetLocalListVersion' ? { listVersion: 3 } : { status: 'Accepted' } },
};

function operate(id, name, body) {
	const op = ops[name];
	if (!op)
		throw new ApiError(404, 'not_found', `no operation '${name}'`);
	const fields = Object.assign({ timeout: 'int' }, op.fields);
	check(body, fields);
	if (op.extra)
		op.extra(body);
	const st = stations.get(id);
	if (!st)
		throw new ApiError(404, 'not_found', `station '${id}' not found`);
	if (!st.connected)
		throw new ApiError(409, 'station_offline', `station '${id}' is not connected`);
	const action = op.action || body.action;
	if (id === 'CP-ERR')
		throw new ApiError(422, 'rejected', `station '${id}' answered ${action} with an error`,
			{ ocpp_error: 'NotSupported', ocpp_description: 'not on this model' });
	if (id === 'CP-SLOW')
		throw new ApiError(504, 'timeout', `station '${id}' did not answer ${action} in time`);
	if (id === 'CP-BUSY')
		throw new ApiError(503, 'busy', `too many operations queued for station '${id}'`);
	let response = op.answer ? op.answer(body) : { status: 'Accepted' };
	if (id === 'CP-REJ' && 'status' in response)
		response = op.reject || { status: 'Rejected' };
	response = JSON.parse(JSON.stringify(response));   // drop undefined members
	const result = { station: id, operation: name, action };
	if (typeof response.status === 'string')
		result.status = response.status;
	result.response = response;
	return Object.assign(result, op.result ? op.result(body) : {});
}

// ------------------------------------------------------------ routes

function limitOf(q) {
	if (!q.has('limit'))
		return 100;
	const n = Number(q.get('limit'));
	if (!Number.isInteger(n) || n < 1 || n > 10000)
		throw bad("'limit' must be 1 to 10000");
	return n;
}

function timeParam(q, name) {
	const v = q.get(name);
	if (v !== null && !TIME.test(v))
		throw bad(`'${name}' must be an RFC 3339 UTC time`);
	return v;
}

function onlyParams(q, names) {
	for (const k of q.keys())
		if (!names.includes(k))
			throw bad(`unknown parameter '${k}'`);
}

function findStation(id) {
	const s = stations.get(id);
	if (!s)
		throw new ApiError(404, 'not_found', `station '${id}' not found`);
	return s;
}

function findToken(id) {
	const t = tokens.get(id);
	if (!t)
		throw new ApiError(404, 'not_found', `token '${id}' not found`);
	return t;
}

const TOKEN_FIELDS = { status: ['Accepted', 'Blocked', 'Expired', 'Invalid'], expiry: 'time?',
	parent_id_tag: 'string?' };

// [method, pattern, handler(match, query, body) -> [status, answer]]
const routes = [
	['GET', /^\/stations$/, (m, q) => {
		onlyParams(q, ['connected']);
		const c = q.get('connected');
		if (c !== null && c !== 'true' && c !== 'false')
			throw bad("'connected' must be true or false");
		const list = [...stations.values()].filter((s) => c === null || String(s.connected) === c)
			.sort((a, b) => a.id.localeCompare(b.id));
		return [200, { stations: list }];
	}],
	['POST', /^\/stations$/, (m, q, b) => {
		check(b, { 'id!': 'string', password: 'string' });
		if (b.password !== undefined && (b.password.length < 16 || b.password.length > 40))
			throw bad("field 'password': 16 to 40 characters");
		if (stations.has(b.id))
			throw new ApiError(409, 'conflict', `station '${b.id}' exists`);
		const s = station(b.id, false, { registration: 'unknown', has_password: b.password !== undefined });
		stations.set(b.id, s);
		return [201, s];
	}],
	['GET', /^\/stations\/([^/]+)$/, (m) => {
		const s = findStation(m[1]);
		return [200, Object.assign({}, s, { sessions: sessions.filter((x) =>
			x.station === s.id && x.status === 'active') })];
	}],
	['PATCH', /^\/stations\/([^/]+)$/, (m, q, b) => {
		check(b, { 'password!': 'string?' });
		const s = findStation(m[1]);
		if (b.password !== null && (b.password.length < 16 || b.password.length > 40))
			throw bad("field 'password': 16 to 40 characters");
		s.has_password = b.password !== null;
		return [200, s];
	}],
	['DELETE', /^\/stations\/([^/]+)$/, (m) => {
		findStation(m[1]);
		stations.delete(m[1]);
		return [204, null];
	}],
	['GET', /^\/stations\/([^/]+)\/status-history$/, (m, q) => {
		onlyParams(q, ['connector', 'limit']);
		findStation(m[1]);
		const c = q.get('connector');
		return [200, { history: history.filter((h) => c === null || h.connector === Number(c))
			.slice(0, limitOf(q)) }];
	}],
	['POST', /^\/stations\/([^/]+)\/([a-z-]+)$/, (m, q, b) => [200, operate(m[1], m[2], b)]],
	['GET', /^\/sessions$/, (m, q) => {
		onlyParams(q, ['station', 'status', 'id_tag', 'since', 'until', 'limit']);
		const status = q.get('status');
		if (status !== null && status !== 'active' && status !== 'completed')
			throw bad("'status' must be active or completed");
		timeParam(q, 'since');
		timeParam(q, 'until');
		const list = sessions.filter((s) => (!q.has('station') || s.station === q.get('station')) &&
			(!status || s.status === status) && (!q.has('id_tag') || s.id_tag === q.get('id_tag')));
		return [200, { sessions: list.slice(0, limitOf(q)) }];
	}],
	['GET', /^\/sessions\/([^/]+)$/, (m) => {
		const s = sessions.find((x) => String(x.id) === m[1]);
		if (!s)
			throw new ApiError(404, 'not_found', `session '${m[1]}' not found`);
		// Session 12's meter values come in two pages.
		return [200, Object.assign({}, s, s.id === 12 ?
			{ meter_values: meterValues.slice(0, 1), meter_values_next: '1795341600-1' } :
			{ meter_values: [], meter_values_next: null })];
	}],
	['GET', /^\/sessions\/12\/meter-values$/, (m, q) => {
		if (q.get('after') !== '1795341600-1')
			throw new ApiError(400, 'bad_request', `bad cursor '${q.get('after')}'`);
		return [200, { meter_values: meterValues.slice(1), next: null }];
	}],
	['GET', /^\/tokens$/, () => [200, { tokens: [...tokens.values()] }]],
	['POST', /^\/tokens$/, (m, q, b) => {
		check(b, Object.assign({ 'id_tag!': 'string' }, TOKEN_FIELDS));
		if (tokens.has(b.id_tag))
			throw new ApiError(409, 'conflict', `token '${b.id_tag}' exists`);
		const t = Object.assign({ id_tag: b.id_tag, status: 'Accepted', expiry: null,
			parent_id_tag: null, created: T0, updated: T0 }, b);
		tokens.set(t.id_tag, t);
		return [201, t];
	}],
	['GET', /^\/tokens\/([^/]+)$/, (m) => [200, findToken(m[1])]],
	['PATCH', /^\/tokens\/([^/]+)$/, (m, q, b) => {
		check(b, TOKEN_FIELDS);
		return [200, Object.assign(findToken(m[1]), b, { updated: '2026-11-22T12:00:00Z' })];
	}],
	['DELETE', /^\/tokens\/([^/]+)$/, (m) => {
		findToken(m[1]);
		tokens.delete(m[1]);
		return [204, null];
	}],
	['POST', /^\/tokens\/([^/]+)\/(block|unblock)$/, (m) => {
		const t = findToken(m[1]);
		t.status = m[2] === 'block' ? 'Blocked' : 'Accepted';
		return [200, t];
	}],
	['GET', /^\/audit$/, (m, q) => {
		onlyParams(q, ['station', 'limit']);
		return [200, { audit: audit.filter((a) => !q.has('station') || a.station === q.get('station'))
			.slice(0, limitOf(q)) }];
	}],
];

// ------------------------------------------------------------ events

const streams = new Map();   // ?station= value -> connections so far

function sse(res, type, data) {
	return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function events(req, res, q) {
	const key = q.get('station') || '';
	const n = (streams.get(key) || 0) + 1;
	streams.set(key, n);
	res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
	if (n === 1) {
		// Awkward but legal: a retry, a comment, CRLF line ends, an event
		// split across writes, a data field in two lines.
		res.write('retry: 100\n\n: keep-alive\n\n');
		res.write(sse(res, 'station.connected', { station: 'CP-001', remote_address: '127.0.0.1', time: T0 }));
		res.write('event: status\r\ndata: {"station":"CP-001","connector":1,');
		setTimeout(() => {
			res.write('"status":"Charging","error_code":"NoError","time":"' + T0 + '"}\r\n\r\n');
			res.write('event: session.started\ndata: {"station":"CP-001","session":12,"connector":1,\n' +
				'data: "id_tag":"TAG-1","meter_start":1000,"time":"' + T0 + '"}\n\n');
			res.write(sse(res, 'meter', { station: 'CP-001', connector: 1, session: 12, time: T0,
				values: [{ measurand: 'Energy.Active.Import.Register', phase: null, unit: 'Wh', value: '3345' }] }));
			res.end();   // the server restarts
		}, 50);
		return;
	}
	res.write(sse(res, 'session.stopped', { station: 'CP-001', session: 12, meter_stop: 3345,
		energy_wh: 2345, reason: 'Local', time: '2026-11-22T11:00:00Z' }));
	const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15000);
	res.on('close', () => clearInterval(keepAlive));
}

// ------------------------------------------------------------ server

function send(res, status, answer) {
	if (answer === null) {
		res.writeHead(status);
		res.end();
		return;
	}
	const text = JSON.stringify(answer);
	res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
	res.end(text);
}

function fail(res, e) {
	const error = Object.assign({ code: e.code, message: e.message }, e.extra || {});
	send(res, e.status, { error });
}

const server = http.createServer((req, res) => {
	const chunks = [];
	let size = 0;
	req.on('data', (c) => { size += c.length; if (size <= (1 << 20)) chunks.push(c); });
	req.on('end', () => {
		const text = Buffer.concat(chunks).toString('utf8');
		const url = new URL(req.url, 'http://x');
		let body = null;
		try {
			body = text ? JSON.parse(text) : null;
		} catch (e) {
			body = { unparsed: text };
		}
		if (LOG)
			fs.appendFileSync(LOG, JSON.stringify({ method: req.method, path: req.url,
				auth: req.headers.authorization || null, type: req.headers['content-type'] || null,
				body }) + '\n');
		try {
			if (!url.pathname.startsWith('/api/v1/'))
				throw new ApiError(404, 'not_found', `no route ${url.pathname}`);
			const path = url.pathname.slice('/api/v1'.length);
			if (req.method === 'GET' && path === '/health')
				return send(res, 200, { status: 'ok', version: '0.1.0', stations_connected: 1 });
			if (req.headers.authorization !== 'Bearer ' + TOKEN)
				throw new ApiError(401, 'unauthorized', 'missing or wrong bearer token');
			if (size > (1 << 20))
				throw new ApiError(413, 'too_large', 'request body over 1 MiB');
			if (req.method === 'GET' && path === '/events')
				return events(req, res, url.searchParams);
			if (text) {
				if (!/^application\/json\b/.test(req.headers['content-type'] || ''))
					throw bad('Content-Type must be application/json');
				if (body && body.unparsed !== undefined)
					throw bad('malformed JSON');
			}
			let pathMatched = false;
			for (const [method, pattern, handler] of routes) {
				const m = pattern.exec(path);
				if (!m)
					continue;
				pathMatched = true;
				if (method !== req.method)
					continue;
				const decoded = m.map((x, i) => (i ? decodeURIComponent(x) : x));
				const [status, answer] = handler(decoded, url.searchParams, body === null ? {} : body);
				return send(res, status, answer);
			}
			if (pathMatched)
				throw new ApiError(405, 'method_not_allowed', `${req.method} not allowed on ${path}`);
			throw new ApiError(404, 'not_found', `no route ${url.pathname}`);
		} catch (e) {
			if (!(e instanceof ApiError))
				e = new ApiError(500, 'internal', String(e && e.stack || e));
			fail(res, e);
		}
	});
});

server.listen(0, '127.0.0.1', () => {
	process.stdout.write(`listening ${server.address().port}\n`);
});
