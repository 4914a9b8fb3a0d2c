import type * as JsYaml from 'js-yaml';
import { createRequire } from 'node:module';
import { jsonKey, meaningChange, resolvePlain } from './kubectl-scalars.js';
import { readQuick } from './quick-yaml.js';

/**
 * The fast reader: js-yaml, about 8× quicker than the `yaml` library, which also keeps comments and positions
 * (what `fix` needs, not `audit`). It reads only what both libraries read alike; anything else is left to the
 * `yaml` library, so a value never depends on which reader ran (test/fast-reader.test.ts compares the two).
 * Both read plain scalars as kubectl does (kubectl-scalars.ts). Before js-yaml, the quick reader
 * (quick-yaml.ts) reads the everyday subset of YAML exactly as js-yaml would, and quicker in a cold process;
 * js-yaml is loaded only for a document it leaves.
 */

/**
 * Thrown from the scalar type below: a plain scalar that YAML 1.1 (kubectl) and YAML 1.2 read differently is
 * named in a finding, with its line, so the `yaml` library reads its document. So is a number that kubectl
 * writes differently as a map key (`1e7:` is the key "1e+07", a 64-bit int keeps its digits): js-yaml cannot
 * tell keys from values.
 */
class LeftToYaml extends Error {}

/** The last scalar resolved: js-yaml asks for it twice (resolve, then construct). */
let last: { text: string; value: unknown } = { text: '', value: null };

const KUBECTL_TAG = 'tag:yaml.org,2002:kubectl-scalar';

type JsYamlLibrary = typeof JsYaml;

/** js-yaml and the schema it reads with, on first use: most audits never need them (the quick reader reads their documents). */
let library: { jsYaml: JsYamlLibrary; schema: JsYaml.Schema } | undefined;

function jsYamlLibrary(): { jsYaml: JsYamlLibrary; schema: JsYaml.Schema } {
  if (library) return library;
  const jsYaml = createRequire(import.meta.url)('js-yaml') as JsYamlLibrary;
  /** Plain scalars as kubectl reads them (kubectl-scalars.ts), on js-yaml's failsafe schema. */
  const kubectlScalar = new jsYaml.Type(KUBECTL_TAG, {
    kind: 'scalar',
    // js-yaml passes the tag only when the text names it (`!<tag:yaml.org,2002:kubectl-scalar> 1`): explicit.
    resolve: (text: string, explicitTag?: string) => {
      if (explicitTag !== undefined) throw new LeftToYaml();
      const { kind, value, exact } = resolvePlain(text);
      if (kind === 'str') return false;
      if (meaningChange(text, value) || ((kind === 'float' || exact !== undefined) && jsonKey(text) !== String(value))) throw new LeftToYaml();
      last = { text, value };
      return true;
    },
    construct: (text: string) => (last.text === text ? last.value : resolvePlain(text).value),
  });
  library = { jsYaml, schema: jsYaml.FAILSAFE_SCHEMA.extend({ implicit: [kubectlScalar] }) };
  return library;
}

/**
 * Anchors, aliases and tags are left to the `yaml` library (alias bombs are counted there), as js-yaml finds
 * them: each node reports its properties as it closes, and an alias needs an anchor before it. Finding them in
 * the text instead sent every document with `&&` or `!` in a shell script (a block scalar) to the slow reader.
 */
function leaveProperties(event: JsYaml.EventType, state: JsYaml.State): void {
  if (event !== 'close') return;
  const { anchor, tag } = state as JsYaml.State & { anchor: string | null; tag: string | null };
  // A plain scalar's tag is "?", or kubectl's once its type resolved it; any other was written.
  if (anchor !== null || (tag !== null && tag !== '?' && tag !== KUBECTL_TAG)) throw new LeftToYaml();
}

/**
 * Text the two readers may read differently, or that needs the `yaml` library's guards: template syntax (its
 * blame needs positions), explicit `?` keys, null keys (`yaml` makes them "", js-yaml "null") and collections
 * as keys. Each pattern runs only when a cheap search finds its characters: most documents have none of them.
 */
const NULL_KEY_HINTS = [' :', '\t:', '\n:', '{:', ',:', '[:', '~:', 'ull:', 'ULL:'];

const LEFT_TO_YAML: Array<[(text: string) => boolean, RegExp]> = [
  [(text) => text.includes('{{'), /\{\{/],
  [(text) => text.includes('?'), /(?:^|\s)\?(?:\s|$)/m],
  [
    (text) => NULL_KEY_HINTS.some((hint) => text.includes(hint)) || text.startsWith(':'),
    /(?:^|[\s,{[])(?:~|null|Null|NULL)?:(?:[ \t,\]}]|$)/m,
  ],
  [(text) => /[\]}][ \t]*:/.test(text), /^[ \t-]*[[{].*[\]}][ \t]*:(?:\s|$)/m],
];

/** Whether the `yaml` library must read this document (LEFT_TO_YAML). */
function leftToYaml(documentText: string): boolean {
  return LEFT_TO_YAML.some(([maybe, pattern]) => maybe(documentText) && pattern.test(documentText));
}

/** The document's value, or undefined when the `yaml` library must read it (LEFT_TO_YAML, leaveProperties), or js-yaml refused it. */
export function loadFast(documentText: string): { value: unknown } | undefined {
  return loadQuick(documentText) ?? loadWithJsYaml(documentText);
}

/** loadFast by the quick reader alone: undefined for the documents it leaves, to js-yaml or the `yaml` library. */
export function loadQuick(documentText: string): { value: unknown } | undefined {
  if (leftToYaml(documentText)) return undefined;
  try {
    return readQuick(documentText);
  } catch {
    // Its regular expressions run out of stack on a quoted scalar of megabytes (RangeError): js-yaml reads it.
    return undefined;
  }
}

/** loadFast without the quick reader: js-yaml alone (what the quick reader must agree with, in the tests). */
export function loadWithJsYaml(documentText: string): { value: unknown } | undefined {
  if (leftToYaml(documentText)) return undefined;
  const { jsYaml, schema } = jsYamlLibrary();
  try {
    return { value: jsYaml.load(documentText, { schema, listener: leaveProperties }) ?? null };
  } catch {
    return undefined; // the `yaml` library reads it again and words the error
  }
}
