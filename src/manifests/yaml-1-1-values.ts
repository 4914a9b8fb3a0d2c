import type { Document, Node, Pair } from 'yaml';
import { isRecord, type JsonObject, type PathSegment } from '../util/object.js';
import { yamlLibrary } from '../util/yaml-library.js';
import { jsonKey, meaningChange, type Plain } from './kubectl-scalars.js';

/** A plain scalar that YAML 1.1 (kubectl) and YAML 1.2 read differently, where it sits in its object. */
export interface Yaml11Value {
  /** Its path in the object; for a map key, the path of the pair, ending with the key as kubectl reads it. */
  path: PathSegment[];
  /** The scalar as written. */
  text: string;
  /** A map key (`yes: ...` is the key "true"), not a value. */
  key: boolean;
  /** 1-based line in the file. */
  line: number;
  /** What kubectl (YAML 1.1) reads: the object holds this. */
  yaml11: Plain;
  /** What YAML 1.2 reads. */
  yaml12: Plain;
}

/**
 * The values of each object read from a file, kept beside it rather than in it (the object is what the
 * apiserver would store). The yaml-1-1-values rule reads them; an object that never came from YAML (admission,
 * the cluster) has none.
 */
const valuesOf = new WeakMap<JsonObject, readonly Yaml11Value[]>();

export function yaml11ValuesOf(object: JsonObject): readonly Yaml11Value[] {
  return valuesOf.get(object) ?? [];
}

export function recordYaml11Values(object: JsonObject, values: readonly Yaml11Value[]): void {
  if (values.length > 0) valuesOf.set(object, values);
}

interface Scalarish {
  value: unknown;
  source?: string;
  type?: string;
  range?: [number, number, number] | null;
}

/** The key kubectl makes of a scalar key: only plain floats read differently from the `yaml` library's String(). */
function kubectlKey(key: Scalarish): string {
  const { value, source, type } = key;
  if (value === null) return ''; // the `yaml` library's; kubectl refuses a null key
  return typeof value === 'number' && type === 'PLAIN' && source !== undefined ? jsonKey(source) : String(value);
}

/** Renames keys of an object in place, keeping their order (and `__proto__` an own key, as toJS makes it). */
function renameKeys(object: JsonObject, renames: Map<string, string>): void {
  const entries = Object.entries(object);
  for (const [key] of entries) delete object[key];
  for (const [key, value] of entries) Object.defineProperty(object, renames.get(key) ?? key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A document's value as kubectl sends it, and (with `lineOf`) its scalars that change meaning between YAML 1.1
 * and 1.2. The scalars themselves are read by the tags of kubectl-scalars.ts; this walk writes float keys as
 * Go does (`1e7:` is the key "1e+07") and finds the scalars by their source. The tree is walked with a stack
 * of its own. Throws as toJS does (alias bombs, values nested too deeply).
 */
export function kubectlValue(doc: Document.Parsed, maxAliasCount: number, lineOf?: (offset: number) => number): { value: unknown; changed: Yaml11Value[] } {
  const value: unknown = doc.toJS({ maxAliasCount });
  const changed: Array<{ offset: number; value: Yaml11Value }> = [];
  const { isMap, isScalar, isSeq } = yamlLibrary();
  const note = (scalar: Scalarish, path: PathSegment[], key: boolean): void => {
    if (!lineOf || scalar.type !== 'PLAIN' || scalar.source === undefined) return;
    const change = meaningChange(scalar.source);
    const offset = scalar.range?.[0] ?? 0;
    if (change) changed.push({ offset, value: { path, text: scalar.source, key, line: lineOf(offset), ...change } });
  };
  const stack: Array<{ node: unknown; js: unknown; path: PathSegment[] }> = [{ node: doc.contents, js: value, path: [] }];
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const { node, js, path } = entry;
    if (isScalar(node)) {
      note(node as Scalarish, path, false);
    } else if (isMap(node) && isRecord(js)) {
      const renames = new Map<string, string>();
      for (const pair of node.items as Array<Pair<unknown, unknown>>) {
        if (!isScalar(pair.key)) continue; // a collection as a key: kubectl refuses it
        const key = pair.key as Scalarish;
        const written = key.value === null ? '' : String(key.value);
        const name = kubectlKey(key);
        if (name !== written) renames.set(written, name);
        note(key, [...path, name], true);
        stack.push({ node: pair.value, js: js[written], path: [...path, name] });
      }
      if (renames.size > 0) renameKeys(js, renames);
    } else if (isSeq(node) && Array.isArray(js)) {
      (node.items as Node[]).forEach((item, index) => stack.push({ node: item, js: js[index], path: [...path, index] }));
    }
  }
  // The stack pops the last entry first: back to document order.
  return { value, changed: changed.sort((a, b) => a.offset - b.offset).map((entry) => entry.value) };
}
