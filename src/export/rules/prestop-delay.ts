import { kubernetesMinor } from '../../policy/version.js';
import { preStopToAdd } from '../../rules/prestop-delay.js';
import { literal } from '../cel.js';
import { DESCRIBE_HOOK, jsNumber, SECONDS, SLEEPS, STOP_SIGNAL, STOPS_CONTAINER } from '../pre-stop-cel.js';
import { add, C, finding, NAMED, POD, POINTER } from '../workload-cel.js';
import type { ExportedRule } from './types.js';

/** rules/prestop-delay.ts at admission. */
export const prestopDelayCel: ExportedRule = {
  id: 'prestop-delay',
  findings({ policy, graceFixActive }) {
    const minimum = policy.preStop.seconds;
    const toAdd = preStopToAdd(policy);
    const custom = finding(
      `${NAMED} + ' has a custom preStop hook (' + ${DESCRIBE_HOOK} + '); rollsafe cannot tell how long it delays ' + ${STOP_SIGNAL} + ${literal(`. Make sure it keeps the app serving for at least ${minimum}s.`)}`,
      "''",
      "'info'",
    );
    const refusesZero = kubernetesMinor(policy.kubernetesVersion) < 33;
    const optOut = finding(
      `${NAMED} + ' opts out of the preStop delay with sleep.seconds: 0; rollsafe leaves it, but its endpoint removal still races ' + ${STOP_SIGNAL} + ', so clients may see refused connections while its pods stop.'` +
        (refusesZero ? ` + ${literal(` Kubernetes ${policy.kubernetesVersion} refuses 0 (allowed from 1.33): the apiserver will reject this object.`)}` : ''),
      "''",
      "'info'",
    );
    const short = finding(
      `${NAMED} + ' sleeps only ' + ${jsNumber(SECONDS)} + ${literal(`s in preStop; at least ${minimum}s is needed for kube-proxy, ingress controllers and DNS to stop sending it traffic. rollsafe never edits an existing hook: raise the sleep by hand.`)}`,
    );
    const grace = `${POD}.?terminationGracePeriodSeconds.orValue(30)`;
    // The apiserver refuses a native sleep longer than the grace period: not added unless grace-period raises it.
    const cannotAdd = 'sleep' in toAdd.hook ? `!${graceFixActive} && ${minimum} > ${grace}` : 'false';
    const noRoom = finding(
      `${NAMED} + ' has no preStop delay, and terminationGracePeriodSeconds (' + string(${grace}) + ${literal(`) is shorter than the ${minimum}s sleep it needs; grace-period is not fixed here (off, exempt or not enforced), so rollsafe adds nothing: raise the grace period and add the sleep.`)}`,
    );
    const hook = JSON.stringify(toAdd.hook);
    // The hook's JSON is a valid CEL map literal.
    const set = `[has(${C}.lifecycle) ? ${add(`${POINTER} + '/lifecycle/preStop'`, hook)} : ${add(`${POINTER} + '/lifecycle'`, `{"preStop": ${hook}}`)}]`;
    const missing = finding(
      `${NAMED} + ' has no preStop delay: when a pod is deleted, ' + ${STOP_SIGNAL} + ${literal(` arrives at the same time as its endpoint removal, and load balancers keep sending requests for seconds to a process that already stopped. Sleep at least ${minimum}s in preStop.`)}`,
      `${literal(`sets ${toAdd.text} on container "`)} + ${C}.name + '"'`,
      "''",
      set,
    );
    const one =
      `!variables.hooked[i] ? [${cannotAdd} ? ${noRoom} : ${missing}]` +
      ` : !(${SLEEPS}) ? [${custom}]` +
      ` : ${SECONDS} >= ${minimum}.0 ? []` +
      ` : variables.nativeSleep[i] && ${SECONDS} == 0.0 ? [${optOut}] : [${short}]`;
    const exits = finding(
      `'native sidecar "' + ${C}.name + '" stops itself in preStop (' + ${STOPS_CONTAINER} + '), but the kubelet runs every container\\'s preStop at once and holds back only the sidecars\\' stop signal until the main containers have exited (killContainer, terminationOrdering): the sidecar leaves while the app still sleeps and drains, and the requests that need it fail. Drop the hook: a native sidecar is stopped after the main containers by itself.'`,
    );
    const sidecars = `lists.range(size(variables.all)).filter(i, i >= size(${POD}.containers) && ${STOPS_CONTAINER} != '')`;
    return `variables.serving.map(i, ${one}).flatten() + ${sidecars}.map(i, ${exits})`;
  },
};
