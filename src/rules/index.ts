import { disruptionBudget } from './disruption-budget/rule.js';
import { gracePeriod } from './grace-period/rule.js';
import { lbReadinessGate } from './lb-readiness-gate/rule.js';
import { hpaReplicas } from './hpa-replicas/rule.js';
import { minReplicas } from './min-replicas/rule.js';
import { nodeSpread } from './node-spread/rule.js';
import { prestopDelay } from './prestop-delay/rule.js';
import { probePort } from './probe-port/rule.js';
import { progressDeadline } from './progress-deadline/rule.js';
import { probesIdentical } from './probes-identical/rule.js';
import { readinessProbe } from './readiness-probe/rule.js';
import { rollbackHistory } from './rollback-history/rule.js';
import { rolloutStrategy } from './rollout-strategy/rule.js';
import { sidecarDrain } from './sidecar-drain/rule.js';
import { workloadRef } from './workload-ref/rule.js';
import { yaml11Values } from './yaml-1-1-values/rule.js';

/**
 * Every rule, in the order they run and their fixes apply (prestop-delay before grace-period, which counts the
 * sleep it adds); reports, the policy document and the native policies list them in this order too.
 */
export const RULES = [
  readinessProbe,
  probePort,
  probesIdentical,
  prestopDelay,
  gracePeriod,
  lbReadinessGate,
  sidecarDrain,
  rolloutStrategy,
  rollbackHistory,
  progressDeadline,
  minReplicas,
  hpaReplicas,
  disruptionBudget,
  nodeSpread,
  workloadRef,
  yaml11Values,
] as const;

export const RULE_IDS: ReadonlyArray<(typeof RULES)[number]['id']> = RULES.map((rule) => rule.id);

/** Whether a string is a rule id (exemption annotations, --disable, `rollsafe rules ID`). */
export function isRuleId(id: string): id is (typeof RULES)[number]['id'] {
  return (RULE_IDS as readonly string[]).includes(id);
}
