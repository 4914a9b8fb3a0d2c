/**
 * A DaemonSet's RollingUpdate, node by node, as pkg/controller/daemon runs it (update.go rollingUpdate, and
 * podsShouldBeOnNode for creation). A node's terminating pod is no old pod to the update, but it still keeps the
 * node from getting a new one when the DaemonSet does not surge.
 * - Without surge: old pods are deleted while fewer than maxUnavailable nodes are unavailable (a node whose pod
 *   is terminating or missing, or whose new pod is not yet available); a node gets its new pod once the old one
 *   is gone.
 * - With surge: a new pod starts beside the old one on up to maxSurge nodes at once; the old pod is deleted when
 *   the new one is available.
 */
import type { RolloutStep } from './deployment-rollout.js';
import { appendStep, runInstants, totals } from './instants.js';

export interface DaemonSetRolloutInput {
  nodes: number;
  /** Resolved as updatedDesiredNodeCounts does: both round up; both 0 would stall, so one node may go unavailable. */
  maxSurge: number;
  maxUnavailable: number;
  minReadySeconds: number;
  readySeconds: number;
  terminatingSeconds: number;
}

export interface DaemonSetPrediction {
  steps: RolloutStep[];
  peakPods: number;
  minReady: number;
  completeSeconds: number;
}

interface Node {
  /** The old pod: live until deleted, then terminating until goneAt. */
  old: { goneAt?: number } | undefined;
  fresh: { readyAt: number; availableAt: number } | undefined;
}

const MS = 1000;

export function planDaemonSetRollout(input: DaemonSetRolloutInput): DaemonSetPrediction {
  const readyMs = Math.round(input.readySeconds * MS);
  const availableMs = readyMs + Math.round(input.minReadySeconds * MS);
  const terminatingMs = Math.round(input.terminatingSeconds * MS);
  const nodes: Node[] = Array.from({ length: input.nodes }, () => ({ old: {}, fresh: undefined }));
  const steps: RolloutStep[] = [];

  const live = (node: Node) => node.old !== undefined && node.old.goneAt === undefined;
  const terminating = (node: Node) => node.old?.goneAt !== undefined;
  const available = (node: Node, now: number) => node.fresh !== undefined && node.fresh.availableAt <= now;

  function record(now: number): void {
    const step = {
      at: now / MS,
      old: nodes.filter(live).length,
      new: nodes.filter((node) => node.fresh).length,
      ready: nodes.filter(live).length + nodes.filter((node) => node.fresh && node.fresh.readyAt <= now).length,
      terminating: nodes.filter(terminating).length,
    };
    appendStep(steps, step);
  }

  const create = (node: Node, now: number) => (node.fresh = { readyAt: now + readyMs, availableAt: now + availableMs });
  const remove = (node: Node, now: number) => (node.old = { goneAt: now + terminatingMs });

  function sync(now: number): boolean {
    let changed = false;
    for (const node of nodes) {
      if (node.old?.goneAt !== undefined && node.old.goneAt <= now) node.old = undefined;
      // podsShouldBeOnNode: a node with no pod at all gets one (a terminating pod still counts as one).
      if (node.old === undefined && !node.fresh) {
        create(node, now);
        changed = true;
      }
    }
    if (changed) record(now);
    if (input.maxSurge === 0) {
      const unavailable = nodes.filter((node) => (!live(node) && !node.fresh) || (node.fresh && !available(node, now))).length;
      let budget = input.maxUnavailable - unavailable;
      for (const node of nodes) {
        if (budget <= 0) break;
        if (live(node) && !node.fresh) {
          remove(node, now);
          budget--;
          changed = true;
        }
      }
    } else {
      for (const node of nodes) {
        if (live(node) && node.fresh && available(node, now)) {
          remove(node, now);
          changed = true;
        }
      }
      let budget = input.maxSurge - nodes.filter((node) => live(node) && node.fresh && !available(node, now)).length;
      for (const node of nodes) {
        if (budget <= 0) break;
        if (live(node) && !node.fresh) {
          create(node, now);
          budget--;
          changed = true;
        }
      }
    }
    if (changed) record(now);
    return changed;
  }

  record(0);
  const end = runInstants({
    sync,
    settle: record,
    done: (now) => nodes.every((node) => node.old === undefined && available(node, now)),
    upcoming: () => nodes.flatMap((node) => [node.old?.goneAt ?? -Infinity, node.fresh?.readyAt ?? -Infinity, node.fresh?.availableAt ?? -Infinity]),
  });
  return { steps, ...totals(steps), completeSeconds: end / MS };
}
