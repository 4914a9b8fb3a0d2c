/** Shutdown behind a load balancer, TLS connection floods, and secrets that must not leak. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import t from 'tap';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';
import { startTestServer } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { makeCertificates } from './helpers/tls.js';

const CLI = join(TEST_DIR, '..', 'dist', 'cli.js');
const CREATE = readFileSync(join(FIXTURES, 'admission', 'deploy-create-noprobes--deployment-create.json'), 'utf8');

function post(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', () => resolve(-1));
    });
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

async function serve(certificates: { cert: string; key: string }, delaySeconds: number): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port=0', '--tls-cert', certificates.cert, '--tls-key', certificates.key, '--shutdown-delay', String(delaySeconds)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
      const match = /serving https:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', () => reject(new Error(stderr)));
  });
  return { child, port, exited };
}

t.test('two replicas behind a round-robin proxy: SIGTERM one under load, zero failed requests', async (t) => {
  const certificates = makeCertificates();
  const [one, two] = await Promise.all([serve(certificates, 2), serve(certificates, 2)]);
  const proxy = await startTcpProxy([one!.port, two!.port]);
  t.teardown(async () => {
    two!.child.kill('SIGKILL');
    await proxy.close();
  });
  const agent = new Agent({ keepAlive: true, ca: certificates.ca, maxSockets: 8 });
  const counts = { ok: 0, failed: 0 };
  let stop = false;
  const loops = Array.from({ length: 8 }, async () => {
    while (!stop) {
      if ((await post(agent, proxy.port, CREATE)) === 200) counts.ok++;
      else counts.failed++;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 700));
  t.ok((proxy.connectionsTo.get(one!.port) ?? 0) > 0 && (proxy.connectionsTo.get(two!.port) ?? 0) > 0, 'both replicas served');
  one!.child.kill('SIGTERM');
  const code = await one!.exited;
  await new Promise((resolve) => setTimeout(resolve, 300));
  stop = true;
  await Promise.all(loops);
  agent.destroy();
  t.equal(code, 0, 'the terminated replica exited 0');
  t.equal(counts.failed, 0, `no failed request (${counts.ok} served)`);
  t.ok(counts.ok > 100);
});

t.test('a flood of new TLS connections does not stop keep-alive clients', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  let flooding = true;
  let handshakes = 0;
  const flood = Array.from({ length: 20 }, async () => {
    while (flooding) {
      await new Promise<void>((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, ca: server.certificates.ca, servername: 'localhost' }, () => {
          handshakes++;
          socket.destroy();
          resolve();
        });
        socket.on('error', () => resolve());
      });
    }
  });
  const latencies: number[] = [];
  let failed = 0;
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    const result = await server.post('/validate', CREATE);
    latencies.push(performance.now() - started);
    if (result.status !== 200) failed++;
  }
  flooding = false;
  await Promise.all(flood);
  latencies.sort((a, b) => a - b);
  t.equal(failed, 0, 'every keep-alive request answered');
  t.ok(handshakes > 50, `the flood ran (${handshakes} handshakes)`);
  t.ok((latencies[Math.floor(latencies.length * 0.99)] ?? 0) < 2000, 'keep-alive requests were not starved');
});

t.test('secret-looking values in env and annotations reach no log, metric label or error message', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const secrets = ['AKIAIOSFODNN7EXAMPLE', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'p@ss-w0rd-in-annotation', 's3cr3t-do-not-log'];
  const review = JSON.parse(CREATE);
  const object = review.request.object;
  object.metadata.annotations = { 'example.com/db-password': secrets[2], 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ token: secrets[1] }) };
  object.spec.template.spec.containers[0].env.push({ name: 'AWS_ACCESS_KEY_ID', value: secrets[0] }, { name: 'GITHUB_TOKEN', value: secrets[1] });
  object.spec.template.metadata.annotations = { 'vault.example.com/secret': secrets[2] };
  const body = JSON.stringify(review);
  const answers: string[] = [];
  for (const path of ['/validate', '/mutate', '/validate/warn', '/mutate/warn', '/validate/audit']) answers.push((await server.post(path, body)).body);
  // Broken variants: truncated right after a secret, a bad type next to one, the wrong content type.
  const first = secrets[0]!;
  answers.push((await server.post('/validate', body.slice(0, body.indexOf(first) + first.length + 5))).body);
  const badType = structuredClone(review);
  badType.request.operation = secrets[0];
  answers.push((await server.post('/validate', JSON.stringify(badType))).body);
  answers.push((await server.post('/validate', body, { 'content-type': `text/${secrets[2]}` })).body);
  const metrics = await fetch(server.metricsUrl as string).then((response) => response.text());
  for (const secret of secrets) {
    for (const line of server.logs) t.notMatch(line, secret, 'not in logs');
    t.notMatch(metrics, secret, 'not in metrics');
    for (const answer of answers) t.notMatch(answer, secret, 'not in answers or error messages');
  }
  t.ok(server.logs.length >= 8, 'the requests were logged');
});
