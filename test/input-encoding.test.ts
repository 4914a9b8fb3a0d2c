/**
 * How manifests and policies are read (issue 29 items 3, 4 and 8): plain scalars as kubectl reads them (YAML
 * 1.1, checked against kubectl itself), the bytes `fix` keeps (a byte-order mark) or refuses (invalid UTF-8,
 * UTF-16), nesting the parsers cannot take, and alias bombs in a policy. Every refusal is an input error: exit
 * code 2, naming the file (or standard input) and, where known, the line; never a stack trace.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { auditFiles } from '../src/audit/audit.js';
import { ALL_ACTIVE_MODES } from '../src/engine/engine.js';
import { fixedTexts } from '../src/manifests/fix-files.js';
import { parseManifest, type ParsedFile } from '../src/manifests/read.js';
import { defaultPolicy } from '../src/policy/load.js';
import { binaryDirs } from './helpers/control-plane.js';
import { auditText, findingsOf, fixture, TEST_DIR } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';

const CLI = join(TEST_DIR, '..', 'dist', 'cli.js');
const DEPLOYMENT = fixture('rules', 'prestop-delay', 'fail-missing.yaml');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rollsafe-input-encoding-'));
}

/** The built CLI with bytes on standard input: Io.readStdin of a real process. */
function cliWithStdin(args: string[], input: Buffer) {
  return spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
}

/** Both readers (the fast one and the `yaml` library) must read a text alike; the fast reading is returned. */
function readBoth(t: Test, text: string, name: string): ParsedFile {
  const fast = parseManifest(text, name);
  const slow = parseManifest(text, name, { fast: false });
  t.same(
    { objects: fast.objects, errors: fast.errors },
    { objects: slow.objects, errors: slow.errors },
    `${name}: both readers read it alike`,
  );
  return fast;
}

// Plain scalars whose reading differs between YAML 1.1 and 1.2, or between go-yaml's rules and either (its
// octal with a leading 0, its underscores, its floats that stay strings), and their neighbours.
const VALUES = [
  'y', 'Y', 'yes', 'Yes', 'YES', 'yES', 'on', 'On', 'ON', 'oN', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'true', 'True', 'TRUE', 'tRUE', 'false', 'FALSE',
  '~', 'null', 'Null', 'NULL', 'nULL',
  '010', '-010', '+010', '0', '00', '08', '09', '019', '0o17', '0O17', '0o8', '0x1F', '0X1F', '-0x1F', '0xg', '0b101', '0B101', '-0b101', '0b2',
  '1_000', '1__0', '_1', '1_', '0x_1F', '+1', '-0', '+.5', '.5', '-.5', '.', '0.', '1.', '1e3', '1E3', '1.5e-3', '.5e3', '.5_5', '._5', '1_000.5', '1e400',
  '9223372036854775807', '9223372036854775808', '18446744073709551616', '-9223372036854775809', '0xFFFFFFFFFFFFFFFFFF', '0777777777777777777777777',
  '12:30', '1:2:3', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '=', '<<', 'a b', 'nginx', 'off-peak',
];
// As map keys too, but none that kubectl refuses as a key (null, or an integer past int64: "Unsupported map key"),
// and not `<<`, a YAML 1.1 merge key to kubectl (not read as one here: see the note in kubectl-scalars.ts).
const KEYS = [
  ...VALUES.filter((text) => !['~', 'null', 'Null', 'NULL', '9223372036854775808', '18446744073709551616', '0xFFFFFFFFFFFFFFFFFF', '<<'].includes(text)),
  '1.5', '0.1', '3.14159265358979', '1e7', '1234567.0', '123456.0', '0.00001', '.inf', '-.Inf', '.nan', '1e39',
];

t.test('plain scalars are read as kubectl reads them (kubectl itself, offline: label --local -o json)', async (t) => {
  const lines = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata: {name: scalars}',
    'spec:',
    '  block:',
    ...VALUES.map((text) => `    - ${text}`),
    `  flow: [${VALUES.filter((text) => !/[:,]/.test(text)).join(', ')}]`,
    '  quoted:',
    ...VALUES.map((text) => `    - "${text}"`),
    '  keys:',
    // One map per key: two keys that read alike are one key to kubectl (the last wins) and an error to rollsafe.
    ...KEYS.map((text, index) => `    k${index}: {${text}: v}`),
  ];
  const text = `${lines.join('\n')}\n`;
  const kubectl = join(binaryDirs().kube, 'kubectl');
  const stored = JSON.parse(execFileSync(kubectl, ['label', '--local', '-f', '-', '-o', 'json', 'read=by-kubectl'], { input: text, encoding: 'utf8', env: { PATH: process.env['PATH'], HOME: tmpdir() } }));
  const parsed = readBoth(t, text, 'scalars.yaml');
  t.same(parsed.errors, []);
  const object = parsed.objects[0]?.object as { spec: Record<string, unknown> } | undefined;
  for (const part of ['block', 'flow', 'quoted', 'keys']) t.same(object?.spec[part], stored.spec[part], `${part}: as kubectl reads them`);
  t.same((object?.spec['quoted'] as unknown[]).filter((value) => typeof value !== 'string'), [], 'quoted scalars stay strings');
});

const HOST_NETWORK_DAEMONSET = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      hostNetwork: yes
      terminationGracePeriodSeconds: 030
      containers:
        - name: agent
          image: registry.example.com/agent:1.0
          ports: [{name: metrics, containerPort: 9100}]
          readinessProbe: {httpGet: {path: /ready, port: metrics}}
          lifecycle: {preStop: {sleep: {seconds: 10}}}
`;

t.test('`hostNetwork: yes` is host networking: no surge is proposed, and the value is named (info)', async (t) => {
  readBoth(t, HOST_NETWORK_DAEMONSET, 'agent.yaml');
  const { audit, fixed } = auditText(HOST_NETWORK_DAEMONSET);
  t.same(audit.inputErrors, []);
  const spec = (audit.results[0]?.source.object as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec;
  t.equal(spec['hostNetwork'], true, 'the boolean the apiserver stores');
  t.equal(spec['terminationGracePeriodSeconds'], 24, 'octal 030');
  const strategy = findingsOf(audit, 'rollout-strategy');
  t.ok(strategy.length > 0 && strategy.every((finding) => finding.severity === 'info' && !finding.fix), 'a host-network DaemonSet cannot surge: info, no fix');
  t.notMatch(fixed, /maxSurge/, 'no surge written');
  const named = findingsOf(audit, 'yaml-1-1-values');
  t.match(named, [
    { severity: 'info', message: /`spec\.template\.spec\.hostNetwork: yes` \(line 12\) is read by kubectl as the boolean true \(YAML 1\.1\), not the string "yes" \(YAML 1\.2\)/ },
    { severity: 'info', message: /`spec\.template\.spec\.terminationGracePeriodSeconds: 030` \(line 13\) is read by kubectl as the number 24 \(YAML 1\.1\), not the number 30/ },
  ]);
  t.equal(named.length, 2);
});

t.test('`replicas: 010` is 8 and `terminationGracePeriodSeconds: 030` is 24: fixes are computed from them, and keep the scalars as written', async (t) => {
  const text = DEPLOYMENT.replace('replicas: 3', 'replicas: 010').replace('terminationGracePeriodSeconds: 45', 'terminationGracePeriodSeconds: 030');
  const parsed = readBoth(t, text, 'web.yaml');
  const spec = (parsed.objects[0]?.object as { spec: { replicas: unknown; template: { spec: Record<string, unknown> } } }).spec;
  t.equal(spec.replicas, 8);
  t.equal(spec.template.spec['terminationGracePeriodSeconds'], 24);
  const { audit, fixed } = auditText(text);
  t.match(findingsOf(audit, 'grace-period'), [{ message: /terminationGracePeriodSeconds is 24/ }], 'judged at 24 s, not 30');
  t.match(fixed, /^ {2}replicas: 010$/m, 'fix keeps `010` as written');
  t.match(fixed, /terminationGracePeriodSeconds: 30$/m, 'and raises the grace period it judged at 24 s');
  // A document the `yaml` library writes out again keeps each scalar's source too.
  const yaml = parseManifest(HOST_NETWORK_DAEMONSET, 'agent.yaml').yamlDocument(0);
  t.match(String(yaml?.doc.toString()), /hostNetwork: yes\n[\s\S]*terminationGracePeriodSeconds: 030\n/);
});

t.test('keys and values of other kinds: where a field holding strings gets a boolean, the apiserver refuses the object', async (t) => {
  const text = DEPLOYMENT.replace('metadata:\n  name: api', 'metadata:\n  name: api\n  labels: {public: yes}\n  annotations: {on: call}')
    .replace('        - name: api\n', '        - name: api\n          args: [--verbose, on]\n          volumeMounts: [{name: tls, mountPath: /tls}]\n')
    .replace('      containers:', '      volumes: [{name: tls, secret: {secretName: tls, defaultMode: 0644}}]\n      containers:');
  const parsed = readBoth(t, text, 'web.yaml');
  const metadata = (parsed.objects[0]?.object as { metadata: Record<string, unknown> }).metadata;
  t.same(metadata['labels'], { public: true });
  t.same(metadata['annotations'], { true: 'call' }, 'the key `on` is "true"');
  const named = findingsOf(auditText(text).audit, 'yaml-1-1-values');
  const count = (severity: string, pattern: RegExp) => named.filter((finding) => finding.severity === severity && pattern.test(finding.message)).length;
  t.equal(count('error', /^`metadata\.labels\.public: yes` \(line 5\) is read by kubectl as the boolean true .*the field holds a string, so the apiserver refuses the object/), 1, 'a label holds strings');
  t.equal(count('error', /^`spec\.template\.spec\.containers\[0\]\.args\[1\]: on` \(line \d+\)/), 1, 'so does a command argument');
  t.equal(count('info', /^the key `on` under metadata\.annotations \(line 6\) is read by kubectl as "true" \(YAML 1\.1\), not "on"/), 1, 'a key is named');
  t.equal(named.length, 3, 'an octal file mode (`defaultMode: 0644`) is octal on purpose: not named');
  const quoted = text.replace('public: yes', 'public: "yes"').replace('[--verbose, on]', '[--verbose, "on"]').replace('{on: call}', '{"on": call}');
  t.same(findingsOf(auditText(quoted).audit, 'yaml-1-1-values'), [], 'quoted, nothing to name');
});

const BOM = '\ufeff';

t.test('a byte-order mark is kept: in the text fix compares, in what it writes, with --in-place', async (t) => {
  for (const [name, text] of [
    ['bom.yaml', `${BOM}${DEPLOYMENT}`],
    ['bom-marker.yaml', `${BOM}---\n${DEPLOYMENT}`],
    ['bom-comment.yaml', `${BOM}# generated\n---\n${DEPLOYMENT}---\n${DEPLOYMENT.replace(/name: (\S+)/, 'name: $1-2')}`],
    ['bom.json', `${BOM}${JSON.stringify(parseManifest(DEPLOYMENT, 'd.yaml').objects[0]?.object, null, 2)}\n`],
  ] as const) {
    const parsed = readBoth(t, text, name);
    t.same(parsed.errors, [], `${name}: read`);
    t.ok(parsed.objects.length > 0, `${name}: has its objects`);
    const audit = auditFiles([parsed], defaultPolicy(), { fixModes: ALL_ACTIVE_MODES });
    const [result] = fixedTexts([parsed], audit);
    t.ok(result && result.edits > 0, `${name}: fixed`);
    t.ok(parsed.text.startsWith(BOM) && result?.text.startsWith(BOM), `${name}: the text diffed and the text written both start with the mark, so the diff has no change there`);
    t.equal(result?.text.lastIndexOf(BOM), 0, `${name}: one mark, at the start`);
    const withoutMark = auditText(text.slice(1), defaultPolicy(), name).fixed;
    t.equal(result?.text.slice(1), withoutMark, `${name}: the same fix as without the mark`);
  }
  const dir = tempDir();
  const file = join(dir, 'web.yaml');
  writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(DEPLOYMENT)]));
  const run = await runCli(['fix', '--in-place', file]);
  t.equal(run.code, 0, run.stderr);
  const written = readFileSync(file);
  t.same([...written.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the byte-order mark is written back');
  t.equal(written.subarray(3).toString('utf8'), auditText(DEPLOYMENT).fixed);
});

/** A Deployment whose name holds a Latin-1 é (byte E9): not UTF-8. */
const LATIN1 = Buffer.from(DEPLOYMENT.replace(/name: (\S+)/, 'name: $1-caf\u00e9'), 'latin1');
const LATIN1_LINE = DEPLOYMENT.slice(0, DEPLOYMENT.search(/name: \S+/)).split('\n').length;

t.test('invalid UTF-8 is an input error naming the file, the byte and its line; fix leaves the file alone', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'latin1.yaml');
  writeFileSync(file, LATIN1);
  const offset = LATIN1.indexOf(0xe9);
  const audit = await runCli(['audit', file]);
  t.equal(audit.code, 2);
  t.match(audit.stdout, `${file}:${LATIN1_LINE}: is not valid UTF-8: byte 0xE9 at offset ${offset} (line ${LATIN1_LINE})`);
  t.notMatch(audit.stdout, /\ufffd/, 'no replacement character');
  t.match(audit.stdout, /0 workload\(s\)/, 'nothing judged from mangled bytes');
  const fix = await runCli(['fix', '--in-place', file]);
  t.equal(fix.code, 2);
  t.match(fix.stderr, `${file}:${LATIN1_LINE}: is not valid UTF-8`);
  t.same(readFileSync(file), LATIN1, 'the file is not rewritten');
  const stdin = cliWithStdin(['audit', '-'], LATIN1);
  t.equal(stdin.status, 2, stdin.stderr);
  t.match(stdin.stdout, `-:${LATIN1_LINE}: standard input is not valid UTF-8: byte 0xE9 at offset ${offset}`);
  t.notMatch(stdin.stderr, /\n\s+at /, 'no stack trace');
});

/** The Deployment in UTF-16, little-endian or big-endian, with or without its byte-order mark. */
function utf16(order: 'le' | 'be', mark: boolean): Buffer {
  const little = Buffer.from(`${mark ? BOM : ''}${DEPLOYMENT}`, 'utf16le');
  return order === 'le' ? little : Buffer.from(little).swap16();
}

t.test('UTF-16 is an input error saying so, for files, standard input and policies', async (t) => {
  const dir = tempDir();
  const cases: Array<[string, Buffer, RegExp]> = [
    ['le-bom.yaml', utf16('le', true), /: is UTF-16 \(little-endian, byte-order mark FF FE\): rollsafe reads UTF-8/],
    ['be-bom.yaml', utf16('be', true), /: is UTF-16 \(big-endian, byte-order mark FE FF\)/],
    ['le.yaml', utf16('le', false), /: looks like UTF-16 \(little-endian, without a byte-order mark/],
    ['be.yaml', utf16('be', false), /: looks like UTF-16 \(big-endian, without a byte-order mark/],
  ];
  for (const [name, bytes, message] of cases) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const run = await runCli(['audit', file]);
    t.equal(run.code, 2, name);
    t.match(run.stdout, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${message.source}`), name);
    t.notMatch(run.stdout, /not a mapping/, `${name}: not read as something else`);
  }
  const stdin = cliWithStdin(['audit', '-'], utf16('le', true));
  t.equal(stdin.status, 2);
  t.match(stdin.stdout, /-: standard input is UTF-16 \(little-endian, byte-order mark FF FE\)/);
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, Buffer.from(`${BOM}apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\n`, 'utf16le'));
  const withPolicy = await runCli(['audit', '--policy', policy, join(dir, 'le-bom.yaml')]);
  t.equal(withPolicy.code, 2);
  t.match(withPolicy.stderr, `invalid policy ${policy}:\n  is UTF-16 (little-endian`);
  t.match(cliWithStdin(['audit', '-'], Buffer.from('kind: X\n\u0000\n')).stdout, /-:2: standard input has a NUL byte at offset 8 \(line 2\): not a text file/);
});

/** `depth` nested flow sequences under a ConfigMap's data, in one document. */
function nestedFlow(depth: number): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

/** `depth` levels of block maps (the last holding a sequence) under a ConfigMap's spec. */
function nestedBlock(depth: number): string {
  const keys = Array.from({ length: depth }, (_, level) => `${' '.repeat(level)}k${level}:`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nspec:\n${keys.map((line) => ` ${line}`).join('\n')}\n${' '.repeat(depth + 1)}- leaf\n`;
}

t.test('nesting deeper than the parsers can take is refused by its limit, in both readers and for JSON; up to it, read', async (t) => {
  const deep: Array<[string, string]> = [
    ['flow.yaml', nestedFlow(3000)],
    ['flow-far-past.yaml', nestedFlow(100_000)],
    ['block.yaml', nestedBlock(900)],
    ['one-past-limit.yaml', nestedFlow(499)],
    ['deep.json', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'deep' }, data: JSON.parse(`${'['.repeat(3000)}${']'.repeat(3000)}`) })],
    ['second-document.yaml', `${DEPLOYMENT}---\n${nestedFlow(600)}`],
  ];
  for (const [name, text] of deep) {
    const parsed = readBoth(t, text, name);
    t.match(parsed.errors, [{ file: name, document: name === 'second-document.yaml' ? 2 : 1, line: Number, message: /document is nested too deeply: more than 500 levels of maps and lists/ }], name);
    t.notMatch(JSON.stringify(parsed.errors), /call stack/, `${name}: no stack overflow`);
  }
  // At the limit, 500 levels (the document's map, the map under it, 498 more): read, by both readers.
  for (const [name, text] of [['at-limit-flow.yaml', nestedFlow(498)], ['at-limit-block.yaml', nestedBlock(498)]] as const) {
    const parsed = readBoth(t, text, name);
    t.same(parsed.errors, [], name);
    t.equal(parsed.objects.length, 1, name);
  }
  const dir = tempDir();
  writeFileSync(join(dir, 'deep.yaml'), nestedFlow(3000));
  const run = await runCli(['audit', join(dir, 'deep.yaml')]);
  t.equal(run.code, 2);
  t.match(run.stdout, /deep\.yaml:5 \(document 1\): document is nested too deeply: more than 500 levels/);
  const policy = join(dir, 'deep-policy.yaml');
  writeFileSync(policy, `apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules: ${'['.repeat(3000)}${']'.repeat(3000)}\n`);
  const withPolicy = await runCli(['audit', '--policy', policy, join(dir, 'deep.yaml')]);
  t.equal(withPolicy.code, 2);
  t.match(withPolicy.stderr, `invalid policy ${policy}:\n  line 3: the document is nested too deeply`);
});

t.test('an alias bomb in --policy names the policy file', async (t) => {
  const dir = tempDir();
  const policy = join(dir, 'bomb.yaml');
  const levels = Array.from({ length: 8 }, (_, level) => `b${level}: &b${level} [${Array.from({ length: 9 }, () => (level === 0 ? '*a' : `*b${level - 1}`)).join(', ')}]`);
  writeFileSync(policy, `apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\na: &a [x, x, x, x, x, x, x, x, x]\n${levels.join('\n')}\n`);
  const run = await runCli(['audit', '--policy', policy, join(TEST_DIR, 'fixtures', 'rules', 'grace-period', 'pass-long.yaml')]);
  t.equal(run.code, 2);
  t.match(run.stderr, `invalid policy ${policy}:\n  too many YAML alias expansions`);
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
});

t.test('fix joining several files with byte-order marks on stdout keeps only the first mark: one valid stream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-bom-join-'));
  const files = ['a', 'b'].map((name) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `\uFEFFapiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`);
    return file;
  });
  const { runCli } = await import('./helpers/run-cli.js');
  const run = await runCli(['fix', ...files, '--allow-empty']);
  t.equal(run.stdout.split('\uFEFF').length - 1, 1, 'one mark, at the start');
  const joined = parseManifest(run.stdout, '-');
  t.same(joined.errors, []);
  t.same(joined.objects.map((source) => (source.object['metadata'] as { name: string }).name), ['a', 'b'], 'both objects, names intact');
});
