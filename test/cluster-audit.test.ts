/**
 * rollsafe audit --cluster against a real kube-apiserver (test/helpers/control-plane.ts): objects created
 * with kubectl, a user whose RBAC leaves one namespace out, real pagination (more Deployments in one
 * namespace than the 250 a page holds), PolicyReports applied server-side and validated by the apiserver
 * against a CRD. Faults a real server cannot be made to show (5xx, slow and cut pages) are in
 * cluster-faults.test.ts, against a fake.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { RULE_IDS } from '../src/rules/index.js';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { sharedControlPlane, kubectl, kubectlOk, userKubeconfig, eventually, getObject } from './helpers/cluster.js';
import { FIXTURES } from './helpers/fixtures.js';
import { makeCertificates } from './helpers/tls.js';
import { runCli } from './helpers/run-cli.js';

type Obj = Record<string, any>;
const plane = await sharedControlPlane(t);
const BULK = 260;

/** A captured object as a user would apply it: no server-set metadata, no status. */
function fromFixture(file: string, name?: string): Obj {
  const object = JSON.parse(readFileSync(join(FIXTURES, 'admission', file), 'utf8')).request.object;
  const { labels, annotations } = object.metadata;
  const clean: Obj = { apiVersion: object.apiVersion, kind: object.kind, metadata: { name: name ?? object.metadata.name, labels }, spec: object.spec };
  const kept = Object.fromEntries(Object.entries(annotations ?? {}).filter(([key]) => !key.startsWith('kubectl.kubernetes.io/') && !key.startsWith('deployment.kubernetes.io/')));
  if (Object.keys(kept).length > 0) clean['metadata'].annotations = kept;
  return clean;
}

const apply = (namespace: string, objects: Obj[]) => kubectlOk(plane, ['apply', '-n', namespace, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
const namespaceObject = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
  namespaceObject('audit-shop'),
  namespaceObject('audit-legacy', { 'rollsafe.dev/mode': 'warn' }),
  namespaceObject('audit-infra'),
  namespaceObject('audit-secret'),
  namespaceObject('audit-bulk'),
  namespaceObject('audit-off', { 'rollsafe.dev/mode': 'off' }),
] }));
const owner = JSON.parse(await kubectlOk(plane, ['create', 'configmap', 'storefront', '-n', 'audit-shop', '-o', 'json']));
const operated = fromFixture('deploy-create-good--deployment-create.json', 'api-operated');
operated['spec'].replicas = 1;
operated['metadata'].ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'storefront', uid: owner.metadata.uid, controller: true }];
// The captured "good" Deployment predates node-spread: spread here, so it passes every rule.
const good = fromFixture('deploy-create-good--deployment-create.json');
good['spec'].template.spec.topologySpreadConstraints = [
  { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: good['spec'].selector },
];
await apply('audit-shop', [
  fromFixture('deploy-create-noprobes--deployment-create.json'),
  good,
  operated,
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80 }] } },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api' }, spec: { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: { app: 'api' } } } },
]);
await apply('audit-legacy', [fromFixture('deploy-create-noprobes--deployment-create.json')]);
await apply('audit-off', [fromFixture('deploy-create-noprobes--deployment-create.json')]);
await apply('audit-secret', [fromFixture('deploy-create-noprobes--deployment-create.json')]);
const boutique = ['adservice', 'cartservice', 'checkoutservice', 'currencyservice', 'emailservice', 'frontend', 'loadgenerator'];
await apply('audit-infra', [...boutique.map((name) => fromFixture(`boutique--deployment-create-${name}.json`)), fromFixture('cassandra--statefulset-create.json')]);
// More than one page (limit=250) of Deployments, scaled to zero: nothing to schedule, only to list.
await apply('audit-bulk', Array.from({ length: BULK }, (_, index) => {
  const object = fromFixture('deploy-create-noprobes--deployment-create.json', `bulk-${String(index).padStart(3, '0')}`);
  object['spec'].replicas = 0;
  return object;
}));

// A user that may list namespaces and read workloads everywhere but audit-secret, and write PolicyReports.
const AUDITED = ['audit-shop', 'audit-legacy', 'audit-infra', 'audit-bulk', 'audit-off'];
await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'rollsafe-test-namespaces' }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'rollsafe-test-auditor' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rollsafe-test-namespaces' }, subjects: [{ kind: 'User', name: 'rollsafe-auditor' }] },
  // The read permissions the README lists, plus patch on policyreports for --apply-reports.
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'rollsafe-test-audit' }, rules: [
    { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['list'] },
    { apiGroups: [''], resources: ['services', 'persistentvolumeclaims'], verbs: ['list'] },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['list'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
    { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports'], verbs: ['patch'] },
  ] },
  ...AUDITED.map((namespace) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rollsafe-test-audit', namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rollsafe-test-audit' }, subjects: [{ kind: 'User', name: 'rollsafe-auditor' }] })),
] }));
const auditor = userKubeconfig(plane, 'rollsafe-auditor', 'audit-shop');
const asAuditor = (...args: string[]) => runCli(['audit', '--cluster', '--kubeconfig', auditor, ...args]);
const asAdmin = (...args: string[]) => runCli(['audit', '--cluster', '--kubeconfig', plane.kubeconfig, ...args]);

t.test('a namespace that does not exist is an input error, not "0 workloads" (issue 29)', async (t) => {
  for (const name of ['no-such-namespace', 'Bad_NS']) {
    const run = await asAdmin('-n', name);
    t.equal(run.code, 2, `${name}: exit 2`);
    t.match(run.stdout + run.stderr, /no such namespace/);
  }
  const mixed = await asAdmin('-n', 'audit-shop', '-n', 'no-such-namespace', '--output', 'json');
  t.equal(mixed.code, 2, 'the namespaces that exist are still audited, and the run still fails');
  t.ok(JSON.parse(mixed.stdout).results.length > 0);
});

t.test('-A: every namespace the user may read; the forbidden one reported while the rest is audited', async (t) => {
  const run = await asAuditor('-A', '--output', 'json');
  t.equal(run.code, 2, 'a namespace could not be read: exit 2 like unreadable input');
  const report = JSON.parse(run.stdout);
  t.match(report.inputErrors.find((error: Obj) => error.file === 'namespace/audit-secret'), { message: /cannot list: .*forbidden: User "rollsafe-auditor" cannot list resource "deployments"/ });
  t.match(run.stderr, /namespace\/audit-secret: cannot list/);
  const ours = report.results.filter((result: Obj) => result.namespace.startsWith('audit-'));
  const names = ours.map((result: Obj) => `${result.namespace}/${result.kind}/${result.name}`);
  t.equal(ours.filter((result: Obj) => result.namespace === 'audit-bulk').length, BULK, 'every Deployment of a namespace longer than one page (continue tokens followed)');
  t.equal(ours.filter((result: Obj) => result.namespace === 'audit-infra').length, boutique.length + 1);
  t.ok(names.includes('audit-infra/StatefulSet/cassandra'));
  t.notOk(names.some((name: string) => name.startsWith('audit-off/')), 'rollsafe.dev/mode=off: skipped, as at admission');
  t.notOk(names.some((name: string) => name.startsWith('audit-secret/')));
});

t.test('same engine and findings as the file audit; context from the namespace; owners named; labels give the mode', async (t) => {
  const report = JSON.parse((await asAdmin('-n', 'audit-shop', '-n', 'audit-legacy', '--output', 'json')).stdout);
  const byName = (ns: string, name: string) => report.results.find((r: Obj) => r.namespace === ns && r.name === name);
  const web = byName('audit-shop', 'web');
  t.same(web.findings.map((f: Obj) => f.rule), ['readiness-probe', 'prestop-delay', 'rollout-strategy', 'min-replicas']);
  t.match(web, { file: 'namespace/audit-shop', document: 0, line: 0, kind: 'Deployment' });
  const fileAudit = JSON.parse((await runCli(['audit', join(FIXTURES, 'admission', 'web-no-probes.yaml'), '--output', 'json'])).stdout);
  t.same(web.findings.map((f: Obj) => f.message), fileAudit.results[0].findings.map((f: Obj) => f.message), 'identical messages');
  t.same(byName('audit-shop', 'api').findings, [], 'the PDB and Service in the namespace count: no disruption-budget finding');
  t.equal(byName('audit-shop', 'api-operated').owner, 'ConfigMap storefront');
  t.ok(byName('audit-shop', 'api-operated').findings.some((f: Obj) => f.rule === 'min-replicas'), 'owned objects are still reported');
  t.ok(byName('audit-legacy', 'web').findings.every((f: Obj) => f.mode === 'warn'), 'rollsafe.dev/mode=warn on the namespace');
  t.notOk(report.results.some((r: Obj) => r.namespace === 'audit-infra'), 'only the named namespaces');
});

t.test("no -n and no -A: the context's namespace", async (t) => {
  const report = JSON.parse((await asAuditor('--output', 'json')).stdout);
  t.same([...new Set(report.results.map((r: Obj) => r.namespace))], ['audit-shop']);
});

t.test('text, SARIF and JUnit name the live objects', async (t) => {
  const text = await asAdmin('-n', 'audit-shop');
  t.match(text.stdout, /namespace\/audit-shop\n/);
  t.match(text.stdout, /\n {2}Deployment audit-shop\/web\n/);
  t.match(text.stdout, /Deployment audit-shop\/api-operated, owned by ConfigMap storefront/);
  t.equal(text.code, 1);
  const sarif = JSON.parse((await asAdmin('-n', 'audit-shop', '--output', 'sarif')).stdout);
  const schema = JSON.parse(readFileSync(join(FIXTURES, 'schemas', 'sarif-2.1.0-subset.schema.json'), 'utf8'));
  const validate = new Ajv({ strict: false, validateFormats: false }).compile(schema);
  t.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
  t.match(sarif.runs[0].results[0].locations[0].logicalLocations[0], { fullyQualifiedName: /^Deployment\/audit-shop\// });
  const junit = (await asAdmin('-n', 'audit-shop', '--output', 'junit')).stdout;
  t.match(junit, /<testcase classname="Deployment\/audit-shop\/web" name="readiness-probe" file="namespace\/audit-shop"><failure/);
});

t.test('PolicyReports: printed, then applied server-side and accepted by the apiserver under a CRD', async (t) => {
  const run = await asAdmin('-n', 'audit-shop', '-n', 'audit-legacy', '-n', 'audit-infra', '--output', 'policyreport');
  const reports = parseAllDocuments(run.stdout).map((doc) => doc.toJS());
  t.same(reports.map((r) => r.metadata.namespace).sort(), ['audit-infra', 'audit-legacy', 'audit-shop']);
  const schema = JSON.parse(readFileSync(join(FIXTURES, 'schemas', 'policyreport-v1alpha2.schema.json'), 'utf8'));
  const validate = new Ajv({ strict: false }).compile(schema);
  for (const report of reports) t.ok(validate(report), `${report.metadata.namespace}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
  const shop = reports.find((r) => r.metadata.namespace === 'audit-shop');
  const web = await getObject(plane, 'deployment', 'web', 'audit-shop');
  const webResults = shop.results.filter((r: Obj) => r.resources[0].name === 'web');
  t.equal(webResults.length, RULE_IDS.length, 'one result per rule');
  t.match(webResults.find((r: Obj) => r.rule === 'readiness-probe'), { result: 'fail', severity: 'high', resources: [{ kind: 'Deployment', namespace: 'audit-shop', uid: web.metadata.uid }] });
  t.equal(reports.find((r) => r.metadata.namespace === 'audit-legacy').summary.fail, 0, 'warn-mode namespace: warnings, not failures');

  // Without the CRD the API does not exist: one clear line, exit 2.
  const missing = await asAuditor('-n', 'audit-shop', '--apply-reports', '--output', 'json');
  t.equal(missing.code, 2);
  t.match(missing.stderr, /PolicyReport API \(wgpolicyk8s.io\/v1alpha2\) is not installed/);

  await kubectlOk(plane, ['apply', '-f', join(FIXTURES, 'crds', 'policyreport-v1alpha2.yaml')]);
  await kubectlOk(plane, ['wait', '--for=condition=Established', 'crd/policyreports.wgpolicyk8s.io', '--timeout=60s']);
  // The CRD's API is served a moment after it is established. Server-side apply that creates the report
  // needs create besides patch (the apiserver authorizes the create): without it, a clear 403 per namespace.
  const forbidden = await eventually('the PolicyReport API served', async () => {
    const result = await asAuditor('-n', 'audit-shop', '--apply-reports', '--output', 'json');
    return result.code === 2 && !/not installed/.test(result.stderr) ? result : undefined;
  });
  t.match(forbidden.stderr, /cannot apply PolicyReport audit-shop\/rollsafe: HTTP 403 .*cannot create resource "policyreports"/);
  await kubectlOk(plane, ['patch', 'clusterrole', 'rollsafe-test-audit', '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/rules/-', value: { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports'], verbs: ['create'] } }])]);
  const applied = await eventually('PolicyReports applied', async () => {
    const result = await asAuditor('-n', 'audit-shop', '-n', 'audit-infra', '--apply-reports', '--output', 'json');
    return result.code === 1 ? result : undefined;
  });
  t.match(applied.stderr, /applied PolicyReport audit-shop\/rollsafe/);
  const stored = await getObject(plane, 'policyreport', 'rollsafe', 'audit-shop');
  t.equal(stored.results.length, shop.results.length, 'every result kept by the apiserver (none pruned by the schema)');
  t.same(stored.summary, shop.summary);
  const managers = async () => JSON.parse(await kubectlOk(plane, ['get', 'policyreport', 'rollsafe', '-n', 'audit-shop', '-o', 'json', '--show-managed-fields'])).metadata.managedFields;
  t.match(await managers(), [{ manager: 'rollsafe', operation: 'Apply' }]);
  const again = await asAuditor('-n', 'audit-shop', '--apply-reports', '--output', 'json');
  t.equal(again.code, 1, 'applying again is an update of the same report');
  t.equal((await managers()).length, 1, 'one field manager');
});

t.test('--fix-preview prints the patch the mutating webhook would apply', async (t) => {
  const run = await asAdmin('-n', 'audit-shop', '--fix-preview', '--output', 'json');
  const previews = JSON.parse(run.stdout);
  t.same(previews.map((p: Obj) => p.name), ['web']);
  t.same(previews[0].patch, [{ op: 'add', path: '/spec/template/spec/containers/0/lifecycle', value: { preStop: { sleep: { seconds: 10 } } } }]);
  const text = await asAdmin('-n', 'audit-shop', '--fix-preview');
  t.match(text.stdout, /^# Deployment audit-shop\/web\n\[\n/);
});

t.test('refused credentials, an unknown context, an unreachable server: one clear line, exit 2', async (t) => {
  // A client certificate from a CA the apiserver does not trust: a real 401.
  const stranger = makeCertificates();
  const { writeFileSync } = await import('node:fs');
  const config = join(stranger.dir, 'kubeconfig');
  const b64 = (file: string) => readFileSync(file).toString('base64');
  writeFileSync(config, `apiVersion: v1
kind: Config
clusters:
- {name: test, cluster: {server: "${plane.server}", certificate-authority-data: ${b64(plane.caFile)}}}
- {name: nowhere, cluster: {server: "https://127.0.0.1:1"}}
users:
- {name: stranger, user: {client-certificate-data: ${b64(stranger.cert)}, client-key-data: ${b64(stranger.key)}}}
contexts:
- {name: test, context: {cluster: test, user: stranger}}
- {name: unreachable, context: {cluster: nowhere, user: stranger}}
current-context: test
`);
  const denied = await runCli(['audit', '--cluster', '--kubeconfig', config]);
  t.equal(denied.code, 2);
  t.match(denied.stderr, /^rollsafe: the API server https:\/\/127\.0\.0\.1:\d+ refused the credentials \(401 Unauthorized\)\n$/);
  const unreachable = await runCli(['audit', '--cluster', '--kubeconfig', config, '--context', 'unreachable']);
  t.equal(unreachable.code, 2);
  t.match(unreachable.stderr, /^rollsafe: cannot reach the API server https:\/\/127\.0\.0\.1:1: ECONNREFUSED\n$/);
  const unknown = await runCli(['audit', '--cluster', '--kubeconfig', config, '--context', 'nope']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /kubeconfig has no context "nope"/);
  const missing = await runCli(['audit', '--cluster', '--kubeconfig', '/no/such/kubeconfig']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot load kubeconfig \/no\/such\/kubeconfig/);
  t.equal((await runCli(['audit', 'x.yaml', '--kubeconfig', 'k'])).code, 2, '--kubeconfig needs --cluster');
  t.equal((await asAdmin('file.yaml')).code, 2, 'no paths with --cluster');
});

t.test('progress goes to stderr only on a TTY; stdout stays the report', async (t) => {
  let stderr = '';
  let stdout = '';
  const { main } = await import('../src/main.js');
  await main(['audit', '--cluster', '--kubeconfig', plane.kubeconfig, '-n', 'audit-shop', '-n', 'audit-bulk', '--output', 'json'], {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: true },
    readStdin: () => '',
    env: {},
  });
  t.match(stderr, /rollsafe: namespace 2\/2 \(audit-bulk\), \d+ objects read/);
  t.doesNotThrow(() => JSON.parse(stdout), 'stdout is pure JSON');
});

t.test('issue 29: a namespace in mode off is skipped for that reason; -o github points at no file for live objects', async (t) => {
  const report = JSON.parse((await asAdmin('-n', 'audit-off', '--output', 'json')).stdout);
  t.match(report.skipped, [{ file: 'namespace/audit-off', document: 0, kind: 'Deployment', name: 'web', reason: /^namespace mode off \(label rollsafe\.dev\/mode=off\)/ }]);
  const text = (await asAdmin('-n', 'audit-off')).stdout;
  t.notMatch(text, /not apps\/v1 Deployments/, 'they are apps/v1 Deployments');
  t.match(text, /namespace\/audit-off: Deployment ×1 skipped: namespace mode off/);
  const github = await asAdmin('-n', 'audit-shop', '-n', 'no-such-namespace', '--output', 'github');
  t.ok(github.stdout.length > 0);
  t.notMatch(github.stdout, /file=/, 'namespace/NAME is no file of the repository');
  t.match(github.stdout, /^::error title=rollsafe readiness-probe%3A Deployment audit-shop\/web \(web\)::/m, 'the title names the object');
  t.match(github.stdout, /^::error title=rollsafe%3A namespace\/no-such-namespace::no such namespace/m);
});

t.test('issue 29: the apiserver refuses a PodDisruptionBudget over 100% (ValidatePodDisruptionBudgetSpec), as disruption-budget says', async (t) => {
  const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'too-much', namespace: 'audit-shop' }, spec: { minAvailable: '150%', selector: { matchLabels: { app: 'api' } } } };
  const refused = await kubectl(plane, ['create', '--dry-run=server', '-f', '-'], JSON.stringify(pdb));
  t.not(refused.code, 0);
  t.match(refused.stderr, /spec\.minAvailable: Invalid value: "150%": must not be greater than 100%/);
  const both = await kubectl(plane, ['create', '--dry-run=server', '-f', '-'], JSON.stringify({ ...pdb, spec: { ...pdb.spec, minAvailable: 1, maxUnavailable: 1 } }));
  t.match(both.stderr, /minAvailable and maxUnavailable cannot be both set/);
  const file = await runCli(['audit', '-', '--output', 'json'], { stdin: `${readFileSync(join(FIXTURES, 'rules', 'disruption-budget', 'fail-refused-min-available-over-100-percent.yaml'), 'utf8')}` });
  t.match(JSON.parse(file.stdout).results[0].findings.find((f: Obj) => f.rule === 'disruption-budget'), { message: /^the apiserver refuses PodDisruptionBudget "api": minAvailable "150%" is more than 100%/ });
});

t.test('issue 29: hpa-replicas reads what kubectl apply wrote, not the spec.replicas every stored object has', async (t) => {
  await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify(namespaceObject('audit-hpa')));
  const workload = (name: string, replicas?: number): Obj => {
    const object = fromFixture('deploy-create-good--deployment-create.json', name);
    object['spec'].selector = { matchLabels: { app: name } };
    object['spec'].template.metadata.labels = { app: name };
    if (replicas === undefined) delete object['spec'].replicas;
    else object['spec'].replicas = replicas;
    return object;
  };
  const hpa = (name: string): Obj => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, minReplicas: 2, maxReplicas: 8 } });
  // Client-side apply (kubectl's default) records what it applied in the last-applied annotation.
  await apply('audit-hpa', [workload('pinned', 2), hpa('pinned'), workload('released'), hpa('released')]);
  // Server-side apply keeps no such annotation: whether the manifest writes replicas cannot be told.
  await kubectlOk(plane, ['apply', '--server-side', '--field-manager=release-tool', '-n', 'audit-hpa', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [workload('server-side', 2), hpa('server-side')] }));
  const released = await getObject(plane, 'deployment', 'released', 'audit-hpa');
  // SetDefaults_Deployment set 1; the HPA may since have raised it to its minReplicas: either way it is there.
  t.ok(Number.isInteger(released.spec.replicas), 'the stored object has spec.replicas although the manifest does not');
  const report = JSON.parse((await asAdmin('-n', 'audit-hpa', '--output', 'json')).stdout);
  const findings = (name: string) => report.results.find((r: Obj) => r.name === name).findings.filter((f: Obj) => f.rule === 'hpa-replicas');
  t.match(findings('pinned'), [{ severity: 'warning', message: /last client-side kubectl apply .* wrote spec\.replicas 2, but HorizontalPodAutoscaler "pinned" owns the replica count.*kubectl apply edit-last-applied deployment\/pinned/ }]);
  t.same(findings('released'), [], 'applied without replicas: nothing to reset');
  t.match(findings('server-side'), [{ severity: 'info', message: /HorizontalPodAutoscaler "server-side" owns the replica count; whether the manifests .* is unknown/ }]);
});

t.test('OpenReports: printed valid against the published CRD, then applied with --reports-api openreports by the chart scan role', async (t) => {
  const { execFile } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { binaryDirs } = await import('./helpers/control-plane.js');
  const { crdValidator } = await import('./helpers/crd-schema.js');
  const crd = join(FIXTURES, 'crds', 'openreports-v1alpha1-reports.yaml');
  const validate = crdValidator(crd, 'v1alpha1');
  const printed = parseAllDocuments((await asAdmin('-n', 'audit-shop', '-n', 'audit-legacy', '--output', 'openreports')).stdout).map((doc) => doc.toJS() as Obj);
  t.same(printed.map((report) => `${report.kind} ${report.metadata.namespace}/${report.metadata.name}`), ['Report audit-shop/rollsafe', 'Report audit-legacy/rollsafe']);
  for (const report of printed) t.equal(validate(report), undefined, report.metadata.namespace);
  const web = await getObject(plane, 'deployment', 'web', 'audit-shop');
  t.match(printed[0]?.results.find((r: Obj) => r.rule === 'readiness-probe' && r.resources[0].name === 'web'), { result: 'fail', severity: 'high', resources: [{ kind: 'Deployment', namespace: 'audit-shop', uid: web.metadata.uid }] });

  // A user with exactly the role of the chart's background scan, rendered for OpenReports.
  const home = mkdtempSync(join(tmpdir(), 'rollsafe-helm-home-'));
  const values = join(home, 'values.json');
  writeFileSync(values, JSON.stringify({ fullnameOverride: 'audit-openreports', backgroundScan: { enabled: true, reportsApi: 'openreports' } }));
  const rendered = await new Promise<string>((resolve, reject) => {
    const env = { PATH: process.env['PATH'], HOME: home, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home };
    execFile(join(binaryDirs().helm, 'helm'), ['template', 'audit', join(FIXTURES, '..', '..', 'charts', 'rollsafe'), '--namespace', 'rollsafe-system', '--values', values], { env }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)));
  });
  const role = parseAllDocuments(rendered).map((doc) => doc.toJS() as Obj | null).find((object) => object?.kind === 'ClusterRole' && object.metadata.name === 'audit-openreports-scan');
  t.ok(role, 'the chart renders the scan role');
  await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'rollsafe-test-openreports-scan' }, rules: role?.rules },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'rollsafe-test-openreports-scan' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rollsafe-test-openreports-scan' }, subjects: [{ kind: 'User', name: 'rollsafe-openreports-scan' }] },
  ] }));
  const scanner = userKubeconfig(plane, 'rollsafe-openreports-scan', 'audit-shop');
  const asScanner = (...args: string[]) => runCli(['audit', '--cluster', '--kubeconfig', scanner, '-n', 'audit-shop', '-n', 'audit-infra', '--apply-reports', ...args]);

  // Without the CRD: the message names the API asked for, and nothing is written.
  const missing = await eventually('the scan role bound', async () => {
    const result = await asScanner('--reports-api', 'openreports', '--output', 'json');
    return /forbidden/.test(result.stdout + result.stderr) ? undefined : result;
  });
  t.equal(missing.code, 2);
  t.match(missing.stderr, /^rollsafe: the OpenReports API \(openreports\.io\/v1alpha1 Report\) is not installed in this cluster$/m);
  t.notMatch(missing.stderr, /PolicyReport/);
  const followsOutput = await asScanner('--output', 'openreports');
  t.match(followsOutput.stderr, /OpenReports API .* is not installed/, '-o openreports --apply-reports writes Reports without --reports-api');

  await kubectlOk(plane, ['apply', '-f', crd]);
  await kubectlOk(plane, ['wait', '--for=condition=Established', 'crd/reports.openreports.io', '--timeout=60s']);
  const applied = await eventually('Reports applied', async () => {
    const result = await asScanner('--reports-api', 'openreports', '--output', 'openreports');
    return result.code === 1 ? result : undefined;
  });
  t.match(applied.stderr, /applied OpenReports Report audit-shop\/rollsafe \(\d+ results\)/);
  t.match(applied.stderr, /applied OpenReports Report audit-infra\/rollsafe/);
  t.notMatch(applied.stderr, /cannot apply/);
  const sent = parseAllDocuments(applied.stdout).map((doc) => doc.toJS() as Obj).find((report) => report.metadata.namespace === 'audit-shop');
  const stored = await getObject(plane, 'reports.openreports.io', 'rollsafe', 'audit-shop');
  // What the apiserver kept is what was sent: nothing pruned by the structural schema (the timestamp is the
  // apply's own, a moment after the printed report's).
  const untimed = (results: Obj[]) => results.map(({ timestamp, ...rest }) => rest);
  t.same(untimed(stored.results), untimed(sent?.results ?? []));
  t.ok(stored.results.every((r: Obj) => Number.isInteger(r.timestamp.seconds) && r.timestamp.nanos === 0), 'timestamps kept');
  t.same(stored.summary, sent?.summary);
  t.equal(stored.source, 'rollsafe');
  t.same(stored.metadata.labels, { 'app.kubernetes.io/managed-by': 'rollsafe' });
  const again = await asScanner('--reports-api', 'openreports', '--output', 'json');
  t.equal(again.code, 1, 'applying again is an update of the same report');
  const managed = JSON.parse(await kubectlOk(plane, ['get', 'reports.openreports.io', 'rollsafe', '-n', 'audit-shop', '-o', 'json', '--show-managed-fields']));
  t.match(managed.metadata.managedFields, [{ manager: 'rollsafe', operation: 'Apply' }]);
  t.equal(managed.metadata.managedFields.length, 1, 'one field manager');
  // The PolicyReport API, when asked for, is still the PolicyReport's (installed by the test above).
  const policyReport = await asScanner('--output', 'json');
  t.match(policyReport.stderr, /cannot apply PolicyReport audit-shop\/rollsafe: HTTP 403 .*policyreports/, 'the OpenReports role may not write PolicyReports');
  t.equal(policyReport.code, 2);
});
