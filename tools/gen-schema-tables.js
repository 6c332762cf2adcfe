#!/usr/bin/env node
/*
 * Generates the C tables our OCPP validator runs on, from the official OCA
 * JSON schemas as shipped in the npm package ocpp-rpc (lib/schemas/), and the
 * URI grammar from ajv-formats (the oracle the schemas are checked with).
 *
 *   node tools/gen-schema-tables.js [NODE_MODULES_DIR] [OUT_DIR]
 *
 * Defaults: tests/node/node_modules and src/ocpp. The output is committed, so
 * building evctl needs neither Node nor the schemas; the conformance test
 * re-runs this generator and fails if the committed tables are stale.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const modules = path.resolve(process.argv[2] || path.join(root, 'tests/node/node_modules'));
const outDir = path.resolve(process.argv[3] || path.join(root, 'src/ocpp'));

/* Which side starts each action (OCPP 1.6 edition 2 chapters 4 and 5, the
 * 1.6 security whitepaper, OCPP 2.0.1 part 2). Anything not listed here is
 * started by the central system; DataTransfer goes both ways. */
const FROM_STATION = {
  '16': ['Authorize', 'BootNotification', 'DiagnosticsStatusNotification',
    'FirmwareStatusNotification', 'Heartbeat', 'MeterValues', 'StartTransaction',
    'StatusNotification', 'StopTransaction', 'LogStatusNotification',
    'SecurityEventNotification', 'SignCertificate', 'SignedFirmwareStatusNotification'],
  '201': ['Authorize', 'BootNotification', 'ClearedChargingLimit',
    'FirmwareStatusNotification', 'Get15118EVCertificate', 'GetCertificateStatus',
    'Heartbeat', 'LogStatusNotification', 'MeterValues', 'NotifyChargingLimit',
    'NotifyCustomerInformation', 'NotifyDisplayMessages', 'NotifyEVChargingNeeds',
    'NotifyEVChargingSchedule', 'NotifyEvent', 'NotifyMonitoringReport', 'NotifyReport',
    'PublishFirmwareStatusNotification', 'ReportChargingProfiles',
    'ReservationStatusUpdate', 'SecurityEventNotification', 'SignCertificate',
    'StatusNotification', 'TransactionEvent'],
};
const BOTH_WAYS = ['DataTransfer'];

const VERSIONS = [
  { tag: '16', file: 'ocpp1_6.json', enumName: 'OCPP_V16' },
  { tag: '201', file: 'ocpp2_0_1.json', enumName: 'OCPP_V201' },
];

const TYPES = { object: 'OCPP_JOBJECT', array: 'OCPP_JARRAY', string: 'OCPP_JSTRING',
  integer: 'OCPP_JINTEGER', number: 'OCPP_JNUMBER', boolean: 'OCPP_JBOOLEAN' };
const FORMATS = { 'date-time': 'OCPP_FMT_DATE_TIME', uri: 'OCPP_FMT_URI' };
/* Keywords that do not change a verdict here: annotations, and
 * additionalItems, which draft-07 ignores when items is a single schema. */
const IGNORED = new Set(['$id', '$schema', 'description', 'default', 'javaType',
  'comment', 'additionalItems', 'definitions']);
const HANDLED = new Set(['type', 'properties', 'required', 'additionalProperties',
  'maxLength', 'enum', 'format', 'items', 'minItems', 'maxItems', 'minimum',
  'maximum', 'multipleOf', '$ref']);

function cString(s) {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/* Turns one schema document into deduplicated C nodes. */
class Emitter {
  constructor(tag) {
    this.tag = tag;
    this.lines = [];
    this.nodes = new Map();   // canonical key -> C name
    this.enums = new Map();
    this.count = 0;
  }

  name(kind) { return `${kind}${this.tag}_${this.count++}`; }

  enumArray(values) {
    const key = JSON.stringify(values);
    if (!this.enums.has(key)) {
      const n = this.name('e');
      this.lines.push(`static const char *const ${n}[] = { ${values.map(cString).join(', ')} };`);
      this.enums.set(key, n);
    }
    return this.enums.get(key);
  }

  /* Returns the C name of the node for schema s within document doc. */
  node(s, doc, seen = []) {
    if (s.$ref) {
      const m = /^#\/definitions\/(.+)$/.exec(s.$ref);
      if (!m || !doc.definitions || !doc.definitions[m[1]])
        throw new Error(`${doc.$id}: unresolvable $ref ${s.$ref}`);
      if (seen.includes(s.$ref))
        throw new Error(`${doc.$id}: recursive $ref ${s.$ref}`);
      return this.node(doc.definitions[m[1]], doc, seen.concat(s.$ref));
    }
    for (const k of Object.keys(s))
      if (!HANDLED.has(k) && !IGNORED.has(k))
        throw new Error(`${doc.$id}: keyword '${k}' is not supported by the validator`);
    if (s.format && !FORMATS[s.format])
      throw new Error(`${doc.$id}: format '${s.format}' is not supported`);
    if (s.additionalProperties !== undefined && typeof s.additionalProperties !== 'boolean')
      throw new Error(`${doc.$id}: additionalProperties must be a boolean`);
    if (Array.isArray(s.items) || Array.isArray(s.type))
      throw new Error(`${doc.$id}: tuple items and type lists are not supported`);

    const f = {};
    f.type = s.type ? TYPES[s.type] : 'OCPP_JANY';
    if (!f.type) throw new Error(`${doc.$id}: unknown type ${s.type}`);
    const flags = [];
    if (s.additionalProperties === false) flags.push('OCPP_S_CLOSED');
    if (s.maxLength !== undefined) { flags.push('OCPP_S_MAX_LENGTH'); f.max_length = s.maxLength; }
    if (s.minimum !== undefined) { flags.push('OCPP_S_MINIMUM'); f.minimum = s.minimum; }
    if (s.maximum !== undefined) { flags.push('OCPP_S_MAXIMUM'); f.maximum = s.maximum; }
    if (s.multipleOf !== undefined) { flags.push('OCPP_S_MULTIPLE_OF'); f.multiple_of = s.multipleOf; }
    if (s.maxItems !== undefined) { flags.push('OCPP_S_MAX_ITEMS'); f.max_items = s.maxItems; }
    if (s.minItems !== undefined) f.min_items = s.minItems;
    if (flags.length) f.flags = flags.join(' | ');
    if (s.format) f.format = FORMATS[s.format];
    if (s.enum) {
      if (!s.enum.every((v) => typeof v === 'string'))
        throw new Error(`${doc.$id}: only string enums are supported`);
      f.enums = this.enumArray(s.enum);
      f.n_enum = s.enum.length;
    }
    if (s.items) f.items = '&' + this.node(s.items, doc, seen);

    let props = null;
    if (s.properties || s.required) {
      const required = new Set(s.required || []);
      const names = Object.keys(s.properties || {});
      for (const r of required) if (!names.includes(r)) names.push(r);
      props = names.map((p) => ({
        name: p,
        schema: s.properties && s.properties[p] ? this.node(s.properties[p], doc, seen) : this.node({}, doc),
        required: required.has(p),
      }));
    }

    const key = JSON.stringify([f, props]);
    if (this.nodes.has(key)) return this.nodes.get(key);
    const n = this.name('s');
    if (props) {
      const pn = n.replace(/^s/, 'p');
      this.lines.push(`static const struct ocpp_prop ${pn}[] = {`);
      for (const p of props)
        this.lines.push(`\t{ ${cString(p.name)}, &${p.schema}, ${p.required ? 1 : 0} },`);
      this.lines.push('};');
      f.props = pn;
      f.n_props = props.length;
    }
    const init = Object.entries(f).map(([k, v]) => `.${k} = ${v}`).join(', ');
    this.lines.push(`static const struct ocpp_schema ${n} = { ${init} };`);
    this.nodes.set(key, n);
    return n;
  }
}

function generate(v) {
  const docs = require(path.join(modules, 'ocpp-rpc/lib/schemas', v.file));
  const em = new Emitter(v.tag);
  const actions = new Map();
  for (const doc of docs) {
    const m = /^urn:(.+)\.(req|conf)$/.exec(doc.$id);
    if (!m) throw new Error(`unexpected schema id ${doc.$id}`);
    const a = actions.get(m[1]) || {};
    a[m[2]] = em.node(doc, doc);
    actions.set(m[1], a);
  }
  const names = [...actions.keys()].sort();
  const out = [];
  out.push(`/* Generated by tools/gen-schema-tables.js from ocpp-rpc/lib/schemas/${v.file}.`);
  out.push(' * Do not edit: re-run the generator. */');
  out.push('#include "config.h"');
  out.push('#include "ocpp/schema.h"', '');
  out.push(...em.lines, '');
  out.push(`static const struct ocpp_action actions_${v.tag}[] = {`);
  for (const name of names) {
    const a = actions.get(name);
    if (!a.req || !a.conf) throw new Error(`${name}: request or response schema missing`);
    const from = BOTH_WAYS.includes(name) ? 'OCPP_FROM_EITHER'
      : FROM_STATION[v.tag].includes(name) ? 'OCPP_FROM_STATION' : 'OCPP_FROM_CSMS';
    out.push(`\t{ ${cString(name)}, ${from}, &${a.req}, &${a.conf} },`);
  }
  out.push('};', '');
  out.push(`const struct ocpp_schema_set ocpp_schemas_${v.tag} = {`);
  out.push(`\t${v.enumName}, actions_${v.tag}, ${names.length}`);
  out.push('};');
  for (const list of Object.values(FROM_STATION))
    for (const n of list)
      if (list === FROM_STATION[v.tag] && !actions.has(n))
        throw new Error(`${v.tag}: direction table names unknown action ${n}`);
  return { text: out.join('\n') + '\n', count: names.length, nodes: em.nodes.size };
}

/* ajv-formats keeps its URI grammar in a JavaScript regular expression. A
 * full-string match asks only whether the string is in the language, which
 * does not depend on the matching strategy, so the same pattern rewritten
 * as a POSIX extended regex (REG_ICASE) gives the same verdict. */
function uriRegex() {
  const src = fs.readFileSync(path.join(modules, 'ajv-formats/dist/formats.js'), 'utf8');
  const m = /^const URI = \/(.*)\/i;$/m.exec(src);
  if (!m) throw new Error('URI pattern not found in ajv-formats');
  const js = m[1];
  let out = '', inClass = false, classHyphen = false;
  for (let i = 0; i < js.length; i++) {
    const c = js[i];
    if (inClass) {
      if (c === '\\') {
        const e = js[++i];
        if (e === '-') classHyphen = true;
        else if (e === 'd') out += '0-9';
        else out += e;
      } else if (c === ']') {
        out += (classHyphen ? '-' : '') + ']';
        inClass = false;
      } else {
        out += c;
      }
      continue;
    }
    if (c === '[') { inClass = true; classHyphen = false; out += c; continue; }
    if (c === '(' && js.startsWith('(?:', i)) { out += '('; i += 2; continue; }
    if (c === '\\') {
      const e = js[++i];
      if (e === 'd') out += '[0-9]';
      else if (e === '/' || e === ']') out += e;
      else out += '\\' + e;
      continue;
    }
    out += c;
  }
  return out;
}

function writeIfChanged(file, text) {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  if (old !== text) fs.writeFileSync(file, text);
  console.log(`${old === text ? 'unchanged' : 'wrote'} ${path.relative(root, file)}`);
}

for (const v of VERSIONS) {
  const g = generate(v);
  writeIfChanged(path.join(outDir, `schema_${v.tag}.c`), g.text);
  console.error(`  ${v.file}: ${g.count} actions, ${g.nodes} distinct schema nodes`);
}
writeIfChanged(path.join(outDir, 'uri_regex.h'),
  '/* Generated by tools/gen-schema-tables.js from ajv-formats\' "uri" format.\n' +
  ' * POSIX extended syntax; compile with REG_EXTENDED | REG_ICASE | REG_NOSUB. */\n' +
  '#define OCPP_URI_REGEX \\\n\t' + cString(uriRegex()) + '\n');
