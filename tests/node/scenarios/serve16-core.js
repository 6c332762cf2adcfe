'use strict';
// A strict ocpp-rpc OCPP 1.6 station against evctl serve: every message a
// station sends, the answers the store gives, every operation of the REST
// API (answered, refused with a CALLERROR, timed out) and the event stream.
// The station is registered (SERVE-1) and tokens exist before it connects:
// TAG-OK (Accepted, parent PARENT-1), TAG-BLOCKED (Blocked), TAG-OLD
// (Accepted, expired yesterday).
const { api, events } = require('../api');
const { exampleBoot } = require('../harness');

module.exports = async (peer, t) => {
    const id = await peer.connected();
    const ev = events(`?station=${id}`);
    await ev.ready;

    const boot = await peer.call('BootNotification', exampleBoot('1.6', 'serve-model', 'serve-vendor'));
    t.equal(boot.status, 'Accepted', 'a registered station is accepted');
    t.equal(boot.interval, 300, 'heartbeat interval');
    t.ok(Math.abs(Date.parse(boot.currentTime) - Date.now()) < 5000, 'currentTime is now');
    const booted = await ev.next('station.boot');
    t.equal(booted.model, 'serve-model');

    const beat = await peer.call('Heartbeat', {});
    t.ok(!Number.isNaN(Date.parse(beat.currentTime)), 'heartbeat answer');

    for (const connectorId of [0, 1, 2])
        await peer.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() });
    await peer.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted', info: 'test fault', vendorErrorCode: 'E42' });
    const st = (await api('GET', `/stations/${id}`)).body;
    t.equal(st.connected, true, 'station shown connected');
    t.equal(st.vendor, 'serve-vendor', 'boot info stored');
    t.equal(st.connectors.length, 3, 'three connectors known');
    t.equal(st.connectors[2].status, 'Faulted', 'latest status kept');
    t.equal(st.connectors[2].error_code, 'GroundFailure');
    const hist = (await api('GET', `/stations/${id}/status-history?connector=2`)).body.history;
    t.equal(hist.length, 2, 'status history of connector 2');
    t.equal(hist[0].status, 'Faulted', 'newest first');
    t.equal((await ev.next('status', (d) => d.connector === 2 && d.status === 'Faulted')).error_code, 'GroundFailure');

    // Authorize against the token table.
    const auth = async (idTag) => (await peer.call('Authorize', { idTag })).idTagInfo;
    t.equal((await auth('TAG-OK')).status, 'Accepted');
    t.equal((await auth('TAG-OK')).parentIdTag, 'PARENT-1', 'parent id tag given');
    t.equal((await auth('TAG-BLOCKED')).status, 'Blocked');
    t.equal((await auth('TAG-OLD')).status, 'Expired', 'expiry date in the past');
    t.equal((await auth('NOBODY')).status, 'Invalid', 'unknown tag');

    // A session: start, re-sent start, meter values, stop with transactionData.
    const t0 = new Date(Date.now() - 60000).toISOString();
    const start = { connectorId: 1, idTag: 'TAG-OK', meterStart: 1000, timestamp: t0 };
    const started = await peer.call('StartTransaction', start);
    t.equal(started.idTagInfo.status, 'Accepted');
    const tx = started.transactionId;
    t.ok(Number.isInteger(tx) && tx > 0, 'transaction id issued by the store');
    t.equal((await ev.next('session.started')).session, tx, 'session.started event');
    const again = await peer.call('StartTransaction', start);
    t.equal(again.transactionId, tx, 'a re-sent StartTransaction is recognised, not duplicated');
    t.equal((await auth('TAG-OK')).status, 'ConcurrentTx', 'tag busy in a session');

    const sample = (wh, extra = {}) => ({ timestamp: new Date().toISOString(), sampledValue: [
        { value: String(wh), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh', location: 'Outlet' },
        { value: '7200', context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
        { value: '10.5', measurand: 'Current.Import', phase: 'L1', unit: 'A' }, ...(extra.more || [])] });
    await peer.call('MeterValues', { connectorId: 1, transactionId: tx, meterValue: [sample(1500)] });
    const meterEv = await ev.next('meter');
    t.equal(meterEv.session, tx, 'meter event names the session');
    await peer.call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: new Date().toISOString(),
        sampledValue: [{ value: '2.0', measurand: 'Energy.Active.Import.Register', unit: 'kWh' }] }] });
    await peer.call('MeterValues', { connectorId: 1, transactionId: tx, meterValue: [{ timestamp: new Date().toISOString(),
        sampledValue: [{ value: 'NaN', measurand: 'Energy.Active.Import.Register' }, { value: '1e999', unit: 'kWh' }] }] });
    let s = (await api('GET', `/sessions/${tx}`)).body;
    t.equal(s.status, 'active');
    t.equal(s.energy_wh, 1000, 'energy so far from the register (2.0 kWh - 1000 Wh); nonsense readings ignored');
    t.equal(s.meter_values.length, 6, 'every sampled value stored, with or without transactionId');
    const cur = s.meter_values.find((v) => v.measurand === 'Current.Import');
    t.equal(cur.phase, 'L1', 'phase kept');
    t.equal(cur.value, '10.5', 'value kept as sent');
    const stop = await peer.call('StopTransaction', { transactionId: tx, idTag: 'TAG-OK', meterStop: 3500,
        timestamp: new Date().toISOString(), reason: 'EVDisconnected',
        transactionData: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: '3500', context: 'Transaction.End', unit: 'Wh' }] }] });
    t.equal(stop.idTagInfo.status, 'Accepted', 'tag free again once stopped');
    const stopped = await ev.next('session.stopped');
    t.equal(stopped.energy_wh, 2500, 'session.stopped carries the energy');
    s = (await api('GET', `/sessions/${tx}`)).body;
    t.equal(s.status, 'completed');
    t.equal(s.meter_stop, 3500);
    t.equal(s.stop_reason, 'EVDisconnected');
    t.ok(s.meter_values.some((v) => v.context === 'Transaction.End'), 'transactionData stored');
    // The same values a page at a time (one reading a page), following "next".
    let page = (await api('GET', `/sessions/${tx}/meter-values?limit=1`)).body;
    const paged = [...page.meter_values];
    let pages = 1;
    while (page.next && pages < 10) {
        page = (await api('GET', `/sessions/${tx}/meter-values?limit=1&after=${page.next}`)).body;
        paged.push(...page.meter_values);
        pages++;
    }
    t.equal(pages, 4, 'a page per reading (three MeterValues and the transactionData)');
    t.deepEqual(paged, s.meter_values, "the pages hold the session's values, in order");
    t.equal((await api('GET', `/sessions/${tx}/meter-values?after=bogus`)).status, 400, 'a bad cursor is a 400');
    t.equal((await api('GET', '/sessions/987654/meter-values')).status, 404, 'no such session: 404');
    const again2 = await peer.call('StopTransaction', { transactionId: tx, meterStop: 3500, timestamp: new Date().toISOString() });
    t.deepEqual(again2, {}, 'a re-sent stop is answered');
    const unknownStop = await peer.call('StopTransaction', { transactionId: 987654, meterStop: 1, timestamp: new Date().toISOString() });
    t.deepEqual(unknownStop, {}, 'a stop for an unknown transaction is still answered');
    const list = (await api('GET', `/sessions?station=${id}&status=completed`)).body.sessions;
    t.equal(list.length, 1, 'session list filter');

    // The other notifications.
    t.equal((await peer.call('DataTransfer', { vendorId: 'com.example', messageId: 'x', data: 'y' })).status, 'UnknownVendorId');
    await peer.call('FirmwareStatusNotification', { status: 'Downloading' });
    t.equal((await ev.next('firmware')).status, 'Downloading');
    await peer.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
    t.equal((await ev.next('diagnostics')).status, 'Uploaded');
    await peer.call('SecurityEventNotification', { type: 'SettingSystemTime', timestamp: new Date().toISOString() });

    // Operations: the API waits for the station's answer.
    const op = async (name, body, action, reply) => {
        const pending = api('POST', `/stations/${id}/${name}`, body);
        const early = pending.then((r) => { throw new Error(`${name}: the API answered before the station was asked: ${r.status} ${JSON.stringify(r.body)}`); });
        const req = await Promise.race([peer.expect(action, { reply }), early]);
        early.catch(() => {});
        const res = await pending;
        return { req, res };
    };
    let r = await op('reset', { type: 'hard' }, 'Reset', { status: 'Accepted' });
    t.equal(r.req.type, 'Hard');
    t.equal(r.res.status, 200);
    t.equal(r.res.body.status, 'Accepted', 'the station\'s answer comes back');
    t.equal(r.res.body.action, 'Reset');
    r = await op('start', { id_tag: 'TAG-OK', connector: 1 }, 'RemoteStartTransaction', { status: 'Rejected' });
    t.equal(r.req.idTag, 'TAG-OK');
    t.equal(r.res.body.status, 'Rejected');
    r = await op('stop', { session: tx }, 'RemoteStopTransaction', { status: 'Rejected' });
    t.equal(r.req.transactionId, tx);
    r = await op('unlock', { connector: 1 }, 'UnlockConnector', { status: 'Unlocked' });
    t.equal(r.res.body.status, 'Unlocked');
    r = await op('availability', { connector: 0, available: false }, 'ChangeAvailability', { status: 'Scheduled' });
    t.equal(r.req.type, 'Inoperative');
    r = await op('trigger', { message: 'status', connector: 1 }, 'TriggerMessage', { status: 'Accepted' });
    t.equal(r.req.requestedMessage, 'StatusNotification');
    r = await op('config-get', { keys: ['HeartbeatInterval'] }, 'GetConfiguration',
        { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] });
    t.deepEqual(r.req.key, ['HeartbeatInterval']);
    t.equal(r.res.body.response.configurationKey[0].value, '300');
    r = await op('config-set', { key: 'MeterValueSampleInterval', value: '60' }, 'ChangeConfiguration', { status: 'Accepted' });
    t.equal(r.req.value, '60');
    r = await op('clear-cache', {}, 'ClearCache', { status: 'Accepted' });
    r = await op('data-transfer', { vendor_id: 'com.example', data: 'hi' }, 'DataTransfer', { status: 'Accepted', data: 'ok' });
    t.equal(r.res.body.response.data, 'ok');
    r = await op('local-list-send', { version: 3, update: 'full', list: [{ id_tag: 'A', status: 'Accepted' }, { id_tag: 'B' }] },
        'SendLocalList', { status: 'Accepted' });
    t.equal(r.req.updateType, 'Full');
    t.equal(r.req.localAuthorizationList[0].idTagInfo.status, 'Accepted');
    t.equal(r.req.localAuthorizationList[1].idTagInfo, undefined, 'no status: no idTagInfo');
    r = await op('local-list-version', {}, 'GetLocalListVersion', { listVersion: 3 });
    t.equal(r.res.body.response.listVersion, 3);
    const expiry = new Date(Date.now() + 3600e3).toISOString();
    r = await op('reserve', { connector: 1, id_tag: 'TAG-OK', expiry }, 'ReserveNow', { status: 'Accepted' });
    t.ok(Number.isInteger(r.req.reservationId), 'a reservation id is chosen');
    t.equal(r.res.body.reservation, r.req.reservationId, 'and told to the client');
    r = await op('cancel-reservation', { reservation: r.req.reservationId }, 'CancelReservation', { status: 'Accepted' });
    const profile = { chargingProfileId: 7, stackLevel: 1, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
        chargingSchedule: { chargingRateUnit: 'A', startSchedule: new Date().toISOString(), chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] } };
    r = await op('profile-set', { connector: 1, profile }, 'SetChargingProfile', { status: 'Accepted' });
    t.equal(r.req.csChargingProfiles.chargingProfileId, 7);
    r = await op('profile-clear', { purpose: 'tx_default', stack_level: 1 }, 'ClearChargingProfile', { status: 'Accepted' });
    t.equal(r.req.chargingProfilePurpose, 'TxDefaultProfile');
    r = await op('composite', { connector: 1, duration: 3600, unit: 'W' }, 'GetCompositeSchedule', { status: 'Rejected' });
    t.equal(r.req.chargingRateUnit, 'W');
    r = await op('firmware-update', { location: 'http://example.com/fw.bin', retries: 2 }, 'UpdateFirmware', {});
    t.ok(r.req.retrieveDate, 'retrieve date defaults to now');
    t.equal(r.res.status, 200);
    r = await op('diagnostics', { location: 'ftp://example.com/up' }, 'GetDiagnostics', { fileName: 'diag.txt' });
    t.equal(r.res.body.response.fileName, 'diag.txt');
    r = await op('call', { action: 'ClearCache', payload: {} }, 'ClearCache', { status: 'Rejected' });
    t.equal(r.res.body.status, 'Rejected', 'raw call');

    // A CALLERROR and a silent station.
    r = await op('reset', {}, 'Reset', () => peer.callError('NotSupported', 'no resets today'));
    t.equal(r.res.status, 422, 'a CALLERROR is 422');
    t.equal(r.res.body.error.ocpp_error, 'NotSupported');
    const slow = api('POST', `/stations/${id}/unlock`, { connector: 1, timeout: 1 });
    await peer.expect('UnlockConnector', { reply: () => new Promise((res) => setTimeout(() => res({ status: 'Unlocked' }), 2500)) });
    t.equal((await slow).status, 504, 'no answer in time is 504');

    // Bad requests never reach the station.
    t.equal((await api('POST', `/stations/${id}/reset`, { type: 'warm' })).status, 400, 'bad enum');
    t.equal((await api('POST', `/stations/${id}/unlock`, {})).status, 400, 'missing field');
    const typo = await api('POST', `/stations/${id}/unlock`, { connector: 1, conector: 2 });
    t.equal(typo.status, 400, 'unknown field');
    t.match(typo.body.error.message, /conector: not a field/, 'the unknown field is named');
    t.equal((await api('POST', `/stations/${id}/stop`, { session: 1, transaction: 1 })).status, 400, 'stop: one id, not two');
    t.equal((await api('POST', `/stations/${id}/teleport`, {})).status, 404, 'unknown operation');
    t.equal((await api('POST', `/stations/${id}/call`, { action: 'Reset', payload: { type: 'Warm' } })).status, 400, 'raw call checked against the schema');
    t.equal((await api('POST', `/stations/${id}/call`, { action: 'Heartbeat', payload: {} })).status, 400, 'a station-only action');
    t.equal((await api('POST', `/stations/${id}/reset`, '{not json')).status, 400, 'malformed JSON');
    t.equal((await api('POST', '/stations/NOPE/reset', {})).status, 404, 'unknown station');

    // Audit log: operations with their answers.
    const audit = (await api('GET', `/audit?station=${id}&limit=100`)).body.audit;
    t.ok(audit.some((a) => a.operation === 'reset' && a.result === 'Accepted'), 'reset audited with its answer');
    t.ok(audit.some((a) => a.operation === 'unlock' && a.result === 'timeout'), 'timeout audited');
    ev.close();
};
