/**
 * Where a path's node sits in a YAML document's text, read from indentation and brackets alone: enough for
 * `fix` to edit manifests of the usual shape (block maps and sequences, one-line scalars, flow collections)
 * without parsing them again. Undefined for anything else (block scalars, multi-line plain scalars, anchors,
 * tabs, compact nested sequences...). The caller re-reads every document it edits this way and falls back to
 * the `yaml` library unless the result is exactly the fixed object, so a wrong guess here costs time, never
 * correctness.
 */

/** What an edit needs to know about a node: a scalar's extent, or where a key can be added to a map. */
export type Spot =
  | { kind: 'scalar'; start: number; end: number }
  /** `indent`: the column of the map's keys; `end`: just past its last content (before that line's newline). */
  | { kind: 'block-map'; indent: number; end: number }
  /** `close`: offset of the `}`; `items`: pairs in it. */
  | { kind: 'flow-map'; close: number; items: number }
  /** `indent`: the column of its `-`; `end` as for a block map; `items`: entries in it. */
  | { kind: 'block-seq'; indent: number; end: number; items: number };

type Node =
  | { type: 'block-map'; col: number; first: number }
  | { type: 'block-seq'; col: number; first: number }
  | { type: 'flow'; open: number }
  | { type: 'scalar'; start: number; end: number };

interface Line {
  start: number;
  /** Offset of the line's end (its newline, or the document's end). */
  end: number;
  /** Offset of its first non-space character; `end` for a blank line. */
  content: number;
}

class DocumentText {
  constructor(readonly text: string, readonly limit: number) {}

  lineAt(offset: number): Line {
    const start = this.text.lastIndexOf('\n', offset - 1) + 1;
    return this.line(start);
  }

  line(start: number): Line {
    // A byte-order mark opens the file's first line, before its columns.
    if (start === 0 && this.text.charCodeAt(0) === 0xfeff) start = 1;
    const newline = this.text.indexOf('\n', start);
    const end = newline === -1 || newline > this.limit ? this.limit : newline;
    let content = start;
    while (content < end && this.text[content] === ' ') content++;
    return { start, end, content };
  }

  next(line: Line): Line | undefined {
    return line.end >= this.limit ? undefined : this.line(line.end + 1);
  }

  /** Holds neither only blanks nor only a comment. */
  isContent(line: Line): boolean {
    const char = this.text[line.content];
    return line.content < line.end && char !== '#' && char !== '\r';
  }

  /** The next line with content, or undefined at the end of the document. */
  nextContent(line: Line): Line | undefined {
    for (let next = this.next(line); next; next = this.next(next)) if (this.isContent(next)) return next;
    return undefined;
  }
}

function isSequenceEntry(text: string, at: number): boolean {
  return text[at] === '-' && (at + 1 >= text.length || ' \r\n'.includes(text[at + 1] ?? ''));
}

/** A key at `at` and the offset just past its `:`; undefined when the text there is not a simple key. */
function readKey(text: string, at: number, end: number): { key: string; after: number } | undefined {
  const quote = text[at];
  if (quote === '"' || quote === "'") {
    const close = text.indexOf(quote, at + 1);
    if (close === -1 || close >= end) return undefined;
    const key = text.slice(at + 1, close);
    if (key.includes('\\') || key.includes(quote)) return undefined;
    return text[close + 1] === ':' ? { key, after: close + 2 } : undefined;
  }
  if (/[-?:,[\]{}#&*!|>'"%@`\s]/.test(quote ?? ' ')) return undefined;
  for (let colon = text.indexOf(':', at); colon !== -1 && colon < end; colon = text.indexOf(':', colon + 1)) {
    const next = text[colon + 1];
    if (colon + 1 === end || next === ' ' || next === '\r') {
      const key = text.slice(at, colon);
      return / #|\t/.test(key) ? undefined : { key: key.trimEnd(), after: colon + 1 };
    }
  }
  return undefined;
}

/** The end of a one-line plain scalar (before a trailing comment and spaces). */
function plainEnd(text: string, at: number, end: number): number {
  const comment = text.slice(at, end).search(/[ \t]#/);
  let stop = comment === -1 ? end : at + comment;
  while (stop > at && /[ \t\r]/.test(text[stop - 1] ?? '')) stop--;
  return stop;
}

/** The node that starts at `at` on its line and may continue on the lines below (more indented than `parentCol`). */
function inlineNode(doc: DocumentText, at: number, line: Line, parentCol: number): Node | undefined {
  const { text } = doc;
  while (at < line.end && text[at] === ' ') at++;
  const char = text[at];
  if (at >= line.end || char === '#' || char === '\r') return blockChild(doc, line, parentCol);
  if (char === '{' || char === '[') return { type: 'flow', open: at };
  if (char === '"' || char === "'") {
    const close = quotedEnd(text, at, line.end);
    return close === undefined ? undefined : { type: 'scalar', start: at, end: close };
  }
  if (/[|>&*!%@`?]/.test(char ?? '') || isSequenceEntry(text, at)) return undefined;
  // A plain scalar continued on the next line reads differently from its first line.
  const next = doc.nextContent(line);
  if (next && next.content - next.start > parentCol) return undefined;
  return { type: 'scalar', start: at, end: plainEnd(text, at, line.end) };
}

/** The end (past the closing quote) of a quoted scalar that closes on its line. */
function quotedEnd(text: string, at: number, end: number): number | undefined {
  const quote = text[at];
  for (let i = at + 1; i < end; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  return undefined;
}

/** A value on the lines after its key (or after a bare `-`): a block map or sequence, or nothing readable. */
function blockChild(doc: DocumentText, line: Line, parentCol: number): Node | undefined {
  const next = doc.nextContent(line);
  if (!next) return undefined;
  const col = next.content - next.start;
  if (col < parentCol) return undefined;
  if (isSequenceEntry(doc.text, next.content)) return { type: 'block-seq', col, first: next.content };
  if (col === parentCol) return undefined;
  return readKey(doc.text, next.content, next.end) ? { type: 'block-map', col, first: next.content } : undefined;
}

/** Entry starts of a block collection: its first, then every content line at its column (sequence entries only for a sequence). */
function* blockEntries(doc: DocumentText, node: { col: number; first: number }, sequence: boolean): Generator<{ at: number; line: Line }> {
  let line: Line | undefined = doc.lineAt(node.first);
  yield { at: node.first, line };
  for (line = doc.nextContent(line); line; line = doc.nextContent(line)) {
    const col = line.content - line.start;
    if (col < node.col) return;
    if (col > node.col) continue;
    const entry = isSequenceEntry(doc.text, line.content);
    if (sequence !== entry) {
      if (sequence) return; // the parent map's next key
      continue; // a `- ` at a map's column belongs to an unindented sequence value
    }
    yield { at: line.content, line };
  }
}

interface FlowEntry {
  key?: string;
  value: Node | undefined;
}

/** The entries of a flow collection and the offset of its closing bracket; undefined when it is not simple. */
function readFlow(doc: DocumentText, open: number, depth = 0): { close: number; entries: FlowEntry[] } | undefined {
  const { text } = doc;
  const isMap = text[open] === '{';
  const closer = isMap ? '}' : ']';
  const entries: FlowEntry[] = [];
  let at = open + 1;
  const skip = (): void => {
    while (at < doc.limit) {
      const char = text[at];
      if (char === ' ' || char === '\n' || char === '\r') at++;
      else if (char === '#' && /\s/.test(text[at - 1] ?? '')) at = text.indexOf('\n', at) === -1 ? doc.limit : text.indexOf('\n', at);
      else return;
    }
  };
  const value = (): Node | undefined => {
    const char = text[at];
    if (char === '{' || char === '[') {
      const inner = depth < 50 ? readFlow(doc, at, depth + 1) : undefined;
      if (!inner) return undefined;
      const node: Node = { type: 'flow', open: at };
      at = inner.close + 1;
      return node;
    }
    if (char === '"' || char === "'") {
      const end = quotedEnd(text, at, doc.lineAt(at).end);
      if (end === undefined) return undefined;
      const node: Node = { type: 'scalar', start: at, end };
      at = end;
      return node;
    }
    if (/[&*!|>%@`?]/.test(char ?? '')) return undefined;
    const start = at;
    while (at < doc.limit && !/[,[\]{}\n]/.test(text[at] ?? '') && !(text[at] === '#' && /\s/.test(text[at - 1] ?? ''))) at++;
    let end = at;
    while (end > start && /[ \t\r]/.test(text[end - 1] ?? '')) end--;
    return { type: 'scalar', start, end };
  };
  for (;;) {
    skip();
    if (text[at] === closer) return { close: at, entries };
    if (at >= doc.limit) return undefined;
    let key: string | undefined;
    if (isMap) {
      const line = doc.lineAt(at);
      const read = readKey(text, at, line.end);
      if (!read || /[,[\]{}]/.test(read.key)) return undefined;
      key = read.key;
      at = read.after;
      while (text[at] === ' ') at++;
    }
    const node = text[at] === ',' || text[at] === closer ? undefined : value();
    if (node?.type === 'scalar' && node.start === node.end && !isMap) return undefined;
    entries.push({ ...(key !== undefined ? { key } : {}), value: node });
    skip();
    if (text[at] === ',') at++;
    else if (text[at] !== closer) return undefined;
  }
}

/** The node under a map key or a sequence index (a JSON pointer's parts: indexes are digit strings too). */
function child(doc: DocumentText, node: Node, step: string | number): Node | undefined {
  if (node.type === 'scalar') return undefined;
  const index = typeof step === 'number' ? step : /^(?:0|[1-9][0-9]*)$/.test(step) ? Number(step) : undefined;
  if (node.type === 'flow') {
    const flow = readFlow(doc, node.open);
    const isMap = doc.text[node.open] === '{';
    if (!flow) return undefined;
    const entry = isMap ? flow.entries.find((candidate) => candidate.key === String(step)) : index === undefined ? undefined : flow.entries[index];
    return entry?.value;
  }
  if (node.type === 'block-map') {
    step = String(step);
    for (const { at, line } of blockEntries(doc, node, false)) {
      const read = readKey(doc.text, at, line.end);
      if (!read) return undefined;
      if (read.key === step) return inlineNode(doc, read.after, line, node.col);
    }
    return undefined;
  }
  if (index === undefined) return undefined;
  let position = 0;
  for (const { at, line } of blockEntries(doc, node, true)) {
    if (position++ !== index) continue;
    let item = at + 1;
    while (doc.text[item] === ' ') item++;
    if (readKey(doc.text, item, line.end)) return { type: 'block-map', col: item - line.start, first: item };
    return inlineNode(doc, item, line, node.col);
  }
  return undefined;
}

function spotOf(doc: DocumentText, node: Node): Spot | undefined {
  if (node.type === 'scalar') return { kind: 'scalar', start: node.start, end: node.end };
  if (node.type === 'flow') {
    if (doc.text[node.open] !== '{') return undefined;
    const flow = readFlow(doc, node.open);
    return flow ? { kind: 'flow-map', close: flow.close, items: flow.entries.length } : undefined;
  }
  if (node.type === 'block-seq') {
    let items = 0;
    let end = 0;
    for (const entry of blockEntries(doc, node, true)) {
      items++;
      end = lastLineOf(doc, entry.line, node.col + 1).end;
    }
    return { kind: 'block-seq', indent: node.col, end, items };
  }
  // New keys go after the map's last content line (comment lines below it may belong to what follows).
  return { kind: 'block-map', indent: node.col, end: lastLineOf(doc, doc.lineAt(node.first), node.col).end };
}

/** The last content line of what starts on `first` and continues on lines indented `col` or more. */
function lastLineOf(doc: DocumentText, first: Line, col: number): Line {
  let last = first;
  for (let line = doc.nextContent(last); line && line.content - line.start >= col; line = doc.nextContent(line)) last = line;
  return last;
}

/** The root of a document spanning `start`..`limit`: the map or sequence of its first content line. */
function root(doc: DocumentText, start: number): Node | undefined {
  const { text } = doc;
  let line: Line | undefined = doc.line(start);
  for (; line && !doc.isContent(line); line = doc.next(line));
  if (line && text.startsWith('---', line.start) && /^---(?:[ \t]+(?:#.*)?)?\r?$/.test(text.slice(line.start, line.end))) line = doc.nextContent(line);
  else if (line && text.startsWith('---', line.start)) return undefined; // content on the `---` line
  if (!line || line.content !== line.start) return undefined;
  if (text[line.start] === '{') return { type: 'flow', open: line.start };
  if (isSequenceEntry(text, line.start)) return { type: 'block-seq', col: 0, first: line.start };
  return readKey(text, line.start, line.end) ? { type: 'block-map', col: 0, first: line.start } : undefined;
}

/** The spot of `path` in the document at `start`..`limit` of `text`, or undefined when it cannot be read here. */
export function locate(text: string, start: number, limit: number, path: Array<string | number>): Spot | undefined {
  const doc = new DocumentText(text, limit);
  let node = root(doc, start);
  for (const step of path) {
    if (!node) return undefined;
    node = child(doc, node, step);
  }
  return node ? spotOf(doc, node) : undefined;
}
