import { kubernetesMinor } from '../../policy/version.js';
import { asInteger, asRecord, type JsonObject } from '../../util/object.js';
import { parseIntOrPercent, resolveIntOrPercent } from '../../workloads/int-or-percent.js';
import { autoscalerFor, disruptionBudgetsSelecting, workloadsSelectedBy, type RelatedObjects } from '../../workloads/related.js';
import { objectRef, type Workload } from '../../workloads/workload.js';
import type { RuleDescriptor, RuleFinding } from '../rule.js';

/** A field as the apiserver reads it: null (`minAvailable:` with no value) is unset. */
function budgetField(pdb: JsonObject, field: 'minAvailable' | 'maxUnavailable'): unknown {
  return asRecord(pdb['spec'])?.[field] ?? undefined;
}

/**
 * What the apiserver refuses in a PDB's spec, in words (pkg/apis/policy/validation ValidatePodDisruptionBudgetSpec):
 * both fields set; a value that ValidatePositiveIntOrPercent refuses (a negative integer, a string IsValidPercent
 * does not accept, such as "1" or "1.5%"); a percentage IsNotMoreThan100Percent refuses. Such a PDB is never
 * created, so it protects nothing; empty when the spec is valid.
 */
export function refusedBudgetValues(pdb: JsonObject): string[] {
  const problems: string[] = [];
  const minAvailable = budgetField(pdb, 'minAvailable');
  const maxUnavailable = budgetField(pdb, 'maxUnavailable');
  if (minAvailable !== undefined && maxUnavailable !== undefined) problems.push('minAvailable and maxUnavailable cannot both be set');
  for (const [field, value] of [['minAvailable', minAvailable], ['maxUnavailable', maxUnavailable]] as const) {
    if (value === undefined) continue;
    const parsed = parseIntOrPercent(value);
    if (!parsed) problems.push(`${field} ${JSON.stringify(value)} is neither an integer >= 0 nor a percentage like "50%"`);
    else if (parsed.kind === 'percent' && parsed.value > 100) problems.push(`${field} ${JSON.stringify(value)} is more than 100%`);
  }
  return problems;
}

/**
 * Disruptions a PDB allows with all `replicas` healthy, as the disruption controller computes them (percentages
 * round up); undefined for a PDB the apiserver refuses (refusedBudgetValues), which allows nothing because it
 * never exists.
 */
export function allowedDisruptions(pdb: JsonObject, replicas: number): number | undefined {
  if (refusedBudgetValues(pdb).length > 0) return undefined;
  const maxUnavailable = budgetField(pdb, 'maxUnavailable');
  const minAvailable = budgetField(pdb, 'minAvailable');
  if (maxUnavailable !== undefined) return resolveIntOrPercent(maxUnavailable, replicas, 'up');
  if (minAvailable !== undefined) {
    const available = resolveIntOrPercent(minAvailable, replicas, 'up');
    return available === undefined ? undefined : Math.max(0, replicas - available);
  }
  // Neither set: nothing is defaulted, the disruption controller expects 0 pods and allows no disruption.
  return 0;
}

/** Replicas at their lowest: the HPA's minReplicas when one targets the workload. */
function replicasOf(workload: Workload, related: RelatedObjects): number {
  const hpa = autoscalerFor(workload, related);
  return hpa ? (asInteger(asRecord(hpa['spec'])?.['minReplicas']) ?? 1) : (workload.replicas ?? 1);
}

/**
 * With the default unhealthyPodEvictionPolicy (IfHealthyBudget), a pod that runs but is not ready (a bad
 * rollout, a crashing dependency) may be evicted only while the budget is met: a drain stalls on a broken
 * app. AlwaysAllow lets such pods go (PDBUnhealthyPodEvictionPolicy: beta and on by default in 1.27, GA in 1.31).
 */
function unhealthyPolicyHint(budget: JsonObject, kubernetesVersion: string): RuleFinding | undefined {
  if (asRecord(budget['spec'])?.['unhealthyPodEvictionPolicy'] === 'AlwaysAllow') return undefined;
  if (kubernetesMinor(kubernetesVersion) < 27) return undefined;
  return {
    cap: 'info',
    message:
      `PodDisruptionBudget "${objectRef(budget).name}" keeps the default unhealthyPodEvictionPolicy (IfHealthyBudget): pods that run but are not ready, ` +
      'say after a bad rollout, can be evicted only while the budget is met, so a node drain can stall on a broken app. ' +
      'Consider unhealthyPodEvictionPolicy: AlwaysAllow, which lets such pods go.',
  };
}

export const disruptionBudget: RuleDescriptor<'disruption-budget', Record<never, never>> = {
  id: 'disruption-budget',
  defaultSeverity: 'warning',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: true,
  judges: 'workload',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: 'A Deployment or StatefulSet with 2+ replicas is covered by one PodDisruptionBudget that still allows a disruption.',
    why: 'Node drains and cluster upgrades evict pods through the eviction API; without a PodDisruptionBudget they may evict every replica at once, and with one that allows no disruption they stall.',
    checks: 'A Deployment, StatefulSet or Argo Rollout with 2+ replicas is selected by exactly one PDB in its namespace that allows a disruption, counting the pods of every workload it selects as the disruption controller does, and the minReplicas of an HPA where one owns the count. A PDB the apiserver refuses (minAvailable and maxUnavailable both set, a percentage over 100%, a string like "1") is reported as refused: it never exists. Suggests (info) unhealthyPodEvictionPolicy: AlwaysAllow, so drains do not stall on pods that run but are not ready. Needs the PDB in the same input (files) or namespace (cluster).',
    readme: {
      checks: 'A Deployment/StatefulSet/Rollout with >= 2 replicas (the HPA\'s `minReplicas` when one targets it) is selected by exactly one PodDisruptionBudget in its namespace (full label-selector semantics, `matchExpressions` included) that allows at least one disruption (percentages round up; a PDB with neither `minAvailable` nor `maxUnavailable` allows none; two PDBs on one pod block evictions). A PDB the apiserver refuses (`ValidatePodDisruptionBudgetSpec`: `minAvailable` and `maxUnavailable` both set, a percentage over 100% such as `minAvailable: 150%`, a string that is not a percentage such as `"1"`) is reported as refused, since it never exists, and is not counted as a budget. Like the disruption controller, a PDB counts the pods of every workload in the input it selects: `minAvailable: 2` over two 2-replica Deployments allows 2 disruptions. With an HPA, the count is its `minReplicas` (where it scales down to), so a `minAvailable` >= `minReplicas` is flagged. A PDB without `unhealthyPodEvictionPolicy: AlwaysAllow` gets an **info** suggestion (from 1.27): with the default `IfHealthyBudget`, pods that run but are not ready can be evicted only while the budget is met, so drains stall on a broken app. Judged by every audit (the PDBs are those of the same run, or of the namespace with `--cluster`), never at admission, which sees one object.',
      peers: {
        polaris: '`missingPodDisruptionBudget`, `pdbDisruptionsIsZero`, `pdbMinAvailableGreaterThanHPAMinReplicas`',
        kubeScore: '`deployment-has-poddisruptionbudget`, `poddisruptionbudget-has-policy`',
        kubeLinter: '`pdb-max-unavailable`, `pdb-min-available`, `pdb-unhealthy-pod-eviction-policy`',
        kyverno: '`require-pdb`, `pdb-minavailable-check`',
        differs: 'Exactly one PDB (the eviction API refuses pods under two), allowed disruptions counted over every pod it selects, as the disruption controller does; `AlwaysAllow` only suggested.',
      },
    },
  },
  check({ workload, related, policy }) {
    // Needs the surrounding objects; a lone object (admission) cannot say whether a PDB exists.
    if (!related || workload.ref.kind === 'DaemonSet') return [];
    const replicas = replicasOf(workload, related);
    if (replicas < 2) return [];
    const selecting = disruptionBudgetsSelecting(workload, related);
    // A PDB the apiserver refuses never exists: named as such, and not counted as a budget.
    const refused: RuleFinding[] = [];
    const budgets = selecting.filter((budget) => {
      const problems = refusedBudgetValues(budget);
      if (problems.length > 0) {
        refused.push({
          message: `the apiserver refuses PodDisruptionBudget "${objectRef(budget).name}": ${problems.join('; ')}. It is never created, so it limits no eviction of its ${replicas} pods. Use maxUnavailable: 1.`,
        });
      }
      return problems.length === 0;
    });
    if (budgets.length === 0 && refused.length > 0) return refused;
    if (budgets.length === 0) {
      return [
        {
          message: `no PodDisruptionBudget in the input selects its ${replicas} pods: a node drain or cluster upgrade may evict all of them at once. Add a PodDisruptionBudget with maxUnavailable: 1.`,
        },
      ];
    }
    if (budgets.length > 1) {
      return [
        ...refused,
        {
          message: `${budgets.length} PodDisruptionBudgets (${budgets.map((b) => objectRef(b).name).join(', ')}) select its pods; the eviction API refuses pods covered by more than one, so node drains stall. Keep one.`,
        },
      ];
    }
    const budget = budgets[0] as JsonObject;
    const findings: RuleFinding[] = [...refused];
    // The disruption controller counts every pod the PDB selects, across workloads (disruption.go,
    // getExpectedPodCount): the replicas of each selected workload in the input, this one included.
    const others = workloadsSelectedBy(budget, related).filter((other) => other.object !== workload.object);
    const pods = others.reduce((sum, other) => sum + replicasOf(other, related), replicas);
    const allowed = allowedDisruptions(budget, pods);
    if (allowed !== undefined && allowed < 1) {
      const hpa = autoscalerFor(workload, related);
      const own = hpa ? `${replicas} replicas (the minReplicas of HorizontalPodAutoscaler "${objectRef(hpa).name}", where it scales down to)` : `${replicas} replicas`;
      const counted = others.length > 0 ? `${pods} pods (its ${own} and those of ${others.map((other) => `${other.ref.kind} ${other.ref.name}`).join(', ')})` : own;
      findings.push({
        message: `PodDisruptionBudget "${objectRef(budget).name}" allows no disruption at ${counted}: node drains block until someone deletes a pod by hand. Use maxUnavailable: 1.`,
      });
    }
    const unhealthy = unhealthyPolicyHint(budget, policy.kubernetesVersion);
    if (unhealthy) findings.push(unhealthy);
    return findings;
  },
};
