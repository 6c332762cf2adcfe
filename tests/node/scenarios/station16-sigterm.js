// evstationd stopped (SIGTERM) while charging: the transaction ends with
// reason Reboot and its StopTransaction is delivered before the exit.
const fs = require('node:fs');
const ctl = require('../ctl');

module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });
	t.equal((await peer.call('RemoteStartTransaction', { connectorId: 1, idTag: 'TERM-TAG' })).status, 'Accepted');
	const started = peer.expect('StartTransaction', { reply: { transactionId: 4001, idTagInfo: { status: 'Accepted' } } });
	await ctl(process.env.EVSTATIOND_CTL, { cmd: 'plug', connector: 1 });
	await started;
	fs.writeFileSync(process.env.STATION_TERM_FILE, 'now');   // the test sends SIGTERM
	const stop = await peer.expect('StopTransaction', { timeout: 10000 });
	t.equal(stop.transactionId, 4001);
	t.equal(stop.reason, 'Reboot');
};
