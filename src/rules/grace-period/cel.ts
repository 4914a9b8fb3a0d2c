import { celText, literal } from '../../export/cel.js';
import { cel } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import { ceil } from '../../export/pre-stop-cel.js';
import { add, finding, POD } from '../../export/workload-cel.js';
import { DEFAULT_GRACE_SECONDS } from '../../workloads/pre-stop.js';
import { prestopDelay } from '../prestop-delay/rule.js';
import { gracePeriod, graceTooShort, graceTooShortFor, setsGrace } from './rule.js';
import { MAX_CONNECTION_ANNOTATION } from '../../budget/profiles.js';
import { connectionsLiveUpTo, WHOLE_SECONDS } from '../../budget/termination-budget.js';
import type { ExportedRule, RuleCelInput } from '../../export/exported-rule.js';

/** plannedPreStopSeconds in CEL: the longest preStop sleep, found or about to be added by prestop-delay. */
export function plannedPreStopCel({ policy, fixActive }: RuleCelInput): string {
  const added = literal(policy.preStop.seconds);
  return `(${fixActive(prestopDelay.id)} && variables.gpServingWithoutHook && ${added} > variables.gpLongestSleep ? ${added} : variables.gpLongestSleep)`;
}

/** The budget after the stop signal at admission (terminationBudget without context): drainSeconds or a declared connection life. */
export function afterSignalCel({ policy }: RuleCelInput): string {
  return `(variables.gpMaxConnection > ${literal(policy.drainSeconds)} ? variables.gpMaxConnection : ${literal(policy.drainSeconds)})`;
}

/** rule.ts: the longest preStop sleep (found, or about to be added) plus drainSeconds. */
export const gracePeriodCel: ExportedRule = {
  rule: gracePeriod,
  variables: [
    { name: 'gpLongestSleep', expression: `([0] + variables.sleepSeconds.filter(s, s >= 0.0).map(s, ${ceil('s')})).max()` },
    { name: 'gpServingWithoutHook', expression: 'variables.serving.exists(i, !variables.hooked[i])' },
    // rollsafe.dev/max-connection-seconds, when written as whole seconds (maxConnectionSeconds), else 0.
    {
      name: 'gpMaxConnection',
      expression: `object.metadata.?annotations[?${literal(MAX_CONNECTION_ANNOTATION)}].orValue('').matches(${literal(WHOLE_SECONDS.source)}) ? int(object.metadata.annotations[${literal(MAX_CONNECTION_ANNOTATION)}]) : 0`,
    },
  ],
  findings(input) {
    const { policy } = input;
    const preStop = plannedPreStopCel(input);
    // Without context the budget's only part beyond drainSeconds is a declared connection life (terminationBudget).
    const declared = `variables.gpMaxConnection > ${literal(policy.drainSeconds)}`;
    const after = afterSignalCel(input);
    const required = `(${preStop} + ${after})`;
    const grace = `${POD}.?terminationGracePeriodSeconds.orValue(${DEFAULT_GRACE_SECONDS})`;
    const current = cel(`has(${POD}.terminationGracePeriodSeconds) ? string(${POD}.terminationGracePeriodSeconds) : ${celText(unsetDefaultsTo(DEFAULT_GRACE_SECONDS))}`);
    const plain = celText(graceTooShort([current], cel(`string(${preStop})`), policy.drainSeconds, cel(`string(${required})`)));
    const longer = celText(
      graceTooShortFor([current], cel(`string(${preStop})`), cel('string(variables.gpMaxConnection)'), connectionsLiveUpTo(cel('string(variables.gpMaxConnection)')), cel(`string(${required})`)),
    );
    const message = `(${declared} ? ${longer} : ${plain})`;
    const fix = celText(setsGrace(cel(`string(${required})`)));
    return `(${preStop} == 0 && size(variables.serving) == 0) || ${grace} >= ${required} ? [] : [${finding(message, fix, "''", `[${add("'/spec/template/spec/terminationGracePeriodSeconds'", required)}]`)}]`;
  },
};
