/**
 * Rule defects found on real-world manifests (issue 29, items 6, 7 and part of 8). Fixture-driven cases are under
 * test/fixtures/rules/ (walked by rules-golden.test.ts); these assert what the goldens cannot: the words of a
 * finding, what stays silent, the docs, and the reports of a cluster audit. The real apiserver's side of the
 * same facts is in cluster-audit.test.ts.
 */
import t from 'tap';
import { parse } from 'yaml';
import { auditCluster } from '../src/cluster/audit-cluster.js';
import type { ApiClient } from '../src/cluster/api.js';
import { defaultPolicy, parsePolicy } from '../src/policy/load.js';
import { githubReport } from '../src/reports/compact.js';
import { junitReport } from '../src/reports/junit.js';
import { textReport } from '../src/reports/text.js';
import { allowedDisruptions, refusedBudgetValues } from '../src/rules/disruption-budget/rule.js';
import { probePort } from '../src/rules/probe-port/rule.js';
import type { JsonObject } from '../src/util/object.js';
import { auditText, findingsOf, fixture } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';

const HEADER = 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\n';
const policyWith = (lines: string) => parsePolicy(`${HEADER}${lines}`, 'test policy');

t.test('6: a Service whose every port is a metrics port makes no container serve (Argo CD notifications controller)', async (t) => {
  const argocd = fixture('rules', 'readiness-probe', 'pass-argocd-notifications-metrics-service.yaml');
  const { audit } = auditText(argocd);
  t.same(audit.inputErrors, []);
  for (const rule of ['readiness-probe', 'prestop-delay', 'grace-period']) {
    t.same(findingsOf(audit, rule), [], `${rule}: the metrics Service is the scraper's, not a client's`);
  }
  t.ok(findingsOf(audit, 'rollout-strategy').length > 0, 'the rest of the audit still runs (Recreate)');

  // A second Service with a client port: the pod serves, and the finding names that Service.
  const withClients = `${argocd}---\napiVersion: v1\nkind: Service\nmetadata: {name: notifications-api}\nspec:\n  selector: {app.kubernetes.io/name: argocd-notifications-controller}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n`;
  t.match(findingsOf(auditText(withClients).audit, 'readiness-probe'), [{ message: /selected by Service notifications-api/ }]);
  // A metrics port beside a client port: the Service reaches clients.
  const mixed = argocd.replace('  - name: metrics\n', '  - name: http\n    port: 80\n  - name: metrics\n');
  t.equal(findingsOf(auditText(mixed).audit, 'readiness-probe').length, 1, 'one client port is enough');
  // A headless Service without ports still publishes the ready pods' addresses to clients.
  const headless = argocd.replace(/\nspec:\n {2}ports:\n(?: {2}[- ].*\n)+/, '\nspec:\n  clusterIP: None\n');
  t.notSame(headless, argocd);
  t.equal(findingsOf(auditText(headless).audit, 'readiness-probe').length, 1, 'a Service without ports serves');
});

t.test('7: an HPA beside a workload that writes spec.replicas is a warning naming the HPA, and no fix', async (t) => {
  const { audit, fixed } = auditText(fixture('rules', 'hpa-replicas', 'fail-manifest-writes-replicas.yaml'));
  const [finding, ...rest] = findingsOf(audit, 'hpa-replicas');
  t.same(rest, []);
  t.match(finding, { severity: 'warning', message: /HorizontalPodAutoscaler "api" owns the replica count/ });
  t.notOk(finding?.fix, 'no automatic fix removes the field');
  t.match(finding?.message, /kubectl apply edit-last-applied deployment\/api/, 'client-side apply: the documented migration');
  t.match(finding?.message, /--field-manager=handover-to-hpa/, 'server-side apply: the ownership handover');
  t.match(finding?.message, /without it sets the count to the default 1/, 'says why deleting the field alone is no fix');
  t.match(fixed, /\n {2}replicas: 3\n/, 'the manifest keeps its replicas');

  const stored = findingsOf(auditText(fixture('rules', 'hpa-replicas', 'fail-last-applied-writes-replicas.yaml')).audit, 'hpa-replicas');
  t.match(stored, [{ severity: 'warning', message: /last client-side kubectl apply .* wrote spec\.replicas 3.*HorizontalPodAutoscaler "api"/ }]);
  const unknown = findingsOf(auditText(fixture('rules', 'hpa-replicas', 'info-stored-without-last-applied.yaml')).audit, 'hpa-replicas');
  t.match(unknown, [{ severity: 'info', message: /is unknown: it is a stored object/ }], 'the live spec.replicas is the HPA\'s: unknown, and said so');

  // Without the HPA in the input there is nothing to judge; a lone object is never judged (admission).
  const alone = fixture('rules', 'hpa-replicas', 'fail-manifest-writes-replicas.yaml').split('\n---\n')[0] ?? '';
  t.same(findingsOf(auditText(alone).audit, 'hpa-replicas'), []);
});

t.test('8: min-replicas words its message from the numbers', async (t) => {
  const two = findingsOf(auditText(fixture('rules', 'min-replicas', 'fail-two-replicas-policy-five.yaml'), policyWith('minReplicas: 5\n')).audit, 'min-replicas');
  t.match(two, [{ message: /^replicas is 2 \(below 5\): a node drain, eviction or crash of one pod leaves 1 of 2 to carry all the traffic\.$/ }]);
  t.notMatch(two[0]?.message, /single pod|outage/, 'two pods are no single pod');
  const hpa = findingsOf(auditText(fixture('rules', 'min-replicas', 'fail-hpa-min-replicas-two-policy-three.yaml'), policyWith('minReplicas: 3\n')).audit, 'min-replicas');
  t.match(hpa, [{ message: /minReplicas 2 \(below 3\): a node drain, eviction or crash of one pod leaves 1 of 2 to carry all the traffic\. Raise/ }]);
  const one = findingsOf(auditText(fixture('rules', 'min-replicas', 'fail-one-replica.yaml')).audit, 'min-replicas');
  t.match(one, [{ message: /replicas is 1 \(below 2\): a single pod means every node drain, eviction or crash is an outage/ }]);
  // An HPA at minReplicas 0 (HPAScaleToZero) may run no pod at all: no "1 of 0" arithmetic.
  const zero = fixture('rules', 'min-replicas', 'fail-hpa-min-replicas-two-policy-three.yaml').replace('  minReplicas: 2\n', '  minReplicas: 0\n');
  t.match(findingsOf(auditText(zero, policyWith('minReplicas: 3\n')).audit, 'min-replicas'), [{ message: /minReplicas 0 \(below 3\): at 0 pods nothing serves until the autoscaler scales up again\. Raise/ }]);
});

t.test('8: a PDB the apiserver refuses is named as refused, not as one that allows no disruption', async (t) => {
  const findings = findingsOf(auditText(fixture('rules', 'disruption-budget', 'fail-refused-min-available-over-100-percent.yaml')).audit, 'disruption-budget');
  t.match(findings, [{ severity: 'warning', message: /^the apiserver refuses PodDisruptionBudget "api": minAvailable "150%" is more than 100%/ }]);
  t.notOk(findings.some((finding) => /allows no disruption|unhealthyPodEvictionPolicy/.test(finding.message)), 'a PDB that never exists has no budget and no policy');
  const pdb = (spec: JsonObject): JsonObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec });
  // ValidatePodDisruptionBudgetSpec: both set; ValidatePositiveIntOrPercent; IsNotMoreThan100Percent.
  t.same(refusedBudgetValues(pdb({ minAvailable: 1, maxUnavailable: 1 })), ['minAvailable and maxUnavailable cannot both be set']);
  t.same(refusedBudgetValues(pdb({ minAvailable: '1' })), ['minAvailable "1" is neither an integer >= 0 nor a percentage like "50%"']);
  t.same(refusedBudgetValues(pdb({ maxUnavailable: -1 })), ['maxUnavailable -1 is neither an integer >= 0 nor a percentage like "50%"']);
  t.same(refusedBudgetValues(pdb({ maxUnavailable: '101%' })), ['maxUnavailable "101%" is more than 100%']);
  t.same(refusedBudgetValues(pdb({ minAvailable: '100%' })), [], '100% is allowed (and allows no disruption)');
  t.same(refusedBudgetValues(pdb({ minAvailable: null, maxUnavailable: 1 })), [], 'null is unset, as the apiserver reads it');
  t.equal(allowedDisruptions(pdb({ minAvailable: '150%' }), 3), undefined, 'a refused PDB allows nothing: it never exists');
  t.equal(allowedDisruptions(pdb({ minAvailable: '100%' }), 3), 0);

  // A refused PDB beside a valid one: one budget exists, so no "two budgets" finding.
  const two = fixture('rules', 'disruption-budget', 'fail-refused-min-available-over-100-percent.yaml') +
    '---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: api-ok, namespace: shop}\nspec:\n  maxUnavailable: 1\n  unhealthyPodEvictionPolicy: AlwaysAllow\n  selector: {matchLabels: {app: api}}\n';
  const messages = findingsOf(auditText(two).audit, 'disruption-budget').map((finding) => finding.message);
  t.equal(messages.length, 1);
  t.match(messages[0], /refuses PodDisruptionBudget "api"/);
});

t.test('8: probe-port docs say an undeclared port number is an info finding', async (t) => {
  const run = await runCli(['rules', 'probe-port']);
  t.equal(run.code, 0);
  const [summary] = run.stdout.split('\n');
  t.match(summary, /number the container does not declare is an info finding/);
  t.notMatch(summary, /or a number it declares/, 'no claim that a number must be declared');
  t.match(probePort.docs.checks, /info finding: reported, but it never fails an audit or denies an object/);
  // What the docs say is what the rule does.
  const numbered = fixture('rules', 'probe-port', 'info-undeclared-port-number.yaml');
  t.ok(findingsOf(auditText(numbered).audit, 'probe-port').every((finding) => finding.severity === 'info'));
});

/** An in-memory API server for auditCluster: namespaces with labels, and their Deployments. */
function memoryCluster(namespaces: Record<string, { labels?: Record<string, string>; deployments: JsonObject[] }>): ApiClient {
  return {
    server: 'https://memory',
    context: 'memory',
    namespace: 'default',
    close() {},
    async request(_method, path) {
      const url = new URL(path, 'https://memory');
      const named = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(url.pathname);
      if (named) {
        const found = namespaces[decodeURIComponent(named[1] ?? '')];
        return found ? { status: 200, body: { metadata: { name: named[1], labels: found.labels ?? {} } } } : { status: 404, body: {} };
      }
      const listed = /^\/apis?\/.*\/namespaces\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
      const namespace = decodeURIComponent(listed?.[1] ?? '');
      const items = listed?.[2] === 'deployments' ? (namespaces[namespace]?.deployments ?? []) : [];
      // As a list answers: every item carries its namespace.
      const answered = items.map((item) => ({ ...structuredClone(item), metadata: { ...(item['metadata'] as JsonObject), namespace } }));
      return { status: 200, body: { metadata: {}, items: answered } };
    },
  } as ApiClient;
}

t.test('8: audit --cluster: a namespace in mode off is its own reason; -o github names no file for live objects', async (t) => {
  const web = parse(fixture('admission', 'web-no-probes.yaml')) as JsonObject;
  const cluster = memoryCluster({ quiet: { labels: { 'rollsafe.dev/mode': 'off' }, deployments: [web, { ...web, metadata: { name: 'api' } }] }, shop: { deployments: [web] } });
  const audit = await auditCluster(cluster, { namespaces: ['quiet', 'shop', 'gone'], policy: defaultPolicy() });
  t.match(audit.skipped, [
    { file: 'namespace/quiet', document: 0, kind: 'Deployment', name: 'web', reason: /^namespace mode off \(label rollsafe\.dev\/mode=off\)/ },
    { file: 'namespace/quiet', document: 0, kind: 'Deployment', name: 'api', reason: /^namespace mode off/ },
  ]);
  const text = textReport(audit, { color: false, failOn: 'error' });
  t.notMatch(text, /not apps\/v1 Deployments/, 'Deployments in mode off are apps/v1 Deployments');
  t.match(text, /\n {2}namespace\/quiet: Deployment ×2 skipped: namespace mode off/);
  t.match(text, /input error namespace\/gone: no such namespace/);
  t.notMatch(text, /document 0/);

  const github = githubReport(audit, 'error');
  t.notMatch(github, /file=namespace/, 'namespace/NAME is no file of the repository');
  t.match(github, /^::error title=rollsafe%3A namespace\/gone::no such namespace/m);
  t.match(github, /^::error title=rollsafe readiness-probe%3A Deployment shop\/web \(web\)::/m, 'the title names the object');
  t.notMatch(junitReport(audit, 'error'), /document 0/);
});

t.test('8: -o github keeps file and line for files', async (t) => {
  const { audit } = auditText(fixture('admission', 'web-no-probes.yaml'), defaultPolicy(), 'deploy/web.yaml');
  t.match(githubReport(audit, 'error'), /^::error file=deploy\/web\.yaml,line=1,title=rollsafe readiness-probe/m);
});
