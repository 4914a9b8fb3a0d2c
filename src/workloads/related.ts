import { asRecord, asString, type JsonObject } from '../util/object.js';
import { selectorMatches, serviceSelects } from './label-selector.js';
import { resolveWorkload } from './workload-ref.js';
import { objectRef, toWorkload, workloadApiVersion, type Workload, type WorkloadKind } from './workload.js';

/**
 * Objects that give rules their context: Services (who serves), HPAs (who owns replicas), PDBs, PVCs, and what
 * stands in front of the pods (Ingresses, Gateway API routes, GKE BackendConfigs, the namespaces' labels).
 * Present for file and cluster audits; absent at admission, where rules must not guess.
 */
export interface RelatedObjects {
  services: JsonObject[];
  autoscalers: JsonObject[];
  disruptionBudgets: JsonObject[];
  volumeClaims: JsonObject[];
  /** Deployments, StatefulSets and Rollouts: a PDB counts the pods of every workload it selects. */
  workloads: Workload[];
  /** Argo Rollouts, as written: a workloadRef joins one to the Deployment whose template it runs. */
  rollouts: JsonObject[];
  ingresses: JsonObject[];
  ingressClasses: JsonObject[];
  /** Gateway API HTTPRoutes and GRPCRoutes, and the ReferenceGrants that let routes of other namespaces in. */
  routes: JsonObject[];
  referenceGrants: JsonObject[];
  /** GKE's cloud.google.com BackendConfigs (connection draining). */
  backendConfigs: JsonObject[];
  /** Namespaces in the input or the cluster, for their labels (load balancer readiness gate injection). */
  namespaces: JsonObject[];
}

export function emptyRelated(): RelatedObjects {
  return { services: [], autoscalers: [], disruptionBudgets: [], volumeClaims: [], workloads: [], rollouts: [], ingresses: [], ingressClasses: [], routes: [], referenceGrants: [], backendConfigs: [], namespaces: [] };
}

/** Sorts one object into the context it belongs to; returns false when it is no context object. */
export function addRelated(related: RelatedObjects, object: JsonObject): boolean {
  const apiVersion = asString(object['apiVersion']) ?? '';
  switch (object['kind']) {
    case 'Service':
      if (apiVersion === 'v1') related.services.push(object);
      return apiVersion === 'v1';
    case 'HorizontalPodAutoscaler':
      if (apiVersion.startsWith('autoscaling/')) related.autoscalers.push(object);
      return apiVersion.startsWith('autoscaling/');
    case 'PodDisruptionBudget':
      if (apiVersion.startsWith('policy/')) related.disruptionBudgets.push(object);
      return apiVersion.startsWith('policy/');
    case 'PersistentVolumeClaim':
      if (apiVersion === 'v1') related.volumeClaims.push(object);
      return apiVersion === 'v1';
    case 'Ingress':
      if (apiVersion === 'networking.k8s.io/v1') related.ingresses.push(object);
      return apiVersion === 'networking.k8s.io/v1';
    case 'IngressClass':
      if (apiVersion === 'networking.k8s.io/v1') related.ingressClasses.push(object);
      return apiVersion === 'networking.k8s.io/v1';
    case 'HTTPRoute':
    case 'GRPCRoute':
      if (apiVersion.startsWith('gateway.networking.k8s.io/')) related.routes.push(object);
      return apiVersion.startsWith('gateway.networking.k8s.io/');
    case 'ReferenceGrant':
      if (apiVersion.startsWith('gateway.networking.k8s.io/')) related.referenceGrants.push(object);
      return apiVersion.startsWith('gateway.networking.k8s.io/');
    case 'BackendConfig':
      if (apiVersion.startsWith('cloud.google.com/')) related.backendConfigs.push(object);
      return apiVersion.startsWith('cloud.google.com/');
    case 'Namespace':
      if (apiVersion === 'v1') related.namespaces.push(object);
      return apiVersion === 'v1';
    case 'Deployment':
    case 'StatefulSet':
    case 'Rollout': {
      const workload = toWorkload(object);
      if (workload) related.workloads.push(workload);
      if (workload?.ref.kind === 'Rollout') related.rollouts.push(object);
      return workload !== undefined;
    }
    default:
      return false;
  }
}

function inNamespaceOf(object: JsonObject, workload: Workload): boolean {
  return objectRef(object).namespace === workload.ref.namespace;
}

export function servicesSelecting(workload: Workload, related: RelatedObjects): JsonObject[] {
  return related.services.filter(
    (service) =>
      inNamespaceOf(service, workload) &&
      serviceSelects(asRecord(service['spec'])?.['selector'], workload.podLabels),
  );
}

/** The HPA that scales the workload's pods: for a Deployment a Rollout runs, the Rollout's. */
export function autoscalerFor(workload: Workload, related: RelatedObjects): JsonObject | undefined {
  const owner = workload.runBy ?? workload.ref;
  return related.autoscalers.find((hpa) => {
    const target = asRecord(asRecord(hpa['spec'])?.['scaleTargetRef']);
    const apiVersion = asString(target?.['apiVersion']);
    return (
      inNamespaceOf(hpa, workload) &&
      target?.['kind'] === owner.kind &&
      target['name'] === owner.name &&
      (apiVersion === undefined || apiVersion === workloadApiVersion(owner.kind as WorkloadKind))
    );
  });
}

/**
 * PDBs whose selector picks this workload's pods. policy/v1: an empty selector selects every pod in the
 * namespace; policy/v1beta1: it selects none. An absent selector selects none in both.
 */
export function disruptionBudgetsSelecting(workload: Workload, related: RelatedObjects): JsonObject[] {
  return related.disruptionBudgets.filter((pdb) => {
    if (!inNamespaceOf(pdb, workload)) return false;
    const selector = asRecord(asRecord(pdb['spec'])?.['selector']);
    if (!selector) return false;
    const empty = Object.keys(selector).every((key) => {
      const value = selector[key];
      return value === undefined || value === null || (Array.isArray(value) ? value.length === 0 : Object.keys(asRecord(value) ?? {}).length === 0);
    });
    if (empty) return pdb['apiVersion'] === 'policy/v1';
    return selectorMatches(selector, workload.podLabels);
  });
}

export function volumeClaim(workload: Workload, related: RelatedObjects, claimName: string): JsonObject | undefined {
  return related.volumeClaims.find(
    (claim) => inNamespaceOf(claim, workload) && objectRef(claim).name === claimName,
  );
}

/**
 * The workloads whose pods a PDB selects, as the disruption controller finds them: every pod in its namespace
 * that its selector matches, whoever owns it (pkg/controller/disruption, getPodsForPdb). Memoized per PDB
 * and context, so a PDB over thousands of workloads is matched once.
 */
const selectedBy = new WeakMap<RelatedObjects, WeakMap<JsonObject, Workload[]>>();

export function workloadsSelectedBy(pdb: JsonObject, related: RelatedObjects): Workload[] {
  let perPdb = selectedBy.get(related);
  if (!perPdb) {
    perPdb = new WeakMap();
    selectedBy.set(related, perPdb);
  }
  let found = perPdb.get(pdb);
  if (!found) {
    // A Deployment a Rollout runs is counted as that Rollout (its pods are the Rollout's ReplicaSets'); a
    // Rollout with a workloadRef has the Deployment's pod labels.
    found = related.workloads
      .map((candidate) => resolveWorkload(candidate.object, related) ?? candidate)
      .filter((candidate) => !candidate.runBy && disruptionBudgetsSelecting(candidate, { ...related, disruptionBudgets: [pdb] }).length > 0);
    perPdb.set(pdb, found);
  }
  return found;
}
