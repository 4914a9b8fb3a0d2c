import jsYaml from 'js-yaml';
import { jsonKey, meaningChange, resolvePlain } from './kubectl-scalars.js';

/**
 * The fast reader: js-yaml, about 8× quicker than the `yaml` library, which also keeps comments and positions
 * (what `fix` needs, not `audit`). It reads only what both libraries read alike; anything else is left to the
 * `yaml` library, so a value never depends on which reader ran (test/fast-reader.test.ts compares the two).
 * Both read plain scalars as kubectl does (kubectl-scalars.ts).
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

/** Plain scalars as kubectl reads them (kubectl-scalars.ts), on js-yaml's failsafe schema. */
const KUBECTL_SCALAR = new jsYaml.Type('tag:yaml.org,2002:kubectl-scalar', {
  kind: 'scalar',
  resolve: (text: string) => {
    const { kind, value, exact } = resolvePlain(text);
    if (kind === 'str') return false;
    if (meaningChange(text, value) || ((kind === 'float' || exact !== undefined) && jsonKey(text) !== String(value))) throw new LeftToYaml();
    last = { text, value };
    return true;
  },
  construct: (text: string) => (last.text === text ? last.value : resolvePlain(text).value),
});

const SCHEMA = jsYaml.FAILSAFE_SCHEMA.extend({ implicit: [KUBECTL_SCALAR] });

/**
 * Text the two readers may read differently, or that needs the `yaml` library's guards: template syntax (its
 * blame needs positions), anchors, aliases and tags (alias bombs are counted there), explicit `?` keys, null
 * keys (`yaml` makes them "", js-yaml "null") and collections as keys. Each pattern runs only when a cheap
 * search finds its characters: most documents have none of them.
 */
const NULL_KEY_HINTS = [' :', '\t:', '\n:', '{:', ',:', '[:', '~:', 'ull:', 'ULL:'];

const LEFT_TO_YAML: Array<[(text: string) => boolean, RegExp]> = [
  [(text) => text.includes('{{'), /\{\{/],
  [(text) => /[&*!]/.test(text), /(?:^|[\s[{,])[&*!]/m],
  [(text) => text.includes('?'), /(?:^|\s)\?(?:\s|$)/m],
  [
    (text) => NULL_KEY_HINTS.some((hint) => text.includes(hint)) || text.startsWith(':'),
    /(?:^|[\s,{[])(?:~|null|Null|NULL)?:(?:[ \t,\]}]|$)/m,
  ],
  [(text) => /[\]}][ \t]*:/.test(text), /^[ \t-]*[[{].*[\]}][ \t]*:(?:\s|$)/m],
];

/** The document's value, or undefined when the `yaml` library must read it (see LEFT_TO_YAML), or js-yaml refused it. */
export function loadFast(documentText: string): { value: unknown } | undefined {
  if (LEFT_TO_YAML.some(([maybe, pattern]) => maybe(documentText) && pattern.test(documentText))) return undefined;
  try {
    return { value: jsYaml.load(documentText, { schema: SCHEMA }) ?? null };
  } catch {
    return undefined; // the `yaml` library reads it again and words the error
  }
}
