'use strict';
// Sends a schema-invalid BootNotification; the CSMS run must fail on it.
module.exports = async function invalidBootStation(peer, t) {
    const boot = peer.ocpp === '1.6'
        ? { chargePointVendor: 42, chargePointModel: 'selftest' }
        : { reason: 'PowerUp', chargingStation: { vendorName: 42, model: 'selftest' } };
    peer.sendRaw(JSON.stringify([2, 'bad-boot', 'BootNotification', boot]));
    const answer = await peer.expectRaw((f) => f.message?.[1] === 'bad-boot');
    t.equal(answer.message[2], 'TypeConstraintViolation', 'CALLERROR code');
    await peer.waitDisconnect();
};
