import { asInteger } from '../util/object.js';
import { readPreStop } from '../workloads/pre-stop.js';
import { servingContainers } from '../workloads/serving.js';
import type { Rule, RuleInput } from './types.js';

export const DEFAULT_GRACE_SECONDS = 30;

/**
 * The longest preStop delay the pod will have: hooks found, plus the sleep prestop-delay adds to serving
 * containers without a hook. Hooks run in parallel, so the longest one counts.
 */
function plannedPreStopSeconds({ workload, related, policy, preStopFixActive }: RuleInput): number {
  let longest = 0;
  for (const container of workload.containers) {
    const hook = readPreStop(container.spec);
    if (hook.kind === 'sleep') longest = Math.max(longest, Math.ceil(hook.seconds));
  }
  if (preStopFixActive) {
    const missing = servingContainers(workload, related).some((c) => readPreStop(c.spec).kind === 'none');
    if (missing) longest = Math.max(longest, policy.preStop.seconds);
  }
  return longest;
}

export const gracePeriod: Rule = {
  id: 'grace-period',
  summary: 'terminationGracePeriodSeconds covers the preStop delay plus drainSeconds (the grace period includes preStop).',
  fixable: true,
  check(input) {
    const { workload, related, policy } = input;
    const preStop = plannedPreStopSeconds(input);
    // Pods that neither serve nor delay shutdown are not part of zero-downtime rollouts.
    if (preStop === 0 && servingContainers(workload, related).length === 0) return [];
    const required = preStop + policy.drainSeconds;
    const written = asInteger(workload.podSpec['terminationGracePeriodSeconds']);
    const grace = written ?? DEFAULT_GRACE_SECONDS;
    if (grace >= required) return [];
    const current = written === undefined ? `unset, defaults to ${DEFAULT_GRACE_SECONDS}` : String(written);
    return [
      {
        message:
          `terminationGracePeriodSeconds is ${current}, but the pod needs ${preStop}s of preStop delay + ${policy.drainSeconds}s ` +
          `to drain in-flight work = ${required}s. The grace period includes the preStop time, so the kubelet sends SIGKILL ` +
          'before the app has finished draining.',
        fix: {
          description: `sets terminationGracePeriodSeconds: ${required}`,
          set: [{ path: [...workload.podSpecPath, 'terminationGracePeriodSeconds'], value: required }],
        },
      },
    ];
  },
};
