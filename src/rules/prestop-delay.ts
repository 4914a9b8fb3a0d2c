import type { EffectivePolicy } from '../policy/types.js';
import { asInteger } from '../util/object.js';
import { DEFAULT_GRACE_SECONDS } from './grace-period.js';
import { allowsZeroSleep, preStopStopsContainer, readPreStop, stopSignal, supportsNativeSleep } from '../workloads/pre-stop.js';
import { servingContainers, type ServingContainer } from '../workloads/serving.js';
import type { Workload } from '../workloads/workload.js';
import type { Rule, RuleFinding } from './types.js';

/** The hook the fix adds: the native sleep action where the target version has it, else exec sleep. */
export function preStopToAdd(policy: EffectivePolicy): { hook: object; text: string } {
  const seconds = policy.preStop.seconds;
  const native =
    policy.preStop.action === 'sleep' || (policy.preStop.action === 'auto' && supportsNativeSleep(policy.kubernetesVersion));
  return native
    ? { hook: { sleep: { seconds } }, text: `lifecycle.preStop.sleep.seconds: ${seconds}` }
    : { hook: { exec: { command: ['sleep', String(seconds)] } }, text: `lifecycle.preStop.exec.command: [sleep, "${seconds}"]` };
}

/** One serving container: undefined when its preStop delay is long enough. */
function checkContainer(container: ServingContainer, workload: Workload, policy: EffectivePolicy, graceFixActive: boolean): RuleFinding | undefined {
  const minimum = policy.preStop.seconds;
  const hook = readPreStop(container.spec);
  const who = `${container.sidecar ? 'sidecar' : 'container'} "${container.name}"`;
  if (hook.kind === 'custom') {
    return {
      container: container.name,
      cap: 'info',
      message: `${who} has a custom preStop hook (${hook.description}); rollsafe cannot tell how long it delays ${stopSignal(container.spec)}. Make sure it keeps the app serving for at least ${minimum}s.`,
    };
  }
  if (hook.kind === 'sleep') {
    if (hook.seconds >= minimum) return undefined;
    // `sleep: {seconds: 0}` is how a workload opts out of a default preStop a webhook would add (the use case
    // of KEP-4818, PodLifecycleSleepActionAllowZero): a decision, reported and left alone.
    if (hook.form === 'native' && hook.seconds === 0) {
      const refused = !allowsZeroSleep(policy.kubernetesVersion);
      return {
        container: container.name,
        cap: 'info',
        message:
          `${who} opts out of the preStop delay with sleep.seconds: 0; rollsafe leaves it, but its endpoint removal still races ${stopSignal(container.spec)}, so clients may see refused connections while its pods stop.` +
          (refused ? ` Kubernetes ${policy.kubernetesVersion} refuses 0 (allowed from 1.33): the apiserver will reject this object.` : ''),
      };
    }
    return {
      container: container.name,
      message: `${who} sleeps only ${hook.seconds}s in preStop; at least ${minimum}s is needed for kube-proxy, ingress controllers and DNS to stop sending it traffic. rollsafe never edits an existing hook: raise the sleep by hand.`,
    };
  }
  const add = preStopToAdd(policy);
  // The apiserver refuses a native sleep longer than the grace period; if grace-period will not raise it
  // in the same pass, adding the sleep would break the object.
  const grace = asInteger(workload.podSpec['terminationGracePeriodSeconds']) ?? DEFAULT_GRACE_SECONDS;
  if ('sleep' in add.hook && !graceFixActive && minimum > grace) {
    return {
      container: container.name,
      message:
        `${who} has no preStop delay, and terminationGracePeriodSeconds (${grace}) is shorter than the ${minimum}s ` +
        'sleep it needs; grace-period is not fixed here (off, exempt or not enforced), so rollsafe adds nothing: raise the grace period and add the sleep.',
    };
  }
  return {
    container: container.name,
    message:
      `${who} has no preStop delay: when a pod is deleted, ${stopSignal(container.spec)} arrives at the same time as its endpoint removal, ` +
      'and load balancers keep sending requests for seconds to a process that already stopped. ' +
      `Sleep at least ${minimum}s in preStop.`,
    fix: {
      description: `sets ${add.text} on container "${container.name}"`,
      set: [{ path: [...container.path, 'lifecycle', 'preStop'], value: add.hook }],
    },
  };
}

export const prestopDelay: Rule = {
  id: 'prestop-delay',
  summary: 'Every serving container keeps serving for preStop.seconds after its endpoint is removed, before SIGTERM.',
  fixable: true,
  check({ workload, related, policy, graceFixActive }) {
    // A loop, not flatMap: this runs on every admission request, and flatMap costs more than the check.
    const findings: RuleFinding[] = [];
    for (const container of servingContainers(workload, related)) {
      const finding = checkContainer(container, workload, policy, graceFixActive);
      if (finding) findings.push(finding);
    }
    for (const container of workload.containers) {
      const exits = container.sidecar ? preStopStopsContainer(container.spec) : undefined;
      if (exits) {
        findings.push({
          container: container.name,
          message:
            `native sidecar "${container.name}" stops itself in preStop (${exits}), but the kubelet runs every container's preStop at once and holds back only the sidecars' stop signal ` +
            'until the main containers have exited (killContainer, terminationOrdering): the sidecar leaves while the app still sleeps and drains, and the requests that need it fail. ' +
            'Drop the hook: a native sidecar is stopped after the main containers by itself.',
        });
      }
    }
    return findings;
  },
};
