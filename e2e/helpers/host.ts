/**
 * The machine as the e2e node finds and leaves it: commands, processes (/proc), iptables chains, cgroups and
 * sysctls. Everything here reads or changes only what it is told to; nothing matches processes by name.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command; its stdout, or an error carrying its stderr. Never waits more than `timeoutMs`. */
export function run(command: string, args: string[], timeoutMs = 30_000): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`${command} ${args.join(' ')}: ${stderr || (error as Error).message}`);
  }
}

/** Runs a command whose failure means "already gone"; true when it succeeded. */
export function quiet(command: string, args: string[], timeoutMs = 30_000): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

// ---- processes ----

export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22): with the pid, names one process for good. */
  start: string;
  cmdline: string;
  /** The cgroup paths of every hierarchy (/proc/PID/cgroup), without the hierarchy names. */
  cgroups: string[];
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1));
    return { pid, ppid: Number(fields[1]), uid, start: fields[19] ?? '', cmdline, cgroups };
  } catch {
    return undefined; // gone while we looked
  }
}

export function processes(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcess(Number(name)))
    .filter((info): info is ProcessInfo => info !== undefined && info.pid !== process.pid);
}

/** The start time of a process (see ProcessInfo.start), or undefined when it is gone. */
export function processStart(pid: number): string | undefined {
  return readProcess(pid)?.start;
}

/** True while the process that had this pid and start time runs (a pid alone may have been reused). */
export function alive(pid: number, start: string): boolean {
  return processStart(pid) === start;
}

export function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

export function describeProcess(info: ProcessInfo): string {
  return `pid ${info.pid} (ppid ${info.ppid}, uid ${info.uid}): ${info.cmdline.slice(0, 160)}`;
}

// ---- iptables ----

export type IpFamily = 'iptables' | 'ip6tables';
export const FAMILIES: IpFamily[] = ['iptables', 'ip6tables'];
const TABLES = ['filter', 'nat', 'mangle', 'raw'];

/** Every chain of every table, as "iptables nat KUBE-SERVICES" (built-in ones included). */
export function iptablesChains(): string[] {
  const chains: string[] = [];
  for (const family of FAMILIES) {
    for (const table of TABLES) {
      let rules = '';
      try {
        rules = run(family, ['-w', '5', '-t', table, '-S']);
      } catch {
        continue; // a table this kernel lacks
      }
      for (const line of rules.split('\n')) {
        const chain = /^-[NP] (\S+)/.exec(line)?.[1];
        if (chain) chains.push(`${family} ${table} ${chain}`);
      }
    }
  }
  return chains;
}

/**
 * Removes the chains that are not in `before` (and every rule that jumps to them): what a run's kube-proxy
 * and kubelet made and `kube-proxy --cleanup` leaves (KUBE-FIREWALL, KUBE-IPTABLES-HINT, ...). Only chains
 * named like `prefix` are touched.
 */
export function removeChainsSince(before: string[], prefix: RegExp): string[] {
  const kept = new Set(before);
  const added = iptablesChains().filter((entry) => !kept.has(entry) && prefix.test(entry.split(' ')[2] ?? ''));
  for (const entry of added) {
    const [family, table, chain] = entry.split(' ') as [IpFamily, string, string];
    // Jumps to it from any chain of the table, built-in or not.
    const rules = run(family, ['-w', '5', '-t', table, '-S']).split('\n');
    for (const rule of rules) {
      if (rule.startsWith('-A ') && new RegExp(`(^| )-j ${chain}( |$)`).test(rule)) {
        quiet(family, ['-w', '5', '-t', table, ...splitRule(rule.replace(/^-A /, '-D '))]);
      }
    }
    quiet(family, ['-w', '5', '-t', table, '-F', chain]);
  }
  for (const entry of added) {
    const [family, table, chain] = entry.split(' ') as [IpFamily, string, string];
    quiet(family, ['-w', '5', '-t', table, '-X', chain]);
  }
  const left = new Set(iptablesChains());
  return added.filter((entry) => left.has(entry));
}

/** Splits an `iptables -S` rule into arguments, keeping quoted comments whole. */
function splitRule(rule: string): string[] {
  const args: string[] = [];
  for (const match of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) args.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]!);
  return args;
}

// ---- cgroups ----

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup hierarchies' mount points (cgroup v1: one per controller set; v2: the root itself). */
export function cgroupHierarchies(): string[] {
  if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) return [CGROUP_ROOT];
  return readdirSync(CGROUP_ROOT, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.isSymbolicLink())
    .map((entry) => join(CGROUP_ROOT, entry.name));
}

/** The top-level cgroups of every hierarchy, as "pids/k8s.io". */
export function topCgroups(): string[] {
  return cgroupHierarchies().flatMap((hierarchy) =>
    readdirSync(hierarchy, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${hierarchy.slice(CGROUP_ROOT.length + 1)}/${entry.name}`.replace(/^\//, '')),
  );
}

/** Removes a cgroup and the empty ones below it, deepest first; false when one still holds processes. */
export function removeCgroupTree(path: string): boolean {
  if (!existsSync(path)) return true;
  let empty = true;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) empty = removeCgroupTree(join(path, entry.name)) && empty;
  }
  try {
    rmdirSync(path);
    return true;
  } catch {
    return false;
  }
}

// ---- sysctls ----

/** What the kubelet (setupKernelTunables) and the bridge plugin (isGateway) change on the machine. */
export const SYSCTLS = ['vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes', 'net.ipv4.ip_forward'];

export function readSysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of SYSCTLS) {
    try {
      values[name] = readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
    } catch {
      // not on this kernel
    }
  }
  return values;
}

/** Puts back the values of `before` that differ now; returns what it changed, as "name a -> b". */
export function restoreSysctls(before: Record<string, string>): string[] {
  const now = readSysctls();
  const changed: string[] = [];
  for (const [name, value] of Object.entries(before)) {
    if (now[name] === undefined || now[name] === value) continue;
    if (quiet('sysctl', ['-q', '-w', `${name}=${value}`])) changed.push(`${name} ${now[name]} -> ${value}`);
  }
  return changed;
}

// ---- mounts and links ----

/** The mount points at or below `root`, deepest first. */
export function mountsUnder(root: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((path) => path === root || path.startsWith(`${root}/`))
    .reverse();
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Where a symbolic link points, or undefined. */
export function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
