import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { FIXTURES } from './helpers/fixtures.js';
import { startFakeApiServer } from './helpers/fake-apiserver.js';
import { runCli } from './helpers/run-cli.js';

const api = await startFakeApiServer();
t.teardown(() => api.close());
const cluster = (...args: string[]) => runCli(['audit', '--cluster', '--kubeconfig', api.kubeconfig, ...args]);

t.test('-A: every namespace, pages followed, the 403 namespace reported while the rest is audited', async (t) => {
  api.requests.length = 0;
  const run = await cluster('-A', '--output', 'json');
  t.equal(run.code, 2, 'a namespace could not be read: exit 2 like unreadable input');
  const report = JSON.parse(run.stdout);
  t.match(report.inputErrors, [{ file: 'namespace/secret-team', message: /cannot list: .*forbidden/ }]);
  t.match(run.stderr, /namespace\/secret-team: cannot list/);
  const names = report.results.map((r: any) => `${r.namespace}/${r.kind}/${r.name}`).sort();
  t.equal(names.length, 1 + 7 + 1 + 3, 'every readable workload');
  t.ok(names.includes('infra/Deployment/loadgenerator'), 'the last page of infra deployments was read');
  t.ok(names.includes('default/StatefulSet/cassandra'));
  // Pagination: namespaces (5 in pages of 3) and infra deployments (7 in pages of 3) need continue tokens.
  t.ok(api.requests.includes('GET /api/v1/namespaces?limit=250&continue=3'));
  t.ok(api.requests.includes('GET /apis/apps/v1/namespaces/infra/deployments?limit=250&continue=6'));
  for (const collection of ['services', 'horizontalpodautoscalers', 'poddisruptionbudgets', 'persistentvolumeclaims']) {
    t.ok(api.requests.some((line) => line.includes(`/namespaces/shop/${collection}?`)), `context ${collection} listed`);
  }
});

t.test('same engine and findings as the file audit; context from the namespace; owners named; labels give the mode', async (t) => {
  const report = JSON.parse((await cluster('-n', 'shop', '-n', 'legacy', '--output', 'json')).stdout);
  const byName = (ns: string, name: string) => report.results.find((r: any) => r.namespace === ns && r.name === name);
  const web = byName('shop', 'web');
  t.same(web.findings.map((f: any) => f.rule), ['readiness-probe', 'prestop-delay', 'rollout-strategy', 'min-replicas']);
  t.match(web, { file: 'namespace/shop', document: 0, line: 0, kind: 'Deployment' });
  const fileAudit = JSON.parse((await runCli(['audit', join(FIXTURES, 'admission', 'web-no-probes.yaml'), '--output', 'json'])).stdout);
  t.same(web.findings.map((f: any) => f.message), fileAudit.results[0].findings.map((f: any) => f.message), 'identical messages');
  t.same(byName('shop', 'api').findings, [], 'the PDB and Service in the namespace count: no disruption-budget finding');
  t.equal(byName('shop', 'api-operated').owner, 'AppSet storefront');
  t.ok(byName('shop', 'api-operated').findings.some((f: any) => f.rule === 'min-replicas'), 'owned objects are still reported');
  t.ok(byName('legacy', 'web').findings.every((f: any) => f.mode === 'warn'), 'rollsafe.dev/mode=warn on the namespace');
  t.notOk(report.results.some((r: any) => r.namespace === 'infra'), 'only the named namespaces');
});

t.test('no -n and no -A: the context namespace', async (t) => {
  const report = JSON.parse((await cluster('--output', 'json')).stdout);
  t.same([...new Set(report.results.map((r: any) => r.namespace))], ['shop']);
});

t.test('text, SARIF and JUnit name the live objects', async (t) => {
  const text = await cluster('-n', 'shop');
  t.match(text.stdout, /namespace\/shop\n {2}Deployment shop\/web\n/);
  t.match(text.stdout, /Deployment shop\/api-operated, owned by AppSet storefront/);
  t.equal(text.code, 1);
  const sarif = JSON.parse((await cluster('-n', 'shop', '--output', 'sarif')).stdout);
  const schema = JSON.parse(readFileSync(join(FIXTURES, 'schemas', 'sarif-2.1.0-subset.schema.json'), 'utf8'));
  const validate = new Ajv({ strict: false, validateFormats: false }).compile(schema);
  t.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
  t.match(sarif.runs[0].results[0].locations[0].logicalLocations[0], { fullyQualifiedName: /^Deployment\/shop\// });
  const junit = (await cluster('-n', 'shop', '--output', 'junit')).stdout;
  t.match(junit, /<testcase classname="Deployment\/shop\/web" name="readiness-probe" file="namespace\/shop"><failure/);
});

t.test('PolicyReport output: one per namespace, valid against the CRD schema', async (t) => {
  const run = await cluster('-A', '--output', 'policyreport');
  const reports = parseAllDocuments(run.stdout).map((doc) => doc.toJS());
  t.same(reports.map((r) => r.metadata.namespace).sort(), ['default', 'infra', 'legacy', 'shop']);
  const schema = JSON.parse(readFileSync(join(FIXTURES, 'schemas', 'policyreport-v1alpha2.schema.json'), 'utf8'));
  const validate = new Ajv({ strict: false }).compile(schema);
  for (const report of reports) t.ok(validate(report), `${report.metadata.namespace}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
  t.notOk(validate({ ...reports[0], results: [{ policy: 'x', result: 'maybe' }] }), 'the schema can fail');
  const shop = reports.find((r) => r.metadata.namespace === 'shop');
  const webResults = shop.results.filter((r: any) => r.resources[0].name === 'web');
  t.equal(webResults.length, 7, 'one result per rule for an object with one finding per failing rule');
  t.match(webResults.find((r: any) => r.rule === 'readiness-probe'), { result: 'fail', severity: 'high', policy: 'rollsafe', source: 'rollsafe', resources: [{ kind: 'Deployment', namespace: 'shop', uid: 'aaaaaaaa-0000-0000-0000-000000000001' }] });
  t.match(webResults.find((r: any) => r.rule === 'min-replicas'), { result: 'warn', severity: 'medium' });
  t.match(webResults.find((r: any) => r.rule === 'probes-identical'), { result: 'pass' });
  t.equal(shop.summary.fail, shop.results.filter((r: any) => r.result === 'fail').length);
  const legacy = reports.find((r) => r.metadata.namespace === 'legacy');
  t.equal(legacy.summary.fail, 0, 'warn-mode namespace: warnings, not failures');
});

t.test('--apply-reports writes them with server-side apply under a stable field manager', async (t) => {
  api.applied.length = 0;
  const run = await cluster('-n', 'shop', '-n', 'infra', '--apply-reports', '--output', 'json');
  t.equal(run.code, 1);
  t.equal(api.applied.length, 2);
  t.match(api.applied[0], { path: '/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/rollsafe?fieldManager=rollsafe&force=true', contentType: 'application/apply-patch+yaml', body: { kind: 'PolicyReport', metadata: { namespace: 'shop' } } });
  t.match(run.stderr, /applied PolicyReport shop\/rollsafe/);
  const noCrd = await startFakeApiServer(undefined, { policyReportCrd: false });
  t.teardown(() => noCrd.close());
  const failed = await runCli(['audit', '--cluster', '--kubeconfig', noCrd.kubeconfig, '-n', 'shop', '--apply-reports', '--output', 'json']);
  t.equal(failed.code, 2);
  t.match(failed.stderr, /PolicyReport API \(wgpolicyk8s.io\/v1alpha2\) is not installed/);
});

t.test('--fix-preview prints the patch the mutating webhook would apply', async (t) => {
  const run = await cluster('-n', 'shop', '--fix-preview', '--output', 'json');
  const previews = JSON.parse(run.stdout);
  t.same(previews.map((p: any) => p.name), ['web']);
  t.same(previews[0].patch, [{ op: 'add', path: '/spec/template/spec/containers/0/lifecycle', value: { preStop: { sleep: { seconds: 10 } } } }]);
  const text = await cluster('-n', 'shop', '--fix-preview');
  t.match(text.stdout, /^# Deployment shop\/web\n\[\n/);
});

t.test('unreachable server, bad credentials, unknown context: one clear line, exit 2', async (t) => {
  const unreachable = await cluster('--context', 'unreachable');
  t.equal(unreachable.code, 2);
  t.match(unreachable.stderr, /^rollsafe: cannot reach the API server https:\/\/127\.0\.0\.1:1: ECONNREFUSED\n$/);
  const denied = await cluster('--context', 'bad-credentials');
  t.equal(denied.code, 2);
  t.match(denied.stderr, /^rollsafe: the API server .* refused the credentials \(401 Unauthorized\)\n$/);
  const unknown = await cluster('--context', 'nope');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /kubeconfig has no context "nope"/);
  const missing = await runCli(['audit', '--cluster', '--kubeconfig', '/no/such/kubeconfig']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot load kubeconfig \/no\/such\/kubeconfig/);
  t.equal((await runCli(['audit', 'x.yaml', '--kubeconfig', 'k'])).code, 2, '--kubeconfig needs --cluster');
  t.equal((await cluster('file.yaml')).code, 2, 'no paths with --cluster');
});

t.test('progress goes to stderr only on a TTY; stdout stays the report', async (t) => {
  let stderr = '';
  let stdout = '';
  const { main } = await import('../src/main.js');
  await main(['audit', '--cluster', '--kubeconfig', api.kubeconfig, '-A', '--output', 'json'], {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: true },
    readStdin: () => '',
    env: {},
  });
  t.match(stderr, /rollsafe: namespace 5\/5 \(shop\), \d+ objects read/);
  t.doesNotThrow(() => JSON.parse(stdout), 'stdout is pure JSON');
});
