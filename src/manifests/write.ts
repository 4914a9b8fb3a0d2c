import { randomUUID } from 'node:crypto';
import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import { patchForPaths, type PatchOperation } from '../engine/patch.js';
import { isRecord, sameJsonInOrder, type JsonObject, type PathSegment } from '../util/object.js';
import { loadFast } from './fast-yaml.js';
import { locate, type Spot } from './locate.js';
import { blockItem, blockPair, flowPair, scalar } from './render-yaml.js';
import type { DocumentSpan } from './document-spans.js';
import { MAX_ALIAS_COUNT, yamlReadOptions, type ParsedFile, type YamlDocument } from './read.js';
import { kubectlValue } from './yaml-1-1-values.js';
import { yamlLibrary } from '../util/yaml-library.js';

export interface ObjectEdit {
  document: number;
  item?: number;
  original: JsonObject;
  fixed: JsonObject;
  /** The paths the fixes set (`evaluation.applied[].paths`): `fixed` differs from `original` only there. */
  paths: ReadonlyArray<readonly PathSegment[]>;
}

/** The edit as JSON-patch operations (`add` and `replace`, in fix order): the same patch the webhook sends. */
function operations(edit: ObjectEdit): PatchOperation[] {
  return patchForPaths(edit.original, edit.fixed, edit.paths);
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

/** Style of the file (read from its start: a file has one style), so inserted lines look like their neighbours. */
function blockStyle(file: string): { indent: number; indentSeq: boolean; newline: string } {
  const text = file.slice(0, 64 * 1024);
  const indent = /\n( +)\S/.exec(text)?.[1]?.length ?? 2;
  const unindentedSeq = /\n( *)[^\s#-][^\n]*:\r?\n\1- /.test(text);
  // Inserted lines end like the file's own (CRLF files stay CRLF).
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  return { indent: Math.min(Math.max(indent, 2), 8), indentSeq: !unindentedSeq, newline };
}

type Style = ReturnType<typeof blockStyle>;

/** Keys already inserted into a flow map (by the offset of its `}`) by earlier edits of this run: the next one needs a comma. */
type Inserted = Map<number, number>;

/** A node of a `yaml` library document as a spot (offsets into the file's text). */
export function spotInTree({ doc, offset }: YamlDocument, path: Path, text: string): Spot | undefined {
  const node = doc.getIn(path, true) as Node | undefined;
  if (isScalar(node) && node.range) return { kind: 'scalar', start: offset + node.range[0], end: offset + node.range[1] };
  if (isSeq(node) && !node.flow && node.range) {
    const first = node.items[0] as Node | undefined;
    const last = contentEnd(node);
    if (!first?.range || last === undefined) return undefined;
    // The item's range starts after its `- `: the dash is the last one before it.
    const dash = text.lastIndexOf('-', offset + first.range[0] - 1);
    const end = offset + last;
    return { kind: 'block-seq', indent: dash - (text.lastIndexOf('\n', dash - 1) + 1), end: text[end - 1] === '\n' ? end - 1 : end, items: node.items.length };
  }
  if (!isMap(node) || !node.range) return undefined;
  if (node.flow) {
    const close = text.lastIndexOf('}', offset + node.range[1] - 1);
    return close < offset + node.range[0] ? undefined : { kind: 'flow-map', close, items: node.items.length };
  }
  const firstKey = node.items[0]?.key as Node | undefined;
  const last = contentEnd(node);
  if (!firstKey?.range || last === undefined) return undefined;
  const keyAt = offset + firstKey.range[0];
  const end = offset + last;
  // A block scalar's range ends past its last line's newline.
  return { kind: 'block-map', indent: keyAt - (text.lastIndexOf('\n', keyAt - 1) + 1), end: text[end - 1] === '\n' ? end - 1 : end };
}

/**
 * Where a node's last token ends. A block map's own range runs on over comment lines after it, up to the next
 * key's indentation: a key added there would land under the next key.
 */
function contentEnd(node: unknown): number | undefined {
  if ((isMap(node) || isSeq(node)) && !node.flow) {
    const last = node.items[node.items.length - 1];
    if (isPair(last)) return contentEnd(last.value) ?? (last.key as Node | null)?.range?.[1];
    return last === undefined ? node.range?.[1] : contentEnd(last);
  }
  return (node as Node | null | undefined)?.range?.[1];
}

/**
 * Turns one JSON-patch operation into a text edit of the original: a scalar replaced where it stands, an empty
 * flow map filled, a key added at the end of its block map (at the map's indentation) or inside its flow map, an
 * item appended to a block sequence. Undefined when the operation is of another shape; the caller then re-emits
 * the document.
 */
function textEditFor(text: string, style: Style, spotAt: (path: Path) => Spot | undefined, path: Path, op: PatchOperation, order: number, inserted: Inserted): TextEdit | undefined {
  if (op.op === 'replace') {
    const spot = spotAt(path);
    // A fix that sets a whole map where the original has `{}` (`preStop: {}` reads as no hook): its pairs go inside.
    if (spot?.kind === 'flow-map' && spot.items === 0 && isRecord(op.value)) {
      return insertIntoFlowMap(text, spot, Object.entries(op.value).map(([key, value]) => flowPair(key, value)), order, inserted);
    }
    if (spot?.kind !== 'scalar' || (op.value !== null && typeof op.value === 'object')) return undefined;
    return { start: spot.start, end: spot.end, text: scalar(op.value), order };
  }
  const key = path[path.length - 1];
  const parent = spotAt(path.slice(0, -1));
  if (parent?.kind === 'block-seq') {
    // Only an append: an item after the last one, at the sequence's indentation.
    if (String(key) !== String(parent.items) && key !== '-') return undefined;
    const indent = ' '.repeat(parent.indent);
    const lines = blockItem(op.value, style).map((line) => `${indent}${line}${style.newline}`).join('');
    return insertAfterLine(text, style, parent.end, lines, order);
  }
  if (typeof key !== 'string' || !parent || parent.kind === 'scalar') return undefined;
  if (parent.kind === 'flow-map') return insertIntoFlowMap(text, parent, [flowPair(key, op.value)], order, inserted);
  const indent = ' '.repeat(parent.indent);
  const lines = blockPair(key, op.value, style)
    .map((line) => `${indent}${line}${style.newline}`)
    .join('');
  return insertAfterLine(text, style, parent.end, lines, order);
}

/** Pairs inserted before a flow map's `}`, after its own pairs and those earlier edits of this run inserted. */
function insertIntoFlowMap(text: string, map: Extract<Spot, { kind: 'flow-map' }>, pairs: string[], order: number, inserted: Inserted): TextEdit {
  const { close } = map;
  const before = map.items + (inserted.get(close) ?? 0);
  inserted.set(close, (inserted.get(close) ?? 0) + pairs.length);
  // `{a: 1, }`: the trailing comma already separates the new pair.
  let last = close - 1;
  while (last > 0 && /\s/.test(text[last] ?? '')) last--;
  const separator = before === 0 ? '' : text[last] === ',' ? ' ' : ', ';
  return { start: close, end: close, text: `${separator}${pairs.join(', ')}`, order };
}

/** Inserts lines after the newline that ends the line at `at`, or on a new line at the end of a file without one. */
function insertAfterLine(text: string, style: Style, at: number, lines: string, order: number): TextEdit {
  const newline = text.indexOf('\n', at);
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
function applyToTree(doc: Document.Parsed, edit: ObjectEdit): void {
  const prefix: Path = edit.item === undefined ? [] : ['items', edit.item];
  // `add` and `replace` both set the node (an add one past a sequence's end appends).
  for (const op of operations(edit)) doc.setIn(toNodePath(doc, prefix, op.path), doc.createNode(op.value));
}

/** Text edits for every operation, or undefined as soon as one has no text edit. */
function planEdits(text: string, style: Style, spotAt: (path: Path) => Spot | undefined, toPath: (pointer: string) => Path, ops: PatchOperation[], inserted: Inserted, order: number): TextEdit[] | undefined {
  const planned: TextEdit[] = [];
  for (const op of ops) {
    const edit = textEditFor(text, style, spotAt, toPath(op.path), op, order + planned.length, inserted);
    if (!edit) return undefined;
    planned.push(edit);
  }
  return planned;
}

/**
 * Whether a document, with the planned edits applied, reads back as `expected`: same keys in the same order
 * (text edits add keys last, where the fix adds them). Anything else means a guess about the text was wrong.
 */
function readsBackAs(text: string, span: DocumentSpan, planned: TextEdit[], expected: unknown): boolean {
  const edited = applyTextEdits(text.slice(span.start, span.end), planned.map((edit) => ({ ...edit, start: edit.start - span.start, end: edit.end - span.start })));
  let readBack = loadFast(edited)?.value;
  if (readBack === undefined) {
    const docs = yamlLibrary().parseAllDocuments(edited, yamlReadOptions('yaml'));
    const doc = Array.isArray(docs) && docs.length === 1 ? docs[0] : undefined;
    if (!doc || doc.errors.length > 0) return false;
    try {
      readBack = kubectlValue(doc as Document.Parsed, MAX_ALIAS_COUNT).value;
    } catch {
      return false;
    }
  }
  return sameJsonInOrder(readBack, expected);
}

/** The edits of a document found without parsing it again (locate.ts). */
function editsFromText(parsed: ParsedFile, index: number, style: Style, edit: ObjectEdit, order: number): TextEdit[] | undefined {
  const span = parsed.spans[index];
  if (!span || edit.item !== undefined || parsed.format !== 'yaml') return undefined;
  const planned = planEdits(parsed.text, style, (path) => locate(parsed.text, span.start, span.end, path), pointerToPath, operations(edit), new Map(), order);
  return planned && readsBackAs(parsed.text, span, planned, edit.fixed) ? planned : undefined;
}

/** The edits of a document found in the `yaml` library's tree; undefined when the document must be re-emitted. */
function editsFromTree(parsed: ParsedFile, index: number, yaml: YamlDocument, style: Style, objectEdits: ObjectEdit[], inserted: Inserted, order: number): TextEdit[] | undefined {
  const planned: TextEdit[] = [];
  let expected = kubectlValue(yaml.doc, MAX_ALIAS_COUNT).value;
  for (const edit of objectEdits) {
    const prefix: Path = edit.item === undefined ? [] : ['items', edit.item];
    const ops = planEdits(parsed.text, style, (path) => spotInTree(yaml, path, parsed.text), (pointer) => toNodePath(yaml.doc, prefix, pointer), operations(edit), inserted, order + planned.length);
    if (!ops) return undefined;
    planned.push(...ops);
    if (edit.item === undefined) expected = edit.fixed;
    else (expected as { items: unknown[] }).items[edit.item] = edit.fixed;
  }
  const span = parsed.spans[index];
  return span && readsBackAs(parsed.text, span, planned, expected) ? planned : undefined;
}

/**
 * Rewrites a file with the fixed objects. Fixes become small text edits of the original, so comments, key
 * order, quoting, indentation and every untouched document stay byte for byte. A document whose patch has
 * another shape is re-emitted from its edited syntax tree instead. JSON files are re-serialised. Nodes are
 * found in the text (locate.ts) and, where that cannot, in the `yaml` library's tree (`locate: false` for tests).
 */
export function writeFixed(parsed: ParsedFile, edits: ObjectEdit[], options: { locate?: boolean } = {}): string {
  if (edits.length === 0) return parsed.text;
  // Text edits keep a leading byte-order mark; what is written anew gets it back.
  const bom = parsed.text.charCodeAt(0) === 0xfeff ? '\ufeff' : '';
  // The file's style is read once (each read scans the text).
  const style = blockStyle(parsed.text);
  if (parsed.format === 'json') {
    // Integers read as BigInt and written back digit for digit: JSON allows integers past 2^53, a number would round them.
    const doc = yamlLibrary().parseDocument(parsed.text, { intAsBigInt: true, prettyErrors: false });
    if (doc.errors.length > 0) return parsed.text;
    for (const edit of edits) applyToTree(doc, edit);
    // Compact JSON (one line) stays compact; indented JSON keeps its indentation (spaces or tabs) and line ends.
    const compact = !parsed.text.trim().includes('\n');
    const indent = compact ? undefined : (/\n([ \t]+)"/.exec(parsed.text)?.[1] ?? '  ');
    // A random token (no string in the file can hold it) stands for each BigInt, then gives way to its digits.
    const mark = `rollsafe-bigint-${randomUUID()}:`;
    const json =
      JSON.stringify(doc.toJS(), (_key, value: unknown) => (typeof value === 'bigint' ? `${mark}${value}` : value), indent).replace(new RegExp(`"${mark}(-?\\d+)"`, 'g'), '$1') +
      (parsed.text.endsWith('\n') ? '\n' : '');
    return bom + (style.newline === '\n' ? json : json.replace(/\n/g, style.newline));
  }
  const editsOfDocument = new Map<number, ObjectEdit[]>();
  for (const edit of edits) editsOfDocument.set(edit.document - 1, [...(editsOfDocument.get(edit.document - 1) ?? []), edit]);
  const textEdits: TextEdit[] = [];
  const textEditsOfDocument = new Map<number, TextEdit[]>();
  const reemit = new Set<number>();
  const inserted: Inserted = new Map();
  for (const [index, objectEdits] of editsOfDocument) {
    const only = objectEdits.length === 1 ? objectEdits[0] : undefined;
    const fast = only && options.locate !== false ? editsFromText(parsed, index, style, only, textEdits.length) : undefined;
    if (fast) {
      textEdits.push(...fast);
      textEditsOfDocument.set(index, fast);
      continue;
    }
    const yaml = parsed.yamlDocument(index);
    if (!yaml) continue;
    const planned = editsFromTree(parsed, index, yaml, style, objectEdits, inserted, textEdits.length);
    if (planned) {
      textEdits.push(...planned);
      textEditsOfDocument.set(index, planned);
    } else {
      // Re-emitted from its tree with every edit of its objects (a List's other items too).
      reemit.add(index);
      for (const edit of objectEdits) applyToTree(yaml.doc, edit);
    }
  }
  if (reemit.size === 0) return applyTextEdits(parsed.text, textEdits);
  // Mixed: re-emit the documents that need it, text-edit the rest, splice by document boundaries.
  return parsed.spans.map((span, index) => {
    const yaml = reemit.has(index) ? parsed.yamlDocument(index) : undefined;
    if (yaml) {
      const emitted = (index === 0 ? bom : '') + yaml.doc.toString({ indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0 });
      return style.newline === '\n' ? emitted : emitted.replace(/\r?\n/g, style.newline);
    }
    const inside = textEditsOfDocument.get(index) ?? [];
    return applyTextEdits(parsed.text.slice(span.start, span.end), inside.map((edit) => ({ ...edit, start: edit.start - span.start, end: edit.end - span.start })));
  }).join('');
}
