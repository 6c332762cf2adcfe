// evstationd driving "real" hardware through external commands (hal = exec):
// the events script plugs a cable in and presents a card; a full session
// follows; the meter script's readings are what the central system sees.
module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }) });
	require('node:fs').writeFileSync(process.env.EXEC_GO_FILE, 'go');   // the customer arrives
	const auth = await peer.expect('Authorize', { timeout: 10000, reply: { idTagInfo: { status: 'Accepted' } } });
	t.equal(auth.idTag, 'EXEC-CARD', 'the card from the events command');
	const start = await peer.expect('StartTransaction', { timeout: 10000, reply: { transactionId: 7001, idTagInfo: { status: 'Accepted' } } });
	t.ok(start.meterStart >= 1000, `meterStart from meter-cmd (${start.meterStart} Wh)`);
	await new Promise((r) => setTimeout(r, 1500));   // the meter command runs every 500 ms
	const stopped = peer.expect('StopTransaction');
	t.equal((await peer.call('RemoteStopTransaction', { transactionId: 7001 })).status, 'Accepted');
	const stop = await stopped;
	t.ok(stop.meterStop > start.meterStart, `the register rose (${start.meterStart} -> ${stop.meterStop} Wh)`);
};
