'use strict';
// A CSMS that accepts one station and waits until it goes away.
module.exports = async function idleCsms(peer) {
    await peer.connected();
    await peer.waitDisconnect();
};
