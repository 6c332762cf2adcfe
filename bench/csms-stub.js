#!/usr/bin/env node
// A minimal OCPP 1.6 central system for benchmarks: accepts any number of
// stations (ocpp-rpc, no schema checks, to stay cheap), answers what a
// booting, idle station sends, and prints "READY <port>" once listening and
// "BOOTED <n>" each time another station has been accepted.
'use strict';
const { RPCServer } = require('ocpp-rpc');

const interval = Number(process.argv[2] || 300);
const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: false });
let booted = 0;

server.on('client', (client) => {
	client.handle('BootNotification', () => {
		process.stdout.write(`BOOTED ${++booted}\n`);
		return { status: 'Accepted', currentTime: new Date().toISOString(), interval };
	});
	client.handle('Heartbeat', () => ({ currentTime: new Date().toISOString() }));
	client.handle('StatusNotification', () => ({}));
});

server.listen(0, '127.0.0.1').then((http) => {
	process.stdout.write(`READY ${http.address().port}\n`);
});
process.on('SIGTERM', () => server.close({ force: true }).then(() => process.exit(0)));
