import { asInteger, asRecord, type JsonObject } from '../util/object.js';
import { resolveIntOrPercent } from '../workloads/int-or-percent.js';
import { autoscalerFor, disruptionBudgetsSelecting, workloadsSelectedBy, type RelatedObjects } from '../workloads/related.js';
import { objectRef, type Workload } from '../workloads/workload.js';
import type { Rule } from './types.js';

/** Disruptions a PDB allows with all `replicas` healthy, as the disruption controller computes them (percentages round up). */
export function allowedDisruptions(pdb: JsonObject, replicas: number): number | undefined {
  const spec = asRecord(pdb['spec']) ?? {};
  if (spec['maxUnavailable'] !== undefined) return resolveIntOrPercent(spec['maxUnavailable'], replicas, 'up');
  if (spec['minAvailable'] !== undefined) {
    const minAvailable = resolveIntOrPercent(spec['minAvailable'], replicas, 'up');
    return minAvailable === undefined ? undefined : Math.max(0, replicas - minAvailable);
  }
  // Neither set: nothing is defaulted, the disruption controller expects 0 pods and allows no disruption.
  return 0;
}

/** Replicas at their lowest: the HPA's minReplicas when one targets the workload. */
function replicasOf(workload: Workload, related: RelatedObjects): number {
  const hpa = autoscalerFor(workload, related);
  return hpa ? (asInteger(asRecord(hpa['spec'])?.['minReplicas']) ?? 1) : (workload.replicas ?? 1);
}

export const disruptionBudget: Rule = {
  id: 'disruption-budget',
  summary: 'A Deployment or StatefulSet with 2+ replicas is covered by one PodDisruptionBudget that still allows a disruption.',
  fixable: false,
  check({ workload, related }) {
    // Needs the surrounding objects; a lone object (admission) cannot say whether a PDB exists.
    if (!related || workload.ref.kind === 'DaemonSet') return [];
    const replicas = replicasOf(workload, related);
    if (replicas < 2) return [];
    const budgets = disruptionBudgetsSelecting(workload, related);
    if (budgets.length === 0) {
      return [
        {
          message: `no PodDisruptionBudget in the input selects its ${replicas} pods: a node drain or cluster upgrade may evict all of them at once. Add a PodDisruptionBudget with maxUnavailable: 1.`,
        },
      ];
    }
    if (budgets.length > 1) {
      return [
        {
          message: `${budgets.length} PodDisruptionBudgets (${budgets.map((b) => objectRef(b).name).join(', ')}) select its pods; the eviction API refuses pods covered by more than one, so node drains stall. Keep one.`,
        },
      ];
    }
    const budget = budgets[0] as JsonObject;
    // The disruption controller counts every pod the PDB selects, across workloads (disruption.go,
    // getExpectedPodCount): the replicas of each selected workload in the input, this one included.
    const others = workloadsSelectedBy(budget, related).filter((other) => other.object !== workload.object);
    const pods = others.reduce((sum, other) => sum + replicasOf(other, related), replicas);
    const allowed = allowedDisruptions(budget, pods);
    if (allowed === undefined || allowed >= 1) return [];
    const counted = others.length > 0 ? `${pods} pods (its ${replicas} and those of ${others.map((other) => `${other.ref.kind} ${other.ref.name}`).join(', ')})` : `${replicas} replicas`;
    return [
      {
        message: `PodDisruptionBudget "${objectRef(budget).name}" allows no disruption at ${counted}: node drains block until someone deletes a pod by hand. Use maxUnavailable: 1.`,
      },
    ];
  },
};
