'use strict';
// Sees the malformed frames of selftest-raw-station.js recorded as failures.
module.exports = async function rawCsms(peer, t) {
    peer.allowViolations(); // the bad frames are the point of this test
    await peer.connected();

    const notJson = await peer.expectRaw((f) => f.valid === false);
    t.equal(notJson.text, 'this is not json', 'first bad frame');
    t.match(notJson.error, /JSON/, 'reason for the first bad frame');

    const badCall = await peer.expectRaw((f) => f.valid === false);
    t.equal(badCall.action, 'Heartbeat', 'second bad frame is a Heartbeat');
    t.match(badCall.error, /PropertyConstraintViolation/, 'reason for the second bad frame');

    await peer.expect('Heartbeat'); // the connection still works
    t.equal(peer.violations.length, 2, 'exactly the two bad frames are violations');
};
