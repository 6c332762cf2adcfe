// Settings that change while the station runs: WebSocketPingInterval set by
// the central system takes effect on the open connection, and so does the
// daemon's ping-interval after SIGHUP (the test rewrites the config file and
// sends the signal each time this scenario creates $STATION_HUP_FILE.N). A
// value the central system set wins over the file's.
const fs = require('node:fs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });
	// The station's WebSocket pings, as the central system's socket sees them.
	const pings = [];
	peer._conn.client._ws.on('ping', () => pings.push(Date.now()));
	const pingsWithin = async (ms) => {
		const from = pings.length;
		await sleep(ms);
		return pings.slice(from);
	};
	const key = async () => (await peer.call('GetConfiguration', { key: ['WebSocketPingInterval'] })).configurationKey[0].value;
	const reload = async (n) => {
		fs.writeFileSync(`${process.env.STATION_HUP_FILE}.${n}`, 'now');
		await sleep(1000);   // the test rewrites the file and signals
	};

	t.equal(await key(), '60', 'the file\'s ping-interval is the key\'s value');
	t.equal((await pingsWithin(2500)).length, 0, 'no ping within 60 s of quiet');

	// SIGHUP with ping-interval = 1: the open connection pings every second.
	await reload(1);
	const after = await pingsWithin(3500);
	t.ok(after.length >= 2, `pings after the reload (${after.length})`);
	t.equal(await key(), '1');

	// The central system turns pinging off, then on again, live.
	t.equal((await peer.call('ChangeConfiguration', { key: 'WebSocketPingInterval', value: '0' })).status, 'Accepted');
	await sleep(300);
	t.equal((await pingsWithin(2500)).length, 0, 'no pings with WebSocketPingInterval 0');
	t.equal((await peer.call('ChangeConfiguration', { key: 'WebSocketPingInterval', value: '1' })).status, 'Accepted');
	const again = await pingsWithin(3500);
	t.ok(again.length >= 2, `pings again (${again.length})`);
	for (let i = 1; i < again.length; i++)
		t.ok(again[i] - again[i - 1] >= 700 && again[i] - again[i - 1] <= 1800, `a second apart (${again[i] - again[i - 1]} ms)`);

	// SIGHUP with ping-interval = 60: the central system's 1 stays.
	await reload(2);
	t.equal(await key(), '1', 'the central system\'s value wins over the file');
	t.ok((await pingsWithin(2500)).length >= 2, 'still pinging every second');

	// A broken file: reported, nothing changes.
	await reload(3);
	t.ok((await pingsWithin(2500)).length >= 2, 'a bad file changes nothing');
};
