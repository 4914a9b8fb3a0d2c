import { asArray, asRecord, asString, isRecord, type JsonObject } from '../util/object.js';
import { ClusterError, type ApiClient } from './api.js';

const PAGE_SIZE = 250;

export interface Resource {
  apiVersion: string;
  kind: string;
  /** The collection path for a namespace, e.g. /apis/apps/v1/namespaces/NS/deployments. */
  path(namespace: string): string;
  /**
   * Context that improves a judgement but is not needed for one (what stands in front of the pods): credentials
   * that may not list it are warned about once, and the audit goes on without it.
   */
  optional?: boolean;
}

const namespaced = (prefix: string, plural: string, apiVersion: string, kind: string): Resource => ({
  apiVersion,
  kind,
  path: (namespace) => `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}`,
});

export const WORKLOAD_RESOURCES: Resource[] = [
  namespaced('/apis/apps/v1', 'deployments', 'apps/v1', 'Deployment'),
  namespaced('/apis/apps/v1', 'statefulsets', 'apps/v1', 'StatefulSet'),
  namespaced('/apis/apps/v1', 'daemonsets', 'apps/v1', 'DaemonSet'),
  // Argo Rollouts, where the cluster serves their CRD (a 404 means it does not: no Rollouts there).
  { ...namespaced('/apis/argoproj.io/v1alpha1', 'rollouts', 'argoproj.io/v1alpha1', 'Rollout'), optional: true },
];

/** What the rules need besides the workloads, from the same namespace. */
export const CONTEXT_RESOURCES: Resource[] = [
  namespaced('/api/v1', 'services', 'v1', 'Service'),
  namespaced('/apis/autoscaling/v2', 'horizontalpodautoscalers', 'autoscaling/v2', 'HorizontalPodAutoscaler'),
  namespaced('/apis/policy/v1', 'poddisruptionbudgets', 'policy/v1', 'PodDisruptionBudget'),
  namespaced('/api/v1', 'persistentvolumeclaims', 'v1', 'PersistentVolumeClaim'),
  // What stands in front of the pods (src/budget/): APIs a cluster may not serve are skipped (404).
  { ...namespaced('/apis/networking.k8s.io/v1', 'ingresses', 'networking.k8s.io/v1', 'Ingress'), optional: true },
  { ...namespaced('/apis/gateway.networking.k8s.io/v1beta1', 'referencegrants', 'gateway.networking.k8s.io/v1beta1', 'ReferenceGrant'), optional: true },
  { ...namespaced('/apis/cloud.google.com/v1', 'backendconfigs', 'cloud.google.com/v1', 'BackendConfig'), optional: true },
];

/**
 * Gateway API routes, listed once across namespaces: a route in one namespace may send to the Services of
 * another (where a ReferenceGrant there allows it), so each namespace's context gets those naming it too.
 */
export const ROUTE_RESOURCES: Resource[] = [
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', path: () => '/apis/gateway.networking.k8s.io/v1/httproutes', optional: true },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', path: () => '/apis/gateway.networking.k8s.io/v1/grpcroutes', optional: true },
];

/** Cluster-scoped context, listed once: IngressClasses say which controller serves an Ingress. */
export const INGRESS_CLASSES: Resource = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', path: () => '/apis/networking.k8s.io/v1/ingressclasses', optional: true };

/** Thrown when the credentials may not list something; the caller reports it for that namespace. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

/**
 * The API server answered a list with an error (a 5xx from an overloaded server or etcd, a 404, a body that
 * is no list): that collection could not be read, but the server is there; the caller reports it for that
 * namespace and goes on.
 */
export class ListError extends Error {
  override name = 'ListError';

  constructor(
    message: string,
    /** The HTTP status of the answer, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

function statusMessage(body: unknown): string {
  return asString(asRecord(body)?.['message']) ?? (typeof body === 'string' ? body.slice(0, 200) : '');
}

/**
 * Lists a collection page by page (limit/continue), handing each page's items to `onItems`, so memory is
 * bounded by one page. Items get their apiVersion and kind (lists omit them) and lose managedFields.
 */
export async function listPaged(
  client: ApiClient,
  path: string,
  identity: { apiVersion: string; kind: string },
  onItems: (items: JsonObject[]) => void,
): Promise<number> {
  let token: string | undefined;
  let pages = 0;
  do {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), ...(token ? { continue: token } : {}) });
    const { status, body } = await client.request('GET', `${path}?${query}`);
    if (status === 401) throw new ClusterError(`the API server ${client.server} refused the credentials (401 Unauthorized)`);
    if (status === 403) throw new ForbiddenError(statusMessage(body) || `forbidden: ${path}`);
    if (status < 200 || status >= 300) {
      throw new ListError(`GET ${path} failed with HTTP ${status}${statusMessage(body) ? `: ${statusMessage(body)}` : ''}`, status);
    }
    if (!isRecord(body) || !Array.isArray(body['items'])) throw new ListError(`GET ${path} answered HTTP ${status} with something that is not a list`);
    const items = asArray(body['items']).filter(isRecord);
    for (const item of items) {
      item['apiVersion'] = identity.apiVersion;
      item['kind'] = identity.kind;
      const metadata = asRecord(item['metadata']);
      if (metadata) delete metadata['managedFields'];
    }
    onItems(items);
    pages++;
    const next = asString(asRecord(body['metadata'])?.['continue']) || undefined;
    // A server that hands back the token it was given would page forever.
    if (next !== undefined && next === token) throw new ListError(`GET ${path} answered the same continue token twice; stopped paging`);
    token = next;
  } while (token);
  return pages;
}
