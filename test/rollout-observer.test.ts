/**
 * The ground `rollsafe plan` is checked on: pods on kwok's nodes that take a set time to become Ready and to
 * terminate (kwok-timed-stages.yaml), and an observer that records what the real Deployment controller does
 * with them (rollout-observer.ts). The assertions are what the controller is known to do, on the order and
 * counts of what the watch saw, never on how long a step took.
 */
import t from 'tap';
import { sharedControlPlane, kubectlOk, getObject, eventually } from './helpers/cluster.js';
import { timedPodAnnotations } from './helpers/kwok-timed-stages.js';
import { isReady, PodWatch } from './helpers/pod-watch.js';
import { observeRollout, type TimelineEntry } from './helpers/rollout-observer.js';

type Obj = Record<string, any>;
const NAMESPACE = 'rollout-observer';
const REPLICAS = 4;
const MAX_SURGE = 1;
const WAIT_MS = 30_000;

const plane = await sharedControlPlane(t);
const apply = (object: Obj) => kubectlOk(plane, ['apply', '-n', NAMESPACE, '-f', '-'], JSON.stringify(object));

await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }));
t.teardown(() => kubectlOk(plane, ['delete', 'namespace', NAMESPACE, '--wait=false']));
// Pods need the namespace's default ServiceAccount, which the controller-manager creates.
await eventually('the default ServiceAccount', () => getObject(plane, 'serviceaccount', 'default', NAMESPACE));

const container = { name: 'app', image: 'example.com/app:1.0' };

t.test('a pod without the annotations keeps kwok\'s fast stages; an annotated one waits', async (t) => {
  const watch = await PodWatch.start(plane.kubeconfig, NAMESPACE);
  t.teardown(() => watch.stop());
  const order: string[] = [];
  watch.onChange(({ type, pod }) => {
    const name = pod.metadata.name;
    if (type === 'DELETED') order.push(`${name} removed`);
    else if (isReady(pod) && !order.includes(`${name} ready`)) order.push(`${name} ready`);
  });
  const pod = (name: string, annotations: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, annotations }, spec: { containers: [container] } });
  await apply({ apiVersion: 'v1', kind: 'List', items: [pod('timed', timedPodAnnotations({ readyAfterMs: 2000, terminateAfterMs: 2000 })), pod('plain', {})] });
  await watch.until('both pods ready', () => isReady(watch.pods.get('plain')) && isReady(watch.pods.get('timed')), WAIT_MS);
  await kubectlOk(plane, ['delete', 'pod', '-n', NAMESPACE, 'timed', 'plain', '--wait=false']);
  await watch.until('both pods removed', () => !watch.pods.has('plain') && !watch.pods.has('timed'), WAIT_MS);
  // Created and deleted together (the timed one first): the plain one is Ready and gone while the other waits.
  t.same(order, ['plain ready', 'timed ready', 'plain removed', 'timed removed']);
});

t.test('a rolling update with maxSurge 1, maxUnavailable 0, pods ready after 1 s and terminating for 4 s', async (t) => {
  const labels = { app: 'web' };
  const deployment = (revision: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: MAX_SURGE, maxUnavailable: 0 } },
      template: {
        metadata: { labels, annotations: { 'rollsafe.test/revision': revision, ...timedPodAnnotations({ readyAfterMs: 1000, terminateAfterMs: 4000 }) } },
        spec: { terminationGracePeriodSeconds: 30, containers: [container] },
      },
    },
  });
  await apply(deployment('1'));
  await eventually('web available', async () => {
    const status = (await getObject(plane, 'deployment', 'web', NAMESPACE))?.status ?? {};
    return status.availableReplicas === REPLICAS && status.updatedReplicas === REPLICAS && status.replicas === REPLICAS;
  });

  const observation = await observeRollout({ kubeconfig: plane.kubeconfig, namespace: NAMESPACE, kind: 'Deployment', name: 'web', trigger: () => apply(deployment('2')) });
  const { timeline } = observation;
  const diagnostics = { timeline: timeline.map(describe) };
  t.comment(`peak ${observation.peakPods} pods (${observation.peakNonTerminating} not terminating), never fewer than ${observation.minReady} ready, ${timeline.length} states`);

  t.same(pick(timeline.at(-1)), { old: 0, new: REPLICAS, ready: REPLICAS, terminating: 0 }, 'ends with every pod new and ready', diagnostics);
  // The controller counts the surge without terminating pods: old pods still terminating pile up on top.
  t.ok(observation.peakPods > REPLICAS + MAX_SURGE, `more than replicas + maxSurge pods at once (${observation.peakPods})`, diagnostics);
  t.ok(timeline.some((entry) => entry.terminating >= 2), 'an old pod is still terminating when the next one is deleted (4 s outlast a 1 s step)', diagnostics);
  t.ok(observation.minReady >= REPLICAS, `maxUnavailable 0: never fewer than ${REPLICAS} ready (${observation.minReady})`, diagnostics);
  // The first new pod is seen unready while every old pod still runs; the first old pod goes only once it is ready.
  const firstDeletion = timeline.findIndex((entry) => entry.terminating > 0);
  t.ok(firstDeletion > 0, 'an old pod is deleted', diagnostics);
  t.ok(timeline.slice(0, firstDeletion).some((entry) => entry.new === 1 && entry.newReady === 0 && entry.old === REPLICAS), 'the first new pod starts unready', diagnostics);
  t.equal(timeline[firstDeletion]?.newReady, 1, 'the first old pod is deleted once the first new pod is ready', diagnostics);
});

function pick(entry: TimelineEntry | undefined): Obj | undefined {
  return entry && { old: entry.old, new: entry.new, ready: entry.ready, terminating: entry.terminating };
}

function describe(entry: TimelineEntry): string {
  return `${entry.ms} ms ${entry.change}: old ${entry.old}, new ${entry.new} (${entry.newReady} ready), ready ${entry.ready}, terminating ${entry.terminating}`;
}
