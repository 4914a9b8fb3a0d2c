/**
 * The fast reader leaves anchors, aliases and tags to the `yaml` library (which counts alias expansions), as
 * js-yaml finds them while it reads, wherever they are written; and reads `&`, `*` and `!` that are text (shell
 * scripts in block scalars, comments, quoted and plain strings) itself, as the `yaml` library reads them.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { documentSpans } from '../src/manifests/document-spans.js';
import { loadFast, loadWithJsYaml } from '../src/manifests/fast-yaml.js';
import { readQuick } from '../src/manifests/quick-yaml.js';
import { parseManifest } from '../src/manifests/read.js';
import { FIXTURES, fixture } from './helpers/fixtures.js';

const PROPERTIES = [
  'kind: X\nvalue: &a [1]\nother: *a\n',
  '&a kind: X\n',
  'kind: &a X\n',
  'kind: X\nv: &a\n',
  'kind: X\nv: &a\n  x: 1\n',
  'kind: X\nv:\n  &a x: 1\n',
  'kind: X\nv:\n- &a\n  x: 1\n',
  'kind: X\nv: {a: &b 1}\n',
  'kind: X\nv: [&b 1]\n',
  'kind: X\nv: &a |\n  text\n',
  'kind: X\nv: !!str 1\n',
  'kind: X\nv: ! 1\n',
  'kind: X\nv: !<tag:yaml.org,2002:str> 1\n',
  'kind: X\nv: !<tag:yaml.org,2002:kubectl-scalar> 1\n',
  'kind: X\nv: !!kubectl-scalar 1\n',
  '--- !!map\nkind: X\n',
  '!!str kind: X\n',
  'kind: X\nv: !!seq\n- 1\n',
  'kind: X\nv:\n  - !!map\n    a: 1\n',
  'kind: X\nv: !!str\n',
  'kind: X\nv: {!!str a: 1}\n',
  'kind: X\nv: &a !!str 1\n',
  'kind: X\nv: !local 1\n',
  '%TAG !e! tag:example.com,2000:\n---\nkind: X\nv: !e!foo 1\n',
];

t.test('anchors, aliases and tags, wherever written, are left to the `yaml` library', async (t) => {
  for (const text of PROPERTIES) t.equal(loadFast(text), undefined, JSON.stringify(text));
});

const TEXT = [
  'kind: X\ndata:\n  run.sh: |\n    [[ -d /data ]] && exit 0\n    if ! test -f x; then echo *; fi\n    a=&b !c *d\n',
  'kind: X\ndata:\n  folded: >-\n    one && two\n    ! three *four\n',
  'kind: X\nargs:\n- |\n  set -e\n  test ! -e /x && echo "&a *b !c"\n- "&a"\n- \'*b\'\n- "!c"\n',
  'kind: X # &a *b !c\n# !!str &x\nv: 1\n',
  'kind: X\nv: a & b\nw: x!\nu: a *b\ns: [a&b, c!d]\n',
  'kind: X\nenv: [{name: A, value: "x && y"}]\n',
];

/** What a reader produced, comparable between the two readers. */
function reading(text: string, fast: boolean) {
  const parsed = parseManifest(text, 'input.yaml', { fast });
  return { objects: parsed.objects.map(({ document, line, object }) => ({ document, line, object })), errors: parsed.errors };
}

t.test('`&`, `*` and `!` that are text are read fast, as the `yaml` library reads them', async (t) => {
  for (const text of TEXT) {
    t.not(loadFast(text), undefined, `read fast: ${JSON.stringify(text)}`);
    t.strictSame(reading(text, true), reading(text, false), JSON.stringify(text));
  }
});

t.test('a shell script with && in a real manifest no longer needs the `yaml` library', async (t) => {
  const text = fixture('peers-corpus', 'kubernetes-website', 'content', 'en', 'examples', 'application', 'mysql', 'mysql-statefulset.yaml');
  t.match(text, /&& exit 0/);
  t.not(loadFast(text), undefined);
  t.strictSame(reading(text, true), reading(text, false));
});

/*
 * The quick reader (src/manifests/quick-yaml.ts) stands in front of js-yaml: on every text, loadFast (which
 * tries it first) must give exactly what js-yaml alone gives (loadWithJsYaml), key order included, or both
 * leave the document. Checked on every fixture document, on generated documents full of what the quick reader
 * must read or leave (indentation, comments, quoting, escapes, folding, flow collections, tabs, scalars YAML 1.1
 * and 1.2 read differently) and on fixture documents mutated a character or a line at a time.
 */

/** The same result from both paths: value and key order, or both undefined. */
function sameReading(text: string): boolean {
  const fast = loadFast(text);
  const slow = loadWithJsYaml(text);
  if (fast === undefined || slow === undefined) return fast === slow;
  return isDeepStrictEqual(fast, slow) && JSON.stringify(fast) === JSON.stringify(slow);
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const DOCUMENTS: Array<[string, string]> = yamlFiles(FIXTURES).flatMap((path) => {
  const text = readFileSync(path, 'utf8');
  return (documentSpans(text) ?? []).map((span): [string, string] => [`${relative(FIXTURES, path)}:${span.line}`, text.slice(span.start, span.end)]);
});

t.test('the quick reader reads every fixture document as js-yaml does, and nearly all of them', async (t) => {
  let quick = 0;
  for (const [name, text] of DOCUMENTS) {
    if (!sameReading(text)) t.fail(`${name}: ${JSON.stringify(loadFast(text))?.slice(0, 200)} vs ${JSON.stringify(loadWithJsYaml(text))?.slice(0, 200)}`);
    if (readQuick(text) !== undefined) quick++;
  }
  t.ok(DOCUMENTS.length > 400, `${DOCUMENTS.length} documents`);
  t.ok(quick / DOCUMENTS.length > 0.95, `${quick} of ${DOCUMENTS.length} read by the quick reader`);
});

/** Scalars manifests are full of, which the quick reader reads. */
const WORDS = ['a', 'web', 'nginx:1.25', 'http://x/y', 'a/b', '80', '0', '-1', '1.5', 'true', 'null', 'a b', 'a#b', 'a,b', 'a]', 'a"b', "it's", '-a', 'é', '😀', '100m', 'Always'];
/** And the ones around them: what YAML 1.1 and 1.2 read differently, indicators, comments, templates, tabs. */
const TRICKY = [
  'a:b', '1e3', '1E3', '010', '08', '0o17', '0x1F', '0b101', '1_000', '+1', '.5', '12:30', '123456789012345678901', 'yes', 'no', 'on', 'Off', 'y', 'N', 'True',
  'FALSE', 'Null', '~', '.inf', '-.Inf', '.nan', '2001-12-14', 'a  b', 'a #b', 'a: b', 'a:', ':a', '- a', '-', '?a', '? a', '@a', '`a', '%a', '!a', '!!str a',
  '&a a', '*a', '|', '>', '|-', '"', "'", '[a]', '{a: 1}', '[]', '{}', 'a}', '{{ x }}', 'a\tb', '<<', '__proto__', 'constructor', '=', '---', '...', 'a ',
  '#', 'a # b: c', '\\', 'a\\nb',
];
const word = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...WORDS) }, { weight: 1, arbitrary: fc.constantFrom(...TRICKY) });
const doubleQuoted = fc
  .string({
    unit: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('a', ' ', '#', ': ', "'", '\\n', '\\"', '\\\\', '\\t', '\\x41', '\\u00e9', '\\/', '\n', '\\\n', ' \n  ') },
      { weight: 1, arbitrary: fc.constantFrom('  ', '\\xZZ', '\\uD83D\\uDE00', '\\U0001F600', '\\0', '\\e', '\\N', '\\_', '\\ ', '\\q', '\n\n', '\n# c\n', '\n---\n', '\t') },
    ),
    maxLength: 6,
  })
  .map((text) => `"${text}"`);
const singleQuoted = fc.string({ unit: fc.constantFrom('a', ' ', "''", '"', '#', ': ', '\\', '\n', '\n  \n', ' \n ', "'"), maxLength: 6 }).map((text) => `'${text}'`);
const scalar = fc.oneof({ weight: 10, arbitrary: word }, { weight: 1, arbitrary: doubleQuoted }, { weight: 1, arbitrary: singleQuoted });
const flowValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 3, arbitrary: scalar },
    fc.tuple(fc.array(tie('value'), { maxLength: 3 }), fc.constantFrom(', ', ',', ' , ', ', '), fc.boolean()).map(([items, comma, trailing]) => `[${items.join(comma)}${trailing ? ',' : ''}]`),
    fc.tuple(fc.array(fc.tuple(scalar, fc.constantFrom(': ', ':', ' : '), tie('value')), { maxLength: 3 }), fc.boolean()).map(([pairs, spaced]) => `{${spaced ? ' ' : ''}${pairs.map(([k, colon, v]) => `${k}${colon}${v}`).join(', ')}${spaced ? ' ' : ''}}`),
  ),
})).value;
const blockHeader = fc.tuple(fc.constantFrom('|', '>'), fc.constantFrom('', '', '-', '+', '2', '-1', '+-'), fc.constantFrom('', '', ' ', ' # c', '#c'));
const blockLine = fc.tuple(fc.integer({ min: -2, max: 3 }), fc.constantFrom('text', 'more text', '  indented', '#not a comment', '- x', 'k: v', '', '', '   ', 'text', '\tt', 'a\tb', 'end  '));
const comment = fc.constantFrom('', '', '', ' # c', ' #c', '#c');

/** A block node's lines at `indent`, generated with the shapes manifests have and the ones around them. */
const blockNode: (indent: number, depth: number) => fc.Arbitrary<string[]> = (indent, depth) => {
  const pad = ' '.repeat(indent);
  const inline = fc.oneof(
    { weight: 4, arbitrary: scalar.map((value) => [value]) },
    { weight: 2, arbitrary: flowValue.map((value) => [value]) },
    {
      weight: 1,
      arbitrary: fc.tuple(blockHeader, fc.array(blockLine, { maxLength: 4 })).map(([[style, indicator, tail], body]) => [
        `${style}${indicator}${tail}`,
        ...body.map(([offset, text]) => (text.trim() === '' ? text : `${' '.repeat(Math.max(0, indent + 2 + offset))}${text}`)),
      ]),
    },
  );
  const nested = depth <= 0 ? inline.map((lines) => ({ lines, nested: false })) : fc.oneof(
    { weight: 3, arbitrary: inline.map((lines) => ({ lines, nested: false })) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).chain((step) => blockNode(indent + step, depth - 1)).map((lines) => ({ lines, nested: true })) },
  );
  const entry = (lead: string) =>
    fc.tuple(nested, comment, fc.oneof({ weight: 30, arbitrary: fc.constantFrom('', '', '', '', '', '', `${pad}  # between`, '', ' ', '   ') }, { weight: 1, arbitrary: fc.constant(`${pad}\t`) })).map(([{ lines, nested: isNested }, trailing, after]) => {
      const [first = '', ...rest] = lines;
      const head = isNested ? [`${lead}${trailing}`, ...lines] : [`${lead}${first}${first.startsWith('|') || first.startsWith('>') ? '' : trailing}`, ...rest];
      return after === '' ? head : [...head, after];
    });
  const mapping = fc.array(fc.tuple(scalar, fc.constantFrom(': ', ': ', ':  ', ':')).chain(([key, colon]) => entry(`${pad}${key}${colon === ':' ? ': ' : colon}`)), { minLength: 1, maxLength: 4 });
  const sequence = fc.array(fc.constantFrom('- ', '- ', '-  ').chain((dash) => entry(`${pad}${dash}`)), { minLength: 1, maxLength: 3 });
  return fc.oneof({ weight: 3, arbitrary: mapping }, { weight: 1, arbitrary: sequence }).map((entries) => entries.flat());
};

const documentText = fc
  .tuple(fc.oneof({ weight: 8, arbitrary: fc.constantFrom('', '', '', '---\n', '---\n', '--- # c\n', '# lead\n---\n', '\uFEFF') }, { weight: 1, arbitrary: fc.constantFrom('---\t\n', '--- a\n') }), blockNode(0, 3), fc.constantFrom('\n', '\n', '', '\n\n', '\n# tail\n', '\n  \n'))
  .map(([head, lines, tail]) => `${head}${lines.join('\n')}${tail}`);

t.test('generated documents: the quick reader reads as js-yaml does, or leaves them', async (t) => {
  let quick = 0;
  let readable = 0;
  fc.assert(
    fc.property(documentText, (text) => {
      if (readQuick(text) !== undefined) quick++;
      if (loadWithJsYaml(text) !== undefined) readable++;
      return sameReading(text);
    }),
    { numRuns: 6000, seed: 27 },
  );
  // The generator must reach the quick reader's paths, not only its way out.
  t.ok(quick > 1500 && quick / readable > 0.6, `${quick} of the ${readable} generated documents js-yaml reads were read by the quick reader`);
});

const MUTATIONS = [' ', '  ', '\t', ':', ': ', '#', ' #', '-', '- ', "'", '"', '\\', '[', ']', '{', '}', ',', '|', '>', '&', '*', '!', '?', '%', '@', '\n', '\n  ', '\r', '\u0085', '\u2028', 'yes', '010', '{{'];

t.test('fixture documents mutated: the quick reader reads as js-yaml does, or leaves them', async (t) => {
  const texts = DOCUMENTS.map(([, text]) => text).filter((text) => text.length < 20000);
  fc.assert(
    fc.property(fc.nat(texts.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(...MUTATIONS)), { minLength: 1, maxLength: 3 }), (index, edits) => {
      let text = texts[index] as string;
      for (const [where, kind, insert] of edits) {
        const at = where % (text.length + 1);
        const lineStart = text.lastIndexOf('\n', at - 1) + 1;
        if (kind === 0) text = text.slice(0, at) + insert + text.slice(at); // insert
        else if (kind === 1) text = text.slice(0, at) + text.slice(at + 1); // delete a character
        else if (kind === 2) text = `${text.slice(0, lineStart)} ${text.slice(lineStart)}`; // indent a line one more
        else text = text.slice(0, lineStart) + text.slice(lineStart).replace(/^ /, ''); // or one less
      }
      return sameReading(text);
    }),
    { numRuns: 4000, seed: 27 },
  );
});

t.test('a quoted scalar of megabytes on one line: the quick reader leaves it (its patterns would overflow the stack), js-yaml reads it', async (t) => {
  // Found by a review that fuzzed the quick reader: /"(?:[^"\\]|\\.)*"/ threw RangeError past ~8.4 million characters.
  const blob = 'x'.repeat(9_000_000);
  for (const quoted of [`"${blob}"`, `'${blob}'`]) {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: ${quoted}\n`;
    const parsed = parseManifest(text, 'big.yaml');
    t.same(parsed.errors, [], 'read, not refused');
    t.equal((parsed.objects[0]?.object['data'] as Record<string, string> | undefined)?.['blob']?.length, blob.length);
  }
});
