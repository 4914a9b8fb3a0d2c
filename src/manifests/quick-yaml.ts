import { jsonKey, meaningChange, resolvePlain } from './kubectl-scalars.js';

/**
 * The quick reader: the YAML that manifests are written in (block mappings and sequences, one-line plain and
 * quoted scalars, one-line flow collections, literal and folded block scalars), read a line at a time with the
 * engine's native string searches. It is what makes a cold `rollsafe audit` fast: a character-at-a-time parser
 * (js-yaml) runs in V8's interpreter for the first few hundred kilobytes a process reads, and spends tens of
 * milliseconds there on an ordinary repository's manifests; this reads them in a few.
 *
 * It reads exactly as fast-yaml.ts's js-yaml reading does (same values, same key order, plain scalars as
 * kubectl reads them) or not at all: anything else it finds (anchors, aliases, tags, multi-line plain or quoted
 * scalars, flow collections over several lines, explicit keys, tabs, carriage returns, explicit block
 * indentation, duplicate keys, a scalar YAML 1.1 and 1.2 read differently...) leaves the whole document to
 * js-yaml, and from there to the `yaml` library. test/fast-reader-properties.test.ts compares the two readers
 * on every fixture and on generated and mutated documents.
 */

/** Thrown, without a stack, where the document is left to js-yaml. */
const LEAVE: unique symbol = Symbol('leave');

/** Deeper nesting is left to js-yaml, which refuses 100 levels of nodes (its maxDepth). */
const MAX_DEPTH = 64;

/** What js-yaml refuses in a scalar (its PATTERN_NON_PRINTABLE), a line break it reads otherwise, or a byte-order mark past the start. */
const REFUSED = /[\x00-\x08\x0B-\x1F\x7F-\x9F\uFEFF\uFFFE\uFFFF\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/;

/** A character other than printable ASCII, a tab or a line feed: only then can REFUSED match (its search is slower). */
const OTHER_THAN_ASCII = /[^\t\n\x20-\x7e]/;

const DOUBLE_QUOTED = /"(?:[^"\\]|\\.)*"/y;
const SINGLE_QUOTED = /'(?:[^']|'')*'/y;

/** The first characters of a plain scalar kubectl may read as other than a string (kubectl-scalars.ts `hint`). */
const MAY_RESOLVE: boolean[] = Array.from({ length: 0x7f }, (_, code) => 'yYnNtTfFoO~.+-0123456789'.includes(String.fromCharCode(code)));

/** kubectl-scalars.ts's SMALL_DECIMAL: a decimal int exact as a JavaScript number (no lookup reads it otherwise). */
const SMALL_DECIMAL = /^(?:0|-?[1-9][0-9]{0,14})$/;

const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const DASH = 0x2d;
const COLON = 0x3a;

let lines: string[] = [];
/** The line being read. */
let row = 0;
/** The nesting of the node being read. */
let depth = 0;
/** Where the flow collection being read has got to, on lines[row]. */
let at = 0;

/** The document's value, or undefined when js-yaml must read it. `text` is one document (document-spans.ts). */
export function readQuick(text: string): { value: unknown } | undefined {
  let body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // One search for what printable ASCII documents never hold; then the carriage returns and refused characters.
  if (OTHER_THAN_ASCII.test(body) && (body.includes('\r') || REFUSED.test(body))) return undefined;
  lines = body.split('\n');
  body = '';
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  try {
    // The document's `---` (after comments, in the first document of a file): only a comment may follow it.
    let first = 0;
    while (first < lines.length && blank(lines[first] as string)) first++;
    const head = lines[first];
    if (head !== undefined && head.startsWith('---')) {
      if (head.length > 3 && head.charCodeAt(3) !== SPACE) return undefined;
      const after = spaces(head, 3);
      if (after < head.length && head.charCodeAt(after) !== HASH) return undefined;
      first++;
    }
    depth = 0;
    const indent = nextContent(first);
    if (indent < 0) return { value: null };
    const value = node(indent, -1);
    if (nextContent(row) !== -1) return undefined;
    return { value };
  } catch (error) {
    if (error === LEAVE) return undefined;
    throw error;
  } finally {
    lines = [];
  }
}

/** The index of the first character from `from` that is not a space. */
function spaces(line: string, from: number): number {
  let index = from;
  while (line.charCodeAt(index) === SPACE) index++;
  return index;
}

/** Only spaces, or a comment. */
function blank(line: string): boolean {
  const indent = spaces(line, 0);
  return indent === line.length || line.charCodeAt(indent) === HASH;
}

/**
 * Moves `row` to the first line from `from` that holds content (not blank, not only a comment) and returns its
 * indentation, or -1 at the end of the document. Tabs on such a line are left to js-yaml (indentation rules).
 */
function nextContent(from: number): number {
  for (row = from; row < lines.length; row++) {
    const line = lines[row] as string;
    let indent = 0;
    while (line.charCodeAt(indent) === SPACE) indent++;
    if (indent === line.length) continue;
    const first = line.charCodeAt(indent);
    if (first === HASH) continue;
    // Tabs, and what js-yaml may take for a document marker (`---` or `...`, even without a space after it).
    if (line.includes('\t') || (indent === 0 && (line.startsWith('---') || line.startsWith('...')))) throw LEAVE;
    return indent;
  }
  return -1;
}

/** A `-` entry of a block sequence at this column. */
function isEntry(line: string, column: number): boolean {
  return line.charCodeAt(column) === DASH && (line.length === column + 1 || line.charCodeAt(column + 1) === SPACE);
}

/**
 * The node whose first line is lines[row], from `column` (past a `- ` when it is a sequence entry's); its parent
 * collection is indented `parent` (-1 for the document). Leaves `row` on the line after the node.
 */
function node(column: number, parent: number): unknown {
  if (++depth > MAX_DEPTH) throw LEAVE;
  const line = lines[row] as string;
  let value: unknown;
  if (isEntry(line, column)) value = sequence(column);
  else if (keyColon(line, column) >= 0) value = mapping(column);
  else value = scalar(line, column, parent);
  depth--;
  return value;
}

/** Where the `:` after an implicit key starting at `column` is, or -1 when the line is no mapping entry. */
function keyColon(line: string, column: number): number {
  const first = line.charCodeAt(column);
  if (first === 0x22 || first === 0x27) {
    const pattern = first === 0x22 ? DOUBLE_QUOTED : SINGLE_QUOTED;
    pattern.lastIndex = column;
    if (!pattern.test(line)) return -1;
    const end = pattern.lastIndex;
    return line.charCodeAt(end) === COLON && (end + 1 === line.length || line.charCodeAt(end + 1) === SPACE) ? end : -1;
  }
  // A flow collection is a value here; as a key it was left to the `yaml` library before (LEFT_TO_YAML).
  if (first === 0x5b || first === 0x7b) return -1;
  let colon = line.indexOf(': ', column);
  if (colon < 0) colon = line.charCodeAt(line.length - 1) === COLON ? line.length - 1 : -1;
  if (colon < column) return -1;
  const comment = line.indexOf(' #', column);
  return comment >= 0 && comment < colon ? -1 : colon;
}

/** The block mapping whose first key is on lines[row] at `column`. */
function mapping(column: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (;;) {
    const line = lines[row] as string;
    const colon = keyColon(line, column);
    if (colon < 0) throw LEAVE;
    const key = keyText(line, column, colon);
    if (key === '__proto__' || Object.prototype.hasOwnProperty.call(result, key)) throw LEAVE;
    const start = spaces(line, colon + 1);
    let value: unknown = null;
    if (start === line.length || line.charCodeAt(start) === HASH) {
      const indent = nextContent(row + 1);
      if (indent > column) value = node(indent, column);
      // A sequence may sit at its key's indentation.
      else if (indent === column && isEntry(lines[row] as string, column)) value = node(column, column);
    } else {
      value = scalar(line, start, column);
    }
    result[key] = value;
    const indent = nextContent(row);
    if (indent < column) return result;
    if (indent > column) throw LEAVE;
  }
}

/** The block sequence whose first `-` is on lines[row] at `column`. */
function sequence(column: number): unknown[] {
  const result: unknown[] = [];
  for (;;) {
    const line = lines[row] as string;
    const start = spaces(line, column + 1);
    if (start === line.length || line.charCodeAt(start) === HASH) {
      const indent = nextContent(row + 1);
      // js-yaml reads a `-` entry after an empty one as this sequence's, however indented: left to it.
      if (indent >= 0 && indent < column && isEntry(lines[row] as string, indent)) throw LEAVE;
      result.push(indent > column ? node(indent, column) : null);
    } else {
      result.push(node(start, column));
    }
    const indent = nextContent(row);
    if (indent > column) throw LEAVE;
    if (indent < column || !isEntry(lines[row] as string, column)) return result;
  }
}

/** A key's text as js-yaml gives it: a quoted key's string, a plain key resolved (then made a string). */
function keyText(line: string, column: number, colon: number): string {
  const first = line.charCodeAt(column);
  if (first === 0x22 || first === 0x27) return quoted(line, column, colon);
  if (line.charCodeAt(colon - 1) === SPACE || !plainStart(line, column, false)) throw LEAVE;
  return String(plain(line.slice(column, colon)));
}

/** Whether a plain scalar may start at `column` (js-yaml's readPlainScalar); `:` and `?` starts are left to it. */
function plainStart(line: string, column: number, flow: boolean): boolean {
  const first = line.charCodeAt(column);
  switch (first) {
    case SPACE: case HASH: case 0x26: case 0x2a: case 0x21: case 0x7c: case 0x3e: case 0x27: case 0x22: case 0x25: case 0x40: case 0x60:
    case 0x2c: case 0x5b: case 0x5d: case 0x7b: case 0x7d: case COLON: case 0x3f:
      return false;
    case DASH: {
      const next = line.charCodeAt(column + 1);
      return !(Number.isNaN(next) || next === SPACE || (flow && isFlowIndicator(next)));
    }
    default:
      return !Number.isNaN(first);
  }
}

function isFlowIndicator(char: number): boolean {
  return char === 0x2c || char === 0x5b || char === 0x5d || char === 0x7b || char === 0x7d;
}

/** A plain scalar as the fast reader's schema reads it (kubectl's resolution, fast-yaml.ts's KUBECTL_SCALAR). */
function plain(text: string): unknown {
  // Most are names: a string by their first character (kubectl-scalars.ts `hint`), or a word longer than any
  // kubectl reads as a boolean or null (`false`).
  const first = text.charCodeAt(0);
  const letter = (first >= 0x61 && first <= 0x7a) || (first >= 0x41 && first <= 0x5a);
  if (first > 0x7e || (letter && text.length > 5) || MAY_RESOLVE[first] === false) return text;
  // Ports, counts, seconds: the int resolvePlain reads them as, exact, and the same in YAML 1.2.
  if (SMALL_DECIMAL.test(text)) return Number(text);
  const { kind, value, exact } = resolvePlain(text);
  if (kind === 'str') return text;
  // A decimal int that is exact (kubectl-scalars.ts SMALL_DECIMAL) reads the same in YAML 1.2, as a key too.
  if (kind === 'int' && exact === undefined) return value;
  if (meaningChange(text, value) || ((kind === 'float' || exact !== undefined) && jsonKey(text) !== String(value))) throw LEAVE;
  return value;
}

/** The one-line quoted scalar at `column`, ending just before `end`. */
function quoted(line: string, column: number, end: number): string {
  const text = line.slice(column + 1, end - 1);
  if (line.charCodeAt(column) === 0x27) return text.includes("'") ? text.replaceAll("''", "'") : text;
  if (!text.includes('\\')) return text;
  at = column;
  const value = doubleQuoted();
  if (at !== end) throw LEAVE;
  return value;
}

/** What js-yaml reads a one-character escape as (its simpleEscapeSequence); `\x` and `\u` are read apart. */
const ESCAPES: Record<string, string> = {
  '0': '\x00', a: '\x07', b: '\x08', t: '\x09', n: '\x0A', v: '\x0B', f: '\x0C', r: '\x0D', e: '\x1B',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xA0', L: '\u2028', P: '\u2029',
};

const DOUBLE_QUOTED_STOP = /["\\]/g;
const HEX = /^[0-9a-fA-F]+$/;

/**
 * Moves past the lines after lines[row] that hold only spaces; returns how many line breaks that crossed (1 at
 * least), with `row` on the next line and `at` past its indentation. At the end of the document, leaves.
 */
function nextLine(): number {
  let breaks = 0;
  let line: string;
  do {
    row++;
    breaks++;
    line = lines[row] ?? '';
    if (row >= lines.length) throw LEAVE;
    at = spaces(line, 0);
  } while (at === line.length);
  if (line.includes('\t') || (at === 0 && (line.startsWith('---') || line.startsWith('...')))) throw LEAVE;
  return breaks;
}

/** js-yaml's folding of a line break in a flow scalar: one is a space, more are all but one kept. */
function folded(breaks: number): string {
  return breaks === 1 ? ' ' : '\n'.repeat(breaks - 1);
}

/** The part of a quoted scalar's line before its line break: trailing spaces are not content. */
function beforeBreak(line: string, from: number): string {
  let end = line.length;
  while (end > from && line.charCodeAt(end - 1) === SPACE) end--;
  return line.slice(from, end);
}

/**
 * The double-quoted scalar whose `"` is at lines[row][at], over as many lines as it takes (js-yaml's
 * readDoubleQuotedScalar); leaves `row` on its last line and `at` past its closing quote.
 */
function doubleQuoted(): string {
  const parts: string[] = [];
  let line = lines[row] as string;
  let from = at + 1;
  for (;;) {
    DOUBLE_QUOTED_STOP.lastIndex = from;
    const stop = DOUBLE_QUOTED_STOP.exec(line);
    if (stop === null) {
      parts.push(beforeBreak(line, from));
      parts.push(folded(nextLine()));
      line = lines[row] as string;
      from = at;
      continue;
    }
    const index = stop.index;
    parts.push(line.slice(from, index));
    if (line.charCodeAt(index) === 0x22) {
      at = index + 1;
      return parts.join('');
    }
    if (index + 1 === line.length) {
      // An escaped line break: no space, and the next line's indentation (and blank lines) skipped.
      nextLine();
      line = lines[row] as string;
      from = at;
      continue;
    }
    const escape = line[index + 1] as string;
    const simple = ESCAPES[escape];
    if (simple !== undefined && Object.prototype.hasOwnProperty.call(ESCAPES, escape)) {
      parts.push(simple);
      from = index + 2;
      continue;
    }
    const length = escape === 'x' ? 2 : escape === 'u' ? 4 : 0;
    const hex = line.slice(index + 2, index + 2 + length);
    if (length === 0 || hex.length !== length || !HEX.test(hex)) throw LEAVE; // \U, unknown escapes, errors
    parts.push(String.fromCharCode(parseInt(hex, 16)));
    from = index + 2 + length;
  }
}

/** The single-quoted scalar whose `'` is at lines[row][at], as doubleQuoted reads its kind. */
function singleQuoted(): string {
  const parts: string[] = [];
  let line = lines[row] as string;
  let from = at + 1;
  for (;;) {
    const quote = line.indexOf("'", from);
    if (quote < 0) {
      parts.push(beforeBreak(line, from));
      parts.push(folded(nextLine()));
      line = lines[row] as string;
      from = at;
      continue;
    }
    parts.push(line.slice(from, quote));
    if (line.charCodeAt(quote + 1) !== 0x27) {
      at = quote + 1;
      return parts.join('');
    }
    parts.push("'");
    from = quote + 2;
  }
}

/** After a node on one line: nothing but spaces and a comment. */
function restOfLine(line: string, end: number): void {
  if (end === line.length) return;
  const next = spaces(line, end);
  if (next < line.length && !(line.charCodeAt(next) === HASH && next > end)) throw LEAVE;
}

/** A scalar or flow collection from `column`, a value in a collection indented `parent`. Moves `row` past it. */
function scalar(line: string, column: number, parent: number): unknown {
  const first = line.charCodeAt(column);
  if (first === 0x22 || first === 0x27) {
    const pattern = first === 0x22 ? DOUBLE_QUOTED : SINGLE_QUOTED;
    pattern.lastIndex = column;
    let value: string;
    if (pattern.test(line)) {
      value = quoted(line, column, pattern.lastIndex);
      at = pattern.lastIndex;
    } else {
      // Continued on the lines after.
      at = column;
      value = first === 0x22 ? doubleQuoted() : singleQuoted();
    }
    restOfLine(lines[row] as string, at);
    row++;
    return value;
  }
  if (first === 0x5b || first === 0x7b) {
    at = column;
    const value = flow(line);
    restOfLine(line, at);
    row++;
    return value;
  }
  if (first === 0x7c || first === 0x3e) {
    if (parent < 0) throw LEAVE;
    return blockScalar(line, column, parent + 1);
  }
  if (!plainStart(line, column, false)) throw LEAVE;
  let end = line.indexOf(' #', column);
  if (end < 0) end = line.length;
  while (line.charCodeAt(end - 1) === SPACE) end--;
  const text = plainText(line.slice(column, end));
  row++;
  if (end !== line.length) return plain(text); // a comment ends it
  return plain(parent >= 0 ? continued(text, parent) : text);
}

/** A plain scalar's text on one line: `a: b` and `a:` are mappings js-yaml refuses here. */
function plainText(text: string): string {
  if (text.includes(': ') || text.charCodeAt(text.length - 1) === COLON) throw LEAVE;
  return text;
}

/**
 * A plain scalar continued on the lines after lines[row - 1] that are indented more than its collection
 * (`parent`), folded as js-yaml folds them; a comment, or a line indented less, ends it. Leaves `row` past it.
 */
function continued(text: string, parent: number): string {
  let parts: string[] | undefined;
  for (;;) {
    let next = row;
    let breaks = 1;
    while (next < lines.length && spaces(lines[next] as string, 0) === (lines[next] as string).length) {
      next++;
      breaks++;
    }
    const line = lines[next];
    if (line === undefined) break;
    const indent = spaces(line, 0);
    if (indent <= parent || line.charCodeAt(indent) === HASH) break;
    if (line.includes('\t') || line.includes(' #')) throw LEAVE;
    let end = line.length;
    while (line.charCodeAt(end - 1) === SPACE) end--;
    (parts ??= [text]).push(folded(breaks), plainText(line.slice(indent, end)));
    row = next + 1;
  }
  return parts ? parts.join('') : text;
}

/** The flow collection at lines[row][at], all on that line; leaves `at` just past it. */
function flow(line: string): unknown {
  if (++depth > MAX_DEPTH) throw LEAVE;
  const mapping = line.charCodeAt(at) === 0x7b;
  const close = mapping ? 0x7d : 0x5d;
  const list: unknown[] | undefined = mapping ? undefined : [];
  const map: Record<string, unknown> | undefined = mapping ? {} : undefined;
  at++;
  for (;;) {
    at = spaces(line, at);
    let char = line.charCodeAt(at);
    if (char === close) {
      at++;
      depth--;
      return map ?? list;
    }
    const item = flowItem(line);
    at = spaces(line, at);
    char = line.charCodeAt(at);
    if (map) {
      // `{a}` and `{a: }` (null values) and a collection as a key are left to js-yaml.
      if (char !== COLON || (item !== null && typeof item === 'object')) throw LEAVE;
      const key = String(item);
      if (key === '__proto__' || Object.prototype.hasOwnProperty.call(map, key)) throw LEAVE;
      at = spaces(line, at + 1);
      map[key] = flowItem(line);
      at = spaces(line, at);
      char = line.charCodeAt(at);
    } else {
      (list as unknown[]).push(item);
    }
    if (char === 0x2c) at++;
    else if (char !== close) throw LEAVE; // a `:` (a pair in a sequence), a comment, the line's end
  }
}

/** A node inside a flow collection at lines[row][at]; leaves `at` just past it. */
function flowItem(line: string): unknown {
  const first = line.charCodeAt(at);
  if (first === 0x5b || first === 0x7b) return flow(line);
  if (first === 0x22 || first === 0x27) {
    const pattern = first === 0x22 ? DOUBLE_QUOTED : SINGLE_QUOTED;
    pattern.lastIndex = at;
    if (!pattern.test(line)) throw LEAVE;
    const start = at;
    at = pattern.lastIndex;
    return quoted(line, start, at);
  }
  if (!plainStart(line, at, true)) throw LEAVE;
  const start = at;
  let index = at;
  for (;;) {
    const char = line.charCodeAt(index);
    if (Number.isNaN(char) || isFlowIndicator(char)) break;
    if (char === COLON) {
      const next = line.charCodeAt(index + 1);
      if (Number.isNaN(next) || next === SPACE || isFlowIndicator(next)) break;
    } else if (char === HASH && line.charCodeAt(index - 1) === SPACE) {
      break;
    }
    index++;
  }
  at = index;
  while (line.charCodeAt(index - 1) === SPACE) index--;
  return plain(line.slice(start, index));
}

/**
 * A literal (`|`) or folded (`>`) block scalar whose header is at lines[row][column], its content indented at
 * least `minIndent`: js-yaml's readBlockScalar, a line at a time. Moves `row` to the line after it.
 */
function blockScalar(line: string, column: number, minIndent: number): string {
  const folding = line.charCodeAt(column) === 0x3e;
  let chomping = 0; // clip; 1 keep, -1 strip
  let index = column + 1;
  const indicator = line.charCodeAt(index);
  if (indicator === 0x2b || indicator === DASH) {
    chomping = indicator === 0x2b ? 1 : -1;
    index++;
  }
  // An explicit indentation (`|2`), or anything else before the comment, is left to js-yaml.
  if (index < line.length) {
    if (line.charCodeAt(index) !== SPACE) throw LEAVE;
    index = spaces(line, index);
    if (index < line.length && line.charCodeAt(index) !== HASH) throw LEAVE;
  }
  let textIndent = minIndent;
  let detected = false;
  let read = false;
  let empty = 0;
  let moreIndented = false;
  const parts: string[] = [];
  let next = row + 1;
  for (; next < lines.length; next++) {
    const text = lines[next] as string;
    let indent = 0;
    if (detected) {
      while (indent < textIndent && text.charCodeAt(indent) === SPACE) indent++;
    } else {
      indent = spaces(text, 0);
      if (indent > textIndent) textIndent = indent;
    }
    if (indent === text.length) {
      empty++;
      continue;
    }
    if (indent < textIndent) break;
    if (folding) {
      const char = text.charCodeAt(indent);
      if (char === SPACE || char === TAB) {
        moreIndented = true;
        parts.push('\n'.repeat(read ? 1 + empty : empty));
      } else if (moreIndented) {
        moreIndented = false;
        parts.push('\n'.repeat(empty + 1));
      } else if (empty === 0) {
        if (read) parts.push(' ');
      } else {
        parts.push('\n'.repeat(empty));
      }
    } else {
      parts.push('\n'.repeat(read ? 1 + empty : empty));
    }
    read = true;
    detected = true;
    empty = 0;
    parts.push(text.slice(indent));
  }
  // The end of the scalar: a line indented less, or the end of the document.
  if (chomping === 1) parts.push('\n'.repeat(read ? 1 + empty : empty));
  else if (chomping === 0 && read) parts.push('\n');
  row = next;
  return parts.join('');
}
