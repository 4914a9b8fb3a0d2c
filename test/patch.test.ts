/**
 * The mutating webhook's JSON Patch is built from the paths the fixes set, not by diffing two objects: applied
 * to the original it must give exactly the fixed object, whatever the paths (overlapping, missing parents,
 * scalars on the way, keys that need escaping).
 */
import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { patchForPaths, pointer } from '../src/engine/patch.js';
import { deepClone, setPathCopying, shallowCopy, type JsonObject, type PathSegment } from '../src/util/object.js';
import { FIXTURES } from './helpers/fixtures.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);
const deployment = (): JsonObject =>
  JSON.parse(readFileSync(join(FIXTURES, 'admission', 'boutique--deployment-create-adservice.json'), 'utf8')).request.object;

function fix(original: JsonObject, sets: Array<{ path: PathSegment[]; value: unknown }>): JsonObject {
  const fixed = shallowCopy(original);
  for (const { path, value } of sets) setPathCopying(fixed, original, path, deepClone(value));
  return fixed;
}

function applied(original: JsonObject, sets: Array<{ path: PathSegment[]; value: unknown }>) {
  const fixed = fix(original, sets);
  const patch = patchForPaths(original, fixed, sets.map((set) => set.path));
  const result = jsonPatch.applyPatch(deepClone(original), deepClone(patch), true, false).newDocument;
  return { fixed, patch, result };
}

t.test('a missing parent is added whole, an existing value replaced', async (t) => {
  const original = deployment();
  const { patch, result, fixed } = applied(original, [
    { path: ['spec', 'template', 'spec', 'containers', 0, 'lifecycle', 'preStop', 'sleep', 'seconds'], value: 10 },
    { path: ['spec', 'template', 'spec', 'terminationGracePeriodSeconds'], value: 30 },
  ]);
  t.same(patch, [
    { op: 'add', path: '/spec/template/spec/containers/0/lifecycle', value: { preStop: { sleep: { seconds: 10 } } } },
    { op: 'replace', path: '/spec/template/spec/terminationGracePeriodSeconds', value: 30 },
  ]);
  t.same(result, fixed);
});

t.test('paths under one missing parent become one operation; an unchanged value none', async (t) => {
  const original = deployment();
  const { patch, result, fixed } = applied(original, [
    { path: ['spec', 'strategy', 'rollingUpdate', 'maxSurge'], value: 1 },
    { path: ['spec', 'x', 'a'], value: 1 },
    { path: ['spec', 'x', 'b'], value: 2 },
    { path: ['spec', 'x'], value: { c: 3 } },
    { path: ['spec', 'replicas'], value: original['spec'] && (original['spec'] as JsonObject)['replicas'] },
  ]);
  t.same(patch.map((op) => [op.op, op.path]), [
    ['replace', '/spec/strategy/rollingUpdate/maxSurge'],
    ['add', '/spec/x'],
  ]);
  t.same(result, fixed);
});

t.test('a scalar on the way is replaced by the object the fix built; keys are escaped', async (t) => {
  const original: JsonObject = { metadata: { annotations: { 'a/b~c': 'x' } }, spec: { lifecycle: null, n: 1 } };
  const { patch, result, fixed } = applied(original, [
    { path: ['spec', 'lifecycle', 'preStop'], value: { sleep: { seconds: 5 } } },
    { path: ['spec', 'n', 'deeper'], value: true },
    { path: ['metadata', 'annotations', 'a/b~c'], value: 'y' },
  ]);
  t.same(patch.map((op) => [op.op, op.path]), [
    ['replace', '/spec/lifecycle'],
    ['replace', '/spec/n'],
    ['replace', '/metadata/annotations/a~1b~0c'],
  ]);
  t.same(result, fixed);
  t.equal(pointer(['a/b', '~', 0]), '/a~1b/~0/0');
});

t.test('an array where an object belongs (malformed input) is replaced, never given a named member', async (t) => {
  const original: JsonObject = { spec: { containers: [{ name: 'a', lifecycle: [] }], list: [1] } };
  const { patch, result, fixed } = applied(original, [
    { path: ['spec', 'containers', 0, 'lifecycle', 'preStop', 'sleep', 'seconds'], value: 5 },
    { path: ['spec', 'list', 1], value: 2 },
  ]);
  t.same(patch, [
    { op: 'replace', path: '/spec/containers/0/lifecycle', value: { preStop: { sleep: { seconds: 5 } } } },
    { op: 'add', path: '/spec/list/1', value: 2 },
  ]);
  t.same(result, fixed);
});

t.test('setPathCopying copies what is still the original, reuses what it made, keeps a "__proto__" key', async (t) => {
  const original = JSON.parse('{"spec":{"a":{"x":1},"b":{"y":2},"list":[{"k":1}]},"other":{"z":3},"odd":{"__proto__":{"p":1}}}') as JsonObject;
  const before = JSON.stringify(original);
  const fixed = shallowCopy(original);
  setPathCopying(fixed, original, ['spec', 'a', 'new'], 1);
  const specAfterFirst = fixed['spec'];
  setPathCopying(fixed, original, ['spec', 'list', 0, 'k'], 2);
  setPathCopying(fixed, original, ['odd', 'q'], 1);
  t.equal(JSON.stringify(original), before, 'original untouched');
  t.equal(fixed['spec'], specAfterFirst, 'a copy made by an earlier call is reused');
  const spec = fixed['spec'] as JsonObject;
  const originalSpec = original['spec'] as JsonObject;
  t.not(spec, originalSpec);
  t.equal(spec['b'], originalSpec['b'], 'untouched siblings shared');
  t.equal(fixed['other'], original['other']);
  t.same(fixed, { spec: { a: { x: 1, new: 1 }, b: { y: 2 }, list: [{ k: 2 }] }, other: { z: 3 }, odd: JSON.parse('{"__proto__":{"p":1},"q":1}') });
  const odd = fixed['odd'] as JsonObject;
  t.ok(Object.prototype.hasOwnProperty.call(odd, '__proto__'), '"__proto__" stays an own key');
  t.equal(Object.getPrototypeOf(odd), Object.prototype, 'and never becomes the prototype');
});

t.test('property: the patch applied to the original gives the fixed object', async (t) => {
  const original = deployment();
  // Paths through what exists, what does not, and what is a scalar; values of any JSON kind.
  const segment = fc.oneof(
    fc.constantFrom<PathSegment>('spec', 'template', 'metadata', 'containers', 'lifecycle', 'preStop', 'replicas', 'strategy', 'labels', 'a/b', '~x'),
    fc.constantFrom<PathSegment>(0),
  );
  const knownPath = fc.constantFrom<PathSegment[]>(
    ['spec', 'template', 'spec', 'containers', 0, 'lifecycle', 'preStop', 'sleep', 'seconds'],
    ['spec', 'template', 'spec', 'terminationGracePeriodSeconds'],
    ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'],
    ['spec', 'strategy'],
    ['spec', 'replicas'],
    ['spec', 'template', 'spec', 'containers', 0, 'readinessProbe', 'httpGet', 'port'],
  );
  const path = fc.oneof(knownPath, fc.array(segment, { minLength: 1, maxLength: 6 }).filter((p) => typeof p[0] === 'string'));
  const sets = fc.array(fc.record({ path, value: fc.jsonValue({ maxDepth: 2 }) }), { minLength: 1, maxLength: 5 });
  fc.assert(
    fc.property(sets, (list) => {
      // Fixes index arrays up to their end, never past it (that would leave holes).
      const valid = list.filter(({ path: p }) => {
        let node: unknown = original;
        for (const key of p) {
          if (Array.isArray(node) && typeof key === 'number' && key > node.length) return false;
          node = typeof node === 'object' && node !== null ? (node as Record<PathSegment, unknown>)[key] : undefined;
        }
        return true;
      });
      if (valid.length === 0) return true;
      const { result, fixed } = applied(original, valid);
      return isDeepStrictEqual(JSON.parse(JSON.stringify(result)), JSON.parse(JSON.stringify(fixed)));
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} random fixes`);
});
