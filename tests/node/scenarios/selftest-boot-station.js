'use strict';
// A station that boots, then stays until the CSMS closes the connection.
const { exampleBoot } = require('../harness');

module.exports = async function bootStation(peer, t) {
    const boot = await peer.call('BootNotification', exampleBoot(peer.ocpp));
    t.equal(boot.status, 'Accepted', 'boot status');
    await peer.waitDisconnect();
};
