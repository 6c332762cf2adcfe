'use strict';
// Bad frames from a station get the right CALLERROR, and the connection
// and the other stations carry on.
const { exampleBoot } = require('../harness');

module.exports = async (peer, t) => {
    await peer.connected();
    t.equal((await peer.call('BootNotification', exampleBoot('1.6'))).status, 'Accepted');
    peer.allowViolations();
    const answer = async (id, text) => {
        peer.sendRaw(text);
        return (await peer.expectRaw((f) => f.message?.[1] === id, { timeout: 5000 })).message;
    };
    let e = await answer('bad-1', '[2,"bad-1","Heartbeat",{"extra":1}]');
    t.equal(e[0], 4, 'a CALLERROR');
    t.match(e[2], /^(FormationViolation|OccurenceConstraintViolation|PropertyConstraintViolation)$/, 'schema violation');
    e = await answer('bad-2', '[2,"bad-2","FlyMeToTheMoon",{}]');
    t.equal(e[2], 'NotImplemented', 'unknown action');
    e = await answer('bad-3', '[2,"bad-3","Reset",{"type":"Soft"}]');
    t.equal(e[2], 'NotSupported', 'an action only a central system sends');
    e = await answer('bad-4', '[2,"bad-4","StartTransaction",{"connectorId":"one","idTag":"X","meterStart":0,"timestamp":"2026-01-01T00:00:00Z"}]');
    t.match(e[2], /^(TypeConstraintViolation|FormationViolation)$/, 'wrong type');
    e = await answer('-1', '[2,"bad-5" "Heartbeat",{}]');
    t.match(e[2], /^(FormationViolation|ProtocolError|RpcFrameworkError)$/, 'unparseable frame');
    for (let i = 0; i < 100; i++) peer.sendRaw(`[2,"flood-${i}","Heartbeat",{}]`);
    // Every call of the flood is answered (a result, or a CALLERROR for those
    // past the limit; the errors go out at once, the results after the
    // commit, so the last one sent is not the last answered).
    for (let i = 0; i < 100; i++)
        await peer.expectRaw((f) => f.message?.[1] === `flood-${i}`, { timeout: 10000 });
    t.ok((await peer.call('Heartbeat', {})).currentTime, 'still connected after bad frames and a flood');
    peer.sendRaw(`[2,"big","DataTransfer",{"vendorId":"v","data":"${'x'.repeat(2 * 1024 * 1024)}"}]`);
    await peer.waitDisconnect({ timeout: 10000 });
};
