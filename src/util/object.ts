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

/** Deep copy of JSON data (faster than structuredClone for parsed JSON). */
export function deepClone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepClone) as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const child = deepClone((value as Record<string, unknown>)[key]);
    // A "__proto__" key must stay an own property instead of replacing the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: child, enumerable: true, writable: true, configurable: true });
    else copy[key] = child;
  }
  return copy as T;
}

/** Equal JSON data with keys in the same order (what a re-read of edited YAML must give back). */
export function sameJsonInOrder(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  for (let i = 0; i < keysA.length; i++) {
    const key = keysA[i] as string;
    if (key !== keysB[i] || !sameJsonInOrder((a as JsonObject)[key], (b as JsonObject)[key])) return false;
  }
  return true;
}

export type PathSegment = string | number;

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

/**
 * A shallow copy. Object.assign rather than a spread: V8 gives a spread copy no room for another property, and
 * a fix usually adds one (adding it then costs about three times the copy). A "__proto__" own key would become
 * the copy's prototype under Object.assign, so such an object is spread.
 */
export function shallowCopy<T extends object>(value: T): T {
  if (Array.isArray(value)) return value.slice() as T;
  return Object.prototype.hasOwnProperty.call(value, '__proto__') ? { ...value } : Object.assign({}, value);
}

/**
 * Sets `value` at `path` of `root`, a copy of `original` (copy on write): each object on the way that is still
 * the original's own (the same reference at the same path) is copied first, so the result shares every untouched
 * subtree with the original, which is never modified. Objects a previous call copied or created are reused.
 */
export function setPathCopying(root: JsonObject, original: JsonObject, path: readonly PathSegment[], value: unknown): void {
  let node: Record<PathSegment, unknown> = root;
  let originalNode: unknown = original;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as PathSegment;
    const current = node[key];
    const originalChild = typeof originalNode === 'object' && originalNode !== null ? (originalNode as Record<PathSegment, unknown>)[key] : undefined;
    let child: object;
    // A scalar, or an array where a named member is wanted (malformed input), is replaced by an object: a
    // named property on an array would vanish from the JSON.
    if (typeof current !== 'object' || current === null || (Array.isArray(current) && typeof path[i + 1] !== 'number')) {
      child = {};
      node[key] = child;
    } else if (current !== originalChild) {
      child = current;
    } else {
      child = shallowCopy(current);
      node[key] = child;
    }
    node = child as Record<PathSegment, unknown>;
    originalNode = originalChild;
  }
  node[path[path.length - 1] as PathSegment] = value;
}
