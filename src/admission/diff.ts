import fastJsonPatch, { type Operation } from 'fast-json-patch';
import type { JsonObject } from '../util/object.js';

const { compare } = fastJsonPatch;

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * compare(original, fixed) limited to the top-level fields the fix replaced: the engine shares untouched
 * fields by reference, so large unchanged ones (metadata.managedFields) are not walked on every request.
 * The result is the same patch compare() would give for the whole objects.
 */
export function diffFixed(original: JsonObject, fixed: JsonObject): Operation[] {
  const operations: Operation[] = [];
  for (const key of Object.keys(fixed)) {
    const before = original[key];
    const after = fixed[key];
    if (before === after) continue;
    const prefix = `/${escape(key)}`;
    if (before === undefined) {
      operations.push({ op: 'add', path: prefix, value: after });
      continue;
    }
    for (const operation of compare({ value: before }, { value: after })) {
      operations.push({ ...operation, path: prefix + operation.path.slice('/value'.length) } as Operation);
    }
  }
  return operations;
}
