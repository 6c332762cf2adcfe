'use strict';
// Station side of the basic exchange (see selftest-basic-csms.js).
const { exampleBoot } = require('../harness');

module.exports = async function basicStation(peer, t) {
    t.equal(await peer.connected(), 'SELFTEST-1', 'own identity');
    const boot = await peer.call('BootNotification', exampleBoot(peer.ocpp, 'selftest-model'));
    t.equal(boot.status, 'Accepted', 'boot status');
    t.equal(boot.interval, 42, 'interval chosen by the reply function');

    const beat = await peer.call('Heartbeat', {});
    t.ok(!Number.isNaN(Date.parse(beat.currentTime)), 'heartbeat currentTime is a date');

    const err = await peer.call('DataTransfer', { vendorId: 'selftest' }).then(() => null, (e) => e);
    t.ok(err, 'DataTransfer must be refused');
    t.equal(err.code, 'NotSupported', 'CALLERROR code');
    t.equal(err.description, 'selftest says no', 'CALLERROR description');

    const change = await peer.expect('ChangeAvailability', { reply: () => ({ status: 'Accepted' }) });
    t.ok(change.type === 'Inoperative' || change.operationalStatus === 'Inoperative', 'ChangeAvailability params');
};
