/**
 * The Deployments test/plan-cluster.test.ts rolls on kwok nodes, and what rollsafe plan predicts for each: pods
 * Ready 1 s after they start (kwok-timed-stages.yaml), no probes, deleted pods terminating for longer than
 * any rollout here takes.
 */
import { timedPodAnnotations } from './kwok-timed-stages.js';
import { parseManifest } from '../../src/manifests/read.js';
import { planFiles, type RolloutPlan } from '../../src/plan/plan.js';

type Obj = Record<string, any>;
export const PLAN_NAMESPACE = 'plan-grid';
const READY_MS = 1000;
/**
 * Longer than any rollout of the grid takes, even on a loaded machine: every deleted pod is still terminating
 * when the rollout ends, so the peak does not depend on how long the controllers take to react. (How long they
 * take decides which terminating pods overlap in between: bench:plan shows that, test/rollout-observer.test.ts
 * checks the pile-up itself.)
 */
export const TERMINATE_MS = 90_000;

export interface GridCase {
  name: string;
  kind?: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  replicas: number;
  strategy: Obj;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  readyMs?: number;
  /** StatefulSets: podManagementPolicy Parallel. */
  parallel?: boolean;
  /** Recreate waits for every old pod to be gone, whatever the controllers' latency: a short time keeps the test short. */
  terminateMs?: number;
}

export const rolling = (maxSurge: number | string, maxUnavailable: number | string) => ({ type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } });

export const GRID: GridCase[] = [
  { name: 'one', replicas: 1, strategy: rolling(1, 0) },
  { name: 'three', replicas: 3, strategy: rolling(1, 0) },
  { name: 'quarter', replicas: 4, strategy: rolling('25%', '25%') },
  { name: 'nosurge', replicas: 5, strategy: rolling(0, 1) },
  { name: 'surge2', replicas: 8, strategy: rolling(2, 0) },
  { name: 'twelve', replicas: 12, strategy: rolling(1, 0) },
  // Ready 3 s after start: its floor (6 of 7) lasts only until the first new pods are Ready. With a 1 s start, one
  // full-suite run on a loaded machine saw another Ready floor than the plan's: the old pod's deletion can come
  // after the new pods are Ready when the controllers lag, and then the floor is never reached.
  { name: 'minready', replicas: 7, strategy: rolling('50%', '25%'), minReadySeconds: 1, readyMs: 3000 },
  { name: 'half', replicas: 6, strategy: rolling(0, '50%') },
  { name: 'pair', replicas: 2, strategy: rolling(1, 0), minReadySeconds: 1 },
  { name: 'recreate', replicas: 3, strategy: { type: 'Recreate' }, terminateMs: 2000 },
  // Pods Ready 4 s after they start, a deadline of 2 s without progress: ProgressDeadlineExceeded.
  { name: 'deadline', replicas: 2, strategy: rolling(1, 0), progressDeadlineSeconds: 2, readyMs: 4000 },
  // StatefulSets replace a pod only once it is gone: a short terminating time keeps them short, and no pod
  // can overlap another, so the controllers' latency changes no count.
  { name: 'sts-ordered', kind: 'StatefulSet', replicas: 3, strategy: { type: 'RollingUpdate' }, terminateMs: 1000 },
  { name: 'sts-two', kind: 'StatefulSet', replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } }, terminateMs: 1000 },
  { name: 'sts-parallel', kind: 'StatefulSet', replicas: 5, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '40%' } }, parallel: true, terminateMs: 1000 },
  { name: 'sts-partition', kind: 'StatefulSet', replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, terminateMs: 1000 },
  // DaemonSets on the control plane's three kwok nodes (replicas: the nodes). Without surge a node gets its new
  // pod once the old one is gone; with surge the old ones pile up, terminating, as a Deployment's do.
  { name: 'ds-default', kind: 'DaemonSet', replicas: 3, strategy: { type: 'RollingUpdate' }, terminateMs: 1000 },
  { name: 'ds-surge', kind: 'DaemonSet', replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
];

/** The control plane's kwok nodes (test/helpers/control-plane.ts), where the grid's DaemonSets run. */
export const KWOK_NODES = 3;

export function gridDeployment(grid: GridCase, revision: string): Obj {
  const labels = { app: grid.name };
  const kind = grid.kind ?? 'Deployment';
  const template = {
    metadata: { labels, annotations: { 'rollsafe.test/revision': revision, ...timedPodAnnotations({ readyAfterMs: grid.readyMs ?? READY_MS, terminateAfterMs: grid.terminateMs ?? TERMINATE_MS }) } },
    spec: { terminationGracePeriodSeconds: 120, containers: [{ name: 'app', image: 'example.com/app:1.0' }] },
  };
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: grid.name, namespace: PLAN_NAMESPACE },
    spec: {
      ...(kind === 'DaemonSet' ? {} : { replicas: grid.replicas }),
      selector: { matchLabels: labels },
      ...(kind !== 'Deployment' && kind !== 'StatefulSet'
        ? { updateStrategy: grid.strategy }
        : kind === 'StatefulSet'
        ? { serviceName: grid.name, updateStrategy: grid.strategy, ...(grid.parallel ? { podManagementPolicy: 'Parallel' } : {}) }
        : { strategy: grid.strategy }),
      ...(grid.minReadySeconds !== undefined ? { minReadySeconds: grid.minReadySeconds } : {}),
      ...(grid.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: grid.progressDeadlineSeconds } : {}),
      template,
    },
  };
}

/** What rollsafe plan predicts for the case: no probe, so Ready when the pod starts (kwok's delay); no preStop. */
export function predicted(grid: GridCase): RolloutPlan {
  const text = JSON.stringify(gridDeployment(grid, '2'));
  const [plan] = planFiles([parseManifest(text, `${grid.name}.json`)], {
    podStartSeconds: (grid.readyMs ?? READY_MS) / 1000,
    appStartSeconds: 0,
    exitSeconds: (grid.terminateMs ?? TERMINATE_MS) / 1000,
    nodes: KWOK_NODES,
  }, '1.37');
  if (!plan?.rollout) throw new Error(`no rollout plan for ${grid.name}`);
  return plan.rollout;
}

