// evstationd (OCPP 1.6) against a strict central system: boot, status of
// every connector, heartbeat at the interval the CSMS set, TriggerMessage,
// and an honest NotSupported for what the station does not do yet.
module.exports = async (peer, t) => {
	const id = await peer.connected();
	t.equal(id, 'CP001', 'station id from the URL');
	const boot = await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 1 } });
	t.equal(boot.chargePointVendor, 'evctl');
	for (const c of [0, 1, 2]) {
		const s = await peer.expect('StatusNotification', { timeout: 5000 });
		t.equal(s.connectorId, c);
		t.equal(s.status, 'Available');
	}
	await peer.expect('Heartbeat', { timeout: 3000 });
	t.equal((await peer.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 })).status, 'Accepted');
	const s = await peer.expect('StatusNotification');
	t.equal(s.connectorId, 1);
	let err;
	try { await peer.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: 'PEM' }); } catch (e) { err = e; }
	t.equal(err && err.code, 'NotSupported');
};
