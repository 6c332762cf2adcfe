// Outage, part 1: the station boots and is told how to behave offline
// (AllowOfflineTxForUnknownId, meter values every second); then this
// central system goes away.
module.exports = async (peer, t) => {
	await peer.connected();
	await peer.expect('BootNotification', { reply: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } });
	t.equal((await peer.call('ChangeConfiguration', { key: 'AllowOfflineTxForUnknownId', value: 'true' })).status, 'Accepted');
	t.equal((await peer.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '1' })).status, 'Accepted');
	t.equal((await peer.call('ChangeConfiguration', { key: 'TransactionMessageRetryInterval', value: '1' })).status, 'Accepted');
};
