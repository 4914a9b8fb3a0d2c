import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RULES } from '../src/rules/index.js';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { fixture, FIXTURES, TEST_DIR } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';

const GOOD = join(FIXTURES, 'rules', 'readiness-probe', 'pass-probe.yaml');
const BAD = join(FIXTURES, 'admission', 'web-no-probes.yaml');
const WARN_ONLY = join(FIXTURES, 'rules', 'min-replicas', 'fail-one-replica.yaml');
const CLI = join(TEST_DIR, '..', 'dist', 'cli.js');

t.test('exit codes: 0 clean, 1 findings at --fail-on, 2 usage or unreadable input', async (t) => {
  t.equal((await runCli(['audit', GOOD])).code, 0);
  t.equal((await runCli(['audit', BAD])).code, 1);
  t.equal((await runCli(['audit', WARN_ONLY])).code, 0, 'warnings pass at the default --fail-on error');
  t.equal((await runCli(['audit', WARN_ONLY, '--fail-on', 'warning'])).code, 1);
  t.equal((await runCli(['audit', BAD, '--fail-on', 'never'])).code, 0);
  t.equal((await runCli(['audit'])).code, 2);
  t.equal((await runCli(['audit', GOOD, '--output', 'yaml'])).code, 2);
  t.equal((await runCli(['audit', GOOD, '--bogus'])).code, 2);
  t.equal((await runCli(['frobnicate'])).code, 2);
  const missing = await runCli(['audit', GOOD, '/no/such/file.yaml']);
  t.equal(missing.code, 2);
  t.match(missing.stdout, /\/no\/such\/file.yaml: cannot read: no such file or directory/);
  t.match(missing.stdout, /1 workload\(s\)/, 'the readable input is still audited');
});

t.test('warn and audit modes report but do not fail', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nnamespaces:\n  - names: ["*"]\n    mode: warn\n');
  const run = await runCli(['audit', BAD, '--policy', policy]);
  t.equal(run.code, 0);
  t.match(run.stdout, /readiness-probe \[warn\]/);
});

t.test('a bad policy file is explained and exits 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules:\n  prestop-delay: {secs: 3}\n');
  const run = await runCli(['audit', GOOD, '--policy', policy]);
  t.equal(run.code, 2);
  t.match(run.stderr, /policy\.yaml[\s\S]*rules\.prestop-delay: unknown key "secs"/);
});

t.test('text output: grouped by file and object, colour only on a TTY without NO_COLOR', async (t) => {
  const plain = await runCli(['audit', BAD]);
  t.match(plain.stdout, /web-no-probes\.yaml\n {2}Deployment web \(document 1, line 1\)\n {4}error {3}readiness-probe: container "web"/);
  t.match(plain.stdout, /fix: sets lifecycle\.preStop\.sleep\.seconds: 10 on container "web"/);
  t.notMatch(plain.stdout, /\u001b\[/);
  t.match((await runCli(['audit', BAD], { tty: true })).stdout, /\u001b\[31merror/);
  t.notMatch((await runCli(['audit', BAD], { tty: true, env: { NO_COLOR: '1' } })).stdout, /\u001b\[/);
});

t.test('other kinds are counted and reported as skipped', async (t) => {
  const run = await runCli(['audit', join(FIXTURES, 'corpus', 'istio')]);
  t.match(run.stdout, /Skipped 8 object\(s\) that are not apps\/v1 Deployments, StatefulSets, DaemonSets or Argo Rollouts: Service ×4, ServiceAccount ×4/);
});

t.test('stdin, directories, and files together', async (t) => {
  const run = await runCli(['audit', '-', join(FIXTURES, 'rules', 'grace-period'), '--output', 'json'], { stdin: fixture('admission', 'web-no-probes.yaml') });
  const report = JSON.parse(run.stdout);
  t.equal(report.results[0].file, '-');
  t.ok(report.results.length >= 7);
});

t.test('fix to stdout: several inputs become one YAML stream; broken input prints nothing', async (t) => {
  const run = await runCli(['fix', BAD, GOOD]);
  t.equal(run.code, 0);
  t.match(run.stdout, /seconds: 10\n---\napiVersion: apps\/v1/);
  // 3 unfixable on the bad Deployment, plus disruption-budget on the good one: two files are a context.
  t.match(run.stderr, /applied 1 fix\(es\); 4 finding\(s\) need a human/);
  const broken = await runCli(['fix', BAD, '-'], { stdin: 'kind: [' });
  t.equal(broken.code, 2);
  t.equal(broken.stdout, '');
  t.match(broken.stderr, /-:1:\d+ \(document 1\): YAML syntax error/);
  t.equal((await runCli(['fix', '-', '--in-place'])).code, 2);
  // A file opening with a directive may only follow a document ended by `...` (YAML 1.2, l-document-suffix).
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-'));
  writeFileSync(join(dir, 'directive.yaml'), `# pinned\n%YAML 1.2\n---\n${readFileSync(GOOD, 'utf8')}`);
  const joined = await runCli(['fix', BAD, join(dir, 'directive.yaml')]);
  t.equal(joined.code, 0);
  const { parseAllDocuments } = await import('yaml');
  const documents = parseAllDocuments(joined.stdout);
  t.same(documents.flatMap((document) => document.errors.map((error) => error.message)), [], 'the stream parses');
  t.same(documents.map((document) => (document.toJS() as { kind?: string } | null)?.kind), ['Deployment', 'Deployment']);
});

t.test('fix --in-place rewrites only changed files, atomically, keeping the mode', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-'));
  copyFileSync(BAD, join(dir, 'bad.yaml'));
  copyFileSync(GOOD, join(dir, 'good.yaml'));
  chmodSync(join(dir, 'bad.yaml'), 0o640);
  const goodBefore = statSync(join(dir, 'good.yaml')).mtimeMs;
  const run = await runCli(['fix', '--in-place', dir]);
  t.equal(run.code, 0);
  t.match(readFileSync(join(dir, 'bad.yaml'), 'utf8'), /preStop:\n\s+sleep:\n\s+seconds: 10/);
  t.equal(statSync(join(dir, 'bad.yaml')).mode & 0o777, 0o640);
  t.equal(statSync(join(dir, 'good.yaml')).mtimeMs, goodBefore, 'unchanged file not rewritten');
  t.same(readdirSync(dir).sort(), ['bad.yaml', 'good.yaml'], 'no temporary files left');
  const second = await runCli(['fix', '--in-place', dir]);
  t.match(second.stderr, /applied 0 fix/);
});

t.test('fix --in-place never writes a file it could not fully read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-'));
  const text = `${fixture('admission', 'web-no-probes.yaml')}---\nkind: [\n`;
  writeFileSync(join(dir, 'mixed.yaml'), text);
  const run = await runCli(['fix', '--in-place', join(dir, 'mixed.yaml')]);
  t.equal(run.code, 2);
  t.equal(readFileSync(join(dir, 'mixed.yaml'), 'utf8'), text);
});

t.test('an empty input is no pass (issue 29): audit and fix exit 2 unless --allow-empty', async (t) => {
  for (const stdin of ['', '\n', '# only a comment\n---\n']) {
    const audit = await runCli(['audit', '-'], { stdin });
    t.equal(audit.code, 2, `audit of ${JSON.stringify(stdin)}`);
    t.match(audit.stdout + audit.stderr, /no Kubernetes object in the input/);
    t.equal((await runCli(['fix', '-'], { stdin })).code, 2, `fix of ${JSON.stringify(stdin)}`);
    t.equal((await runCli(['audit', '-', '--allow-empty'], { stdin })).code, 0, 'unless asked');
    t.equal((await runCli(['fix', '-', '--allow-empty'], { stdin })).code, 0);
  }
  // Objects that are no workloads are an input that was judged: nothing to fail.
  t.equal((await runCli(['audit', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' })).code, 0);
});

t.test('rules and policy commands', async (t) => {
  const rules = await runCli(['rules']);
  for (const id of ['readiness-probe', 'probe-port', 'probes-identical', 'prestop-delay', 'grace-period', 'rollout-strategy', 'min-replicas', 'disruption-budget', 'node-spread']) {
    t.match(rules.stdout, new RegExp(`^${id} `, 'm'));
  }
  const json = JSON.parse((await runCli(['rules', '--output', 'json'])).stdout);
  t.match(json.find((rule: { id: string }) => rule.id === 'grace-period'), { defaultSeverity: 'error', fixable: true, defaultMode: 'enforce' });
  const printed = await runCli(['policy', '--print-default']);
  t.match(printed.stdout, /^apiVersion: rollsafe.dev\/v1alpha1\nkind: Policy/);
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-'));
  writeFileSync(join(dir, 'p.yaml'), printed.stdout);
  t.equal((await runCli(['policy', '--check', join(dir, 'p.yaml')])).code, 0);
  t.equal((await runCli(['policy'])).code, 2);
  t.match((await runCli(['--version'])).stdout, /^\d+\.\d+\.\d+\n$/);
});

t.test('the built binary: stdin pipe, exit code, and no fastify or client-node on the audit path', async (t) => {
  const run = spawnSync(process.execPath, [CLI, 'audit', '-', '--output', 'json'], { input: readFileSync(BAD), encoding: 'utf8' });
  t.equal(run.status, 1, run.stderr);
  t.equal(JSON.parse(run.stdout).summary.errors, 3);
  // Cold start: walk the static import graph of the CLI; `serve` may only be reached by dynamic import.
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
      if (specifier?.startsWith('.')) visit(join(file, '..', specifier));
      else if (specifier) packages.add(specifier);
    }
  };
  // The CLI loads each command when it runs; the audit command's own static graph is what `audit` loads.
  visit(CLI);
  visit(join(CLI, '..', 'commands', 'audit.js'));
  t.ok(seen.size > 10, 'walked the graph');
  t.notOk([...packages].some((name) => /fastify|client-node|pino|prom-client|^ajv|^diff/.test(name)), [...packages].join(', '));
});

t.test('an input named twice is read once; a directory without manifests is an input error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-inputs-'));
  copyFileSync(BAD, join(dir, 'web.yaml'));
  const twice = JSON.parse((await runCli(['audit', join(dir, 'web.yaml'), join(dir, 'web.yaml'), dir, '--output', 'json'])).stdout);
  t.equal(twice.summary.objects, 1, 'the same file via two arguments and its directory: one object');
  const empty = mkdtempSync(join(tmpdir(), 'rollsafe-empty-'));
  const run = await runCli(['audit', empty]);
  t.equal(run.code, 2, 'a path with nothing to audit fails, so a typo cannot pass CI');
  t.match(run.stdout, /no manifest files \(\*\.yaml, \*\.yml, \*\.json\) in this directory/);
});

t.test('every command has --help: its usage on stdout, exit 0', async (t) => {
  for (const command of ['audit', 'fix', 'rules', 'policy', 'serve']) {
    for (const flag of ['--help', '-h']) {
      const run = await runCli([command, flag]);
      t.equal(run.code, 0, `${command} ${flag}`);
      t.match(run.stdout, new RegExp(`^Usage: rollsafe ${command}`), `${command} ${flag}`);
    }
  }
  t.match((await runCli(['audit', '--help'])).stdout, /--request-timeout/);
});

t.test('fix --in-place through a symlink rewrites the target and keeps the link', async (t) => {
  const { lstatSync, readlinkSync, symlinkSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-link-'));
  const target = join(dir, 'real.yaml');
  copyFileSync(BAD, target);
  const link = join(dir, 'link.yaml');
  symlinkSync('real.yaml', link);
  const run = await runCli(['fix', '--in-place', link]);
  t.equal(run.code, 0, run.stderr);
  t.ok(lstatSync(link).isSymbolicLink(), 'still a link');
  t.equal(readlinkSync(link), 'real.yaml');
  t.match(readFileSync(target, 'utf8'), /preStop/, 'the target was fixed');
  t.same(readdirSync(dir).sort(), ['link.yaml', 'real.yaml'], 'no temporary file left');
});

t.test('a workload kind under another apiVersion is skipped with the reason', async (t) => {
  const stdin = 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: old}\nspec: {template: {spec: {containers: [{name: a, image: a}]}}}\n';
  const report = JSON.parse((await runCli(['audit', '-', '--output', 'json'], { stdin })).stdout);
  t.match(report.skipped, [{ apiVersion: 'extensions/v1beta1', kind: 'Deployment', name: 'old', reason: /not apps\/v1/ }]);
  const configMap = JSON.parse((await runCli(['audit', '-', '--output', 'json'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' })).stdout);
  t.notOk(configMap.skipped[0].reason, 'other kinds need no reason');
});

t.test('the fix summary counts only what was written', async (t) => {
  const unreadable = await runCli(['fix', BAD, '/no/such/file.yaml']);
  t.equal(unreadable.code, 2);
  t.equal(unreadable.stdout, '', 'nothing on standard output');
  t.match(unreadable.stderr, /applied 0 fix\(es\); nothing written because an input is unreadable/);
  const fine = await runCli(['fix', BAD]);
  t.match(fine.stderr, /applied [1-9]\d* fix\(es\)/);
});

t.test('--kubernetes-version and --disable without a policy file', async (t) => {
  const old = await runCli(['fix', BAD, '--kubernetes-version', '1.28']);
  t.match(old.stdout, /command:\s*\n\s*- sleep/, 'before 1.30 the fix uses exec sleep');
  t.notMatch(old.stdout, /sleep:\s*\n\s*seconds/);
  const fewer = JSON.parse((await runCli(['audit', BAD, '--disable', 'readiness-probe', '--disable', 'min-replicas', '--output', 'json'])).stdout);
  const rules = fewer.results[0].findings.map((finding: { rule: string }) => finding.rule);
  t.notOk(rules.includes('readiness-probe') || rules.includes('min-replicas'), 'disabled rules do not run');
  t.ok(rules.includes('prestop-delay'));
  const typo = await runCli(['audit', BAD, '--disable', 'readiness']);
  t.equal(typo.code, 2);
  t.match(typo.stderr, /unknown rule "readiness" \(did you mean "readiness-probe"\?\)/);
  const badVersion = await runCli(['audit', BAD, '--kubernetes-version', '2.0']);
  t.equal(badVersion.code, 2);
  t.match(badVersion.stderr, /--kubernetes-version must be a Kubernetes version such as 1\.30 or v1\.34\.2 \(got "2\.0"\)/);
});

t.test('fix keeps the file\'s own conventions: CRLF line ends, compact JSON, a leading ---', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-style-'));
  const crlf = join(dir, 'crlf.yaml');
  writeFileSync(crlf, readFileSync(BAD, 'utf8').replace(/\n/g, '\r\n'));
  const fixedCrlf = (await runCli(['fix', crlf])).stdout;
  t.ok(fixedCrlf.includes('preStop'), 'fixed');
  t.notMatch(fixedCrlf, /[^\r]\n/, 'every line ends in CRLF, inserted ones too');
  const compact = join(dir, 'compact.json');
  const { parse } = await import('yaml');
  writeFileSync(compact, JSON.stringify(parse(readFileSync(BAD, 'utf8'))));
  const fixedJson = (await runCli(['fix', compact])).stdout;
  t.equal(fixedJson.trim().split('\n').length, 1, 'compact JSON stays on one line');
  t.match(JSON.parse(fixedJson), { spec: { template: { spec: { containers: [{ lifecycle: { preStop: { sleep: { seconds: 10 } } } }] } } } });
  const leading = join(dir, 'leading.yaml');
  writeFileSync(leading, `---\n${readFileSync(BAD, 'utf8')}`);
  const both = (await runCli(['fix', BAD, leading])).stdout;
  t.notMatch(both, /---\n---/, 'no doubled separator');
  t.equal(both.match(/^---$/gm)?.length, 1, 'one separator between the two files');
});

t.test('hidden directories are passed over with a note, and read when named', async (t) => {
  const { mkdirSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-hidden-'));
  mkdirSync(join(dir, '.deploy'));
  copyFileSync(BAD, join(dir, '.deploy', 'web.yaml'));
  copyFileSync(GOOD, join(dir, 'good.yaml'));
  const run = await runCli(['audit', dir, '--output', 'json']);
  t.match(run.stderr, /skipped hidden directory .*\.deploy \(name it to include it\)/);
  t.equal(JSON.parse(run.stdout).summary.objects, 1);
  const named = await runCli(['audit', join(dir, '.deploy'), '--output', 'json']);
  t.equal(JSON.parse(named.stdout).summary.objects, 1, 'named, it is read');
  t.equal(named.code, 1);
});

t.test('fix --diff prints a unified diff that applies to the original, and writes nothing', async (t) => {
  const { applyPatch, parsePatch } = await import('diff');
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-diff-'));
  const file = join(dir, 'web.yaml');
  copyFileSync(BAD, file);
  const before = readFileSync(file, 'utf8');
  const diff = await runCli(['fix', '--diff', file, GOOD]);
  t.equal(diff.code, 0);
  t.equal(readFileSync(file, 'utf8'), before, 'nothing written');
  const patches = parsePatch(diff.stdout);
  t.equal(patches.length, 1, 'only the file that changes');
  t.match(patches[0]?.oldFileName, /^a\/.*web\.yaml$/);
  const fixed = (await runCli(['fix', file])).stdout;
  t.equal(applyPatch(before, patches[0]!), fixed, 'the diff turns the original into what fix prints');
  t.match(diff.stderr, /the diff applies [1-9]\d* fix\(es\)/);
  t.equal((await runCli(['fix', '--diff', '--in-place', file])).code, 2, '--diff and --in-place exclude each other');
});

t.test('context does not depend on unrelated objects: a Deployment alone, beside a ConfigMap, or from stdin, is judged the same', async (t) => {
  const deployment = fixture('rules', 'disruption-budget', 'fail-alone-in-the-input.yaml');
  const rules = async (stdin: string) => JSON.parse((await runCli(['audit', '-', '--output', 'json'], { stdin })).stdout).results[0].findings.map((finding: { rule: string }) => finding.rule);
  const alone = await rules(deployment);
  t.ok(alone.includes('disruption-budget'), 'no PDB in the input: reported');
  t.same(await rules(`${deployment}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n`), alone, 'a ConfigMap beside it changes nothing');
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-alone-'));
  writeFileSync(join(dir, 'd.yaml'), deployment);
  const fromFile = JSON.parse((await runCli(['audit', join(dir, 'd.yaml'), '--output', 'json'])).stdout).results[0].findings.map((finding: { rule: string }) => finding.rule);
  t.same(fromFile, alone, 'a file and stdin alike');
});

t.test('--disable turns a rule off in namespace overrides too; --diff names apply with patch -p1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-disable-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nnamespaces:\n  - names: ["*"]\n    rules:\n      prestop-delay: {mode: enforce}\n');
  const report = JSON.parse((await runCli(['audit', BAD, '--policy', policy, '--disable', 'prestop-delay', '--output', 'json'])).stdout);
  t.notOk(report.results[0].findings.some((finding: { rule: string }) => finding.rule === 'prestop-delay'));
  const spaced = join(dir, 'my file.yaml');
  copyFileSync(BAD, spaced);
  const diff = (await runCli(['fix', '--diff', spaced])).stdout;
  t.match(diff, /^--- a\/\S.*my file\.yaml\t\n\+\+\+ b\/.*my file\.yaml\t\n@@ /, 'names end with a tab, as diff -u writes them');
  t.notMatch(diff, /^--- a\/\//m, 'no absolute path after a/');
});

t.test('symlinked directories are noted, not followed; JSON keeps tabs and CRLF', async (t) => {
  const { mkdirSync, symlinkSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-symdir-'));
  mkdirSync(join(dir, 'real'));
  copyFileSync(BAD, join(dir, 'real', 'web.yaml'));
  mkdirSync(join(dir, 'top'));
  symlinkSync('../real', join(dir, 'top', 'linked'));
  const run = await runCli(['audit', join(dir, 'top')]);
  t.match(run.stderr, /skipped symlinked directory .*linked \(name it to include it\)/);
  const { parse } = await import('yaml');
  const object = parse(readFileSync(BAD, 'utf8'));
  const tabbed = join(dir, 'tab.json');
  writeFileSync(tabbed, `${JSON.stringify(object, null, '\t').replace(/\n/g, '\r\n')}\r\n`);
  const fixed = (await runCli(['fix', tabbed])).stdout;
  t.match(fixed, /^\{\r\n\t"apiVersion"/, 'tabs and CRLF kept');
  t.notMatch(fixed, /[^\r]\n/, 'every line ends in CRLF');
  t.match(JSON.parse(fixed), { spec: { template: { spec: { containers: [{ lifecycle: { preStop: { sleep: { seconds: 10 } } } }] } } } });
});

t.test('a reader that closes the pipe early ends the CLI quietly (exit 141, as SIGPIPE), never with a stack trace', async (t) => {
  const cli = join(TEST_DIR, '..', 'dist', 'cli.js');
  // `| head -c 1`: the shell closes the pipe after one byte while export is still writing.
  const run = spawnSync('bash', ['-c', `node ${JSON.stringify(cli)} export | head -c 1 >/dev/null; exit \${PIPESTATUS[0]}`], { encoding: 'utf8' });
  t.equal(run.status, 141);
  t.equal(run.stderr, '', 'nothing on stderr');
});

t.test('rollsafe export: usage errors and what the stream says of itself', async (t) => {
  const old = await runCli(['export', '--kubernetes-version', '1.29']);
  t.equal(old.code, 2);
  t.match(old.stderr, /ValidatingAdmissionPolicy v1 needs Kubernetes 1\.30 or later; the policy targets 1\.29/);
  t.equal((await runCli(['export', '--name', 'Not_A_Name'])).code, 2, '--name must make valid object names');
  t.equal((await runCli(['export', 'k8s/'])).code, 2, 'export takes no paths');
  t.equal((await runCli(['export', '--exclude-namespace', 'Not A Namespace'])).code, 2, '--exclude-namespace takes namespace names');
  const excluded = parseAllDocuments((await runCli(['export', '--exclude-namespace', 'platform', '--exclude-namespace', 'kube-system'])).stdout).map((doc) => doc.toJS() as { kind: string; spec: { matchConstraints?: { namespaceSelector: { matchExpressions: Array<{ key: string; values: string[] }> } } } });
  for (const object of excluded.filter((candidate) => candidate.kind === 'ValidatingAdmissionPolicy')) {
    t.strictSame(object.spec.matchConstraints?.namespaceSelector.matchExpressions[0]?.values, ['kube-system', 'kube-node-lease', 'rollsafe-system', 'platform'], 'excluded besides the defaults, once each');
  }
  t.match((await runCli(['export', '--help'])).stdout, /Usage: rollsafe export/);
  t.match((await runCli(['export', '--help'])).stdout, /--rollouts/);
  const withRollouts = parseAllDocuments((await runCli(['export', '--rollouts', '--kubernetes-version', '1.36'])).stdout).map((doc) => doc.toJS() as { kind: string; spec: { matchConstraints?: { resourceRules: Array<{ apiGroups: string[]; resources: string[] }> } } });
  const rolloutPolicies = withRollouts.filter((object) => object.spec.matchConstraints);
  t.equal(rolloutPolicies.length, 4, 'the mutating policy and the Deny, Warn and Audit validating policies');
  for (const policy of rolloutPolicies) t.ok(policy.spec.matchConstraints!.resourceRules.some((rule) => rule.apiGroups.includes('argoproj.io') && rule.resources.includes('rollouts')), `--rollouts: ${policy.kind} matches Rollouts`);
  const plain = await runCli(['export']);
  const auditOnly = RULES.filter((rule) => rule.needsContext).map((rule) => rule.id);
  t.ok(plain.stdout.includes(`\n# Audit only (they need other objects, which no admission request carries): ${auditOnly.join(', ')}.\n`), 'the rules that need context are named');
  t.match(plain.stdout, /^# No fixes before Kubernetes 1\.36/m);
  t.notMatch(plain.stdout, /kind: MutatingAdmissionPolicy/);
  const disabled = await runCli(['export', '--disable', 'min-replicas', '--kubernetes-version', '1.36']);
  t.match(disabled.stdout, /kind: MutatingAdmissionPolicy\n/);
  t.match(disabled.stdout, /variables\.mode_min_replicas/, 'a disabled rule is still compiled, with mode off');
  const policies = parseAllDocuments(disabled.stdout).map((doc) => doc.toJS() as { kind: string; spec: { variables: Array<{ name: string; expression: string }> } });
  const mode = policies[0]?.spec.variables.find((variable) => variable.name === 'mode_min_replicas');
  t.match(mode?.expression, /: \("off"\)$/, 'its mode is off everywhere');
});

t.test('rollsafe export --namespace and --namespace-selector (issue 29): the policies judge only those namespaces', async (t) => {
  type Requirement = { key: string; operator: string; values?: string[] };
  type Exported = { kind: string; spec: { matchConstraints?: { namespaceSelector: { matchExpressions: Requirement[] } } } };
  const selectors = async (args: string[]) => {
    const run = await runCli(['export', '--kubernetes-version', '1.36', ...args]);
    t.equal(run.code, 0, run.stderr);
    const policies = parseAllDocuments(run.stdout)
      .map((doc) => doc.toJS() as Exported)
      .filter((object) => object.kind === 'ValidatingAdmissionPolicy' || object.kind === 'MutatingAdmissionPolicy');
    t.equal(policies.length, 4, 'every policy, the mutating one included');
    const [first, ...rest] = policies.map((policy) => policy.spec.matchConstraints?.namespaceSelector.matchExpressions);
    for (const other of rest) t.strictSame(other, first, 'the same namespaces for each');
    return { expressions: first, stdout: run.stdout };
  };
  const always = { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-node-lease', 'rollsafe-system'] };
  const modeLabel = { key: 'rollsafe.dev/mode', operator: 'NotIn', values: ['off', ''] };

  const named = await selectors(['--namespace', 'trial', '-n', 'trial-2', '-n', 'trial']);
  t.strictSame(named.expressions, [always, { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['trial', 'trial-2'] }, modeLabel]);
  t.match(named.stdout, /^# Only namespaces named trial, trial-2 are judged\.$/m);

  const labelled = await selectors(['--namespace-selector', 'team=web, tier in (a,b,a),stage notin (x), !legacy ,trial, env!=prod,k==v,empty=']);
  t.strictSame(labelled.expressions, [
    always,
    modeLabel,
    { key: 'team', operator: 'In', values: ['web'] },
    { key: 'tier', operator: 'In', values: ['a', 'b'] },
    { key: 'stage', operator: 'NotIn', values: ['x'] },
    { key: 'legacy', operator: 'DoesNotExist' },
    { key: 'trial', operator: 'Exists' },
    { key: 'env', operator: 'NotIn', values: ['prod'] },
    { key: 'k', operator: 'In', values: ['v'] },
    { key: 'empty', operator: 'In', values: [''] },
  ]);
  t.match(labelled.stdout, /^# Only namespaces labelled team=web,tier in \(a,b\),stage!=x,!legacy,trial,env!=prod,k=v,empty= are judged\.$/m);

  // Both: a namespace must be named and match; keywords are plain values where a value goes (as kubectl reads them).
  const both = await selectors(['-n', 'trial', '--exclude-namespace', 'platform', '--namespace-selector', 'example.com/in=in,notin in (notin, in)']);
  t.strictSame(both.expressions, [
    { ...always, values: [...always.values, 'platform'] },
    { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['trial'] },
    modeLabel,
    { key: 'example.com/in', operator: 'In', values: ['in'] },
    { key: 'notin', operator: 'In', values: ['notin', 'in'] },
  ]);
  t.match(both.stdout, /^# Only namespaces named trial and labelled example\.com\/in=in,notin in \(notin,in\) are judged\.$/m);

  const unrestricted = await selectors([]);
  t.strictSame(unrestricted.expressions, [always, modeLabel], 'without the flags, every namespace but the excluded ones');
  t.notMatch(unrestricted.stdout, /^# Only namespaces/m);

  // Usage errors: exit 2, nothing on stdout, the flag and the bad part named.
  const refused: Array<[string[], RegExp]> = [
    [['--namespace', 'Not_A_Namespace'], /--namespace: "Not_A_Namespace" is no namespace name/],
    [['-n', 'web', '--exclude-namespace', 'web'], /--namespace and --exclude-namespace both name web/],
    [['-n', 'kube-system'], /--namespace kube-system: kube-system, kube-node-lease and rollsafe-system are never judged/],
    [['--namespace-selector', 'a=b', '--namespace-selector', 'c=d'], /--namespace-selector is given once: join its requirements with ","/],
    [['--namespace-selector', ''], /--namespace-selector "": is empty/],
    [['--namespace-selector', 'env in prod'], /--namespace-selector "env in prod": expected "\(" after "in", found "prod" \(at character 8\)/],
    [['--namespace-selector', 'env in (a,,b)'], /--namespace-selector "env in \(a,,b\)": expected a label value in "in \(\.\.\.\)" .*found ","/],
    [['--namespace-selector', 'env in ()'], /found "\)" \(at character 9\)/],
    [['--namespace-selector', 'env in (a'], /expected "," or "\)" in "in \(\.\.\.\)", found the end/],
    [['--namespace-selector', 'env in (a b)'], /expected "," or "\)" in "in \(\.\.\.\)", found "b"/],
    [['--namespace-selector', 'replicas>2'], /--namespace-selector "replicas>2": ">" compares numbers in kubectl's -l, but a namespaceSelector \(a LabelSelector\) has no such operator \(at character 9\)/],
    [['--namespace-selector', 'a=b,'], /expected a requirement after ","/],
    [['--namespace-selector', ',a=b'], /expected a label key, found ","/],
    [['--namespace-selector', 'a=b c=d'], /expected "," or the end after a requirement, found "c"/],
    [['--namespace-selector', '!a=b'], /"!a" selects namespaces without the label and takes no operator; found "="/],
    [['--namespace-selector', 'a=(b)'], /expected a label value after "=", found "\("/],
    [['--namespace-selector', 'team eq web'], /expected "=", "==", "!=", "in" or "notin" after "team", found "eq"/],
    [['--namespace-selector=-team=web'], /label key "-team" must be/],
    [['--namespace-selector', 'Example.com/team=web'], /the prefix of label key "Example\.com\/team" must be a lower-case DNS subdomain/],
    [['--namespace-selector', `team=${'x'.repeat(64)}`], /label value "x{64}" must be at most 63/],
    [['--namespace-selector', 'team=a/b'], /label value "a\/b" must be/],
  ];
  for (const [args, message] of refused) {
    const run = await runCli(['export', ...args]);
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, message, args.join(' '));
    t.equal(run.stdout, '', `${args.join(' ')}: nothing printed`);
  }
  const help = (await runCli(['export', '--help'])).stdout;
  t.match(help, /-n, --namespace NS/);
  t.match(help, /--namespace-selector SEL/);
});
