// A central system that sends garbage: evstationd answers each bad frame
// with the right CALLERROR (1.6 spelling), closes the connection on an
// oversized frame, reconnects without booting again, and answers a flood.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });
	peer.allowViolations();
	const answer = async (text, id) => {
		peer.sendRaw(text);
		const f = await peer.expectRaw((fr) => fr.dir === 'in' && fr.message?.[0] === 4 && fr.message[1] === id, { timeout: 5000 });
		return f.message[2];
	};
	t.equal(await answer('[2,"x1","Reset",', '-1'), 'FormationViolation', 'not JSON: answered with id -1');
	t.equal(await answer('[2,"x2","FlyToTheMoon",{}]', 'x2'), 'NotImplemented');
	t.equal(await answer('[2,"x3","Reset",{"type":"Sideways"}]', 'x3'), 'PropertyConstraintViolation');
	t.equal(await answer('[2,"x4","Reset",{}]', 'x4'), 'OccurenceConstraintViolation', '1.6 spelling');
	t.equal(await answer('[2,"x5","Reset",{"type":7}]', 'x5'), 'TypeConstraintViolation');
	t.equal(await answer('[2,"x6","Heartbeat",{}]', 'x6'), 'NotSupported', 'an action for the other side');
	t.equal(await answer('[9,"x7","Reset",{}]', 'x7'), 'FormationViolation', 'unknown message type');
	t.equal(await answer('[2,"x8","Reset",{"type":"Soft"},"extra"]', 'x8'), 'FormationViolation');

	// A frame over the limit: the station hangs up, then comes back.
	peer.sendRaw(`[2,"big","DataTransfer",{"vendorId":"v","data":"${'x'.repeat(2 * 1024 * 1024)}"}]`);
	await peer.waitDisconnect({ timeout: 10000 });
	await peer.connected();
	await sleep(300);
	t.ok(!peer.frames.some((f) => f.dir === 'in' && f.action === 'BootNotification' && f.time > Date.now() - 1000),
		'no second BootNotification after a reconnect');
	t.equal((await peer.call('GetLocalListVersion', {})).listVersion, 0, 'the station works after reconnecting');

	// A flood: every call answered.
	for (let i = 0; i < 200; i++) peer.sendRaw(`[2,"f${i}","GetLocalListVersion",{}]`);
	await peer.expectRaw((fr) => fr.dir === 'in' && fr.message?.[1] === 'f199', { timeout: 10000 });
	const answered = peer.frames.filter((f) => f.dir === 'in' && /^f\d+$/.test(f.message?.[1] ?? '') && f.message[0] === 3).length;
	t.equal(answered, 200, 'every call of the flood answered');
};
