'use strict';
// Load for the kill -9 test: a session, then MeterValues as fast as they
// are answered, each acknowledged register value appended to $ACK_FILE
// (synchronously, so what the file holds was acknowledged). Runs until the
// server dies.
const fs = require('node:fs');
const { exampleBoot } = require('../harness');

module.exports = async (peer, t) => {
    await peer.connected();
    t.equal((await peer.call('BootNotification', exampleBoot('1.6'))).status, 'Accepted');
    const { transactionId } = await peer.call('StartTransaction',
        { connectorId: 1, idTag: 'LOAD', meterStart: 0, timestamp: new Date().toISOString() });
    fs.writeFileSync(process.env.ACK_FILE, `session ${transactionId}\n`);
    for (let wh = 1; ; wh++) {
        await peer.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{
            timestamp: new Date().toISOString(),
            sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
        fs.appendFileSync(process.env.ACK_FILE, `${wh}\n`);
    }
};
