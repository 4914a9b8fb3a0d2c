import { connect as tlsConnect } from 'node:tls';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import { FIXTURES } from './helpers/fixtures.js';
import { startTestServer } from './helpers/server.js';
import { makeCertificates } from './helpers/tls.js';

const CREATE = readFileSync(join(FIXTURES, 'admission', 'deploy-create-noprobes--deployment-create.json'), 'utf8');
const review = JSON.parse(CREATE);
const UID = review.request.uid;
const withRequest = (changes: object) => JSON.stringify({ ...review, request: { ...review.request, ...changes } });

const server = await startTestServer();
t.teardown(() => server.close());

t.test('bad requests: each an AdmissionReview with allowed false, and the server keeps serving', async (t) => {
  const cases: Array<{ name: string; body: string | Buffer; headers?: Record<string, string>; status: number; uid: string; message: RegExp; path?: string }> = [
    { name: 'wrong content type', body: CREATE, headers: { 'content-type': 'text/plain' }, status: 400, uid: UID, message: /content-type must be application\/json/ },
    { name: 'no content type', body: CREATE, headers: {}, status: 400, uid: UID, message: /content-type/ },
    { name: 'empty body', body: '', status: 400, uid: '', message: /body is empty/ },
    { name: 'invalid JSON', body: `${CREATE.slice(0, 200)}`, status: 400, uid: UID, message: /not valid JSON/ },
    { name: 'JSON array', body: '[1,2]', status: 400, uid: '', message: /not an AdmissionReview/ },
    { name: 'wrong apiVersion', body: JSON.stringify({ ...review, apiVersion: 'admission.k8s.io/v2' }), status: 400, uid: UID, message: /apiVersion/ },
    { name: 'wrong kind', body: JSON.stringify({ ...review, kind: 'Review' }), status: 400, uid: UID, message: /kind/ },
    { name: 'missing request', body: JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview' }), status: 400, uid: '', message: /missing "request"/ },
    { name: 'missing uid', body: withRequest({ uid: undefined }), status: 400, uid: '', message: /missing "uid"/ },
    { name: 'null object on CREATE', body: withRequest({ object: null }), status: 400, uid: UID, message: /request.object is required for CREATE/ },
    { name: 'object is a string', body: withRequest({ object: 'x' }), status: 400, uid: UID, message: /request.object/ },
    { name: 'unknown operation', body: withRequest({ operation: 'PATCH' }), status: 400, uid: UID, message: /operation/ },
    { name: '__proto__ key', body: CREATE.replace(/"metadata": ?\{/, '"metadata":{"__proto__":{"polluted":true},'), status: 400, uid: UID, message: /__proto__/ },
    { name: 'constructor.prototype key', body: CREATE.replace(/"metadata": ?\{/, '"metadata":{"constructor":{"prototype":{"x":1}},'), status: 400, uid: UID, message: /constructor/ },
    { name: 'body over 8 MiB', body: JSON.stringify({ ...review, padding: 'x'.repeat(9 * 1024 * 1024) }), status: 413, uid: '', message: /larger than/ },
    { name: 'unknown mode in the path', body: CREATE, path: '/validate/strict', status: 400, uid: '', message: /unknown mode "strict"/ },
    { name: 'unknown namespace fact in the path', body: CREATE, path: '/validate/enforce/ns/gates', status: 400, uid: '', message: /unknown namespace fact "gates" in the path; expected one of elbv2-gates, no-elbv2-gates/ },
    { name: 'a fact that names an Object.prototype member', body: CREATE, path: '/validate/ns/constructor', status: 400, uid: '', message: /unknown namespace fact "constructor"/ },
    { name: 'uid of the wrong type', body: withRequest({ uid: 42 }), status: 400, uid: '', message: /uid/ },
  ];
  t.ok(cases.length >= 15);
  for (const testCase of cases) {
    for (const endpoint of ['/validate', '/mutate']) {
      const path = testCase.path ?? endpoint;
      const result = await server.post(path, testCase.body, testCase.headers ?? { 'content-type': 'application/json' });
      t.equal(result.status, testCase.status, `${testCase.name} ${path}: status`);
      const body = result.json();
      t.match(body, { apiVersion: /^admission\.k8s\.io\//, kind: 'AdmissionReview', response: { uid: testCase.uid, allowed: false, status: { code: testCase.status, message: testCase.message } } }, `${testCase.name} ${path}: body`);
      t.notMatch(result.body, /at \S+ \(|node_modules|"stack"/, 'no stack trace');
    }
  }
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution');
  const good = await server.post('/validate', CREATE);
  t.equal(good.status, 200, 'the next good request is served');
  t.equal(good.json().response.uid, UID);
});

t.test('v1beta1 reviews are answered in v1beta1', async (t) => {
  const result = await server.post('/validate', JSON.stringify({ ...review, apiVersion: 'admission.k8s.io/v1beta1' }));
  t.equal(result.json().apiVersion, 'admission.k8s.io/v1beta1');
});

t.test('namespace mode from the path', async (t) => {
  const warn = (await server.post('/validate/warn', CREATE)).json().response;
  t.equal(warn.allowed, true);
  t.ok(warn.warnings.length >= 3, 'one warning per finding');
  t.match(warn.warnings, [/^readiness-probe: /]);
  const warnMutate = (await server.post('/mutate/warn', CREATE)).json().response;
  t.notOk(warnMutate.patch, 'warn mode does not patch');
  t.match(warnMutate.warnings, [/^would fix prestop-delay: /]);
  const audit = (await server.post('/validate/audit', CREATE)).json().response;
  t.same(audit, { uid: UID, allowed: true }, 'audit: allowed silently');
  const off = (await server.post('/mutate/off', CREATE)).json().response;
  t.same(off, { uid: UID, allowed: true });
  const metrics = await server.app.inject({ method: 'GET', url: '/healthz' });
  t.equal(metrics.statusCode, 200);
});

t.test('dry-run requests get the same answer', async (t) => {
  const wet = (await server.post('/mutate', CREATE)).json().response;
  const dry = (await server.post('/mutate', withRequest({ dryRun: true }))).json().response;
  t.same(dry, wet);
});

t.test('health, readiness, metrics', async (t) => {
  t.equal((await server.get('/healthz')).status, 200);
  t.equal((await server.get('/readyz')).status, 200);
  t.equal((await server.get('/nope')).status, 404);
  const metrics = await fetch(server.metricsUrl as string).then((response) => response.text());
  t.match(metrics, /rollsafe_admission_requests_total\{endpoint="validate",kind="Deployment",operation="CREATE",decision="denied"\} \d+/);
  t.match(metrics, /rollsafe_admission_requests_total\{endpoint="validate",kind="",operation="",decision="invalid"\} \d+/);
  t.match(metrics, /rollsafe_findings_total\{rule="readiness-probe",namespace="default",mode="enforce"\} \d+/);
  t.match(metrics, /rollsafe_findings_total\{rule="prestop-delay",namespace="default",mode="audit"\} \d+/, 'audit-mode findings are counted');
  t.match(metrics, /rollsafe_patches_total\{rule="prestop-delay"\} \d+/);
  t.match(metrics, /rollsafe_admission_duration_seconds_bucket\{le="0.005",endpoint="mutate"\} \d+/);
});

t.test('one JSON log line per decision, and no object content in logs', async (t) => {
  const secret = 's3cr3t-do-not-log';
  t.match(CREATE, secret, 'the fixture carries a secret-looking env value');
  const before = server.logs.length;
  await server.post('/validate', CREATE);
  await server.post('/mutate', CREATE);
  await server.post('/validate', CREATE.slice(0, CREATE.indexOf(secret) + 30));
  await server.post('/validate', CREATE, { 'content-type': 'text/yaml' });
  const lines = server.logs.slice(before).map((line) => JSON.parse(line));
  t.equal(lines.length, 4);
  t.match(lines[0], { uid: UID, endpoint: 'validate', kind: 'Deployment', namespace: 'default', name: 'web', operation: 'CREATE', dryRun: false, decision: 'denied', rules: Array, durationMs: Number });
  t.match(lines[1], { uid: UID, endpoint: 'mutate', decision: 'patched', patched: ['prestop-delay'] });
  t.match(lines[2], { decision: 'invalid', status: 400 });
  for (const line of server.logs) t.notMatch(line, secret);
  t.notMatch(server.logs.join('\n'), /DATABASE_PASSWORD|nginx:1\.27/, 'no env names or images either');
});

t.test('HTTP/2 is offered alongside HTTP/1.1, TLS 1.2+ only', async (t) => {
  const url = new URL(server.url);
  const session = http2Connect(server.url, { ca: server.certificates.ca });
  const body = await new Promise<string>((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
    let text = '';
    stream.on('data', (chunk) => (text += chunk));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
    stream.end(CREATE);
  });
  session.close();
  t.equal(JSON.parse(body).response.uid, UID);
  const legacy = await new Promise<string>((resolve) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: server.certificates.ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    socket.on('secureConnect', () => { resolve('connected'); socket.destroy(); });
    socket.on('error', (error) => resolve(error.message));
  });
  t.not(legacy, 'connected', 'TLS 1.1 is refused');
  t.equal(server.app.server.keepAliveTimeout, 95_000, 'keep-alive outlasts the apiserver idle timeout (90 s)');
});

t.test('concurrent requests over HTTP/2 streams and HTTP/1.1 connections each get their own answer and status', async (t) => {
  // HTTP/2 streams of one session arrive together, interleaved with HTTP/1.1 requests: answers must not cross.
  const kinds = ['denied', 'patched', 'invalid', 'allowed'] as const;
  const cases = Array.from({ length: 24 }, (_, index) => {
    const kind = kinds[index % kinds.length]!;
    const uid = `concurrent-${index}`;
    const spec = { ...review.request.object.spec, replicas: 2 + index };
    const request = { ...review.request, uid, object: { ...review.request.object, spec } };
    const body =
      kind === 'invalid'
        ? `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${uid}",`
        : JSON.stringify({ ...review, request: kind === 'allowed' ? { ...request, operation: 'DELETE' } : request });
    return { kind, uid, body, path: kind === 'patched' ? '/mutate' : '/validate' };
  });
  const session = http2Connect(server.url, { ca: server.certificates.ca });
  t.teardown(() => session.close());
  const overHttp2 = (path: string, body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
      let status = 0;
      let text = '';
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (chunk) => (text += chunk));
      stream.on('end', () => resolve({ status, body: text }));
      stream.on('error', reject);
      stream.end(body);
    });
  const results = await Promise.all(
    cases.map((item, index) => (index % 2 === 0 ? overHttp2(item.path, item.body) : server.post(item.path, item.body))),
  );
  for (const [index, item] of cases.entries()) {
    const result = results[index]!;
    const { response } = JSON.parse(result.body);
    t.equal(response.uid, item.uid, `${item.uid} answered with its own uid`);
    t.equal(result.status, item.kind === 'invalid' ? 400 : 200, `${item.uid} status`);
    t.equal(response.allowed, item.kind === 'patched' || item.kind === 'allowed', `${item.uid} allowed`);
    if (item.kind === 'patched') t.match(Buffer.from(response.patch, 'base64').toString(), 'preStop', `${item.uid} patch`);
    if (item.kind === 'denied') t.match(response.status.message, 'rollsafe denied Deployment web', `${item.uid} reason`);
  }
});

t.test("accepted connections have Nagle's algorithm off", async (t) => {
  // The HTTP/2 server (our HTTP/1.1 fallback included) leaves Nagle on by default: a small write can then wait
  // for the client's delayed ACK (40 ms).
  t.equal((server.app.server as unknown as { noDelay?: boolean }).noDelay, true, 'the server asks for TCP_NODELAY');
  const url = new URL(server.url);
  const accepted = new Promise<object>((resolve) => server.app.server.once('connection', resolve));
  const client = tlsConnect({ host: url.hostname, port: Number(url.port), ca: server.certificates.ca });
  t.teardown(() => client.destroy());
  const socket = await accepted;
  // Node keeps the socket's setting under an internal symbol (Node 20); net.Server sets it on every accepted socket.
  const flag = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'kSetNoDelay');
  t.ok(flag, 'Node exposes the socket setting');
  t.equal((socket as Record<symbol, unknown>)[flag!], true, 'the accepted socket has TCP_NODELAY');
});

t.test('HTTP/1.1 keep-alive connections stay open past Node default idle timeout', async (t) => {
  const first = await server.post('/validate', CREATE);
  t.equal(first.status, 200);
  await new Promise((resolve) => setTimeout(resolve, 5500));
  const result = await server.post('/validate', CREATE);
  t.equal(result.status, 200);
  t.ok(result.reusedSocket, 'the second request reused the idle connection');
});

t.test('while draining, HTTP/1.1 answers ask the client to reconnect elsewhere (Connection: close)', async (t) => {
  const draining = await startTestServer({ shutdownDelayMs: 1500 });
  const agent = new Agent({ keepAlive: true, ca: draining.certificates.ca, maxSockets: 1 });
  const url = new URL(draining.url);
  const connectionHeader = (path: string, method = 'POST') =>
    new Promise<string | undefined>((resolve, reject) => {
      const request = httpsRequest({ host: url.hostname, port: url.port, path, method, agent, headers: { 'content-type': 'application/json' } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.headers.connection));
      });
      request.on('error', reject);
      request.end(method === 'POST' ? CREATE : undefined);
    });
  t.equal(await connectionHeader('/validate'), 'keep-alive', 'serving: the connection is kept');
  const stopped = draining.shutdown();
  t.equal(await connectionHeader('/validate'), 'close', 'draining: admission answers close the connection');
  t.equal(await connectionHeader('/readyz', 'GET'), 'close', 'draining: so do the other routes');
  agent.destroy();
  await stopped;
  await draining.close();
});

t.test('certificate and policy reload without restart; bad files keep the old ones', async (t) => {
  const local = await startTestServer();
  t.teardown(() => local.close());
  const fingerprint = () =>
    new Promise<string>((resolve, reject) => {
      const url = new URL(local.url);
      const socket = tlsConnect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
        resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
        socket.destroy();
      });
      socket.on('error', reject);
    });
  const before = await fingerprint();
  const rotated = makeCertificates();
  copyFileSync(rotated.key, local.certificates.key);
  copyFileSync(join(rotated.dir, 'tls.crt'), local.certificates.cert);
  await new Promise((resolve) => setTimeout(resolve, 600));
  const after = await fingerprint();
  t.not(after, before, 'new handshakes get the new certificate');
  writeFileSync(local.certificates.cert, 'not a certificate');
  await new Promise((resolve) => setTimeout(resolve, 600));
  t.equal(await fingerprint(), after, 'a broken file keeps the previous certificate');
  const metrics = await fetch(local.metricsUrl as string).then((response) => response.text());
  t.match(metrics, /rollsafe_certificate_reloads_total\{result="ok"\} [1-9]/);
  t.match(metrics, /rollsafe_certificate_reloads_total\{result="failed"\} [1-9]/);
});

t.test('a rule that throws never blocks: allowed unchecked, with a warning, a log line and a metric; never a stack', async (t) => {
  const { RULES } = await import('../src/rules/index.js');
  const rule = RULES.find((candidate) => candidate.id === 'probes-identical');
  const original = rule!.check;
  rule!.check = () => {
    throw new TypeError("Cannot read properties of undefined (reading 'secret')");
  };
  const logsBefore = server.logs.length;
  try {
    for (const endpoint of ['validate', 'mutate']) {
      const result = await server.post(`/${endpoint}`, CREATE);
      t.equal(result.status, 200);
      const response = result.json().response;
      // The apiserver enforces allowed: false whatever failurePolicy says: our own bug must not block.
      t.match(response, { uid: UID, allowed: true, warnings: [/could not check Deployment .*probes-identical.*allowed unchecked/] }, endpoint);
      t.notOk(response.patch, `${endpoint}: no patch from a half-evaluated object`);
      t.notMatch(result.body, /reading 'secret'|at \S+ \(/);
    }
  } finally {
    rule!.check = original;
  }
  const lines = server.logs.slice(logsBefore).map((line) => JSON.parse(line));
  t.match(lines.filter((line) => line.msg === 'admission').map((line) => line.decision), ['error', 'error']);
  t.ok(lines.some((line) => line.level === 50 && line.failedRules?.[0] === 'probes-identical'), 'an error line names the rule');
  t.notMatch(server.logs.slice(logsBefore).join('\n'), /secret/, 'the error message (which may quote the object) is not logged');
  const metrics = await fetch(server.metricsUrl as string).then((response) => response.text());
  t.match(metrics, /rollsafe_evaluation_errors_total\{endpoint="validate",rule="probes-identical"\} 1/);
  t.match(metrics, /rollsafe_evaluation_errors_total\{endpoint="mutate",rule="probes-identical"\} 1/);
  t.equal((await server.post('/validate', CREATE)).json().response.status.code, 403, 'served normally afterwards');
});

t.test('RSA certificates work too', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-rsa-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const rsa = await startTestServer({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
  t.teardown(() => rsa.close());
  const { Agent, request } = await import('node:https');
  const agent = new Agent({ ca: readFileSync(join(dir, 'tls.crt')) });
  const url = new URL(rsa.url);
  const status = await new Promise<number>((resolve, reject) => {
    request({ host: url.hostname, port: url.port, path: '/healthz', agent }, (response) => { response.resume(); resolve(response.statusCode ?? 0); }).on('error', reject).end();
  });
  t.equal(status, 200);
});

t.test('the namespace label in the path: a workload behind a declared ALB in IP mode is judged by it', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', annotations: { 'rollsafe.dev/load-balancer': 'awsAlbIp' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 330,
          containers: [{ name: 'web', image: 'web', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 'http' } }, lifecycle: { preStop: { sleep: { seconds: 30 } } } }],
        },
      },
    },
  };
  const review = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, namespace: 'shop', operation: 'CREATE', object, userInfo: { username: 'someone' } } });
  const answer = async (path: string) => (await server.post(path, review, { 'content-type': 'application/json' })).json().response;
  t.match(await answer('/validate/enforce/ns/no-elbv2-gates'), { allowed: false, status: { message: /\[lb-readiness-gate\] .*namespace shop is not labelled elbv2\.k8s\.aws\/pod-readiness-gate-inject=enabled/ } });
  t.match(await answer('/validate/ns/elbv2-gates'), { allowed: true });
  t.match(await answer('/validate/enforce'), { allowed: true }, 'a path without the fact says nothing: the rule judges nothing');
});
