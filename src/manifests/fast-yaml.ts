import jsYaml from 'js-yaml';

/**
 * The fast reader: js-yaml, about 8× quicker than the `yaml` library, which also keeps comments and positions
 * (what `fix` needs, not `audit`). It reads only what both libraries read alike; anything else is left to the
 * `yaml` library, so a value never depends on which reader ran (test/fast-yaml.test.ts compares the two).
 */

/**
 * The `yaml` library's YAML 1.2 core schema (its `schema/core` and `schema/common/null` tests), for js-yaml:
 * js-yaml's own core schema also reads `0b101` as 5 and `+.5` as a string, where `yaml` reads the opposite.
 */
const scalar = (tag: string, firstChars: string, test: RegExp, construct: (text: string) => unknown) =>
  new jsYaml.Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    // Most scalars are names and images: the first character rules them out before any regular expression runs.
    resolve: (text: string) => (text === '' ? tag === 'null' : firstChars.includes(text[0] as string)) && test.test(text),
    construct,
  });

const SCHEMA = jsYaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar('null', '~nN', /^(?:~|[Nn]ull|NULL)?$/, () => null),
    scalar('bool', 'tTfF', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (text) => text[0] === 't' || text[0] === 'T'),
    scalar('int', '-+0123456789', /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/, (text) =>
      text.startsWith('0o') ? parseInt(text.slice(2), 8) : text.startsWith('0x') ? parseInt(text.slice(2), 16) : parseInt(text, 10)),
    scalar('float', '-+.0123456789', /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/, (text) =>
      /nan$/i.test(text) ? NaN : /inf$/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : parseFloat(text)),
  ],
});

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
