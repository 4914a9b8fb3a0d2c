/**
 * rollsafe plan against the real Deployment controller: a grid of Deployments (helpers/plan-grid.ts) rolled on
 * kwok nodes whose pods become Ready a set time after they start and terminate for a set time
 * (kwok-timed-stages.yaml), each watched through its rollout (rollout-observer.ts). The counts must be the
 * predicted ones exactly: the peak of pods (terminating included) and the Ready floor; pods not terminating
 * stay within the predicted bound; and the controller reports ProgressDeadlineExceeded exactly where the plan
 * says it will.
 * Durations vary by machine: `npm run bench:plan` prints predicted against observed; they are never asserted.
 */
import t from 'tap';
import { eventually, getObject, kubectlOk, sharedControlPlane } from './helpers/cluster.js';
import { getJson } from './helpers/pod-watch.js';
import { GRID, gridDeployment, PLAN_NAMESPACE as NAMESPACE, predicted, type GridCase } from './helpers/plan-grid.js';
import { observeRollout } from './helpers/rollout-observer.js';

type Obj = Record<string, any>;

const plane = await sharedControlPlane(t);
const apply = (object: Obj) => kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify(object));
await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
t.teardown(() => kubectlOk(plane, ['delete', 'namespace', NAMESPACE, '--wait=false']));
await eventually('the default ServiceAccount', () => getObject(plane, 'serviceaccount', 'default', NAMESPACE));

/** Every Progressing reason the Deployment reports while `during` runs (polled: a condition is a state, not an event). */
async function progressReasons(name: string, during: Promise<unknown>): Promise<Set<string>> {
  const reasons = new Set<string>();
  let running = true;
  void during.finally(() => (running = false)).catch(() => undefined);
  while (running) {
    const deployment = await getJson(plane.kubeconfig, `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${name}`);
    const progressing = (deployment['status']?.conditions ?? []).find((condition: Obj) => condition.type === 'Progressing');
    if (progressing?.reason) reasons.add(progressing.reason);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return reasons;
}

async function rollOut(grid: GridCase) {
  const kind = grid.kind ?? 'Deployment';
  await apply(gridDeployment(grid, '1'));
  await eventually(`${grid.name} available`, async () => {
    const status = (await getObject(plane, kind.toLowerCase(), grid.name, NAMESPACE))?.status ?? {};
    if (kind === 'DaemonSet') return status.desiredNumberScheduled === grid.replicas && status.numberAvailable === grid.replicas && status.updatedNumberScheduled === grid.replicas;
    return status.availableReplicas === grid.replicas && status.readyReplicas === grid.replicas && status.replicas === grid.replicas && (status.unavailableReplicas ?? 0) === 0;
  });
  const keepOld = grid.strategy['rollingUpdate']?.partition ?? 0;
  const observing = observeRollout({ kubeconfig: plane.kubeconfig, namespace: NAMESPACE, kind, name: grid.name, ignoreTerminating: true, keepOld, trigger: () => apply(gridDeployment(grid, '2')) });
  const reasons = kind === 'Deployment' ? await progressReasons(grid.name, observing) : new Set<string>();
  return { observation: await observing, reasons };
}

t.test('the grid, as the Deployment, StatefulSet and DaemonSet controllers roll it', async (t) => {
  // All at once: terminating pods outlast every rollout, so the controllers' latency under load changes no count.
  {
    const results = await Promise.all(GRID.map(async (grid) => ({ grid, ...(await rollOut(grid)) })));
    for (const { grid, observation, reasons } of results) {
      t.test(`${grid.kind ?? 'Deployment'} ${grid.name}: ${grid.replicas} replicas, ${JSON.stringify(grid.strategy)}${grid.minReadySeconds ? `, minReadySeconds ${grid.minReadySeconds}` : ''}${grid.parallel ? ', Parallel' : ''}`, async (t) => {
        const plan = predicted(grid);
        const diagnostics = { predicted: plan.steps, observed: observation.timeline.map((entry) => `${entry.ms} ms ${entry.change}: old ${entry.old} new ${entry.new} ready ${entry.ready} terminating ${entry.terminating}`) };
        t.equal(observation.peakPods, plan.peakPods, 'the peak of pods, terminating included', diagnostics);
        // The two ReplicaSets' pods change independently: new pods may appear before the old ones they replace go.
        t.ok(observation.peakNonTerminating <= plan.peakNonTerminating, `pods not terminating: ${observation.peakNonTerminating}, at most ${plan.peakNonTerminating}`, diagnostics);
        t.equal(observation.minReady, plan.minReady, 'the Ready floor', diagnostics);
        t.equal(reasons.has('ProgressDeadlineExceeded'), plan.exceedsProgressDeadline, `ProgressDeadlineExceeded (reported: ${[...reasons].join(', ')})`, diagnostics);
      });
    }
  }
});
