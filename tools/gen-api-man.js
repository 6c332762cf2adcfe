#!/usr/bin/env node
/*
 * Generates man/evctl-api.7 from doc/API.md, so that the REST API has one
 * text and the man page never drifts from it.
 *
 *   node tools/gen-api-man.js           writes man/evctl-api.7
 *   node tools/gen-api-man.js --check   exits 1 if man/evctl-api.7 is not
 *                                       what this would write
 *
 * The output is committed (building and installing evctl needs no Node);
 * tests/cli/docs.sh runs --check. It takes the date and source of its .TH
 * line from man/evctl.1, so regenerating gives identical output and the page
 * follows the others when they are bumped for a release.
 *
 * The Markdown understood is what API.md uses: # and ## headings (.SH), ###
 * (.SS), paragraphs, "- " and "1. " lists whose items may continue on
 * indented lines, fenced code blocks, pipe tables, and inline `code`,
 * **bold**, [text](url) and backslash escapes. Tables become .TP lists
 * (tests/cli/docs.sh renders pages without tbl): the leading columns whose
 * cells are all short make the tag, the next column the text, and any later
 * column a labelled line ("header: cell"). Anything else (nested lists,
 * block quotes, deeper headings, raw HTML blocks) is an error rather than a
 * page that silently reads wrong.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const SRC = 'doc/API.md';
const OUT = 'man/evctl-api.7';
const TH_FROM = 'man/evctl.1';

/* A leading column joins a table's tag if none of its cells is longer. */
const MAX_TAG_COLUMN = 24;
/* A .TP indent wider than this leaves too little room for the text: longer
 * tags take the default indent and put the text on the next line. */
const MAX_TAG_INDENT = 26;

function fail(msg) {
  process.stderr.write(`gen-api-man: ${msg}\n`);
  process.exit(2);
}

/* ---- troff escaping ---- */

/* Characters that troff would take for something else or render as
 * typographic variants; `code` selects the literal forms for code. */
function escapeChars(s, code) {
  let out = '';
  for (const ch of s) {
    switch (ch) {
      case '\\': out += '\\e'; break;
      case '-': out += '\\-'; break;
      case "'": out += code ? '\\(aq' : "'"; break;
      case '`': out += '\\(ga'; break;
      case '~': out += code ? '\\(ti' : '~'; break;
      case '^': out += code ? '\\(ha' : '^'; break;
      case '\t': out += ' '; break;
      default: {
        const cp = ch.codePointAt(0);
        if (cp > 0x7e || cp < 0x20) {
          out += `\\[u${cp.toString(16).toUpperCase().padStart(4, '0')}]`;
        } else {
          out += ch;
        }
      }
    }
  }
  return out;
}

/* Inline code in running text: bold, and breakable after the separators of
 * long query strings and lists (\:), since it is never hyphenated (.nh). */
function codeSpan(s) {
  const t = escapeChars(s, true).replace(/([&,|])(?=\S)/g, '$1\\:');
  return '\\fB' + t + '\\fR';
}

/* Plain prose: escaped, with "->" as an arrow. */
function prose(s) {
  return s.split('->').map((p) => escapeChars(p, false)).join('\\(->');
}

/* Markdown inline markup to troff. Returns one logical line (no newlines). */
function inline(text) {
  let out = '';
  let plain = '';
  const flush = () => { out += prose(plain); plain = ''; };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
    } else if (ch === '`') {
      let n = 0;
      while (text[i + n] === '`') n++;
      const fence = '`'.repeat(n);
      const end = text.indexOf(fence, i + n);
      if (end < 0) {
        plain += fence;
        i += n;
        continue;
      }
      let code = text.slice(i + n, end);
      if (/^ .* $/.test(code)) code = code.slice(1, -1);
      flush();
      out += codeSpan(code);
      i = end + n;
    } else if (text.startsWith('**', i)) {
      const end = text.indexOf('**', i + 2);
      if (end < 0) fail(`unmatched ** in: ${text}`);
      flush();
      out += '\\fB' + inline(text.slice(i + 2, end)).replace(/\\fR/g, '\\fB') + '\\fR';
      i = end + 2;
    } else if (ch === '[') {
      const m = /^\[([^\]]*)\]\(([^)\s]+)\)/.exec(text.slice(i));
      if (m) {
        flush();
        out += inline(m[1]) + ' <' + escapeChars(m[2], true) + '>';
        i += m[0].length;
      } else {
        plain += ch;
        i++;
      }
    } else {
      plain += ch;
      i++;
    }
  }
  flush();
  return out;
}

/* The printed width of an inline-converted string, for .TP indents. */
function width(troff) {
  return troff
    .replace(/\\f[BIRP]/g, '')
    .replace(/\\[:&]/g, '')
    .replace(/\\\([a-z-><]{2}|\\\[[^\]]*\]|\\[e-]/g, 'x').length;
}

/* Breaks a logical line into troff text lines at spaces, so that the page
 * stays readable as source. A line may not start with a control character. */
function textLines(troff) {
  const words = troff.split(/ +/).filter((w) => w !== '');
  const lines = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > 78) {
      lines.push(cur);
      cur = w;
    } else {
      cur = cur ? cur + ' ' + w : w;
    }
  }
  if (cur) lines.push(cur);
  /* troff ends a sentence at a line ending in . ? or ! and puts two spaces
   * after it, where a sentence ending within a line gets one: \& after the
   * stop keeps the spacing even wherever the wrapping falls. */
  return lines.map((l, n) => {
    if (n < lines.length - 1 && /[.?!]["')\]*]*(\\f[BIRP])?$/.test(l)) l += '\\&';
    return /^[.']/.test(l) ? '\\&' + l : l;
  });
}

function quoteArg(troff) {
  return '"' + troff.replace(/"/g, '\\(dq') + '"';
}

/* ---- Markdown blocks ---- */

function splitRow(line) {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells = [];
  let cur = '';
  let ticks = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && s[i + 1] === '|') {
      cur += ticks ? '|' : '\\|';
      i++;
    } else if (ch === '`') {
      let n = 0;
      while (s[i + n] === '`') n++;
      if (ticks === 0) ticks = n;
      else if (ticks === n) ticks = 0;
      cur += '`'.repeat(n);
      i += n - 1;
    } else if (ch === '|' && ticks === 0) {
      cells.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  cells.push(cur.trim());
  return cells;
}

const isTableSep = (l) => /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(l) && l.includes('-');
const isFence = (l) => /^\s*(```|~~~)/.test(l);
const isHeading = (l) => /^#{1,6}\s/.test(l);
const isBullet = (l) => /^[-*+]\s+/.test(l);
const isOrdered = (l) => /^\d+[.)]\s+/.test(l);

function parse(md) {
  const lines = md.replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  const where = () => `${SRC}:${i + 1}`;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) { i++; continue; }
    if (isHeading(line)) {
      const m = /^(#+)\s+(.*?)\s*#*\s*$/.exec(line);
      if (m[1].length > 3) fail(`${where()}: headings deeper than ### are not supported`);
      blocks.push({ type: 'heading', level: m[1].length, text: m[2] });
      i++;
    } else if (isFence(line)) {
      const m = /^(\s*)(```+|~~~+)/.exec(line);
      const indent = m[1].length;
      const fence = m[2];
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) {
        body.push(lines[i].slice(Math.min(indent, /^ */.exec(lines[i])[0].length)));
        i++;
      }
      if (i >= lines.length) fail(`${SRC}: unterminated code block`);
      i++;
      blocks.push({ type: 'code', lines: body });
    } else if (line.trim().startsWith('|') && i + 1 < lines.length && isTableSep(lines[i + 1])) {
      const header = splitRow(line);
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].trim().startsWith('|')) {
        const row = splitRow(lines[i]);
        while (row.length < header.length) row.push('');
        if (row.length > header.length) fail(`${where()}: table row has more cells than its header`);
        rows.push(row);
        i++;
      }
      blocks.push({ type: 'table', header, rows });
    } else if (isBullet(line) || isOrdered(line)) {
      const ordered = isOrdered(line);
      const items = [];
      while (i < lines.length && (ordered ? isOrdered(lines[i]) : isBullet(lines[i]))) {
        const m = /^([-*+]|\d+[.)])(\s+)(.*)$/.exec(lines[i]);
        const item = { mark: m[1], text: [m[3]] };
        const contIndent = m[1].length + m[2].length;
        i++;
        while (i < lines.length && /^\s+\S/.test(lines[i])) {
          const t = lines[i].trim();
          if (isBullet(t) || isOrdered(t) || isFence(t)) {
            fail(`${where()}: nested lists and code blocks in list items are not supported`);
          }
          if (/^ */.exec(lines[i])[0].length < Math.min(contIndent, 2)) break;
          item.text.push(t);
          i++;
        }
        if (i < lines.length && /^\s*$/.test(lines[i]) && i + 1 < lines.length && /^\s+\S/.test(lines[i + 1])) {
          fail(`${where()}: list items of several paragraphs are not supported`);
        }
        items.push(item);
        /* A blank line between items keeps the list going. */
        if (i + 1 < lines.length && /^\s*$/.test(lines[i]) &&
            (ordered ? isOrdered(lines[i + 1]) : isBullet(lines[i + 1]))) i++;
      }
      blocks.push({ type: 'list', ordered, items });
    } else if (/^\s*>/.test(line)) {
      fail(`${where()}: block quotes are not supported`);
    } else if (/^\s*</.test(line)) {
      fail(`${where()}: HTML blocks are not supported`);
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      fail(`${where()}: horizontal rules are not supported`);
    } else {
      const text = [];
      while (i < lines.length && !/^\s*$/.test(lines[i]) && !isHeading(lines[i]) &&
             !isFence(lines[i]) && !isBullet(lines[i]) && !isOrdered(lines[i]) &&
             !(lines[i].trim().startsWith('|') && i + 1 < lines.length && isTableSep(lines[i + 1]))) {
        if (/^(=+|-+)\s*$/.test(lines[i]) && text.length) {
          fail(`${where()}: setext headings are not supported; use #`);
        }
        text.push(lines[i].trim());
        i++;
      }
      blocks.push({ type: 'para', text });
    }
  }
  return blocks;
}

/* ---- troff output ---- */

function renderTable(out, { header, rows }) {
  const cells = rows.map((r) => r.map(inline));
  const ncol = header.length;
  /* The tag: the first column, and the columns after it while all their
   * cells are short (never all columns: something must be the text). */
  let tagCols = 1;
  while (tagCols < ncol - 1 &&
         cells.every((r) => width(r[tagCols]) <= MAX_TAG_COLUMN)) tagCols++;
  const tags = cells.map((r) => r.slice(0, tagCols).filter((c) => c !== '').join('  '));
  const indent = Math.max(...tags.map(width)) + 2;
  const tp = indent <= MAX_TAG_INDENT ? `.TP ${indent}` : '.TP';
  cells.forEach((r, n) => {
    out.push(tp);
    out.push(...textLines(tags[n].replace(/ /g, '\\ ')));
    let first = true;
    for (let c = tagCols; c < ncol; c++) {
      if (r[c] === '') continue;
      const labelled = c > tagCols;
      if (!first) out.push('.br');
      const label = labelled ? '\\fI' + inline(header[c]) + ':\\fR ' : '';
      out.push(...textLines(label + r[c]));
      first = false;
    }
  });
}

function render(blocks, th) {
  const out = [];
  out.push(`.\\" Generated from ${SRC} by tools/gen-api-man.js: edit that file, then run`);
  out.push('.\\" "node tools/gen-api-man.js". Do not edit this page by hand.');
  out.push(`.TH EVCTL\\-API 7 ${th}`);
  /* Code and paths read badly hyphenated and justified. */
  out.push('.nh', '.ad l');
  out.push('.SH NAME');
  out.push('evctl\\-api \\- the REST API of evctl serve');
  let afterHeading = true;
  for (const b of blocks) {
    switch (b.type) {
      case 'heading':
        if (b.level <= 2) out.push('.SH ' + quoteArg(inline(b.text.toUpperCase())));
        else out.push('.SS ' + quoteArg(inline(b.text)));
        afterHeading = true;
        continue;
      case 'para':
        if (!afterHeading) out.push('.PP');
        out.push(...textLines(inline(b.text.join(' '))));
        break;
      case 'list':
        b.items.forEach((item, n) => {
          out.push(b.ordered ? `.IP ${n + 1}. 4` : '.IP \\(bu 2');
          out.push(...textLines(inline(item.text.join(' '))));
        });
        break;
      case 'code':
        if (!afterHeading) out.push('.PP');
        out.push('.RS 4', '.nf', '.ft CR');
        for (const l of b.lines) {
          const t = escapeChars(l.replace(/\s+$/, ''), true);
          out.push(/^[.']/.test(t) ? '\\&' + t : t);
        }
        out.push('.ft', '.fi', '.RE');
        break;
      case 'table':
        renderTable(out, b);
        break;
      default:
        throw new Error(b.type);
    }
    afterHeading = false;
  }
  out.push('.SH "SEE ALSO"');
  out.push('.BR evctl (1),');
  out.push('.BR evctl\\-serve (1)');
  return out.join('\n') + '\n';
}

/* The date, source and manual of the .TH line of evctl(1). */
function thFields() {
  const page = fs.readFileSync(path.join(root, TH_FROM), 'utf8');
  const m = /^\.TH\s+\S+\s+\S+\s+("[^"]*"\s+"[^"]*"\s+"[^"]*")\s*$/m.exec(page);
  if (!m) fail(`${TH_FROM}: no .TH line with date, source and manual`);
  return m[1].replace(/\s+/g, ' ');
}

function main(args) {
  const check = args.includes('--check');
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length) {
    process.stderr.write('usage: node tools/gen-api-man.js [--check]\n');
    process.exit(2);
  }
  const md = fs.readFileSync(path.join(root, SRC), 'utf8');
  const page = render(parse(md), thFields());
  const outPath = path.join(root, OUT);
  if (!check) {
    fs.writeFileSync(outPath, page);
    return;
  }
  let old;
  try {
    old = fs.readFileSync(outPath, 'utf8');
  } catch (e) {
    process.stdout.write(`${OUT} is missing: run node tools/gen-api-man.js\n`);
    process.exit(1);
  }
  if (old === page) return;
  const a = old.split('\n');
  const b = page.split('\n');
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  process.stdout.write(`${OUT} differs from what ${SRC} gives (run node tools/gen-api-man.js)\n` +
    `first difference at line ${n + 1}:\n` +
    `  committed: ${n < a.length ? a[n] : '(end of file)'}\n` +
    `  generated: ${n < b.length ? b[n] : '(end of file)'}\n`);
  process.exit(1);
}

if (require.main === module) main(process.argv.slice(2));
module.exports = { parse, render };
