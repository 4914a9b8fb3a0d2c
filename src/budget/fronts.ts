/**
 * What stands in front of a workload's pods, read from the objects beside it (files or the cluster): load
 * balancers that send traffic straight to pod IPs and learn of a terminating pod from their own controller,
 * later than kube-proxy does, and may keep connections to it while they drain. Each front names the profile
 * of the policy's `loadBalancers` that times it. Nothing here is guessed: a front is found only from objects
 * and annotations the vendor's controller reads itself (sources in profiles.ts).
 */
import { asArray, asInteger, asRecord, asString, isRecord, type JsonObject } from '../util/object.js';
import { servicesSelecting, type RelatedObjects } from '../workloads/related.js';
import { objectRef, stringMap, type Workload } from '../workloads/workload.js';
import {
  ALB_INGRESS_CLASS,
  ALB_INGRESS_CONTROLLER,
  ALB_TARGET_GROUP_ATTRIBUTES,
  ALB_TARGET_TYPE,
  ELB_DEFAULT_DEREGISTRATION_DELAY_SECONDS,
  GKE_BACKEND_CONFIG,
  GKE_BACKEND_CONFIG_BETA,
  GATEWAY_GROUP,
  GCE_INGRESS_CLASSES,
  DECLARED_DRAINING_SECONDS,
  GKE_NEG,
  LOAD_BALANCER_ANNOTATION,
  MAX_DRAINING_SECONDS,
  PROFILE_NAMES,
  INGRESS_CLASS_ANNOTATION,
  NGINX_INGRESS_CLASS,
  NGINX_INGRESS_CONTROLLER,
  NGINX_DEFAULT_NEXT_UPSTREAM,
  NGINX_NEXT_UPSTREAM_VALUE,
  NGINX_PROXY_NEXT_UPSTREAM,
  NGINX_SERVICE_UPSTREAM,
  GO_TRUE,
  NLB_LOAD_BALANCER_CLASS,
  NLB_TARGET_GROUP_ATTRIBUTES,
  NLB_TARGET_TYPE,
  NLB_TYPE,
  type ProfileName,
} from './profiles.js';

export interface Front {
  profile: ProfileName;
  /** For people: "ALB of Ingress web (target-type ip)". */
  via: string;
  /** How long it keeps connections to a deregistered pod (0: none), and why that number. */
  drainingSeconds: number;
  drainingBecause: string;
}

const annotationsOf = (object: JsonObject) => stringMap(asRecord(object['metadata'])?.['annotations']);
const nameOf = (object: JsonObject) => objectRef(object).name;

/**
 * `deregistration_delay.timeout_seconds` in a target-group-attributes annotation
 * ("deregistration_delay.timeout_seconds=30,stickiness.enabled=true"); undefined when absent or unreadable.
 */
export function deregistrationDelay(attributes: string | undefined): number | undefined {
  if (attributes === undefined) return undefined;
  // The controller reads the annotation into a map, so a key given twice keeps its last value.
  let delay: number | undefined;
  for (const pair of attributes.split(',')) {
    const [key, value] = pair.split('=').map((part) => part.trim());
    if (key !== 'deregistration_delay.timeout_seconds') continue;
    // The range ELB accepts (TargetGroupAttribute): anything else is refused there, so it is no delay here.
    delay = value !== undefined && /^[0-9]{1,4}$/.test(value) && Number(value) <= MAX_DRAINING_SECONDS ? Number(value) : undefined;
  }
  return delay;
}

function draining(attributes: string | undefined, annotation: string, owner: string): Pick<Front, 'drainingSeconds' | 'drainingBecause'> {
  const delay = deregistrationDelay(attributes);
  return delay === undefined
    ? { drainingSeconds: ELB_DEFAULT_DEREGISTRATION_DELAY_SECONDS, drainingBecause: `deregistration delay ${ELB_DEFAULT_DEREGISTRATION_DELAY_SECONDS} s (the ELB default: ${owner} sets no valid deregistration_delay.timeout_seconds, 0 to ${MAX_DRAINING_SECONDS}, in ${annotation})` }
    : { drainingSeconds: delay, drainingBecause: `deregistration delay ${delay} s (${annotation} of ${owner})` };
}

/** The AWS Load Balancer Controller's NLB for a Service of type LoadBalancer, in IP mode. */
function nlbFront(service: JsonObject): Front | undefined {
  const spec = asRecord(service['spec']);
  const annotations = annotationsOf(service);
  if (spec?.['type'] !== 'LoadBalancer') return undefined;
  const type = annotations[NLB_TYPE];
  // IsServiceSupported (pkg/service/service_utils.go): a class decides alone; the annotations count only without one.
  const loadBalancerClass = spec['loadBalancerClass'];
  const ours = loadBalancerClass !== undefined && loadBalancerClass !== null ? loadBalancerClass === NLB_LOAD_BALANCER_CLASS : type === 'external' || type === 'nlb-ip';
  // target-type defaults to instance: NodePorts, then kube-proxy, which the plain preStop sleep covers.
  const ip = type === 'nlb-ip' || annotations[NLB_TARGET_TYPE] === 'ip';
  if (!ours || !ip) return undefined;
  return {
    profile: 'awsNlbIp',
    via: `NLB of Service ${nameOf(service)} (target-type ip)`,
    ...draining(annotations[NLB_TARGET_GROUP_ATTRIBUTES], NLB_TARGET_GROUP_ATTRIBUTES, `Service ${nameOf(service)}`),
  };
}

/** The Services an Ingress sends to, by name (default backend and every path). */
function ingressServiceNames(ingress: JsonObject): Set<string> {
  const spec = asRecord(ingress['spec']);
  const names = new Set<string>();
  const add = (backend: unknown) => {
    const name = asString(asRecord(asRecord(backend)?.['service'])?.['name']);
    if (name) names.add(name);
  };
  add(spec?.['defaultBackend']);
  for (const rule of asArray(spec?.['rules']).filter(isRecord)) {
    for (const path of asArray(asRecord(rule['http'])?.['paths']).filter(isRecord)) add(path['backend']);
  }
  return names;
}

/**
 * The controller of an Ingress: the legacy kubernetes.io/ingress.class annotation first, as the AWS controller
 * reads it (group_loader.go classifyIngress: it "takes higher priority than ingressClassName"), else the
 * IngressClass's spec.controller when that class is in the input, else the class name the controllers' charts
 * give their IngressClass (alb, nginx).
 */
function ingressController(ingress: JsonObject, related: RelatedObjects): 'alb' | 'nginx' | undefined {
  const annotated = annotationsOf(ingress)[INGRESS_CLASS_ANNOTATION];
  if (annotated !== undefined) return annotated === ALB_INGRESS_CLASS ? 'alb' : annotated === NGINX_INGRESS_CLASS ? 'nginx' : undefined;
  const className = asString(asRecord(ingress['spec'])?.['ingressClassName']);
  if (className === undefined) return undefined;
  const ingressClass = related.ingressClasses.find((candidate) => nameOf(candidate) === className);
  const controller = asString(asRecord(ingressClass?.['spec'])?.['controller']);
  if (controller === ALB_INGRESS_CONTROLLER || (!ingressClass && className === ALB_INGRESS_CLASS)) return 'alb';
  if (controller === NGINX_INGRESS_CONTROLLER || (!ingressClass && className === NGINX_INGRESS_CLASS)) return 'nginx';
  return undefined;
}

function ingressFront(ingress: JsonObject, service: JsonObject, related: RelatedObjects): Front | undefined {
  const controller = ingressController(ingress, related);
  const ingressAnnotations = annotationsOf(ingress);
  const serviceAnnotations = annotationsOf(service);
  if (controller === 'alb') {
    // The Service's annotations override the Ingress's for its own target group.
    const targetType = serviceAnnotations[ALB_TARGET_TYPE] ?? ingressAnnotations[ALB_TARGET_TYPE] ?? 'instance';
    if (targetType !== 'ip') return undefined;
    const fromService = serviceAnnotations[ALB_TARGET_GROUP_ATTRIBUTES] !== undefined;
    return {
      profile: 'awsAlbIp',
      via: `ALB of Ingress ${nameOf(ingress)} (target-type ip)`,
      ...draining(
        fromService ? serviceAnnotations[ALB_TARGET_GROUP_ATTRIBUTES] : ingressAnnotations[ALB_TARGET_GROUP_ATTRIBUTES],
        ALB_TARGET_GROUP_ATTRIBUTES,
        fromService ? `Service ${nameOf(service)}` : `Ingress ${nameOf(ingress)}`,
      ),
    };
  }
  if (controller === 'nginx') {
    // With service-upstream, nginx sends to the ClusterIP and kube-proxy decides: no front of its own
    // (its keep-alive connections there are clusterIpUpstreams' concern).
    if (sendsToClusterIp(ingress, service)) return undefined;
    return {
      profile: 'ingressNginx',
      via: `ingress-nginx Ingress ${nameOf(ingress)}`,
      drainingSeconds: 0,
      drainingBecause: 'it reuses keep-alive connections only to the endpoints it still balances to',
    };
  }
  return undefined;
}

/** service-upstream as the controller reads it, for a Service that has a ClusterIP to send to. */
function sendsToClusterIp(ingress: JsonObject, service: JsonObject): boolean {
  const value = annotationsOf(ingress)[NGINX_SERVICE_UPSTREAM];
  return value !== undefined && GO_TRUE.includes(value) && asRecord(service['spec'])?.['clusterIP'] !== 'None';
}

/** proxy-next-upstream as the controller writes it into proxy_next_upstream: an accepted value, else the default. */
export function nextUpstream(value: string | undefined): string {
  return value !== undefined && value !== '' && NGINX_NEXT_UPSTREAM_VALUE.test(value) ? value.trim() : NGINX_DEFAULT_NEXT_UPSTREAM;
}

/**
 * What nginx retries when a request fails on its connection (ngx_http_upstream_next): a closed or reset
 * connection is an `error`; `off` anywhere turns retries off (ngx_http_proxy_merge_loc_conf); a request already
 * sent is retried only if idempotent, unless `non_idempotent` (POST, LOCK and PATCH are not).
 */
export function retriesOn(nextUpstreamValue: string): 'all' | 'idempotent' | 'none' {
  const words = nextUpstreamValue.split(/\s+/);
  if (words.includes('off') || !words.includes('error')) return 'none';
  return words.includes('non_idempotent') ? 'all' : 'idempotent';
}

/**
 * An ingress-nginx Ingress that sends to a Service of the pods through its ClusterIP (service-upstream). Not a
 * front: kube-proxy picks the pod of each new connection, which the plain sleep covers. But nginx keeps its
 * upstream keep-alive connections to the ClusterIP, and kube-proxy leaves each on the pod it chose after that
 * pod's endpoint is removed, so requests keep arriving through the sleep and after the stop signal until the app
 * closes them; and nginx retries a request that meets a closing connection only as proxy-next-upstream says.
 */
export interface ClusterIpUpstream {
  /** For people: "ingress-nginx Ingress web". */
  via: string;
  /** proxy-next-upstream as the controller uses it. */
  nextUpstream: string;
  retries: 'all' | 'idempotent' | 'none';
}

/**
 * A GKE Ingress (IsGCEIngress): its class annotation names the GCE controller, or it has no class at all
 * (ingress-gce ignores ingressClassName).
 */
function isGceIngress(ingress: JsonObject): boolean {
  const annotated = annotationsOf(ingress)[INGRESS_CLASS_ANNOTATION];
  if (annotated !== undefined) return GCE_INGRESS_CLASSES.includes(annotated);
  return asString(asRecord(ingress['spec'])?.['ingressClassName']) === undefined;
}

/**
 * GKE container-native load balancing, drained as its BackendConfig says: standalone NEGs (`exposed_ports`),
 * or `{"ingress": true}` where a GKE Ingress sends to the Service (GKE sets that annotation on Services by
 * default on VPC-native clusters, where it creates NEGs only for ports a GCE Ingress uses).
 */
function negFront(service: JsonObject, related: RelatedObjects): Front | undefined {
  const annotations = annotationsOf(service);
  const neg = parseJson(annotations[GKE_NEG]);
  if (!neg) return undefined;
  const standalone = asRecord(neg['exposed_ports']) !== undefined && Object.keys(asRecord(neg['exposed_ports']) ?? {}).length > 0;
  const forIngress =
    neg['ingress'] === true &&
    related.ingresses.some((ingress) => objectRef(ingress).namespace === objectRef(service).namespace && isGceIngress(ingress) && ingressServiceNames(ingress).has(nameOf(service)));
  if (!standalone && !forIngress) return undefined;
  const via = `GKE NEG of Service ${nameOf(service)}`;
  const configName = backendConfigName(annotations[GKE_BACKEND_CONFIG] ?? annotations[GKE_BACKEND_CONFIG_BETA]);
  if (configName === undefined) return { profile: 'gkeNeg', via, drainingSeconds: 0, drainingBecause: 'no BackendConfig: connection draining is off (drainingTimeoutSec defaults to 0)' };
  const config = related.backendConfigs.find((candidate) => nameOf(candidate) === configName && objectRef(candidate).namespace === objectRef(service).namespace);
  if (!config) {
    return { profile: 'gkeNeg', via, drainingSeconds: 0, drainingBecause: `BackendConfig ${configName} is not among the objects of namespace ${objectRef(service).namespace ?? '(none given)'}, so its connection draining is unknown` };
  }
  const seconds = asInteger(asRecord(asRecord(config['spec'])?.['connectionDraining'])?.['drainingTimeoutSec']) ?? 0;
  // The range the backend service accepts (ConnectionDraining.drainingTimeoutSec, [0, 3600]).
  if (seconds < 0 || seconds > MAX_DRAINING_SECONDS) {
    return { profile: 'gkeNeg', via, drainingSeconds: 0, drainingBecause: `BackendConfig ${configName} sets drainingTimeoutSec ${seconds}, outside the 0 to ${MAX_DRAINING_SECONDS} GCE accepts` };
  }
  return { profile: 'gkeNeg', via, drainingSeconds: seconds, drainingBecause: `connection draining ${seconds} s (BackendConfig ${configName})` };
}

function parseJson(value: string | undefined): JsonObject | undefined {
  if (value === undefined) return undefined;
  try {
    return asRecord(JSON.parse(value));
  } catch {
    return undefined;
  }
}

/** `{"default": "name"}`, or `{"ports": {"80": "name"}}` (the first port's; one workload, one budget). */
function backendConfigName(value: string | undefined): string | undefined {
  const parsed = parseJson(value);
  if (!parsed) return undefined;
  return asString(parsed['default']) ?? Object.values(asRecord(parsed['ports']) ?? {}).map(asString).find((name) => name !== undefined);
}

/**
 * Whether a ReferenceGrant in the Service's namespace lets a route of `kind` in `from` refer to Service `name`
 * (Gateway API ReferenceGrant: spec.from group, kind and namespace; spec.to group and kind, name optional).
 */
function granted(related: RelatedObjects, to: string | undefined, from: string | undefined, kind: string, name: string): boolean {
  return related.referenceGrants.some((grant) => {
    if (objectRef(grant).namespace !== to) return false;
    const spec = asRecord(grant['spec']);
    const fromOk = asArray(spec?.['from']).filter(isRecord).some((entry) => entry['group'] === GATEWAY_GROUP && entry['kind'] === kind && entry['namespace'] === from);
    const toOk = asArray(spec?.['to']).filter(isRecord).some((entry) => (entry['group'] ?? '') === '' && entry['kind'] === 'Service' && (entry['name'] === undefined || entry['name'] === name));
    return fromOk && toOk;
  });
}

/**
 * Gateway API routes whose backendRefs name one of these Services (core Services: group "" and kind Service):
 * from the same namespace, or from another one that a ReferenceGrant beside the Service allows, as the
 * implementations must check before they send there.
 */
function routeFronts(services: JsonObject[], related: RelatedObjects, namespace: string | undefined): Front[] {
  const names = new Set(services.map(nameOf));
  const fronts: Front[] = [];
  for (const route of related.routes) {
    const routeNamespace = objectRef(route).namespace;
    const kind = asString(route['kind']) ?? '';
    const sends = asArray(asRecord(route['spec'])?.['rules']).filter(isRecord).some((rule) =>
      asArray(rule['backendRefs']).filter(isRecord).some((ref) => {
        const group = asString(ref['group']) ?? '';
        const refKind = asString(ref['kind']) ?? 'Service';
        const refNamespace = asString(ref['namespace']) ?? routeNamespace;
        const name = asString(ref['name']) ?? '';
        if (group !== '' || refKind !== 'Service' || refNamespace !== namespace || !names.has(name)) return false;
        return routeNamespace === namespace || granted(related, namespace, routeNamespace, kind, name);
      }),
    );
    if (sends) fronts.push({ profile: 'gatewayApi', via: `${kind} ${routeNamespace === namespace ? '' : `${routeNamespace}/`}${objectRef(route).name}`, drainingSeconds: 0, drainingBecause: 'the implementation decides; set loadBalancers.gatewayApi for yours' });
  }
  return fronts;
}

/** What rollsafe.dev/load-balancer says, for people: the same words in the engine and the CEL export. */
export const DECLARED_VIA = `a load balancer its ${LOAD_BALANCER_ANNOTATION} annotation declares`;
export function declaredDrainingBecause(profile: ProfileName): string {
  const seconds = DECLARED_DRAINING_SECONDS[profile];
  return seconds > 0 ? `deregistration delay ${seconds} s (the ELB default: a declared load balancer cannot say its own)` : 'it keeps no connection to a removed endpoint';
}

/** The profile names of rollsafe.dev/load-balancer, as written (comma-separated, no blanks). */
export function declaredProfileNames(workload: Workload): string[] {
  const value = workload.annotations[LOAD_BALANCER_ANNOTATION];
  return value === undefined || value === '' ? [] : value.split(',');
}

/** Fronts a workload declares itself: the webhook's only way to know of them. Unknown names are no front. */
export function declaredFronts(workload: Workload): Front[] {
  return declaredProfileNames(workload)
    .filter((name): name is ProfileName => (PROFILE_NAMES as readonly string[]).includes(name))
    .map((profile) => ({ profile, via: DECLARED_VIA, drainingSeconds: DECLARED_DRAINING_SECONDS[profile], drainingBecause: declaredDrainingBecause(profile) }));
}

/** The Ingresses in the workload's namespace that send to this Service. */
function ingressesSendingTo(service: JsonObject, related: RelatedObjects, namespace: string | undefined): JsonObject[] {
  return related.ingresses.filter((ingress) => objectRef(ingress).namespace === namespace && ingressServiceNames(ingress).has(nameOf(service)));
}

/** The ingress-nginx Ingresses that send to the workload's pods through a Service's ClusterIP (context only). */
export function clusterIpUpstreams(workload: Workload, related: RelatedObjects | undefined): ClusterIpUpstream[] {
  if (!related) return [];
  const found: ClusterIpUpstream[] = [];
  for (const service of servicesSelecting(workload, related)) {
    for (const ingress of ingressesSendingTo(service, related, workload.ref.namespace)) {
      if (ingressController(ingress, related) !== 'nginx' || !sendsToClusterIp(ingress, service)) continue;
      const via = `ingress-nginx Ingress ${nameOf(ingress)}`;
      // One Ingress in front of two Services of the pods is said once.
      if (found.some((upstream) => upstream.via === via)) continue;
      const value = nextUpstream(annotationsOf(ingress)[NGINX_PROXY_NEXT_UPSTREAM]);
      found.push({ via, nextUpstream: value, retries: retriesOn(value) });
    }
  }
  return found;
}

/** Every front of the workload's pods: those it declares, and with context those the objects beside it show. */
export function frontsOf(workload: Workload, related: RelatedObjects | undefined): Front[] {
  const fronts: Front[] = declaredFronts(workload);
  if (!related) return fronts;
  const services = servicesSelecting(workload, related);
  for (const service of services) {
    const nlb = nlbFront(service);
    if (nlb) fronts.push(nlb);
    const neg = negFront(service, related);
    if (neg) fronts.push(neg);
    for (const ingress of ingressesSendingTo(service, related, workload.ref.namespace)) {
      const front = ingressFront(ingress, service, related);
      if (front) fronts.push(front);
    }
  }
  fronts.push(...routeFronts(services, related, workload.ref.namespace));
  // One Ingress in front of two Services of the pods is one front.
  return fronts.filter((front, index) => fronts.findIndex((other) => other.via === front.via && other.profile === front.profile) === index);
}
