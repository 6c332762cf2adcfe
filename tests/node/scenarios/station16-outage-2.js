// Outage, part 2: a new central system on the same address. The session
// that happened offline arrives in order: StartTransaction first, then its
// MeterValues and StopTransaction carrying the transactionId this central
// system gave in its answer to the StartTransaction.
module.exports = async (peer, t) => {
	const meters = [];
	peer.handle('MeterValues', (p) => { meters.push(p); return {}; });
	await peer.connected();
	const start = await peer.expect('StartTransaction', { timeout: 20000,
		reply: { transactionId: 2001, idTagInfo: { status: 'Accepted' } } });
	t.equal(start.idTag, 'OFFLINE-CARD');
	const stop = await peer.expect('StopTransaction', { timeout: 20000 });
	t.ok(meters.length >= 1, `meter values taken offline arrived (${meters.length})`);
	t.ok(meters.every((m) => m.transactionId === 2001), 'queued meter values carry the new transactionId');
	t.equal(stop.transactionId, 2001, 'the queued stop carries the new transactionId');
	t.equal(stop.reason, 'Local');
	t.ok(stop.meterStop > start.meterStart, `energy charged offline (${stop.meterStop - start.meterStart} Wh)`);
	const order = peer.frames.filter((f) => f.dir === 'in' && f.message?.[0] === 2 &&
		['StartTransaction', 'MeterValues', 'StopTransaction'].includes(f.action)).map((f) => f.action);
	t.equal(order[0], 'StartTransaction', 'the start comes first');
	t.equal(order[order.length - 1], 'StopTransaction', 'the stop comes last');
};
