// evstationd (OCPP 1.6) firmware management against a strict central system
// and a local HTTP server: UpdateFirmware through every status to a reboot
// that reports the new version, GetDiagnostics uploaded (a tar archive with
// the state, the configuration and the recent log lines), a failed download.
const http = require('node:http');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The members of a ustar archive: { name: Buffer }.
const untar = (buf) => {
	const out = {};
	for (let off = 0; off + 512 <= buf.length && buf[off] !== 0;) {
		const name = buf.toString('latin1', off, off + 100).replace(/\0.*$/s, '');
		const size = parseInt(buf.toString('latin1', off + 124, off + 136).replace(/\0.*$/s, ''), 8);
		if (buf.toString('latin1', off + 257, off + 262) !== 'ustar') throw new Error(`not a ustar header at ${off}`);
		out[name] = buf.subarray(off + 512, off + 512 + size);
		off += 512 + Math.ceil(size / 512) * 512;
	}
	return out;
};
// (A function: currentTime is the time of each answer; the station syncs its clock to it.)
const accept = { reply: () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }) };

module.exports = async (peer, t) => {
	const uploads = {};
	const server = http.createServer((req, res) => {
		if (req.method === 'GET' && req.url === '/fw/image.bin') return res.end(Buffer.alloc(64 * 1024, 7));
		if (req.method === 'PUT' && req.url.startsWith('/diag/')) {
			const body = [];
			req.on('data', (d) => body.push(d));
			req.on('end', () => { uploads[decodeURIComponent(req.url)] = Buffer.concat(body); res.writeHead(201); res.end(); });
			return undefined;
		}
		res.writeHead(404);
		return res.end();
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	const base = `http://127.0.0.1:${server.address().port}`;
	const fw = [], diag = [];
	peer.handle('FirmwareStatusNotification', (p) => { fw.push(p.status); return {}; });
	peer.handle('DiagnosticsStatusNotification', (p) => { diag.push(p.status); return {}; });
	const until = async (cond, what) => {
		for (let i = 0; i < 150 && !cond(); i++) await sleep(100);
		t.ok(cond(), what);
	};
	try {
		await peer.connected();
		const boot1 = await peer.expect('BootNotification', accept);
		const conf = await peer.call('GetConfiguration', { key: ['SupportedFeatureProfiles'] });
		t.ok(conf.configurationKey[0].value.split(',').includes('FirmwareManagement'), 'FirmwareManagement advertised');

		await peer.call('UpdateFirmware', { location: `${base}/fw/image.bin`, retrieveDate: new Date().toISOString() });
		await peer.waitDisconnect({ timeout: 20000 });   // it installs, then restarts
		await peer.connected();
		const boot2 = await peer.expect('BootNotification', { timeout: 20000, ...accept });
		t.deepEqual(fw, ['Downloading', 'Downloaded', 'Installing', 'Installed']);
		t.equal(boot2.firmwareVersion, '2.0.0-test', `the new version is reported (was ${boot1.firmwareVersion})`);

		const r = await peer.call('GetDiagnostics', { location: `${base}/diag/` });
		t.ok(r.fileName, `a file name (${r.fileName})`);
		await until(() => diag.includes('Uploaded'), 'diagnostics uploaded');
		t.deepEqual(diag, ['Uploading', 'Uploaded']);
		t.match(r.fileName, /^CP-FW-diagnostics-\d{8}T\d{6}Z\.tar$/);
		const archive = untar(uploads[`/diag/${r.fileName}`] || Buffer.alloc(0));
		t.deepEqual(Object.keys(archive), ['diagnostics.txt', 'state.json', 'configuration.json', 'log.txt'], 'the archive\'s members');
		t.match(archive['diagnostics.txt'].toString(), /^Diagnostics of charging station CP-FW\n/);
		t.equal(JSON.parse(archive['state.json']).id, 'CP-FW', 'the station\'s state');
		t.ok(JSON.parse(archive['configuration.json']).configurationKey.some((k) => k.key === 'HeartbeatInterval'), 'its configuration');
		const log = archive['log.txt'].toString();
		t.ok(/evstationd\[info\]: CP-FW: firmware 2\.0\.0-test installed; restarting\n/.test(log), 'the log lines (the installation)');
		t.ok(log.includes('CP-FW: accepted by the central system'), 'the log lines (the boots)');
		t.ok(log.split('\n').filter(Boolean).every((l) => /^\d{4}-\d\d-\d\dT[^ ]+Z evstationd\[(error|warn|info|debug)\]: /.test(l)), 'every line stamped');

		// A period with nothing in it: no lines.
		diag.length = 0;
		const old = await peer.call('GetDiagnostics', { location: `${base}/diag/`, startTime: '2001-01-01T00:00:00Z', stopTime: '2001-01-02T00:00:00Z' });
		await until(() => diag.includes('Uploaded'), 'second diagnostics uploaded');
		const none = untar(uploads[`/diag/${old.fileName}`] || Buffer.alloc(0));
		t.equal(none['log.txt']?.length, 0, 'no log lines from 2001');
		t.match(none['diagnostics.txt'].toString(), /Period: from 2001-01-01T00:00:00\.000Z to 2001-01-02T00:00:00\.000Z\n/);

		const trig = peer.expect('FirmwareStatusNotification', { fresh: true });
		t.equal((await peer.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })).status, 'Accepted');
		await trig.catch(() => {});
		t.equal((await peer.call('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' })).status, 'Accepted');

		fw.length = 0;
		await peer.call('UpdateFirmware', { location: `${base}/fw/missing.bin`, retrieveDate: new Date().toISOString(),
			retries: 1, retryInterval: 1 });
		await until(() => fw.includes('DownloadFailed'), 'a missing image ends in DownloadFailed');
		t.equal(fw[0], 'Downloading');
	} finally {
		server.close();
	}
};
