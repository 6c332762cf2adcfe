'use strict';
// CSMS side of the basic exchange: BootNotification answered by a reply
// function, Heartbeat by the default handler, DataTransfer with a CALLERROR,
// then a CSMS->station call.
const model = (boot) => boot.chargePointModel ?? boot.chargingStation?.model;

module.exports = async function basicCsms(peer, t) {
    // Registered before the station connects, so it takes the first BootNotification.
    const boot = peer.expect('BootNotification', {
        reply: (params) => ({
            status: 'Accepted',
            currentTime: new Date().toISOString(),
            interval: model(params) === 'selftest-model' ? 42 : 1,
        }),
    });
    t.equal(await peer.connected(), 'SELFTEST-1', 'station identity');
    t.equal(model(await boot), 'selftest-model', 'boot model');

    await peer.expect('Heartbeat');
    const transfer = await peer.expect('DataTransfer', {
        reply: peer.callError('NotSupported', 'selftest says no'),
    });
    t.equal(transfer.vendorId, 'selftest', 'DataTransfer vendorId');

    const change = peer.ocpp === '1.6'
        ? { connectorId: 0, type: 'Inoperative' }
        : { operationalStatus: 'Inoperative' };
    const answer = await peer.call('ChangeAvailability', change);
    t.equal(answer.status, 'Accepted', 'ChangeAvailability answer');
    t.equal(peer.violations.length, 0, 'no invalid frames');
};
