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
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ControlPlane } from '../../test/helpers/control-plane.js';

export const NODE_IP = '10.99.0.1';
export const POD_CIDR = '10.88.0.0/16';
const POD_SUBNET = '10.88.0.0/24';
export const SERVICE_CIDR = '10.96.0.0/16';
const NODE_BRIDGE = 'rs-node0';
const POD_BRIDGE = 'rs-cni0';
const RUN_DIR = '/run/rollsafe-e2e';
const SOCKET = `${RUN_DIR}/containerd.sock`;
const GUARD = ['-s', POD_CIDR, '-m', 'comment', '--comment', 'rollsafe-e2e: pods reach only pods and services', '-j', 'ROLLSAFE-E2E-GUARD'];

export interface Node {
  name: string;
  stop(): Promise<void>;
}

function quiet(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
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
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(dir, 'cni')}"
`;
}

function cniConfig(): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: 'rollsafe-e2e',
    plugins: [
      {
        type: 'bridge',
        bridge: POD_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        // Routes to the pod and service ranges only: no default route out of the machine.
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], routes: [{ dst: POD_CIDR }, { dst: SERVICE_CIDR }] },
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
`;
}

export async function startNode(plane: ControlPlane, nodeBins: string, dir: string, images: string[]): Promise<Node> {
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  mkdirSync(join(dir, 'cni'), { recursive: true });
  mkdirSync(RUN_DIR, { recursive: true });
  const processes: Array<{ name: string; child: ChildProcess }> = [];
  const start = (name: string, binary: string, args: string[]) => {
    const log = createWriteStream(join(logs, `${name}.log`));
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', NO_PROXY: '*' } });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    processes.push({ name, child });
    return child;
  };
  const kubectl = (...args: string[]) => run(join(plane.binDir, 'kubectl'), [`--kubeconfig=${plane.kubeconfig}`, ...args]);

  const stop = async () => {
    // Pods first, so the kubelet tears down their network and mounts; then the processes; then what they left.
    quiet(join(plane.binDir, 'kubectl'), [`--kubeconfig=${plane.kubeconfig}`, 'delete', 'pods', '--all', '--all-namespaces', '--grace-period=0', '--force', '--wait=false']);
    for (let waited = 0; waited < 30; waited++) {
      let pods = '';
      try {
        pods = run('ctr', ['-a', SOCKET, '-n', 'k8s.io', 'tasks', 'ls', '-q']).trim();
      } catch {
        break;
      }
      if (pods === '') break;
      await sleep(1000);
    }
    for (const { child } of [...processes].reverse()) if (child.exitCode === null) child.kill('SIGTERM');
    await sleep(1000);
    for (const { child } of processes) if (child.exitCode === null) child.kill('SIGKILL');
    // Shims of this containerd outlive it; so do their containers.
    quiet('pkill', ['-KILL', '-f', `containerd-shim-runc-v2 .*${SOCKET}`]);
    quiet(join(nodeBins, 'kube-proxy'), ['--cleanup']);
    quiet('iptables', ['-t', 'mangle', '-D', 'PREROUTING', ...GUARD]);
    quiet('iptables', ['-t', 'mangle', '-F', 'ROLLSAFE-E2E-GUARD']);
    quiet('iptables', ['-t', 'mangle', '-X', 'ROLLSAFE-E2E-GUARD']);
    for (const root of [join(dir, 'kubelet'), join(dir, 'containerd')]) {
      const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' ')[1] ?? '').filter((path) => path.startsWith(root)).reverse();
      for (const mount of mounts) quiet('umount', ['-l', mount]);
    }
    quiet('ip', ['route', 'del', SERVICE_CIDR]);
    quiet('ip', ['link', 'del', POD_BRIDGE]);
    quiet('ip', ['link', 'del', NODE_BRIDGE]);
  };

  try {
    // The node's address: on a bridge with no ports, so it is no loopback address and reaches nothing.
    quiet('ip', ['link', 'del', NODE_BRIDGE]);
    run('ip', ['link', 'add', NODE_BRIDGE, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', NODE_BRIDGE]);
    run('ip', ['link', 'set', NODE_BRIDGE, 'up']);
    // Pods may talk to pods and Services, and to nothing else (mangle: before kube-proxy's filter rules).
    quiet('iptables', ['-t', 'mangle', '-N', 'ROLLSAFE-E2E-GUARD']);
    run('iptables', ['-t', 'mangle', '-F', 'ROLLSAFE-E2E-GUARD']);
    run('iptables', ['-t', 'mangle', '-A', 'ROLLSAFE-E2E-GUARD', '-d', POD_CIDR, '-j', 'RETURN']);
    run('iptables', ['-t', 'mangle', '-A', 'ROLLSAFE-E2E-GUARD', '-d', SERVICE_CIDR, '-j', 'RETURN']);
    run('iptables', ['-t', 'mangle', '-A', 'ROLLSAFE-E2E-GUARD', '-j', 'DROP']);
    quiet('iptables', ['-t', 'mangle', '-D', 'PREROUTING', ...GUARD]);
    run('iptables', ['-t', 'mangle', '-I', 'PREROUTING', ...GUARD]);

    writeFileSync(join(dir, 'containerd.toml'), containerdConfig(dir));
    writeFileSync(join(dir, 'cni', '10-rollsafe.conflist'), cniConfig());
    start('containerd', 'containerd', ['--config', join(dir, 'containerd.toml')]);
    await waitFor('containerd', async () => {
      try {
        run('ctr', ['-a', SOCKET, 'version']);
        return true;
      } catch {
        return false;
      }
    }, processes, 30);
    for (const archive of images) run('ctr', ['-a', SOCKET, '-n', 'k8s.io', 'images', 'import', '--no-unpack=false', archive]);

    const kubeletPort = 10250 + Math.floor(Math.random() * 1000);
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
      `--healthz-bind-address=127.0.0.1:${kubeletPort + 1000}`,
      `--metrics-bind-address=127.0.0.1:${kubeletPort + 2000}`,
      '--v=2',
    ]);
    await waitFor('the node Ready', async () => {
      try {
        return kubectl('get', 'node', NODE_IP, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') === 'True';
      } catch {
        return false;
      }
    }, processes, 120);
    // The node lifecycle controller (off in the test control plane) would lift the not-ready taint.
    quiet(join(plane.binDir, 'kubectl'), [`--kubeconfig=${plane.kubeconfig}`, 'taint', 'nodes', NODE_IP, 'node.kubernetes.io/not-ready:NoSchedule-']);
    return { name: NODE_IP, stop };
  } catch (error) {
    const tails = processes.map(({ name }) => `--- ${name}.log\n${tail(join(logs, `${name}.log`))}`).join('\n');
    await stop();
    throw new Error(`the e2e node did not start: ${(error as Error).message}\n${tails}`);
  }
}

/**
 * The host reaches Services through the pod bridge (then kube-proxy's DNAT), never through the machine's
 * network: a route for the service range, once the first pod has made the bridge.
 */
export function routeServicesThroughPodBridge(): void {
  if (!existsSync(`/sys/class/net/${POD_BRIDGE}`)) throw new Error(`no ${POD_BRIDGE} yet: start a pod first`);
  quiet('ip', ['route', 'del', SERVICE_CIDR]);
  run('ip', ['route', 'add', SERVICE_CIDR, 'dev', POD_BRIDGE]);
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
