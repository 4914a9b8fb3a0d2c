/**
 * The termination budget as `rollsafe plan` shows it: what the pods need (src/budget/), part by part, beside what
 * they have. The same numbers prestop-delay and grace-period judge by.
 */
import { terminationBudget } from '../budget/termination-budget.js';
import type { EffectivePolicy } from '../policy/types.js';
import { asInteger } from '../util/object.js';
import { DEFAULT_GRACE_SECONDS, readPreStop } from '../workloads/pre-stop.js';
import type { RelatedObjects } from '../workloads/related.js';
import type { Workload } from '../workloads/workload.js';

export interface BudgetPlan {
  /** The preStop sleep the pods need, and what needs it. */
  preStopSeconds: number;
  preStopBecause: string;
  /** What they need after their stop signal, and why. */
  afterSignalSeconds: number;
  afterSignalBecause: string;
  /** preStopSeconds + afterSignalSeconds: the terminationGracePeriodSeconds they need. */
  graceSeconds: number;
  /** What the template has: its longest preStop sleep (0 for none) and its grace period. */
  current: { preStopSeconds: number; graceSeconds: number };
  fronts: Array<{ profile: string; via: string; propagationSeconds: number; drainingSeconds: number; drainingBecause: string }>;
  /** Service ports whose connections outlive a sleep. */
  longLived: string[];
}

export function budgetPlan(workload: Workload, related: RelatedObjects | undefined, policy: EffectivePolicy): BudgetPlan {
  const budget = terminationBudget(workload, related, policy);
  let sleep = 0;
  for (const container of workload.containers) {
    const hook = readPreStop(container.spec);
    if (hook.kind === 'sleep') sleep = Math.max(sleep, hook.seconds);
  }
  return {
    preStopSeconds: budget.preStopSeconds,
    preStopBecause: budget.slowestFront
      ? `${budget.slowestFront.via} (loadBalancers.${budget.slowestFront.profile})`
      : `kube-proxy, DNS and in-cluster clients (preStop.seconds)`,
    afterSignalSeconds: budget.afterSignalSeconds,
    afterSignalBecause: budget.afterSignalBecause,
    graceSeconds: budget.preStopSeconds + budget.afterSignalSeconds,
    current: { preStopSeconds: sleep, graceSeconds: asInteger(workload.podSpec['terminationGracePeriodSeconds']) ?? DEFAULT_GRACE_SECONDS },
    fronts: budget.fronts.map((front) => ({
      profile: front.profile,
      via: front.via,
      propagationSeconds: policy.loadBalancers[front.profile],
      drainingSeconds: front.drainingSeconds,
      drainingBecause: front.drainingBecause,
    })),
    longLived: budget.longLived,
  };
}
