/**
 * charts/rollsafe, with helm built from its Go module (test/cluster-bins/helm): lint, the values schema,
 * renders with the defaults and with every option, each accepted by the real kube-apiserver (server-side dry
 * runs, cert-manager's CRDs from the pinned schemas), audited by rollsafe with zero findings, the default
 * webhook configurations equal to manifests/base's (with argoRollouts.enabled, to manifests/base plus
 * manifests/components/argo-rollouts), and a real `helm install`.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { certManagerCrds } from './helpers/cert-manager-crds.js';
import { binaryDirs } from './helpers/control-plane.js';
import { eventually, kubectl, kubectlOk, sharedControlPlane, type Run } from './helpers/cluster.js';
import { TEST_DIR } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { valuesTable } from '../scripts/chart-values-table.mjs';

type Obj = Record<string, any>;
const ROOT = join(TEST_DIR, '..');
const CHART = join(ROOT, 'charts', 'rollsafe');
const HELM = join(binaryDirs().helm, 'helm');
const plane = await sharedControlPlane(t);
const NAMESPACE = 'rollsafe-helm';
// The control plane is shared by the test files: webhooks installed here must never match their namespaces.
const SCOPE = { key: 'rollsafe.test/helm', operator: 'In', values: ['yes'] };

function helm(args: string[]): Promise<Run> {
  const home = mkdtempSync(join(tmpdir(), 'rollsafe-helm-home-'));
  return new Promise((resolve) => {
    execFile(HELM, args, { maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env['PATH'], HOME: home, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home, NO_PROXY: '*' } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** `helm template` with values given as one JSON document (exact types, no --set parsing). */
async function render(values: Obj = {}, namespace = NAMESPACE, release = 'rollsafe'): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'rollsafe-values-')), 'values.json');
  writeFileSync(file, JSON.stringify(values));
  const run = await helm(['template', release, CHART, '--namespace', namespace, '--values', file]);
  if (run.code !== 0) throw new Error(`helm template failed: ${run.stderr}`);
  return run.stdout;
}

const objects = (yaml: string): Obj[] => parseAllDocuments(yaml).map((doc) => doc.toJS() as Obj).filter((object) => object);
const byKind = (yaml: string, kind: string): Obj[] => objects(yaml).filter((object) => object.kind === kind);
function one(yaml: string, kind: string): Obj {
  const [found] = byKind(yaml, kind);
  if (!found) throw new Error(`no ${kind} in the render`);
  return found;
}

const CA_BUNDLE = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
/** Every option not about certificates, set at once. */
const EVERY: Obj = {
  replicaCount: 3,
  image: { repository: 'registry.example.com/rollsafe', tag: '9.9.9', pullPolicy: 'Always' },
  imagePullSecrets: [{ name: 'pull' }],
  fullnameOverride: 'zdt',
  policy: { drainSeconds: 25, rules: { 'min-replicas': { mode: 'warn' } } },
  webhook: { failurePolicy: 'Fail', timeoutSeconds: 3, excludeNamespaces: ['legacy'], namespaceSelectorExpressions: [SCOPE], objectSelector: { matchExpressions: [{ key: 'rollsafe.dev/skip', operator: 'DoesNotExist' }] }, reinvocationPolicy: 'Never' },
  certificates: { mode: 'generate', generate: { validityDays: 30 } },
  server: { shutdownDelaySeconds: 3, preStopSeconds: 12, terminationGracePeriodSeconds: 45, extraArgs: ['--log-level=debug'] },
  resources: { requests: { cpu: '50m', memory: '64Mi' } },
  podDisruptionBudget: { enabled: false },
  podLabels: { team: 'platform' },
  podAnnotations: { 'example.com/owner': 'platform' },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }],
  affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'pool', operator: 'In', values: ['system'] }] } }] } },
  priorityClassName: 'system-cluster-critical',
};
const MONITORED: Obj = {
  backgroundScan: { enabled: true, schedule: '*/30 * * * *' },
  metrics: { serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prometheus' } }, prometheusRule: { enabled: true, labels: { release: 'prometheus' } }, grafanaDashboard: { enabled: true } },
};
const ARGO: Obj = { argoRollouts: { enabled: true }, backgroundScan: { enabled: true } };
/** The rules of every webhook entry: the apps workloads, and Argo Rollouts when asked. */
const APPS_RULE = { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'statefulsets', 'daemonsets'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' };
const ROLLOUTS_RULE = { apiGroups: ['argoproj.io'], apiVersions: ['v1alpha1'], resources: ['rollouts'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' };
const MANAGED: Obj = { certificates: { mode: 'certManager' } };
const EXTERNAL_ISSUER: Obj = { certificates: { mode: 'certManager', certManager: { issuerRef: { name: 'corporate-ca', kind: 'ClusterIssuer' }, duration: '720h', renewBefore: '240h' } } };
const EXISTING: Obj = { certificates: { mode: 'existingSecret', existingSecret: { name: 'my-tls', caBundle: CA_BUNDLE } } };
/** Every option set at least once. */
const OPTIONS: Record<string, Obj> = {
  defaults: {},
  'cert-manager, issuer created by the chart': MANAGED,
  'cert-manager, existing ClusterIssuer': EXTERNAL_ISSUER,
  'existing Secret and caBundle': EXISTING,
  'every other option': EVERY,
  'monitoring and the background scan': MONITORED,
  'Argo Rollouts, with the background scan': ARGO,
};

await kubectlOk(plane, ['create', 'namespace', NAMESPACE]);
// cluster-install.test.ts applies the same CRDs: retry while the other file's apply holds them.
await eventually('cert-manager CRDs', async () => (await kubectl(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: certManagerCrds() }))).code === 0);
await kubectlOk(plane, ['wait', '--for=condition=Established', 'crd/certificates.cert-manager.io', 'crd/issuers.cert-manager.io', '--timeout=60s']);
// prometheus-operator's kinds, so the apiserver takes them; their schemas are checked with the validators of
// the pinned @kubernetes-models/prometheus-operator (its CRD schemas are compiled into code, not kept).
await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [['ServiceMonitor', 'servicemonitors'], ['PrometheusRule', 'prometheusrules']].map(([kind, plural]) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.monitoring.coreos.com` },
  spec: { group: 'monitoring.coreos.com', scope: 'Namespaced', names: { kind, plural, listKind: `${kind}List`, singular: String(kind).toLowerCase() }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
})) }));
await kubectlOk(plane, ['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com', '--timeout=60s']);

t.test('helm lint is clean; the values schema refuses bad values, naming them', async (t) => {
  const lint = await helm(['lint', '--strict', CHART]);
  t.equal(lint.code, 0, lint.stdout + lint.stderr);
  const refused = async (set: string[], message: RegExp) => {
    const run = await helm(['template', 'x', CHART, ...set.flatMap((value) => ['--set', value])]);
    t.not(run.code, 0, `refused: ${set.join(' ')}`);
    t.match(run.stderr, message);
  };
  await refused(['webhook.failurePolicy=Sometimes'], /\/webhook\/failurePolicy': value must be one of 'Ignore', 'Fail'/);
  await refused(['webhook.timeoutSeconds=60'], /\/webhook\/timeoutSeconds/);
  await refused(['replicaCunt=3'], /additional properties 'replicaCunt' not allowed/);
  await refused(['certificates.mode=existingSecret'], /\/certificates\/existingSecret\/(name|caBundle)/);
  await refused(['certificates.mode=vault'], /\/certificates\/mode/);
  await refused(['argoRollouts.enabled=yes'], /\/argoRollouts\/enabled/);
  await refused(['argoRollouts.enable=true'], /additional properties 'enable' not allowed/);
});

t.test('argoRollouts.enabled: the Rollout rule in every webhook entry when on, in none when off', async (t) => {
  const off = objects(await render({}));
  const on = objects(await render({ argoRollouts: { enabled: true } }));
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const offHooks: Obj[] = off.find((object) => object.kind === kind)?.webhooks ?? [];
    const onHooks: Obj[] = on.find((object) => object.kind === kind)?.webhooks ?? [];
    t.equal(offHooks.length, kind.startsWith('Validating') ? 8 : 4, `${kind}: every mode and namespace fact`);
    for (const webhook of offHooks) t.same(webhook.rules, [APPS_RULE], `off: ${webhook.name} has the apps rule only`);
    for (const webhook of onHooks) t.same(webhook.rules, [APPS_RULE, ROLLOUTS_RULE], `on: ${webhook.name} has the Rollout rule too`);
    // Nothing else differs: the same entries, paths and selectors (the generated caBundle aside).
    const rest = (webhooks: Obj[]) => webhooks.map((webhook) => ({ ...webhook, rules: undefined, clientConfig: { ...webhook.clientConfig, caBundle: undefined } }));
    t.same(rest(onHooks), rest(offHooks), `${kind}: only the rules change`);
  }
  t.notOk(JSON.stringify(off).includes('argoproj'), 'off: no trace of Argo anywhere in the render');
  // The background scan lists Rollouts either way (a 404 where the CRD is absent is skipped in silence).
  for (const argoRollouts of [false, true]) {
    const scan = one(await render({ argoRollouts: { enabled: argoRollouts }, backgroundScan: { enabled: true } }), 'ClusterRole');
    t.same(scan.rules.filter((rule: Obj) => rule.apiGroups.includes('argoproj.io')), [{ apiGroups: ['argoproj.io'], resources: ['rollouts'], verbs: ['list'] }], `argoRollouts.enabled=${argoRollouts}: the scan may list Rollouts`);
  }
  // Why the chart may carry the rule where Argo Rollouts is not installed: the apiserver validates a rule's
  // syntax only (validateRule, pkg/apis/admissionregistration/validation), never whether the resource is served.
  const [entry] = on.find((object) => object.kind === 'ValidatingWebhookConfiguration')?.webhooks ?? [];
  const unserved = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'rollsafe-unserved-rule' }, webhooks: [{
    ...entry,
    rules: [{ ...ROLLOUTS_RULE, apiGroups: ['unserved.rollsafe.test'], resources: ['widgets'] }],
  }] };
  const accepted = await kubectl(plane, ['apply', '--dry-run=server', '-f', '-'], JSON.stringify(unserved));
  t.equal(accepted.code, 0, `a rule for a resource no API serves is accepted: ${accepted.stderr}`);
  // While a rule the validation does check is refused: the dry run validates.
  const refused = await kubectl(plane, ['apply', '--dry-run=server', '-f', '-'], JSON.stringify({ ...unserved, webhooks: [{ ...unserved.webhooks[0], rules: [{ ...unserved.webhooks[0]!.rules[0], apiVersions: [] }] }] }));
  t.not(refused.code, 0);
  t.match(refused.stderr, /rules\[0\]\.apiVersions: Required value/);
});

for (const [name, values] of Object.entries(OPTIONS)) {
  t.test(`render "${name}": accepted by the apiserver, and rollsafe finds nothing to say`, async (t) => {
    const yaml = await render(values);
    // Server-side dry run: every object defaulted, validated (CRDs included) and admitted, nothing stored.
    let run: Run = { code: 1, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 50; attempt++) {
      run = await kubectl(plane, ['apply', '--dry-run=server', '-f', '-'], yaml);
      if (run.code === 0 || !/no matches for kind|resource mapping not found/.test(run.stderr)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    t.equal(run.code, 0, run.stderr);
    const file = join(mkdtempSync(join(tmpdir(), 'rollsafe-render-')), 'render.yaml');
    writeFileSync(file, yaml);
    const audit = await runCli(['audit', file, '--fail-on', 'warning', '--output', 'compact']);
    const findings = audit.stdout.trim().split('\n').filter((line) => line !== '');
    if (values === EVERY) {
      // podDisruptionBudget.enabled=false is allowed, and rollsafe says what it costs.
      t.equal(findings.length, 1, audit.stdout);
      t.match(findings[0], /warning \[disruption-budget\] Deployment rollsafe-helm\/zdt: no PodDisruptionBudget/);
    } else {
      t.equal(audit.code, 0, audit.stdout);
      t.same(findings, [], 'zero findings, info included');
    }
  });
}

t.test('what each option renders', async (t) => {
  const every = await render(EVERY);
  const deployment = one(every, 'Deployment');
  t.equal(deployment.metadata.name, 'zdt');
  t.equal(deployment.spec.replicas, 3);
  const container = deployment.spec.template.spec.containers[0];
  t.equal(container.image, 'registry.example.com/rollsafe:9.9.9');
  t.same(container.lifecycle, { preStop: { sleep: { seconds: 12 } } });
  t.ok(container.args.includes('--shutdown-delay=3') && container.args.includes('--log-level=debug'));
  t.equal(deployment.spec.template.spec.terminationGracePeriodSeconds, 45);
  t.equal(deployment.spec.template.metadata.labels.team, 'platform');
  t.same(byKind(every, 'PodDisruptionBudget'), [], 'PDB off');
  const validating = one(every, 'ValidatingWebhookConfiguration');
  for (const webhook of validating.webhooks) {
    t.equal(webhook.failurePolicy, 'Fail');
    t.equal(webhook.timeoutSeconds, 3);
    t.same(webhook.namespaceSelector.matchExpressions[0].values, ['kube-system', 'kube-node-lease', NAMESPACE, 'legacy']);
    t.same(webhook.namespaceSelector.matchExpressions.at(-1), SCOPE);
    t.same(webhook.objectSelector, EVERY['webhook'].objectSelector);
  }
  t.ok(one(every, 'MutatingWebhookConfiguration').webhooks.every((webhook: Obj) => webhook.reinvocationPolicy === 'Never'));
  // The policy from values is what the server reads: a document `rollsafe policy --check` accepts.
  const policy = one(every, 'ConfigMap').data['policy.yaml'];
  const file = join(mkdtempSync(join(tmpdir(), 'rollsafe-policy-')), 'policy.yaml');
  writeFileSync(file, policy);
  t.equal((await runCli(['policy', '--check', file])).code, 0, policy);
  t.match(policy, /drainSeconds: 25/);

  const generated = one(every, 'Secret');
  t.equal(generated.type, 'kubernetes.io/tls');
  t.equal(validating.webhooks[0].clientConfig.caBundle, generated.data['ca.crt'], 'the caBundle is the generated CA');
  const certificate = Buffer.from(generated.data['tls.crt'], 'base64').toString();
  t.match(certificate, /BEGIN CERTIFICATE/);

  const managed = await render(MANAGED);
  t.same(byKind(managed, 'Secret'), [], 'cert-manager writes the Secret');
  t.equal(one(managed, 'ValidatingWebhookConfiguration').metadata.annotations['cert-manager.io/inject-ca-from'], `${NAMESPACE}/rollsafe`);
  t.same(byKind(managed, 'Issuer').map((issuer) => issuer.metadata.name).sort(), ['rollsafe-ca', 'rollsafe-selfsigned']);
  const external = await render(EXTERNAL_ISSUER);
  t.same(byKind(external, 'Issuer'), [], 'no issuer of its own');
  t.same(one(external, 'Certificate').spec.issuerRef, { name: 'corporate-ca', kind: 'ClusterIssuer' });
  const existing = await render(EXISTING);
  t.equal(one(existing, 'Deployment').spec.template.spec.volumes[1].secret.secretName, 'my-tls');
  t.equal(one(existing, 'MutatingWebhookConfiguration').webhooks[0].clientConfig.caBundle, CA_BUNDLE);
});

t.test('monitoring: ServiceMonitor and PrometheusRule valid for prometheus-operator, the dashboard for Grafana', async (t) => {
  const yaml = await render(MONITORED);
  const monitor = one(yaml, 'ServiceMonitor');
  t.doesNotThrow(() => new ServiceMonitor(monitor as ConstructorParameters<typeof ServiceMonitor>[0]).validate(), 'ServiceMonitor schema');
  t.same(monitor.spec.endpoints, [{ port: 'metrics', interval: '15s', path: '/metrics' }]);
  const service = one(yaml, 'Service');
  t.ok(Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => service.metadata.labels[key] === value), 'selects the Service');
  const rule = one(yaml, 'PrometheusRule');
  t.doesNotThrow(() => new PrometheusRule(rule as ConstructorParameters<typeof PrometheusRule>[0]).validate(), 'PrometheusRule schema');
  const exprs = rule.spec.groups[0].rules.map((entry: Obj) => entry.expr).join('\n');
  // Every metric an alert reads is one the server exports.
  const metrics = readFileSync(join(ROOT, 'src', 'server', 'metrics.ts'), 'utf8');
  for (const name of exprs.match(/rollsafe_[a-z_]+/g) ?? []) t.ok(metrics.includes(`'${name.replace(/_bucket$/, '')}'`), `${name} is exported`);
  const dashboard = byKind(yaml, 'ConfigMap').find((map) => map.metadata.labels?.grafana_dashboard === '1');
  t.ok(dashboard, 'labelled for the Grafana sidecar');
  const json = JSON.parse(dashboard?.data['rollsafe.json'] ?? '{}');
  for (const panel of json.panels) for (const target of panel.targets) for (const name of String(target.expr).match(/rollsafe_[a-z_]+/g) ?? []) t.ok(metrics.includes(`'${name.replace(/_bucket$/, '')}'`), `panel "${panel.title}": ${name} is exported`);
});

t.test('the default webhook configurations equal manifests/base in rules, selectors and settings', async (t) => {
  const chart = objects(await render({}, 'rollsafe-system'));
  const base = objects(await kubectlOk(plane, ['kustomize', join(ROOT, 'manifests', 'base')]));
  // What only the certificate machinery and the chart's bookkeeping set.
  const settings = (object: Obj | undefined) =>
    object?.webhooks.map((webhook: Obj) => ({ ...webhook, clientConfig: { ...webhook.clientConfig, caBundle: undefined } }));
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const fromChart = chart.find((object) => object.kind === kind);
    const fromBase = base.find((object) => object.kind === kind);
    t.ok(fromBase, `the base has a ${kind}`);
    t.same(settings(fromChart), settings(fromBase), kind);
  }
  // argoRollouts.enabled renders what the kustomize component adds to the base, as a user's kustomization uses it.
  const copy = mkdtempSync(join(tmpdir(), 'rollsafe-argo-kustomize-'));
  cpSync(join(ROOT, 'manifests'), join(copy, 'manifests'), { recursive: true });
  mkdirSync(join(copy, 'mine'));
  writeFileSync(join(copy, 'mine', 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../manifests/base]\ncomponents: [../manifests/components/argo-rollouts]\n');
  const argoChart = objects(await render({ argoRollouts: { enabled: true } }, 'rollsafe-system'));
  const argoBase = objects(await kubectlOk(plane, ['kustomize', join(copy, 'mine')]));
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const fromChart = argoChart.find((object) => object.kind === kind);
    t.ok(fromChart?.webhooks.every((webhook: Obj) => webhook.rules.length === 2), `${kind}: the chart adds the rule`);
    t.same(settings(fromChart), settings(argoBase.find((object) => object.kind === kind)), `${kind} with Argo Rollouts`);
  }
});

t.test('helm install into the real apiserver, an upgrade that turns Argo Rollouts on, and helm uninstall', async (t) => {
  // Webhook configurations are cluster-scoped and other test files register one named "rollsafe": a release
  // name of its own.
  const release = 'chart-test';
  const fullname = 'chart-test-rollsafe';
  const file = join(mkdtempSync(join(tmpdir(), 'rollsafe-values-')), 'values.json');
  writeFileSync(file, JSON.stringify({ webhook: { namespaceSelectorExpressions: [SCOPE] }, backgroundScan: { enabled: true } }));
  const install = await helm(['install', release, CHART, '--namespace', NAMESPACE, '--values', file, `--kubeconfig=${plane.kubeconfig}`]);
  t.equal(install.code, 0, install.stderr);
  const secret = JSON.parse(await kubectlOk(plane, ['get', 'secret', `${fullname}-tls`, '-n', NAMESPACE, '-o', 'json']));
  const webhook = JSON.parse(await kubectlOk(plane, ['get', 'validatingwebhookconfiguration', fullname, '-o', 'json']));
  t.equal(webhook.webhooks[0].clientConfig.caBundle, secret.data['ca.crt'], 'the stored caBundle is the stored CA');
  // The scan's service account may read what the rules read and write PolicyReports, nothing more.
  const scan = `system:serviceaccount:${NAMESPACE}:${fullname}-scan`;
  // A SubjectAccessReview names group and resource exactly (kubectl auth can-i needs the PolicyReport CRD
  // installed to map the name, and cluster-audit.test.ts tests the cluster without it).
  const can = async (verb: string, group: string, resource: string, namespace = 'default') => {
    const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: scan, groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`], resourceAttributes: { verb, group, resource, namespace } } };
    return JSON.parse(await kubectlOk(plane, ['create', '-o', 'json', '-f', '-'], JSON.stringify(review))).status.allowed === true;
  };
  for (const [verb, group, resource] of [['list', 'apps', 'deployments'], ['list', 'argoproj.io', 'rollouts'], ['list', 'policy', 'poddisruptionbudgets'], ['list', '', 'namespaces'], ['create', 'wgpolicyk8s.io', 'policyreports'], ['patch', 'wgpolicyk8s.io', 'policyreports']] as const) {
    t.ok(await can(verb, group, resource), `may ${verb} ${resource}`);
  }
  for (const [verb, group, resource] of [['get', '', 'secrets'], ['create', 'apps', 'deployments'], ['patch', 'apps', 'deployments'], ['create', 'argoproj.io', 'rollouts'], ['delete', 'wgpolicyk8s.io', 'policyreports'], ['list', '', 'pods']] as const) {
    t.notOk(await can(verb, group, resource), `may not ${verb} ${resource}`);
  }
  // And that is enough: the scan's audit, run with the account's own token, reads every namespace.
  const token = (await kubectlOk(plane, ['create', 'token', `${fullname}-scan`, '-n', NAMESPACE])).trim();
  const config = join(mkdtempSync(join(tmpdir(), 'rollsafe-scan-')), 'kubeconfig');
  writeFileSync(config, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'scan',
    clusters: [{ name: 'test', cluster: { server: plane.server, 'certificate-authority-data': readFileSync(plane.caFile).toString('base64') } }],
    users: [{ name: 'scan', user: { token } }],
    contexts: [{ name: 'scan', context: { cluster: 'test', user: 'scan' } }],
  }));
  const audit = await runCli(['audit', '--cluster', '-A', '--kubeconfig', config, '--fail-on', 'never', '--output', 'json']);
  t.equal(audit.code, 0, audit.stderr);
  t.same(JSON.parse(audit.stdout).inputErrors, [], 'nothing forbidden');
  t.notMatch(audit.stderr, /may not list|cannot list/, 'not even the optional lists (Rollouts included)');
  // Why the scan may list Rollouts with argoRollouts off too: without the grant a list is refused (403) before
  // the apiserver looks the resource up, even for an API no one serves, and the audit warns about a 403.
  const scanner = { ...plane, kubeconfig: config };
  const unserved = await kubectl(scanner, ['get', '--raw', '/apis/unserved.rollsafe.test/v1/namespaces/default/widgets']);
  t.not(unserved.code, 0);
  t.match(unserved.stderr, /forbidden/i, 'a 403, not a 404');
  // Installed with argoRollouts off: no entry matches Rollouts.
  const rules = async (kind: string) => (JSON.parse(await kubectlOk(plane, ['get', kind, fullname, '-o', 'json'])).webhooks as Obj[]).map((entry) => entry.rules);
  const ENTRIES = [['validatingwebhookconfiguration', 8], ['mutatingwebhookconfiguration', 4]] as const;
  for (const [kind, entries] of ENTRIES) t.same(await rules(kind), Array.from({ length: entries }, () => [APPS_RULE]), `${kind}: apps only`);
  // An upgrade finds the Secret (lookup) and keeps it: no certificate churn, no window of mismatch. It turns Argo
  // Rollouts on: the apiserver stores the rule in every entry.
  writeFileSync(file, JSON.stringify({ webhook: { namespaceSelectorExpressions: [SCOPE] }, backgroundScan: { enabled: true }, argoRollouts: { enabled: true } }));
  const upgrade = await helm(['upgrade', release, CHART, '--namespace', NAMESPACE, '--values', file, `--kubeconfig=${plane.kubeconfig}`]);
  t.equal(upgrade.code, 0, upgrade.stderr);
  const after = JSON.parse(await kubectlOk(plane, ['get', 'secret', `${fullname}-tls`, '-n', NAMESPACE, '-o', 'json']));
  t.equal(after.data['tls.crt'], secret.data['tls.crt'], 'the certificate is kept across upgrades');
  for (const [kind, entries] of ENTRIES) t.same(await rules(kind), Array.from({ length: entries }, () => [APPS_RULE, ROLLOUTS_RULE]), `${kind}: every entry matches Rollouts too`);
  const uninstall = await helm(['uninstall', release, '--namespace', NAMESPACE, `--kubeconfig=${plane.kubeconfig}`]);
  t.equal(uninstall.code, 0, uninstall.stderr);
  t.equal((await kubectl(plane, ['get', 'validatingwebhookconfiguration', fullname])).code, 1, 'gone');
});

t.test('the chart README values table is generated from values.yaml', async (t) => {
  const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
  t.ok(readme.includes(valuesTable(readFileSync(join(CHART, 'values.yaml'), 'utf8'))), 'run `npm run chart:readme` after changing values.yaml');
});
