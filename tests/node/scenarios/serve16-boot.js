'use strict';
// Connects, boots (Accepted), beats once.
const { exampleBoot } = require('../harness');

module.exports = async (peer, t) => {
    await peer.connected();
    t.equal((await peer.call('BootNotification', exampleBoot('1.6'))).status, 'Accepted', 'boot accepted');
    t.ok((await peer.call('Heartbeat', {})).currentTime, 'heartbeat answered');
};
