/**
 * `rollsafe plan`: what a rollout and a node drain will do to each workload, predicted as the controllers run
 * them, from the same inputs and context as `rollsafe audit`. The JSON form of WorkloadPlan is a public
 * interface (README, "rollsafe plan").
 */
import type { ParsedFile } from '../manifests/read.js';
import { asInteger, asRecord, asString, type JsonObject } from '../util/object.js';
import { parseIntOrPercent, scale } from '../workloads/int-or-percent.js';
import { addRelated, autoscalerFor, emptyRelated, type RelatedObjects } from '../workloads/related.js';
import { resolveWorkload } from '../workloads/workload-ref.js';
import type { Workload } from '../workloads/workload.js';
import { planArgoRollout, type ArgoRolloutPlan } from './argo-rollout-plan.js';
import { planDeploymentRollout, type RolloutStep } from './deployment-rollout.js';
import { planStatefulSetRollout } from './statefulset-rollout.js';
import { planDaemonSetRollout } from './daemonset-rollout.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS } from '../rules/progress-deadline/rule.js';
import { honoursStatefulSetUnavailable, resolveFenceposts, resolveStatefulSetMaxUnavailable } from '../rules/rollout-strategy/rule.js';
import { planDrain, type DrainPlan } from './drain.js';
import { podTiming, type PodTiming, type TimingAssumptions } from './pod-timing.js';
import { budgetPlan, type BudgetPlan } from './budget-plan.js';
import { defaultPolicy } from '../policy/load.js';
import { effectivePolicy } from '../policy/effective.js';
import type { Policy } from '../policy/types.js';

/** SetDefaults_Deployment. */

export interface RolloutPlan {
  strategy: string;
  replicas: number;
  maxSurge: number;
  maxUnavailable: number;
  minReadySeconds: number;
  /** StatefulSets: the ordinal below which pods keep the old revision. */
  partition?: number;
  /** StatefulSets: OrderedReady or Parallel. */
  podManagementPolicy?: string;
  steps: RolloutStep[];
  peakPods: number;
  peakNonTerminating: number;
  minReady: number;
  estimatedSeconds: number;
  /** Deployments only: StatefulSets have no progress deadline (null). */
  progressDeadlineSeconds: number | null;
  longestWithoutProgressSeconds: number | null;
  exceedsProgressDeadline: boolean;
}

export interface WorkloadPlan {
  kind: string;
  namespace: string | undefined;
  name: string;
  file: string;
  timing: PodTiming;
  /** The rollout of a template change; null where rollsafe does not predict this kind's rollouts this way (`why`). */
  rollout: RolloutPlan | null;
  why?: string;
  /** Argo Rollouts: the update phase by phase (canary steps, blue-green preview, switch and scale-down). */
  argoRollout?: ArgoRolloutPlan;
  drain: DrainPlan;
  /** How long the pods must keep serving after deletion, and be given after their stop signal (src/budget/). */
  terminationBudget: BudgetPlan;
}

/** The replicas a rollout starts from: the HPA's minReplicas where one scales the workload, as at its lowest. */
function plannedReplicas(workload: Workload, related: RelatedObjects): number {
  const hpa = autoscalerFor(workload, related);
  return hpa ? (asInteger(asRecord(hpa['spec'])?.['minReplicas']) ?? 1) : (workload.replicas ?? 1);
}

/** ResolveFenceposts: surge rounds up, unavailable down; both 0 would stall, so one pod may go unavailable. */
function fenceposts(strategy: Record<string, unknown> | undefined, replicas: number): { maxSurge: number; maxUnavailable: number } | undefined {
  const rolling = asRecord(strategy?.['rollingUpdate']);
  const resolved = resolveFenceposts(rolling?.['maxSurge'], rolling?.['maxUnavailable'], replicas);
  return resolved && { maxSurge: resolved.maxSurge, maxUnavailable: resolved.maxUnavailable };
}

/**
 * Recreate (rolloutRecreate): every old pod is scaled down, and the new ReplicaSet is scaled up only once no old
 * pod is left (oldPodsRunning counts terminating ones).
 */
function recreateSteps(replicas: number, timing: PodTiming): RolloutStep[] {
  const gone = timing.terminatingSeconds;
  const steps: RolloutStep[] = [{ at: 0, old: 0, new: 0, ready: 0, terminating: replicas }];
  if (gone > 0) steps.push({ at: gone, old: 0, new: replicas, ready: 0, terminating: 0 });
  steps.push({ at: gone + timing.readySeconds, old: 0, new: replicas, ready: replicas, terminating: 0 });
  return steps;
}

function deploymentRollout(workload: Workload, related: RelatedObjects, timing: PodTiming): RolloutPlan | string {
  const spec = asRecord(workload.object['spec']) ?? {};
  // With an HPA the replicas are its own; a rollout may start at its minReplicas.
  const replicas = plannedReplicas(workload, related);
  const strategy = asRecord(spec['strategy']);
  const type = asString(strategy?.['type']) ?? 'RollingUpdate';
  const minReadySeconds = asInteger(spec['minReadySeconds']) ?? 0;
  const progressDeadlineSeconds = asInteger(spec['progressDeadlineSeconds']) ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  const common = { strategy: type, replicas, minReadySeconds, progressDeadlineSeconds };
  if (type === 'Recreate') {
    const steps = recreateSteps(replicas, timing);
    const estimatedSeconds = steps[steps.length - 1]?.at ?? 0;
    return {
      ...common,
      maxSurge: 0,
      maxUnavailable: replicas,
      steps,
      peakPods: replicas,
      peakNonTerminating: replicas,
      minReady: 0,
      estimatedSeconds: estimatedSeconds + minReadySeconds,
      longestWithoutProgressSeconds: Math.max(timing.terminatingSeconds, timing.readySeconds),
      exceedsProgressDeadline: Math.max(timing.terminatingSeconds, timing.readySeconds) > progressDeadlineSeconds,
    };
  }
  const resolved = type === 'RollingUpdate' ? fenceposts(strategy, replicas) : undefined;
  if (!resolved) return 'the strategy is one the apiserver refuses (rollsafe audit says why)';
  const prediction = planDeploymentRollout({ replicas, ...resolved, minReadySeconds, readySeconds: timing.readySeconds, terminatingSeconds: timing.terminatingSeconds });
  return {
    ...common,
    ...resolved,
    steps: prediction.steps,
    peakPods: prediction.peakPods,
    peakNonTerminating: prediction.peakNonTerminating,
    minReady: prediction.minReady,
    estimatedSeconds: prediction.completeSeconds,
    longestWithoutProgressSeconds: prediction.longestWithoutProgressSeconds,
    exceedsProgressDeadline: prediction.longestWithoutProgressSeconds > progressDeadlineSeconds,
  };
}

/**
 * A StatefulSet's RollingUpdate (OnDelete has no rollout to predict). maxUnavailable counts from 1.37, where
 * MaxUnavailableStatefulSet is on by default (getStatefulSetMaxUnavailable: percentages round down, at least 1).
 */
function statefulSetRollout(workload: Workload, related: RelatedObjects, timing: PodTiming, kubernetesVersion: string): RolloutPlan | string {
  const spec = asRecord(workload.object['spec']) ?? {};
  const replicas = plannedReplicas(workload, related);
  const strategy = asRecord(spec['updateStrategy']);
  const type = asString(strategy?.['type']) ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') return `updateStrategy ${type}: the controller replaces no pod by itself on a template change`;
  const rolling = asRecord(strategy?.['rollingUpdate']);
  const partition = asInteger(rolling?.['partition']) ?? 0;
  const gate = honoursStatefulSetUnavailable(kubernetesVersion);
  const resolved = resolveStatefulSetMaxUnavailable(rolling?.['maxUnavailable'], replicas);
  if (resolved === undefined) return 'the strategy is one the apiserver refuses (rollsafe audit says why)';
  const maxUnavailable = gate ? resolved : 1;
  const podManagementPolicy = asString(spec['podManagementPolicy']) ?? 'OrderedReady';
  const minReadySeconds = asInteger(spec['minReadySeconds']) ?? 0;
  const prediction = planStatefulSetRollout({
    replicas,
    partition,
    maxUnavailable,
    parallel: podManagementPolicy === 'Parallel',
    maxUnavailableGate: gate,
    minReadySeconds,
    readySeconds: timing.readySeconds,
    terminatingSeconds: timing.terminatingSeconds,
  });
  return {
    strategy: type,
    replicas,
    maxSurge: 0,
    maxUnavailable,
    minReadySeconds,
    partition,
    podManagementPolicy,
    steps: prediction.steps,
    peakPods: prediction.peakPods,
    peakNonTerminating: replicas,
    minReady: prediction.minReady,
    estimatedSeconds: prediction.completeSeconds,
    progressDeadlineSeconds: null,
    longestWithoutProgressSeconds: null,
    exceedsProgressDeadline: false,
  };
}

/** Plans every workload among `objects`, with `related` as their context (the same run's, or their namespace's). */
/** Nodes a DaemonSet is planned on when neither its live status nor --nodes says. */
export const DEFAULT_NODES = 3;

/**
 * A DaemonSet's RollingUpdate over its nodes: maxSurge and maxUnavailable both round up against them
 * (updatedDesiredNodeCounts), and when both come to 0 one node may go unavailable. OnDelete: no rollout.
 */
function daemonSetRollout(workload: Workload, timing: PodTiming, assumptions: TimingAssumptions): RolloutPlan | string {
  const spec = asRecord(workload.object['spec']) ?? {};
  const strategy = asRecord(spec['updateStrategy']);
  const type = asString(strategy?.['type']) ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') return `updateStrategy ${type}: the controller replaces no pod by itself on a template change`;
  const scheduled = asInteger(asRecord(workload.object['status'])?.['desiredNumberScheduled']);
  const nodes = scheduled !== undefined && scheduled > 0 ? scheduled : (assumptions.nodes ?? DEFAULT_NODES);
  const rolling = asRecord(strategy?.['rollingUpdate']);
  const surge = parseIntOrPercent(rolling?.['maxSurge'] ?? 0);
  const unavailable = parseIntOrPercent(rolling?.['maxUnavailable'] ?? 1);
  if (!surge || !unavailable) return 'the strategy is one the apiserver refuses (rollsafe audit says why)';
  const maxSurge = scale(surge, nodes, 'up');
  const maxUnavailable = maxSurge === 0 ? Math.max(1, scale(unavailable, nodes, 'up')) : scale(unavailable, nodes, 'up');
  const minReadySeconds = asInteger(spec['minReadySeconds']) ?? 0;
  const prediction = planDaemonSetRollout({ nodes, maxSurge, maxUnavailable, minReadySeconds, readySeconds: timing.readySeconds, terminatingSeconds: timing.terminatingSeconds });
  return {
    strategy: type,
    replicas: nodes,
    maxSurge,
    maxUnavailable,
    minReadySeconds,
    steps: prediction.steps,
    peakPods: prediction.peakPods,
    peakNonTerminating: nodes + maxSurge,
    minReady: prediction.minReady,
    estimatedSeconds: prediction.completeSeconds,
    progressDeadlineSeconds: null,
    longestWithoutProgressSeconds: null,
    exceedsProgressDeadline: false,
  };
}

export function planWorkloads(
  objects: Array<{ object: JsonObject; file: string }>,
  related: RelatedObjects,
  assumptions: TimingAssumptions,
  kubernetesVersion: string,
  policy: Policy = defaultPolicy(),
): WorkloadPlan[] {
  const plans: WorkloadPlan[] = [];
  for (const source of objects) {
    const workload = resolveWorkload(source.object, related);
    // A Deployment whose template a Rollout runs (workloadRef) has no pods of its own to plan: the Rollout's
    // entry, planned with that template, is the one.
    if (!workload || workload.runBy) continue;
    // A Rollout whose workloadRef Deployment is not in view has no known pods: nothing to plan (audit says so).
    if (workload.templateFrom && !workload.templateFrom.found) continue;
    const effective = effectivePolicy(policy, workload.ref.namespace ?? 'default');
    const timing = podTiming(workload, assumptions);
    const argo = workload.ref.kind === 'Rollout' ? planArgoRollout(workload, timing, plannedReplicas(workload, related)) : undefined;
    const rollout =
      workload.ref.kind === 'Rollout'
        ? typeof argo === 'string'
          ? argo
          : 'an Argo Rollout is planned by phase (argoRollout): its canary steps or blue-green preview, switch and scale-down, not as a rolling update'
        : workload.ref.kind === 'Deployment'
          ? deploymentRollout(workload, related, timing)
          : workload.ref.kind === 'StatefulSet'
            ? statefulSetRollout(workload, related, timing, kubernetesVersion)
            : daemonSetRollout(workload, timing, assumptions);
    plans.push({
      kind: workload.ref.kind,
      namespace: workload.ref.namespace,
      name: workload.ref.name,
      file: source.file,
      timing,
      rollout: typeof rollout === 'string' ? null : rollout,
      ...(typeof rollout === 'string' ? { why: rollout } : {}),
      ...(argo !== undefined && typeof argo !== 'string' ? { argoRollout: argo } : {}),
      drain: planDrain(workload, related),
      terminationBudget: budgetPlan(workload, related, effective),
    });
  }
  return plans;
}

/** The files of one run are one context, as for `rollsafe audit`. */
export function planFiles(files: ParsedFile[], assumptions: TimingAssumptions, kubernetesVersion: string, policy?: Policy): WorkloadPlan[] {
  const sources = files.flatMap((file) => file.objects);
  const related = emptyRelated();
  for (const source of sources) addRelated(related, source.object);
  return planWorkloads(sources, related, assumptions, kubernetesVersion, policy);
}
