'use strict';
// Waits for a Reset that never comes; run with a short --timeout.
module.exports = async function timeoutStation(peer) {
    await peer.expect('Reset');
};
