/**
 * rollsafe audit --cluster against faults a real kube-apiserver cannot be made to show on demand: pages
 * shorter than `limit`, 500s, answers that never come, stall or are cut mid-body, non-list bodies. The fake
 * (test/helpers/fake-apiserver.ts) serves objects a real apiserver returned. Everything else about the
 * cluster audit runs against the real apiserver in cluster-audit.test.ts.
 */
import t, { type Test } from 'tap';
import { startFakeApiServer, recordedCluster, type Fault } from './helpers/fake-apiserver.js';
import { runCli } from './helpers/run-cli.js';

async function withFault(t: Test, path: string, fault: Fault) {
  const api = await startFakeApiServer(recordedCluster(), { faults: [{ path, fault }] });
  t.teardown(() => api.close());
  return (...args: string[]) => runCli(['audit', '--cluster', '--kubeconfig', api.kubeconfig, '--request-timeout', '1', ...args]);
}

t.test('pages shorter than the limit: continue tokens followed to the last page', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  const run = await runCli(['audit', '--cluster', '--kubeconfig', api.kubeconfig, '-A', '--output', 'json']);
  const report = JSON.parse(run.stdout);
  t.ok(report.results.some((r: any) => r.namespace === 'infra' && r.name === 'loadgenerator'), 'the last page of infra deployments was read');
  t.equal(report.results.filter((r: any) => r.namespace === 'infra').length, 7);
  // Namespaces (5 in pages of 3) and infra deployments (7 in pages of 3) need continue tokens.
  t.ok(api.requests.includes('GET /api/v1/namespaces?limit=250&continue=3'));
  t.ok(api.requests.includes('GET /apis/apps/v1/namespaces/infra/deployments?limit=250&continue=6'));
});

t.test("a 500 on one namespace's list: that namespace is an error, the others are audited, exit 2", async (t) => {
  const audit = await withFault(t, '/apis/apps/v1/namespaces/infra/', 'status500');
  const run = await audit('-n', 'shop', '-n', 'infra', '--output', 'json');
  t.equal(run.code, 2);
  const report = JSON.parse(run.stdout);
  t.match(report.inputErrors, [{ file: 'namespace/infra', message: /cannot list: GET \/apis\/apps\/v1\/namespaces\/infra\/deployments failed with HTTP 500: Internal error occurred: etcdserver: request timed out/ }]);
  t.ok(report.results.some((r: any) => r.namespace === 'shop'), 'shop still audited');
  t.match(run.stderr, /namespace\/infra: cannot list: .*HTTP 500/);
});

t.test('a body that is no list (a proxy error page): that namespace is an error', async (t) => {
  const audit = await withFault(t, '/apis/apps/v1/namespaces/shop/statefulsets', 'garbage');
  const run = await audit('-n', 'shop', '--output', 'json');
  t.equal(run.code, 2);
  t.match(JSON.parse(run.stdout).inputErrors, [{ file: 'namespace/shop', message: /answered HTTP 200 with something that is not a list/ }]);
});

t.test('the namespace list itself fails: one line, exit 2', async (t) => {
  const audit = await withFault(t, '/api/v1/namespaces', 'status500');
  const run = await audit('-A');
  t.equal(run.code, 2);
  t.match(run.stderr, /^rollsafe: cannot list namespaces: GET \/api\/v1\/namespaces failed with HTTP 500/);
});

for (const fault of ['hang', 'stall'] as const) {
  t.test(`an answer that ${fault === 'hang' ? 'never comes' : 'stalls mid-body'}: --request-timeout ends it with one line`, async (t) => {
    const audit = await withFault(t, '/apis/apps/v1/namespaces/shop/deployments', fault);
    const run = await audit('-n', 'shop');
    t.equal(run.code, 2);
    t.match(run.stderr, /^rollsafe: the API server https:\/\/127\.0\.0\.1:\d+ did not answer GET \/apis\/apps\/v1\/namespaces\/shop\/deployments within 1 s \(--request-timeout\)\n$/);
    t.equal(run.stdout, '', 'no half report');
  });
}

t.test('an answer cut mid-body: one line, exit 2, never a stack', async (t) => {
  const audit = await withFault(t, '/apis/apps/v1/namespaces/shop/deployments', 'cut');
  const run = await audit('-n', 'shop');
  t.equal(run.code, 2);
  t.match(run.stderr, /^rollsafe: the API server https:\/\/127\.0\.0\.1:\d+ closed the connection in the middle of the answer to GET \/apis\/apps\/v1\/namespaces\/shop\/deployments\n$/);
});

t.test('--request-timeout is checked', async (t) => {
  for (const value of ['0', '-1', 'soon', '99999']) {
    const run = await runCli(['audit', '--cluster', `--request-timeout=${value}`]);
    t.equal(run.code, 2, value);
    t.match(run.stderr, /--request-timeout must be a number of seconds/);
  }
  t.equal((await runCli(['audit', 'x.yaml', '--request-timeout', '5'])).code, 2, '--request-timeout needs --cluster');
});

t.test('an API the cluster does not serve (404 on a context list): audited without it, one note', async (t) => {
  const audit = await withFault(t, '/apis/autoscaling/v2/', 'status404');
  const run = await audit('-n', 'shop', '-n', 'legacy', '--output', 'json');
  t.equal(run.code, 1, 'findings, not an input error');
  const report = JSON.parse(run.stdout);
  t.same(report.inputErrors, []);
  t.ok(report.results.some((r: any) => r.namespace === 'shop' && r.name === 'web'));
  t.equal(run.stderr.match(/HorizontalPodAutoscaler is not served by this cluster \(404\)/g)?.length, 1, 'said once');
});

t.test('a server that repeats its continue token: that namespace is an error, no endless paging', async (t) => {
  const audit = await withFault(t, '/apis/apps/v1/namespaces/shop/deployments', 'same-continue');
  const run = await audit('-n', 'shop', '--output', 'json');
  t.equal(run.code, 2);
  t.match(JSON.parse(run.stdout).inputErrors, [{ file: 'namespace/shop', message: /answered the same continue token twice/ }]);
});

t.test('a request Node refuses to send (a newline in a token, a server of another scheme): one line, exit 2, no hang', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-kubeconfig-'));
  const cases: Array<[string, string]> = [
    ['https://127.0.0.1:1', 'token: "abc\\ndef"'],
    ['tcp://127.0.0.1:1', 'token: abc'],
  ];
  for (const [index, [server, user]] of cases.entries()) {
    const file = join(dir, `config-${index}`);
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {${user}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
    const run = await runCli(['audit', '--cluster', '--kubeconfig', file, '-n', 'shop', '--request-timeout', '300']);
    t.equal(run.code, 2, server);
    t.match(run.stderr, /^rollsafe: (cannot send a request to|cannot reach) the API server .*\n$/, server);
  }
});

t.test('--cluster without any kubeconfig: one line saying where one is looked for', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { TEST_DIR } = await import('./helpers/fixtures.js');
  const home = mkdtempSync(join(tmpdir(), 'rollsafe-home-'));
  const run = spawnSync(process.execPath, [join(TEST_DIR, '..', 'dist', 'cli.js'), 'audit', '--cluster'], { encoding: 'utf8', env: { PATH: process.env['PATH'], HOME: home } });
  t.equal(run.status, 2);
  t.equal(run.stderr, 'rollsafe: no kubeconfig found: give --kubeconfig FILE, set $KUBECONFIG, or create ~/.kube/config (in a pod, the service account is used)\n');
});

t.test('a 500 on an optional list (IngressClasses, BackendConfigs): a warning, and the namespace is still judged', async (t) => {
  for (const path of ['/apis/networking.k8s.io/v1/ingressclasses', '/apis/cloud.google.com/v1/namespaces/shop/backendconfigs']) {
    const audit = await withFault(t, path, 'status500');
    const run = await audit('-n', 'shop', '--output', 'json');
    t.not(run.code, 2, `${path}: not an input error`);
    t.match(run.stderr, /cannot list .* \(GET .* failed with HTTP 500.*\); audited without them/, path);
    t.ok(JSON.parse(run.stdout).results.some((r: any) => r.namespace === 'shop'), 'shop audited');
  }
});
