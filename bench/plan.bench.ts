/**
 * npm run bench:plan: how long `rollsafe plan` says each rollout takes, against how long the real controllers
 * take on kwok nodes whose pods become Ready and terminate after set times (test/helpers/kwok-timed-stages.yaml).
 * test/plan-cluster.test.ts asserts the counts, which are exact; durations depend on the machine (the
 * controllers' reaction time adds to every step), so they are printed here, one line per case, and never
 * asserted. The issue's target: every estimate within 25% of the observed duration.
 *
 * One case at a time, so that no rollout slows another: a duration is from the template change until every new
 * pod is Ready and every old pod is gone.
 */
import t from 'tap';
import { eventually, getObject, kubectlOk, sharedControlPlane } from '../test/helpers/cluster.js';
import { gridDeployment, PLAN_NAMESPACE as NAMESPACE, predicted, rolling, type GridCase } from '../test/helpers/plan-grid.js';
import { observeRollout } from '../test/helpers/rollout-observer.js';

type Obj = Record<string, any>;
/** Long enough that the controllers' reaction (tens of ms per step) is small beside each step, as in real clusters. */
const READY_MS = 2000;
const TERMINATE_MS = 3000;
const TARGET = 0.25;

const timed = (grid: GridCase): GridCase => ({ readyMs: READY_MS, terminateMs: TERMINATE_MS, ...grid });

const CASES = ([
  { name: 'three', replicas: 3, strategy: rolling(1, 0) },
  { name: 'quarter', replicas: 4, strategy: rolling('25%', '25%') },
  { name: 'nosurge', replicas: 5, strategy: rolling(0, 1) },
  { name: 'surge2', replicas: 8, strategy: rolling(2, 0) },
  { name: 'twelve', replicas: 12, strategy: rolling(1, 0) },
  { name: 'minready', replicas: 7, strategy: rolling('50%', '25%'), minReadySeconds: 1 },
  { name: 'half', replicas: 6, strategy: rolling(0, '50%') },
  { name: 'recreate', replicas: 3, strategy: { type: 'Recreate' } },
  { name: 'sts-ordered', kind: 'StatefulSet', replicas: 3, strategy: { type: 'RollingUpdate' } },
  { name: 'sts-parallel', kind: 'StatefulSet', replicas: 5, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '40%' } }, parallel: true },
  { name: 'ds-default', kind: 'DaemonSet', replicas: 3, strategy: { type: 'RollingUpdate' } },
  { name: 'ds-surge', kind: 'DaemonSet', replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
] as GridCase[]).map(timed);

const plane = await sharedControlPlane(t);
const apply = (object: Obj) => kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify(object));
await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
t.teardown(() => kubectlOk(plane, ['delete', 'namespace', NAMESPACE, '--wait=false']));
await eventually('the default ServiceAccount', () => getObject(plane, 'serviceaccount', 'default', NAMESPACE));

async function atRest(grid: GridCase): Promise<void> {
  const kind = grid.kind ?? 'Deployment';
  await eventually(`${grid.name} at rest`, async () => {
    const status = (await getObject(plane, kind.toLowerCase(), grid.name, NAMESPACE))?.status ?? {};
    if (kind === 'DaemonSet') return status.numberAvailable === grid.replicas && status.updatedNumberScheduled === grid.replicas;
    return status.availableReplicas === grid.replicas && status.replicas === grid.replicas;
  });
}

const seconds = (value: number) => `${value.toFixed(1)}s`;
const lines: string[] = [];
let within = 0;

t.test('predicted against observed rollout durations on kwok', async (t) => {
  for (const grid of CASES) {
    const kind = grid.kind ?? 'Deployment';
    await apply(gridDeployment(grid, '1'));
    await atRest(grid);
    const observation = await observeRollout({ kubeconfig: plane.kubeconfig, namespace: NAMESPACE, kind, name: grid.name, timeoutMs: 300_000, trigger: () => apply(gridDeployment(grid, '2')) });
    const plan = predicted(grid);
    const observed = (observation.timeline.at(-1)?.ms ?? 0) / 1000;
    const ratio = observed > 0 ? plan.estimatedSeconds / observed : Number.NaN;
    const ok = Math.abs(ratio - 1) <= TARGET;
    if (ok) within++;
    const line =
      `${kind} ${grid.name} (${grid.replicas}, ${JSON.stringify(grid.strategy['rollingUpdate'] ?? grid.strategy['type'])}): ` +
      `predicted ${seconds(plan.estimatedSeconds)}, observed ${seconds(observed)}, ratio ${ratio.toFixed(2)}${ok ? '' : ' (outside 25%)'}; ` +
      `peak predicted ${plan.peakPods} observed ${observation.peakPods}`;
    lines.push(line);
    t.comment(line);
    await kubectlOk(plane, ['delete', kind.toLowerCase(), grid.name, '-n', NAMESPACE, '--wait=false']);
  }
  t.comment(`${within} of ${CASES.length} estimates within ${TARGET * 100}% of the observed duration (pods Ready after ${READY_MS} ms, terminating for ${TERMINATE_MS} ms)`);
  t.pass('every case rolled out');
});
