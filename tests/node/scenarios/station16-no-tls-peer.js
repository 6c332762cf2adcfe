// The station must not complete a TLS handshake with this server (it does
// not trust the server's CA), so no WebSocket upgrade ever arrives.
module.exports = async (peer, t) => {
	await new Promise((r) => setTimeout(r, 2500));
	t.ok(!peer.handshake && peer.rejections.length === 0, 'no station got through');
};
