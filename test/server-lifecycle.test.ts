/** The real `rollsafe serve` process: graceful SIGTERM under load, rotation under load, policy reload. */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';
import { startTestServer } from './helpers/server.js';
import { makeCertificates } from './helpers/tls.js';

const CLI = join(TEST_DIR, '..', 'dist', 'cli.js');
const CREATE = readFileSync(join(FIXTURES, 'admission', 'deploy-create-noprobes--deployment-create.json'), 'utf8');

function post(agent: Agent, port: number, body: string, path = '/validate'): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', () => resolve(-1));
    });
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

/** Sends requests on `connections` keep-alive connections until `until()` is true; counts outcomes. */
async function load(agent: Agent, port: number, connections: number, until: () => boolean) {
  const counts = { ok: 0, failed: 0 };
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (!until()) {
        const status = await post(agent, port, CREATE);
        if (status === 200) counts.ok++;
        else counts.failed++;
      }
    }),
  );
  return counts;
}

t.test('SIGTERM with requests in flight: readyz fails at once, every request succeeds, exit 0', async (t) => {
  const certificates = makeCertificates();
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port=0', '--tls-cert', certificates.cert, '--tls-key', certificates.key, '--shutdown-delay', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let logs = '';
  child.stdout.on('data', (chunk) => (logs += chunk)); // an unread pipe would fill and block the server
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /serving https:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const agent = new Agent({ keepAlive: true, ca: certificates.ca, maxSockets: 8 });
  let stop = false;
  const running = load(agent, port, 8, () => stop);
  await new Promise((resolve) => setTimeout(resolve, 500));
  child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const readyz = await new Promise<number>((resolve) => {
    request({ host: '127.0.0.1', port, path: '/readyz', agent }, (response) => { response.resume(); resolve(response.statusCode ?? 0); }).end();
  });
  t.equal(readyz, 503, 'readyz fails during the shutdown delay');
  // Like the apiserver once the endpoint is gone: keep sending a little longer, then stop.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  stop = true;
  const counts = await running;
  agent.destroy();
  t.equal(counts.failed, 0, 'no failed request');
  t.ok(counts.ok > 20, `requests served (${counts.ok})`);
  t.equal(await exited, 0, 'exit code 0');
  t.match(logs, /"event":"shutdown".*"msg":"stopped"/, 'logged the stop');
});

t.test('certificate rotation while requests flow: zero failures', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  // Rotate to a certificate from a new CA that the client also trusts (as with cert-manager's CA bundle).
  const next = makeCertificates();
  const agent = new Agent({ keepAlive: true, ca: [server.certificates.ca, next.ca], maxSockets: 4 });
  let stop = false;
  const running = load(agent, port, 4, () => stop);
  await new Promise((resolve) => setTimeout(resolve, 300));
  copyFileSync(next.key, server.certificates.key);
  copyFileSync(next.cert, server.certificates.cert);
  await new Promise((resolve) => setTimeout(resolve, 600));
  // New connections must see the new certificate while old keep-alive ones keep working.
  const fresh = new Agent({ keepAlive: false, ca: next.ca });
  t.equal(await post(fresh, port, CREATE), 200, 'a new connection trusting only the new CA succeeds');
  stop = true;
  const counts = await running;
  agent.destroy();
  t.equal(counts.failed, 0);
  t.ok(counts.ok > 10);
});

t.test('policy reload: valid file applies, invalid file keeps the previous policy', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-policy-'));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\n');
  const server = await startTestServer({ policyFile });
  t.teardown(() => server.close());
  t.equal((await server.post('/validate', CREATE)).json().response.allowed, false, 'default policy denies');
  const metricsText = () => fetch(server.metricsUrl as string).then((response) => response.text());
  // The watcher polls the file: wait for the reload it counts, not for a guess at its interval (a loaded
  // machine is slower than any fixed sleep).
  const reloaded = async (result: 'ok' | 'failed') => {
    for (let tries = 0; tries < 200 && !new RegExp(`rollsafe_policy_reloads_total\\{result="${result}"\\} [1-9]`).test(await metricsText()); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  writeFileSync(policyFile, 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nnamespaces:\n  - names: ["*"]\n    mode: warn\n');
  await reloaded('ok');
  t.equal((await server.post('/validate', CREATE)).json().response.allowed, true, 'the new policy (warn everywhere) applies');
  writeFileSync(policyFile, 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules: {nope: {}}\n');
  await reloaded('failed');
  t.equal((await server.post('/validate', CREATE)).json().response.allowed, true, 'the invalid file is ignored');
  const metrics = await metricsText();
  t.match(metrics, /rollsafe_policy_reloads_total\{result="ok"\} 1/);
  t.match(metrics, /rollsafe_policy_reloads_total\{result="failed"\} [1-9]/);
  t.ok(server.logs.some((line) => /policy reload failed/.test(line) && /rules: unknown key \\"nope\\"/.test(line)), 'the error is logged with its path');
});

t.test('slow clients: a request whose headers never finish is timed out, others are served', async (t) => {
  const server = await startTestServer({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  const { connect: tlsConnect } = await import('node:tls');
  const closed = new Promise<{ ms: number; answer: string }>((resolve) => {
    const started = Date.now();
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: server.certificates.ca, ALPNProtocols: ['http/1.1'] }, () => {
      socket.write('POST /validate HTTP/1.1\r\nHost: x\r\n'); // never finishes the headers
    });
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk)); // read, or the server's close is never seen
    socket.on('close', () => resolve({ ms: Date.now() - started, answer }));
    socket.on('error', () => {});
  });
  t.equal((await server.post('/validate', CREATE)).status, 200, 'others are served meanwhile');
  const { ms, answer } = await closed;
  t.ok(ms < 5000, `the slow connection was closed (${ms} ms)`);
  t.match(answer, /^HTTP\/1\.1 408/, 'with 408 Request Timeout');
});

t.test('shutdown ends idle keep-alive connections, as the apiserver leaves them: HTTP/2 gets GOAWAY, idle HTTP/1.1 is closed', async (t) => {
  const { connect } = await import('node:http2');
  const server = await startTestServer();
  const url = new URL(server.url);
  // An HTTP/2 session with one finished request, then idle: what kube-apiserver holds for 90 s.
  const session = connect(server.url, { ca: server.certificates.ca });
  const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
  const status = await new Promise<number>((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
    stream.on('response', (headers) => resolve(Number(headers[':status'])));
    stream.on('error', reject);
    stream.resume();
    stream.end(CREATE);
  });
  t.equal(status, 200);
  // An idle HTTP/1.1 keep-alive connection (ALPN http/1.1), after one request.
  const agent = new Agent({ keepAlive: true, ca: server.certificates.ca, maxSockets: 1, ALPNProtocols: ['http/1.1'] } as never);
  t.equal(await post(agent, Number(url.port), CREATE), 200);
  const [socket] = Object.values((agent as unknown as { freeSockets: Record<string, import('node:net').Socket[]> }).freeSockets).flat();
  t.ok(socket, 'the HTTP/1.1 connection is kept alive, idle');
  const socketClosed = new Promise<void>((resolve) => socket!.once('close', () => resolve()));
  // Neither client closes anything: shutdown must, or it waits for their idle timeouts (past tap's timeout).
  await server.shutdown();
  await goaway;
  await socketClosed;
  t.pass('shutdown completed with both clients still holding their connections');
  session.destroy();
  agent.destroy();
});

t.test('shutdown spares an HTTP/1.1 request whose headers are only partly received', async (t) => {
  const { connect: tlsConnect } = await import('node:tls');
  const server = await startTestServer();
  const url = new URL(server.url);
  const socket = tlsConnect({ host: '127.0.0.1', port: Number(url.port), ca: server.certificates.ca, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // Half the headers, then shutdown begins.
  socket.write(`POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const stopped = server.shutdown();
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.write(`content-length: ${Buffer.byteLength(CREATE)}\r\n\r\n${CREATE}`);
  await closed;
  t.match(answer, /^HTTP\/1\.1 200 OK/, 'the request that had begun was answered');
  t.match(answer, /connection: close/i);
  await stopped;
  t.pass('shutdown completed');
});
