import fastJsonPatch from 'fast-json-patch';
import { isScalar, isSeq, type Document } from 'yaml';
import type { JsonObject } from '../util/object.js';
import type { ParsedFile } from './read.js';

const { compare } = fastJsonPatch;

export interface ObjectEdit {
  document: number;
  item?: number;
  original: JsonObject;
  fixed: JsonObject;
}

function pointerToPath(pointer: string): string[] {
  return pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies a JSON patch to a YAML document node by node, so comments and untouched styling stay. */
function applyToDocument(doc: Document.Parsed, prefix: Array<string | number>, edit: ObjectEdit): void {
  for (const op of compare(edit.original, edit.fixed)) {
    const path: Array<string | number> = [...prefix];
    for (const part of pointerToPath(op.path)) {
      // Sequence indexes must be numbers for yaml's setIn; map keys stay strings even when numeric.
      path.push(isSeq(doc.getIn(path, true)) && /^\d+$/.test(part) ? Number(part) : part);
    }
    const existing = op.op === 'replace' ? doc.getIn(path, true) : undefined;
    if (isScalar(existing) && (op.value === null || typeof op.value !== 'object')) {
      // Edit the scalar in place so its comment stays; drop the quoting style only if the type changes.
      if (typeof existing.value !== typeof op.value) delete existing.type;
      existing.value = op.value;
    } else if (op.op === 'add' || op.op === 'replace') doc.setIn(path, doc.createNode(op.value));
    else if (op.op === 'remove') doc.deleteIn(path);
  }
}

/** Guesses the sequence indentation the file uses, so unchanged parts of a changed document keep their look. */
function styleOf(text: string): { indentSeq: boolean; flowCollectionPadding: boolean } {
  const unindented = /\n( *)[^\s#-][^\n]*:\n\1- /.test(text);
  const tightFlow = /[{[][^\s}\]]/.test(text) && !/[{[] [^\s]/.test(text);
  return { indentSeq: !unindented, flowCollectionPadding: !tightFlow };
}

function detectIndent(text: string): number {
  return /\n( +)"/.exec(text)?.[1]?.length ?? 2;
}

/**
 * Rewrites a file with the fixed objects. Unchanged YAML documents are copied byte for byte; changed ones
 * are re-emitted from their edited syntax tree, keeping comments, key order and quoting.
 */
export function writeFixed(parsed: ParsedFile, edits: ObjectEdit[]): string {
  if (edits.length === 0) return parsed.text;
  const changed = new Set<number>();
  for (const edit of edits) {
    const doc = parsed.documents[edit.document - 1];
    if (!doc) continue;
    applyToDocument(doc, edit.item === undefined ? [] : ['items', edit.item], edit);
    changed.add(edit.document - 1);
  }
  if (parsed.format === 'json') {
    const doc = parsed.documents[0];
    const newline = parsed.text.endsWith('\n') ? '\n' : '';
    return doc ? JSON.stringify(doc.toJS(), null, detectIndent(parsed.text)) + newline : parsed.text;
  }
  const style = { ...styleOf(parsed.text), lineWidth: 0 };
  let out = '';
  parsed.documents.forEach((doc, index) => {
    const start = index === 0 ? 0 : doc.range[0];
    const next = parsed.documents[index + 1];
    const end = next ? next.range[0] : parsed.text.length;
    out += changed.has(index) ? doc.toString(style) : parsed.text.slice(start, end);
  });
  return out;
}
