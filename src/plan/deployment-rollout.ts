/**
 * A Deployment's rolling update, step by step, as pkg/controller/deployment runs it: the controller reacts at
 * once to every change (a pod becoming available, a terminating pod gone), so the rollout is a sequence of
 * instants at which pods become ready or available or finish terminating, and at each the controller scales.
 *
 * - reconcileNewReplicaSet (NewRSNewReplicas): the new ReplicaSet grows up to replicas + maxSurge minus the
 *   spec.replicas of every ReplicaSet. Terminating pods are in no ReplicaSet's count, which is why old pods still
 *   in their preStop sleep pile up beside the surge (KEP-3973 added status.terminatingReplicas for this).
 * - reconcileOldReplicaSets: nothing goes while allPods - minAvailable - the new ReplicaSet's unavailable pods
 *   is <= 0; then scaleDownOldReplicaSetsForRollingUpdate takes down availablePods - minAvailable old pods.
 * - A pod is available minReadySeconds after it is ready; a scaled-down pod terminates for terminatingSeconds.
 */

import { appendStep, runInstants, totals } from './instants.js';

export interface DeploymentRolloutInput {
  replicas: number;
  /** Resolved as ResolveFenceposts does: surge rounded up, unavailable down, 1 unavailable when both are 0. */
  maxSurge: number;
  maxUnavailable: number;
  minReadySeconds: number;
  /** From a new pod's creation until it is Ready. */
  readySeconds: number;
  /** From a pod's deletion until it is gone (preStop, then the app's exit, within the grace period). */
  terminatingSeconds: number;
}

/** The pods after the controller acted at `at` seconds from the template change. */
export interface RolloutStep {
  at: number;
  /** Old and new pods that are not terminating. */
  old: number;
  new: number;
  /** Ready pods among those (terminating pods serve no new connections). */
  ready: number;
  terminating: number;
}

export interface RolloutPrediction {
  steps: RolloutStep[];
  /** The most pods at once, terminating included: what the nodes must hold. */
  peakPods: number;
  /**
   * The most pods not terminating, at most: when the controller scales the old ReplicaSet down and the new one
   * up at one instant, the two ReplicaSet controllers act independently, so the new pods may exist before the
   * old ones they replace are deleted (the Deployment controller bounds only the ReplicaSets' spec.replicas).
   */
  peakNonTerminating: number;
  minReady: number;
  /** Until every new pod is available and every old pod has exited. */
  completeSeconds: number;
  /**
   * The longest time without progress as the controller counts it (DeploymentProgressing: more updated, fewer
   * old, more ready or more available replicas): the Deployment is marked ProgressDeadlineExceeded when this
   * exceeds progressDeadlineSeconds.
   */
  longestWithoutProgressSeconds: number;
}

interface NewPod {
  readyAt: number;
  availableAt: number;
}

/** Milliseconds avoid float drift over many steps; steps report seconds. */
const MS = 1000;

export function planDeploymentRollout(input: DeploymentRolloutInput): RolloutPrediction {
  const { replicas, maxSurge, maxUnavailable } = input;
  const readyMs = Math.round(input.readySeconds * MS);
  const availableMs = readyMs + Math.round(input.minReadySeconds * MS);
  const terminatingMs = Math.round(input.terminatingSeconds * MS);
  const minAvailable = replicas - Math.min(maxUnavailable, replicas);
  let oldReplicas = replicas;
  const newPods: NewPod[] = [];
  let goneAt: number[] = [];
  const steps: RolloutStep[] = [];
  let lastProgress = 0;
  let peakNonTerminating = replicas;
  let longestWithoutProgress = 0;
  let previous = { updated: 0, old: replicas, ready: replicas, available: replicas };

  const newAvailable = (now: number) => newPods.filter((pod) => pod.availableAt <= now).length;
  const newReady = (now: number) => newPods.filter((pod) => pod.readyAt <= now).length;

  /**
   * The controller's passes at one instant, until nothing changes; each scaling is a step of its own (the
   * controller writes the new ReplicaSet's scale, then the old one's, in separate syncs).
   */
  function sync(now: number): void {
    const oldBefore = oldReplicas;
    for (let changed = true; changed; ) {
      changed = false;
      goneAt = goneAt.filter((at) => at > now);
      const maxTotal = replicas + maxSurge;
      const current = oldReplicas + newPods.length;
      const scaleUp = Math.min(maxTotal - current, replicas - newPods.length);
      if (scaleUp > 0) {
        for (let i = 0; i < scaleUp; i++) newPods.push({ readyAt: now + readyMs, availableAt: now + availableMs });
        record(now);
        changed = true;
      }
      if (oldReplicas === 0) continue;
      const newUnavailable = newPods.length - newAvailable(now);
      const maxScaledDown = oldReplicas + newPods.length - minAvailable - newUnavailable;
      if (maxScaledDown <= 0) continue;
      const available = oldReplicas + newAvailable(now);
      const scaleDown = Math.min(oldReplicas, available - minAvailable);
      if (scaleDown <= 0) continue;
      oldReplicas -= scaleDown;
      for (let i = 0; i < scaleDown; i++) goneAt.push(now + terminatingMs);
      record(now);
      changed = true;
    }
    peakNonTerminating = Math.max(peakNonTerminating, oldBefore + newPods.length);
  }

  /** Pods deleted with no time to terminate still exist for the instant of their deletion. */
  function record(now: number, settled = false): void {
    if (settled) goneAt = goneAt.filter((at) => at > now);
    const ready = oldReplicas + newReady(now);
    const status = { updated: newPods.length, old: oldReplicas, ready, available: oldReplicas + newAvailable(now) };
    if (status.updated > previous.updated || status.old < previous.old || status.ready > previous.ready || status.available > previous.available) {
      longestWithoutProgress = Math.max(longestWithoutProgress, now - lastProgress);
      lastProgress = now;
    }
    previous = status;
    const step = { at: now / MS, old: oldReplicas, new: newPods.length, ready, terminating: goneAt.length };
    appendStep(steps, step);
  }

  const end = runInstants({
    // sync runs the controller's passes at one instant until it settles.
    sync: (now) => (sync(now), false),
    settle: (now) => record(now, true),
    done: (now) => oldReplicas === 0 && newPods.length === replicas && newAvailable(now) === replicas && goneAt.length === 0,
    upcoming: () => [...newPods.flatMap((pod) => [pod.readyAt, pod.availableAt]), ...goneAt],
  });
  return { steps, ...totals(steps), peakNonTerminating, completeSeconds: end / MS, longestWithoutProgressSeconds: longestWithoutProgress / MS };
}
