import { asArray, asInteger, asRecord, asString, isRecord, type JsonObject, type PathSegment } from '../util/object.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** Argo Rollouts' Rollout is served as argoproj.io/v1alpha1 only (its CRD has one version). */
export const ROLLOUT_API_VERSION = 'argoproj.io/v1alpha1';

/** The one apiVersion rollsafe judges each workload kind under. */
export function workloadApiVersion(kind: WorkloadKind): string {
  return kind === 'Rollout' ? ROLLOUT_API_VERSION : 'apps/v1';
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
}

export interface ContainerView {
  name: string;
  /** Path of the container inside the workload object, for fixes. */
  path: PathSegment[];
  spec: JsonObject;
  /** An initContainer with restartPolicy: Always (Kubernetes native sidecar). */
  sidecar: boolean;
}

/**
 * Where the pod template, replicas and strategy live for a workload (apps/v1, or an Argo Rollout); read-only view
 * over the object.
 */
export interface Workload {
  object: JsonObject;
  ref: ObjectRef & { kind: WorkloadKind };
  annotations: Record<string, string>;
  /**
   * spec.replicas as written; undefined when unset (API default 1). Always undefined for DaemonSets. For a
   * Deployment whose template a Rollout runs (`runBy`), the Rollout's.
   */
  replicas: number | undefined;
  /**
   * A Rollout with spec.workloadRef: the Deployment whose pod template it runs. `found` when that Deployment is
   * in the context (its template is then this view's, read-only: the template's rules judge and fix it on the
   * Deployment); otherwise the view has no containers.
   */
  templateFrom?: { ref: ObjectRef; found: boolean };
  /**
   * A Deployment that a Rollout's workloadRef names: the Rollout's controller runs its template (replicas and
   * strategy are the Rollout's, judged there), so only the template's rules judge this object.
   */
  runBy?: ObjectRef & { kind: 'Rollout' };
  podSpecPath: PathSegment[];
  podSpec: JsonObject;
  podLabels: Record<string, string>;
  /** Regular containers and native sidecars; plain initContainers are never part of serving. */
  containers: ContainerView[];
}

export function objectRef(object: JsonObject): ObjectRef {
  const metadata = asRecord(object['metadata']);
  return {
    apiVersion: asString(object['apiVersion']) ?? '',
    kind: asString(object['kind']) ?? '',
    namespace: asString(metadata?.['namespace']) || undefined,
    name: asString(metadata?.['name']) ?? asString(metadata?.['generateName']) ?? '',
  };
}

/** The string members of a labels or annotations map; the map itself when they all are (no copy per request). */
export function stringMap(value: unknown): Record<string, string> {
  const record = asRecord(value);
  if (!record) return {};
  // A YAML file may hold an own "__proto__" key; the copy drops it, as it always did.
  if (Object.prototype.hasOwnProperty.call(record, '__proto__')) return onlyStrings(record);
  for (const key in record) {
    if (typeof record[key] !== 'string') return onlyStrings(record);
  }
  return record as Record<string, string>;
}

function onlyStrings(record: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record)) {
    if (typeof record[key] === 'string') out[key] = record[key];
  }
  return out;
}

export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly unknown[]).includes(kind);
}

export function isWorkloadObject(object: JsonObject): boolean {
  const kind = object['kind'];
  return isWorkloadKind(kind) && object['apiVersion'] === workloadApiVersion(kind);
}

/** A Rollout whose template lives in another object (spec.workloadRef) rather than in spec.template. */
export function workloadRefOf(object: JsonObject): JsonObject | undefined {
  return object['kind'] === 'Rollout' ? asRecord(asRecord(object['spec'])?.['workloadRef']) : undefined;
}

/**
 * A workload without a pod template with a containers list is no object the apiserver would accept: most often
 * a kustomize patch fragment. It is skipped, never judged or fixed (a fix would turn a fragment into a broken
 * object).
 */
export function hasPodTemplate(object: JsonObject): boolean {
  return Array.isArray(asRecord(asRecord(asRecord(object['spec'])?.['template'])?.['spec'])?.['containers']);
}

/**
 * Builds the view, or undefined for anything that is not a complete apps/v1 Deployment, StatefulSet or DaemonSet,
 * or Argo Rollout. A Rollout with spec.workloadRef and no template of its own is viewed without containers: see
 * workloads/workload-ref.ts for the view with the referenced Deployment's template.
 */
export function toWorkload(object: JsonObject): Workload | undefined {
  if (!isWorkloadObject(object)) return undefined;
  const workloadRef = workloadRefOf(object);
  if (!workloadRef && !hasPodTemplate(object)) return undefined;
  const view = templateView(object, asRecord(asRecord(object['spec'])?.['template']), ['spec', 'template', 'spec']);
  // Until the referenced Deployment is found (workload-ref.ts), the template is unknown: never judged as empty.
  if (workloadRef) view.templateFrom = { ref: referencedRef(object, workloadRef), found: false };
  return view;
}

/** The object a Rollout's workloadRef names, in the Rollout's namespace (the controller reads no other). */
export function referencedRef(rollout: JsonObject, workloadRef: JsonObject): ObjectRef {
  return {
    apiVersion: asString(workloadRef['apiVersion']) ?? '',
    kind: asString(workloadRef['kind']) ?? '',
    namespace: objectRef(rollout).namespace,
    name: asString(workloadRef['name']) ?? '',
  };
}

/** The view of `object` with the pod template `template` (its own, or one it references), at `podSpecPath`. */
export function templateView(object: JsonObject, template: JsonObject | undefined, podSpecPath: PathSegment[]): Workload {
  const ref = objectRef(object) as Workload['ref'];
  const spec = asRecord(object['spec']);
  const podSpec = asRecord(template?.['spec']) ?? {};
  const containers: ContainerView[] = [];
  asArray(podSpec['containers']).forEach((container, index) => {
    if (isRecord(container)) {
      containers.push({
        name: asString(container['name']) ?? `#${index}`,
        path: [...podSpecPath, 'containers', index],
        spec: container,
        sidecar: false,
      });
    }
  });
  asArray(podSpec['initContainers']).forEach((container, index) => {
    if (isRecord(container) && container['restartPolicy'] === 'Always') {
      containers.push({
        name: asString(container['name']) ?? `#init${index}`,
        path: [...podSpecPath, 'initContainers', index],
        spec: container,
        sidecar: true,
      });
    }
  });
  return {
    object,
    ref,
    annotations: stringMap(asRecord(object['metadata'])?.['annotations']),
    replicas: ref.kind === 'DaemonSet' ? undefined : asInteger(spec?.['replicas']),
    podSpecPath,
    podSpec,
    podLabels: stringMap(asRecord(template?.['metadata'])?.['labels']),
    containers,
  };
}

/** Declared container ports; with hostNetwork every container port is also a host port (apiserver defaulting). */
export function containerPorts(container: JsonObject): JsonObject[] {
  return asArray(container['ports']).filter(isRecord);
}
