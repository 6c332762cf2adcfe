#!/usr/bin/env node
/*
 * Schema-conformance test: `evctl ocpp validate` vs the official OCPP JSON schemas.
 *
 * For every schema (action x .req/.conf) of OCPP 1.6 and OCPP 2.0.1 this test
 * derives, from the schema alone, valid payloads (minimal and maximal) and
 * broken variants at every property path (missing required fields, wrong
 * types, bad enums, length/range/multipleOf/format edge cases, ...). Each
 * payload is judged by the ocpp-rpc validator (ajv + the schemas shipped with
 * ocpp-rpc, built exactly like ocpp-rpc's standard-validators.js) and by
 * evctl's C validator. The test passes only if both agree on every case and
 * every schema of each version was exercised.
 *
 * Usage: node tests/node/conformance.js --evctl PATH [--version 1.6|2.0.1] [--keep DIR]
 *
 * The last output line is exactly "N passed, M failed" (read by CI).
 * Exit status: 0 when M == 0 and every schema was covered, 1 otherwise.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { createValidator } = require('ocpp-rpc/lib/validator.js');

const VERSIONS = {
    '1.6': { subprotocol: 'ocpp1.6', schemas: require('ocpp-rpc/lib/schemas/ocpp1_6.json') },
    '2.0.1': { subprotocol: 'ocpp2.0.1', schemas: require('ocpp-rpc/lib/schemas/ocpp2_0_1.json') },
};

const MAX_DETAILS = 50;          // disagreements printed in full
const PREVIEW_CHARS = 300;       // payload preview length in reports
const BLANK_LINE_EVERY = 1000;   // sprinkle blank lines to check `line` numbering
const EVCTL_TIMEOUT_MS = 120000;

// ---------------------------------------------------------------------------
// JSON text with hand-written tokens
//
// Some interesting inputs cannot be produced by JSON.stringify (`1.0`, `2E1`,
// 12345678901234567890 without rounding, `\u00e9` escapes...). A Raw value is
// emitted verbatim; the oracle always judges JSON.parse of the final text, so
// both sides see exactly the same bytes.
// ---------------------------------------------------------------------------

class Raw {
    constructor(text) {
        this.text = text;
    }
}
const raw = (text) => new Raw(text);

function toJsonText(value) {
    if (value instanceof Raw) return value.text;
    if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
    if (value !== null && typeof value === 'object') {
        const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`);
        return `{${members.join(',')}}`;
    }
    return JSON.stringify(value);
}

// Deep copy that keeps Raw tokens (they are immutable).
function clone(value) {
    if (value instanceof Raw || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(clone);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
}

function setAt(payload, at, value) {
    if (at.length === 0) return value;
    const copy = clone(payload);
    const parent = at.slice(0, -1).reduce((node, key) => node[key], copy);
    parent[at[at.length - 1]] = value;
    return copy;
}

function deleteAt(payload, at) {
    const copy = clone(payload);
    const parent = at.slice(0, -1).reduce((node, key) => node[key], copy);
    delete parent[at[at.length - 1]];
    return copy;
}

function pathLabel(at) {
    if (at.length === 0) return '(root)';
    return at.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

// Truncates by code points so that an emoji is never cut in half.
function preview(text) {
    const chars = Array.from(text);
    return chars.length > PREVIEW_CHARS ? `${chars.slice(0, PREVIEW_CHARS).join('')}... (${chars.length} chars)` : text;
}

// ---------------------------------------------------------------------------
// Schema helpers
// ---------------------------------------------------------------------------

// Follows local `#/definitions/...` references (the only kind the OCPP schemas use).
function deref(root, node) {
    for (let hops = 0; node.$ref !== undefined; hops++) {
        if (!node.$ref.startsWith('#/') || hops > 32) throw new Error(`unsupported $ref ${node.$ref} in ${root.$id}`);
        node = node.$ref.slice(2).split('/').reduce((n, key) => n[key], root);
        if (!node) throw new Error(`dangling $ref in ${root.$id}`);
    }
    return node;
}

function kindOf(node) {
    if (typeof node.type === 'string') return node.type;
    if (node.enum) return typeof node.enum[0];
    if (node.properties) return 'object';
    // e.g. 2.0.1 DataTransfer `data`: no constraint at all, any JSON value is valid.
    const constraints = Object.keys(node).filter((k) => k !== 'description' && k !== '$comment');
    if (constraints.length === 0) return 'any';
    throw new Error(`cannot tell the type of schema node ${JSON.stringify(node).slice(0, 200)}`);
}

// Every property path of the schema (objects' properties, arrays' first item),
// with the schema node that governs it and whether its parent requires it.
//
// `light` marks locations inside a definition already walked through another
// path of the same schema (2.0.1 reuses CustomDataType, IdTokenType... dozens
// of times per message). Those still get walked, but with a reduced set of
// variants, which keeps the run to a few thousand cases per version.
function* schemaPaths(root, schemaNode, at = [], required = true, seenDefs = new Set(), light = false) {
    const ref = schemaNode.$ref;
    if (ref !== undefined) {
        light = light || seenDefs.has(ref);
        seenDefs.add(ref);
    }
    const node = deref(root, schemaNode);
    const kind = kindOf(node);
    yield { at, node, kind, required, light };
    if (kind === 'object') {
        for (const [key, sub] of Object.entries(node.properties || {})) {
            yield* schemaPaths(root, sub, [...at, key], (node.required || []).includes(key), seenDefs, light);
        }
    } else if (kind === 'array') {
        yield* schemaPaths(root, node.items, [...at, 0], true, seenDefs, light);
    }
}

// ---------------------------------------------------------------------------
// Valid sample values
// ---------------------------------------------------------------------------

const FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789';
// Multi-byte characters: 2-byte é, 3-byte €, 4-byte emoji (UTF-16 surrogate pair).
const WIDE_CHARS = ['é', '€', '😀'];
const asciiString = (n) => FILLER.repeat(Math.ceil(n / FILLER.length) + 1).slice(0, n);
// `ch` may be a surrogate pair: ajv counts code points, so it still counts as one.
const repeatChar = (ch, n) => ch.repeat(n);

function sampleString(node, mode) {
    if (node.enum) return mode === 'max' ? node.enum[node.enum.length - 1] : node.enum[0];
    if (node.format === 'date-time') return mode === 'max' ? '2024-01-15T10:30:00.123+01:00' : '2024-01-15T10:30:00Z';
    if (node.format === 'uri') return mode === 'max' ? 'https://user:pw@example.com:8443/diag/up?id=1#top' : 'http://example.com/';
    if (mode === 'wide' && node.maxLength !== undefined) {
        return repeatChar(WIDE_CHARS[node.maxLength % WIDE_CHARS.length], node.maxLength);
    }
    if (mode !== 'min') return asciiString(node.maxLength ?? 64);
    return asciiString(Math.min(node.maxLength ?? 8, 8));
}

// mode 'min': required properties only, arrays at minItems.
// mode 'max': every property, arrays with one item, strings at maxLength.
// mode 'wide': like 'max', but free-text strings are multi-byte characters
//              (2-, 3- and 4-byte UTF-8) at exactly maxLength code points.
function sampleValue(root, schemaNode, mode) {
    const node = deref(root, schemaNode);
    switch (kindOf(node)) {
        case 'object': {
            const required = node.required || [];
            const obj = {};
            for (const [key, sub] of Object.entries(node.properties || {})) {
                if (mode !== 'min' || required.includes(key)) obj[key] = sampleValue(root, sub, mode);
            }
            return obj;
        }
        case 'array': {
            const count = mode === 'min' ? node.minItems ?? 0 : Math.max(1, node.minItems ?? 0);
            return Array.from({ length: count }, () => sampleValue(root, node.items, mode));
        }
        case 'string': return sampleString(node, mode);
        case 'integer': return mode === 'min' ? node.minimum ?? 1 : node.maximum ?? 42;
        case 'number': return mode === 'min' ? node.minimum ?? 6 : node.maximum ?? 12.5;
        case 'boolean': return mode !== 'min';
        case 'any': return mode !== 'min' ? { nested: [1, 2.5, 'x', true, null, {}] } : 'data';
        default: throw new Error(`unsupported type ${kindOf(node)} in ${root.$id}`);
    }
}

// ---------------------------------------------------------------------------
// Edge-case values. Expected verdicts are NOT encoded here: the oracle decides.
// ---------------------------------------------------------------------------

// One value of each JSON type; those of the node's own type are skipped.
const OTHER_TYPES = [
    ['string', 'text'],
    ['integer', 7],
    ['number', 2.5],
    ['boolean', true],
    ['null', null],
    ['object', {}],
    ['array', []],
];

const DATE_TIMES = [
    '2024-02-29T12:00:00Z', '2023-02-29T12:00:00Z', '2000-02-29T00:00:00Z', '2100-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T23:60:00Z', '2024-01-01T23:59:59Z',
    '2024-01-01t10:00:00z', '2024-01-01 10:00:00+01:00', '2024-01-01T10:00:00.123456+0100',
    '2024-01-01T10:00:00+01', '2024-01-01T10:00:00-23:59', '2024-01-01T10:00:00.5Z',
    '2024-01-01T10:00:00.123456789Z', '2024-01-01T10:00:00.Z', '2024-01-01T10:00:00',
    '2024-01-01T10:00Z', '2024-13-01T00:00:00Z', '2024-00-10T00:00:00Z', '2024-01-00T00:00:00Z',
    '2024-1-01T00:00:00Z', '20240101T100000Z', '2024-01-01', 'yesterday', '',
    '2016-12-31T23:59:60Z', '2024-01-01T23:59:60Z', '2024-01-01T10:59:60Z',
    '2024-01-01T10:00:00Z ', ' 2024-01-01T10:00:00Z', '2024-01-01TT10:00:00Z', '0000-01-01T00:00:00Z',
    '+2024-01-01T00:00:00Z', '2024-01-01T10:00:00+1:00', '２０２４-01-01T10:00:00Z',
];

const URIS = [
    'http://example.com/diag', 'https://example.com', 'ftp://ftp.example.com/pub/logs.tar.gz',
    'https://user:secret@example.com:8443/upload?cp=CP%201&x=1#frag', 'ftp://anonymous@[::1]:2121/in/',
    'http://[2001:db8::7]/c?q', 'http://192.168.0.10:8080/', 'http://[v1.fe80::a+en1]/', 'file:///tmp/diag.zip',
    'urn:example:diag', 'mailto:ops@example.com', 'HTTP://EXAMPLE.COM/', 'http://example.com:/x',
    'example.com/diag', 'www.example.com', 'http://exa mple.com/', 'http://example.com/a b',
    'http://example.com/%zz', 'http://example.com/%2', '/relative/path', 'relative/path', '../up',
    'ftp://[::1', 'http://[::1]]/', 'http://[12345::1]/', '1http://example.com/', 'http://例子.测试/',
    'http://example.com/\\x', 'http://example.com/<x>', 'http:', 'http://', '',
];

// Numbers written as text so that JSON.stringify cannot normalise them.
const INTEGER_TEXTS = [
    '0', '-1', '1.0', '1e2', '2E1', '1.5e1', '1.5', '0.1', '-0', '1e-2', '2147483647', '2147483648',
    '-2147483649', '9007199254740993', '12345678901234567890', '-12345678901234567890', '1E400',
];
const NUMBER_TEXTS = ['0', '-0', '-3.25', '1e2', '2.5E-3', '12345678901234567890', '1E400', '-1E400'];
// ocpp-rpc replaces ajv's multipleOf with an epsilon test (|q - round(q)| < 1e-6), hence 5e-8 vs 1e-7.
const MULTIPLE_OF_TEXTS = [
    '16.0', '16', '16.1', '16.15', '0.3', '0.7', '1e-7', '5e-8', '16.00000001', '-16.1', '100000.1', '1.6E1', '161e-1',
];

function lowerOrUpper(s) {
    return s.toLowerCase() !== s ? s.toLowerCase() : s.toUpperCase();
}

// Each generator yields [label, value] for the location described by `loc`.
function* stringVariants({ node }) {
    if (node.enum) {
        for (const value of node.enum) yield [`enum value ${JSON.stringify(value)}`, value];
        yield ['bad enum value', 'NotAnEnumValue'];
        yield ['case-changed enum value', lowerOrUpper(node.enum[0])];
        yield ['enum value with trailing space', `${node.enum[0]} `];
        yield ['empty string', ''];
        return;
    }
    if (node.format === 'date-time') {
        for (const value of DATE_TIMES) yield [`date-time ${JSON.stringify(value)}`, value];
        return;
    }
    if (node.format === 'uri') {
        for (const value of URIS) yield [`uri ${JSON.stringify(value)}`, value];
        return;
    }
    yield ['empty string', ''];
    if (node.maxLength === undefined) {
        yield ['long string (no maxLength)', asciiString(2000)];
        yield ['multi-byte string (no maxLength)', 'é€😀'.repeat(100)];
        return;
    }
    const max = node.maxLength;
    yield [`ASCII string at maxLength ${max}`, asciiString(max)];
    yield [`ASCII string at maxLength+1 ${max + 1}`, asciiString(max + 1)];
    for (const ch of WIDE_CHARS) {
        yield [`'${ch}' x maxLength ${max}`, repeatChar(ch, max)];
        yield [`'${ch}' x maxLength+1 ${max + 1}`, repeatChar(ch, max + 1)];
    }
    // Mixed: one wide char at the end of an otherwise ASCII string.
    yield [`ASCII + '😀' at maxLength ${max}`, asciiString(max - 1) + '😀'];
}

function* boundVariants({ node }) {
    if (node.minimum !== undefined) {
        yield ['at minimum', node.minimum];
        yield ['minimum-1', node.minimum - 1];
        yield ['minimum-0.001', node.minimum - 0.001];
    }
    if (node.maximum !== undefined) {
        yield ['at maximum', node.maximum];
        yield ['maximum+1', node.maximum + 1];
        yield ['maximum+0.001', node.maximum + 0.001];
    }
}

function* integerVariants(loc) {
    for (const text of INTEGER_TEXTS) yield [`integer written ${text}`, raw(text)];
    yield* boundVariants(loc);
}

function* numberVariants(loc) {
    const texts = loc.node.multipleOf !== undefined ? MULTIPLE_OF_TEXTS : NUMBER_TEXTS;
    for (const text of texts) yield [`number written ${text}`, raw(text)];
    yield* boundVariants(loc);
}

function* objectVariants(current) {
    yield ['empty object', {}];
    // Forbidden where additionalProperties is false, allowed elsewhere (2.0.1 customData).
    yield ['extra property', { ...current, unexpectedProperty: 'x' }];
}

function* arrayVariants({ node }, root) {
    // Minimal items: 2.0.1 has arrays of up to 1024 nested objects.
    const item = sampleValue(root, node.items, 'min');
    yield ['empty array', []];
    if (node.maxItems !== undefined) {
        yield [`array at maxItems ${node.maxItems}`, Array.from({ length: node.maxItems }, () => clone(item))];
        yield [`array at maxItems+1 ${node.maxItems + 1}`, Array.from({ length: node.maxItems + 1 }, () => clone(item))];
    } else {
        yield ['array with 3 items', [clone(item), clone(item), clone(item)]];
    }
}

function* kindVariants(loc, root, current) {
    switch (loc.kind) {
        case 'string': yield* stringVariants(loc); break;
        case 'integer': yield* integerVariants(loc); break;
        case 'number': yield* numberVariants(loc); break;
        case 'object': yield* objectVariants(current); break;
        case 'array': yield* arrayVariants(loc, root); break;
        default: break; // boolean: the wrong-type values cover it
    }
}

// ---------------------------------------------------------------------------
// Case generation
// ---------------------------------------------------------------------------

function getAt(payload, at) {
    return at.reduce((node, key) => node[key], payload);
}

// The minimal payload, extended with just what it takes for `at` to exist.
// Mutating this instead of the maximal payload keeps each broken case down
// to a single fault and the frames small.
function spinePayload(root, at) {
    const payload = sampleValue(root, root, 'min');
    let node = deref(root, root);
    let container = payload;
    for (const key of at) {
        const child = kindOf(node) === 'object' ? node.properties[key] : node.items;
        if (container[key] === undefined) container[key] = sampleValue(root, child, 'min');
        container = container[key];
        node = deref(root, child);
    }
    return payload;
}

// Reduced variant set for repeated definitions (see schemaPaths).
function* lightVariants(loc, current) {
    yield ['wrong type null', null];
    yield [loc.kind === 'string' ? 'wrong type integer' : 'wrong type string', loc.kind === 'string' ? 7 : 'text'];
    if (loc.kind === 'object') yield ['extra property', { ...current, unexpectedProperty: 'x' }];
    if (loc.kind === 'string' && loc.node.enum) yield ['bad enum value', 'NotAnEnumValue'];
    if (loc.kind === 'string' && loc.node.maxLength !== undefined && !loc.node.enum) {
        yield [`'😀' x maxLength+1 ${loc.node.maxLength + 1}`, repeatChar('😀', loc.node.maxLength + 1)];
    }
}

function* fullVariants(loc, root, current) {
    for (const [typeName, value] of OTHER_TYPES) {
        if (typeName !== loc.kind) yield [`wrong type ${typeName}`, clone(value)];
    }
    yield* kindVariants(loc, root, current);
}

// All cases for one schema: { schemaId, action, dir, variant, text }.
function* schemaCases(schema) {
    const [, action, dir] = /^urn:(\w+)\.(req|conf)$/.exec(schema.$id);
    const make = (variant, payload, validByConstruction = false) =>
        ({ schemaId: schema.$id, action, dir, variant, text: toJsonText(payload), validByConstruction });

    yield make('minimal payload', sampleValue(schema, schema, 'min'), true);
    yield make('maximal payload', sampleValue(schema, schema, 'max'), true);
    yield make('maximal payload, multi-byte strings', sampleValue(schema, schema, 'wide'), true);

    for (const loc of schemaPaths(schema, schema)) {
        const where = pathLabel(loc.at);
        const spine = spinePayload(schema, loc.at);
        if (loc.at.length > 0) {
            yield make(`${where}: removed (${loc.required ? 'required' : 'optional'})`, deleteAt(spine, loc.at));
        }
        const current = getAt(spine, loc.at);
        const variants = loc.light ? lightVariants(loc, current) : fullVariants(loc, schema, current);
        for (const [label, value] of variants) {
            yield make(`${where}: ${label}`, setAt(spine, loc.at, value));
        }
    }
}

// Hand-written payload texts (escapes, whitespace, number spellings inside
// otherwise valid payloads) that exercise the JSON reader rather than the schema.
const RAW_CASES = {
    '1.6': [
        ['urn:Authorize.req', 'escaped \\u00e9 x20 (maxLength)', `{"idTag":"${'\\u00e9'.repeat(20)}"}`],
        ['urn:Authorize.req', 'escaped \\u00e9 x21 (maxLength+1)', `{"idTag":"${'\\u00e9'.repeat(21)}"}`],
        ['urn:Authorize.req', 'escaped surrogate pair x20', `{"idTag":"${'\\ud83d\\ude00'.repeat(20)}"}`],
        ['urn:Authorize.req', 'escaped surrogate pair x21', `{"idTag":"${'\\ud83d\\ude00'.repeat(21)}"}`],
        ['urn:Authorize.req', 'escapes \\" \\\\ \\/ \\t count as one char', `{"idTag":"${'\\"\\\\\\/\\t'.repeat(5)}"}`],
        ['urn:Authorize.req', 'escapes x21 chars', `{"idTag":"${'\\"\\\\\\/\\t'.repeat(5)}x"}`],
        ['urn:Authorize.req', 'escaped NUL inside string', '{"idTag":"a\\u0000b"}'],
        ['urn:Authorize.req', 'escaped key name', '{"id\\u0054ag":"ABC"}'],
        ['urn:Authorize.req', 'whitespace between tokens', ' {\t"idTag" :  "ABC" }\t'],
        ['urn:Heartbeat.req', 'empty object with whitespace', '{ }'],
        ['urn:BootNotification.conf', 'escaped enum value', '{"status":"Acc\\u0065pted","currentTime":"2024-01-01T00:00:00Z","interval":300}'],
        ['urn:BootNotification.conf', 'escaped date-time', '{"status":"Accepted","currentTime":"2024\\u002d01-01T00:00:00Z","interval":300}'],
        ['urn:BootNotification.conf', 'interval 3e2', '{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":3e2}'],
        ['urn:BootNotification.conf', 'interval 300.0', '{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":300.0}'],
        ['urn:BootNotification.conf', 'interval 300.5', '{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":300.5}'],
        ['urn:BootNotification.conf', 'interval 3.005E2', '{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":3.005E2}'],
        ['urn:SetChargingProfile.req', 'limit 16.0 and minChargingRate 6.0', '{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.0}],"minChargingRate":6.0}}}'],
        ['urn:SetChargingProfile.req', 'limit 0.30000000000000004', '{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":0.30000000000000004}]}}}'],
        ['urn:DataTransfer.req', 'data with every escape kind', '{"vendorId":"v","data":"\\b\\f\\n\\r\\t\\"\\\\\\/\\u20ac\\uD83D\\uDE00"}'],
    ],
    '2.0.1': [
        ['urn:Authorize.req', 'escaped \\u00e9 x36 (maxLength)', `{"idToken":{"idToken":"${'\\u00e9'.repeat(36)}","type":"Central"}}`],
        ['urn:Authorize.req', 'escaped \\u00e9 x37 (maxLength+1)', `{"idToken":{"idToken":"${'\\u00e9'.repeat(37)}","type":"Central"}}`],
        ['urn:Authorize.req', 'escaped surrogate pair x36', `{"idToken":{"idToken":"${'\\ud83d\\ude00'.repeat(36)}","type":"Central"}}`],
        ['urn:Authorize.req', 'escaped key names', '{"id\\u0054oken":{"\\u0069dToken":"ABC","type":"Central"}}'],
        ['urn:Authorize.req', 'escaped enum value', '{"idToken":{"idToken":"ABC","type":"\\u0043entral"}}'],
        ['urn:Authorize.req', 'customData with nested extras', '{"customData":{"vendorId":"acme","extra":{"deep":[1,2.5,"x",null,true]}},"idToken":{"idToken":"ABC","type":"Central"}}'],
        ['urn:Authorize.req', 'whitespace between tokens', '\t{ "idToken" : { "idToken" : "ABC" ,\t"type" : "Central" } } '],
        ['urn:Heartbeat.req', 'empty object with whitespace', '{ }'],
        ['urn:BootNotification.req', 'escaped reason enum', '{"reason":"Power\\u0055p","chargingStation":{"model":"M","vendorName":"V"}}'],
        ['urn:BootNotification.conf', 'interval 3e2', '{"currentTime":"2024-01-01T00:00:00Z","interval":3e2,"status":"Accepted"}'],
        ['urn:BootNotification.conf', 'interval 300.0', '{"currentTime":"2024-01-01T00:00:00Z","interval":300.0,"status":"Accepted"}'],
        ['urn:BootNotification.conf', 'interval 300.25', '{"currentTime":"2024-01-01T00:00:00Z","interval":300.25,"status":"Accepted"}'],
        ['urn:DataTransfer.req', 'data of any JSON type (array)', '{"vendorId":"v","data":[1,{"a":null}]}'],
        ['urn:DataTransfer.req', 'data string with every escape kind', '{"vendorId":"v","data":"\\b\\f\\n\\r\\t\\"\\\\\\/\\u20ac\\uD83D\\uDE00"}'],
    ],
};

function* rawCases(version) {
    for (const [schemaId, variant, text] of RAW_CASES[version]) {
        const [, action, dir] = /^urn:(\w+)\.(req|conf)$/.exec(schemaId);
        yield { schemaId, action, dir, variant: `raw text: ${variant}`, text };
    }
}

function generateCases(version) {
    const cases = [];
    for (const schema of VERSIONS[version].schemas) cases.push(...schemaCases(schema));
    cases.push(...rawCases(version));
    // Frames are line-delimited: a raw CR or LF inside a payload would split it.
    const broken = cases.find((c) => /[\r\n]/.test(c.text));
    if (broken) throw new Error(`payload of ${broken.schemaId} / ${broken.variant} contains a line break`);
    return cases;
}

// ---------------------------------------------------------------------------
// Oracle
// ---------------------------------------------------------------------------

function makeOracle(version) {
    const { subprotocol, schemas } = VERSIONS[version];
    // Same construction as ocpp-rpc/lib/standard-validators.js.
    const validator = createValidator(subprotocol, schemas);
    return (schemaId, text) => {
        const payload = JSON.parse(text); // a generator bug if this throws
        try {
            const ok = validator.validate(schemaId, payload);
            return ok === true ? { valid: true, error: null } : { valid: false, error: 'validator returned false' };
        } catch (err) {
            return { valid: false, error: `${err.rpcErrorCode || err.name}: ${err.message}` };
        }
    };
}

// ---------------------------------------------------------------------------
// Frames file and evctl run
// ---------------------------------------------------------------------------

// Writes one CALL (for .req) or CALL + CALLRESULT (for .conf) per case and
// records, on each case, the 1-based line number of the frame under test.
function buildFrames(version, cases) {
    const schemasById = new Map(VERSIONS[version].schemas.map((s) => [s.$id, s]));
    const callPayloads = new Map();
    const lines = [];
    const push = (line) => {
        lines.push(line);
        const lineNumber = lines.length;
        if (lineNumber % BLANK_LINE_EVERY === 0) lines.push(''); // must produce no output
        return lineNumber;
    };
    cases.forEach((c, i) => {
        const id = `cf-${version}-${i}`; // unique and well under 36 characters
        if (c.dir === 'req') {
            c.line = push(`[2,${JSON.stringify(id)},${JSON.stringify(c.action)},${c.text}]`);
            return;
        }
        const reqId = `urn:${c.action}.req`;
        if (!callPayloads.has(reqId)) {
            const reqSchema = schemasById.get(reqId);
            callPayloads.set(reqId, toJsonText(sampleValue(reqSchema, reqSchema, 'min')));
        }
        push(`[2,${JSON.stringify(id)},${JSON.stringify(c.action)},${callPayloads.get(reqId)}]`);
        c.line = push(`[3,${JSON.stringify(id)},${c.text}]`);
    });
    return `${lines.join('\n')}\n`;
}

// Runs evctl and returns { byLine: Map(line -> output object), problems: [...] }.
function runEvctl(evctl, version, framesFile) {
    const args = ['ocpp', 'validate', '--ocpp', version, '--json', framesFile];
    const res = spawnSync(evctl, args, { encoding: 'utf8', maxBuffer: 1 << 30, timeout: EVCTL_TIMEOUT_MS });
    const problems = [];
    const byLine = new Map();
    if (res.error) problems.push(`could not run ${evctl}: ${res.error.message}`);
    else if (res.status === null) problems.push(`evctl killed by ${res.signal}`);
    else if (res.status >= 2) problems.push(`evctl exited with status ${res.status}: ${res.stderr.trim().slice(0, 500)}`);
    if (problems.length > 0) return { byLine, problems, fatal: true, stdout: res.stdout || '' };

    let anyInvalid = false;
    res.stdout.split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        let out;
        try {
            out = JSON.parse(line);
        } catch (err) {
            problems.push(`garbled output line ${i + 1}: ${preview(line)}`);
            return;
        }
        if (out === null || typeof out !== 'object' || !Number.isInteger(out.line) || typeof out.valid !== 'boolean') {
            problems.push(`output line ${i + 1} lacks an integer "line" or boolean "valid": ${preview(line)}`);
            return;
        }
        if (byLine.has(out.line)) problems.push(`two outputs for input line ${out.line}`);
        byLine.set(out.line, out);
        anyInvalid = anyInvalid || !out.valid;
    });
    if (res.status !== (anyInvalid ? 1 : 0)) {
        problems.push(`exit status ${res.status} does not match the verdicts (expected ${anyInvalid ? 1 : 0})`);
    }
    return { byLine, problems, fatal: false, stdout: res.stdout };
}

// ---------------------------------------------------------------------------
// Comparison and reporting
// ---------------------------------------------------------------------------

// Returns null when the case passes, else { kind, why } where kind is
// 'disagreement' (verdicts differ or no verdict) or 'code' (CALLERROR code
// inconsistent with evctl's own verdict).
function judge(expected, out) {
    if (!out) return { kind: 'disagreement', why: 'no output for this line' };
    if (out.valid !== expected.valid) return { kind: 'disagreement', why: 'verdicts differ' };
    if (out.valid && out.code !== null) {
        return { kind: 'code', why: `valid but code is ${JSON.stringify(out.code)} (expected null)` };
    }
    if (!out.valid && (typeof out.code !== 'string' || out.code === '')) {
        return { kind: 'code', why: `invalid but code is ${JSON.stringify(out.code)} (expected a non-empty string)` };
    }
    return null;
}

function describeFailure(version, c, why, out) {
    const verdict = (v) => (v ? 'valid' : 'invalid');
    const evctl = out
        ? `${verdict(out.valid)} (code=${JSON.stringify(out.code)}, reason=${JSON.stringify(out.reason)})`
        : 'no output';
    return [
        `FAIL [${version}] ${c.schemaId} - ${c.variant} (line ${c.line}): ${why}`,
        `  payload: ${preview(c.text)}`,
        `  oracle:  ${verdict(c.expected.valid)}${c.expected.error ? ` (${c.expected.error})` : ''}`,
        `  evctl:   ${evctl}`,
    ].join('\n');
}

// Writes the frames, runs evctl on them and, with --keep, leaves frames,
// evctl output and case metadata (line -> schema, variant, oracle verdict) behind.
function runCases(version, cases, opts) {
    const workDir = opts.keep || fs.mkdtempSync(path.join(os.tmpdir(), 'evctl-conformance-'));
    const framesFile = path.join(workDir, `frames-${version}.jsonl`);
    fs.writeFileSync(framesFile, buildFrames(version, cases));
    const run = runEvctl(opts.evctl, version, framesFile);
    if (opts.keep) {
        fs.writeFileSync(path.join(workDir, `out-${version}.jsonl`), run.stdout);
        const meta = cases.map(({ line, schemaId, variant, expected }) => JSON.stringify({ line, schemaId, variant, expected }));
        fs.writeFileSync(path.join(workDir, `cases-${version}.jsonl`), `${meta.join('\n')}\n`);
    } else {
        fs.rmSync(workDir, { recursive: true, force: true });
    }
    return run;
}

// Compares every case, printing details for the first MAX_DETAILS failures overall.
function compareCases(version, cases, run, report) {
    const stats = { valid: 0, invalid: 0, passed: 0, disagreements: 0, codeViolations: 0 };
    for (const c of cases) {
        stats[c.expected.valid ? 'valid' : 'invalid']++;
        const out = run.byLine.get(c.line);
        const failure = judge(c.expected, out);
        if (failure === null) {
            stats.passed++;
            continue;
        }
        stats[failure.kind === 'code' ? 'codeViolations' : 'disagreements']++;
        if (run.fatal) continue; // reported once by the caller; details would only repeat "no output"
        report.detailed++;
        if (report.detailed <= MAX_DETAILS) console.log(describeFailure(version, c, failure.why, out));
    }
    return stats;
}

function testVersion(version, opts, report) {
    const cases = generateCases(version);
    const oracle = makeOracle(version);
    for (const c of cases) {
        c.expected = oracle(c.schemaId, c.text);
        // Otherwise the generator is wrong and the broken variants derived from it prove little.
        if (c.validByConstruction && !c.expected.valid) {
            throw new Error(`generated ${c.variant} for ${c.schemaId} is invalid: ${c.expected.error}`);
        }
    }

    const run = runCases(version, cases, opts);
    const total = VERSIONS[version].schemas.length;
    // A schema counts as covered once evctl has answered for at least one of its cases.
    const covered = new Set(cases.filter((c) => run.byLine.has(c.line)).map((c) => c.schemaId)).size;
    if (covered !== total) run.problems.push(`only ${covered} of ${total} schemas exercised`);
    for (const p of run.problems) console.log(`FAIL [${version}] ${p}`);
    if (run.fatal) console.log(`FAIL [${version}] no usable evctl output: all ${cases.length} cases count as failed`);

    const stats = compareCases(version, cases, run, report);
    // Run-level problems count as failures too, so that the last line alone tells CI the truth.
    const failed = stats.disagreements + stats.codeViolations + run.problems.length;
    report.summaries.push(
        `OCPP ${version}: ${covered}/${total} schemas covered, ${cases.length} cases ` +
        `(${stats.valid} valid, ${stats.invalid} invalid per oracle): ${stats.passed} agree, ` +
        `${stats.disagreements} disagreements, ${stats.codeViolations} code violations, ` +
        `${run.problems.length} run-level failures`,
    );
    report.passed += stats.passed;
    report.failed += failed;
    report.allCovered = report.allCovered && covered === total;
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

function usage(message) {
    if (message) console.error(`conformance.js: ${message}`);
    console.error('usage: node tests/node/conformance.js --evctl PATH [--version 1.6|2.0.1] [--keep DIR]');
    process.exit(2);
}

function parseArgs(argv) {
    const opts = { evctl: null, versions: Object.keys(VERSIONS), keep: null };
    for (let i = 0; i < argv.length; i++) {
        const value = argv[i + 1];
        switch (argv[i]) {
            case '--evctl': opts.evctl = value; i++; break;
            case '--version':
                if (!VERSIONS[value]) usage(`unknown version ${value}`);
                opts.versions = [value]; i++; break;
            case '--keep': opts.keep = value; i++; break;
            case '-h': case '--help': usage(); break;
            default: usage(`unknown argument ${argv[i]}`);
        }
    }
    if (!opts.evctl) usage('--evctl PATH is required');
    if (opts.evctl.includes('/')) opts.evctl = path.resolve(opts.evctl); // else looked up in $PATH
    if (opts.keep) {
        opts.keep = path.resolve(opts.keep);
        fs.mkdirSync(opts.keep, { recursive: true });
    }
    return opts;
}

function main() {
    const opts = parseArgs(process.argv.slice(2));
    const report = { passed: 0, failed: 0, detailed: 0, allCovered: true, summaries: [] };
    for (const version of opts.versions) testVersion(version, opts, report);
    if (report.detailed > MAX_DETAILS) console.log(`... ${report.detailed - MAX_DETAILS} more failing cases not shown`);
    for (const line of report.summaries) console.log(line);
    console.log(`${report.passed} passed, ${report.failed} failed`);
    process.exitCode = report.failed === 0 && report.allCovered ? 0 : 1;
}

main();
