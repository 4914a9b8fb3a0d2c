/**
 * The fast paths of audit and fix against the `yaml` library they stand in for. The fast reader (js-yaml,
 * src/manifests/fast-yaml.ts) must read every document exactly as the `yaml` library reads it, and the text
 * locator (src/manifests/locate.ts) must find each node where the library's tree puts it; both must actually
 * carry ordinary manifests, or the speed they exist for is gone.
 */
import fastJsonPatch from 'fast-json-patch';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { auditFiles } from '../src/audit/audit.js';
import { ALL_ACTIVE_MODES } from '../src/engine/engine.js';
import { patchForPaths } from '../src/engine/patch.js';
import { editsByFile } from '../src/manifests/fix-files.js';
import { loadFast } from '../src/manifests/fast-yaml.js';
import { locate, type Spot } from '../src/manifests/locate.js';
import { parseManifest, type ParsedFile } from '../src/manifests/read.js';
import { blockPair, flowPair } from '../src/manifests/render-yaml.js';
import { spotInTree, writeFixed } from '../src/manifests/write.js';
import { defaultPolicy } from '../src/policy/load.js';
import { deepClone } from '../src/util/object.js';
import { FIXTURES } from './helpers/fixtures.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const inputs: Array<[string, string]> = yamlFiles(FIXTURES).map((path) => [relative(FIXTURES, path), readFileSync(path, 'utf8')]);

/** What a reader produced, in a form two readers can be compared on. */
function reading(parsed: ParsedFile) {
  return {
    spans: parsed.spans.map(({ start, end, line }) => ({ start, end, line })),
    objects: parsed.objects.map(({ document, line, item, object }) => ({ document, line, item, object })),
    errors: parsed.errors,
  };
}

// Plain scalars where YAML 1.1, js-yaml's core schema and the `yaml` library's core schema disagree, and their neighbours.
const SCALARS = ['017', '0o17', '0x1F', '0X1F', '0b101', '1_000', '+1', '-0', '+.5', '.5', '0.', '1.', '1e3', '1E3', '1e+3', '1.5e-3', '.inf', '-.Inf', '+.INF', '.NaN', '.nan',
  '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', '2001-12-14', '2001-12-14t21:59:43.10-05:00',
  '=', '<<', '12:30', '1:2:3', '123456789012345678901234567890', '9007199254740993', '0.1', '08', '09', '0o8', '0xg', 'a b', 'a #b', 'a#b', "'quoted'", '"dq \\t"', '""', "''"];

const TRICKY = [
  'a: 1\n---\n',
  '# only a comment\n',
  '',
  '---\n---\n',
  '# lead\n---\napiVersion: v1\nkind: ConfigMap\n',
  '--- {apiVersion: v1, kind: ConfigMap}\n--- # c\napiVersion: v1\nkind: Secret\n',
  'null: a\nkind: X\n',
  '~: a\nkind: X\n',
  '? a\n: b\nkind: X\n',
  '[a]: b\nkind: X\n',
  '{a: 1}: b\nkind: X\n',
  '__proto__: {polluted: 1}\nkind: X\n',
  'base: &b {x: 1}\nkind: X\nother: *b\n',
  '<<: {x: 1}\nkind: X\n',
  'kind: X\nbin: !!binary aGk=\n',
  'kind: X\ns: !!str 1\n',
  'kind: X\nkind: Y\n',
  'kind: X\n\tbad: tab\n',
  '%YAML 1.2\n---\nkind: X\n',
  'kind: X\n...\n---\nkind: Y\n',
  'kind: X\r\ndata:\r\n  a: "1"\r\n',
  'kind: X\ndata:\n  script: |\n    #!/bin/sh\n    echo ---\n  folded: >-\n    a\n    b\n',
  'kind: X\ndata:\n  multi: a\n    b\n  q: "x\n    y"\n',
  '--- |\n  text\n',
  '- a\n- b\n',
  '42\n',
  'kind: List\napiVersion: v1\nitems:\n- kind: ConfigMap\n  apiVersion: v1\n- 3\n',
  'kind: X\nspec: {a: [1, {b: c}], d: "e, f"}\n',
  'kind: X\nannotations:\n  summary: "{{ $labels.pod }} down"\n',
  'kind: X\nvalue: {{ .Values.x }}\n',
  `${Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\nkind: X\n`,
];

t.test('the fast reader reads every document as the `yaml` library does', async (t) => {
  const cases: Array<[string, string]> = [
    ...inputs,
    ...TRICKY.map((text, index): [string, string] => [`tricky-${index}.yaml`, text]),
    ...SCALARS.map((scalar, index): [string, string] => [
      `scalar-${index}.yaml`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\ndata:\n  block: ${scalar}\n  flow: {v: ${scalar}}\n  seq: [${scalar}]\n  ${scalar}: key\n`,
    ]),
  ];
  for (const [name, text] of cases) {
    t.strictSame(reading(parseManifest(text, name)), reading(parseManifest(text, name, { fast: false })), name);
  }
});

t.test('the fast reader carries ordinary manifests (the `yaml` library only for what it leaves)', async (t) => {
  let documents = 0;
  let fast = 0;
  for (const [name, text] of inputs) {
    const parsed = parseManifest(text, name);
    for (const span of parsed.spans) {
      documents++;
      if (loadFast(text.slice(span.start, span.end))) fast++;
    }
  }
  t.ok(documents > 100, `${documents} documents`);
  t.ok(fast / documents > 0.9, `${fast} of ${documents} documents read fast`);
  t.equal(loadFast('kind: X\nvalue: &a [1]\nother: *a\n'), undefined, 'aliases are left to the library that counts them');
  t.equal(loadFast('kind: X\nkind: Y\n'), undefined, 'duplicate keys are left to the library that words the error');
});

/** Every path to a node of a value: map keys and sequence indexes. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((item, index) => paths(item, [...prefix, index]))];
  if (value !== null && typeof value === 'object') return [prefix, ...Object.entries(value).flatMap(([key, item]) => paths(item, [...prefix, key]))];
  return [prefix];
}

/** Only blank and comment lines between two offsets. */
function onlyCommentsBetween(text: string, from: number, to: number): boolean {
  return text.slice(Math.min(from, to), Math.max(from, to)).split('\n').every((line) => /^\s*(#.*)?$/.test(line));
}

t.test('the text locator finds nodes where the `yaml` library puts them, or leaves them to it', async (t) => {
  let located = 0;
  let spots = 0;
  for (const [name, text] of inputs) {
    const parsed = parseManifest(text, name, { fast: false });
    parsed.spans.forEach((span, index) => {
      const yaml = parsed.yamlDocument(index);
      if (!yaml || yaml.doc.errors.length > 0) return;
      for (const path of paths(yaml.doc.toJS())) {
        const tree = spotInTree(yaml, path, text);
        if (!tree) continue;
        spots++;
        const found: Spot | undefined = locate(text, span.start, span.end, path);
        if (!found) continue;
        located++;
        const where = `${name} document ${index + 1} ${path.join('.')}`;
        if ((tree.kind === 'block-map' && found.kind === 'block-map') || (tree.kind === 'block-seq' && found.kind === 'block-seq')) {
          t.equal(found.indent, tree.indent, `${where}: indentation`);
          if (tree.kind === 'block-seq' && found.kind === 'block-seq') t.equal(found.items, tree.items, `${where}: items`);
          if (!onlyCommentsBetween(text, text.indexOf('\n', found.end), text.indexOf('\n', tree.end))) t.fail(`${where}: entries are added after the collection's last line`);
        } else if (JSON.stringify(found) !== JSON.stringify(tree)) {
          t.strictSame(found, tree, where);
        }
      }
    });
  }
  t.ok(located / spots > 0.8, `${located} of ${spots} nodes located in the text`);
});

t.test('fix by the text locator writes what fix by the `yaml` library writes', async (t) => {
  for (const [name, text] of inputs) {
    const parsed = parseManifest(text, name);
    const audit = auditFiles([parsed], defaultPolicy(), { fixModes: ALL_ACTIVE_MODES });
    const edits = editsByFile(audit).get(name) ?? [];
    if (edits.length === 0) continue;
    const located = writeFixed(parsed, edits);
    const viaTree = writeFixed(parseManifest(text, name, { fast: false }), edits, { locate: false });
    const reread = (fixed: string) => parseManifest(fixed, name).objects.map(({ object }) => object);
    t.strictSame(reread(located), reread(viaTree), `${name}: the same objects`);
  }
});

t.test('inserted values read back as written, under YAML 1.2 and under YAML 1.1 (kubectl reads on/yes as booleans)', async (t) => {
  const { parse } = await import('yaml');
  const strings = ['on', 'yes', 'No', 'y', 'true', 'null', '~', '10', '08', '0o17', '0x1F', '1e3', '.5', '.inf', '10s', 'pod-template-hash', 'kubernetes.io/hostname', 'a: b', '- x', '#x', 'x #y', "it's", '"q"', '', ' lead', 'trail ', 'a\nb', '{a}', '[1]', '@x', '`x`', '%x', '!x', '&x', '*x', '|', '>', '1_000', '0b101', '12:30', '0777', '190:20:30', '+1_0', '-.5', '1.', 'Off', 'NO', '=', '<<', '0x_1'];
  const values: unknown[] = [...strings, 0, -1, 1.5, true, false, null, { k: 'on' }, ['yes', 2]];
  for (const value of values) {
    const text = blockPair('key', value, { indent: 2, indentSeq: true }).join('\n');
    t.strictSame(parse(text), { key: value }, `YAML 1.2: ${JSON.stringify(value)}`);
    t.strictSame(parse(text, { version: '1.1' }), { key: value }, `YAML 1.1: ${JSON.stringify(value)}`);
    t.strictSame(parse(`{${flowPair('key', value)}}`), { key: value }, `flow: ${JSON.stringify(value)}`);
  }
});

t.test("applying the patch of every fixture's fix to its original gives exactly the fixed object, key order too", (t) => {
  let fixes = 0;
  for (const [name, text] of inputs) {
    const audit = auditFiles([parseManifest(text, name)], defaultPolicy(), { fixModes: ALL_ACTIVE_MODES });
    for (const { original, fixed, paths } of editsByFile(audit).get(name) ?? []) {
      fixes++;
      const patched = fastJsonPatch.applyPatch(deepClone(original), deepClone(patchForPaths(original, fixed, paths)), true, false).newDocument;
      // Text edits add keys last, in patch order, and must read back as `fixed`: order matters, not only content.
      t.equal(JSON.stringify(patched), JSON.stringify(fixed), name);
    }
  }
  t.ok(fixes > 50, `the fixtures give fixes to check (${fixes})`);
  t.end();
});

t.test('a fix that sets a whole map where the original has `{}` fills the braces, by either path, and leaves the rest as it was', (t) => {
  const text = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: web}   # spacing kept',
    'spec:',
    '  replicas: 1',
    '  template:',
    '    spec:',
    '      containers:',
    '        - {name: app, image: nginx, ports: [{containerPort: 80}], lifecycle: {preStop: {}}}',
    '',
  ].join('\n');
  const audit = auditFiles([parseManifest(text, 'web.yaml')], defaultPolicy(), { fixModes: ALL_ACTIVE_MODES });
  const edits = editsByFile(audit).get('web.yaml') ?? [];
  for (const [fixed, via] of [
    [writeFixed(parseManifest(text, 'web.yaml'), edits), 'text locator'],
    [writeFixed(parseManifest(text, 'web.yaml', { fast: false }), edits, { locate: false }), '`yaml` library'],
  ] as const) {
    t.equal(fixed.replace(/preStop: \{sleep: \{seconds: \d+\}\}/, 'preStop: {}'), text, via);
  }
  t.end();
});
