/**
 * What the controllers really do in one rollout, step by step: the states `rollsafe plan` predicts and is
 * checked against. The pods of a steady workload are watched (pod-watch.ts), the rollout is triggered, and
 * every change of the counts is recorded until the rollout completes.
 *
 * Pods are told apart by their revision label (pod-template-hash, or controller-revision-hash): the revision
 * every pod had before the trigger is old, any other is new. Only pods need watching so: one stream, in the
 * apiserver's order (a second one, of ReplicaSets, could not be ordered against it). One template change
 * per observation.
 */
import { selectorMatches } from '../../src/workloads/label-selector.js';
import { getJson, isReady, PodWatch } from './pod-watch.js';

type Obj = Record<string, any>;

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

const REVISION_LABEL: Record<WorkloadKind, string> = {
  Deployment: 'pod-template-hash',
  StatefulSet: 'controller-revision-hash',
  DaemonSet: 'controller-revision-hash',
};

export interface PodCounts {
  /** Not terminating, of the revision before the trigger. */
  old: number;
  /** Not terminating, of another revision. */
  new: number;
  /** Ready and not terminating, old or new (what a Service routes to). */
  ready: number;
  /** Ready new pods. */
  newReady: number;
  /** Deleted (deletionTimestamp set) and not yet removed, old or new. */
  terminating: number;
}

export interface TimelineEntry extends PodCounts {
  /** Milliseconds since the trigger; the first entry is the state before it. */
  ms: number;
  /** The pod change that brought this state, as "MODIFIED web-6d4f9-x7k2q". */
  change: string;
}

export interface RolloutObservation {
  timeline: TimelineEntry[];
  /** The most pods at once, terminating ones included. */
  peakPods: number;
  peakNonTerminating: number;
  /** The fewest ready pods at once. */
  minReady: number;
}

export interface ObserveOptions {
  kubeconfig: string;
  namespace: string;
  kind: WorkloadKind;
  name: string;
  /** Starts the rollout, e.g. by changing the pod template. */
  trigger: () => Promise<unknown>;
  timeoutMs?: number;
  /** Stop once every pod is new and ready, with old pods possibly still terminating (their removal is not awaited). */
  ignoreTerminating?: boolean;
  /** Pods that keep the old revision (a StatefulSet's partition): the rollout ends with this many old pods. */
  keepOld?: number;
}

/** Resolves when every pod is new and ready, as many as the workload wants, and no old or terminating pod is left. */
export async function observeRollout(options: ObserveOptions): Promise<RolloutObservation> {
  const { kubeconfig, namespace, kind, name } = options;
  const workloadPath = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${kind.toLowerCase()}s/${encodeURIComponent(name)}`;
  const before = await getJson(kubeconfig, workloadPath);
  const watch = await PodWatch.start(kubeconfig, namespace);
  try {
    const ownPods = () => [...watch.pods.values()].filter((pod) => selectorMatches(before['spec'].selector, pod.metadata.labels ?? {}));
    const label = REVISION_LABEL[kind];
    const oldRevision = steadyRevision(ownPods(), label, `${kind} ${namespace}/${name}`);
    const timeline: TimelineEntry[] = [{ ms: 0, change: 'before the trigger', ...countPods(ownPods(), label, oldRevision) }];
    const started = performance.now();
    watch.onChange(({ type, pod }) => {
      const counts = countPods(ownPods(), label, oldRevision);
      if (sameCounts(counts, timeline.at(-1)!)) return;
      timeline.push({ ms: Math.round(performance.now() - started), change: `${type} ${pod.metadata.name}`, ...counts });
    });
    await options.trigger();
    const wanted = wantedPods(kind, await getJson(kubeconfig, workloadPath));
    await watch.until(`${kind} ${namespace}/${name} to roll out`, () => {
      const now = timeline.at(-1)!;
      const kept = options.keepOld ?? 0;
      return now.old === kept && (options.ignoreTerminating || now.terminating === 0) && now.new === wanted - kept && now.newReady === wanted - kept;
    }, options.timeoutMs ?? 120_000);
    return summarize([...timeline]);
  } finally {
    watch.stop();
  }
}

/** The one revision of a workload at rest; a rollout under way or terminating pods would blur old and new. */
function steadyRevision(pods: Obj[], label: string, workload: string): string {
  const revisions = new Set(pods.map((pod) => pod.metadata.labels?.[label]));
  const terminating = pods.filter((pod) => pod.metadata.deletionTimestamp).length;
  const [revision] = revisions;
  if (revisions.size !== 1 || typeof revision !== 'string' || terminating > 0) {
    throw new Error(`${workload} is not at rest: revisions ${[...revisions].join(', ') || '(no pods)'}, ${terminating} terminating`);
  }
  return revision;
}

/** How many pods the workload wants: its replicas, or for a DaemonSet the nodes it runs on. */
function wantedPods(kind: WorkloadKind, workload: Obj): number {
  return kind === 'DaemonSet' ? (workload['status']?.desiredNumberScheduled ?? 0) : (workload['spec']?.replicas ?? 1);
}

function countPods(pods: Obj[], label: string, oldRevision: string): PodCounts {
  const counts: PodCounts = { old: 0, new: 0, ready: 0, newReady: 0, terminating: 0 };
  for (const pod of pods) {
    // A pod that ran to its end holds nothing; the controllers replace it.
    if (pod['status']?.phase === 'Succeeded' || pod['status']?.phase === 'Failed') continue;
    if (pod['metadata'].deletionTimestamp) {
      counts.terminating++;
      continue;
    }
    const isNew = pod['metadata'].labels?.[label] !== oldRevision;
    if (isNew) counts.new++;
    else counts.old++;
    if (isReady(pod)) {
      counts.ready++;
      if (isNew) counts.newReady++;
    }
  }
  return counts;
}

function sameCounts(a: PodCounts, b: PodCounts): boolean {
  return a.old === b.old && a.new === b.new && a.ready === b.ready && a.newReady === b.newReady && a.terminating === b.terminating;
}

function summarize(timeline: TimelineEntry[]): RolloutObservation {
  return {
    timeline,
    peakPods: Math.max(...timeline.map((entry) => entry.old + entry.new + entry.terminating)),
    peakNonTerminating: Math.max(...timeline.map((entry) => entry.old + entry.new)),
    minReady: Math.min(...timeline.map((entry) => entry.ready)),
  };
}
