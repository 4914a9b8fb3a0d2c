import { asArray, asInteger, asRecord, asString, isRecord, type JsonObject, type PathSegment } from '../util/object.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

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

/** Where the pod template, replicas and strategy live for an apps/v1 workload; read-only view over the object. */
export interface Workload {
  object: JsonObject;
  ref: ObjectRef & { kind: WorkloadKind };
  annotations: Record<string, string>;
  /** spec.replicas as written; undefined when unset (API default 1). Always undefined for DaemonSets. */
  replicas: number | undefined;
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

export function isWorkloadObject(object: JsonObject): boolean {
  return object['apiVersion'] === 'apps/v1' && (WORKLOAD_KINDS as readonly unknown[]).includes(object['kind']);
}

/**
 * A workload without a pod template with a containers list is no object the apiserver would accept: most often
 * a kustomize patch fragment. It is skipped, never judged or fixed (a fix would turn a fragment into a broken
 * object).
 */
export function hasPodTemplate(object: JsonObject): boolean {
  return Array.isArray(asRecord(asRecord(asRecord(object['spec'])?.['template'])?.['spec'])?.['containers']);
}

/** Builds the view, or undefined for anything that is not a complete apps/v1 Deployment, StatefulSet or DaemonSet. */
export function toWorkload(object: JsonObject): Workload | undefined {
  if (!isWorkloadObject(object) || !hasPodTemplate(object)) return undefined;
  const ref = objectRef(object) as Workload['ref'];
  const spec = asRecord(object['spec']);
  const template = asRecord(spec?.['template']);
  const podSpec = asRecord(template?.['spec']) ?? {};
  const podSpecPath = ['spec', 'template', 'spec'];
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
