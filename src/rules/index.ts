import { disruptionBudget } from './disruption-budget.js';
import { gracePeriod } from './grace-period.js';
import { minReplicas } from './min-replicas.js';
import { nodeSpread } from './node-spread.js';
import { prestopDelay } from './prestop-delay.js';
import { probePortRule } from './probe-port.js';
import { probesIdentical } from './probes-identical.js';
import { readinessProbe } from './readiness-probe.js';
import { rolloutStrategy } from './rollout-strategy.js';
import type { Rule } from './types.js';

/** Every rule, in the order fixes apply: prestop-delay before grace-period, which counts the sleep it adds. */
export const RULES: readonly Rule[] = [
  readinessProbe,
  probePortRule,
  probesIdentical,
  prestopDelay,
  gracePeriod,
  rolloutStrategy,
  minReplicas,
  disruptionBudget,
  nodeSpread,
];

