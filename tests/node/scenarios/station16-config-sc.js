// evstationd (OCPP 1.6): configuration keys and smart charging against a
// strict central system. Expected values follow the spec: readonly keys are
// Rejected, unknown ones NotSupported; the composite schedule is the lower
// of ChargePointMaxProfile and TxDefaultProfile, W = A x 230 V x 3 phases.
module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });

	const all = await peer.call('GetConfiguration', {});
	const value = (k) => (all.configurationKey.find((e) => e.key === k) || {}).value;
	t.equal(value('HeartbeatInterval'), '300', 'the boot interval is the HeartbeatInterval');
	t.equal(value('NumberOfConnectors'), '2');
	t.ok(value('SupportedFeatureProfiles').split(',').includes('SmartCharging'), 'SmartCharging advertised');
	t.ok(!all.configurationKey.some((e) => e.key === 'AuthorizationKey'), 'AuthorizationKey never returned');

	const some = await peer.call('GetConfiguration', { key: ['HeartbeatInterval', 'NoSuchKey'] });
	t.deepEqual(some.unknownKey, ['NoSuchKey']);
	t.equal(some.configurationKey.length, 1);

	const change = async (key, value) => (await peer.call('ChangeConfiguration', { key, value })).status;
	t.equal(await change('NumberOfConnectors', '5'), 'Rejected', 'readonly key');
	t.equal(await change('NoSuchKey', '1'), 'NotSupported', 'unknown key');
	t.equal(await change('MeterValueSampleInterval', 'often'), 'Rejected', 'not an integer');
	t.equal(await change('HeartbeatInterval', '1'), 'Accepted');
	await peer.expect('Heartbeat', { timeout: 3000 });   // the new interval is in force

	// Clock-aligned meter values: on the 2-second marks, context Sample.Clock.
	t.equal(await change('ClockAlignedDataInterval', '2'), 'Accepted');
	const aligned = await peer.expect('MeterValues', { timeout: 5000 });
	const sv = aligned.meterValue[0].sampledValue[0];
	t.equal(sv.context, 'Sample.Clock');
	t.equal(sv.measurand, 'Energy.Active.Import.Register', 'what MeterValuesAlignedData names');
	const phase = Date.parse(aligned.meterValue[0].timestamp) % 2000;
	t.ok(phase < 500 || phase > 1500, `aligned to the clock (${aligned.meterValue[0].timestamp})`);
	t.equal(await change('ClockAlignedDataInterval', '0'), 'Accepted');

	// Smart charging: 32 A for the station, 16 A then 10 A on connector 1.
	const now = Date.now();
	const startSchedule = new Date(now - 60000).toISOString();
	const profile = (id, purpose, periods) => ({
		chargingProfileId: id, stackLevel: 0, chargingProfilePurpose: purpose,
		chargingProfileKind: 'Absolute',
		chargingSchedule: { startSchedule, chargingRateUnit: 'A', chargingSchedulePeriod: periods },
	});
	const set = async (connectorId, p) => (await peer.call('SetChargingProfile', { connectorId, csChargingProfiles: p })).status;
	t.equal(await set(0, profile(1, 'ChargePointMaxProfile', [{ startPeriod: 0, limit: 32 }])), 'Accepted');
	t.equal(await set(1, profile(2, 'TxDefaultProfile', [{ startPeriod: 0, limit: 16 }, { startPeriod: 3600, limit: 10 }])), 'Accepted');
	t.equal(await set(9, profile(3, 'TxDefaultProfile', [{ startPeriod: 0, limit: 6 }])), 'Rejected', 'no connector 9');
	t.equal(await set(1, { ...profile(4, 'TxProfile', [{ startPeriod: 0, limit: 6 }]) }), 'Rejected', 'TxProfile without a transaction');

	const comp = await peer.call('GetCompositeSchedule', { connectorId: 1, duration: 7200, chargingRateUnit: 'A' });
	t.equal(comp.status, 'Accepted');
	const offset = Math.round((Date.parse(comp.scheduleStart) - Date.parse(startSchedule)) / 1000);
	const periods = comp.chargingSchedule.chargingSchedulePeriod;
	t.equal(periods[0].limit, 16, 'lower of 32 A (station) and 16 A (connector)');
	t.equal(periods[1].limit, 10);
	t.ok(Math.abs(periods[1].startPeriod - (3600 - offset)) <= 1, `second period starts at ${3600 - offset}s`);

	const watts = await peer.call('GetCompositeSchedule', { connectorId: 1, duration: 600, chargingRateUnit: 'W' });
	t.equal(watts.chargingSchedule.chargingSchedulePeriod[0].limit, 16 * 230 * 3, '16 A as watts');

	t.equal((await peer.call('ClearChargingProfile', { id: 2 })).status, 'Accepted');
	t.equal((await peer.call('ClearChargingProfile', { id: 2 })).status, 'Unknown', 'already cleared');
	const after = await peer.call('GetCompositeSchedule', { connectorId: 1, duration: 600, chargingRateUnit: 'A' });
	t.equal(after.chargingSchedule.chargingSchedulePeriod[0].limit, 32, 'only the station limit is left');
};
