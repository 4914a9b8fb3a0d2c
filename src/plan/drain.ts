/**
 * What draining a node does to a workload's pods, as `kubectl drain` and the eviction API decide
 * (pkg/registry/core/pod/storage/eviction.go): a pod under no PodDisruptionBudget is evicted at once; under
 * more than one the API refuses it; under one, only while the budget allows a disruption (the disruption
 * controller's disruptionsAllowed, here for every selected pod healthy). kubectl drain retries refused
 * evictions until its timeout, so a budget that allows none at full health blocks the drain for good.
 */
import { allowedDisruptions } from '../rules/disruption-budget/rule.js';
import { spreadAcrossNodes } from '../rules/node-spread/rule.js';
import { asInteger, asRecord, type JsonObject } from '../util/object.js';
import { autoscalerFor, disruptionBudgetsSelecting, workloadsSelectedBy, type RelatedObjects } from '../workloads/related.js';
import { objectRef, type Workload } from '../workloads/workload.js';

export interface DrainPlan {
  /** Whether evicting this workload's pods from a node can never proceed, as things stand. */
  evictionsBlocked: boolean;
  /** Why, and what a drain risks where it proceeds. */
  reasons: string[];
}

function podsOf(workload: Workload, related: RelatedObjects): number {
  const hpa = autoscalerFor(workload, related);
  return hpa ? (asInteger(asRecord(hpa['spec'])?.['minReplicas']) ?? 1) : (workload.replicas ?? 1);
}

function unhealthyPolicyNote(budget: JsonObject): string[] {
  if (asRecord(budget['spec'])?.['unhealthyPodEvictionPolicy'] === 'AlwaysAllow') return [];
  return [`PodDisruptionBudget "${objectRef(budget).name}" keeps unhealthyPodEvictionPolicy IfHealthyBudget: pods that run but are not Ready are evicted only while the budget is met, so a drain also stalls on a broken rollout`];
}

export function planDrain(workload: Workload, related: RelatedObjects): DrainPlan {
  if (workload.ref.kind === 'DaemonSet') {
    return { evictionsBlocked: false, reasons: ['kubectl drain leaves DaemonSet pods alone (--ignore-daemonsets): each node\'s pod stops when the node does'] };
  }
  const pods = podsOf(workload, related);
  if (pods === 0) return { evictionsBlocked: false, reasons: ['scaled to 0: no pod to evict'] };
  const budgets = disruptionBudgetsSelecting(workload, related);
  if (budgets.length > 1) {
    return {
      evictionsBlocked: true,
      reasons: [`${budgets.length} PodDisruptionBudgets (${budgets.map((budget) => objectRef(budget).name).join(', ')}) select its pods, and the eviction API refuses a pod under more than one`],
    };
  }
  const [budget] = budgets;
  if (!budget) {
    const risks = [`no PodDisruptionBudget: every pod on a drained node is evicted at once`];
    if (pods === 1) risks.push('a single replica: its eviction is an outage until the replacement is Ready');
    else if (!spreadAcrossNodes(workload)) risks.push(`not spread across nodes: all ${pods} pods may be on the drained node and go together`);
    return { evictionsBlocked: false, reasons: risks };
  }
  // Like the disruption controller: the pods of every workload the budget selects count.
  const counted = workloadsSelectedBy(budget, related).filter((other) => other.object !== workload.object).reduce((sum, other) => sum + podsOf(other, related), pods);
  const allowed = allowedDisruptions(budget, counted) ?? 0;
  if (allowed < 1) {
    return {
      evictionsBlocked: true,
      reasons: [`PodDisruptionBudget "${objectRef(budget).name}" allows no disruption with all ${counted} selected pods healthy: every eviction is refused until someone deletes a pod by hand`, ...unhealthyPolicyNote(budget)],
    };
  }
  return {
    evictionsBlocked: false,
    reasons: [`PodDisruptionBudget "${objectRef(budget).name}" allows ${allowed} disruption(s) at a time of ${counted} pods: evictions wait for replacements to be Ready`, ...unhealthyPolicyNote(budget)],
  };
}
