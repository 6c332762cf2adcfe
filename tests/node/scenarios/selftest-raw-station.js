'use strict';
// Sends malformed frames with sendRaw() and checks the CSMS answers them.
module.exports = async function rawStation(peer, t) {
    // ocpp-rpc answers unparseable frames with RpcFrameworkError, a code OCPP
    // 1.6 does not have; the harness rightly flags that answer there.
    if (peer.ocpp === '1.6') peer.allowViolations();

    peer.sendRaw('this is not json');
    const first = await peer.expectRaw((f) => f.message?.[0] === 4);
    t.equal(first.message[2], 'RpcFrameworkError', 'answer to unparseable text');

    peer.sendRaw(JSON.stringify([2, 'raw-1', 'Heartbeat', { bogus: true }]));
    const second = await peer.expectRaw((f) => f.message?.[1] === 'raw-1');
    t.equal(second.message[0], 4, 'schema-invalid CALL answered with CALLERROR');
    t.equal(second.message[2], 'PropertyConstraintViolation', 'CALLERROR code');

    await peer.call('Heartbeat', {});
    t.equal(peer.violations.length, peer.ocpp === '1.6' ? 1 : 0, 'violations seen by the station');
};
