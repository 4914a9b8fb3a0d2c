import { literal } from '../cel.js';
import { ceil } from '../pre-stop-cel.js';
import { add, finding, POD } from '../workload-cel.js';
import type { ExportedRule } from './types.js';

/** rules/grace-period.ts: the longest preStop sleep (found, or about to be added) plus drainSeconds. */
export const gracePeriodCel: ExportedRule = {
  id: 'grace-period',
  variables: [
    { name: 'gpLongestSleep', expression: `([0] + variables.sleepSeconds.filter(s, s >= 0.0).map(s, ${ceil('s')})).max()` },
    { name: 'gpServingWithoutHook', expression: 'variables.serving.exists(i, !variables.hooked[i])' },
  ],
  findings({ policy, preStopFixActive }) {
    const added = literal(policy.preStop.seconds);
    const preStop = `(${preStopFixActive} && variables.gpServingWithoutHook && ${added} > variables.gpLongestSleep ? ${added} : variables.gpLongestSleep)`;
    const required = `(${preStop} + ${literal(policy.drainSeconds)})`;
    const grace = `${POD}.?terminationGracePeriodSeconds.orValue(30)`;
    const current = `(has(${POD}.terminationGracePeriodSeconds) ? string(${POD}.terminationGracePeriodSeconds) : 'unset, defaults to 30')`;
    const message =
      `'terminationGracePeriodSeconds is ' + ${current} + ', but the pod needs ' + string(${preStop}) + ${literal(`s of preStop delay + ${policy.drainSeconds}s `)}` +
      ` + 'to drain in-flight work = ' + string(${required}) + 's. The grace period includes the preStop time, so the kubelet sends SIGKILL before the app has finished draining.'`;
    return `(${preStop} == 0 && size(variables.serving) == 0) || ${grace} >= ${required} ? [] : [${finding(message, `'sets terminationGracePeriodSeconds: ' + string(${required})`, "''", `[${add("'/spec/template/spec/terminationGracePeriodSeconds'", required)}]`)}]`;
  },
};
