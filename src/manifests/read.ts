import type { Document, DocumentOptions, ParseOptions, SchemaOptions } from 'yaml';
import { asArray, asString, isRecord, type JsonObject } from '../util/object.js';
import { documentSpans, type DocumentSpan } from './document-spans.js';
import { loadQuick, loadWithJsYaml } from './fast-yaml.js';
import { KUBECTL_SCALAR_TAGS } from './kubectl-scalars.js';
import { TOO_DEEP, tooDeeplyNested } from './nesting.js';
import { kubectlValue, recordYaml11Values, type Yaml11Value } from './yaml-1-1-values.js';
import { yamlLibrary } from '../util/yaml-library.js';

/** Inputs larger than this are refused rather than parsed: a manifest set is never this big. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** yaml's guard against alias bombs ("billion laughs"): more alias expansions than this are refused. */
export const MAX_ALIAS_COUNT = 1000;

/**
 * How the `yaml` library reads a file. YAML as kubectl reads it: plain scalars by go-yaml v2's rules
 * (kubectl-scalars.ts), on the failsafe schema's maps, sequences and strings. JSON as JSON: kubectl decodes a
 * JSON file with encoding/json (YAMLOrJSONDecoder), where `yes` can only be a quoted string anyway.
 */
export function yamlReadOptions(format: 'yaml' | 'json'): ParseOptions & DocumentOptions & SchemaOptions {
  return format === 'json' ? { prettyErrors: false } : { prettyErrors: false, schema: 'failsafe', customTags: KUBECTL_SCALAR_TAGS };
}

/** A byte-order mark: kept in the text (`fix` writes back every byte it does not fix), but no content. */
const BOM = 0xfeff;

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

/** A document parsed by the `yaml` library (comments and positions kept, for `fix`). */
export interface YamlDocument {
  doc: Document.Parsed;
  /** Added to the document's node ranges, gives offsets into the file's text. */
  offset: number;
}

export interface ParsedFile {
  file: string;
  text: string;
  format: 'yaml' | 'json';
  /** Where each document sits in `text`. */
  spans: DocumentSpan[];
  /** Document `index` (0-based) parsed with comments and positions, parsed on first use: `audit` reads values only. */
  yamlDocument(index: number): YamlDocument | undefined;
  objects: SourceObject[];
  errors: InputError[];
}

/** A `{{` outside quoted strings and comments on this line (inside them it is text, not template syntax). */
function unquotedTemplate(line: string): boolean {
  const bare = line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'/g, '""').replace(/(^|\s)#.*$/, '');
  return bare.includes('{{');
}

/** 1-based line and column of an offset in the file's text. */
type LinePos = (offset: number) => { line: number; col: number };

function lineIndex(text: string): LinePos {
  // Built on first use: documents the quick reader reads need no positions.
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      // Columns of the first line count from after a byte-order mark.
      starts = [text.charCodeAt(0) === BOM ? 1 : 0];
      for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
    }
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((starts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, col: offset - (starts[low] ?? 0) + 1 };
  };
}

/**
 * The line of a `{{` that makes the document an unrendered template, or undefined when every `{{` sits inside
 * a string. Either the document does not parse and its first error is on (or just after) a line with `{{`, or
 * it parses only because `{{ x }}` read as a flow mapping whose key is itself a mapping (`key: {{ .Values.x }}`),
 * which no rendered manifest contains. `source` is the document's text, starting at offset `start` of the file.
 */
function unrenderedTemplateLine({ doc, offset }: YamlDocument, source: string, start: number, linePos: LinePos): number | undefined {
  const error = doc.errors[0];
  if (error) {
    const errorLine = linePos(offset + error.pos[0]).line;
    let line = linePos(start).line;
    for (const text of source.split('\n')) {
      if (unquotedTemplate(text) && (line === errorLine || line === errorLine - 1)) return line;
      line++;
    }
    return undefined;
  }
  let found: number | undefined;
  const { isCollection, visit } = yamlLibrary();
  visit(doc, {
    Pair(_key, pair) {
      if (isCollection(pair.key) && (pair.key as { flow?: boolean }).flow) {
        const range = (pair.key as { range?: [number, number, number] }).range;
        found = linePos(range ? offset + range[0] : start).line;
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
  const body = text.charCodeAt(0) === BOM ? text.slice(1) : text;
  return (file.endsWith('.json') || (/^\s*[{[]/.test(body) && /[}\]]\s*$/.test(body))) && isJson(body);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A document's value as a Kubernetes object, or the List's items as objects, or the reason it is neither. The
 * scalars YAML 1.1 and 1.2 read differently (`changed`, paths from the document's root) go with each object.
 */
function addValue(parsed: ParsedFile, value: unknown, document: number, line: number, itemLine: (item: number) => number, changed: Yaml11Value[] = []): void {
  const { file } = parsed;
  if (value === null || value === undefined) return; // empty document, e.g. a trailing `---`
  if (!isRecord(value)) {
    parsed.errors.push({ file, document, line, message: 'document is not a mapping (a Kubernetes object has apiVersion and kind)' });
    return;
  }
  if (isList(value)) {
    asArray(value['items']).forEach((item, itemIndex) => {
      const at = itemLine(itemIndex);
      if (isRecord(item)) {
        parsed.objects.push({ file, document, line: at, item: itemIndex, object: item });
        const inItem = changed.filter(({ path }) => path[0] === 'items' && path[1] === itemIndex && path.length > 2);
        recordYaml11Values(item, inItem.map((entry) => ({ ...entry, path: entry.path.slice(2) })));
      } else {
        parsed.errors.push({ file, document, line: at, message: `items[${itemIndex}] is not a Kubernetes object` });
      }
    });
    return;
  }
  parsed.objects.push({ file, document, line, object: value });
  recordYaml11Values(value, changed);
}

function isList(value: unknown): value is JsonObject {
  return isRecord(value) && (asString(value['kind']) ?? '').endsWith('List') && Array.isArray(value['items']);
}

/** Reads one document the `yaml` library parsed: template blame, syntax errors and alias bombs are worded here. */
function readYamlDocument(parsed: ParsedFile, yaml: YamlDocument, index: number, span: DocumentSpan, linePos: LinePos): void {
  const { file, text } = parsed;
  const { doc, offset } = yaml;
  const document = index + 1;
  // Up to the next document (or the end): a parse error can end a document's range before its `{{` lines.
  const source = text.slice(span.start, span.end);
  // Template syntax is refused only where it breaks the YAML (an unrendered chart); rendered manifests are
  // full of `{{ }}` inside strings (alert annotations, Vault agent templates, ConfigMaps) and pass.
  const templateLine = source.includes('{{') ? unrenderedTemplateLine(yaml, source, span.start, linePos) : undefined;
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
    const at = linePos(offset + syntax.pos[0]);
    // tooDeeplyNested stops what nests deeper than the parser can go; this is for a nesting it could not bound.
    const message = /Maximum call stack/.test(syntax.message) ? `document ${TOO_DEEP}` : `YAML syntax error: ${syntax.message.split('\n')[0]}`;
    parsed.errors.push({ file, document, line: at.line, column: at.col, message });
    return;
  }
  let read: ReturnType<typeof kubectlValue>;
  try {
    read = kubectlValue(doc, MAX_ALIAS_COUNT, parsed.format === 'yaml' ? (at) => linePos(offset + at).line : undefined);
  } catch (error) {
    // A RangeError is the stack running out: aliases can nest a value deeper than its text.
    const message = error instanceof RangeError
      ? `document ${TOO_DEEP}`
      : /alias/i.test((error as Error).message)
        ? 'too many YAML alias expansions (a possible alias bomb); refused'
        : `cannot read document: ${(error as Error).message}`;
    parsed.errors.push({ file, document, line: span.line, message });
    return;
  }
  const itemLine = (item: number): number => {
    const node = doc.getIn(['items', item], true) as { range?: [number, number, number] } | undefined;
    return node?.range ? linePos(offset + node.range[0]).line : span.line;
  };
  addValue(parsed, read.value, document, span.line, itemLine, read.changed);
}

/** Parses a document's text alone; undefined unless it is exactly one document (then the whole file is parsed). */
function parseSpan(text: string, span: DocumentSpan): YamlDocument | undefined {
  const docs = yamlLibrary().parseAllDocuments(text.slice(span.start, span.end), yamlReadOptions('yaml'));
  return Array.isArray(docs) && docs.length === 1 && docs[0] ? { doc: docs[0] as Document.Parsed, offset: span.start } : undefined;
}

/** The whole file through the `yaml` library: JSON, streams with directives or `...`, or spans it splits otherwise. */
function readWithYaml(parsed: ParsedFile, linePos: LinePos): ParsedFile {
  const { file, text } = parsed;
  let docs: Document.Parsed[];
  try {
    docs = yamlLibrary().parseAllDocuments(text, yamlReadOptions(parsed.format)) as Document.Parsed[];
  } catch (error) {
    parsed.errors.push({ file, message: `cannot parse: ${(error as Error).message}` });
    return parsed;
  }
  if (!Array.isArray(docs)) docs = [];
  parsed.spans = docs.map((doc, index) => ({
    start: index === 0 ? 0 : doc.range[0],
    end: docs[index + 1]?.range[0] ?? text.length,
    line: linePos(doc.contents?.range?.[0] ?? doc.range[0]).line,
  }));
  parsed.yamlDocument = (index) => (docs[index] ? { doc: docs[index], offset: 0 } : undefined);
  parsed.objects = [];
  parsed.errors = [];
  docs.forEach((doc, index) => readYamlDocument(parsed, { doc, offset: 0 }, index, parsed.spans[index] as DocumentSpan, linePos));
  return parsed;
}

/**
 * Splits a file into Kubernetes objects, unpacking List documents; never throws on bad input. Each document is
 * read by the fast reader when it can (values only); the `yaml` library reads the rest, and parses any
 * document again for `fix` on demand.
 */
export function parseManifest(text: string, file: string, options: { fast?: boolean } = {}): ParsedFile {
  // A leading byte-order mark stays in the text, so that `fix` writes it back and its diff shows no change
  // there; both readers skip it (js-yaml and the `yaml` library, and documentSpans and locate for offsets).
  const parsed: ParsedFile = {
    file,
    text,
    format: looksLikeJson(file, text) ? 'json' : 'yaml',
    spans: [],
    yamlDocument: () => undefined,
    objects: [],
    errors: [],
  };
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
    parsed.errors.push({ file, message: `input is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB; refused` });
    return parsed;
  }
  const linePos = lineIndex(text);
  /**
   * Nesting too deep for the parsers, refused before js-yaml or the `yaml` library reads any of the text: both
   * recurse, and would run out of stack. The quick reader does not (it leaves what nests past 64 levels), so the
   * files it reads whole need no such look (the look reads the whole text: a tenth of a large audit's reading).
   */
  const refusedDeep = (): ParsedFile | undefined => {
    const deep = tooDeeplyNested(text);
    if (!deep) return undefined;
    return { ...parsed, spans: [], yamlDocument: () => undefined, objects: [], errors: [{ file, document: deep.document, line: linePos(deep.offset).line, message: `document ${TOO_DEEP}` }] };
  };
  const spans = parsed.format === 'yaml' && options.fast !== false ? documentSpans(text) : undefined;
  if (!spans) return refusedDeep() ?? readWithYaml(parsed, linePos);
  let depthChecked = false;
  const parsedSpans: Array<YamlDocument | undefined> = [];
  parsed.spans = spans;
  parsed.yamlDocument = (index) => {
    const span = spans[index];
    return span ? (parsedSpans[index] ??= parseSpan(text, span)) : undefined;
  };
  for (const [index, span] of spans.entries()) {
    const documentText = text.slice(span.start, span.end);
    let fast = loadQuick(documentText);
    if (!fast || isList(fast.value)) {
      // Another parser reads (some of) this file from here.
      if (!depthChecked) {
        depthChecked = true;
        const refused = refusedDeep();
        if (refused) return refused;
      }
      fast ??= loadWithJsYaml(documentText);
    }
    // List items need their own lines: the `yaml` library gives them.
    if (fast && !isList(fast.value)) {
      addValue(parsed, fast.value, index + 1, span.line, () => span.line);
      continue;
    }
    const yaml = parsed.yamlDocument(index);
    if (!yaml) return readWithYaml(parsed, linePos);
    readYamlDocument(parsed, yaml, index, span, linePos);
  }
  return parsed;
}
