/** Narrowing helpers for untrusted JSON: admission bodies and YAML files can hold any type anywhere. */

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): JsonObject | undefined {
  return isRecord(value) ? value : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** Deep copy of JSON data; several times faster than structuredClone for parsed JSON on the admission path. */
export function deepClone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepClone) as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // defineProperty: a "__proto__" key stays an own property instead of replacing the prototype.
    Object.defineProperty(copy, key, { value: deepClone((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
  }
  return copy as T;
}

export type PathSegment = string | number;

/** Sets `value` at `path`, creating plain objects on the way. Used by fixes on a private copy. */
export function setPath(root: JsonObject, path: readonly PathSegment[], value: unknown): void {
  let node: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as PathSegment;
    const container = node as Record<PathSegment, unknown>;
    if (typeof container[key] !== 'object' || container[key] === null) {
      Object.defineProperty(container, key, { value: {}, enumerable: true, writable: true, configurable: true });
    }
    node = container[key];
  }
  const last = path[path.length - 1] as PathSegment;
  // defineProperty so a key named "__proto__" can never reach a prototype.
  Object.defineProperty(node as object, last, { value, enumerable: true, writable: true, configurable: true });
}

/** Deep equality for JSON values, key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}
