'use strict';
// A scenario that fails on purpose: the vendor check cannot pass.
module.exports = async function failCsms(peer, t) {
    const boot = await peer.expect('BootNotification');
    t.equal(boot.chargePointVendor ?? boot.chargingStation.vendorName, 'NoSuchVendor', 'vendor check');
};
