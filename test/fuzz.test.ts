/**
 * Property-based fuzzing (fast-check) of /validate and /mutate over real TLS, and of audit/fix over random
 * YAML. Invariants: no crash, no 5xx for malformed input, every answer a well-formed AdmissionReview echoing a
 * readable uid, every patch applies and keeps a schema-valid object valid, fix is idempotent, no prototype
 * pollution. FUZZ_RUNS raises the count (default 2000 per property).
 */
import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { FIXTURES } from './helpers/fixtures.js';
import { auditText } from './helpers/fixtures.js';
import { schemaError } from './helpers/k8s-schema.js';
import { startTestServer } from './helpers/server.js';
import { requestKind, workload } from './helpers/arbitrary-workload.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);
const server = await startTestServer();
t.teardown(() => server.close());

const base = JSON.parse(readFileSync(join(FIXTURES, 'admission', 'deploy-create-noprobes--deployment-create.json'), 'utf8'));
const good = JSON.parse(readFileSync(join(FIXTURES, 'admission', 'deploy-create-good--deployment-create.json'), 'utf8'));
const prototypeKeys = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');
const PROTOTYPE = prototypeKeys();

function checkReply(t: unknown, status: number, body: string, uid: string | undefined): any {
  if (status >= 500) throw new Error(`HTTP ${status}: ${body.slice(0, 200)}`);
  const reply = JSON.parse(body);
  if (reply.kind !== 'AdmissionReview' || !/^admission\.k8s\.io\/v1(beta1)?$/.test(reply.apiVersion)) throw new Error(`not a review: ${body.slice(0, 200)}`);
  if (typeof reply.response?.allowed !== 'boolean') throw new Error('no allowed');
  if (uid !== undefined && reply.response.uid !== uid) throw new Error(`uid not echoed: ${reply.response.uid} vs ${uid}`);
  if (/\bat \S+ \(|node_modules/.test(body)) throw new Error('stack trace in reply');
  void t;
  return reply;
}

t.test('random workloads: well-formed answers; patches apply and keep valid objects valid; re-invocation is stable', async (t) => {
  await fc.assert(
    fc.asyncProperty(workload, fc.constantFrom('/validate', '/mutate'), fc.constantFrom('CREATE', 'UPDATE'), async (object, path, operation) => {
      const uid = 'fuzz-1';
      const review = { ...base, request: { ...base.request, ...requestKind(object), uid, operation, object, oldObject: operation === 'UPDATE' ? good.request.object : null } };
      const body = JSON.stringify(review);
      const result = await server.post(path, body);
      const reply = checkReply(t, result.status, result.body, uid);
      // Prototype keys are refused on purpose (400); anything else well formed is judged (200).
      if (result.status === 400 && /"(__proto__|constructor)"/.test(body)) return;
      if (result.status !== 200) throw new Error(`HTTP ${result.status} for a well-formed review: ${result.body.slice(0, 200)}`);
      if (!reply.response.patch) return;
      const patch = JSON.parse(Buffer.from(reply.response.patch, 'base64').toString());
      const patched = jsonPatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
      if (schemaError(object as never) === undefined && schemaError(patched) !== undefined) throw new Error(`patch broke a valid object: ${schemaError(patched)}`);
      const again = await server.post('/mutate', JSON.stringify({ ...review, request: { ...review.request, object: patched } }));
      if (JSON.parse(again.body).response.patch) throw new Error('second pass patched again');
    }),
    { numRuns: RUNS },
  );
  t.equal(prototypeKeys(), PROTOTYPE, 'Object.prototype untouched');
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

t.test('corrupted bodies: never 5xx, always an AdmissionReview, uid echoed when readable', async (t) => {
  const text = JSON.stringify(base);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.nat(text.length).map((cut) => text.slice(0, cut)),
        fc.tuple(fc.nat(text.length - 1), fc.string({ minLength: 1, maxLength: 3 })).map(([at, junk]) => text.slice(0, at) + junk + text.slice(at + 1)),
        fc.string({ maxLength: 200 }),
        fc.jsonValue().map((value) => JSON.stringify(value)),
        fc.nat(400).map((depth) => `${'['.repeat(depth * 20)}${']'.repeat(depth * 20)}`),
        fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${'u'.repeat(100_000)}"}}`),
      ),
      fc.constantFrom('/validate', '/mutate'),
      async (body, path) => {
        const result = await server.post(path, body);
        if (![200, 400, 413].includes(result.status)) throw new Error(`status ${result.status}`);
        checkReply(t, result.status, result.body, undefined);
      },
    ),
    { numRuns: RUNS },
  );
  t.equal(prototypeKeys(), PROTOTYPE, 'Object.prototype untouched');
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
  t.equal((await server.get('/healthz')).status, 200, 'still serving');
});

t.test('wrong types at every level of a real review', async (t) => {
  const paths: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    if (path.length > 0) paths.push(path);
    if (value && typeof value === 'object' && path.length < 8) for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
  };
  walk(base, []);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 }), async (path, replacement) => {
      const review = structuredClone(base);
      let node: any = review;
      for (const key of path.slice(0, -1)) node = node[key];
      node[path[path.length - 1] as string] = replacement;
      const uid = typeof review.request?.uid === 'string' && review.request.uid !== '' ? review.request.uid : undefined;
      const result = await server.post('/mutate', JSON.stringify(review));
      if (![200, 400].includes(result.status)) throw new Error(`status ${result.status} for ${path.join('.')}`);
      const reply = checkReply(t, result.status, result.body, result.status === 200 ? uid : undefined);
      if (reply.response.patch) jsonPatch.applyPatch(structuredClone(review.request.object), JSON.parse(Buffer.from(reply.response.patch, 'base64').toString()), true, false);
    }),
    { numRuns: RUNS },
  );
  t.pass('every case answered');
});

t.test('random YAML through audit and fix: no throw, fix idempotent, no prototype pollution', async (t) => {
  const document = fc.oneof(workload.map((w) => stringify(w)), fc.string({ maxLength: 300 }), fc.jsonValue({ maxDepth: 4 }).map((value) => stringify(value)));
  await fc.assert(
    fc.property(fc.array(document, { minLength: 1, maxLength: 4 }), (docs) => {
      const text = docs.join('\n---\n');
      const { audit, fixed } = auditText(text);
      if (fixed !== text) {
        const again = auditText(fixed);
        if (again.fixed !== fixed) throw new Error('fix is not idempotent');
        if (again.audit.inputErrors.length > audit.inputErrors.length) throw new Error('fix made the file unreadable');
      }
    }),
    { numRuns: RUNS },
  );
  t.equal(prototypeKeys(), PROTOTYPE);
});
