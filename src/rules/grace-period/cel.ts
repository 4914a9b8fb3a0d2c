import { celText, literal } from '../../export/cel.js';
import { cel } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import { ceil } from '../../export/pre-stop-cel.js';
import { add, finding, POD } from '../../export/workload-cel.js';
import { DEFAULT_GRACE_SECONDS } from '../../workloads/pre-stop.js';
import { prestopDelay } from '../prestop-delay/rule.js';
import { gracePeriod, graceTooShort, setsGrace } from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/** rule.ts: the longest preStop sleep (found, or about to be added) plus drainSeconds. */
export const gracePeriodCel: ExportedRule = {
  rule: gracePeriod,
  variables: [
    { name: 'gpLongestSleep', expression: `([0] + variables.sleepSeconds.filter(s, s >= 0.0).map(s, ${ceil('s')})).max()` },
    { name: 'gpServingWithoutHook', expression: 'variables.serving.exists(i, !variables.hooked[i])' },
  ],
  findings({ policy, fixActive }) {
    const added = literal(policy.preStop.seconds);
    const preStop = `(${fixActive(prestopDelay.id)} && variables.gpServingWithoutHook && ${added} > variables.gpLongestSleep ? ${added} : variables.gpLongestSleep)`;
    const required = `(${preStop} + ${literal(policy.drainSeconds)})`;
    const grace = `${POD}.?terminationGracePeriodSeconds.orValue(${DEFAULT_GRACE_SECONDS})`;
    const current = cel(`has(${POD}.terminationGracePeriodSeconds) ? string(${POD}.terminationGracePeriodSeconds) : ${celText(unsetDefaultsTo(DEFAULT_GRACE_SECONDS))}`);
    const message = celText(graceTooShort([current], cel(`string(${preStop})`), policy.drainSeconds, cel(`string(${required})`)));
    const fix = celText(setsGrace(cel(`string(${required})`)));
    return `(${preStop} == 0 && size(variables.serving) == 0) || ${grace} >= ${required} ? [] : [${finding(message, fix, "''", `[${add("'/spec/template/spec/terminationGracePeriodSeconds'", required)}]`)}]`;
  },
};
