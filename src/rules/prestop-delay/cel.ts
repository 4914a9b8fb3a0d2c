import { allowsZeroSleep, DEFAULT_GRACE_SECONDS } from '../../workloads/pre-stop.js';
import { cel } from '../../util/message.js';
import { gracePeriod } from '../grace-period/rule.js';
import { customHook, noPreStop, noRoomForSleep, optsOut, preStopToAdd, prestopDelay, setsPreStop, sidecarStopsItself, sleepsTooShort, zeroRefused } from './rule.js';
import { celText } from '../../export/cel.js';
import { DESCRIBE_HOOK, jsNumber, SECONDS, SLEEPS, STOP_SIGNAL, STOPS_CONTAINER } from '../../export/pre-stop-cel.js';
import { add, C, CONTAINER, finding, POD, POINTER } from '../../export/workload-cel.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/** The check of rule.ts in CEL, at admission. */
export const prestopDelayCel: ExportedRule = {
  rule: prestopDelay,
  findings({ policy, fixActive }) {
    const minimum = policy.preStop.seconds;
    const toAdd = preStopToAdd(policy);
    const custom = finding(celText(customHook(CONTAINER, cel(DESCRIBE_HOOK), cel(STOP_SIGNAL), minimum)), "''", "'info'");
    const optOut = finding(
      celText([...optsOut(CONTAINER, cel(STOP_SIGNAL)), ...(allowsZeroSleep(policy.kubernetesVersion) ? [] : zeroRefused(policy.kubernetesVersion))]),
      "''",
      "'info'",
    );
    const short = finding(celText(sleepsTooShort(CONTAINER, cel(jsNumber(SECONDS)), minimum)));
    const grace = `${POD}.?terminationGracePeriodSeconds.orValue(${DEFAULT_GRACE_SECONDS})`;
    // The apiserver refuses a native sleep longer than the grace period: not added unless grace-period raises it.
    const cannotAdd = 'sleep' in toAdd.hook ? `!${fixActive(gracePeriod.id)} && ${minimum} > ${grace}` : 'false';
    const noRoom = finding(celText(noRoomForSleep(CONTAINER, cel(`string(${grace})`), minimum)));
    const hook = JSON.stringify(toAdd.hook);
    // The hook's JSON is a valid CEL map literal.
    const set = `[has(${C}.lifecycle) ? ${add(`${POINTER} + '/lifecycle/preStop'`, hook)} : ${add(`${POINTER} + '/lifecycle'`, `{"preStop": ${hook}}`)}]`;
    const missing = finding(celText(noPreStop(CONTAINER, cel(STOP_SIGNAL), minimum)), celText(setsPreStop(toAdd.text, cel(`${C}.name`))), "''", set);
    const one =
      `!variables.hooked[i] ? [${cannotAdd} ? ${noRoom} : ${missing}]` +
      ` : !(${SLEEPS}) ? [${custom}]` +
      ` : ${SECONDS} >= ${minimum}.0 ? []` +
      ` : variables.nativeSleep[i] && ${SECONDS} == 0.0 ? [${optOut}] : [${short}]`;
    const exits = finding(celText(sidecarStopsItself(cel(`${C}.name`), cel(STOPS_CONTAINER))));
    const sidecars = `lists.range(size(variables.all)).filter(i, i >= size(${POD}.containers) && ${STOPS_CONTAINER} != '')`;
    return `variables.serving.map(i, ${one}).flatten() + ${sidecars}.map(i, ${exits})`;
  },
};
