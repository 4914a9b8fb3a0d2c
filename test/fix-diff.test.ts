/**
 * `rollsafe fix --diff` (issue 29): the unified diff is built one document at a time, prints what one
 * `createTwoFilesPatch` over the whole file printed (the oracle, called here on small inputs), applies with
 * `git apply`, and never hands the whole file to the diff library (that call was quadratic: 2 MB took 4 min).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import t, { type Test } from 'tap';
import * as diffLibrary from 'diff';
import { createTwoFilesPatch, OMIT_HEADERS } from 'diff';
import { auditFiles } from '../src/audit/audit.js';
import type { Io } from '../src/commands/io.js';
import { ALL_ACTIVE_MODES } from '../src/engine/engine.js';
import { fixedTexts } from '../src/manifests/fix-files.js';
import { parseManifest } from '../src/manifests/read.js';
import { unifiedDiffHunks } from '../src/manifests/unified-diff.js';
import { defaultPolicy } from '../src/policy/load.js';
import { FIXTURES } from './helpers/fixtures.js';

/** What `fix --diff` printed before issue 29: one comparison of the whole texts. */
function wholeFileDiff(before: string, after: string): string {
  return createTwoFilesPatch('a', 'b', before, after, undefined, undefined, { headerOptions: OMIT_HEADERS });
}

interface FixedFile {
  name: string;
  /** The text as the reader keeps it (a byte-order mark dropped): what the diff is taken from. */
  before: string;
  after: string;
}

function fixOf(text: string, name: string): FixedFile {
  const parsed = parseManifest(text, name);
  const audit = auditFiles([parsed], defaultPolicy(), { fixModes: ALL_ACTIVE_MODES });
  return { name, before: parsed.text, after: fixedTexts([parsed], audit)[0]?.text ?? parsed.text };
}

/**
 * Writes every original into a fresh directory, then runs the real `git apply --check` and `git apply` on one
 * patch of them all (headers as `fix --diff` writes them) and returns what the files became.
 */
function gitApply(files: FixedFile[], hunksOf: (file: FixedFile) => string): { check: ReturnType<typeof spawnSync>; results: Map<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-fix-diff-'));
  let patch = '';
  for (const file of files) {
    mkdirSync(dirname(join(dir, file.name)), { recursive: true });
    writeFileSync(join(dir, file.name), file.before);
    if (file.after !== file.before) patch += `--- a/${file.name}\t\n+++ b/${file.name}\t\n${hunksOf(file)}`;
  }
  writeFileSync(join(dir, 'fix.diff'), patch);
  // No repository above the directory is consulted: git apply works on the files as `patch -p1` would.
  const options = { cwd: dir, encoding: 'utf8' as const, env: { ...process.env, GIT_CEILING_DIRECTORIES: dirname(dir) } };
  const check = spawnSync('git', ['apply', '--check', 'fix.diff'], options);
  if (check.status === 0) spawnSync('git', ['apply', 'fix.diff'], options);
  const results = new Map(files.map((file) => [file.name, readFileSync(join(dir, file.name), 'utf8')]));
  rmSync(dir, { recursive: true, force: true });
  return { check, results };
}

/** Both diffs are the same text, and git applies it to the original to give the fixed text. */
function assertSameAndApplies(t: Test, files: FixedFile[]): void {
  for (const file of files) t.equal(unifiedDiffHunks(file.before, file.after), wholeFileDiff(file.before, file.after), `${file.name}: the diff of the whole file`);
  const changed = files.filter((file) => file.after !== file.before);
  if (changed.length === 0) return;
  const { check, results } = gitApply(changed, (file) => unifiedDiffHunks(file.before, file.after));
  t.equal(check.status, 0, `git apply --check accepts the diff: ${String(check.stderr)}`);
  for (const file of changed) t.equal(results.get(file.name), file.after, `${file.name}: git apply gives the fixed text`);
}

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, keep);
    return keep(name) ? [path] : [];
  });
}

/** The failing case of every rule (not their `.fixed.yaml` goldens or `.policy.yaml` policies). */
const FAILING = filesUnder(join(FIXTURES, 'rules'), (name) => /^fail-.*\.yaml$/.test(name) && !/\.(fixed|policy)\.yaml$/.test(name));
const MANIFESTS = [...filesUnder(join(FIXTURES, 'corpus'), (name) => !name.endsWith('.md')), ...filesUnder(join(FIXTURES, 'manifests'), () => true)];

/** A Deployment that several rules fix (probes, preStop, strategy): every document of a stream of them changes. */
function deployment(index: number): string {
  const name = `svc-${index}`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${2 + (index % 3)}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: ${index % 2 ? 30 : 5}
      containers:
        - name: app
          image: registry.example.com/${name}:1.${index}
          ports:
            - {containerPort: 8080, name: http}
${index % 4 ? '' : '          readinessProbe: {httpGet: {path: /ready, port: http}}\n'}        - name: sidecar
          image: registry.example.com/log-shipper:2.0
`;
}

/** The same Deployment on one line: its fixes edit that line (the first, or the last, of a stream). */
function flowDeployment(name: string): string {
  return `{apiVersion: apps/v1, kind: Deployment, metadata: {name: ${name}}, spec: {replicas: 2, selector: {matchLabels: {app: ${name}}}, template: {metadata: {labels: {app: ${name}}}, spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}}}}\n`;
}

t.test('every failing rule fixture: the same diff as the whole-file comparison, and git applies it', async (t) => {
  t.ok(FAILING.length >= 30, `failing fixtures found (${FAILING.length})`);
  const files = FAILING.map((path) => fixOf(readFileSync(path, 'utf8'), relative(FIXTURES, path)));
  t.ok(files.filter((file) => file.after !== file.before).length >= 20, 'most of them are fixed');
  assertSameAndApplies(t, files);
});

t.test('the corpus and the manifest fixtures (Lists, JSON, comments, flow maps): the same diff, and git applies it', async (t) => {
  const files = MANIFESTS.map((path) => fixOf(readFileSync(path, 'utf8'), relative(FIXTURES, path)));
  t.ok(files.filter((file) => file.after !== file.before).length >= 10, 'several are fixed');
  assertSameAndApplies(t, files);
});

t.test('synthetic streams: edits in adjacent documents, on the first and last lines, CRLF, no final newline, empty documents, a byte-order mark', async (t) => {
  const stream = Array.from({ length: 60 }, (_, index) => deployment(index)).join('---\n');
  const failing = FAILING.map((path) => readFileSync(path, 'utf8')).filter((text) => !text.startsWith('%'));
  const cases: Record<string, string> = {
    'adjacent.yaml': stream,
    'leading-marker-and-comment.yaml': `# generated\n---\n${stream}`,
    'crlf.yaml': stream.replace(/\n/g, '\r\n'),
    'no-final-newline.yaml': `${stream}---\n${flowDeployment('last')}`.replace(/\n$/, ''),
    'crlf-no-final-newline.yaml': `${stream}---\n${flowDeployment('last')}`.replace(/\n$/, '').replace(/\n/g, '\r\n'),
    'first-and-last-line.yaml': `${flowDeployment('first')}---\n${deployment(1)}---\n${flowDeployment('last')}`,
    'empty-documents.yaml': `---\n---\n${deployment(1)}---\n---\n# only a comment\n---\n${deployment(2)}---\n`,
    'every-failing-fixture.yaml': failing.join('---\n'),
    // Whether the reader keeps a byte-order mark or drops it, the diff is taken from the text it keeps.
    'bom.yaml': `\ufeff${stream}`,
    'bom-first-line.yaml': `\ufeff${flowDeployment('first')}---\n${deployment(1)}`,
  };
  const files = Object.entries(cases).map(([name, text]) => fixOf(text, name));
  for (const file of files) t.not(file.after, file.before, `${file.name} is fixed`);
  const edges = files.find((file) => file.name === 'first-and-last-line.yaml');
  const firstLine = (text = ''): string => text.slice(0, text.indexOf('\n'));
  t.not(firstLine(edges?.after), firstLine(edges?.before), 'the first line is edited');
  t.not(edges?.after.slice(edges.after.lastIndexOf('{apiVersion')), edges?.before.slice(edges.before.lastIndexOf('{apiVersion')), 'the last line is edited');
  assertSameAndApplies(t, files);
});

t.test('texts at the edges: the same hunks as the whole-file comparison', async (t) => {
  const lines = (count: number, prefix = 'l'): string => Array.from({ length: count }, (_, index) => `${prefix}${index}\n`).join('');
  const pairs: Array<[string, string, string]> = [
    ['identical texts', 'a\n', 'a\n'],
    ['empty before', '', 'a\nb\n'],
    ['empty after', 'a\nb\n', ''],
    ['the first line', lines(20), `x\n${lines(20).slice(3)}`],
    ['the last line, no final newline on either side', 'a\nb\nc', 'a\nb\nd'],
    ['a final newline added', lines(12).slice(0, -1), lines(12)],
    ['a final newline dropped', lines(12), lines(12).slice(0, -1)],
    ['lines after the last line without a newline', '---\na: 1', '---\na: 1\nb: 2\n'],
    ['a lone carriage return ends no line', 'a\rb\nc\n', 'a\rB\nc\n'],
    ['a text starting with an empty line', '\n---\na\n', '\n---\nb\n'],
    ['changes 8 lines apart share a hunk', lines(30), lines(30).replace('l10\n', 'L10\n').replace('l19\n', 'L19\n')],
    ['changes 9 lines apart do not', lines(30), lines(30).replace('l10\n', 'L10\n').replace('l20\n', 'L20\n')],
    ['changes in adjacent documents', `---\n${lines(6)}---\n${lines(6, 'm')}`, `---\n${lines(6).replace('l5', 'L5')}---\nnew\n${lines(6, 'm')}`],
    ['a `---` added (documents do not pair up)', `${lines(10)}---\n${lines(10, 'm')}`, `${lines(10)}---\n${lines(3, 'n')}---\n${lines(10, 'm')}`],
    ['a `---` line changed', `---\n${lines(10)}---\n${lines(10, 'm')}`, `---\n${lines(10)}--- # second\n${lines(10, 'm')}`],
  ];
  for (const [name, before, after] of pairs) t.equal(unifiedDiffHunks(before, after), wholeFileDiff(before, after), name);
});

t.test('fix --diff never hands the diff library more than one document of the stream', async (t) => {
  // Every call into the `diff` package from the fix command is measured: the longest text it was given. One
  // call with the whole file (what issue 29 found) is what made the diff quadratic.
  let longest = 0;
  const measure = (value: unknown): number => (typeof value === 'string' ? value.length : Array.isArray(value) ? value.reduce((sum: number, item) => sum + measure(item), 0) : 0);
  const spied = Object.fromEntries(
    Object.entries(diffLibrary).map(([name, value]) => [
      name,
      typeof value === 'function' && /^[a-z]/.test(name)
        ? (...args: unknown[]): unknown => {
            for (const arg of args) longest = Math.max(longest, measure(arg));
            return (value as (...args: unknown[]) => unknown)(...args);
          }
        : value,
    ]),
  );
  // tap's mocks reach only the modules the mocked import loads itself (ts-node resolves the rest), so the
  // module that diffs is mocked with the spy too: whether fix.ts calls the library or that module, it is seen.
  const unifiedDiff = await t.mockImport<typeof import('../src/manifests/unified-diff.js')>('../src/manifests/unified-diff.js', { diff: spied });
  const { fixCommand } = await t.mockImport<typeof import('../src/commands/fix.js')>('../src/commands/fix.js', { diff: spied, '../src/manifests/unified-diff.js': unifiedDiff });
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-fix-diff-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'stream.yaml');
  const text = Array.from({ length: 250 }, (_, index) => deployment(index)).join('---\n');
  writeFileSync(file, text);
  let stdout = '';
  const io: Io = { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: () => true }, readStdin: () => '', env: {} };
  t.equal(fixCommand(['--diff', file], io), 0);
  const { after } = fixOf(text, 'stream.yaml');
  const largestDocument = Math.max(...after.split(/^(?=---$)/m).map((document) => document.length));
  t.ok(longest > 0, 'the diff library compared the changed documents');
  t.ok(longest <= largestDocument, `the longest text given to the diff library (${longest} characters) is at most one document (${largestDocument}), not the file (${text.length})`);
  t.match(stdout, /^--- a\/\S+stream\.yaml\t\n\+\+\+ b\/\S+stream\.yaml\t\n@@ /);
  const hunks = stdout.slice(stdout.indexOf('@@'));
  t.ok((hunks.match(/^@@ /gm)?.length ?? 0) >= 125, 'hunks all along the stream');
  const { check, results } = gitApply([{ name: 'stream.yaml', before: text, after }], () => hunks);
  t.equal(check.status, 0, `git apply --check accepts the diff: ${String(check.stderr)}`);
  t.equal(results.get('stream.yaml'), after, 'git apply gives the fixed stream');
});
