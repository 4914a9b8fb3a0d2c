/**
 * The real Argo Rollouts controller against the test control plane: the binary and the CRDs of its release
 * that test/cluster-bins/build.sh builds (argo-rollouts/go.mod pins the version).
 *
 * The controller runs in namespaced mode (--namespaced): it acts only on its namespace, so test files sharing
 * one control plane may each run their own without two controllers fighting over one Rollout. It runs as the
 * admin, without leader election, and its metrics and healthz servers listen on ports the kernel picks (nothing
 * reads them). It is stopped at the test's teardown, and by a watchdog if the test process dies first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { eventually, kubectlOk, type ControlPlaneInfo } from './cluster.js';
import { binaryDirs } from './control-plane.js';
import { getJson } from './pod-watch.js';

export const ARGO_ROLLOUTS_CRDS = ['rollouts', 'experiments', 'analysisruns', 'analysistemplates', 'clusteranalysistemplates'].map((plural) => `${plural}.argoproj.io`);

export interface ArgoRolloutsOptions {
  /** The namespace it watches; the caller creates it. */
  namespace: string;
  /**
   * The folder of its log, rollouts-controller-NAMESPACE.log; by default the control plane's logs folder,
   * which goes with the control plane.
   */
  dir?: string;
}

export interface ArgoRollouts {
  namespace: string;
  /** The version the controller reports, e.g. v1.10.1+unknown (a module build has no git metadata). */
  version: string;
  /** The controller's stdout and stderr. */
  logFile: string;
  /** The end of its log, for a failed assertion's diagnostics. */
  logTail(lines?: number): string;
  /** Ends the controller (SIGTERM, then SIGKILL); idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Installs (or updates) the Rollout, Experiment and analysis CRDs and waits until they are served. Server-side:
 * the CRDs are larger than the last-applied annotation of a client-side apply may be. Idempotent, so test
 * files sharing the control plane may all call it; the CRDs stay for the rest of the run.
 */
export async function installArgoRolloutsCrds(plane: ControlPlaneInfo): Promise<void> {
  const crds = join(binaryDirs().argoRollouts, 'crds');
  const files = readdirSync(crds).filter((file) => file.endsWith('.yaml')).map((file) => join(crds, file));
  await kubectlOk(plane, ['apply', '--server-side', '--field-manager=rollsafe-tests', ...files.flatMap((file) => ['-f', file])]);
  // Polled: `kubectl wait --for=condition=Established` fails, not waits, on a CRD that has no conditions yet.
  for (const name of ARGO_ROLLOUTS_CRDS) {
    await eventually(`CRD ${name} Established`, async () => {
      const crd = await getJson(plane.kubeconfig, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      return (crd['status']?.conditions ?? []).some((condition: Record<string, unknown>) => condition['type'] === 'Established' && condition['status'] === 'True');
    });
  }
}

/**
 * Installs the CRDs, then starts the controller for `options.namespace` and resolves once its informers have
 * synced and its workers run ("Started controller" in its log). Stopped at t's teardown.
 */
export async function startArgoRollouts(t: Test, plane: ControlPlaneInfo, options: ArgoRolloutsOptions): Promise<ArgoRollouts> {
  const { namespace } = options;
  await installArgoRolloutsCrds(plane);
  const binary = join(binaryDirs().argoRollouts, 'rollouts-controller');
  const dir = options.dir ?? join(plane.dir, 'logs');
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `rollouts-controller-${namespace}.log`);
  // Truncated now, not when a stream would open: the "Started controller" awaited below must be this start's.
  const log = openSync(logFile, 'w');
  const args = [
    `--kubeconfig=${plane.kubeconfig}`,
    '--namespaced',
    `--namespace=${namespace}`,
    '--leader-elect=false',
    // 0: a port the kernel picks, so controllers of parallel test files never clash.
    '--metricsPort=0',
    '--healthzPort=0',
    '--loglevel=info',
  ];
  // A shell watchdog between the test process and the controller: if the test process dies without its
  // teardown (killed on a timeout), the controller goes within a second instead of outliving the run.
  const watchdog = 'owner=$1; shift; "$@" & pid=$!; trap \'kill -TERM $pid 2>/dev/null; wait $pid; exit\' TERM INT; while kill -0 "$owner" 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done; kill -TERM $pid 2>/dev/null; wait $pid';
  const child: ChildProcess = spawn('bash', ['-c', watchdog, 'argo-rollouts-watchdog', String(process.pid), binary, ...args], {
    cwd: dir,
    // POD_NAMESPACE: where the controller reads its own ConfigMaps (argo-rollouts-config, notifications), as in a pod.
    env: { PATH: process.env['PATH'], HOME: dir, NO_PROXY: '*', POD_NAMESPACE: namespace },
    stdio: ['ignore', log, log],
    // Its own process group, so that stop() reaches the controller as well as the watchdog.
    detached: true,
  });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch {
      // The group is gone already.
    }
  };

  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const logTail = (lines = 30) => readLog().trimEnd().split('\n').slice(-lines).join('\n') || '(no log)';
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (running()) {
        signal('SIGTERM');
        // Unreferenced: a timer left pending would hold the test process for its whole length.
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
        if (running()) {
          signal('SIGKILL');
          await exited;
        }
      }
    })());
  t.teardown(stop);

  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = readLog();
    if (text.includes('msg="Started controller"')) {
      const version = /msg="Argo Rollouts controller starting".*?version=(\S+)/.exec(text)?.[1] ?? 'unknown';
      return { namespace, version, logFile, logTail, stop };
    }
    if (!running() || Date.now() > deadline) {
      const reason = running() ? 'did not start within 60 s' : `exited (code ${child.exitCode}, signal ${child.signalCode})`;
      const tail = logTail();
      await stop();
      throw new Error(`the Argo Rollouts controller ${reason}:\n${tail}`);
    }
    await sleep(200);
  }
}
