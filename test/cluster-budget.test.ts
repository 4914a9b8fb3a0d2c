/**
 * The termination budget from a live cluster (`rollsafe audit --cluster`, `plan --cluster`): the Ingress in front
 * of a Deployment and its namespace's labels come from the real apiserver, and credentials that may not list
 * Ingresses get a warning, not a failed audit.
 */
import { parse } from 'yaml';
import t from 'tap';
import { sharedControlPlane, kubectlOk, userKubeconfig, eventually, getObject } from './helpers/cluster.js';
import { FIXTURES } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, any>;
const NAMESPACE = 'budget-shop';
const plane = await sharedControlPlane(t);

// The ALB fixture (an Ingress in IP mode with a 30 s deregistration delay), in a namespace of its own without the
// readiness gate label.
const objects = parseAllDocuments(readFileSync(join(FIXTURES, 'rules', 'prestop-delay', 'fail-behind-alb-ip.yaml'), 'utf8'))
  .map((doc) => doc.toJS() as Obj)
  .filter((object) => object.kind !== 'Namespace')
  .map((object) => ({ ...object, metadata: { ...object.metadata, namespace: NAMESPACE } }));
await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { team: 'shop' } } }));
t.teardown(() => kubectlOk(plane, ['delete', 'namespace', NAMESPACE, '--wait=false']));
await eventually('the default ServiceAccount', () => getObject(plane, 'serviceaccount', 'default', NAMESPACE));
await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

// A user who may list the workloads and the usual context, but not Ingresses.
const RULES = [
  { apiGroups: [''], resources: ['services', 'persistentvolumeclaims'], verbs: ['list'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['list'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['list'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
];
await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'budget-auditor', namespace: NAMESPACE }, rules: RULES },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'budget-auditor', namespace: NAMESPACE }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'budget-auditor' }, subjects: [{ kind: 'User', name: 'budget-auditor' }] },
] }));

const findings = (stdout: string, rule: string): Obj[] =>
  (JSON.parse(stdout).results as Obj[]).flatMap((result) => result.findings as Obj[]).filter((finding) => finding.rule === rule);

t.test('audit --cluster finds the ALB in front, and reads the namespace label the readiness gates need', async (t) => {
  const run = await runCli(['audit', '--cluster', '--kubeconfig', plane.kubeconfig, '-n', NAMESPACE, '-o', 'json']);
  t.equal(run.code, 1, run.stderr);
  t.match(findings(run.stdout, 'prestop-delay')[0]?.message, /behind ALB of Ingress web \(target-type ip\), which may send it new connections for 30s/);
  t.match(findings(run.stdout, 'grace-period')[0]?.message, /30s of preStop delay \+ 30s after its stop signal \(ALB of Ingress web/);
  t.match(findings(run.stdout, 'lb-readiness-gate')[0]?.message, `namespace ${NAMESPACE} is not labelled elbv2.k8s.aws/pod-readiness-gate-inject=enabled`);
  await kubectlOk(plane, ['label', 'namespace', NAMESPACE, 'elbv2.k8s.aws/pod-readiness-gate-inject=enabled']);
  const labelled = await runCli(['audit', '--cluster', '--kubeconfig', plane.kubeconfig, '-n', NAMESPACE, '-o', 'json']);
  t.same(findings(labelled.stdout, 'lb-readiness-gate'), [], 'the label, read from the cluster, satisfies it');
  const plan = await runCli(['plan', '--cluster', '--kubeconfig', plane.kubeconfig, '-n', NAMESPACE, '-o', 'json']);
  t.match(parse(plan.stdout).workloads[0].terminationBudget, { preStopSeconds: 30, afterSignalSeconds: 30, graceSeconds: 60, fronts: [{ profile: 'awsAlbIp' }] });
});

t.test('credentials that may not list Ingresses: a warning, and the audit goes on without them', async (t) => {
  const run = await runCli(['audit', '--cluster', '--kubeconfig', userKubeconfig(plane, 'budget-auditor', NAMESPACE), '-n', NAMESPACE, '-o', 'json']);
  t.equal(run.code, 1, 'findings, not an input error');
  t.match(run.stderr, /the credentials may not list networking\.k8s\.io\/v1 Ingress; audited without them/);
  t.match(findings(run.stdout, 'prestop-delay')[0]?.message, /has no preStop delay: when a pod is deleted/, 'the plain budget: no front was seen');
});

