'use strict';
// An auto-registered station: Pending at boot, nothing else allowed, then
// the operator accepts it and it is asked to boot again.
const { api } = require('../api');
const { exampleBoot } = require('../harness');

module.exports = async (peer, t) => {
    const id = await peer.connected();
    const boot = await peer.call('BootNotification', exampleBoot('1.6'));
    t.equal(boot.status, 'Pending', 'auto-registered: Pending');
    t.equal(boot.interval, 60, 'retry interval for a pending station');
    const err = await peer.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' })
        .then(() => null, (e) => e);
    t.ok(err, 'a pending station may only boot');
    t.equal(err.code, 'SecurityError');
    const listed = (await api('GET', `/stations/${id}`)).body;
    t.equal(listed.registration, 'pending', 'listed as pending');

    const accept = api('PATCH', `/stations/${id}`, { registration: 'accepted' });
    await peer.expect('TriggerMessage', { reply: { status: 'Accepted' }, match: (p) => p.requestedMessage === 'BootNotification' });
    t.equal((await accept).status, 200, 'operator accepts it');
    t.equal((await peer.call('BootNotification', exampleBoot('1.6'))).status, 'Accepted', 'accepted at the next boot');
    await peer.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' });
};
