/**
 * rollsafe plan's drain verdicts against the real eviction API: every pod of every workload is evicted as a
 * dry run (POST .../pods/NAME/eviction?dryRun=All, what kubectl drain sends), once the disruption controller
 * has counted the PodDisruptionBudgets. A workload the plan calls blocked has every eviction refused (429 for
 * a budget that allows none, 500 for a pod under two budgets); any other has every eviction allowed.
 */
import t from 'tap';
import { eventually, getObject, kubectl, kubectlOk, sharedControlPlane } from './helpers/cluster.js';
import { parseManifest } from '../src/manifests/read.js';
import { planFiles } from '../src/plan/plan.js';
import { runCli } from './helpers/run-cli.js';

type Obj = Record<string, any>;
const NAMESPACE = 'plan-drain';

const deployment = (name: string, replicas: number, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NAMESPACE },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'app', image: 'example.com/app:1.0' }] } },
  },
});

const budget = (name: string, selector: Record<string, string>, spec: Obj): Obj => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name, namespace: NAMESPACE },
  spec: { ...spec, selector: { matchLabels: selector } },
});

const OBJECTS: Obj[] = [
  deployment('free', 3),
  deployment('tight', 3),
  budget('tight', { app: 'tight' }, { minAvailable: 3 }),
  deployment('roomy', 3),
  budget('roomy', { app: 'roomy' }, { maxUnavailable: 1 }),
  deployment('double', 2),
  budget('double-a', { app: 'double' }, { maxUnavailable: 1 }),
  budget('double-b', { app: 'double' }, { maxUnavailable: 1 }),
  deployment('single', 1),
  budget('single', { app: 'single' }, { minAvailable: 1 }),
  // One budget over two Deployments: the disruption controller counts the pods of both (4, 2 may go).
  deployment('shared-a', 2, { tier: 'shared' }),
  deployment('shared-b', 2, { tier: 'shared' }),
  budget('shared', { tier: 'shared' }, { minAvailable: 2 }),
  deployment('percent', 4),
  budget('percent', { app: 'percent' }, { minAvailable: '100%' }),
];

const plane = await sharedControlPlane(t);
await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }));
t.teardown(() => kubectlOk(plane, ['delete', 'namespace', NAMESPACE, '--wait=false']));
await eventually('the default ServiceAccount', () => getObject(plane, 'serviceaccount', 'default', NAMESPACE));
await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: OBJECTS }));

const plans = planFiles([parseManifest(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: OBJECTS }), 'drain.json')], { podStartSeconds: 0, appStartSeconds: 0, exitSeconds: 0 }, '1.37');

for (const object of OBJECTS.filter((candidate) => candidate['kind'] === 'Deployment')) {
  const name = object['metadata'].name as string;
  await eventually(`${name} available`, async () => (await getObject(plane, 'deployment', name, NAMESPACE))?.status?.availableReplicas === object['spec'].replicas);
}
// The eviction API reads each budget's status: wait until the disruption controller has counted every pod.
for (const object of OBJECTS.filter((candidate) => candidate['kind'] === 'PodDisruptionBudget')) {
  const name = object['metadata'].name as string;
  // Two budgets over one pod: the disruption controller syncs, on each pod event, one of them chosen arbitrarily
  // (getPdbForPod), so the other's counts may stay as first seen. The eviction API refuses such a pod before it
  // reads any budget's status (it counts the budgets first), so for those only the first sync is awaited.
  const overlapping = name.startsWith('double-');
  await eventually(`PodDisruptionBudget ${name} counted`, async () => {
    const status = (await getObject(plane, 'pdb', name, NAMESPACE))?.status;
    return status && status.observedGeneration >= 1 && (overlapping || status.currentHealthy === status.expectedPods);
  });
}

async function evictions(app: string): Promise<Array<{ pod: string; allowed: boolean; why: string }>> {
  const pods = JSON.parse(await kubectlOk(plane, ['get', 'pods', '-n', NAMESPACE, '-l', `app=${app}`, '-o', 'json']))['items'] as Obj[];
  return Promise.all(
    pods.map(async (pod) => {
      const podName = pod['metadata'].name as string;
      const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: podName, namespace: NAMESPACE }, deleteOptions: { dryRun: ['All'] } };
      const run = await kubectl(plane, ['create', '--raw', `/api/v1/namespaces/${NAMESPACE}/pods/${podName}/eviction?dryRun=All`, '-f', '-'], JSON.stringify(eviction));
      return { pod: podName, allowed: run.code === 0, why: run.stderr.trim() };
    }),
  );
}

for (const plan of plans) {
  t.test(`${plan.name}: ${plan.drain.evictionsBlocked ? 'blocked' : 'proceeds'} (${plan.drain.reasons[0] ?? ''})`, async (t) => {
    const results = await evictions(plan.name);
    t.ok(results.length > 0, 'has pods');
    for (const result of results) {
      t.equal(result.allowed, !plan.drain.evictionsBlocked, `${result.pod}: ${result.allowed ? 'evicted (dry run)' : result.why}`);
    }
  });
}

t.test('the cases cover every verdict', async (t) => {
  t.same(
    plans.map((plan) => [plan.name, plan.drain.evictionsBlocked]),
    [['free', false], ['tight', true], ['roomy', false], ['double', true], ['single', true], ['shared-a', false], ['shared-b', false], ['percent', true]],
  );
});

t.test('rollsafe plan --cluster plans the live namespace as the files: the same workloads, rollouts and drains', async (t) => {
  const run = await runCli(['plan', '--cluster', '--kubeconfig', plane.kubeconfig, '-n', NAMESPACE, '-o', 'json', '--exit-seconds', '0', '--kubernetes-version', '1.37']);
  t.equal(run.code, 0, run.stderr);
  const live = JSON.parse(run.stdout).workloads as Array<{ name: string; file: string; rollout: unknown; drain: unknown }>;
  const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
  t.same(
    byName(live).map(({ name, rollout, drain }) => ({ name, rollout, drain })),
    byName(plans).map(({ name, rollout, drain }) => ({ name, rollout, drain })),
  );
  t.ok(live.every((plan) => plan.file === `namespace/${NAMESPACE}`));
  const missing = await runCli(['plan', '--cluster', '--kubeconfig', plane.kubeconfig, '-n', 'no-such-namespace']);
  t.equal(missing.code, 2, 'a namespace that does not exist is no pass');
  t.match(missing.stderr, /no such namespace/);
});
