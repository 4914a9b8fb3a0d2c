/**
 * A workload's termination budget: how long its pods must keep serving after deletion (the preStop sleep) and
 * how long they must be given after their stop signal, from what stands in front of them (fronts.ts) and what
 * the policy says about each kind of front (loadBalancers) and about the app (drainSeconds).
 *
 * - The sleep covers the slowest path's propagation: kube-proxy, DNS and in-cluster clients (preStop.seconds),
 *   or a load balancer that learns of the pod from its own controller (loadBalancers.<profile>).
 * - After the signal the pod needs the longest of: drainSeconds (in-flight work), a front's draining time
 *   (its deregistration delay: it keeps sending on open connections that long after it deregisters the pod,
 *   which happens within the sleep), and a declared connection life (rollsafe.dev/max-connection-seconds).
 *   They overlap in time, so the longest counts, not their sum.
 * - What no number covers is named instead: long-lived connections without a declared life, and ingress-nginx
 *   keep-alive connections through a ClusterIP (service-upstream), which only the app can end.
 */
import type { EffectivePolicy } from '../policy/types.js';
import { message, text, type Message, type Piece } from '../util/message.js';
import { asArray, asRecord, asString, isRecord } from '../util/object.js';
import { servicesSelecting, type RelatedObjects } from '../workloads/related.js';
import { objectRef, type Workload } from '../workloads/workload.js';
import { clusterIpUpstreams, frontsOf, type ClusterIpUpstream, type Front } from './fronts.js';
import { LONG_LIVED_APP_PROTOCOLS, LONG_LIVED_PORT_NAME, MAX_CONNECTION_ANNOTATION } from './profiles.js';

export interface TerminationBudget {
  /** The preStop sleep the pods need. */
  preStopSeconds: number;
  /** The front that needs more than preStop.seconds, when one does. */
  slowestFront?: Front;
  /** What the pods need after their stop signal, and why. */
  afterSignalSeconds: number;
  afterSignalBecause: string;
  fronts: Front[];
  /** Service ports whose connections outlive a sleep: "Service chat port ws (appProtocol kubernetes.io/ws)". */
  longLived: string[];
  /** rollsafe.dev/max-connection-seconds, when the workload declares it. */
  maxConnectionSeconds?: number;
  /**
   * ingress-nginx Ingresses that send through a Service's ClusterIP (service-upstream): their keep-alive
   * connections stay on a terminating pod, so the app must close them after its stop signal (no number: info).
   */
  clusterIpUpstreams: ClusterIpUpstream[];
}

/** A whole number of seconds, as the annotation must be written (RE2 too: the export matches with it). */
export const WHOLE_SECONDS = /^[0-9]{1,6}$/;

/** The declared longest connection life, or undefined (absent, or not a whole number of seconds). */
export function maxConnectionSeconds(workload: Workload): number | undefined {
  const value = workload.annotations[MAX_CONNECTION_ANNOTATION];
  return value !== undefined && WHOLE_SECONDS.test(value) ? Number(value) : undefined;
}

export const connectionsLiveUpTo = (seconds: Piece): Message => message`connections live up to ${seconds}s, ${MAX_CONNECTION_ANNOTATION}`;

function longLivedPorts(workload: Workload, related: RelatedObjects | undefined): string[] {
  if (!related) return [];
  const found: string[] = [];
  for (const service of servicesSelecting(workload, related)) {
    for (const port of asArray(asRecord(service['spec'])?.['ports']).filter(isRecord)) {
      const protocol = asString(port['appProtocol']);
      const name = asString(port['name']) ?? '';
      const label = `Service ${objectRef(service).name} port ${name || String(port['port'] ?? '?')}`;
      if (protocol !== undefined && LONG_LIVED_APP_PROTOCOLS.includes(protocol)) found.push(`${label} (appProtocol ${protocol})`);
      else if (LONG_LIVED_PORT_NAME.test(name.toLowerCase())) found.push(`${label} (its name)`);
    }
  }
  return found;
}

/**
 * Three rules ask per object: computed once per workload view and kept on it, as servingContainers keeps its
 * answer (a WeakMap entry per admission request costs the garbage collector more than the lookup saves).
 */
const memo = Symbol('termination budget');

type Memoized = Workload & { [memo]?: { related: RelatedObjects | undefined; policy: EffectivePolicy; budget: TerminationBudget } };

export function terminationBudget(workload: Workload, related: RelatedObjects | undefined, policy: EffectivePolicy): TerminationBudget {
  const view = workload as Memoized;
  const known = view[memo];
  if (known && known.related === related && known.policy === policy) return known.budget;
  const budget = computeBudget(workload, related, policy);
  view[memo] = { related, policy, budget };
  return budget;
}

function computeBudget(workload: Workload, related: RelatedObjects | undefined, policy: EffectivePolicy): TerminationBudget {
  const fronts = frontsOf(workload, related);
  let preStopSeconds = policy.preStop.seconds;
  let slowestFront: Front | undefined;
  for (const front of fronts) {
    const needs = policy.loadBalancers[front.profile];
    if (needs > preStopSeconds) {
      preStopSeconds = needs;
      slowestFront = front;
    }
  }
  let afterSignalSeconds = policy.drainSeconds;
  let afterSignalBecause = `drainSeconds ${policy.drainSeconds}`;
  for (const front of fronts) {
    if (front.drainingSeconds > afterSignalSeconds) {
      afterSignalSeconds = front.drainingSeconds;
      afterSignalBecause = `${front.via} keeps connections open: ${front.drainingBecause}`;
    }
  }
  const declared = maxConnectionSeconds(workload);
  if (declared !== undefined && declared > afterSignalSeconds) {
    afterSignalSeconds = declared;
    afterSignalBecause = text(connectionsLiveUpTo(declared));
  }
  return {
    preStopSeconds,
    ...(slowestFront ? { slowestFront } : {}),
    afterSignalSeconds,
    afterSignalBecause,
    fronts,
    longLived: longLivedPorts(workload, related),
    clusterIpUpstreams: clusterIpUpstreams(workload, related),
    ...(declared !== undefined ? { maxConnectionSeconds: declared } : {}),
  };
}
