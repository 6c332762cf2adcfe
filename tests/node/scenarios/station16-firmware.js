// evstationd (OCPP 1.6) firmware management against a strict central system
// and a local HTTP server: UpdateFirmware through every status to a reboot
// that reports the new version, GetDiagnostics uploaded, a failed download.
const http = require('node:http');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// (A function: currentTime is the time of each answer; the station syncs its clock to it.)
const accept = { reply: () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }) };

module.exports = async (peer, t) => {
	const uploads = {};
	const server = http.createServer((req, res) => {
		if (req.method === 'GET' && req.url === '/fw/image.bin') return res.end(Buffer.alloc(64 * 1024, 7));
		if (req.method === 'PUT' && req.url.startsWith('/diag/')) {
			const body = [];
			req.on('data', (d) => body.push(d));
			req.on('end', () => { uploads[decodeURIComponent(req.url)] = Buffer.concat(body).toString(); res.writeHead(201); res.end(); });
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
		t.ok((uploads[`/diag/${r.fileName}`] || '').includes('CP-FW'), 'the upload holds the station\'s state');

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
