// AuthorizationKey rotation (1.6 security whitepaper): the central system
// sets a new key; the station answers, reconnects, and from then on sends
// the new key as its Basic Auth password. This central system only knows
// the old one, so it refuses the station's next attempts.
module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }) });
	t.equal((await peer.call('ChangeConfiguration', { key: 'AuthorizationKey', value: 'too-short' })).status, 'Rejected',
		'an AuthorizationKey must be 16 to 40 characters');
	t.equal((await peer.call('ChangeConfiguration', { key: 'AuthorizationKey', value: 'new-key-0123456789ab' })).status, 'Accepted');
	await peer.waitDisconnect({ timeout: 5000 });
	for (let i = 0; i < 100 && peer.rejections.length < 1; i++) await new Promise((r) => setTimeout(r, 100));
	t.ok(peer.rejections.length >= 1 && /password/.test(peer.rejections[0].reason),
		'the station now presents the new key (refused by a central system that has the old one)');
};
