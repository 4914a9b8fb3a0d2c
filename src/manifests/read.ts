import { isCollection, LineCounter, parseAllDocuments, visit, type Document } from 'yaml';
import { asArray, asString, isRecord, type JsonObject } from '../util/object.js';

/** Inputs larger than this are refused rather than parsed: a manifest set is never this big. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** yaml's guard against alias bombs ("billion laughs"): more alias expansions than this are refused. */
const MAX_ALIAS_COUNT = 1000;

export interface InputError {
  file: string;
  document?: number;
  line?: number;
  column?: number;
  message: string;
}

/** One Kubernetes object found in a file: a document, or an item of a List document. */
export interface SourceObject {
  file: string;
  /** 1-based document number in the file. */
  document: number;
  /** 1-based line where the object starts. */
  line: number;
  /** Index in the List's items when the document is a List. */
  item?: number;
  object: JsonObject;
}

export interface ParsedFile {
  file: string;
  text: string;
  format: 'yaml' | 'json';
  /** Parsed YAML documents, kept so `fix` can edit them with comments intact. */
  documents: Document.Parsed[];
  objects: SourceObject[];
  errors: InputError[];
}

/** A `{{` outside quoted strings and comments on this line (inside them it is text, not template syntax). */
function unquotedTemplate(line: string): boolean {
  const bare = line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'/g, '""').replace(/(^|\s)#.*$/, '');
  return bare.includes('{{');
}

/**
 * The line of a `{{` that makes the document an unrendered template, or undefined when every `{{` sits inside
 * a string. Either the document does not parse and its first error is on (or just after) a line with `{{`, or
 * it parses only because `{{ x }}` read as a flow mapping whose key is itself a mapping (`key: {{ .Values.x }}`),
 * which no rendered manifest contains.
 */
function unrenderedTemplateLine(doc: Document.Parsed, source: string, start: number, lines: LineCounter): number | undefined {
  const error = doc.errors[0];
  if (error) {
    const errorLine = lines.linePos(error.pos[0]).line;
    let line = lines.linePos(start).line;
    for (const text of source.split('\n')) {
      if (unquotedTemplate(text) && (line === errorLine || line === errorLine - 1)) return line;
      line++;
    }
    return undefined;
  }
  let found: number | undefined;
  visit(doc, {
    Pair(_key, pair) {
      if (isCollection(pair.key) && (pair.key as { flow?: boolean }).flow) {
        const range = (pair.key as { range?: [number, number, number] }).range;
        found = range ? lines.linePos(range[0]).line : lines.linePos(start).line;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * JSON is one JSON value: written back as JSON. Anything else (a `.json` file holding a `---` stream, say) is
 * read and written as the YAML it parses as, so no document is lost.
 */
function looksLikeJson(file: string, text: string): boolean {
  return (file.endsWith('.json') || (/^\s*[{[]/.test(text) && /[}\]]\s*$/.test(text))) && isJson(text);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Splits a file into Kubernetes objects, unpacking List documents; never throws on bad input. */
export function parseManifest(input: string, file: string): ParsedFile {
  // A byte-order mark is no content: dropped, so it can neither confuse the parser nor land mid-stream when
  // `fix` joins several files.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const parsed: ParsedFile = { file, text, format: looksLikeJson(file, text) ? 'json' : 'yaml', documents: [], objects: [], errors: [] };
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
    parsed.errors.push({ file, message: `input is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB; refused` });
    return parsed;
  }
  const lines = new LineCounter();
  try {
    parsed.documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false }) as Document.Parsed[];
  } catch (error) {
    parsed.errors.push({ file, message: `cannot parse: ${(error as Error).message}` });
    return parsed;
  }
  if (!Array.isArray(parsed.documents)) parsed.documents = [];
  parsed.documents.forEach((doc, index) => {
    const document = index + 1;
    const start = doc.range[0];
    const position = lines.linePos(doc.contents?.range?.[0] ?? start);
    // Up to the next document (or the end): a parse error can end a document's range before its `{{` lines.
    const source = text.slice(start, parsed.documents[index + 1]?.range[0] ?? text.length);
    // Template syntax is refused only where it breaks the YAML (an unrendered chart); rendered manifests are
    // full of `{{ }}` inside strings (alert annotations, Vault agent templates, ConfigMaps) and pass.
    const templateLine = source.includes('{{') ? unrenderedTemplateLine(doc, source, start, lines) : undefined;
    if (templateLine !== undefined) {
      parsed.errors.push({
        file,
        document,
        line: templateLine,
        message: 'is an unrendered template: the `{{` on this line is not valid YAML; render it first, e.g. `helm template RELEASE CHART | rollsafe audit -`',
      });
      return;
    }
    const syntax = doc.errors[0];
    if (syntax) {
      const at = lines.linePos(syntax.pos[0]);
      parsed.errors.push({
        file,
        document,
        line: at.line,
        column: at.col,
        message: `YAML syntax error: ${syntax.message.split('\n')[0]}`,
      });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      const message = error instanceof RangeError
        ? 'document is nested too deeply; refused'
        : /alias/i.test((error as Error).message)
          ? 'too many YAML alias expansions (a possible alias bomb); refused'
          : `cannot read document: ${(error as Error).message}`;
      parsed.errors.push({ file, document, line: position.line, message });
      return;
    }
    if (value === null || value === undefined) return; // empty document, e.g. a trailing `---`
    if (!isRecord(value)) {
      parsed.errors.push({ file, document, line: position.line, message: 'document is not a mapping (a Kubernetes object has apiVersion and kind)' });
      return;
    }
    const kind = asString(value['kind']) ?? '';
    if (kind.endsWith('List') && Array.isArray(value['items'])) {
      asArray(value['items']).forEach((item, itemIndex) => {
        const node = doc.getIn(['items', itemIndex], true) as { range?: [number, number, number] } | undefined;
        const line = node?.range ? lines.linePos(node.range[0]).line : position.line;
        if (isRecord(item)) parsed.objects.push({ file, document, line, item: itemIndex, object: item });
        else parsed.errors.push({ file, document, line, message: `items[${itemIndex}] is not a Kubernetes object` });
      });
      return;
    }
    parsed.objects.push({ file, document, line: position.line, object: value });
  });
  return parsed;
}
