// kill -9 during a transaction: the station is killed while charging
// (the test kills the process whose pid is in $STATION_PID_FILE and starts
// it again on the same state); after restart it ends the transaction with
// reason PowerLoss, the real transactionId and the last meter reading, and
// carries the readings (StopTxnSampledData) taken before the crash.
const fs = require('node:fs');
const ctl = require('../ctl');

module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });
	t.equal((await peer.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '1' })).status, 'Accepted');
	t.equal((await peer.call('ChangeConfiguration', { key: 'StopTxnSampledData', value: 'Energy.Active.Import.Register' })).status, 'Accepted');
	t.equal((await peer.call('RemoteStartTransaction', { connectorId: 2, idTag: 'CRASH-TAG' })).status, 'Accepted');
	const started = peer.expect('StartTransaction', { reply: { transactionId: 3001, idTagInfo: { status: 'Accepted' } } });
	await ctl(process.env.EVSTATIOND_CTL, { cmd: 'plug', connector: 2, capacityKwh: 80, soc: 10 });
	const start = await started;
	await peer.expect('MeterValues', { timeout: 5000 });
	const mv = await peer.expect('MeterValues', { timeout: 5000 });
	const last = Number(mv.meterValue[0].sampledValue.find((v) => v.measurand === 'Energy.Active.Import.Register').value);
	const lastAt = mv.meterValue[0].timestamp;

	fs.writeFileSync(process.env.STATION_KILL_FILE, 'now');   // the test kills -9 and restarts
	await peer.waitDisconnect({ timeout: 10000 });
	await peer.connected();
	await peer.expect('BootNotification', { timeout: 20000, reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });
	const stop = await peer.expect('StopTransaction', { timeout: 20000 });
	t.equal(stop.transactionId, 3001);
	t.equal(stop.reason, 'PowerLoss');
	t.ok(stop.meterStop >= last, `meterStop ${stop.meterStop} >= last reported ${last} Wh`);
	t.ok(stop.meterStop >= start.meterStart);
	// What was recorded before the crash survived it.
	const data = stop.transactionData || [];
	const ctx = (v) => v.sampledValue[0].context;
	const wh = (v) => Number(v.sampledValue[0].value);
	t.ok(data.length >= 4, `transactionData: begin, readings, end (${data.length})`);
	t.equal(ctx(data[0]), 'Transaction.Begin');
	t.equal(wh(data[0]), start.meterStart);
	t.equal(ctx(data[data.length - 1]), 'Transaction.End');
	t.equal(wh(data[data.length - 1]), stop.meterStop, 'the end reading is meterStop');
	const periodic = data.filter((v) => ctx(v) === 'Sample.Periodic');
	t.ok(periodic.some((v) => v.timestamp === lastAt && wh(v) === last), `the reading sent at ${lastAt} is kept`);
	t.ok(data.every((v) => v.sampledValue.every((s) => s.measurand === 'Energy.Active.Import.Register')), 'only what StopTxnSampledData names');
	// Nothing sent twice: one start, one stop for this transaction.
	const sent = (a) => peer.frames.filter((f) => f.dir === 'in' && f.message?.[0] === 2 && f.action === a).length;
	t.equal(sent('StartTransaction'), 1, 'StartTransaction sent once');
	t.equal(sent('StopTransaction'), 1, 'StopTransaction sent once');
};
