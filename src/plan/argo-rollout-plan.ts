/**
 * What an Argo Rollout's update does, phase by phase, as argo-rollouts v1.10 runs it: the pods of each canary
 * step, and a blue-green's preview, switch and scale-down. Counts are the controller's targets at each phase
 * (what it holds while a step pauses), checked against the real controller in test/argo-rollouts.test.ts.
 */
import { asArray, asInteger, asRecord, asString, type JsonObject } from '../util/object.js';
import {
  argoStrategy,
  basicCanaryCounts,
  hasTrafficRouting,
  maxTrafficWeight,
  resolveCanaryFenceposts,
  ROLLOUT_DEFAULT_SCALE_DOWN_DELAY,
  switchDelaySeconds,
} from '../workloads/argo-rollout.js';
import type { Workload } from '../workloads/workload.js';
import type { PodTiming } from './pod-timing.js';

export interface CanaryStepPlan {
  /** The step's index in spec.strategy.canary.steps. */
  index: number;
  /** What the step is: "setWeight 20", "pause 30s", "pause until promoted", "analysis", ... */
  step: string;
  /** The weight in force at this step (the last setWeight at or before it; GetCurrentSetWeight), of maxTrafficWeight. */
  weight: number;
  /** The pods the controller runs here: canary (new template) and stable. */
  canaryPods: number;
  stablePods: number;
  /** The share of requests the canary gets: its pods' share without a router, the weight with one. */
  canaryShare: number;
  /**
   * No pod count approximates the weight under Argo's rules (a tie at .5 with no surge, e.g. 90% of 5): the
   * controller's own arithmetic falls back to "should not get here", and the counts above are that fallback.
   */
  unpredictable?: true;
}

export interface BlueGreenPlan {
  /** Pods of the new template before promotion (previewReplicaCount, else all replicas). */
  previewPods: number;
  /** autoPromotionEnabled and autoPromotionSeconds. */
  promotion: 'automatic' | 'manual' | { afterSeconds: number };
  /** Both ReplicaSets at full size between the switch and the scale-down: 2 × replicas. */
  peakPods: number;
  /** The old pods stay Ready until the switch, the new ones from it: never fewer than replicas. */
  readyFloor: number;
  /** From the template change until the active Service switches, when promotion is automatic. */
  switchSeconds: number | null;
  /** How long the old pods keep running after the switch; null when they are never scaled down (0: #1992). */
  scaleDownDelaySeconds: number | null;
  /** Until the old pods are gone, when promotion is automatic and they are scaled down. */
  completeSeconds: number | null;
}

export interface ArgoRolloutPlan {
  strategy: 'canary' | 'blueGreen';
  trafficRouting: boolean;
  replicas: number;
  /** Canary: each step of an update (a Rollout's first version skips them: the controller scales it up at once). */
  steps: CanaryStepPlan[];
  /** After the last step: every replica of the new template (the previous stable kept for the delay when routed). */
  finalCanaryPods: number;
  /** Traffic-routed canary: how long the previous stable keeps its pods after full promotion; else null. */
  stableScaleDownDelaySeconds: number | null;
  blueGreen?: BlueGreenPlan;
}

function describeStep(step: JsonObject): string {
  const weight = asInteger(step['setWeight']);
  if (weight !== undefined) return `setWeight ${weight}`;
  const pause = asRecord(step['pause']);
  if (pause) {
    const duration = pause['duration'];
    return duration === undefined ? 'pause until promoted' : `pause ${typeof duration === 'number' ? `${duration}s` : String(duration)}`;
  }
  return Object.keys(step)[0] ?? 'step';
}

function canaryPlan(workload: Workload, canary: JsonObject, replicas: number): Pick<ArgoRolloutPlan, 'steps' | 'finalCanaryPods' | 'stableScaleDownDelaySeconds'> {
  const routed = hasTrafficRouting(canary);
  const maxSurge = resolveCanaryFenceposts(canary, replicas)?.maxSurge ?? 0;
  const dynamic = canary['dynamicStableScale'] === true;
  const minPods = asInteger(canary['minPodsPerReplicaSet']);
  const maxWeight = maxTrafficWeight(canary);
  const steps: CanaryStepPlan[] = [];
  let weight = 0;
  asArray(canary['steps']).forEach((raw, index) => {
    const step = asRecord(raw) ?? {};
    weight = asInteger(step['setWeight']) ?? weight;
    let canaryPods: number;
    let stablePods: number;
    let unpredictable = false;
    if (routed) {
      // CalculateReplicaCountsForTrafficRoutedCanary: the weight's pods rounded up (trafficWeightToReplicas,
      // CheckMinPodsPerReplicaSet); the stable keeps every replica unless dynamicStableScale shrinks it.
      const up = (share: number) => Math.ceil((share * replicas) / maxWeight);
      canaryPods = up(weight);
      if (canaryPods > 0 && minPods !== undefined) canaryPods = Math.max(canaryPods, Math.min(minPods, replicas));
      stablePods = dynamic ? up(maxWeight - weight) : replicas;
    } else {
      const counts = basicCanaryCounts(replicas, weight, maxSurge);
      ({ canary: canaryPods, stable: stablePods } = counts);
      unpredictable = counts.unresolved === true;
    }
    const share = routed ? Math.round((100 * weight) / maxWeight) : canaryPods + stablePods === 0 ? 0 : Math.round((100 * canaryPods) / (canaryPods + stablePods));
    steps.push({ index, step: describeStep(step), weight, canaryPods, stablePods, canaryShare: share, ...(unpredictable ? { unpredictable: true as const } : {}) });
  });
  const delay = switchDelaySeconds(argoStrategy(workload));
  return { steps, finalCanaryPods: replicas, stableScaleDownDelaySeconds: routed ? (delay ?? null) : null };
}

function blueGreenPlan(blueGreen: JsonObject, replicas: number, timing: PodTiming, minReadySeconds: number): BlueGreenPlan {
  const preview = asInteger(blueGreen['previewReplicaCount']);
  const previewPods = preview === undefined ? replicas : Math.min(preview, replicas);
  const autoSeconds = asInteger(blueGreen['autoPromotionSeconds']);
  const promotion: BlueGreenPlan['promotion'] = blueGreen['autoPromotionEnabled'] === false ? 'manual' : autoSeconds !== undefined && autoSeconds > 0 ? { afterSeconds: autoSeconds } : 'automatic';
  const available = timing.readySeconds + minReadySeconds;
  // The preview pods become available; after the pause (if any) the rest are created; the switch waits until
  // all are available (IsSaturated).
  const pause = promotion === 'manual' ? null : typeof promotion === 'object' ? promotion.afterSeconds : 0;
  const switchSeconds = pause === null ? null : available + pause + (previewPods < replicas ? available : 0);
  const written = asInteger(blueGreen['scaleDownDelaySeconds']);
  const delay = written ?? ROLLOUT_DEFAULT_SCALE_DOWN_DELAY;
  // scaleDownDelaySeconds 0: addScaleDownDelay sets no deadline and the old ReplicaSet is never scaled down
  // (argoproj/argo-rollouts#1992).
  const scaleDownDelaySeconds = delay === 0 ? null : delay;
  return {
    previewPods,
    promotion,
    peakPods: 2 * replicas,
    readyFloor: replicas,
    switchSeconds,
    scaleDownDelaySeconds,
    completeSeconds: switchSeconds === null || scaleDownDelaySeconds === null ? null : switchSeconds + scaleDownDelaySeconds + timing.terminatingSeconds,
  };
}

/** The plan of a Rollout's update, or a reason it cannot be planned. */
export function planArgoRollout(workload: Workload, timing: PodTiming, replicas: number): ArgoRolloutPlan | string {
  const strategy = argoStrategy(workload);
  const minReadySeconds = asInteger(asRecord(workload.object['spec'])?.['minReadySeconds']) ?? 0;
  if (strategy.canary && !strategy.blueGreen) {
    return { strategy: 'canary', trafficRouting: hasTrafficRouting(strategy.canary), replicas, ...canaryPlan(workload, strategy.canary, replicas) };
  }
  if (strategy.blueGreen && !strategy.canary) {
    return { strategy: 'blueGreen', trafficRouting: false, replicas, steps: [], finalCanaryPods: replicas, stableScaleDownDelaySeconds: null, blueGreen: blueGreenPlan(strategy.blueGreen, replicas, timing, minReadySeconds) };
  }
  return `the Argo Rollouts controller refuses its strategy (${asString(Object.keys(asRecord(asRecord(workload.object['spec'])?.['strategy']) ?? {}).join(' and ')) || 'none'}): it never rolls`;
}
