/**
 * A StatefulSet's RollingUpdate, step by step, as pkg/controller/statefulset (stateful_set_control.go) runs it.
 * Each sync first walks the ordinals upwards: a missing pod is created (at the new revision from `partition`
 * up, else at the old one); with OrderedReady the walk stops at a pod it just created, one that is
 * terminating, or one not yet Running, Ready and available, so nothing is deleted meanwhile. Then the update:
 * - with MaxUnavailableStatefulSet (on by default from 1.37: updateStatefulSetAfterInvariantEstablished),
 *   old pods from the highest ordinal down to `partition` are deleted while fewer than maxUnavailable pods are
 *   unavailable (Parallel first takes old pods that are already unavailable);
 * - before 1.37, the highest old pod is deleted, and nothing more while a pod above `partition` is unavailable.
 * A pod's replacement has its name, so it is created only once the old pod is gone: no surge.
 */
import type { RolloutStep } from './deployment-rollout.js';
import { appendStep, runInstants, totals } from './instants.js';

export interface StatefulSetRolloutInput {
  replicas: number;
  /** Ordinals below it keep the old revision. */
  partition: number;
  /** Resolved (getStatefulSetMaxUnavailable: percentages round down, at least 1); 1 when the gate is off. */
  maxUnavailable: number;
  parallel: boolean;
  /** MaxUnavailableStatefulSet on (1.37+ by default). */
  maxUnavailableGate: boolean;
  minReadySeconds: number;
  readySeconds: number;
  terminatingSeconds: number;
}

export interface StatefulSetPrediction {
  steps: RolloutStep[];
  peakPods: number;
  minReady: number;
  completeSeconds: number;
}

interface Pod {
  updated: boolean;
  readyAt: number;
  availableAt: number;
  /** When a deleted pod is gone; undefined while it is not terminating. */
  goneAt?: number;
}

const MS = 1000;

export function planStatefulSetRollout(input: StatefulSetRolloutInput): StatefulSetPrediction {
  const { replicas, parallel } = input;
  const partition = Math.min(Math.max(input.partition, 0), replicas);
  const readyMs = Math.round(input.readySeconds * MS);
  const availableMs = readyMs + Math.round(input.minReadySeconds * MS);
  const terminatingMs = Math.round(input.terminatingSeconds * MS);
  // The steady state before the template changes: every pod at the old revision, available long ago.
  const pods: Array<Pod | undefined> = Array.from({ length: replicas }, () => ({ updated: false, readyAt: -Infinity, availableAt: -Infinity }));
  const steps: RolloutStep[] = [];

  const terminating = (pod: Pod | undefined, now: number) => pod?.goneAt !== undefined && pod.goneAt > now;
  const available = (pod: Pod | undefined, now: number) => pod !== undefined && pod.goneAt === undefined && pod.availableAt <= now;
  const ready = (pod: Pod | undefined, now: number) => pod !== undefined && pod.goneAt === undefined && pod.readyAt <= now;

  function record(now: number): void {
    const live = pods.filter((pod): pod is Pod => pod !== undefined && pod.goneAt === undefined);
    const step = {
      at: now / MS,
      old: live.filter((pod) => !pod.updated).length,
      new: live.filter((pod) => pod.updated).length,
      ready: live.filter((pod) => pod.readyAt <= now).length,
      terminating: pods.filter((pod) => terminating(pod, now)).length,
    };
    appendStep(steps, step);
  }

  function remove(index: number, now: number): void {
    const pod = pods[index];
    if (!pod) return;
    pod.goneAt = now + terminatingMs;
    record(now);
  }

  /** One sync; true when it changed anything. */
  function sync(now: number): boolean {
    let changed = false;
    for (let index = 0; index < replicas; index++) {
      const pod = pods[index];
      if (pod?.goneAt !== undefined && pod.goneAt <= now) pods[index] = undefined;
    }
    for (let index = 0; index < replicas; index++) {
      const pod = pods[index];
      if (pod === undefined) {
        pods[index] = { updated: index >= partition, readyAt: now + readyMs, availableAt: now + availableMs };
        record(now);
        changed = true;
        if (!parallel) return changed;
        continue;
      }
      if (!parallel && (terminating(pod, now) || !ready(pod, now) || !available(pod, now))) return changed;
    }
    const unavailable = pods.filter((pod) => !available(pod, now)).length;
    const old = (index: number) => pods[index] !== undefined && !pods[index]!.updated && pods[index]!.goneAt === undefined;
    if (!input.maxUnavailableGate) {
      for (let index = replicas - 1; index >= partition; index--) {
        if (old(index)) {
          remove(index, now);
          return true;
        }
        if (!available(pods[index], now)) return changed;
      }
      return changed;
    }
    const needingUpdate = parallel ? pods.filter((pod, index) => !available(pod, now) && old(index)).length : 0;
    if (unavailable >= input.maxUnavailable && needingUpdate === 0) return changed;
    if (parallel) {
      for (let index = replicas - 1; index >= partition; index--) {
        if (old(index) && !available(pods[index], now)) {
          remove(index, now);
          changed = true;
        }
      }
      let budget = input.maxUnavailable - unavailable;
      for (let index = replicas - 1; index >= partition && budget > 0; index--) {
        if (old(index) && available(pods[index], now)) {
          remove(index, now);
          budget--;
          changed = true;
        }
      }
      return changed;
    }
    let toDelete = input.maxUnavailable - unavailable;
    for (let index = replicas - 1; index >= partition && toDelete > 0; index--) {
      if (old(index)) {
        remove(index, now);
        toDelete--;
        changed = true;
      }
    }
    return changed;
  }

  record(0);
  const end = runInstants({
    sync,
    settle: record,
    done: (now) => pods.every((pod, index) => pod !== undefined && pod.goneAt === undefined && pod.updated === index >= partition && available(pod, now)),
    upcoming: () => pods.flatMap((pod) => (pod ? [pod.readyAt, pod.availableAt, pod.goneAt ?? -Infinity] : [])),
  });
  return { steps, ...totals(steps), completeSeconds: end / MS };
}
