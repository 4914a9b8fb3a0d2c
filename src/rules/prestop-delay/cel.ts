import { allowsZeroSleep, DEFAULT_GRACE_SECONDS } from '../../workloads/pre-stop.js';
import { cel } from '../../util/message.js';
import { gracePeriod } from '../grace-period/rule.js';
import {
  behind,
  customHook,
  noPreStop,
  noPreStopBehindFront,
  noRoomForSleep,
  noRoomToRaise,
  optsOut,
  preStopToAdd,
  prestopDelay,
  raiseByHand,
  raisesSleep,
  setsPreStop,
  sidecarStopsItself,
  sleepsShorterThanFront,
  sleepsTooShort,
  unknownProfiles,
  zeroRefused,
} from './rule.js';
import { BUDGET_VARIABLES, budgetSleep, slowestDeclared } from '../../export/budget-cel.js';
import { DECLARED_VIA } from '../../budget/fronts.js';
import { PROFILE_NAMES } from '../../budget/profiles.js';
import { celText } from '../../export/cel.js';
import { DESCRIBE_HOOK, jsNumber, SECONDS, SLEEPS, STOP_SIGNAL, STOPS_CONTAINER } from '../../export/pre-stop-cel.js';
import { add, C, CONTAINER, finding, POD, POINTER } from '../../export/workload-cel.js';
import type { ExportedRule, RuleCelInput } from '../../export/exported-rule.js';

/** The check of rule.ts in CEL, at admission. */
export const prestopDelayCel: ExportedRule = {
  rule: prestopDelay,
  // Declared load balancers, read here for every rule after this one (grace-period, sidecar-drain).
  variables: BUDGET_VARIABLES,
  findings(input) {
    const { policy, fixActive } = input;
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
    const unknown = finding(celText(unknownProfiles(cel(`variables.lbUnknown.join(', ')`), PROFILE_NAMES.join(', '))), "''", "'info'");
    const serving = `(${slowestDeclared(policy)} == '' ? variables.serving.map(i, ${one}).flatten() : ${behindDeclared(input)})`;
    return `${serving} + ${sidecars}.map(i, ${exits}) + (size(variables.lbUnknown) > 0 ? [${unknown}] : [])`;
  },
};

/**
 * checkContainer behind a declared front slower than preStop.seconds: the budget's sleep (a CEL int), the
 * front named in messages, and a native sleep raised where it fits the grace period.
 */
function behindDeclared({ policy, fixActive }: RuleCelInput): string {
  const minimum = budgetSleep(policy);
  const front = behind(DECLARED_VIA, cel(`string(${minimum})`), cel(slowestDeclared(policy)));
  const native = 'sleep' in preStopToAdd(policy).hook;
  const grace = `${POD}.?terminationGracePeriodSeconds.orValue(${DEFAULT_GRACE_SECONDS})`;
  const custom = finding(celText(customHook(CONTAINER, cel(DESCRIBE_HOOK), cel(STOP_SIGNAL), cel(`string(${minimum})`))), "''", "'info'");
  const optOut = finding(
    celText([...optsOut(CONTAINER, cel(STOP_SIGNAL)), ...(allowsZeroSleep(policy.kubernetesVersion) ? [] : zeroRefused(policy.kubernetesVersion))]),
    "''",
    "'info'",
  );
  const fits = `(${fixActive(gracePeriod.id)} || ${minimum} <= ${grace})`;
  const shortMessage = celText(sleepsShorterThanFront(CONTAINER, cel(jsNumber(SECONDS)), front));
  const why = `(!variables.nativeSleep[i] ? ${celText(raiseByHand)} : ${fits} ? '' : ${celText(noRoomToRaise)})`;
  const raise = finding(`${shortMessage} + ${why}`, celText(raisesSleep(cel(`string(${minimum})`), cel(`${C}.name`))), "''", `[${add(`${POINTER} + '/lifecycle/preStop/sleep/seconds'`, minimum)}]`);
  const short = `variables.nativeSleep[i] && ${fits} ? ${raise} : ${finding(`${shortMessage} + ${why}`)}`;
  const cannotAdd = native ? `!${fixActive(gracePeriod.id)} && ${minimum} > ${grace}` : 'false';
  const noRoom = finding(celText(noRoomForSleep(CONTAINER, cel(`string(${grace})`), cel(`string(${minimum})`))));
  // preStopToAdd's hook and words, with the budget's seconds.
  const hook = native ? `{"sleep": {"seconds": ${minimum}}}` : `{"exec": {"command": ["sleep", string(${minimum})]}}`;
  const hookText = native ? `'lifecycle.preStop.sleep.seconds: ' + string(${minimum})` : `'lifecycle.preStop.exec.command: [sleep, "' + string(${minimum}) + '"]'`;
  const set = `[has(${C}.lifecycle) ? ${add(`${POINTER} + '/lifecycle/preStop'`, hook)} : ${add(`${POINTER} + '/lifecycle'`, `{"preStop": ${hook}}`)}]`;
  const missing = finding(celText(noPreStopBehindFront(CONTAINER, cel(STOP_SIGNAL), front)), celText(setsPreStop(cel(hookText), cel(`${C}.name`))), "''", set);
  const one =
    `!variables.hooked[i] ? [${cannotAdd} ? ${noRoom} : ${missing}]` +
    ` : !(${SLEEPS}) ? [${custom}]` +
    ` : ${SECONDS} >= double(${minimum}) ? []` +
    ` : variables.nativeSleep[i] && ${SECONDS} == 0.0 ? [${optOut}] : [${short}]`;
  return `variables.serving.map(i, ${one}).flatten()`;
}
