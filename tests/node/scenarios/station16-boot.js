// A station connects and boots; nothing more (for connection-level tests).
module.exports = async (peer, t) => {
	await peer.connected();
	const boot = await peer.expect('BootNotification');
	t.ok(boot.chargePointVendor, 'BootNotification received');
};
