import type { EffectivePolicy } from '../../policy/types.js';
import { enumParameter, integerParameter, objectParameter } from '../../policy/parameters.js';
import { asInteger } from '../../util/object.js';
import { gracePeriod } from '../grace-period/rule.js';
import { allowsZeroSleep, DEFAULT_GRACE_SECONDS, preStopStopsContainer, readPreStop, stopSignal, supportsNativeSleep } from '../../workloads/pre-stop.js';
import { servingContainers, type ServingContainer } from '../../workloads/serving.js';
import type { Workload } from '../../workloads/workload.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { named } from '../phrases.js';
import { LOAD_BALANCER_ANNOTATION, LOAD_BALANCER_DEFAULTS, PROFILE_NAMES } from '../../budget/profiles.js';
import { declaredProfileNames } from '../../budget/fronts.js';
import { terminationBudget, type TerminationBudget } from '../../budget/termination-budget.js';
import type { RuleDescriptor, RuleFinding } from '../rule.js';

/** The hook the fix adds: the native sleep action where the target version has it, else exec sleep. */
export function preStopToAdd(policy: EffectivePolicy, seconds = policy.preStop.seconds): { hook: object; text: string } {
  const native =
    policy.preStop.action === 'sleep' || (policy.preStop.action === 'auto' && supportsNativeSleep(policy.kubernetesVersion));
  return native
    ? { hook: { sleep: { seconds } }, text: `lifecycle.preStop.sleep.seconds: ${seconds}` }
    : { hook: { exec: { command: ['sleep', String(seconds)] } }, text: `lifecycle.preStop.exec.command: [sleep, "${seconds}"]` };
}

// The findings, written once for the check below and its CEL (cel.ts).
export function customHook(who: Message, hook: Piece, signal: Piece, minimum: Piece): Message {
  return message`${who} has a custom preStop hook (${hook}); rollsafe cannot tell how long it delays ${signal}. Make sure it keeps the app serving for at least ${minimum}s.`;
}

export function optsOut(who: Message, signal: Piece): Message {
  return message`${who} opts out of the preStop delay with sleep.seconds: 0; rollsafe leaves it, but its endpoint removal still races ${signal}, so clients may see refused connections while its pods stop.`;
}

export function zeroRefused(kubernetesVersion: Piece): Message {
  return message` Kubernetes ${kubernetesVersion} refuses 0 (allowed from 1.33): the apiserver will reject this object.`;
}

export function sleepsTooShort(who: Message, seconds: Piece, minimum: Piece): Message {
  return message`${who} sleeps only ${seconds}s in preStop; at least ${minimum}s is needed for kube-proxy, ingress controllers and DNS to stop sending it traffic. rollsafe never edits an existing hook: raise the sleep by hand.`;
}

export function noRoomForSleep(who: Message, grace: Piece, minimum: Piece): Message {
  return message`${who} has no preStop delay, and terminationGracePeriodSeconds (${grace}) is shorter than the ${minimum}s sleep it needs; ${gracePeriod.id} is not fixed here (off, exempt or not enforced), so rollsafe adds nothing: raise the grace period and add the sleep.`;
}

export function noPreStop(who: Message, signal: Piece, minimum: Piece): Message {
  return message`${who} has no preStop delay: when a pod is deleted, ${signal} arrives at the same time as its endpoint removal, and load balancers keep sending requests for seconds to a process that already stopped. Sleep at least ${minimum}s in preStop.`;
}

/** Behind a load balancer slower than kube-proxy (context only: files and the cluster; src/budget/). */
export function behind(via: Piece, seconds: Piece, profile: Piece): Message {
  return message`behind ${via}, which may send it new connections for ${seconds}s after the pod is deleted (loadBalancers.${profile})`;
}

export function sleepsShorterThanFront(who: Message, seconds: Piece, front: Message): Message {
  return message`${who} sleeps only ${seconds}s in preStop; it is ${front}, so it must keep serving that long.`;
}

export function unknownProfiles(names: Piece, known: Piece): Message {
  return message`${LOAD_BALANCER_ANNOTATION} names ${names}, which rollsafe does not know (known: ${known}, comma-separated, no blanks); they count as no load balancer.`;
}

export const raiseByHand: Message = message` rollsafe rewrites only a native sleep: raise this one by hand.`;
export const noRoomToRaise: Message = message` rollsafe does not raise it: the grace period is shorter and is not raised in this pass (its rule is off, exempt or not enforced), and the apiserver refuses a sleep longer than it.`;

export function noPreStopBehindFront(who: Message, signal: Piece, front: Message): Message {
  return message`${who} has no preStop delay: ${signal} arrives at once when a pod is deleted, while it is ${front}.`;
}

export function raisesSleep(seconds: Piece, name: Piece): Message {
  return message`raises lifecycle.preStop.sleep.seconds to ${seconds} on container "${name}"`;
}

export function setsPreStop(hook: Piece, name: Piece): Message {
  return message`sets ${hook} on container "${name}"`;
}

export function sidecarStopsItself(name: Piece, exits: Piece): Message {
  return message`native sidecar "${name}" stops itself in preStop (${exits}), but the kubelet runs every container's preStop at once and holds back only the sidecars' stop signal until the main containers have exited (killContainer, terminationOrdering): the sidecar leaves while the app still sleeps and drains, and the requests that need it fail. Drop the hook: a native sidecar is stopped after the main containers by itself.`;
}

/** One serving container: undefined when its preStop delay is long enough. */
function checkContainer(container: ServingContainer, workload: Workload, policy: EffectivePolicy, budget: TerminationBudget, graceFixActive: boolean): RuleFinding | undefined {
  const minimum = budget.preStopSeconds;
  const front = budget.slowestFront && behind(budget.slowestFront.via, minimum, budget.slowestFront.profile);
  const hook = readPreStop(container.spec);
  const who = named(container.sidecar ? 'sidecar' : 'container', container.name);
  if (hook.kind === 'custom') {
    return {
      container: container.name,
      cap: 'info',
      message: text(customHook(who, hook.description, stopSignal(container.spec), minimum)),
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
        message: text(optsOut(who, stopSignal(container.spec))) + (refused ? text(zeroRefused(policy.kubernetesVersion)) : ''),
      };
    }
    if (front) {
      // The sleep was sized for kube-proxy; what stands in front needs more. rollsafe raises a native sleep
      // (its own kind of hook), never an exec one, whose command it would have to rewrite.
      const fits = graceFixActive || minimum <= (asInteger(workload.podSpec['terminationGracePeriodSeconds']) ?? DEFAULT_GRACE_SECONDS);
      const why = hook.form !== 'native' ? text(raiseByHand) : fits ? '' : text(noRoomToRaise);
      return {
        container: container.name,
        message: text(sleepsShorterThanFront(who, hook.seconds, front)) + why,
        ...(hook.form === 'native' && fits
          ? { fix: { description: text(raisesSleep(minimum, container.name)), set: [{ path: [...container.path, 'lifecycle', 'preStop', 'sleep', 'seconds'], value: minimum }] } }
          : {}),
      };
    }
    return {
      container: container.name,
      message: text(sleepsTooShort(who, hook.seconds, minimum)),
    };
  }
  const add = preStopToAdd(policy, minimum);
  // The apiserver refuses a native sleep longer than the grace period; if grace-period will not raise it
  // in the same pass, adding the sleep would break the object.
  const grace = asInteger(workload.podSpec['terminationGracePeriodSeconds']) ?? DEFAULT_GRACE_SECONDS;
  if ('sleep' in add.hook && !graceFixActive && minimum > grace) {
    return {
      container: container.name,
      message: text(noRoomForSleep(who, grace, minimum)),
    };
  }
  return {
    container: container.name,
    message: text(front ? noPreStopBehindFront(who, stopSignal(container.spec), front) : noPreStop(who, stopSignal(container.spec), minimum)),
    fix: {
      description: text(setsPreStop(add.text, container.name)),
      set: [{ path: [...container.path, 'lifecycle', 'preStop'], value: add.hook }],
    },
  };
}

const parameters = {
  preStop: objectParameter({
    seconds: integerParameter({
      default: 10,
      minimum: 1,
      maximum: 3600,
      comment: ['Seconds a serving container keeps running after its endpoint is removed,', 'while kube-proxy, ingress controllers and DNS catch up.'],
    }),
    action: enumParameter(['auto', 'sleep', 'exec'], { default: 'auto', comment: ['auto: native sleep when kubernetesVersion >= 1.30, else exec [sleep, N].'] }),
  }),
  loadBalancers: objectParameter(
    {
      awsAlbIp: integerParameter({ default: LOAD_BALANCER_DEFAULTS.awsAlbIp, minimum: 1, maximum: 3600, comment: ['AWS Load Balancer Controller, ALB with target-type ip (no AWS figure; users found 25 s enough).'] }),
      awsNlbIp: integerParameter({ default: LOAD_BALANCER_DEFAULTS.awsNlbIp, minimum: 1, maximum: 3600, comment: ['AWS Load Balancer Controller, NLB with target-type ip (users measured about 2 minutes).'] }),
      gkeNeg: integerParameter({ default: LOAD_BALANCER_DEFAULTS.gkeNeg, minimum: 1, maximum: 3600, comment: ['GKE container-native load balancing (cloud.google.com/neg).'] }),
      ingressNginx: integerParameter({ default: LOAD_BALANCER_DEFAULTS.ingressNginx, minimum: 1, maximum: 3600, comment: ['ingress-nginx, which sends to the endpoints itself.'] }),
      gatewayApi: integerParameter({ default: LOAD_BALANCER_DEFAULTS.gatewayApi, minimum: 1, maximum: 3600, comment: ['A Gateway API HTTPRoute or GRPCRoute (the implementation decides: set yours).'] }),
    },
    {
      comment: [
        'Seconds from a pod\'s deletion until each kind of load balancer in front of it (found in the',
        'same input or the cluster) stops sending it new connections: the preStop sleep of a pod behind',
        'one is at least this, and never less than preStop.seconds.',
      ],
    },
  ),
};

export const prestopDelay: RuleDescriptor<'prestop-delay', typeof parameters> = {
  id: 'prestop-delay',
  defaultSeverity: 'error',
  defaultMode: 'enforce',
  fixable: true,
  needsContext: false,
  judges: 'pod-template',
  deniesUpdatesOf: [],
  parameters,
  docs: {
    summary: 'Every serving container keeps serving for preStop.seconds after its endpoint is removed, before SIGTERM.',
    why: 'Deleting a pod removes its endpoint and sends SIGTERM at the same time; kube-proxy, ingress controllers and meshes learn of the removal later, so requests still arrive at a process that already exited.',
    checks: 'Every serving container sleeps at least preStop.seconds (default 10) before SIGTERM, or longer behind a load balancer that learns of a terminating pod late (files and --cluster: loadBalancers.awsAlbIp 30, awsNlbIp 120, gkeNeg 20, ingressNginx 10, gatewayApi 15). Fix: a native lifecycle.preStop.sleep (Kubernetes 1.30 or later) or exec sleep; an existing hook is never replaced, and only a native sleep a load balancer in front needs longer is raised.',
    readme: {
      checks: 'Every serving container sleeps at least `preStop.seconds` (default 10) before SIGTERM. Recognised: native `lifecycle.preStop.sleep.seconds`; `exec` `sleep N`, `busybox sleep N`, `sh -c "sleep N"`, `sh -c "sleep N && …"`. Another hook passes with an **info** finding (duration unknown); so does `sleep.seconds: 0`, a deliberate opt-out (accepted by the apiserver from 1.33; the finding says so when the policy targets an older version). A sleep that is too short is reported but never edited, except a native one that a load balancer in front needs longer (see \"Termination budget\": with the Services, Ingresses and routes in the input or the cluster, the minimum is the slowest front\'s `loadBalancers.<profile>`), which the fix raises. The fix adds `preStop.sleep.seconds: N` when the target Kubernetes version is >= 1.30 (or `preStop.action: sleep`), else `exec: {command: [sleep, "N"]}` (which needs a `sleep` binary: distroless images lack it). A **native sidecar** whose preStop makes it exit (`kill`, `pkill`, Envoy\'s `/quitquitquit`, a `/shutdown` endpoint) fails: the kubelet runs every container\'s preStop at once and holds back only the sidecars\' stop signal until the main containers exit (`killContainer`, `terminationOrdering`), so such a hook cuts the app off mid-drain. `lifecycle.stopSignal` (KEP-4960) is understood: the preStop hook runs before whichever signal is set, so the sleep protects either way, and messages name that signal; rollsafe never adds one. An existing hook is never replaced or appended to, and a native sleep is not added when it would exceed a grace period that the same pass does not raise (the apiserver refuses `sleep.seconds` > `terminationGracePeriodSeconds`).',
      peers: {
        polaris: 'none',
        kubeScore: 'none',
        kubeLinter: 'none',
        kyverno: 'none',
        differs: 'The shutdown race is what rollouts drop requests on; fixed with the native sleep action.',
      },
    },
  },
  check({ workload, related, policy, fixActive }) {
    const graceFixActive = fixActive(gracePeriod.id);
    const budget = terminationBudget(workload, related, policy);
    // A loop, not flatMap: this runs on every admission request, and flatMap costs more than the check.
    const findings: RuleFinding[] = [];
    const unknown = declaredProfileNames(workload).filter((name) => !(PROFILE_NAMES as readonly string[]).includes(name));
    for (const container of servingContainers(workload, related)) {
      const finding = checkContainer(container, workload, policy, budget, graceFixActive);
      if (finding) findings.push(finding);
    }
    for (const container of workload.containers) {
      const exits = container.sidecar ? preStopStopsContainer(container.spec) : undefined;
      if (exits) {
        findings.push({
          container: container.name,
          message: text(sidecarStopsItself(container.name, exits)),
        });
      }
    }
    if (unknown.length > 0) findings.push({ cap: 'info', message: text(unknownProfiles(unknown.join(', '), PROFILE_NAMES.join(', '))) });
    return findings;
  },
};
