// StopTransaction's transactionData (OCPP 1.6 3.16): with StopTxnSampledData
// and StopTxnAlignedData set, the stop carries the begin reading, a reading
// every MeterValueSampleInterval from the start, the clock-aligned ones, and
// the end reading; with both lists empty it carries none. The simulated EV
// is driven through the control socket ($EVSTATIOND_CTL).
const ctl = require('../ctl');
const sock = process.env.EVSTATIOND_CTL;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ENERGY = 'Energy.Active.Import.Register';

module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });
	const change = async (key, value) => (await peer.call('ChangeConfiguration', { key, value })).status;

	// The keys that bound it are there, read-only.
	const conf = await peer.call('GetConfiguration', { key: ['StopTxnSampledDataMaxLength', 'StopTxnAlignedDataMaxLength', 'StopTransactionMaxMeterValues'] });
	t.equal(conf.configurationKey.length, 3, 'the MaxLength keys and StopTransactionMaxMeterValues exist');
	t.ok(conf.configurationKey.every((k) => k.readonly && Number(k.value) > 0), 'read-only, positive');
	const maxItems = Number(conf.configurationKey.find((k) => k.key === 'StopTxnSampledDataMaxLength').value);
	// (Measurands the meter has, each on a phase: only the count is wrong.)
	const items = ['Energy.Active.Import.Register', 'Power.Active.Import', 'SoC'].concat(
		['L1', 'L2', 'L3', 'N', 'L1-N', 'L2-N', 'L3-N', 'L1-L2', 'L2-L3', 'L3-L1'].flatMap((p) => [`Voltage.${p}`, `Current.Import.${p}`]));
	t.equal(await change('StopTxnSampledData', items.slice(0, maxItems).join(',')), 'Accepted', `${maxItems} items`);
	t.equal(await change('StopTxnSampledData', items.slice(0, maxItems + 1).join(',')), 'Rejected', `more than ${maxItems} items`);
	t.equal(await change('StopTxnSampledData', 'Energy.Active.Import.Register,Bogus'), 'Rejected', 'an unknown measurand');
	t.equal(await change('StopTxnAlignedData', 'Temperature'), 'Rejected', 'a measurand the meter does not have (3.16.4)');

	t.equal(await change('MeterValueSampleInterval', '1'), 'Accepted');
	t.equal(await change('StopTxnSampledData', 'Energy.Active.Import.Register,Power.Active.Import,Current.Import'), 'Accepted');
	t.equal(await change('StopTxnAlignedData', 'Energy.Active.Import.Register'), 'Accepted');
	t.equal(await change('ClockAlignedDataInterval', '2'), 'Accepted');

	t.equal((await peer.call('RemoteStartTransaction', { connectorId: 1, idTag: 'TXDATA' })).status, 'Accepted');
	const started = peer.expect('StartTransaction', { reply: { transactionId: 5001, idTagInfo: { status: 'Accepted' } } });
	await ctl(sock, { cmd: 'plug', connector: 1, capacityKwh: 60, soc: 20 });
	const start = await started;
	const startMs = Date.parse(start.timestamp);
	await sleep(4500);
	const stopped = peer.expect('StopTransaction');
	t.equal((await peer.call('RemoteStopTransaction', { transactionId: 5001 })).status, 'Accepted');
	const stop = await stopped;
	const data = stop.transactionData;
	t.ok(Array.isArray(data) && data.length >= 6, `transactionData has readings (${data?.length})`);
	t.log(JSON.stringify(data));

	const ctx = (mv) => mv.sampledValue[0].context;
	const energy = (mv) => Number(mv.sampledValue.find((v) => v.measurand === ENERGY)?.value);
	t.ok(data.every((mv) => mv.sampledValue.every((v) => v.context === ctx(mv))), 'one context per reading');

	// Begin and end: every measurand of both lists, the transaction's own meter values.
	const begin = data[0], end = data[data.length - 1];
	t.equal(ctx(begin), 'Transaction.Begin');
	t.equal(ctx(end), 'Transaction.End');
	const kinds = (mv) => mv.sampledValue.map((v) => v.measurand + (v.phase ? `.${v.phase}` : '')).sort().join(',');
	const all = 'Current.Import.L1,Current.Import.L2,Current.Import.L3,Energy.Active.Import.Register,Power.Active.Import';
	t.equal(kinds(begin), all, 'the begin reading has every measurand');
	t.equal(kinds(end), all, 'so has the end reading');
	t.equal(energy(begin), start.meterStart, 'begins at meterStart');
	t.equal(energy(end), stop.meterStop, 'ends at meterStop');
	t.equal(end.timestamp, stop.timestamp, 'the end reading is the stop\'s');
	t.ok(Math.abs(Date.parse(begin.timestamp) - startMs) < 1000, 'the begin reading is the start\'s');

	// Periodic readings: StopTxnSampledData's measurands, every second from the start.
	const periodic = data.filter((mv) => ctx(mv) === 'Sample.Periodic');
	t.ok(periodic.length >= 3, `periodic readings (${periodic.length})`);
	t.ok(periodic.every((mv) => kinds(mv) === all), 'with the measurands of StopTxnSampledData');
	periodic.forEach((mv, i) => {
		const late = Date.parse(mv.timestamp) - startMs - (i + 1) * 1000;
		t.ok(Math.abs(late) < 400, `reading ${i + 1} is ${i + 1} s after the start (${late} ms off)`);
		const power = Number(mv.sampledValue.find((v) => v.measurand === 'Power.Active.Import').value);
		const amps = mv.sampledValue.filter((v) => v.measurand === 'Current.Import').map((v) => Number(v.value));
		t.ok(power > 1000 && power <= 32 * 230 * 3 + 10, `charging power ${power} W`);
		t.ok(amps.every((a) => a > 0 && a <= 32.05), `currents ${amps} A`);
		t.ok(Math.abs(amps.reduce((a, b) => a + b, 0) * 230 - power) < 100, 'power = current x 230 V');
	});
	// Clock-aligned readings: StopTxnAlignedData's, on the 2-second marks.
	const aligned = data.filter((mv) => ctx(mv) === 'Sample.Clock');
	t.ok(aligned.length >= 1, `clock-aligned readings (${aligned.length})`);
	t.ok(aligned.every((mv) => kinds(mv) === ENERGY), 'with the measurands of StopTxnAlignedData');
	t.ok(aligned.every((mv) => { const ph = Date.parse(mv.timestamp) % 2000; return ph < 400 || ph > 1600; }), 'on the clock');

	// In time order; the register never goes back and stays within the transaction.
	for (let i = 1; i < data.length; i++) {
		t.ok(Date.parse(data[i].timestamp) >= Date.parse(data[i - 1].timestamp), `reading ${i} in order`);
		t.ok(energy(data[i]) >= energy(data[i - 1]), `register rises (${energy(data[i - 1])} -> ${energy(data[i])})`);
	}
	t.ok(energy(end) > energy(begin), 'energy was charged');
	await ctl(sock, { cmd: 'unplug', connector: 1 });

	// Both lists empty: no meter values in the stop (3.16.5).
	t.equal(await change('StopTxnSampledData', ''), 'Accepted');
	t.equal(await change('StopTxnAlignedData', ''), 'Accepted');
	t.equal(await change('ClockAlignedDataInterval', '0'), 'Accepted');
	t.equal((await peer.call('RemoteStartTransaction', { connectorId: 2, idTag: 'NODATA' })).status, 'Accepted');
	const started2 = peer.expect('StartTransaction', { reply: { transactionId: 5002, idTagInfo: { status: 'Accepted' } } });
	await ctl(sock, { cmd: 'plug', connector: 2 });
	await started2;
	await sleep(1500);
	const stopped2 = peer.expect('StopTransaction');
	await peer.call('RemoteStopTransaction', { transactionId: 5002 });
	const stop2 = await stopped2;
	t.equal(stop2.transactionData, undefined, 'no transactionData when both lists are empty');
};
