/** managedFields are cut from an admission body's text before JSON.parse: exactly what a full parse gives, minus them. */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { withoutManagedFields } from '../src/admission/review-json.js';
import { FIXTURES } from './helpers/fixtures.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);

/** What the cut should leave: every managedFields member whose value is null or an array holding no array. */
function expectedWithout(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expectedWithout);
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'managedFields' && (child === null || (Array.isArray(child) && !holdsArray(child)))) continue;
    Object.defineProperty(result, key, { value: expectedWithout(child), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

function holdsArray(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some((child) => Array.isArray(child) || holdsArray(child));
}

const cut = (text: string) => JSON.parse(withoutManagedFields(text));

t.test('managedFields members go wherever they sit in an object, with their comma', async (t) => {
  const entries = [{ manager: 'kubectl', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
  for (const object of [
    { managedFields: entries },
    { managedFields: entries, name: 'web' },
    { name: 'web', managedFields: entries },
    { name: 'web', managedFields: entries, uid: 'u' },
    { metadata: { managedFields: entries }, spec: { template: { metadata: { managedFields: null } } } },
  ]) {
    for (const indent of [0, 2, '\t']) {
      const text = JSON.stringify(object, null, indent);
      t.same(cut(text), expectedWithout(object), `${JSON.stringify(object).slice(0, 60)} indent ${JSON.stringify(indent)}`);
      t.notMatch(withoutManagedFields(text), /managedFields/);
    }
  }
  t.equal(withoutManagedFields('{ "a" : 1 ,\n "managedFields" :\n [ ] \n}'), '{ "a" : 1  \n}');
});

t.test('anything that is not a managedFields member stays as it is', async (t) => {
  const unchanged = [
    // The name inside strings: an annotation holding JSON, a value, a key ending in the name.
    JSON.stringify({ annotations: { applied: JSON.stringify({ metadata: { managedFields: [] } }) } }),
    JSON.stringify({ note: 'see "managedFields": [1]', xmanagedFields: [] }),
    JSON.stringify(['managedFields', { key: '{"managedFields":[]}' }]),
    // Values we do not skip: nested arrays, objects, scalars.
    JSON.stringify({ managedFields: [[1]] }),
    JSON.stringify({ managedFields: [{ a: [] }] }),
    JSON.stringify({ managedFields: { a: 1 } }),
    JSON.stringify({ managedFields: 'x' }),
    JSON.stringify({ managedFields: 3 }),
    // Broken text: JSON.parse must see it as the sender wrote it.
    '{"managedFields":[{"a":"b"}',
    '{"managedFields":["unterminated]}',
    '{"managedFields"',
    '"managedFields"',
  ];
  for (const text of unchanged) t.equal(withoutManagedFields(text), text, text.slice(0, 60));
});

t.test('brackets and escaped quotes inside managedFields strings do not end the array early', async (t) => {
  const object = { metadata: { managedFields: [{ 'k:{"name":"]"}': {}, 'v:"[x]\\"': {}, time: 'a\\' }], name: 'web' } };
  t.same(cut(JSON.stringify(object)), { metadata: { name: 'web' } });
});

t.test('a huge flat array is cut in linear time, or left to JSON.parse', async (t) => {
  const huge = `{"managedFields":[${'"abc",'.repeat(1_000_000)}"z"],"name":"web"}`;
  t.same(cut(huge), { name: 'web' });
  const unclosed = `{"managedFields":[${'"abc",'.repeat(1_000_000)}`;
  t.equal(withoutManagedFields(unclosed), unclosed);
});

t.test('every captured admission request parses to itself minus managedFields', async (t) => {
  const dir = join(FIXTURES, 'admission');
  const files = ['deploy-create-good--deployment-create.json', 'deploy-update-image--deployment-update.json', 'boutique--deployment-create-adservice.json'];
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    const full = JSON.parse(text);
    t.ok(text.includes('"managedFields"'), `${file} has managedFields`);
    t.same(cut(text), expectedWithout(full), `${file} pretty`);
    t.same(cut(JSON.stringify(full)), expectedWithout(full), `${file} compact`);
  }
});

t.test('property: the cut equals dropping the members from the parsed value', async (t) => {
  // JSON values where objects often hold a managedFields member, of every kind of value.
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), tie('array'), tie('object')),
    array: fc.array(tie('tree'), { maxLength: 4 }),
    object: fc
      .tuple(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('managedFields', 'x"managedFields', 'managedFields"')), tie('tree'), { maxKeys: 4 }), fc.option(tie('tree')), fc.boolean())
      .map(([members, managed, first]) => {
        if (managed === null) return members;
        return first ? { managedFields: managed, ...members } : { ...members, managedFields: managed };
      }),
  }));
  fc.assert(
    fc.property(tree, fc.constantFrom(0, 1, '  ', '\n'), (value, indent) => {
      const text = JSON.stringify(value, null, indent);
      return isDeepStrictEqual(JSON.parse(withoutManagedFields(text)), expectedWithout(JSON.parse(text)));
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} random values`);
});
