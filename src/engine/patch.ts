/**
 * The one JSON Patch generator: the mutating webhook's patch, `audit --cluster --fix-preview` and the text edits
 * of `rollsafe fix` all come from the paths the fixes set.
 */
import { jsonEqual, type JsonObject, type PathSegment } from '../util/object.js';

export interface PatchOperation {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

/** RFC 6901: `~` and `/` inside a reference token are escaped. */
export function pointer(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    const token = String(segment);
    text += `/${token.includes('~') || token.includes('/') ? token.replace(/~/g, '~0').replace(/\//g, '~1') : token}`;
  }
  return text;
}

function hasMember(node: unknown, key: PathSegment): boolean {
  if (Array.isArray(node)) return typeof key === 'number' && key >= 0 && key < node.length;
  return typeof node === 'object' && node !== null && Object.prototype.hasOwnProperty.call(node, key);
}

function canAdd(node: unknown, key: PathSegment): boolean {
  if (Array.isArray(node)) return key === node.length;
  return typeof node === 'object' && node !== null;
}

function valueAt(root: unknown, path: readonly PathSegment[], length = path.length): unknown {
  let node = root;
  for (let i = 0; i < length; i++) node = (node as Record<PathSegment, unknown>)[path[i] as PathSegment];
  return node;
}

/** Where one set path lands in the original: the whole path is replaced, or its first missing member added. */
function target(original: JsonObject, path: readonly PathSegment[]): { op: 'add' | 'replace'; length: number } {
  let node: unknown = original;
  let depth = 0;
  while (depth < path.length && hasMember(node, path[depth] as PathSegment)) {
    node = (node as Record<PathSegment, unknown>)[path[depth] as PathSegment];
    depth++;
  }
  if (depth === path.length) return { op: 'replace', length: depth };
  // A member is missing under an object, or one past the end of an array: add it whole. Anywhere else (a
  // scalar, null, an array asked for a named member: the fix replaced a malformed value), replace that value.
  if (canAdd(node, path[depth] as PathSegment)) return { op: 'add', length: depth + 1 };
  return { op: 'replace', length: depth };
}

function isPrefix(prefix: readonly PathSegment[], length: number, path: readonly PathSegment[], pathLength: number): boolean {
  if (length > pathLength) return false;
  for (let i = 0; i < length; i++) if (prefix[i] !== path[i]) return false;
  return true;
}

/**
 * The JSON Patch from `original` to `fixed`, when `fixed` differs from it only at `paths` (what the fixes set,
 * copy on write). One operation per path, at the shallowest point the original lacks, taking its value from
 * `fixed`; a path under another one's operation is already covered by it. Walks only those paths, instead of
 * diffing the two objects.
 */
export function patchForPaths(original: JsonObject, fixed: JsonObject, paths: ReadonlyArray<readonly PathSegment[]>): PatchOperation[] {
  const targets: Array<{ op: 'add' | 'replace'; path: readonly PathSegment[]; length: number }> = [];
  for (const path of paths) {
    if (path.length === 0) continue;
    const { op, length } = target(original, path);
    if (targets.some((other) => isPrefix(other.path, other.length, path, length))) continue;
    // A deeper target found earlier is covered by this one.
    for (let i = targets.length - 1; i >= 0; i--) {
      const other = targets[i]!;
      if (isPrefix(path, length, other.path, other.length)) targets.splice(i, 1);
    }
    targets.push({ op, path, length });
  }
  const operations: PatchOperation[] = [];
  for (const { op, path, length } of targets) {
    const value = valueAt(fixed, path, length);
    if (op === 'replace' && jsonEqual(valueAt(original, path, length), value)) continue;
    operations.push({ op, path: pointer(path.slice(0, length)), value });
  }
  return operations;
}
