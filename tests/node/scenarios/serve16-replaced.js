'use strict';
// Boots, then waits to be replaced by a second connection with its id.
const { exampleBoot } = require('../harness');

module.exports = async (peer, t) => {
    await peer.connected();
    t.equal((await peer.call('BootNotification', exampleBoot('1.6'))).status, 'Accepted');
    await peer.waitDisconnect({ timeout: 30000 });
};
