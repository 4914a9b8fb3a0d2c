import { asInteger } from '../../util/object.js';
import { integerParameter } from '../../policy/parameters.js';
import { DEFAULT_GRACE_SECONDS, readPreStop } from '../../workloads/pre-stop.js';
import { prestopDelay } from '../prestop-delay/rule.js';
import { servingContainers } from '../../workloads/serving.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import { terminationBudget } from '../../budget/termination-budget.js';
import type { RuleDescriptor, RuleFinding, RuleInput } from '../rule.js';
import { MAX_CONNECTION_ANNOTATION, NGINX_UPSTREAM_KEEPALIVE } from '../../budget/profiles.js';
import type { ClusterIpUpstream } from '../../budget/fronts.js';


export function graceTooShort(current: Piece | Message, preStop: Piece, drain: Piece, required: Piece): Message {
  return message`terminationGracePeriodSeconds is ${current}, but the pod needs ${preStop}s of preStop delay + ${drain}s to drain in-flight work = ${required}s. The grace period includes the preStop time, so the kubelet sends SIGKILL before the app has finished draining.`;
}

/** The pod needs more than drainSeconds after its stop signal: a front that keeps connections, or long ones. */
export function graceTooShortFor(current: Piece | Message, preStop: Piece, after: Piece, because: Piece | Message, required: Piece): Message {
  return message`terminationGracePeriodSeconds is ${current}, but the pod needs ${preStop}s of preStop delay + ${after}s after its stop signal (${because}) = ${required}s. The grace period includes the preStop time, so the kubelet sends SIGKILL to connections that are still in use.`;
}

export function longLivedUndeclared(ports: Piece): Message {
  return message`${ports}: connections there (websockets, gRPC or HTTP/2 streams) outlive any preStop sleep, and the app must close them after its stop signal within the grace period. Declare their longest life with ${MAX_CONNECTION_ANNOTATION} so the grace period covers it.`;
}

export const setsGrace = (required: Piece): Message => message`sets terminationGracePeriodSeconds: ${required}`;

/**
 * Behind ingress-nginx with service-upstream (context only; src/budget/fronts.ts clusterIpUpstreams): nginx's
 * keep-alive connections to the ClusterIP stay on the pod, so no sleep ends them and only the app can.
 */
export function keptAliveThroughClusterIp(via: Piece, nextUpstream: Piece, retries: ClusterIpUpstream['retries']): Message {
  const { connections, time, requests } = NGINX_UPSTREAM_KEEPALIVE;
  const race =
    retries === 'all'
      ? message`nginx retries a request it sends on a connection just as the app closes it (proxy-next-upstream "${nextUpstream}")`
      : retries === 'idempotent'
        ? message`nginx retries a request it sends on a connection just as the app closes it only if the request is idempotent (proxy-next-upstream "${nextUpstream}", unless the controller's ConfigMap sets retry-non-idempotent): a POST, PATCH or LOCK gets a 502`
        : message`with proxy-next-upstream "${nextUpstream}", nginx retries no request it sends on a connection just as the app closes it: each gets a 502`;
  return message`behind ${via} with service-upstream: nginx sends to the Service's ClusterIP and reuses its keep-alive connections there (up to ${connections} idle per worker, each for up to ${time} or ${requests} requests, unless the controller's ConfigMap sets upstream-keepalive-connections: 0), and kube-proxy leaves an established connection on the pod it chose after that pod's endpoint is removed, so no preStop sleep stops these requests. After its stop signal the app must end them itself: answer with Connection: close, then close idle connections; ${race}. Without service-upstream, nginx stops using a removed endpoint within seconds, which the preStop sleep covers.`;
}

/**
 * The longest preStop delay the pod will have: hooks found, plus the sleep prestop-delay adds to serving
 * containers without a hook. Hooks run in parallel, so the longest one counts.
 */
export function plannedPreStopSeconds({ workload, related, policy, fixActive }: RuleInput): number {
  let longest = 0;
  for (const container of workload.containers) {
    const hook = readPreStop(container.spec);
    if (hook.kind === 'sleep') longest = Math.max(longest, Math.ceil(hook.seconds));
  }
  if (fixActive(prestopDelay.id)) {
    const budget = terminationBudget(workload, related, policy);
    // prestop-delay adds the budget's sleep where there is none, and raises a native one a front finds short.
    const grows = servingContainers(workload, related).some((c) => {
      const hook = readPreStop(c.spec);
      // sleep.seconds: 0 is an opt-out, left alone.
      return hook.kind === 'none' || (budget.slowestFront !== undefined && hook.kind === 'sleep' && hook.form === 'native' && hook.seconds > 0 && hook.seconds < budget.preStopSeconds);
    });
    if (grows) longest = Math.max(longest, budget.preStopSeconds);
  }
  return longest;
}

const parameters = {
  drainSeconds: integerParameter({
    default: 20,
    minimum: 0,
    maximum: 86400,
    comment: ['Seconds the app needs after SIGTERM to finish in-flight work.', 'terminationGracePeriodSeconds must cover preStop + drain.'],
  }),
};

export const gracePeriod: RuleDescriptor<'grace-period', typeof parameters> = {
  id: 'grace-period',
  defaultSeverity: 'error',
  defaultMode: 'enforce',
  fixable: true,
  needsContext: false,
  judges: 'pod-template',
  deniesUpdatesOf: [],
  parameters,
  docs: {
    summary: 'terminationGracePeriodSeconds covers the preStop delay plus drainSeconds (the grace period includes preStop).',
    why: 'terminationGracePeriodSeconds includes the preStop time: a 10 s sleep in the default 30 s leaves 20 s to drain, and the kubelet then sends SIGKILL to requests still in flight.',
    checks: 'terminationGracePeriodSeconds >= the longest preStop sleep + the longest of drainSeconds (default 20), the draining time of a load balancer in front that keeps connections (its deregistration delay; files and --cluster) and rollsafe.dev/max-connection-seconds. Fix: raises it to that sum, never lowers it. Behind an ingress-nginx Ingress with service-upstream (files and --cluster), an info finding, or a warning where its proxy-next-upstream retries nothing: nginx keeps its keep-alive connections to the ClusterIP on a terminating pod, so the app must close them after its stop signal.',
    readme: {
      // A getter: prestop-delay's home imports this one too, so its descriptor may not exist yet while this loads.
      get checks() {
        return '`terminationGracePeriodSeconds` (30 when unset) >= the longest preStop sleep (found, or added by `' + prestopDelay.id + '` where it will be: in `enforce` mode for the webhook and `audit`, in any active mode for `rollsafe fix`) + the longest of `drainSeconds` (default 20), the draining time of a load balancer in front that keeps connections to the pod (its deregistration delay or connection draining, seen by audit, fix, plan and `--cluster`; see "Termination budget") and a declared `rollsafe.dev/max-connection-seconds` (also at admission). The fix raises it to that sum; it never lowers it. A Service port in front with long-lived connections (\`appProtocol\` \`kubernetes.io/ws\`, \`kubernetes.io/wss\`, \`kubernetes.io/h2c\`, \`grpc\`, or a port named so) while the workload declares no \`rollsafe.dev/max-connection-seconds\` is an **info** finding. So is an ingress-nginx Ingress in front with \`nginx.ingress.kubernetes.io/service-upstream\` (true as Go\'s \`strconv.ParseBool\` reads it, to a Service that is not headless): nginx reuses its upstream keep-alive connections to the ClusterIP, which kube-proxy leaves on a terminating pod, so no sleep stops those requests and the app must close them after its stop signal; a **warning** where the Ingress\'s \`proxy-next-upstream\` is \`off\` or lacks \`error\`, since nginx then retries no request that meets a connection as the app closes it (see "Termination budget"). Native sidecars share the same clock: their preStop starts with everyone else\'s (so it counts among the longest), and their stop signal comes once the main containers have exited, with what is left of the grace period and never less than 2 s (`minimumGracePeriodInSeconds`). Pods with no serving container and no preStop sleep are not checked.';
      },
      peers: {
        polaris: 'none',
        kubeScore: 'none',
        kubeLinter: 'none',
        kyverno: 'none (`mutate-termination-grace-period-seconds` *caps* it at 50 s, which can undercut preStop + drain)',
        differs: 'The grace period includes preStop time.',
      },
    },
  },
  check(input) {
    const { workload, related, policy } = input;
    const preStop = plannedPreStopSeconds(input);
    // Pods that neither serve nor delay shutdown are not part of zero-downtime rollouts.
    if (preStop === 0 && servingContainers(workload, related).length === 0) return [];
    const budget = terminationBudget(workload, related, policy);
    const required = preStop + budget.afterSignalSeconds;
    const written = asInteger(workload.podSpec['terminationGracePeriodSeconds']);
    const grace = written ?? DEFAULT_GRACE_SECONDS;
    // Long-lived connections the workload does not size (context only: the Services in front of it).
    const undeclared: RuleFinding[] =
      budget.longLived.length > 0 && budget.maxConnectionSeconds === undefined
        ? [{ cap: 'info', message: text(longLivedUndeclared(budget.longLived.join('; '))) }]
        : [];
    // ingress-nginx through a ClusterIP: keep-alive connections only the app can end (context only).
    const throughClusterIp: RuleFinding[] = budget.clusterIpUpstreams.map((upstream) => ({
      cap: upstream.retries === 'none' ? 'warning' : 'info',
      message: text(keptAliveThroughClusterIp(upstream.via, upstream.nextUpstream, upstream.retries)),
    }));
    if (grace >= required) return [...undeclared, ...throughClusterIp];
    const current = written === undefined ? unsetDefaultsTo(DEFAULT_GRACE_SECONDS) : written;
    const plain = budget.afterSignalSeconds === policy.drainSeconds;
    return [
      ...undeclared,
      ...throughClusterIp,
      {
        message: text(plain ? graceTooShort(current, preStop, policy.drainSeconds, required) : graceTooShortFor(current, preStop, budget.afterSignalSeconds, budget.afterSignalBecause, required)),
        fix: {
          description: text(setsGrace(required)),
          set: [{ path: [...workload.podSpecPath, 'terminationGracePeriodSeconds'], value: required }],
        },
      },
    ];
  },
};
