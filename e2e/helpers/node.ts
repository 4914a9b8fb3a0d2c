/**
 * One real node beside the test control plane: containerd (Debian's, with runc and the CNI bridge plugin),
 * a kubelet and kube-proxy (iptables mode) built from the pinned Kubernetes module (build.sh --node).
 *
 * Facts of these machines it encodes:
 * - the VM lacks CAP_SYS_RESOURCE: containerd must not raise oom_score_adj (restrict_oom_score_adj);
 * - the kubelet refuses a loopback node IP: the node address sits on a bridge with no ports (rs-node0), and the
 *   node is named by that IP, so the apiserver never looks a name up in DNS;
 * - cgroup v1 hierarchies: the cgroupfs driver;
 * - kube-proxy's rules come first in the filter table: the guard that keeps pods inside the pod and service
 *   ranges lives in mangle.
 * Network rules of this workplace: traffic only to loopback and to the pods this run creates. Pods get routes
 * to the pod and service ranges only (no default route, no masquerade) and no resolv.conf from the machine.
 *
 * What it takes, it gives back, on failure too. claimNode() refuses to start when a bridge name, address range,
 * iptables chain or socket it needs is already someone else's, and writes a ledger (/run/rollsafe-e2e/run.json)
 * of what the machine was like and which processes the run starts; a later run, or `e2e/run.sh --cleanup`,
 * cleans up after a run that died without its teardown. The teardown stops and deletes every container and
 * sandbox (through the kubelet, then containerd, then runc's own state directory, which is the run's), and then
 * checks that no process of the run remains: none in the run's containers' cgroups, none naming its socket or
 * folders.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ControlPlane } from '../../test/helpers/control-plane.js';
import {
  alive,
  describeProcess,
  iptablesChains,
  kill,
  linkExists,
  linkTarget,
  mountsUnder,
  processes,
  processStart,
  quiet,
  readSysctls,
  removeCgroupTree,
  removeChainsSince,
  restoreSysctls,
  run,
  topCgroups,
  cgroupHierarchies,
} from './host.js';

export const NODE_IP = '10.99.0.1';
export const POD_CIDR = '10.88.0.0/16';
const POD_SUBNET = '10.88.0.0/24';
export const SERVICE_CIDR = '10.96.0.0/16';
const NODE_BRIDGE = 'rs-node0';
const POD_BRIDGE = 'rs-cni0';
const CNI_NETWORK = 'rollsafe-e2e';
const RUN_DIR = '/run/rollsafe-e2e';
const SOCKET = `${RUN_DIR}/containerd.sock`;
/** The runc shim's Root option; it keeps runc's state in Root/<containerd namespace>. */
const RUNC_ROOT = `${RUN_DIR}/runc`;
const LEDGER = `${RUN_DIR}/run.json`;
const GUARD_CHAIN = 'ROLLSAFE-E2E-GUARD';
const GUARD = ['-s', POD_CIDR, '-m', 'comment', '--comment', 'rollsafe-e2e: pods reach only pods and services', '-j', GUARD_CHAIN];
/** kube-proxy's own chains (pkg/proxy/iptables): present, they are another kube-proxy's, which --cleanup would wipe. */
const KUBE_PROXY_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-FORWARD', 'KUBE-EXTERNAL-SERVICES', 'KUBE-PROXY-FIREWALL', 'KUBE-PROXY-CANARY'];
// Paths containerd 1.6 and the kubelet do not let us move; the teardown removes the run's entries there.
/** shim.SocketAddress: /run/containerd/s/sha256(address/namespace/id). */
const SHIM_SOCKETS = '/run/containerd/s';
/** libcni's cache of ADD results, `<network>-<container id>-<interface>`. */
const CNI_CACHE = '/var/lib/cni/results';
/** The kubelet's ContainerLogsDir: symbolic links into podLogsDir. */
const CONTAINER_LOG_LINKS = '/var/log/containers';
const NAMESPACE = 'k8s.io';
/** runc's state directory (`runc --root`): every container of the run, and only those, is listed here. */
const RUNC_STATE = `${RUNC_ROOT}/${NAMESPACE}`;
/** Folders outside the run's that its containerd and plugins create when missing (removed after, when empty). */
const SHARED_FOLDERS = [SHIM_SOCKETS, '/run/containerd', CNI_CACHE, '/var/lib/cni/networks', '/var/lib/cni', CONTAINER_LOG_LINKS];

export interface Node {
  name: string;
  /** Idempotent: every call after the first returns the first one's report. */
  stop(): Promise<TeardownReport>;
}

export interface TeardownReport {
  /** What the graceful path (the kubelet deleting pods) left, and the teardown had to stop by force. */
  forced: string[];
  /** Processes of the run still there after the teardown (killed at last): each one is a leak. */
  remaining: string[];
  /** What else it did or could not undo. */
  notes: string[];
}

/** The run's claim on the machine: what it was like before, and which processes the run started. */
interface Ledger {
  pid: number;
  start: string;
  startedAt: string;
  /** The run's folder (its control plane and node); processes naming it are the run's. */
  runDir: string;
  nodeDir: string;
  nodeBins?: string;
  before: { chains: string[]; cgroups: string[]; sysctls: Record<string, string>; existed: string[] };
  processes: Array<{ name: string; pid: number; start: string }>;
}

export class NodeRefused extends Error {}

function writeLedger(ledger: Ledger, exclusive = false): void {
  writeFileSync(LEDGER, `${JSON.stringify(ledger, null, 2)}\n`, { flag: exclusive ? 'wx' : 'w' });
}

function readLedger(): Ledger | undefined {
  try {
    return JSON.parse(readFileSync(LEDGER, 'utf8')) as Ledger;
  } catch {
    return undefined;
  }
}

/** What already holds a name, range, chain or socket this node needs: each entry is a reason not to start. */
function conflicts(): string[] {
  const found: string[] = [];
  for (const link of [NODE_BRIDGE, POD_BRIDGE]) if (linkExists(link)) found.push(`a network interface named ${link} exists (ip link del ${link} if it is a leftover)`);
  const inRanges = /\b10\.(88|96)\.\d+\.\d+|\b10\.99\.0\.1\b/;
  for (const line of run('ip', ['-4', '-o', 'addr', 'show']).split('\n')) if (inRanges.test(line)) found.push(`an address in the node's ranges (${POD_CIDR}, ${SERVICE_CIDR}, ${NODE_IP}) is in use: ${line.replace(/\s+/g, ' ').trim()}`);
  for (const line of run('ip', ['-4', 'route', 'show']).split('\n')) if (/^10\.(88|96)\.|^10\.99\.0\.1\b/.test(line)) found.push(`a route overlaps the node's ranges: ${line.trim()}`);
  for (const entry of iptablesChains()) {
    const chain = entry.split(' ')[2] ?? '';
    if (chain === GUARD_CHAIN) found.push(`the iptables chain ${entry} exists`);
    if (KUBE_PROXY_CHAINS.includes(chain)) found.push(`kube-proxy's chain ${entry} exists: another kube-proxy's rules, which this run's kube-proxy would rewrite and its cleanup delete`);
  }
  if (existsSync(SOCKET) && quiet('ctr', ['-a', SOCKET, 'version'], 5_000)) found.push(`a containerd serves ${SOCKET}`);
  const containers = existsSync(RUNC_STATE) ? readdirSync(RUNC_STATE) : [];
  if (containers.length > 0) found.push(`${RUNC_STATE} holds ${containers.length} container(s) of a run this machine has no ledger of (runc --root ${RUNC_STATE} list)`);
  return found;
}

/**
 * Whether this machine can take a run now: throws NodeRefused saying what is taken. A ledger left by a run
 * whose process is gone is that run's: its leftovers are cleaned up first (returned as notes).
 */
export async function preflight(): Promise<string[]> {
  const notes: string[] = [];
  const earlier = readLedger();
  if (earlier) {
    if (alive(earlier.pid, earlier.start)) throw new NodeRefused(`e2e: another run (pid ${earlier.pid}, started ${earlier.startedAt}) holds the e2e node (${LEDGER}); wait for it to end, or stop it (its teardown runs on SIGINT/SIGTERM)`);
    const report = await cleanupLeftovers();
    notes.push(`an earlier run (pid ${earlier.pid}, started ${earlier.startedAt}) ended without its teardown; cleaned up after it: ${[...report.forced, ...report.remaining, ...report.notes].join('; ') || 'nothing was left'}`);
  }
  const found = conflicts();
  if (found.length > 0) {
    throw new NodeRefused(`e2e: will not start: ${found.join('; ')}. The e2e node creates and deletes these itself; it does not take over or tear down what it did not make.`);
  }
  return notes;
}

/** Claims the machine for one run (preflight, then the ledger), or throws NodeRefused saying what is taken. */
export async function claimNode(runDir: string, nodeDir: string): Promise<string[]> {
  const notes = await preflight();
  mkdirSync(RUN_DIR, { recursive: true });
  for (const stale of [SOCKET, `${SOCKET}.ttrpc`]) rmSync(stale, { force: true });
  const start = processStart(process.pid);
  if (!start) throw new Error('cannot read /proc/self/stat');
  const existed = SHARED_FOLDERS.filter((path) => existsSync(path));
  writeLedger({ pid: process.pid, start, startedAt: new Date().toISOString(), runDir, nodeDir, before: { chains: iptablesChains(), cgroups: topCgroups(), sysctls: readSysctls(), existed }, processes: [] }, true);
  return notes;
}

/** Gives the claim back when no node was started (the run failed before startNode). */
export function releaseNode(): void {
  if (readLedger()?.pid !== process.pid) return;
  rmSync(LEDGER, { force: true });
  quiet('rmdir', [RUN_DIR]);
}

/** Cleans up after a run that ended without its teardown (its ledger is there, its process is not). */
export async function cleanupLeftovers(): Promise<TeardownReport> {
  const ledger = readLedger();
  if (!ledger) return { forced: [], remaining: [], notes: [] };
  if (alive(ledger.pid, ledger.start)) throw new NodeRefused(`e2e: the run that holds the node (pid ${ledger.pid}) is still running`);
  const report = await teardown(ledger, {});
  // Its control plane, too: every process naming the run's folder.
  for (const info of processes().filter((info) => info.cmdline.includes(ledger.runDir))) {
    kill(info.pid, 'SIGKILL');
    report.forced.push(`killed ${describeProcess(info)}`);
  }
  rmSync(ledger.runDir, { recursive: true, force: true });
  return report;
}

function containerdConfig(dir: string): string {
  return `version = 2
root = "${join(dir, 'containerd', 'root')}"
state = "${join(dir, 'containerd', 'state')}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "${SOCKET}"
[ttrpc]
  address = "${SOCKET}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'containerd', 'opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "rollsafe.local/pause:1"
  restrict_oom_score_adj = true
  # The pods' network namespaces under the run's folder, not /var/run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state of every container of the run, and of nothing else (not /run/containerd/runc).
        Root = "${RUNC_ROOT}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(dir, 'cni')}"
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: CNI_NETWORK,
    plugins: [
      {
        type: 'bridge',
        bridge: POD_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        // Routes to the pod and service ranges only: no default route out of the machine. Address leases in
        // the run's folder, not /var/lib/cni/networks.
        ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: POD_SUBNET }]], routes: [{ dst: POD_CIDR }, { dst: SERVICE_CIDR }] },
      },
      { type: 'loopback' },
    ],
  });
}

function kubeletConfig(dir: string, port: number): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
# These machines have cgroup v1 hierarchies only (KubeletCgroupDriver... failCgroupV1 defaults to true from 1.35).
failCgroupV1: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
containerRuntimeEndpoint: unix://${SOCKET}
failSwapOn: false
address: 127.0.0.1
port: ${port}
readOnlyPort: 0
healthzPort: 0
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
# No resolv.conf from the machine: nothing in a pod resolves names through the machine's DNS.
resolvConf: ""
# Never garbage-collect or evict the local images or pods of a short run.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "0%", imagefs.available: "0%", nodefs.inodesFree: "0%"}
localStorageCapacityIsolation: false
serializeImagePulls: false
staticPodPath: ""
tlsCertFile: ""
certDirectory: ${join(dir, 'kubelet', 'pki')}
# Pod logs in the run's folder, not /var/log/pods.
podLogsDir: ${join(dir, 'pod-logs')}
# kube-proxy makes the chains it needs; the kubelet's (KUBE-FIREWALL, KUBE-KUBELET-CANARY) outlive it otherwise.
makeIPTablesUtilChains: false
`;
}

/** A free port below Linux's ephemeral range, so that no outgoing connection takes it before the bind. */
async function freePort(taken: number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (taken.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new NodeRefused('e2e: found no free port on 127.0.0.1 for the kubelet and kube-proxy in 50 tries');
}

export async function startNode(plane: ControlPlane, nodeBins: string, dir: string, images: string[]): Promise<Node> {
  const ledger = readLedger();
  if (!ledger || ledger.pid !== process.pid) throw new Error('startNode: claimNode() first');
  ledger.nodeBins = nodeBins;
  writeLedger(ledger);
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  mkdirSync(join(dir, 'cni'), { recursive: true });
  mkdirSync(RUNC_ROOT, { recursive: true });
  const children: Array<{ name: string; child: ChildProcess }> = [];
  const start = (name: string, binary: string, args: string[]) => {
    const log = createWriteStream(join(logs, `${name}.log`));
    // PR_SET_PDEATHSIG: killed when this process ends, however it ends (the ledger cleans up the rest).
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', NO_PROXY: '*' } });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.push({ name, child });
    const started = child.pid === undefined ? undefined : processStart(child.pid);
    if (child.pid !== undefined && started) {
      ledger.processes.push({ name, pid: child.pid, start: started });
      writeLedger(ledger);
    }
    return child;
  };
  const kubectl = (...args: string[]) => run(join(plane.binDir, 'kubectl'), [`--kubeconfig=${plane.kubeconfig}`, ...args]);

  let stopping: Promise<TeardownReport> | undefined;
  const stop = () => (stopping ??= teardown(ledger, { kubectl: (args, timeoutMs) => run(join(plane.binDir, 'kubectl'), [`--kubeconfig=${plane.kubeconfig}`, ...args], timeoutMs) }));

  try {
    // The node's address: on a bridge with no ports, so it is no loopback address and reaches nothing.
    run('ip', ['link', 'add', NODE_BRIDGE, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', NODE_BRIDGE]);
    run('ip', ['link', 'set', NODE_BRIDGE, 'up']);
    // Pods may talk to pods and Services, and to nothing else (mangle: before kube-proxy's filter rules).
    run('iptables', ['-w', '5', '-t', 'mangle', '-N', GUARD_CHAIN]);
    run('iptables', ['-w', '5', '-t', 'mangle', '-A', GUARD_CHAIN, '-d', POD_CIDR, '-j', 'RETURN']);
    run('iptables', ['-w', '5', '-t', 'mangle', '-A', GUARD_CHAIN, '-d', SERVICE_CIDR, '-j', 'RETURN']);
    run('iptables', ['-w', '5', '-t', 'mangle', '-A', GUARD_CHAIN, '-j', 'DROP']);
    run('iptables', ['-w', '5', '-t', 'mangle', '-I', 'PREROUTING', ...GUARD]);

    writeFileSync(join(dir, 'containerd.toml'), containerdConfig(dir));
    writeFileSync(join(dir, 'cni', '10-rollsafe.conflist'), cniConfig(dir));
    start('containerd', 'containerd', ['--config', join(dir, 'containerd.toml')]);
    await waitFor('containerd', async () => quiet('ctr', ['-a', SOCKET, 'version'], 5_000), children, 30);
    for (const archive of images) run('ctr', ['-a', SOCKET, '-n', NAMESPACE, 'images', 'import', '--no-unpack=false', archive], 120_000);

    const kubeletPort = await freePort([]);
    const healthzPort = await freePort([kubeletPort]);
    const metricsPort = await freePort([kubeletPort, healthzPort]);
    writeFileSync(join(dir, 'kubelet.yaml'), kubeletConfig(dir, kubeletPort));
    start('kubelet', join(nodeBins, 'kubelet'), [
      `--config=${join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${plane.kubeconfig}`,
      `--root-dir=${join(dir, 'kubelet')}`,
      `--hostname-override=${NODE_IP}`,
      `--node-ip=${NODE_IP}`,
      '--v=2',
    ]);
    start('kube-proxy', join(nodeBins, 'kube-proxy'), [
      `--kubeconfig=${plane.kubeconfig}`,
      `--hostname-override=${NODE_IP}`,
      '--proxy-mode=iptables',
      `--cluster-cidr=${POD_CIDR}`,
      // Leave the machine's conntrack settings alone.
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=0',
      '--conntrack-tcp-timeout-close-wait=0',
      '--iptables-localhost-nodeports=false',
      // Port 0 is refused here; loopback ports of their own.
      `--healthz-bind-address=127.0.0.1:${healthzPort}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      '--v=2',
    ]);
    await waitFor('the node Ready', async () => {
      try {
        return kubectl('get', 'node', NODE_IP, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') === 'True';
      } catch {
        return false;
      }
    }, children, 120);
    // The node lifecycle controller (off in the test control plane) would lift the not-ready taint.
    quiet(join(plane.binDir, 'kubectl'), [`--kubeconfig=${plane.kubeconfig}`, 'taint', 'nodes', NODE_IP, 'node.kubernetes.io/not-ready:NoSchedule-']);
    return { name: NODE_IP, stop };
  } catch (error) {
    const tails = children.map(({ name }) => `--- ${name}.log\n${tail(join(logs, `${name}.log`))}`).join('\n');
    const report = await stop();
    const leaks = report.remaining.length > 0 ? `\nteardown found processes left: ${report.remaining.join('; ')}` : '';
    throw new Error(`the e2e node did not start: ${(error as Error).message}${leaks}\n${tails}`);
  }
}

/**
 * The host reaches Services through the pod bridge (then kube-proxy's DNAT), never through the machine's
 * network: a route for the service range, once the first pod has made the bridge.
 */
export function routeServicesThroughPodBridge(): void {
  if (!linkExists(POD_BRIDGE)) throw new Error(`no ${POD_BRIDGE} yet: start a pod first`);
  run('ip', ['route', 'replace', SERVICE_CIDR, 'dev', POD_BRIDGE]);
}

/**
 * Forgets the connections conntrack remembers to `address` (a Service's ClusterIP). A connect that failed
 * leaves a SYN_SENT entry for 120 s (nf_conntrack_tcp_timeout_syn_sent) that still DNATs its source port to
 * the pod it chose; a new connection from the same port within that time is a retransmission to conntrack and
 * goes to that pod, gone or not.
 */
export function forgetConnections(address: string): void {
  // conntrack exits 1 when it deleted nothing.
  quiet('conntrack', ['-D', '-d', address]);
}

// ---- the teardown ----

interface TeardownContext {
  /** kubectl against the run's control plane, while it runs. */
  kubectl?: (args: string[], timeoutMs: number) => string;
}

function ctr(args: string[], timeoutMs = 15_000): string {
  return run('ctr', ['-a', SOCKET, '-n', NAMESPACE, ...args], timeoutMs);
}

/** Tasks (running containers and sandboxes) as containerd lists them: id and status. */
function tasks(): Array<{ id: string; status: string }> {
  return ctr(['tasks', 'ls'])
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3)
    .map(([id, , status]) => ({ id: id!, status: status! }));
}

interface RuncContainer {
  id: string;
  pid: number;
  status: string;
}

function runcContainers(): RuncContainer[] {
  if (!existsSync(RUNC_STATE)) return [];
  try {
    return (JSON.parse(run('runc', ['--root', RUNC_STATE, 'list', '--format', 'json']) || 'null') as RuncContainer[] | null) ?? [];
  } catch {
    return readdirSync(RUNC_STATE).map((id) => ({ id, pid: 0, status: 'unknown' }));
  }
}

async function stopProcess(entry: { name: string; pid: number; start: string }, forced: string[]): Promise<void> {
  if (!alive(entry.pid, entry.start)) return;
  kill(entry.pid, 'SIGTERM');
  for (let waited = 0; waited < 50 && alive(entry.pid, entry.start); waited++) await sleep(100);
  if (alive(entry.pid, entry.start)) {
    kill(entry.pid, 'SIGKILL');
    forced.push(`${entry.name} (pid ${entry.pid}) ignored SIGTERM for 5 s: killed`);
  }
}

/** The run's processes that are still there: the ledger's, those in its containers' cgroups, those naming it. */
function runProcesses(ledger: Ledger, containerIds: Set<string>): string[] {
  const cgroupParentIsOurs = !ledger.before.cgroups.some((cgroup) => cgroup.endsWith(`/${NAMESPACE}`) || cgroup === NAMESPACE);
  const found: string[] = [];
  for (const info of processes()) {
    const inOurCgroup = info.cgroups.some((path) => {
      const match = new RegExp(`^/${NAMESPACE.replace('.', '\\.')}/([0-9a-f]{64})`).exec(path);
      return match !== null && (cgroupParentIsOurs || containerIds.has(match[1]!));
    });
    const namesUs = [SOCKET, RUNC_ROOT, ledger.nodeDir].some((path) => info.cmdline.includes(path));
    const ours = ledger.processes.some((entry) => entry.pid === info.pid && entry.start === info.start);
    if (inOurCgroup || namesUs || ours) found.push(describeProcess(info));
  }
  return found;
}

async function teardown(ledger: Ledger, context: TeardownContext): Promise<TeardownReport> {
  const report: TeardownReport = { forced: [], remaining: [], notes: [] };
  const began = Date.now();
  const slow: string[] = [];
  const step = async (what: string, action: () => unknown) => {
    const stepBegan = Date.now();
    try {
      await action();
    } catch (error) {
      report.notes.push(`${what}: ${(error as Error).message.split('\n')[0]}`);
    }
    if (Date.now() - stepBegan > 1000) slow.push(`${what} ${((Date.now() - stepBegan) / 1000).toFixed(1)} s`);
  };
  const byName = (name: string) => ledger.processes.filter((entry) => entry.name === name);
  const containerdUp = () => byName('containerd').some((entry) => alive(entry.pid, entry.start)) && quiet('ctr', ['-a', SOCKET, 'version'], 5_000);
  const taskDir = join(ledger.nodeDir, 'containerd', 'state', 'io.containerd.runtime.v2.task', NAMESPACE);
  const containerIds = new Set<string>();
  const noteIds = () => {
    for (const container of runcContainers()) containerIds.add(container.id);
    if (existsSync(taskDir)) for (const id of readdirSync(taskDir)) containerIds.add(id);
    if (containerdUp()) for (const id of ctr(['containers', 'ls', '-q']).split('\n').filter(Boolean)) containerIds.add(id);
  };
  await step('listing containers', noteIds);

  // 1. The graceful path: no controller left to replace a pod, then every pod deleted, and the kubelet stops
  // their containers and sandboxes (tearing down their networks) while it still runs.
  if (context.kubectl) {
    const kubectl = context.kubectl;
    await step('deleting the workloads', () => kubectl(['delete', 'deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs', '--all', '--all-namespaces', '--cascade=orphan', '--timeout=30s'], 40_000));
    await step('deleting the pods', () => kubectl(['delete', 'pods', '--all', '--all-namespaces', '--grace-period=0', '--force', '--wait=false'], 30_000));
    await step('waiting for the kubelet to stop every container and sandbox', async () => {
      for (let waited = 0; containerdUp() && waited < 60; waited++) {
        if (!tasks().some((task) => task.status === 'RUNNING')) return;
        await sleep(1000);
      }
    });
  }
  await step('listing containers', noteIds);

  // 2. The node's own processes: kube-proxy and the kubelet, then (3) what containerd still runs, then containerd.
  await step('stopping kube-proxy and the kubelet', async () => {
    for (const name of ['kube-proxy', 'kubelet']) for (const entry of byName(name)) await stopProcess(entry, report.forced);
  });
  if (containerdUp()) {
    await step('stopping the tasks containerd still runs', async () => {
      for (const task of tasks()) {
        if (task.status === 'RUNNING') report.forced.push(`task ${task.id.slice(0, 13)} still running after the kubelet stopped: killed through containerd`);
        quiet('ctr', ['-a', SOCKET, '-n', NAMESPACE, 'tasks', 'kill', '--signal', 'SIGKILL', task.id], 10_000);
      }
      for (let waited = 0; waited < 50 && tasks().some((task) => task.status === 'RUNNING'); waited++) await sleep(100);
      for (const task of tasks()) quiet('ctr', ['-a', SOCKET, '-n', NAMESPACE, 'tasks', 'delete', '--force', task.id], 10_000);
      for (const id of ctr(['containers', 'ls', '-q']).split('\n').filter(Boolean)) quiet('ctr', ['-a', SOCKET, '-n', NAMESPACE, 'containers', 'delete', id], 10_000);
    });
  }
  await step('stopping containerd', async () => {
    for (const entry of byName('containerd')) await stopProcess(entry, report.forced);
  });

  // 4. Whatever runc still knows of, by its own state directory: the containers of this run, and only those.
  await step('deleting what runc still lists', async () => {
    for (const container of runcContainers()) {
      report.forced.push(`container ${container.id.slice(0, 13)} (${container.status}, pid ${container.pid}) outlived containerd: runc delete --force`);
      quiet('runc', ['--root', RUNC_STATE, 'delete', '--force', container.id], 10_000);
    }
  });
  // 5. Shims exit once containerd deletes their tasks; one still there serves a task that no longer exists.
  for (const info of processes().filter((info) => info.cmdline.includes('containerd-shim') && info.cmdline.includes(`-address ${SOCKET}`))) {
    report.forced.push(`shim ${describeProcess(info)} still running: killed`);
    kill(info.pid, 'SIGKILL');
  }

  // 6. The check: no process of the run is left.
  await sleep(200);
  const checkBegan = Date.now();
  const left = runProcesses(ledger, containerIds);
  if (Date.now() - checkBegan > 1000) slow.push(`the process check ${((Date.now() - checkBegan) / 1000).toFixed(1)} s`);
  if (left.length > 0) {
    report.remaining.push(...left);
    for (const line of left) kill(Number(/^pid (\d+)/.exec(line)?.[1]), 'SIGKILL');
  }
  for (const container of runcContainers()) report.remaining.push(`runc still lists container ${container.id} (${container.status})`);

  // 7. Mounts (overlay root filesystems, the pods' volumes and network namespaces: unmounting the last destroys
  // the namespace and its end of each veth pair), then what the run added to the network.
  await step('unmounting', () => {
    for (const mount of mountsUnder(ledger.nodeDir)) quiet('umount', ['-l', mount]);
  });
  await step('removing the network', () => {
    quiet('ip', ['route', 'del', SERVICE_CIDR, 'dev', POD_BRIDGE]);
    for (const link of [POD_BRIDGE, NODE_BRIDGE]) if (linkExists(link)) quiet('ip', ['link', 'del', link]);
    quiet('iptables', ['-w', '5', '-t', 'mangle', '-D', 'PREROUTING', ...GUARD]);
    if (ledger.nodeBins) quiet(join(ledger.nodeBins, 'kube-proxy'), ['--cleanup'], 30_000);
    const stuck = removeChainsSince(ledger.before.chains, /^(KUBE-|ROLLSAFE-)/);
    if (stuck.length > 0) report.notes.push(`iptables chains not removed: ${stuck.join(', ')}`);
    for (const filter of [['-s', POD_CIDR], ['-d', POD_CIDR], ['-d', SERVICE_CIDR], ['-d', NODE_IP]]) quiet('conntrack', ['-D', ...filter]);
    for (const link of [POD_BRIDGE, NODE_BRIDGE]) if (linkExists(link)) report.notes.push(`${link} could not be deleted`);
  });

  // 8. The run's entries in the paths it could not move.
  await step('removing files outside the run folder', () => {
    const ids = [...containerIds];
    const shimSockets = new Set(ids.map((id) => createHash('sha256').update(join(SOCKET, NAMESPACE, id)).digest('hex')));
    if (existsSync(SHIM_SOCKETS)) for (const name of readdirSync(SHIM_SOCKETS)) if (shimSockets.has(name)) rmSync(join(SHIM_SOCKETS, name), { force: true });
    if (existsSync(CNI_CACHE)) {
      for (const name of readdirSync(CNI_CACHE)) {
        if (name.startsWith(`${CNI_NETWORK}-`) || ids.some((id) => name === `cni-loopback-${id}-lo`)) rmSync(join(CNI_CACHE, name), { force: true });
      }
    }
    if (existsSync(CONTAINER_LOG_LINKS)) {
      for (const name of readdirSync(CONTAINER_LOG_LINKS)) {
        if (linkTarget(join(CONTAINER_LOG_LINKS, name))?.startsWith(join(ledger.nodeDir, 'pod-logs'))) unlinkSync(join(CONTAINER_LOG_LINKS, name));
      }
    }
    // Folders the run's containerd and plugins created, when nothing else put anything in them.
    for (const path of SHARED_FOLDERS) {
      if (!ledger.before.existed.includes(path) && existsSync(path) && readdirSync(path).length === 0) rmSync(path, { recursive: true });
    }
  });
  await step('removing cgroups', () => {
    // containerd's parent cgroup of the pods' containers (/k8s.io), when the run made it; other new ones are named.
    const before = new Set(ledger.before.cgroups);
    for (const hierarchy of cgroupHierarchies()) {
      const name = hierarchy === '/sys/fs/cgroup' ? NAMESPACE : `${hierarchy.slice('/sys/fs/cgroup/'.length)}/${NAMESPACE}`;
      if (!before.has(name) && !removeCgroupTree(join(hierarchy, NAMESPACE))) report.remaining.push(`cgroup ${join(hierarchy, NAMESPACE)} still holds processes`);
    }
    const added = topCgroups().filter((cgroup) => !before.has(cgroup));
    if (added.length > 0) report.notes.push(`cgroups made during the run, left alone: ${added.join(', ')}`);
  });
  const sysctls = restoreSysctls(ledger.before.sysctls);
  if (sysctls.length > 0) report.notes.push(`sysctls put back: ${sysctls.join(', ')}`);

  // 9. The run's heavy state (logs stay, for the run to keep or remove), then the claim.
  await step('removing the state', () => {
    for (const folder of ['containerd', 'kubelet', 'ipam']) rmSync(join(ledger.nodeDir, folder), { recursive: true, force: true });
  });
  rmSync(RUNC_ROOT, { recursive: true, force: true });
  for (const file of [SOCKET, `${SOCKET}.ttrpc`, LEDGER]) rmSync(file, { force: true });
  quiet('rmdir', [RUN_DIR]);
  report.notes.push(`the node's teardown took ${((Date.now() - began) / 1000).toFixed(1)} s${slow.length > 0 ? ` (${slow.join(', ')})` : ''}`);
  return report;
}

async function waitFor(what: string, ready: () => Promise<boolean>, processes: Array<{ name: string; child: ChildProcess }>, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const dead = processes.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}`);
    if (await ready()) return;
    await sleep(500);
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
