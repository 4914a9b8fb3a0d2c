import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { RULE_IDS } from '../src/rules/index.js';
import { FIXTURES } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';

const BAD = join(FIXTURES, 'admission', 'web-no-probes.yaml');
const EXEMPT = join(FIXTURES, 'rules', 'exemption', 'pass-with-reason.yaml');
const SERVICE = join(FIXTURES, 'rules', 'readiness-probe', 'fail-selected-by-service.yaml');

t.test('JSON report: the documented stable shape', async (t) => {
  const run = await runCli(['audit', BAD, EXEMPT, SERVICE, '--output', 'json']);
  const report = JSON.parse(run.stdout);
  t.same(Object.keys(report), ['summary', 'results', 'skipped', 'inputErrors']);
  t.same(Object.keys(report.summary), ['objects', 'skipped', 'errors', 'warnings', 'infos', 'exempt']);
  t.equal(report.summary.objects, 3);
  t.equal(report.summary.skipped, 1, 'the Service');
  t.ok(report.summary.exempt >= 1);
  for (const result of report.results) {
    t.same(Object.keys(result), ['file', 'document', 'line', 'kind', 'namespace', 'name', 'findings']);
    for (const finding of result.findings) {
      t.same(Object.keys(finding).slice(0, 6), ['rule', 'severity', 'mode', 'container', 'message', 'fix']);
    }
  }
  const exempt = report.results.find((r: { file: string }) => r.file === EXEMPT).findings.find((f: { rule: string }) => f.rule === 'min-replicas');
  t.same(exempt.exempt, { reason: 'singleton leader; see ADR-12' });
  const errors = report.results.flatMap((r: { findings: Array<{ severity: string; exempt?: unknown }> }) => r.findings).filter((f: { severity: string; exempt?: unknown }) => f.severity === 'error' && !f.exempt);
  t.equal(report.summary.errors, errors.length, 'summary counts agree with the findings');
  t.match(report.skipped, [{ kind: 'Service', name: 'legacy', document: 1 }]);
});

t.test('JSON report lists input errors and still the rest', async (t) => {
  const run = await runCli(['audit', BAD, '-', '--output', 'json'], { stdin: 'apiVersion: v1\nkind: [\n' });
  t.equal(run.code, 2);
  const report = JSON.parse(run.stdout);
  t.equal(report.summary.objects, 1);
  t.match(report.inputErrors, [{ file: '-', document: 1, line: Number, message: /YAML syntax error/ }]);
  t.match(run.stderr, /rollsafe: -:\d+:\d+: YAML syntax error/);
});

// Our transcription of the SARIF 2.1.0 spec's constraints for what we emit (see its $comment).
const SARIF_SCHEMA = join(FIXTURES, 'schemas', 'sarif-2.1.0-subset.schema.json');

t.test('SARIF 2.1.0: valid against the schema, rules and locations filled', async (t) => {
  const run = await runCli(['audit', BAD, EXEMPT, '-', '--output', 'sarif'], { stdin: 'kind: [\n' });
  const log = JSON.parse(run.stdout);
  t.equal(log.version, '2.1.0');
  const [sarifRun] = log.runs;
  const ruleIds = sarifRun.tool.driver.rules.map((rule: { id: string }) => rule.id);
  t.same(ruleIds, [...RULE_IDS, 'exemption'], 'every rule in the registry order, then the exemption pseudo-rule');
  for (const result of sarifRun.results) {
    t.equal(ruleIds[result.ruleIndex], result.ruleId, 'ruleIndex points at the rule');
    t.ok(['error', 'warning', 'note'].includes(result.level));
    t.ok(result.locations[0].physicalLocation.region.startLine >= 1);
  }
  t.ok(sarifRun.results.some((result: { suppressions?: unknown[] }) => result.suppressions?.length), 'exempt finding suppressed');
  // No public rule pages for a helpUri: the explanation `rollsafe rules ID` prints travels in the log instead.
  const prestop = sarifRun.tool.driver.rules.find((rule: { id: string }) => rule.id === 'prestop-delay');
  t.match(prestop.help.text, /Why: .*SIGTERM/s);
  t.match(prestop.help.markdown, /```yaml\napiVersion: apps\/v1/);
  t.equal(sarifRun.invocations[0].executionSuccessful, false);
  t.match(sarifRun.invocations[0].toolExecutionNotifications, [{ level: 'error', message: { text: /YAML syntax error/ } }]);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  // The schema must be able to fail: an invented property is refused.
  const validateProbe = new Ajv({ strict: false, validateFormats: false }).compile(JSON.parse(readFileSync(SARIF_SCHEMA, 'utf8')));
  t.notOk(validateProbe({ ...log, runs: [{ ...log.runs[0], bogus: 1 }] }), 'the schema refuses unknown properties');
  const validate = ajv.compile(JSON.parse(readFileSync(SARIF_SCHEMA, 'utf8')));
  t.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
});

t.test('JUnit: well-formed XML, one testcase per object and rule, failures follow --fail-on', async (t) => {
  const run = await runCli(['audit', BAD, EXEMPT, '--output', 'junit']);
  const xml = run.stdout;
  // Two workloads, a testcase for each rule.
  const cases = 2 * RULE_IDS.length;
  t.match(xml, new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<testsuites name="rollsafe" tests="${cases}" failures="3" errors="0">`));
  // Balanced tags and escaped text: the quotes in messages must be entities.
  t.equal((xml.match(/<testcase /g) ?? []).length, cases);
  t.equal((xml.match(/<\/testcase>/g) ?? []).length, cases);
  t.notMatch(xml, /message="[^"]*"[^ >/]/, 'attributes are closed properly');
  t.match(xml, /container &quot;web&quot;/);
  t.match(xml, /name="min-replicas" [^>]*><skipped message="exempt: singleton leader; see ADR-12"\/>/);
  const never = await runCli(['audit', BAD, '--output', 'junit', '--fail-on', 'never']);
  t.match(never.stdout, /failures="0"/);
  t.match(never.stdout, /<system-out>error \(web\): container &quot;web&quot;/);
  // The XML must parse: yaml cannot, so check with a strict tag matcher.
  const stack: string[] = [];
  for (const [, close, name, selfClose] of xml.matchAll(/<(\/?)([a-zA-Z-]+)[^>]*?(\/?)>/g)) {
    if (selfClose) continue;
    if (close) t.equal(stack.pop(), name);
    else stack.push(name as string);
  }
  t.same(stack, [], 'every element closed');
});

t.test('PolicyReport output: plain YAML, no anchors or aliases, read back by a default parser', async (t) => {
  const { parseAllDocuments } = await import('yaml');
  const run = await runCli(['audit', join(FIXTURES, 'admission', 'web-no-probes.yaml'), '--output', 'policyreport']);
  t.notMatch(run.stdout, /(^|\s)[&*][a-z0-9]+\b/m, 'no anchor or alias');
  const documents = parseAllDocuments(run.stdout);
  for (const document of documents) t.same(document.errors, []);
  const [report] = documents.map((document) => document.toJS({ maxAliasCount: 0 }));
  t.ok(report.results.length > 1);
  t.same(report.results[0].timestamp, report.results[1].timestamp, 'the shared timestamp written out in full each time');
});

t.test('SARIF: the level says whether a finding fails (warn mode at most warning, audit mode note); # and ? in paths are escaped', async (t) => {
  const { mkdtempSync, writeFileSync, copyFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-sarif-'));
  const file = join(dir, 'team#1?.yaml');
  copyFileSync(BAD, file);
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules:\n  readiness-probe: {mode: warn}\n  prestop-delay: {mode: audit}\n');
  const log = JSON.parse((await runCli(['audit', file, '--policy', policy, '--output', 'sarif'])).stdout);
  const results = log.runs[0].results;
  const level = (rule: string) => results.find((result: any) => result.ruleId === rule)?.level;
  t.equal(level('readiness-probe'), 'warning', 'an error in warn mode does not fail');
  t.equal(level('prestop-delay'), 'note', 'audit mode');
  t.equal(level('grace-period') ?? level('rollout-strategy'), 'error', 'enforced errors stay errors');
  t.match(results[0].locations[0].physicalLocation.artifactLocation.uri, /team%231%3F\.yaml$/);
});

t.test('JUnit: no two test cases share a classname and name', async (t) => {
  const doc = readFileSync(BAD, 'utf8');
  const stdin = `${doc}---\n${doc}---\nkind: [\n---\nkind: [\n`;
  const xml = (await runCli(['audit', '-', '--output', 'junit'], { stdin })).stdout;
  const keys = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((match) => `${match[1]} :: ${match[2]}`);
  t.ok(keys.length > 10);
  t.same(keys.filter((key, index) => keys.indexOf(key) !== index), [], 'unique');
  t.match(xml, /classname="Deployment\/web \(document 2\)"/);
  t.match(xml, /name="read \(document 3, line \d+\)"/);
});

t.test('compact and GitHub Actions outputs: one line per finding, errors only for what fails', async (t) => {
  const compact = await runCli(['audit', BAD, '-o', 'compact']);
  t.equal(compact.code, 1);
  const lines = compact.stdout.trimEnd().split('\n');
  t.ok(lines.length >= 3);
  for (const line of lines) t.match(line, /^\S+web-no-probes\.yaml:1: (error|warning|info)( \(\w+\))? \[[a-z-]+\] Deployment web: \S/);
  const github = await runCli(['audit', BAD, '-o', 'github', '--fail-on', 'error']);
  const annotations = github.stdout.trimEnd().split('\n');
  t.ok(annotations.every((line) => /^::(error|warning|notice) file=[^,]+,line=1,title=rollsafe [a-z-]+%3A Deployment web/.test(line)), github.stdout);
  t.ok(annotations.some((line) => line.startsWith('::error ') && line.includes('readiness-probe')));
  t.ok(annotations.some((line) => line.startsWith('::warning ') && line.includes('min-replicas')), 'a warning does not fail at --fail-on error');
  t.notMatch(github.stdout.trimEnd().replace(/\n(?=::)/g, ''), /\n/, 'messages never break the one-line format');
  const unreadable = await runCli(['audit', '-', '-o', 'github'], { stdin: 'kind: [\n' });
  t.match(unreadable.stdout, /^::error file=-,line=\d+,col=\d+,title=rollsafe%3A unreadable input::YAML syntax error/);
});
