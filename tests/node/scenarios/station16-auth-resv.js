// evstationd (OCPP 1.6): local authorization list, authorization cache,
// reservations, and what the central system set surviving a restart (the
// test restarts evstationd when this scenario writes $STATION_RESTART_FILE).
const fs = require('node:fs');
const ctl = require('../ctl');
const sock = process.env.EVSTATIOND_CTL;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const inAnHour = () => new Date(Date.now() + 3600e3).toISOString();
// (A function: currentTime is the time of each answer; the station syncs its clock to it.)
const boot = { reply: () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }) };

module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', boot);
	const status = async (action, payload) => (await peer.call(action, payload)).status;

	// The local authorization list.
	t.equal((await peer.call('GetLocalListVersion', {})).listVersion, 0, 'no list yet');
	t.equal(await status('SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: [
		{ idTag: 'LIST-OK', idTagInfo: { status: 'Accepted' } },
		{ idTag: 'LIST-BLOCKED', idTagInfo: { status: 'Blocked' } }] }), 'Accepted');
	t.equal((await peer.call('GetLocalListVersion', {})).listVersion, 1);
	t.equal(await status('SendLocalList', { listVersion: 1, updateType: 'Differential',
		localAuthorizationList: [{ idTag: 'X', idTagInfo: { status: 'Accepted' } }] }), 'VersionMismatch');
	t.equal(await status('SendLocalList', { listVersion: 2, updateType: 'Differential',
		localAuthorizationList: [{ idTag: 'LIST-BLOCKED' }] }), 'Accepted', 'an entry without idTagInfo is removed');
	t.equal((await peer.call('GetLocalListVersion', {})).listVersion, 2);

	// LocalPreAuthorize: a card on the list starts without asking.
	t.equal(await status('ChangeConfiguration', { key: 'LocalPreAuthorize', value: 'true' }), 'Accepted');
	const started = peer.expect('StartTransaction', { reply: { transactionId: 501, idTagInfo: { status: 'Accepted' } } });
	await ctl(sock, { cmd: 'token', id: 'LIST-OK' });
	await ctl(sock, { cmd: 'plug', connector: 1 });
	t.equal((await started).idTag, 'LIST-OK');
	t.ok(!peer.frames.some((f) => f.action === 'Authorize' && f.message?.[3]?.idTag === 'LIST-OK'), 'no Authorize.req for a listed card');
	const stopped = peer.expect('StopTransaction');
	await ctl(sock, { cmd: 'token', id: 'LIST-OK' });
	t.equal((await stopped).reason, 'Local');
	await ctl(sock, { cmd: 'unplug', connector: 1 });

	// The cache, and ClearCache.
	const asked = peer.expect('Authorize', { reply: { idTagInfo: { status: 'Accepted' } } });
	await ctl(sock, { cmd: 'token', id: 'CACHED-CARD', connector: 2 });
	await asked;
	t.equal(await status('ClearCache', {}), 'Accepted');

	// Reservations.
	t.equal(await status('ReserveNow', { connectorId: 2, expiryDate: inAnHour(), idTag: 'RESV-TAG', reservationId: 7 }), 'Occupied',
		'connector 2 is Preparing for CACHED-CARD');
	await sleep(100);
	t.equal(await status('ReserveNow', { connectorId: 1, expiryDate: inAnHour(), idTag: 'RESV-TAG', reservationId: 7 }), 'Accepted');
	t.equal(await status('RemoteStartTransaction', { connectorId: 1, idTag: 'SOMEONE-ELSE' }), 'Rejected', 'reserved for another idTag');
	t.equal(await status('CancelReservation', { reservationId: 7 }), 'Accepted');
	t.equal(await status('CancelReservation', { reservationId: 7 }), 'Rejected', 'no such reservation any more');
	t.equal(await status('ReserveNow', { connectorId: 1, expiryDate: new Date(Date.now() + 2000).toISOString(), idTag: 'RESV-TAG', reservationId: 8 }), 'Accepted');
	await sleep(3500);   // it expires
	t.equal(await status('RemoteStartTransaction', { connectorId: 1, idTag: 'SOMEONE-ELSE' }), 'Accepted', 'free again after expiry');
	await sleep(200);
	t.equal(await status('ReserveNow', { connectorId: 2, expiryDate: inAnHour(), idTag: 'X', reservationId: 0 }), 'Occupied');

	// What the central system set survives a restart.
	t.equal(await status('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '17' }), 'Accepted');
	t.equal(await status('SetChargingProfile', { connectorId: 0, csChargingProfiles: { chargingProfileId: 77, stackLevel: 0,
		chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Relative',
		chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 20 }] } } }), 'Accepted');
	await ctl(sock, { cmd: 'unplug', connector: 2 }).catch(() => {});
	// (Scheduled if connector 2 is still Preparing for CACHED-CARD: in use.)
	t.ok(['Accepted', 'Scheduled'].includes(await status('ChangeAvailability', { connectorId: 2, type: 'Inoperative' })),
		'Inoperative accepted or scheduled');
	fs.writeFileSync(process.env.STATION_RESTART_FILE, 'now');
	await peer.waitDisconnect({ timeout: 10000 });
	await peer.connected();
	await peer.expect('BootNotification', { timeout: 20000, ...boot });
	const conf = await peer.call('GetConfiguration', { key: ['MeterValueSampleInterval'] });
	t.equal(conf.configurationKey[0].value, '17', 'a changed key survives a restart');
	const comp = await peer.call('GetCompositeSchedule', { connectorId: 1, duration: 60, chargingRateUnit: 'A' });
	t.equal(comp.chargingSchedule.chargingSchedulePeriod[0].limit, 20, 'a charging profile survives a restart');
	t.equal((await peer.call('GetLocalListVersion', {})).listVersion, 2, 'the local list survives a restart');
	const restartedAt = peer.frames.filter((f) => f.action === 'BootNotification').pop().time;
	const c2 = peer.frames.filter((f) => f.time >= restartedAt && f.action === 'StatusNotification' &&
		f.message?.[0] === 2 && f.message[3].connectorId === 2).map((f) => f.message[3].status);
	t.equal(c2[0], 'Unavailable', 'Inoperative survives a restart');
};
