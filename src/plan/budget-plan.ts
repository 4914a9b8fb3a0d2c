/**
 * The termination budget as `rollsafe plan` shows it: what the pods need (src/budget/), part by part, beside what
 * they have. The same numbers prestop-delay and grace-period judge by.
 */
import { terminationBudget } from '../budget/termination-budget.js';
import type { EffectivePolicy } from '../policy/types.js';
import { asInteger, type JsonObject } from '../util/object.js';
import { servingContainers } from '../workloads/serving.js';
import { DEFAULT_GRACE_SECONDS, readPreStop } from '../workloads/pre-stop.js';
import type { RelatedObjects } from '../workloads/related.js';
import type { Workload } from '../workloads/workload.js';

export interface BudgetPlan {
  /** Whether the pods have a budget to meet: they serve, or sleep in preStop (else prestop-delay and grace-period pass). */
  applies: boolean;
  /** Whether the template meets it as written (what prestop-delay and grace-period judge). */
  met: boolean;
  /** The preStop sleep every serving container needs, and what needs it. */
  preStopSeconds: number;
  preStopBecause: string;
  /** What the pods need after their stop signal, and why. */
  afterSignalSeconds: number;
  afterSignalBecause: string;
  /** The terminationGracePeriodSeconds they need: the longest sleep they will have + afterSignalSeconds. */
  graceSeconds: number;
  /**
   * What the template has: the shortest preStop sleep of a serving container (0 when one has none), the longest
   * of any container, and the grace period.
   */
  current: { preStopSeconds: number; longestPreStopSeconds: number; graceSeconds: number };
  fronts: Array<{ profile: string; via: string; propagationSeconds: number; drainingSeconds: number; drainingBecause: string }>;
  /** Service ports whose connections outlive a sleep. */
  longLived: string[];
  /**
   * ingress-nginx Ingresses that send through the Service's ClusterIP (service-upstream): their keep-alive
   * connections stay on a terminating pod, so the app must close them after its stop signal.
   */
  clusterIpUpstreams: Array<{ via: string; nextUpstream: string; retries: 'all' | 'idempotent' | 'none' }>;
}

/** A container's preStop sleep in seconds; a custom hook counts as enough (rollsafe cannot time it). */
function sleepOf(spec: JsonObject, needed: number): number {
  const hook = readPreStop(spec);
  return hook.kind === 'sleep' ? hook.seconds : hook.kind === 'custom' ? needed : 0;
}

export function budgetPlan(workload: Workload, related: RelatedObjects | undefined, policy: EffectivePolicy): BudgetPlan {
  const budget = terminationBudget(workload, related, policy);
  const serving = servingContainers(workload, related);
  const shortest = serving.length === 0 ? 0 : Math.min(...serving.map((container) => sleepOf(container.spec, budget.preStopSeconds)));
  let longest = 0;
  for (const container of workload.containers) {
    const hook = readPreStop(container.spec);
    if (hook.kind === 'sleep') longest = Math.max(longest, hook.seconds);
  }
  const applies = serving.length > 0 || longest > 0;
  // A serving container short of the budget gets it (added or raised), so the longest sleep becomes at least that.
  const planned = serving.length > 0 ? Math.max(longest, budget.preStopSeconds) : longest;
  const graceSeconds = Math.ceil(planned) + budget.afterSignalSeconds;
  const grace = asInteger(workload.podSpec['terminationGracePeriodSeconds']) ?? DEFAULT_GRACE_SECONDS;
  return {
    applies,
    met: !applies || ((serving.length === 0 || shortest >= budget.preStopSeconds) && grace >= graceSeconds),
    preStopSeconds: budget.preStopSeconds,
    preStopBecause: budget.slowestFront
      ? `${budget.slowestFront.via} (loadBalancers.${budget.slowestFront.profile})`
      : `kube-proxy, DNS and in-cluster clients (preStop.seconds)`,
    afterSignalSeconds: budget.afterSignalSeconds,
    afterSignalBecause: budget.afterSignalBecause,
    graceSeconds,
    current: { preStopSeconds: shortest, longestPreStopSeconds: longest, graceSeconds: grace },
    fronts: budget.fronts.map((front) => ({
      profile: front.profile,
      via: front.via,
      propagationSeconds: policy.loadBalancers[front.profile],
      drainingSeconds: front.drainingSeconds,
      drainingBecause: front.drainingBecause,
    })),
    longLived: budget.longLived,
    clusterIpUpstreams: budget.clusterIpUpstreams.map(({ via, nextUpstream, retries }) => ({ via, nextUpstream, retries })),
  };
}
