// evstationd (OCPP 1.6) charging sessions against a strict central system,
// with the simulated EV driven through the control socket
// ($EVSTATIOND_CTL): remote start and stop with periodic meter values, a
// local session with an RFID card, and an invalid card that starts nothing.
const ctl = require('../ctl');
const sock = process.env.EVSTATIOND_CTL;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const energy = (mv) => Number(mv.meterValue[0].sampledValue.find((v) => v.measurand === 'Energy.Active.Import.Register').value);

module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });
	t.equal((await peer.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '1' })).status, 'Accepted');

	// Remote start, then the EV arrives.
	t.equal((await peer.call('RemoteStartTransaction', { connectorId: 1, idTag: 'TAG-REMOTE' })).status, 'Accepted');
	const started = peer.expect('StartTransaction', { reply: { transactionId: 1001, idTagInfo: { status: 'Accepted' } } });
	await ctl(sock, { cmd: 'plug', connector: 1, capacityKwh: 60, soc: 20 });
	const start = await started;
	t.equal(start.connectorId, 1);
	t.equal(start.idTag, 'TAG-REMOTE');

	const mv1 = await peer.expect('MeterValues', { timeout: 5000 });
	const mv2 = await peer.expect('MeterValues', { timeout: 5000 });
	t.equal(mv1.transactionId, 1001, 'meter values carry the central system\'s transactionId');
	t.ok(energy(mv2) > energy(mv1), `the register rises while charging (${energy(mv1)} -> ${energy(mv2)} Wh)`);
	t.ok(energy(mv1) >= start.meterStart, 'from meterStart on');

	const state = await ctl(sock, { cmd: 'state' });
	t.equal(state.connectors[1].status, 'Charging');
	t.equal(state.connectors[1].transaction.transactionId, 1001);

	const stopped = peer.expect('StopTransaction');
	t.equal((await peer.call('RemoteStopTransaction', { transactionId: 1001 })).status, 'Accepted');
	const stop = await stopped;
	t.equal(stop.transactionId, 1001);
	t.equal(stop.reason, 'Remote');
	t.ok(stop.meterStop >= energy(mv2), `meterStop ${stop.meterStop} Wh`);
	t.equal((await peer.call('RemoteStopTransaction', { transactionId: 1001 })).status, 'Rejected', 'already stopped');
	await ctl(sock, { cmd: 'unplug', connector: 1 });

	// A local session: card, plug in, card again.
	const authorized = peer.expect('Authorize', { reply: { idTagInfo: { status: 'Accepted' } } });
	await ctl(sock, { cmd: 'token', id: 'CARD-42' });
	t.equal((await authorized).idTag, 'CARD-42');
	const started2 = peer.expect('StartTransaction', { reply: { transactionId: 1002, idTagInfo: { status: 'Accepted' } } });
	await ctl(sock, { cmd: 'plug', connector: 1, capacityKwh: 40, soc: 50 });
	t.equal((await started2).idTag, 'CARD-42');
	const stopped2 = peer.expect('StopTransaction');
	await ctl(sock, { cmd: 'token', id: 'CARD-42' });
	const stop2 = await stopped2;
	t.equal(stop2.transactionId, 1002);
	t.equal(stop2.reason, 'Local');
	await ctl(sock, { cmd: 'unplug', connector: 1 });

	// An invalid card: no transaction.
	const refused = peer.expect('Authorize', { reply: { idTagInfo: { status: 'Invalid' } } });
	await ctl(sock, { cmd: 'token', id: 'STOLEN' });
	await refused;
	await ctl(sock, { cmd: 'plug', connector: 1 });
	await sleep(1500);
	t.ok(!peer.frames.some((f) => f.action === 'StartTransaction' && f.message?.[3]?.idTag === 'STOLEN'), 'no transaction for an invalid card');

	// A TxProfile in RemoteStartTransaction: 10 A is what the EV gets,
	// 10 A x 230 V x 3 phases = 6900 W, as a triggered reading shows.
	await ctl(sock, { cmd: 'unplug', connector: 1 });
	t.equal((await peer.call('ChangeConfiguration', { key: 'MeterValuesSampledData',
		value: 'Energy.Active.Import.Register,Power.Active.Import,Current.Import' })).status, 'Accepted');
	const profile = { chargingProfileId: 9, stackLevel: 0, chargingProfilePurpose: 'TxProfile',
		chargingProfileKind: 'Relative', chargingSchedule: { chargingRateUnit: 'A',
			chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] } };
	t.equal((await peer.call('RemoteStartTransaction', { connectorId: 2, idTag: 'LIMITED', chargingProfile: profile })).status, 'Accepted');
	const started3 = peer.expect('StartTransaction', { reply: { transactionId: 1003, idTagInfo: { status: 'Accepted' } } });
	await ctl(sock, { cmd: 'plug', connector: 2, capacityKwh: 60, soc: 20 });
	await started3;
	// (The composite starts at the whole second before the transaction did,
	// so look at the limit a moment in.)
	const limitAt = (c, s) => c.chargingSchedule.chargingSchedulePeriod.filter((p) => p.startPeriod <= s).pop().limit;
	const comp = await peer.call('GetCompositeSchedule', { connectorId: 2, duration: 60, chargingRateUnit: 'A' });
	t.equal(limitAt(comp, 2), 10, 'the TxProfile is in force');
	const triggered = peer.expect('MeterValues', { match: (p) => p.meterValue[0].sampledValue[0].context === 'Trigger' });
	t.equal((await peer.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 2 })).status, 'Accepted');
	const trig = await triggered;
	const power = Number(trig.meterValue[0].sampledValue.find((v) => v.measurand === 'Power.Active.Import')?.value ?? NaN);
	t.ok(Math.abs(power - 6900) <= 10, `the EV draws what the profile allows: ${power} W`);
	t.equal(trig.transactionId, 1003);
	const currents = trig.meterValue[0].sampledValue.filter((v) => v.measurand === 'Current.Import');
	t.deepEqual(currents.map((v) => v.phase), ['L1', 'L2', 'L3'], 'current per phase');
	t.ok(currents.every((v) => Math.abs(Number(v.value) - 10) <= 0.1), 'at 10 A each');
	const bad = { ...profile, chargingProfilePurpose: 'TxDefaultProfile' };
	t.equal((await peer.call('RemoteStartTransaction', { connectorId: 1, idTag: 'X', chargingProfile: bad })).status, 'Rejected',
		'only a TxProfile may come with a remote start');
	const stopped3 = peer.expect('StopTransaction');
	await peer.call('RemoteStopTransaction', { transactionId: 1003 });
	await stopped3;
	const after = await peer.call('GetCompositeSchedule', { connectorId: 2, duration: 60, chargingRateUnit: 'A' });
	t.ok(limitAt(after, 2) > 10, 'the TxProfile ended with its transaction');

	// The connector went through the states the spec describes.
	const statuses = peer.frames.filter((f) => f.action === 'StatusNotification' && f.message?.[0] === 2 && f.message[3].connectorId === 1)
		.map((f) => f.message[3].status);
	for (const s of ['Preparing', 'Charging', 'Finishing', 'Available'])
		t.ok(statuses.includes(s), `connector 1 was ${s} (${statuses.join(' ')})`);
};
