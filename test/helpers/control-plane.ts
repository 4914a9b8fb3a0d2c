/**
 * A throwaway Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kwok (simulated nodes), built by test/cluster-bins/build.sh. Random ports, one temporary
 * folder, an admin kubeconfig; stop() ends every process and removes the folder. No container runs: kwok
 * marks scheduled pods Running and Ready and deletes terminating ones at once, so Deployments really roll.
 *
 * Tests normally share one per test run through sharedControlPlane() in cluster.ts.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TEST_DIR } from './fixtures.js';
import { TIMED_STAGES_FILE } from './kwok-timed-stages.js';

export interface ControlPlaneInfo {
  /** The temporary folder: certificates, data, logs/<component>.log. */
  dir: string;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** The folder with kubectl and the other binaries. */
  binDir: string;
  /** PEM of the CA that signed the apiserver's certificate (and signs client certificates). */
  caFile: string;
  /** Folder with ca.key, for client certificates of test users (see userKubeconfig in cluster.ts). */
  pkiDir: string;
  nodes: string[];
  kubernetesVersion: string;
}

export interface ControlPlane extends ControlPlaneInfo {
  stop(): Promise<void>;
}

const NODE_COUNT = 3;

/**
 * The binaries' folders, from build.sh --check (which never builds; npm test's pretest does). argoRollouts
 * holds rollouts-controller and, in crds/, the CRDs of its release (see argo-rollouts.ts).
 */
export function binaryDirs(): { kube: string; kwok: string; helm: string; argoRollouts: string } {
  const script = join(TEST_DIR, 'cluster-bins', 'build.sh');
  let output: string;
  try {
    output = execFileSync('bash', [script, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(String((error as { stderr?: string }).stderr || error).trim());
  }
  const [kube, kwok, helm, argoRollouts] = output.trim().split('\n');
  if (!kube || !kwok || !helm || !argoRollouts) throw new Error(`build.sh --check printed ${JSON.stringify(output)}`);
  return { kube, kwok, helm, argoRollouts };
}

/**
 * A free port below Linux's ephemeral range (32768-60999), where the kernel never hands out ports for
 * outgoing connections or listen(0): a port found free here is not taken by the parallel test files'
 * servers and clients between this check and the component's bind.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, the apiserver's serving certificate, an admin client certificate and the service-account key pair. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Writes NAME.key and NAME.crt in the PKI folder, signed by its CA. */
export function signCertificate(dir: string, name: string, subject: string, extensions: string): void {
  openssl(dir, 'req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

export function makePki(dir: string): void {
  mkdirSync(dir, { recursive: true });
  openssl(dir, 'req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=rollsafe-test-ca');
  const sign = (name: string, subject: string, extensions: string) => signCertificate(dir, name, subject, extensions);
  sign('apiserver', '/CN=kube-apiserver', 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
  sign('admin', '/O=system:masters/CN=rollsafe-test-admin', 'extendedKeyUsage=clientAuth\n');
  // The identities the bootstrap RBAC roles expect, as kubeadm sets them up.
  sign('controller-manager', '/CN=system:kube-controller-manager', 'extendedKeyUsage=clientAuth\n');
  sign('scheduler', '/CN=system:kube-scheduler', 'extendedKeyUsage=clientAuth\n');
  openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'sa.key');
  openssl(dir, 'pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
}

export function kubeconfigFor(server: string, pki: string, user = 'admin', namespace = 'default'): string {
  const b64 = (file: string) => readFileSync(join(pki, file)).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "${server}", certificate-authority-data: ${b64('ca.crt')}}
users:
- name: admin
  user: {client-certificate-data: ${b64(`${user}.crt`)}, client-key-data: ${b64(`${user}.key`)}}
contexts:
- name: test
  context: {cluster: test, user: admin, namespace: ${namespace}}
current-context: test
`;
}

/** GET url; resolves the status and body, or undefined while the server is not answering. */
function probe(url: string, pki?: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const options = pki ? { ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')), timeout: 2000 } : { timeout: 2000 };
    const request = (url.startsWith('https') ? httpsRequest : httpRequest)(url, options, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve(undefined));
    });
    request.on('error', () => resolve(undefined));
    request.on('timeout', () => request.destroy());
    request.end();
  });
}

export interface ControlPlaneOptions {
  /** kwok's simulated nodes (the tests), or none: the e2e run brings a real kubelet. */
  nodes?: 'kwok' | 'none';
}

/**
 * Starts the control plane, again with other ports when a component found its port taken after freePort saw it
 * free (seldom, and not ours to prevent: "bind: address already in use").
 */
export async function startControlPlane(dir: string, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(dir, options);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(dir: string, options: ControlPlaneOptions): Promise<ControlPlane> {
  const withKwok = (options.nodes ?? 'kwok') === 'kwok';
  const bins = binaryDirs();
  const logs = join(dir, 'logs');
  const pki = join(dir, 'pki');
  mkdirSync(logs, { recursive: true });
  makePki(pki);
  const processes: Array<{ name: string; child: ChildProcess }> = [];
  let stopping = false;
  // Proxy variables would send the apiserver's webhook calls away from loopback.
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_PROXY: '*' };

  const start = (name: string, binary: string, args: string[]) => {
    const log = createWriteStream(join(logs, `${name}.log`));
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.on('exit', (code, signal) => {
      if (!stopping) log.write(`\n[control-plane] ${name} exited unexpectedly: code ${code}, signal ${signal}\n`);
    });
    processes.push({ name, child });
    return child;
  };
  const stop = async () => {
    stopping = true;
    for (const { child } of [...processes].reverse()) if (child.exitCode === null) child.kill('SIGTERM');
    const deadline = Date.now() + 5_000;
    while (processes.some(({ child }) => child.exitCode === null && child.signalCode === null) && Date.now() < deadline) await sleep(100);
    for (const { child } of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const waitFor = async (what: string, ready: () => Promise<boolean>, seconds: number) => {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const dead = processes.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
      if (dead) throw new Error(`${dead.name} exited while waiting for ${what}`);
      if (await ready()) return;
      await sleep(250);
    }
    throw new Error(`timed out after ${seconds} s waiting for ${what}`);
  };

  try {
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    start('etcd', join(bins.kube, 'etcd'), [
      '--name=test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=test=http://127.0.0.1:${etcdPeer}`,
      // Throwaway data: no fsync, and no metrics listener.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd', async () => (await probe(`${etcdUrl}/health`))?.body.includes('"true"') ?? false, 60);

    const server = `https://127.0.0.1:${apiPort}`;
    start('kube-apiserver', join(bins.kube, 'kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The kubernetes Service's endpoints may not be loopback; nothing here needs them.
      '--endpoint-reconciler-type=none',
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${join(pki, 'ca.crt')}`,
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=RBAC',
      '--profiling=false',
      '--v=1',
    ]);
    await waitFor('kube-apiserver /readyz', async () => (await probe(`${server}/readyz`, pki))?.status === 200, 120);

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(server, pki), { mode: 0o600 });
    const componentConfig = (user: string) => {
      const file = join(dir, `${user}.kubeconfig`);
      writeFileSync(file, kubeconfigFor(server, pki, user), { mode: 0o600 });
      return file;
    };
    start('kube-controller-manager', join(bins.kube, 'kube-controller-manager'), [
      `--kubeconfig=${componentConfig('controller-manager')}`,
      // Each controller acts as its own service account (system:serviceaccount:kube-system:deployment-controller, ...), as in kubeadm clusters.
      '--use-service-account-credentials=true',
      '--leader-elect=false',
      '--secure-port=0',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      // kwok sends no heartbeats: the node lifecycle controller would taint its nodes and evict the pods.
      // The ValidatingAdmissionPolicy status controller only type-checks policies into status.typeChecking
      // (no admission effect, no test reads it), and on `rollsafe export`'s policies, hundreds of expressions
      // per matched kind, it held a core for many minutes after the tests that applied them had ended.
      '--controllers=*,-node-lifecycle-controller,-validatingadmissionpolicy-status-controller',
      '--concurrent-deployment-syncs=5',
      '--v=1',
    ]);
    start('kube-scheduler', join(bins.kube, 'kube-scheduler'), [`--kubeconfig=${componentConfig('scheduler')}`, '--leader-elect=false', '--secure-port=0', '--v=1']);
    const kubectl = join(bins.kube, 'kubectl');
    const nodes = withKwok ? Array.from({ length: NODE_COUNT }, (_, index) => `kwok-node-${index}`) : [];
    const run = (args: string[], input?: string) => execFileSync(kubectl, [`--kubeconfig=${kubeconfig}`, ...args], { input, encoding: 'utf8', env, stdio: ['pipe', 'pipe', 'pipe'] });
    if (withKwok) {
      start('kwok', join(bins.kwok, 'kwok'), [
        `--kubeconfig=${kubeconfig}`,
        // kwok's fast stages (build.sh), and the timed ones pods ask for by annotation (kwok-timed-stages.ts).
        `--config=${join(bins.kwok, 'fast-stages.yaml')}`,
        `--config=${TIMED_STAGES_FILE}`,
        '--manage-all-nodes=true',
        '--cidr=10.244.0.0/16',
        '--node-ip=10.0.0.1',
        // No kubelet-like server (logs, exec): nothing here reads pod logs.
        '--node-port=0',
      ]);

      const nodeYaml = nodes
        .map(
          (name, index) => `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: ${name}, kubernetes.io/os: linux, kubernetes.io/arch: amd64, topology.kubernetes.io/zone: zone-${index % 2}, type: kwok}
status:
  allocatable: {cpu: "32", memory: 128Gi, pods: "110"}
  capacity: {cpu: "32", memory: 128Gi, pods: "110"}
`,
        )
        .join('---\n');
      run(['apply', '-f', '-'], nodeYaml);
      await waitFor('kwok nodes Ready', async () => {
        const ready = run(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
        return ready.split('\n').filter((status) => status === 'True').length === NODE_COUNT;
      }, 60);
      // The TaintNodesByCondition admission plugin taints new nodes not-ready; the node lifecycle controller
      // (off, see above) would lift the taint once kwok reports them Ready.
      run(['taint', 'nodes', '--all', 'node.kubernetes.io/not-ready:NoSchedule-']);
    }
    // Pods need the namespace's default ServiceAccount, which the controller-manager creates.
    await waitFor('the default ServiceAccount', async () => {
      try {
        run(['get', 'serviceaccount', 'default', '-n', 'default']);
        return true;
      } catch {
        return false;
      }
    }, 60);
    const kubernetesVersion = /v1\.\d+\.\d+/.exec(bins.kube)?.[0] ?? 'unknown';
    return { dir, kubeconfig, server, binDir: bins.kube, caFile: join(pki, 'ca.crt'), pkiDir: pki, nodes, kubernetesVersion, stop };
  } catch (error) {
    // The folder (and its logs) goes with stop(): keep the end of each log in the error.
    const logTails = processes.map(({ name }) => `--- ${name}.log\n${tail(join(logs, `${name}.log`))}`).join('\n');
    await stop();
    throw new Error(`the test control plane did not start: ${(error as Error).message}\n${logTails}`);
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
