/**
 * Every AdmissionReview captured from kube-apiserver v1.32 (test/fixtures/admission, copied from
 * ../shared/fixtures/admission) is sent to /validate and /mutate over real TLS. Whole responses are compared
 * with test/fixtures/admission-expected/<name>.json (patches decoded for review; UPDATE_GOLDEN=1 writes
 * missing ones). Every patch must apply, leave no fixable finding, validate, and not patch again.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import t from 'tap';
import { evaluate } from '../src/engine/engine.js';
import { defaultPolicy } from '../src/policy/load.js';
import { FIXTURES } from './helpers/fixtures.js';
import { schemaError } from './helpers/k8s-schema.js';
import { startTestServer } from './helpers/server.js';

const DIR = join(FIXTURES, 'admission');
const EXPECTED = join(FIXTURES, 'admission-expected');
const names = readdirSync(DIR).filter((name) => name.endsWith('.json')).sort();

function decoded(body: any): any {
  const response = { ...body.response };
  if (response.patch) response.patch = JSON.parse(Buffer.from(response.patch, 'base64').toString());
  return { ...body, response };
}

const server = await startTestServer();
t.teardown(() => server.close());

t.ok(names.length >= 25, `${names.length} captured requests`);

for (const name of names) {
  t.test(name, async (t) => {
    const text = readFileSync(join(DIR, name), 'utf8');
    const review = JSON.parse(text);
    const answers: Record<string, any> = {};
    for (const endpoint of ['validate', 'mutate']) {
      const result = await server.post(`/${endpoint}`, text);
      t.equal(result.status, 200, `${endpoint}: HTTP 200`);
      const body = result.json();
      t.equal(body.apiVersion, review.apiVersion, 'echoes apiVersion');
      t.equal(body.kind, 'AdmissionReview');
      t.equal(body.response.uid, review.request.uid, 'echoes uid');
      answers[endpoint] = { status: result.status, body: decoded(body) };
    }
    const goldenFile = join(EXPECTED, name);
    if (!existsSync(goldenFile) && process.env['UPDATE_GOLDEN']) writeFileSync(goldenFile, `${JSON.stringify(answers, null, 2)}\n`);
    t.same(answers, JSON.parse(readFileSync(goldenFile, 'utf8')), 'whole responses match the golden file');

    const patch = answers['mutate'].body.response.patch;
    if (!patch) return;
    t.equal(answers['mutate'].body.response.patchType, 'JSONPatch');
    const patchedObject = fastJsonPatch.applyPatch(structuredClone(review.request.object), patch, true, false).newDocument;
    const evaluation = evaluate(patchedObject, defaultPolicy(), { namespace: review.request.namespace });
    const leftover = evaluation?.findings.filter((finding) => finding.fix && !finding.exempt) ?? [];
    if (review.request.operation === 'CREATE') t.same(leftover, [], 'the patched object passes every fixable rule');
    t.equal(schemaError(patchedObject), undefined, 'the patched object validates against the Kubernetes schema');
    const again = await server.post('/mutate', JSON.stringify({ ...review, request: { ...review.request, object: patchedObject } }));
    t.notOk(again.json().response.patch, 're-invocation on the patched object yields no patch');
  });
}
