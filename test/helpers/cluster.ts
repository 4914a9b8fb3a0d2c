/**
 * The test control plane shared by every test file of one tap run (see control-plane.ts). The first file
 * that asks starts a detached supervisor keyed by the tap runner's pid (every test file's parent); the
 * others wait for its state file. The supervisor stops the control plane when the runner exits. Outside tap
 * (a test file run by hand) the control plane is private to the process and stopped at its teardown.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { kubeconfigFor, signCertificate, startControlPlane, type ControlPlaneInfo } from './control-plane.js';
import { TEST_DIR } from './fixtures.js';

export type { ControlPlaneInfo } from './control-plane.js';

const START_TIMEOUT_MS = 4 * 60 * 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readState(file: string): { ready?: ControlPlaneInfo; error?: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The control plane of this test run; started on first use. */
export async function sharedControlPlane(t: Test): Promise<ControlPlaneInfo> {
  if (process.env['TAP'] !== '1') {
    const own = await startControlPlane(join(tmpdir(), `rollsafe-control-plane-own-${process.pid}`));
    t.teardown(() => own.stop());
    return own;
  }
  const stateDir = join(tmpdir(), `rollsafe-control-plane-${process.ppid}`);
  const stateFile = join(stateDir, 'state.json');
  let first = false;
  try {
    mkdirSync(stateDir);
    first = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (first) {
    // The same TypeScript loader this file runs under; the supervisor's output goes to a log beside its state.
    const loader = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript'));
    const log = openSync(join(stateDir, 'supervisor.log'), 'a');
    const child = spawn(process.execPath, [...loader, join(TEST_DIR, 'helpers', 'control-plane-supervisor.ts'), stateDir, String(process.ppid)], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const state = existsSync(stateFile) ? readState(stateFile) : undefined;
    if (state?.error) throw new Error(state.error);
    if (state?.ready) return state.ready;
    await sleep(250);
  }
  const log = existsSync(join(stateDir, 'supervisor.log')) ? readFileSync(join(stateDir, 'supervisor.log'), 'utf8').slice(-3000) : '';
  throw new Error(`the test control plane did not start within ${START_TIMEOUT_MS / 1000} s\n${log}`);
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl of the pinned version against the control plane; never throws, the exit code is the result. */
export function kubectl(plane: ControlPlaneInfo, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(join(plane.binDir, 'kubectl'), [`--kubeconfig=${plane.kubeconfig}`, ...args], { maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env['PATH'], HOME: tmpdir(), NO_PROXY: '*' } }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(plane: ControlPlaneInfo, args: string[], input?: string): Promise<string> {
  const run = await kubectl(plane, args, input);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${run.code}): ${run.stderr}`);
  return run.stdout;
}

/** An object as stored, or undefined when absent. */
export async function getObject(plane: ControlPlaneInfo, kind: string, name: string, namespace?: string): Promise<any> {
  const run = await kubectl(plane, ['get', kind, name, '-o', 'json', ...(namespace ? ['-n', namespace] : [])]);
  if (run.code !== 0) {
    if (/NotFound/.test(run.stderr)) return undefined;
    throw new Error(`kubectl get ${kind} ${name} failed: ${run.stderr}`);
  }
  return JSON.parse(run.stdout);
}

/** Polls until check() returns a value that is not undefined/false, or fails after `seconds`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * A kubeconfig for a user of the control plane, authenticated by a client certificate its CA signs (CN is
 * the user name, O the groups), with `namespace` as the context's default. RBAC decides what it may do.
 */
export function userKubeconfig(plane: ControlPlaneInfo, user: string, namespace = 'default', groups: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-user-'));
  const subject = `${groups.map((group) => `/O=${group}`).join('')}/CN=${user}`;
  signCertificate(plane.pkiDir, user, subject, 'extendedKeyUsage=clientAuth\n');
  const config = kubeconfigFor(plane.server, plane.pkiDir, user, namespace);
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, config, { mode: 0o600 });
  return file;
}
