import { message, text, type Message, type Piece } from '../util/message.js';
import { asArray, asRecord, asString, isRecord, type JsonObject } from '../util/object.js';
import { servicesSelecting, type RelatedObjects } from './related.js';
import { containerPorts, objectRef, type ContainerView, type Workload } from './workload.js';

export interface ServingContainer extends ContainerView {
  /** Why we think it serves, quoted in messages. */
  reason: string;
}

/** Why a container that declares ports serves: `declares port 8080 (http)`; `named` is the name part or nothing. */
export function declaresPort(number: Piece, named: Message): Message {
  return message`declares port ${number}${named}`;
}

export const portName = (name: Piece): Message => message` (${name})`;

function describePort(container: ContainerView): string {
  const port = containerPorts(container.spec)[0];
  const number = port?.['containerPort'];
  const name = asString(port?.['name']);
  return text(declaresPort(String(number ?? '?'), name ? portName(name) : []));
}

/**
 * Containers that receive traffic: those declaring a port, native sidecars included, except a container whose
 * every port is named as a health or metrics port (a CNI agent's `healthz`, an exporter's `metrics`) while no
 * client Service in the input selects the pod: kubelets and scrapers reach those, clients do not. When a client
 * Service in the input selects the pod and no container declares a port, the Service can only reach undeclared
 * ports, so every regular container is treated as serving. A Service whose every port is named as a health or
 * metrics port (Argo CD's `argocd-notifications-controller-metrics`, port `metrics`) is the scraper's, not a
 * client's: it makes nothing serve, as such container ports do not. Plain initContainers never serve.
 */
const memo = Symbol('serving containers');

type Memoized = Workload & { [memo]?: { related: RelatedObjects | undefined; serving: ServingContainer[] } };

/**
 * Several rules ask per object; the answer is computed once per workload view and kept on it (a WeakMap
 * entry per admission request costs the garbage collector more than the lookup saves).
 */
export function servingContainers(workload: Workload, related: RelatedObjects | undefined): ServingContainer[] {
  const view = workload as Memoized;
  const known = view[memo];
  if (known && known.related === related) return known.serving;
  const serving = findServing(workload, related);
  view[memo] = { related, serving };
  return serving;
}

function serving(container: ContainerView, reason: string): ServingContainer {
  return { name: container.name, path: container.path, spec: container.spec, sidecar: container.sidecar, reason };
}

function findServing(workload: Workload, related: RelatedObjects | undefined): ServingContainer[] {
  const service = related ? servicesSelecting(workload, related).find(forClients) : undefined;
  const declaring: ServingContainer[] = [];
  for (const container of workload.containers) {
    if (!hasPorts(container.spec)) continue;
    if (service || !onlyHealthOrMetricsPorts(container.spec)) declaring.push(serving(container, describePort(container)));
  }
  if (declaring.length > 0 || !service) return declaring;
  const reason = `is selected by Service ${objectRef(service).name}`;
  return workload.containers.filter((container) => !container.sidecar).map((container) => serving(container, reason));
}

/**
 * Port names that say "not for clients" (IANA-style names are free text; these are the ones charts use).
 * A liveness probe's port alone is no such sign: most apps probe liveness on the port they serve on. RE2 as
 * well: export/workload-cel.ts matches with its source.
 */
export const HEALTH_OR_METRICS_PORT = /^(?:[a-z0-9]+-)?(?:healthz?|health-?check|liveness|metrics|pprof)(?:-port)?$/;

/**
 * A Service clients reach: one with a port not named as a health or metrics port. The Service port's own name is
 * the sign, as a container port's name is; an unnamed port that targets a container port named `metrics` is
 * still a client's (a Service is a fact, a container port's name only a hint). A Service without ports (a
 * headless one for peer discovery) is a client's too: DNS answers with the ready pods' addresses, and clients
 * connect to whatever port they know.
 */
function forClients(service: JsonObject): boolean {
  const ports = asArray(asRecord(service['spec'])?.['ports']).filter(isRecord);
  return ports.length === 0 || !ports.every((port) => HEALTH_OR_METRICS_PORT.test(asString(port['name'])?.toLowerCase() ?? ''));
}

function onlyHealthOrMetricsPorts(container: JsonObject): boolean {
  return containerPorts(container).every((port) => HEALTH_OR_METRICS_PORT.test(asString(port['name'])?.toLowerCase() ?? ''));
}

/** Same test as `containerPorts(container).length > 0`, without the filtered copy (asked per request). */
function hasPorts(container: JsonObject): boolean {
  const ports = container['ports'];
  return Array.isArray(ports) && ports.some(isRecord);
}
