import type { AuditResult } from '../audit/audit.js';
import type { InputError } from '../manifests/read.js';
import { patchForPaths } from '../engine/patch.js';
import { ENFORCE_FIX_MODES, evaluate } from '../engine/engine.js';
import { MODE_LABEL, MODES, type Mode, type Policy } from '../policy/types.js';
import { asArray, asRecord, asString, isRecord, type JsonObject } from '../util/object.js';
import { addRelated, emptyRelated, type RelatedObjects } from '../workloads/related.js';
import { objectRef, stringMap } from '../workloads/workload.js';
import { ClusterError, type ApiClient } from './api.js';
import { CONTEXT_RESOURCES, ForbiddenError, INGRESS_CLASSES, ListError, listPaged, ROUTE_RESOURCES, WORKLOAD_RESOURCES, type Resource } from './list.js';


export interface FixPreview {
  kind: string;
  namespace: string;
  name: string;
  patch: unknown[];
}

export interface ClusterAudit extends AuditResult {
  namespaces: string[];
  /** The JSON patch the mutating webhook would apply, per object (with --fix-preview). */
  previews: FixPreview[];
}

export interface ClusterAuditOptions {
  /** Namespaces to audit, or 'all'. */
  namespaces: string[] | 'all';
  policy: Policy;
  fixPreview?: boolean;
  progress?: (text: string) => void;
  /** One-line notes for standard error (e.g. a context API the cluster does not serve). */
  warn?: (text: string) => void;
}

interface NamespaceInfo {
  name: string;
  mode: Mode | undefined;
  /** The Namespace's name and labels, as context (load balancer readiness gate injection), when it could be read. */
  object?: JsonObject;
  /** A named namespace the server says does not exist: nothing in it can be judged, which is no pass. */
  missing?: boolean;
}

/**
 * Live objects come from no file: results, skipped entries and input errors are grouped under `namespace/NAME`
 * with document 0, which tells the reports "not from a file" (so none points a pull request at a file of that name).
 */
function liveError(namespace: string, message: string): InputError {
  return { file: `namespace/${namespace}`, document: 0, message };
}

/** Why the workloads of a namespace labelled rollsafe.dev/mode=off are not judged: admission skips them too. */
export const NAMESPACE_MODE_OFF = `namespace mode off (label ${MODE_LABEL}=off): rollsafe judges nothing in it, as at admission`;

function modeOf(namespace: JsonObject): Mode | undefined {
  const value = stringMap(asRecord(namespace['metadata'])?.['labels'])[MODE_LABEL];
  return (MODES as readonly string[]).includes(value ?? '') ? (value as Mode) : undefined;
}

/** A route in the namespace, or one whose backendRefs name a Service there. */
function routeConcerns(route: JsonObject, namespace: string): boolean {
  const own = objectRef(route).namespace;
  if (own === namespace) return true;
  return asArray(asRecord(route['spec'])?.['rules'])
    .filter(isRecord)
    .some((rule) => asArray(rule['backendRefs']).filter(isRecord).some((ref) => asString(ref['namespace']) === namespace));
}

/** Only the name and labels of a Namespace: what rules read of it, kept per namespace for the whole run. */
function namespaceContext(namespace: JsonObject): JsonObject {
  const metadata = asRecord(namespace['metadata']);
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: metadata?.['name'], labels: stringMap(metadata?.['labels']) } };
}

async function namespacesToAudit(client: ApiClient, wanted: string[] | 'all'): Promise<NamespaceInfo[]> {
  if (wanted === 'all') {
    const found: NamespaceInfo[] = [];
    try {
      await listPaged(client, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace' }, (items) => {
        for (const item of items) found.push({ name: objectRef(item).name, mode: modeOf(item), object: namespaceContext(item) });
      });
    } catch (error) {
      if (error instanceof ForbiddenError) throw new ClusterError('the credentials may not list namespaces: name them with -n NAMESPACE');
      if (error instanceof ListError) throw new ClusterError(`cannot list namespaces: ${error.message}`);
      throw error;
    }
    return found;
  }
  // Named namespaces: their labels give the mode; without read access the policy alone decides.
  return Promise.all(
    wanted.map(async (name) => {
      const { status, body } = await client.request('GET', `/api/v1/namespaces/${encodeURIComponent(name)}`);
      if (status === 401) throw new ClusterError(`the API server ${client.server} refused the credentials (401 Unauthorized)`);
      const read = status === 200 && isRecord(body);
      return { name, mode: read ? modeOf(body) : undefined, ...(read ? { object: namespaceContext(body) } : {}), ...(status === 404 ? { missing: true } : {}) };
    }),
  );
}

function ownerOf(object: JsonObject): string | undefined {
  const owner = asArray(asRecord(object['metadata'])?.['ownerReferences'])
    .filter(isRecord)
    .find((reference) => reference['controller'] === true);
  return owner ? `${asString(owner['kind']) ?? '?'} ${asString(owner['name']) ?? '?'}` : undefined;
}

/** Only what reports need of a live object; the rest is dropped once evaluated, to keep memory bounded. */
function stub(object: JsonObject): JsonObject {
  const metadata = asRecord(object['metadata']) ?? {};
  return { apiVersion: object['apiVersion'], kind: object['kind'], metadata: { name: metadata['name'], namespace: metadata['namespace'], uid: metadata['uid'] } };
}

export interface NamespaceObjects {
  namespace: NamespaceInfo;
  workloads: JsonObject[];
  /** Services, HPAs, PDBs, PVCs, and the workloads themselves (a PDB counts the pods of every workload it selects). */
  related: RelatedObjects;
}

/**
 * Lists a live cluster namespace by namespace: workloads and their context (Services, HPAs, PDBs, PVCs), page
 * by page, handed to `visit` and then dropped, so memory grows with what `visit` keeps, not with the cluster.
 * A namespace the credentials may not read, or whose lists the server answers with an error, is an error for
 * that namespace (in `errors`); the others are still listed. A server that cannot be reached, or stops
 * answering, ends it.
 */
/** What an audit without an optional list misses: workloads of that kind, or context about the others. */
function missed(resource: Resource): string {
  return WORKLOAD_RESOURCES.includes(resource) ? `its ${resource.kind}s are not judged: that is no pass for them` : 'what stands in front of the pods may be missed';
}

export async function forEachNamespace(
  client: ApiClient,
  options: Pick<ClusterAuditOptions, 'namespaces' | 'progress' | 'warn'>,
  errors: AuditResult['inputErrors'],
  visit: (objects: NamespaceObjects) => void,
): Promise<string[]> {
  const namespaces = await namespacesToAudit(client, options.namespaces);
  const listed: string[] = [];
  const missingApis = new Set<string>();
  /** An optional list that cannot be had (not served, or not allowed): warned about once, then done without. */
  const doWithout = (resource: Resource, error: unknown): void => {
    const notServed = error instanceof ListError && error.status === 404;
    if (!notServed && !(resource.optional && (error instanceof ForbiddenError || error instanceof ListError))) throw error;
    // An optional API a cluster does not serve (no Gateway API, no GKE) is simply not in use there.
    if ((notServed && resource.optional) || missingApis.has(resource.kind)) return;
    missingApis.add(resource.kind);
    options.warn?.(
      notServed
        ? `${resource.apiVersion} ${resource.kind} is not served by this cluster (404); audited without them`
        : error instanceof ForbiddenError
          ? `the credentials may not list ${resource.apiVersion} ${resource.kind}; audited without them (${missed(resource)})`
          : `cannot list ${resource.apiVersion} ${resource.kind} (${(error as Error).message}); audited without them (${missed(resource)})`,
    );
  };
  const ingressClasses: JsonObject[] = [];
  try {
    await listPaged(client, INGRESS_CLASSES.path(''), INGRESS_CLASSES, (items) => ingressClasses.push(...items));
  } catch (error) {
    doWithout(INGRESS_CLASSES, error);
  }
  const routes: JsonObject[] = [];
  for (const resource of ROUTE_RESOURCES) {
    try {
      await listPaged(client, resource.path(''), resource, (items) => routes.push(...items));
    } catch (error) {
      doWithout(resource, error);
    }
  }
  let objectsRead = 0;
  for (const [index, namespace] of namespaces.entries()) {
    options.progress?.(`namespace ${index + 1}/${namespaces.length} (${namespace.name}), ${objectsRead} objects read`);
    if (namespace.missing) {
      errors.push(liveError(namespace.name, 'no such namespace (404): nothing was judged, so this is no pass'));
      continue;
    }
    const workloads: JsonObject[] = [];
    const related = emptyRelated();
    for (const ingressClass of ingressClasses) addRelated(related, ingressClass);
    for (const route of routes) if (routeConcerns(route, namespace.name)) addRelated(related, route);
    if (namespace.object) addRelated(related, namespace.object);
    try {
      for (const resource of WORKLOAD_RESOURCES) {
        try {
          await listPaged(client, resource.path(namespace.name), resource, (items) => workloads.push(...items));
        } catch (error) {
          if (!resource.optional) throw error;
          doWithout(resource, error);
        }
      }
      for (const resource of CONTEXT_RESOURCES) {
        try {
          await listPaged(client, resource.path(namespace.name), resource, (items) => items.forEach((item) => addRelated(related, item)));
        } catch (error) {
          // An API this cluster does not serve (autoscaling/v2 before 1.23): no such context, the audit goes on.
          doWithout(resource, error);
        }
      }
    } catch (error) {
      if (!(error instanceof ForbiddenError || error instanceof ListError)) throw error;
      errors.push(liveError(namespace.name, `cannot list: ${error.message}`));
      continue;
    }
    for (const workload of workloads) addRelated(related, workload);
    objectsRead += workloads.length;
    listed.push(namespace.name);
    visit({ namespace, workloads, related });
  }
  options.progress?.(`${namespaces.length} namespace(s), ${objectsRead} workloads read`);
  return listed;
}

/** Audits a live cluster namespace by namespace (forEachNamespace). */
export async function auditCluster(client: ApiClient, options: ClusterAuditOptions): Promise<ClusterAudit> {
  const result: ClusterAudit = { results: [], skipped: [], inputErrors: [], namespaces: [], previews: [] };
  result.namespaces = await forEachNamespace(client, options, result.inputErrors, ({ namespace, workloads, related }) => {
    for (const workload of workloads) {
      const ref = objectRef(workload);
      // Live objects have no file: results are grouped by namespace; document and line 0 say "not from a file".
      const path = `namespace/${namespace.name}`;
      if (namespace.mode === 'off') {
        // A workload, not another kind: the skip has its own reason (issue 29), not "not an apps/v1 workload".
        result.skipped.push({ file: path, document: 0, apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, reason: NAMESPACE_MODE_OFF });
        continue;
      }
      const evaluation = evaluate(workload, options.policy, {
        related,
        namespace: namespace.name,
        ...(namespace.mode ? { namespaceMode: namespace.mode } : {}),
        ...(options.fixPreview ? { fixModes: ENFORCE_FIX_MODES } : {}),
      });
      if (!evaluation) continue;
      for (const error of evaluation.errors) {
        result.inputErrors.push(liveError(namespace.name, `rule ${error.rule} failed on ${ref.kind} ${ref.name}: ${error.message}`));
      }
      if (options.fixPreview && evaluation.fixed) {
        // The generator /mutate uses, over the paths its fixes set: what a template change would be sent.
        const patch = evaluation.changed ? patchForPaths(workload, evaluation.fixed, evaluation.applied.flatMap((fix) => fix.paths)) : [];
        if (patch.length > 0) result.previews.push({ kind: ref.kind, namespace: namespace.name, name: ref.name, patch });
        delete evaluation.fixed;
      }
      const owner = ownerOf(workload);
      result.results.push({
        source: { file: path, document: 0, line: 0, object: stub(workload) },
        evaluation,
        ...(owner ? { owner } : {}),
      });
    }
  });
  return result;
}
