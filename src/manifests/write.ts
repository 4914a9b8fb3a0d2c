import fastJsonPatch from 'fast-json-patch';
import { Document, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { JsonObject } from '../util/object.js';
import type { ParsedFile } from './read.js';

const { compare } = fastJsonPatch;

export interface ObjectEdit {
  document: number;
  item?: number;
  original: JsonObject;
  fixed: JsonObject;
}

/** A text replacement in the original file; `order` keeps insertions at one offset in patch order. */
interface TextEdit {
  start: number;
  end: number;
  text: string;
  order: number;
}

type Path = Array<string | number>;

function pointerToPath(pointer: string): string[] {
  return pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function toNodePath(doc: Document.Parsed, prefix: Path, pointer: string): Path {
  const path: Path = [...prefix];
  for (const part of pointerToPath(pointer)) {
    // Sequence indexes must be numbers for yaml; map keys stay strings even when numeric.
    path.push(isSeq(doc.getIn(path, true)) && /^\d+$/.test(part) ? Number(part) : part);
  }
  return path;
}

function renderScalar(value: unknown): string {
  return new Document(value).toString().trimEnd();
}

function renderFlowPair(key: string, value: unknown): string {
  const doc = new Document();
  doc.contents = doc.createNode({ [key]: value }, { flow: true });
  return doc.toString({ flowCollectionPadding: false }).trim().slice(1, -1);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Style of the file, so inserted lines look like their neighbours. */
function blockStyle(text: string): { indent: number; indentSeq: boolean; newline: string } {
  const indent = /\n( +)\S/.exec(text)?.[1]?.length ?? 2;
  const unindentedSeq = /\n( *)[^\s#-][^\n]*:\r?\n\1- /.test(text);
  // Inserted lines end like the file's own (CRLF files stay CRLF).
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  return { indent: Math.min(Math.max(indent, 2), 8), indentSeq: !unindentedSeq, newline };
}

/**
 * Turns one JSON-patch operation into a text edit of the original: a scalar replaced where it stands, a key
 * added at the end of its block map (at the map's indentation) or inside its flow map. Undefined when the
 * operation is of another shape; the caller then re-emits the document.
 */
/** Keys already inserted into a flow map by earlier edits of this run: the next one needs a comma. */
type Inserted = WeakMap<object, number>;

type Style = ReturnType<typeof blockStyle>;

function textEditFor(text: string, style: Style, doc: Document.Parsed, path: Path, op: { op: string; value?: unknown }, order: number, inserted: Inserted): TextEdit | undefined {
  if (op.op === 'replace') {
    const node = doc.getIn(path, true) as Node | undefined;
    if (!isScalar(node) || !node.range || (op.value !== null && typeof op.value === 'object')) return undefined;
    return { start: node.range[0], end: node.range[1], text: renderScalar(op.value), order };
  }
  if (op.op !== 'add') return undefined;
  const key = path[path.length - 1];
  const parent = doc.getIn(path.slice(0, -1), true) as Node | undefined;
  if (typeof key !== 'string' || !isMap(parent) || !parent.range) return undefined;
  if (parent.flow) {
    const close = text.lastIndexOf('}', parent.range[1] - 1);
    if (close < parent.range[0]) return undefined;
    const before = parent.items.length + (inserted.get(parent) ?? 0);
    inserted.set(parent, (inserted.get(parent) ?? 0) + 1);
    // `{a: 1, }`: the trailing comma already separates the new pair.
    let last = close - 1;
    while (last > parent.range[0] && /\s/.test(text[last] ?? '')) last--;
    const separator = before === 0 ? '' : text[last] === ',' ? ' ' : ', ';
    return { start: close, end: close, text: `${separator}${renderFlowPair(key, op.value)}`, order };
  }
  const firstKey = parent.items[0]?.key as Node | undefined;
  if (!firstKey?.range) return undefined;
  const indent = ' '.repeat(firstKey.range[0] - lineStart(text, firstKey.range[0]));
  const lines = new Document({ [key]: op.value })
    .toString({ indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((line) => `${indent}${line}${style.newline}`)
    .join('');
  const end = parent.range[1];
  if (text[end - 1] === '\n') return { start: end, end, text: lines, order };
  const newline = text.indexOf('\n', end);
  if (newline === -1) return { start: text.length, end: text.length, text: `${style.newline}${lines}`, order };
  return { start: newline + 1, end: newline + 1, text: lines, order };
}

/**
 * Applies non-overlapping edits in one pass over the text (slicing the whole text per edit made `fix`
 * quadratic: 5,000 Deployments took minutes). Insertions at one offset keep their patch order.
 */
function applyTextEdits(text: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.order - b.order);
  const parts: string[] = [];
  let at = 0;
  for (const edit of sorted) {
    parts.push(text.slice(at, edit.start), edit.text);
    at = Math.max(at, edit.end);
  }
  parts.push(text.slice(at));
  return parts.join('');
}

/** Fallback: edit the syntax tree and re-emit the whole document (comments and key order still kept). */
function applyToTree(doc: Document.Parsed, prefix: Path, edit: ObjectEdit): void {
  for (const op of compare(edit.original, edit.fixed)) {
    const path = toNodePath(doc, prefix, op.path);
    if (op.op === 'add' || op.op === 'replace') doc.setIn(path, doc.createNode(op.value));
    else if (op.op === 'remove') doc.deleteIn(path);
  }
}

/**
 * Rewrites a file with the fixed objects. Fixes become small text edits of the original, so comments, key
 * order, quoting, indentation and every untouched document stay byte for byte. A document whose patch has
 * another shape is re-emitted from its edited syntax tree instead. JSON files are re-serialised.
 */
export function writeFixed(parsed: ParsedFile, edits: ObjectEdit[]): string {
  if (edits.length === 0) return parsed.text;
  // The file's style is read once (each read scans the text).
  const style = blockStyle(parsed.text);
  if (parsed.format === 'json') {
    const doc = parsed.documents[0];
    if (!doc) return parsed.text;
    for (const edit of edits) applyToTree(doc, edit.item === undefined ? [] : ['items', edit.item], edit);
    // Compact JSON (one line) stays compact; indented JSON keeps its indentation (spaces or tabs) and line ends.
    const compact = !parsed.text.trim().includes('\n');
    const indent = compact ? undefined : (/\n([ \t]+)"/.exec(parsed.text)?.[1] ?? '  ');
    const json = JSON.stringify(doc.toJS(), null, indent) + (parsed.text.endsWith('\n') ? '\n' : '');
    return style.newline === '\n' ? json : json.replace(/\n/g, style.newline);
  }
  const textEdits: TextEdit[] = [];
  const editsOfDocument = new Map<number, TextEdit[]>();
  const reemit = new Set<number>();
  const inserted: Inserted = new WeakMap();
  const objectEditsOfDocument = new Map<number, ObjectEdit[]>();
  for (const edit of edits) {
    const doc = parsed.documents[edit.document - 1];
    if (!doc) continue;
    const prefix: Path = edit.item === undefined ? [] : ['items', edit.item];
    objectEditsOfDocument.set(edit.document - 1, [...(objectEditsOfDocument.get(edit.document - 1) ?? []), edit]);
    const ops = compare(edit.original, edit.fixed);
    const planned = ops.map((op, index) => textEditFor(parsed.text, style, doc, toNodePath(doc, prefix, op.path), op, textEdits.length + index, inserted));
    if (planned.every((candidate): candidate is TextEdit => candidate !== undefined)) {
      textEdits.push(...planned);
      const list = editsOfDocument.get(edit.document - 1) ?? [];
      list.push(...planned);
      editsOfDocument.set(edit.document - 1, list);
    } else {
      reemit.add(edit.document - 1);
    }
  }
  // A document re-emitted from its tree gets every edit of its objects there (a List's other items too):
  // text edits planned for it would be lost with its original text.
  for (const index of reemit) {
    const doc = parsed.documents[index];
    for (const edit of objectEditsOfDocument.get(index) ?? []) if (doc) applyToTree(doc, edit.item === undefined ? [] : ['items', edit.item], edit);
  }
  if (reemit.size === 0) return applyTextEdits(parsed.text, textEdits);
  // Mixed: re-emit the documents that need it, text-edit the rest, splice by document boundaries.
  const out: string[] = [];
  parsed.documents.forEach((doc, index) => {
    const start = index === 0 ? 0 : doc.range[0];
    const next = parsed.documents[index + 1];
    const end = next ? next.range[0] : parsed.text.length;
    if (reemit.has(index)) {
      const emitted = doc.toString({ indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0 });
      out.push(style.newline === '\n' ? emitted : emitted.replace(/\r?\n/g, style.newline));
    }
    else {
      const inside = editsOfDocument.get(index) ?? [];
      out.push(applyTextEdits(parsed.text.slice(start, end), inside.map((edit) => ({ ...edit, start: edit.start - start, end: edit.end - start }))));
    }
  });
  return out.join('');
}
