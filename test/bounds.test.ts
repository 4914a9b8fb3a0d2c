/**
 * Everything a request brings that outlives it is bounded: request fields by Kubernetes' own limits (longer
 * ones get a 400 AdmissionReview), metric labels from closed or capped sets, the effective-policy cache with
 * eviction, namespace globs matched without backtracking. The flood test runs the real `rollsafe serve`
 * process and reads its own memory and /metrics.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { cachedNamespaces, effectivePolicy, MAX_CACHED_NAMESPACES } from '../src/policy/effective.js';
import { globMatcher } from '../src/policy/glob.js';
import { defaultPolicy, parsePolicy } from '../src/policy/load.js';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';
import { startTestServer } from './helpers/server.js';
import { makeCertificates } from './helpers/tls.js';

type Obj = Record<string, any>;
const BASE: Obj = JSON.parse(readFileSync(join(FIXTURES, 'admission', 'deploy-create-noprobes--deployment-create.json'), 'utf8'));

function review(change: (request: Obj) => void): string {
  const copy = structuredClone(BASE);
  change(copy['request']);
  return JSON.stringify(copy);
}

t.test('request fields longer or other than Kubernetes allows: a 400 AdmissionReview naming the field', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const cases: Array<[string, (request: Obj) => void, RegExp]> = [
    // apiextensions validation.go validateNamesSpec: a kind, lowercased, is a DNS-1035 label (63 characters).
    ['a 64-character kind', (r) => (r['kind'].kind = `D${'e'.repeat(63)}`), /request\.kind\.kind: must NOT have more than 63 characters/],
    ['a 150 kB kind', (r) => (r['kind'].kind = 'K'.repeat(150_000)), /request\.kind\.kind: must NOT have more than 63 characters/],
    ['a kind that is no identifier', (r) => (r['kind'].kind = 'Deploy ment'), /request\.kind\.kind: must match pattern/],
    // apimachinery validation generic.go: ValidateNamespaceName = NameIsDNSLabel (63 characters).
    ['a 64-character namespace', (r) => (r['namespace'] = 'n'.repeat(64)), /request\.namespace: must NOT have more than 63 characters/],
    ['a 50 kB namespace', (r) => (r['namespace'] = 'n'.repeat(50_000)), /request\.namespace: must NOT have more than 63 characters/],
    ['a namespace that is no DNS label', (r) => (r['namespace'] = 'Shop_Prod'), /request\.namespace: must match pattern/],
    ['no request.namespace and a long one on the object', (r) => {
      delete r['namespace'];
      r['object'].metadata.namespace = 'x'.repeat(100);
    }, /request\.object\.metadata\.namespace must be a DNS-1123 label/],
    ['a group that is no DNS subdomain', (r) => (r['kind'].group = 'apps..example'), /request\.kind\.group: must match pattern/],
    ['a 300-character name', (r) => (r['name'] = 'a'.repeat(300)), /request\.name: must NOT have more than 253 characters/],
  ];
  for (const [what, change, message] of cases) {
    const result = await server.post('/validate', review(change));
    t.equal(result.status, 400, what);
    t.match(result.json(), { kind: 'AdmissionReview', response: { uid: BASE['request'].uid, allowed: false, status: { code: 400, message } } }, what);
  }
  const fine = await server.post('/validate', review((r) => (r['namespace'] = 'n'.repeat(63))));
  t.equal(fine.status, 200, 'a 63-character namespace is fine');
});

t.test('metric labels: kinds from a closed set, namespaces capped, the rest counted as "other"', async (t) => {
  const server = await startTestServer({ maxNamespaceLabels: 3 });
  t.teardown(() => server.close());
  for (const kind of ['Widget', 'Gadget', 'Deployment']) {
    await server.post('/validate', review((r) => (r['kind'] = { group: 'example.com', version: 'v1', kind })));
  }
  for (let index = 0; index < 6; index++) await server.post('/validate', review((r) => (r['namespace'] = `team-${index}`)));
  const metrics = await fetch(server.metricsUrl as string).then((response) => response.text());
  t.match(metrics, /rollsafe_admission_requests_total\{endpoint="validate",kind="other",operation="CREATE",decision="skipped"\} 2/);
  t.notMatch(metrics, /kind="(Widget|Gadget)"/);
  const namespaces = [...metrics.matchAll(/rollsafe_findings_total\{rule="[^"]+",namespace="([^"]+)"/g)].map((match) => match[1]);
  t.same([...new Set(namespaces)].sort(), ['other', 'team-0', 'team-1', 'team-2'], 'three namespaces by name, the rest as other');
});

t.test('the effective-policy cache keeps at most MAX_CACHED_NAMESPACES namespaces', async (t) => {
  const policy = defaultPolicy();
  for (let index = 0; index < MAX_CACHED_NAMESPACES + 500; index++) effectivePolicy(policy, `ns-${index}`, index % 2 ? 'warn' : undefined);
  t.equal(cachedNamespaces(policy), MAX_CACHED_NAMESPACES);
  t.equal(effectivePolicy(policy, 'ns-0').rules['readiness-probe'].mode, 'enforce', 'an evicted namespace resolves again, the same');
});

t.test('namespace globs: the same answers as a regular expression, and no backtracking on long names', async (t) => {
  const reference = (glob: string, name: string) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(name);
  const alphabet = fc.constantFrom('a', 'b', '-');
  const glob = fc.array(fc.oneof(alphabet, fc.constant('*'), fc.constant('?')), { maxLength: 8 }).map((parts) => parts.join(''));
  const name = fc.array(alphabet, { maxLength: 12 }).map((parts) => parts.join(''));
  fc.assert(fc.property(glob, name, (pattern, candidate) => globMatcher(pattern)(candidate) === reference(pattern, candidate)), { numRuns: 20_000 });
  // The backtracking case: `^.*-.*-.*-prod$` against thousands of dashes took seconds per name.
  const adversarial = '-'.repeat(30_000);
  const match = globMatcher('*-*-*-*-*-*-*-*-prod');
  for (let round = 0; round < 50; round++) t.equal(match(adversarial), false);
  t.equal(match(`${adversarial}prod`), true);
  const policy = parsePolicy(JSON.stringify({ apiVersion: 'rollsafe.dev/v1alpha1', kind: 'Policy', namespaces: [{ names: ['*-*-*-prod'], mode: 'warn' }] }), 'test');
  t.equal(effectivePolicy(policy, 'a-b-c-prod').rules['readiness-probe'].mode, 'warn');
  t.equal(effectivePolicy(policy, 'a'.repeat(3000)).rules['readiness-probe'].mode, 'enforce');
});

t.test('a flood of hostile and of many-namespace requests leaves the real server\'s memory and /metrics bounded', async (t) => {
  const certificates = makeCertificates();
  const child = spawn(process.execPath, [join(TEST_DIR, '..', 'dist', 'cli.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port=0', '--tls-cert', certificates.cert, '--tls-key', certificates.key, '--shutdown-delay', '0', '--log-level', 'silent'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  const [port, metricsUrl] = await new Promise<[number, string]>((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const serving = /serving https:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      const metrics = /metrics (http:\/\/\S+)/.exec(stderr);
      if (serving && metrics) resolve([Number(serving[1]), metrics[1]!]);
    });
    child.on('exit', () => reject(new Error(`exited: ${stderr}`)));
  });
  const agent = new Agent({ keepAlive: true, ca: certificates.ca, maxSockets: 8 });
  t.teardown(() => agent.destroy());
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  const scrape = async () => {
    const text = await fetch(metricsUrl).then((response) => response.text());
    return { text, rss: Number(/^rollsafe_process_resident_memory_bytes (\d+)/m.exec(text)?.[1]) };
  };
  const statuses = new Set<number>();
  const inBatches = async (count: number, body: (index: number) => string) => {
    statuses.clear();
    for (let start = 0; start < count; start += 8) {
      for (const status of await Promise.all(Array.from({ length: Math.min(8, count - start) }, (_, offset) => post(body(start + offset))))) statuses.add(status);
    }
  };
  // Bounded means a second flood adds (almost) nothing to what the first one left: with labels and caches
  // keyed by request values, each flood of this size added over 100 MB and megabytes of /metrics.
  const flood = async (round: number) => {
    await inBatches(1200, (index) => review((r) => {
      r['kind'].kind = `K${round}x${index}${'k'.repeat(150_000)}`;
      r['namespace'] = `n${round}x${index}${'n'.repeat(50_000)}`;
    }));
    t.same([...statuses], [400], `round ${round}: every hostile request refused`);
    // Valid requests from many distinct namespaces (each with findings): capped label values.
    await inBatches(3000, (index) => review((r) => (r['namespace'] = `team-${round}-${index}`)));
    t.same([...statuses], [200], `round ${round}: valid requests served`);
    return scrape();
  };
  const first = await flood(1);
  const second = await flood(2);
  const after = await flood(3);
  // A leak grows with every flood; garbage not yet collected at one scrape (a busy machine) shows in one step
  // only: the smaller of the two steps is what the floods kept.
  const mb = (bytes: number) => bytes / 1024 / 1024;
  const growthMb = Math.min(mb(second.rss - first.rss), mb(after.rss - second.rss));
  t.ok(growthMb < 25, `RSS grew ${growthMb.toFixed(1)} MB over a further flood (${mb(first.rss).toFixed(0)} → ${mb(second.rss).toFixed(0)} → ${mb(after.rss).toFixed(0)} MB)`);
  // The series fed by requests (the process metrics gain labels of their own, e.g. a new kind of GC).
  const series = (text: string) => text.split('\n').filter((line) => /^rollsafe_(admission|findings|patches|evaluation)/.test(line)).map((line) => line.slice(0, line.lastIndexOf(' ')));
  t.same(series(after.text), series(first.text), 'later floods added no time series');
  t.ok(after.text.length < 2 * 1024 * 1024, `/metrics is ${(after.text.length / 1024).toFixed(0)} kB`);
  t.notMatch(after.text, /kkkkkkkk|nnnnnnnn/, 'no request value became a label');
  const namespaces = new Set([...after.text.matchAll(/namespace="([^"]+)"/g)].map((match) => match[1]));
  t.ok(namespaces.size <= 2001, `${namespaces.size} namespace label values`);
});
