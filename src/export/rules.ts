import { RULES } from '../rules/index.js';
import { gracePeriodCel } from '../rules/grace-period/cel.js';
import { lbReadinessGateCel } from '../rules/lb-readiness-gate/cel.js';
import { minReplicasCel } from '../rules/min-replicas/cel.js';
import { nodeSpreadCel } from '../rules/node-spread/cel.js';
import { prestopDelayCel } from '../rules/prestop-delay/cel.js';
import { probePortCel } from '../rules/probe-port/cel.js';
import { probesIdenticalCel } from '../rules/probes-identical/cel.js';
import { progressDeadlineCel } from '../rules/progress-deadline/cel.js';
import { readinessProbeCel } from '../rules/readiness-probe/cel.js';
import { rollbackHistoryCel } from '../rules/rollback-history/cel.js';
import { rolloutStrategyCel } from '../rules/rollout-strategy/cel.js';
import { sidecarDrainCel } from '../rules/sidecar-drain/cel.js';
import type { ExportedRule } from './exported-rule.js';

/**
 * Every rule the native policies judge: each rule that runs at admission (not needsContext) has a cel.ts in its
 * home, listed here (apart from the registry, so the CLI never loads CEL it does not print). In the registry's
 * order, so denials list violations as the webhook does; a rule missing here fails loudly.
 */
export const EXPORTED_RULES: readonly ExportedRule[] = (() => {
  const homes: ExportedRule[] = [readinessProbeCel, probePortCel, probesIdenticalCel, prestopDelayCel, gracePeriodCel, lbReadinessGateCel, sidecarDrainCel, rolloutStrategyCel, rollbackHistoryCel, progressDeadlineCel, minReplicasCel, nodeSpreadCel];
  return RULES.filter((rule) => !rule.needsContext).map((rule) => {
    const home = homes.find((candidate) => candidate.rule === rule);
    if (!home) throw new Error(`rule ${rule.id} runs at admission but has no cel.ts for rollsafe export`);
    return home;
  });
})();
