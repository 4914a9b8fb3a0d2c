/**
 * `rollsafe audit --output openreports`: OpenReports Reports (openreports.io/v1alpha1), checked with ajv against
 * the Report CRD of the published module (test/fixtures/crds/openreports-v1alpha1-reports.yaml, its header says
 * which version), with the very results of the PolicyReport output; `--reports-api` as a flag; and the chart's
 * background scan choosing the API and its role. cluster-audit.test.ts applies the Reports to a real apiserver.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { auditFiles } from '../src/audit/audit.js';
import { parseManifest } from '../src/manifests/read.js';
import { defaultPolicy } from '../src/policy/load.js';
import { openReports } from '../src/reports/openreports.js';
import { policyReports } from '../src/reports/policy-report.js';
import { RULE_IDS } from '../src/rules/index.js';
import { binaryDirs } from './helpers/control-plane.js';
import { crdValidator } from './helpers/crd-schema.js';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';

type Obj = Record<string, any>;
const CRD = join(FIXTURES, 'crds', 'openreports-v1alpha1-reports.yaml');
const validate = crdValidator(CRD, 'v1alpha1');

const BAD = join(FIXTURES, 'admission', 'web-no-probes.yaml'); // no namespace: default
const EXEMPT = join(FIXTURES, 'rules', 'exemption', 'pass-with-reason.yaml'); // shop
const NO_REASON = join(FIXTURES, 'rules', 'exemption', 'fail-without-reason.yaml'); // shop
const INFO = join(FIXTURES, 'rules', 'prestop-delay', 'info-custom-hook.yaml');
const documents = (yaml: string): Obj[] => parseAllDocuments(yaml).map((document) => {
  if (document.errors.length > 0) throw new Error(String(document.errors[0]));
  return document.toJS({ maxAliasCount: 0 }) as Obj;
});

t.test('the CRD fixture is the Report CRD, and its schema, read as the apiserver prunes, can fail', async (t) => {
  const [crd, ...rest] = documents(readFileSync(CRD, 'utf8'));
  t.same(rest, [], 'one document: the header is a comment');
  t.match(crd, { kind: 'CustomResourceDefinition', metadata: { name: 'reports.openreports.io' }, spec: { group: 'openreports.io', scope: 'Namespaced', names: { kind: 'Report', plural: 'reports' } } });
  const report = { apiVersion: 'openreports.io/v1alpha1', kind: 'Report', metadata: { name: 'x', namespace: 'y' }, source: 'rollsafe', summary: { pass: 1 }, results: [{ policy: 'rollsafe', result: 'pass', severity: 'info', timestamp: { seconds: 1, nanos: 0 }, properties: { mode: 'enforce' } }] };
  t.equal(validate(report), undefined, 'a minimal report is valid');
  const result = report.results[0] as Obj;
  const refused: Array<[string, Obj, RegExp]> = [
    ['a field the API does not have, which the apiserver would prune', { ...report, results: [{ ...result, fixPreview: 'x' }] }, /additionalProperty/],
    ['a severity outside the enum', { ...report, results: [{ ...result, severity: 'warning' }] }, /\/results\/0\/severity must be equal to one of the allowed values/],
    ['a result outside the enum', { ...report, results: [{ ...result, result: 'ok' }] }, /\/results\/0\/result/],
    ['a result without its policy', { ...report, results: [{ result: 'pass' }] }, /must have required property 'policy'/],
    ['a property that is no string', { ...report, results: [{ ...result, properties: { replicas: 1 } }] }, /\/results\/0\/properties\/replicas must be string/],
    ['nanos beyond int32', { ...report, results: [{ ...result, timestamp: { seconds: 1, nanos: 2 ** 40 } }] }, /\/results\/0\/timestamp\/nanos must match format "int32"/],
    ['a summary count that is no integer', { ...report, summary: { pass: '1' } }, /\/summary\/pass must be integer/],
  ];
  for (const [what, object, message] of refused) t.match(validate(object), message, what);
});

t.test('-o openreports: one Report per namespace, valid against the CRD, counts that add up', async (t) => {
  const run = await runCli(['audit', BAD, EXEMPT, NO_REASON, '--output', 'openreports']);
  t.equal(run.code, 1, 'the exit code follows the findings, as for every format');
  t.notMatch(run.stdout, /(^|\s)[&*][a-z0-9]+\b/m, 'no anchor or alias');
  const reports = documents(run.stdout);
  t.same(reports.map((report) => [report.apiVersion, report.kind, report.metadata.name, report.metadata.namespace]), [
    ['openreports.io/v1alpha1', 'Report', 'rollsafe', 'default'],
    ['openreports.io/v1alpha1', 'Report', 'rollsafe', 'shop'],
  ], 'in the order the namespaces first appear');
  for (const report of reports) {
    t.equal(validate(report), undefined, `${report.metadata.namespace} is valid`);
    t.same(Object.keys(report), ['apiVersion', 'kind', 'metadata', 'source', 'summary', 'results']);
    t.equal(report.source, 'rollsafe');
    t.same(report.metadata.labels, { 'app.kubernetes.io/managed-by': 'rollsafe' });
    const counted: Obj = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
    for (const result of report.results) counted[result.result]++;
    t.same(report.summary, counted, `${report.metadata.namespace}: the summary counts the results`);
    t.ok(report.results.every((result: Obj) => result.resources.length === 1 && result.resources[0].namespace === report.metadata.namespace), 'every result names a workload of its namespace');
  }
  const web = reports[0]?.results ?? [];
  t.same(web.map((result: Obj) => result.rule), RULE_IDS, 'one result per rule, in the registry order');
  t.match(web.find((result: Obj) => result.rule === 'readiness-probe'), { result: 'fail', severity: 'high', source: 'rollsafe', policy: 'rollsafe', category: 'zero-downtime', scored: true, resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'default' }], properties: { mode: 'enforce', container: 'web' } });
  t.notOk('uid' in (web[0]?.resources[0] ?? {}), 'a file has no uid to name');
  const shop = reports[1]?.results ?? [];
  t.match(shop.find((result: Obj) => result.result === 'skip'), { rule: 'min-replicas', severity: 'medium', properties: { exemptReason: 'singleton leader; see ADR-12' } }, 'an exempt finding is skipped, with the reason');
  t.match(shop.filter((result: Obj) => result.rule === 'exemption'), [{ result: 'warn', severity: 'medium', message: /reason/ }], 'an exemption without a reason warns');
});

t.test('pass for a rule without findings and for info; warn for what a warn-mode rule finds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-openreports-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules:\n  readiness-probe: {mode: warn}\n');
  const [warned] = documents((await runCli(['audit', BAD, '--policy', policy, '--output', 'openreports'])).stdout);
  t.match(warned?.results.find((result: Obj) => result.rule === 'readiness-probe'), { result: 'warn', severity: 'high', properties: { mode: 'warn' } });
  const [info] = documents((await runCli(['audit', INFO, '--output', 'openreports'])).stdout);
  const hook = info?.results.find((result: Obj) => result.rule === 'prestop-delay');
  t.match(hook, { result: 'pass', severity: 'info' }, 'an info finding passes');
  t.not(hook?.message, 'no finding', 'and keeps its message');
  t.match(info?.results.find((result: Obj) => result.rule === 'probe-port'), { result: 'pass', severity: 'info', message: 'no finding' });
});

t.test('the results are the PolicyReport output\'s, one mapping for both APIs', async (t) => {
  const files = [BAD, EXEMPT, NO_REASON, INFO].map((file) => parseManifest(readFileSync(file, 'utf8'), file));
  const audit = auditFiles(files, defaultPolicy());
  const now = new Date(Date.UTC(2025, 8, 8, 10, 2, 48, 750));
  const open = openReports(audit, now);
  const policy = policyReports(audit, now);
  t.equal(open.length, 2);
  t.same(open.map(({ metadata, summary, results }) => ({ metadata, summary, results })), policy.map(({ metadata, summary, results }) => ({ metadata, summary, results })));
  t.same(open[0]?.results[0]?.timestamp, { seconds: 1757325768, nanos: 0 }, 'whole seconds of the audit time');
  t.not(open[0]?.metadata.labels, open[1]?.metadata.labels, 'each report has labels of its own');
});

t.test('--reports-api: a cluster flag that needs --apply-reports, one of the two APIs', async (t) => {
  const fileRun = await runCli(['audit', BAD, '--reports-api', 'openreports']);
  t.equal(fileRun.code, 2);
  t.match(fileRun.stderr, /--reports-api needs --cluster/);
  // The flags are checked before any connection: the kubeconfig is never read.
  const cluster = ['audit', '--cluster', '--kubeconfig', '/no/such/kubeconfig'];
  const alone = await runCli([...cluster, '--reports-api', 'openreports']);
  t.equal(alone.code, 2);
  t.match(alone.stderr, /--reports-api needs --apply-reports/);
  const unknown = await runCli([...cluster, '--apply-reports', '--reports-api', 'wgpolicyk8s']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /--reports-api must be one of policyreport, openreports \(got "wgpolicyk8s"\)/);
  const badOutput = await runCli(['audit', BAD, '--output', 'openreport']);
  t.match(badOutput.stderr, /--output must be one of .*policyreport, openreports/);
});

t.test('chart: backgroundScan.reportsApi picks the API the scan writes, and the only one its role may write', async (t) => {
  const helm = join(binaryDirs().helm, 'helm');
  const chart = join(TEST_DIR, '..', 'charts', 'rollsafe');
  const render = (values: Obj) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const home = mkdtempSync(join(tmpdir(), 'rollsafe-helm-home-'));
    const file = join(home, 'values.json');
    writeFileSync(file, JSON.stringify(values));
    execFile(helm, ['template', 'rollsafe', chart, '--namespace', 'rollsafe-system', '--values', file], { env: { PATH: process.env['PATH'], HOME: home, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home } }, (error, stdout, stderr) => {
      resolve({ code: error ? 1 : 0, stdout, stderr });
    });
  });
  const scan = async (values: Obj) => {
    const run = await render(values);
    t.equal(run.code, 0, run.stderr);
    const objects = documents(run.stdout).filter(Boolean);
    const role = objects.find((object) => object.kind === 'ClusterRole' && object.metadata.name === 'rollsafe-scan');
    const cronJob = objects.find((object) => object.kind === 'CronJob');
    const args: string[] = cronJob?.spec.jobTemplate.spec.template.spec.containers[0].args ?? [];
    const writes = (role?.rules ?? []).filter((rule: Obj) => rule.verbs.includes('create') || rule.verbs.includes('patch'));
    return { args, writes };
  };
  const defaults = await scan({ backgroundScan: { enabled: true } });
  t.equal(defaults.args[defaults.args.indexOf('--reports-api') + 1], 'policyreport', 'PolicyReports by default, as before');
  t.same(defaults.writes, [{ apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports'], verbs: ['create', 'patch'] }]);
  const open = await scan({ backgroundScan: { enabled: true, reportsApi: 'openreports' } });
  t.equal(open.args[open.args.indexOf('--reports-api') + 1], 'openreports');
  t.ok(open.args.includes('--apply-reports'));
  t.same(open.writes, [{ apiGroups: ['openreports.io'], resources: ['reports'], verbs: ['create', 'patch'] }], 'Reports only: no PolicyReports');
  const refused = await render({ backgroundScan: { enabled: true, reportsApi: 'wgpolicyk8s' } });
  t.not(refused.code, 0);
  t.match(refused.stderr, /\/backgroundScan\/reportsApi/);
});
