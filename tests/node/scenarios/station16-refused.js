// The station must be refused at the WebSocket handshake, and keep retrying.
module.exports = async (peer, t) => {
	for (let i = 0; i < 100 && peer.rejections.length < 2; i++)
		await new Promise((r) => setTimeout(r, 100));
	t.ok(peer.rejections.length >= 2, `refused and retried (${peer.rejections.length} attempts)`);
	t.ok(!peer.handshake, 'no station got through');
};
