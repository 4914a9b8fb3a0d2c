import { asInteger, asRecord, type JsonObject } from '../util/object.js';
import { resolveIntOrPercent } from '../workloads/int-or-percent.js';
import { autoscalerFor, disruptionBudgetsSelecting } from '../workloads/related.js';
import { objectRef } from '../workloads/workload.js';
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

export const disruptionBudget: Rule = {
  id: 'disruption-budget',
  summary: 'A Deployment or StatefulSet with 2+ replicas is covered by one PodDisruptionBudget that still allows a disruption.',
  fixable: false,
  check({ workload, related }) {
    // Needs the surrounding objects; a lone object (admission) cannot say whether a PDB exists.
    if (!related || workload.ref.kind === 'DaemonSet') return [];
    const hpa = autoscalerFor(workload, related);
    const replicas = hpa ? (asInteger(asRecord(hpa['spec'])?.['minReplicas']) ?? 1) : (workload.replicas ?? 1);
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
    const allowed = allowedDisruptions(budget, replicas);
    if (allowed === undefined || allowed >= 1) return [];
    return [
      {
        message: `PodDisruptionBudget "${objectRef(budget).name}" allows no disruption at ${replicas} replicas: node drains block until someone deletes a pod by hand. Use maxUnavailable: 1.`,
      },
    ];
  },
};
