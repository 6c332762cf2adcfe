'use strict';
// Talks to evstationd's control socket (JSON lines over a Unix socket).
//   const ctl = require('./ctl'); await ctl(path, { cmd: 'plug', connector: 1 })
//   node ctl.js SOCKET '{"cmd":"state"}'
const net = require('node:net');

function ctl(path, request, timeoutMs = 5000) {
	return new Promise((resolve, reject) => {
		const sock = net.createConnection(path);
		let buf = '';
		const timer = setTimeout(() => { sock.destroy(); reject(new Error(`ctl: no answer to ${request.cmd}`)); }, timeoutMs);
		sock.on('data', (d) => {
			buf += d;
			const nl = buf.indexOf('\n');
			if (nl < 0) return;
			clearTimeout(timer);
			sock.end();
			const reply = JSON.parse(buf.slice(0, nl));
			if (reply.ok) resolve(reply);
			else reject(new Error(`ctl ${request.cmd}: ${reply.error}`));
		});
		sock.on('error', (e) => { clearTimeout(timer); reject(e); });
		sock.write(JSON.stringify(request) + '\n');
	});
}

module.exports = ctl;

if (require.main === module) {
	ctl(process.argv[2], JSON.parse(process.argv[3] || '{"cmd":"state"}'))
		.then((r) => { console.log(JSON.stringify(r)); })
		.catch((e) => { console.error(e.message); process.exit(1); });
}
