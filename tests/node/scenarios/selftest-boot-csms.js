'use strict';
// A CSMS that only waits for one BootNotification.
module.exports = async function bootCsms(peer) {
    await peer.expect('BootNotification');
};
