'use strict';
// A client of evctl serve's REST API for scenarios and tests: the base URL
// and token come from $EVCTL_API (http://127.0.0.1:PORT) and $EVCTL_TOKEN.
const http = require('node:http');

const base = () => process.env.EVCTL_API;
const token = () => process.env.EVCTL_TOKEN;

/** api('POST', '/stations', {...}) -> { status, body } (body parsed if JSON). */
async function api(method, path, body, { auth = true, headers = {} } = {}) {
    const res = await fetch(`${base()}/api/v1${path}`, {
        method,
        headers: {
            ...(auth ? { authorization: `Bearer ${token()}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...headers,
        },
        body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
    });
    const text = await res.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, body: parsed, headers: res.headers };
}

/** An event stream: events[] fills as they come; next(type, pred) waits for one. */
function events(query = '') {
    const received = [];
    const waiters = [];
    let buffer = '';
    const url = new URL(`${base()}/api/v1/events${query}`);
    const req = http.get(url, { headers: { authorization: `Bearer ${token()}`, accept: 'text/event-stream' } });
    const ready = new Promise((resolve, reject) => {
        req.on('response', (res) => {
            if (res.statusCode !== 200) { reject(new Error(`event stream: HTTP ${res.statusCode}`)); return; }
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
                buffer += chunk;
                let end;
                while ((end = buffer.indexOf('\n\n')) >= 0) {
                    const block = buffer.slice(0, end);
                    buffer = buffer.slice(end + 2);
                    const ev = { type: 'message', data: '' };
                    for (const line of block.split('\n')) {
                        if (line.startsWith('event: ')) ev.type = line.slice(7);
                        else if (line.startsWith('data: ')) ev.data += line.slice(6);
                    }
                    if (!ev.data) continue; // a comment (keep-alive)
                    ev.data = JSON.parse(ev.data);
                    received.push(ev);
                    for (const w of [...waiters]) w();
                }
            });
            resolve();
        });
        req.on('error', reject);
    });
    let seen = 0;
    return {
        ready,
        received,
        /** The next event of this type (after those already taken) matching pred. */
        next(type, pred = () => true, timeoutMs = 10000) {
            return new Promise((resolve, reject) => {
                const check = () => {
                    for (let i = seen; i < received.length; i++) {
                        const ev = received[i];
                        if (ev.type === type && pred(ev.data)) {
                            seen = i + 1;
                            waiters.splice(waiters.indexOf(check), 1);
                            clearTimeout(timer);
                            resolve(ev.data);
                            return;
                        }
                    }
                };
                const timer = setTimeout(() => {
                    waiters.splice(waiters.indexOf(check), 1);
                    reject(new Error(`no '${type}' event in ${timeoutMs} ms; got ${received.map((e) => e.type).join(', ')}`));
                }, timeoutMs);
                waiters.push(check);
                check();
            });
        },
        close() { req.destroy(); },
    };
}

module.exports = { api, events };

// node api.js METHOD PATH [JSON]: prints "STATUS BODY" (for shell tests).
if (require.main === module) {
    const [method, path, body] = process.argv.slice(2);
    api(method, path, body).then((r) => {
        process.stdout.write(`${r.status} ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)}\n`);
    }, (err) => {
        process.stderr.write(`api.js: ${err.message}\n`);
        process.exit(1);
    });
}
