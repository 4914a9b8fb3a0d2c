import { celText, literal } from '../../export/cel.js';
import { cel } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import { ceil, SECONDS } from '../../export/pre-stop-cel.js';
import { budgetSleep, DECLARED_DRAINING, DECLARED_DRAINING_BECAUSE, slowestDeclared } from '../../export/budget-cel.js';
import { add, finding, POD } from '../../export/workload-cel.js';
import { DEFAULT_GRACE_SECONDS } from '../../workloads/pre-stop.js';
import { prestopDelay } from '../prestop-delay/rule.js';
import { gracePeriod, graceTooShort, graceTooShortFor, setsGrace } from './rule.js';
import { MAX_CONNECTION_ANNOTATION } from '../../budget/profiles.js';
import { connectionsLiveUpTo, WHOLE_SECONDS } from '../../budget/termination-budget.js';
import type { ExportedRule, RuleCelInput } from '../../export/exported-rule.js';

/** plannedPreStopSeconds in CEL: the longest preStop sleep, found or about to be added (or raised) by prestop-delay. */
export function plannedPreStopCel({ policy, fixActive }: RuleCelInput): string {
  const budget = budgetSleep(policy);
  // A serving container without a hook gets the budget's sleep; behind a slower declared front, a short native one is raised to it.
  const raised = `(${slowestDeclared(policy)} != '' && variables.serving.exists(i, variables.nativeSleep[i] && ${SECONDS} > 0.0 && ${SECONDS} < double(${budget})))`;
  return `(${fixActive(prestopDelay.id)} && (variables.gpServingWithoutHook || ${raised}) && ${budget} > variables.gpLongestSleep ? ${budget} : variables.gpLongestSleep)`;
}

/** What the pods need after their stop signal at admission (terminationBudget without context), and whether more than drainSeconds. */
function afterSignalParts({ policy }: RuleCelInput): { after: string; connections: string; fronts: string } {
  const drain = literal(policy.drainSeconds);
  const fronts = `(${DECLARED_DRAINING} > ${drain} ? ${DECLARED_DRAINING} : ${drain})`;
  const connections = `variables.gpMaxConnection > ${fronts}`;
  return { after: `(${connections} ? variables.gpMaxConnection : ${fronts})`, connections, fronts: `${DECLARED_DRAINING} > ${drain}` };
}

/** The budget after the stop signal at admission: drainSeconds, a declared front's draining time, or a declared connection life. */
export function afterSignalCel(input: RuleCelInput): string {
  return afterSignalParts(input).after;
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
    // Without context, the budget beyond drainSeconds comes from what the object declares (terminationBudget).
    const { after, connections, fronts } = afterSignalParts(input);
    const required = `(${preStop} + ${after})`;
    const grace = `${POD}.?terminationGracePeriodSeconds.orValue(${DEFAULT_GRACE_SECONDS})`;
    const current = cel(`has(${POD}.terminationGracePeriodSeconds) ? string(${POD}.terminationGracePeriodSeconds) : ${celText(unsetDefaultsTo(DEFAULT_GRACE_SECONDS))}`);
    const plain = celText(graceTooShort([current], cel(`string(${preStop})`), policy.drainSeconds, cel(`string(${required})`)));
    const because = cel(`${connections} ? ${celText(connectionsLiveUpTo(cel('string(variables.gpMaxConnection)')))} : ${DECLARED_DRAINING_BECAUSE}`);
    const longer = celText(graceTooShortFor([current], cel(`string(${preStop})`), cel(`string(${after})`), [because], cel(`string(${required})`)));
    const message = `(${connections} || ${fronts} ? ${longer} : ${plain})`;
    const fix = celText(setsGrace(cel(`string(${required})`)));
    return `(${preStop} == 0 && size(variables.serving) == 0) || ${grace} >= ${required} ? [] : [${finding(message, fix, "''", `[${add("'/spec/template/spec/terminationGracePeriodSeconds'", required)}]`)}]`;
  },
};
