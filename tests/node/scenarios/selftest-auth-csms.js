'use strict';
// Run with --password s3cret: one station was refused, the next one gets in.
module.exports = async function authCsms(peer, t) {
    t.equal(await peer.connected(), 'SELFTEST-GOOD', 'accepted identity');
    t.equal(peer.handshake.password.toString('utf8'), 's3cret', 'password the station sent');
    t.equal(peer.rejections.length, 1, 'refused upgrades');
    t.equal(peer.rejections[0].identity, 'SELFTEST-BAD', 'refused identity');
    await peer.expect('BootNotification');
};
