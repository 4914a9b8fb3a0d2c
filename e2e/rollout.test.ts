/**
 * The promise, on a real node: rolling a typical app (it listens 3 s after it starts and exits at once on
 * SIGTERM) from v1 to v2 under HTTP load through its Service loses requests as the manifest is usually written,
 * and none after `rollsafe fix` plus the readiness probe `rollsafe audit` asks for. Run by `npm run e2e`
 * (e2e/run.sh): containerd, runc, the CNI bridge, a kubelet and kube-proxy in iptables mode on this machine.
 *
 * The load is production's, from one client: 8 senders at 50 requests/s each, a new connection per request,
 * and at least 10,000 requests per scenario, so that a scenario that loses none could have shown a loss of 1 in
 * 10,000.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { eventually } from '../test/helpers/cluster.js';
import { startControlPlane, type ControlPlane } from '../test/helpers/control-plane.js';
import { createDryRun } from '../test/helpers/dry-run.js';
import { TEST_DIR } from '../test/helpers/fixtures.js';
import { observeRollout, type RolloutObservation } from '../test/helpers/rollout-observer.js';
import { runCli } from '../test/helpers/run-cli.js';
import { startTestServer } from '../test/helpers/server.js';
import { describeProcess, processes } from './helpers/host.js';
import { APP_IMAGE, buildImages } from './helpers/images.js';
import { startLaggingLb, type LaggingLb } from './helpers/lagging-lb.js';
import { buildRollsafeImage, ROLLSAFE_IMAGE } from './helpers/rollsafe-image.js';
import { describe, lost, startLoadThread, timeoutsDuringStalls, type Load, type LoadResult } from './helpers/load.js';
import { claimNode, forgetConnections, NODE_IP, releaseNode, routeServicesThroughPodBridge, startNode, type Node, type TeardownReport } from './helpers/node.js';

type Obj = Record<string, any>;
/** A request not answered in this long counts as a timeout. */
const TIMEOUT_MS = 3000;
const LOAD = { senders: 8, perSenderPerSecond: 50, timeoutMs: TIMEOUT_MS };
/** Enough that a scenario which loses none could have shown a loss of 1 in 10,000. */
const MIN_REQUESTS = 10_000;
/** How late the lagging load balancer deregisters a terminating pod. */
const DEREGISTRATION_DELAY_SECONDS = 15;

const dir = mkdtempSync(join(tmpdir(), 'rollsafe-e2e-'));
for (const note of await claimNode(dir, join(dir, 'node'))) t.comment(note);
let nodeBins: string;
let plane: ControlPlane;
try {
  nodeBins = execFileSync('bash', [join(TEST_DIR, 'cluster-bins', 'build.sh'), '--node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  plane = await startControlPlane(join(dir, 'plane'), { nodes: 'none' });
} catch (error) {
  releaseNode();
  throw error;
}
let node: Node | undefined;

/**
 * The node (every container and sandbox, then its processes, checked), then the control plane, then a last
 * look for any process naming the run's folder. Once, whoever asks first: the last test, a signal, tap's
 * teardown.
 */
let shuttingDown: Promise<TeardownReport> | undefined;
function shutdown(): Promise<TeardownReport> {
  shuttingDown ??= (async () => {
    let report: TeardownReport = { forced: [], remaining: [], notes: [] };
    try {
      if (node) report = await node.stop();
      else releaseNode();
    } finally {
      await plane.stop();
    }
    for (const info of processes().filter((info) => info.cmdline.includes(dir))) {
      report.remaining.push(describeProcess(info));
      process.kill(info.pid, 'SIGKILL');
    }
    // The logs stay when something failed; the images, manifests and state always go.
    if (t.passing() && report.remaining.length === 0) rmSync(dir, { recursive: true, force: true });
    else for (const folder of ['images', 'manifests']) rmSync(join(dir, folder), { recursive: true, force: true });
    return report;
  })();
  return shuttingDown;
}
t.teardown(async () => {
  await shutdown();
});
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(signal, () => {
    console.error(`e2e: ${signal}: tearing the node down (again to abandon it; e2e/run.sh --cleanup cleans up after)`);
    void shutdown().finally(() => process.exit(code));
  });
}
try {
  node = await startNode(plane, nodeBins, join(dir, 'node'), [...buildImages(join(dir, 'images')), buildRollsafeImage(join(dir, 'images'))]);
} catch (error) {
  await shutdown();
  throw error;
}

/** kubectl, asynchronous: a synchronous call would stop the load generator's clock while it waits. */
function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(join(plane.binDir, 'kubectl'), [`--kubeconfig=${plane.kubeconfig}`, ...args], { encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The app as usually written: 3 replicas, the default strategy, no probe, no preStop. */
function naive(name: string, namespace = 'e2e'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: APP_IMAGE, imagePullPolicy: 'Never', env: [{ name: 'VERSION', value: 'v1' }], ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

function service(name: string, namespace: string): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } };
}

async function rolledOut(name: string, namespace: string): Promise<void> {
  await kubectl(['rollout', 'status', `deployment/${name}`, '-n', namespace, '--timeout=180s']);
}

/** Every answer through the Service is `version` (the old pods are gone from it). */
async function serving(url: string, version: string): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const text = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((response) => response.text());
      if (text.trim() === version) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} never answered ${version}`);
}

/** Where the load goes: the Service's ClusterIP (kube-proxy), or a load balancer in front of its pods. */
interface Entry {
  url: string;
  close(): Promise<void>;
}

interface RollOptions {
  /** The load's way in, given the Service's ClusterIP; the Service itself by default. */
  entry?: (clusterIP: string) => Promise<Entry>;
  /** Rolls the Deployment by calling `trigger` (the template change), e.g. watching the pods while it does. */
  roll?: (trigger: () => Promise<unknown>) => Promise<unknown>;
  /** How long the load goes on after the rollout is complete and v2 answers (old pods still terminating). */
  settleMs?: number;
}

/**
 * Creates the app at v1 behind a Service of its own, then rolls it to v2 under load; returns what the load saw.
 * The load goes on until the rollout is over and at least MIN_REQUESTS requests were sent.
 */
async function rollUnderLoad(name: string, manifest: Obj, options: RollOptions = {}): Promise<LoadResult> {
  const namespace: string = manifest.metadata.namespace;
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [service(name, namespace), manifest] }));
  await rolledOut(name, namespace);
  routeServicesThroughPodBridge();
  const ip = (await kubectl(['get', 'service', name, '-n', namespace, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  // A fresh Service, and nothing conntrack still remembers for its address (see forgetConnections).
  forgetConnections(ip);
  const entry = options.entry ? await options.entry(ip) : { url: `http://${ip}/`, close: async () => undefined };
  let load: Load | undefined;
  try {
    await serving(entry.url, 'v1');
    load = await startLoadThread(entry.url, LOAD);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const trigger = () => kubectl(['set', 'env', `deployment/${name}`, '-n', namespace, 'VERSION=v2']);
    await (options.roll ? options.roll(trigger) : trigger());
    await rolledOut(name, namespace);
    await serving(entry.url, 'v2');
    // The old pods' termination (grace period) runs on after the rollout is "complete".
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 15000));
    const result = await load.stop(MIN_REQUESTS);
    load = undefined;
    return result;
  } finally {
    // A scenario that failed half-way stops its load too.
    await load?.stop().catch(() => undefined);
    await entry.close();
  }
}

function reportLoad(t: Assert, scenario: string, result: LoadResult): void {
  t.comment(`${scenario}: ${describe(result)}`);
  if (result.stalls.length > 0) t.comment(`${scenario}: load generator stalls (ms since start, ms late): ${JSON.stringify(result.stalls.slice(0, 20))}; timeouts during them: ${timeoutsDuringStalls(result, TIMEOUT_MS)}`);
  if (result.failures.length > 0 && result.failures.length <= 40) t.comment(`${scenario}: failures (ms since start, kind): ${JSON.stringify(result.failures)}`);
  t.ok(result.sent >= MIN_REQUESTS, `at least ${MIN_REQUESTS} requests, so that a loss of 1 in 10,000 could show (${result.sent})`);
}

/** The assertions a scenario's helpers use, of whichever test runs them. */
type Assert = Pick<typeof t, 'comment' | 'ok' | 'equal'>;

/** The app as usually written, with the readiness probe `rollsafe audit` asks for, through `rollsafe fix`. */
async function fixedByDefault(t: Assert, name: string): Promise<Obj> {
  const manifest = naive(name);
  manifest.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 };
  const fixed = await runCli(['fix', '-'], { stdin: stringify(manifest) });
  t.equal(fixed.code, 0, fixed.stderr);
  return parse(fixed.stdout) as Obj;
}

await kubectl(['create', 'namespace', 'e2e']);

t.test('as usually written, a rollout under load loses requests (else this run proves nothing)', async (t) => {
  const result = await rollUnderLoad('naive', naive('naive'));
  reportLoad(t, 'naive', result);
  t.ok(result.refused + result.reset > 0, `requests were refused or reset during the rollout (${describe(result)})`);
});

t.test('after rollsafe fix and the readiness probe rollsafe audit asks for, none is lost; rollsafe plan predicted the rollout', async (t) => {
  const audit = await runCli(['audit', '-'], { stdin: stringify(naive('fixed')) });
  t.match(audit.stdout, /readinessProbe: \{httpGet: \{path: \/ready, port: "http"\}, periodSeconds: 5\}/, 'audit asks for a readiness probe, with an example');
  // The example's probe, pointed at what this app serves when it is ready (its / page).
  const object = await fixedByDefault(t, 'fixed');
  t.ok(object.spec.template.spec.containers[0].lifecycle?.preStop, 'fix added the preStop sleep');

  let observation: RolloutObservation | undefined;
  const result = await rollUnderLoad('fixed', object, {
    roll: async (trigger) => {
      observation = await observeRollout({ kubeconfig: plane.kubeconfig, namespace: 'e2e', kind: 'Deployment', name: 'fixed', trigger, timeoutMs: 180_000 });
    },
  });
  reportLoad(t, 'fixed', result);
  t.equal(lost(result, TIMEOUT_MS), 0, `none lost: ${describe(result)}`);

  // The plan of the same manifest, for this app on this node: it answers 3 s after it starts, exits at once on
  // SIGTERM, and its pods take as long from creation to a running container as they took here.
  const podStartSeconds = await measuredPodStart('e2e', 'fixed');
  const planned = await rollsafe(['plan', '-', '-o', 'json', '--app-start-seconds', '3', '--exit-seconds', '0', '--pod-start-seconds', String(podStartSeconds)], stringify(object));
  const rollout = (JSON.parse(planned) as Obj).workloads[0].rollout as Obj;
  const seen = observation!;
  const observedSeconds = seen.timeline.at(-1)!.ms / 1000;
  t.comment(`plan: peak predicted ${rollout.peakPods} observed ${seen.peakPods}; ready floor predicted ${rollout.minReady} observed ${seen.minReady}; duration predicted ${rollout.estimatedSeconds}s observed ${observedSeconds.toFixed(1)}s (pods start ${podStartSeconds}s after creation here)`);
  const diagnostics = { predicted: rollout.steps, observed: seen.timeline.map((entry) => `${entry.ms} ms ${entry.change}: old ${entry.old} new ${entry.new} ready ${entry.ready} terminating ${entry.terminating}`) };
  t.equal(seen.peakPods, rollout.peakPods, 'the peak of pods, terminating included, is the predicted one', diagnostics);
  t.ok(seen.minReady >= rollout.minReady, `the Ready count never fell below the predicted floor (${seen.minReady} >= ${rollout.minReady})`, diagnostics);
});

/** The built CLI (dist/cli.js, as users run it): its stdout; an error when it exits with anything but 0. */
function rollsafe(args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [join(TEST_DIR, '..', 'dist', 'cli.js'), ...args], { encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`rollsafe ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

/** From a pod's creation to its container running, on this node: the mean over a workload's pods, in seconds. */
async function measuredPodStart(namespace: string, app: string): Promise<number> {
  const pods = JSON.parse(await kubectl(['get', 'pods', '-n', namespace, '-l', `app=${app}`, '-o', 'json'])).items as Obj[];
  const starts = pods
    .map((pod) => (Date.parse(pod.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? '') - Date.parse(pod.metadata.creationTimestamp)) / 1000)
    .filter((seconds) => Number.isFinite(seconds));
  return starts.length === 0 ? 0 : Math.round((starts.reduce((sum, seconds) => sum + seconds, 0) / starts.length) * 10) / 10;
}

t.test('the node is the one this run started', async (t) => {
  t.equal(await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}']), NODE_IP);
});

t.test('through the webhook: the naive app is denied; with a readiness probe, /mutate adds the rest and none is lost', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'e2e-webhook', labels: { 'rollsafe.e2e/webhook': 'yes' } } }));
  // manifests/base's webhook configurations, pointed at the server on this machine and at this namespace.
  const rendered = parseAllDocuments(await kubectl(['kustomize', join(TEST_DIR, '..', 'manifests', 'base')])).map((doc) => doc.toJS() as Obj);
  const configs = rendered.filter((object) => /WebhookConfiguration$/.test(object.kind));
  for (const config of configs) {
    for (const webhook of config.webhooks) {
      webhook.clientConfig = { url: `${server.url}${webhook.clientConfig.service.path}`, caBundle: server.certificates.ca.toString('base64') };
      webhook.namespaceSelector.matchExpressions.push({ key: 'rollsafe.e2e/webhook', operator: 'In', values: ['yes'] });
    }
  }
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: configs }));
  t.teardown(async () => {
    await kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', 'rollsafe', '--ignore-not-found']);
  });
  const denied = await kubectl(['apply', '-f', '-'], JSON.stringify(naive('hooked', 'e2e-webhook'))).then(
    () => '',
    (error: Error) => error.message,
  );
  t.match(denied, /admission webhook "[a-z]+\.validate\.rollsafe\.dev" denied the request/, 'the naive app is denied');
  const probed = naive('hooked', 'e2e-webhook');
  probed.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 };
  const result = await rollUnderLoad('hooked', probed);
  const stored = JSON.parse(await kubectl(['get', 'deployment', 'hooked', '-n', 'e2e-webhook', '-o', 'json'])) as Obj;
  t.ok(stored.spec.template.spec.containers[0].lifecycle?.preStop?.sleep, '/mutate added the preStop sleep');
  reportLoad(t, 'webhook', result);
  t.equal(lost(result, TIMEOUT_MS), 0, `none lost: ${describe(result)}`);
});

/** A dry-run create: the admission chain runs, nothing is stored. */
async function dryRunCreate(namespace: string, object: Obj): Promise<{ status: number; message: string }> {
  const answer = await createDryRun(plane, namespace, object, 15_000);
  return { status: answer.status, message: String(answer.body['message'] ?? '') };
}

t.test("rollsafe's own Deployment (manifests/, self-signed overlay) rolls while the apiserver sends it admission requests: none fails", async (t) => {
  // The overlay wants certs/generate.sh's files beside it: a copy of manifests/ in the run's folder.
  const manifests = join(dir, 'manifests');
  cpSync(join(TEST_DIR, '..', 'manifests'), manifests, { recursive: true });
  execFileSync('bash', [join(TEST_DIR, '..', 'certs', 'generate.sh'), '--out', join(manifests, 'overlays', 'self-signed'), '--force'], { stdio: 'ignore' });
  const objects = parseAllDocuments(await kubectl(['kustomize', join(manifests, 'overlays', 'self-signed')])).map((doc) => doc.toJS() as Obj);
  for (const object of objects) {
    if (object.kind === 'Deployment') {
      const container = object.spec.template.spec.containers[0];
      container.image = ROLLSAFE_IMAGE;
      container.imagePullPolicy = 'Never';
    }
    if (/WebhookConfiguration$/.test(object.kind)) {
      for (const webhook of object.webhooks) {
        // Fail, not the shipped Ignore: a call that does not get through must show as a failed request.
        webhook.failurePolicy = 'Fail';
        webhook.namespaceSelector.matchExpressions.push({ key: 'rollsafe.e2e/admission', operator: 'In', values: ['yes'] });
      }
    }
  }
  const webhooks = objects.filter((object) => /WebhookConfiguration$/.test(object.kind));
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.filter((object) => !webhooks.includes(object)) }));
  await rolledOut('rollsafe', 'rollsafe-system');
  routeServicesThroughPodBridge();
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: webhooks }));
  t.teardown(async () => {
    await kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', 'rollsafe', '--ignore-not-found']);
  });
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'e2e-admission', labels: { 'rollsafe.e2e/admission': 'yes' } } }));

  const spread = { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'batch' } } };
  const good = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'batch' }, spec: { replicas: 2, selector: { matchLabels: { app: 'batch' } }, template: { metadata: { labels: { app: 'batch' } }, spec: { topologySpreadConstraints: [spread], containers: [{ name: 'worker', image: APP_IMAGE }] } } } };
  const bad = naive('web', 'e2e-admission');
  await eventually('the webhook judges', async () => (await dryRunCreate('e2e-admission', bad)).status === 403);

  // Admission requests all along: a workload that passes, one that is denied; anything else is a failed admission.
  const outcomes = { allowed: 0, denied: 0, failed: 0 };
  const failures: string[] = [];
  let sending = true;
  const sender = (async () => {
    for (let index = 0; sending; index++) {
      const passes = index % 2 === 0;
      const answer = await dryRunCreate('e2e-admission', passes ? good : bad);
      if (passes && answer.status === 201) outcomes.allowed++;
      else if (!passes && answer.status === 403 && /denied the request/.test(answer.message)) outcomes.denied++;
      else {
        outcomes.failed++;
        if (failures.length < 5) failures.push(`${answer.status}: ${answer.message.slice(0, 200)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await kubectl(['rollout', 'restart', 'deployment/rollsafe', '-n', 'rollsafe-system']);
  await rolledOut('rollsafe', 'rollsafe-system');
  // The old pods keep serving through their preStop sleep and shutdown delay (terminationGracePeriodSeconds 40).
  await new Promise((resolve) => setTimeout(resolve, 30000));
  sending = false;
  await sender;
  t.comment(`admission requests during rollsafe's own rollout: ${outcomes.allowed} allowed, ${outcomes.denied} denied as expected, ${outcomes.failed} failed ${JSON.stringify(failures)}`);
  t.ok(outcomes.allowed + outcomes.denied > 100, 'requests were sent all along');
  t.equal(outcomes.failed, 0, 'no admission request failed while the webhook rolled');
});

/** The load through a load balancer that deregisters a terminating pod DEREGISTRATION_DELAY_SECONDS late. */
function throughLaggingLb(namespace: string, name: string, report: (lb: LaggingLb) => void) {
  return async (): Promise<Entry> => {
    const lb = await startLaggingLb({ kubeconfig: plane.kubeconfig, namespace, service: name, targetPort: 8080, deregistrationDelaySeconds: DEREGISTRATION_DELAY_SECONDS });
    report(lb);
    return { url: lb.url, close: () => lb.close() };
  };
}

function describeLb(lb: LaggingLb): string {
  const stats = lb.stats;
  return `load balancer: ${stats.connections} connections, ${stats.toDeregistering} to pods being deregistered, ${stats.upstreamFailed} not accepted by their pod (${stats.upstreamFailedDeregistering} of them being deregistered), ${stats.noTarget} with no pod`;
}

t.test(`lb-naive: through a load balancer that deregisters terminating pods ${DEREGISTRATION_DELAY_SECONDS} s late, the default fix (a 10 s preStop sleep) loses requests`, async (t) => {
  const object = await fixedByDefault(t, 'lb-naive');
  t.equal(object.spec.template.spec.containers[0].lifecycle?.preStop?.sleep?.seconds, 10, 'the default fix: a 10 s preStop sleep');
  let lb: LaggingLb | undefined;
  // The load goes on until every old pod has been deregistered, and a little more.
  const result = await rollUnderLoad('lb-naive', object, { entry: throughLaggingLb('e2e', 'lb-naive', (started) => (lb = started)), settleMs: (DEREGISTRATION_DELAY_SECONDS + 5) * 1000 });
  reportLoad(t, 'lb-naive', result);
  t.comment(`lb-naive: ${describeLb(lb!)}`);
  t.ok(lost(result, TIMEOUT_MS) > 0, `requests were lost (${describe(result)})`);
  t.ok(lb!.stats.upstreamFailedDeregistering > 0, `the lost ones went to pods that had exited while the load balancer still sent to them (${describeLb(lb!)})`, { events: lb!.stats.events });
});

/**
 * The lagging load balancer's lag as the policy states it for the profile of what is in front (an NLB in IP mode,
 * loadBalancers.awsNlbIp): a little more than the lag, as a platform engineer would set it from a measurement.
 */
const LB_PROFILE_SECONDS = DEREGISTRATION_DELAY_SECONDS + 5;

t.test(`lb-fixed: through the same lagging load balancer, after rollsafe fix with the profile set to ${LB_PROFILE_SECONDS} s, none is lost`, async (t) => {
  const manifest = naive('lb-fixed');
  manifest.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 };
  // What stands in front, as the user's manifests say it: a Service the AWS Load Balancer Controller turns into an
  // NLB with IP targets (no deregistration delay: the lagging proxy keeps no connection past its lag).
  const front = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'lb-fixed-public',
      namespace: 'e2e',
      annotations: {
        'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
        'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
        'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'deregistration_delay.timeout_seconds=0',
      },
    },
    spec: { type: 'LoadBalancer', selector: { app: 'lb-fixed' }, ports: [{ port: 80, targetPort: 8080 }] },
  };
  const policy = join(dir, 'lb-policy.yaml');
  writeFileSync(policy, `apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nloadBalancers: {awsNlbIp: ${LB_PROFILE_SECONDS}}\n`);
  const fixed = await runCli(['fix', '--policy', policy, '-'], { stdin: `${stringify(manifest)}---\n${stringify(front)}` });
  t.equal(fixed.code, 0, fixed.stderr);
  const object = parseAllDocuments(fixed.stdout).map((doc) => doc.toJS() as Obj).find((candidate) => candidate.kind === 'Deployment') as Obj;
  const spec = object.spec.template.spec;
  t.equal(spec.containers[0].lifecycle?.preStop?.sleep?.seconds, LB_PROFILE_SECONDS, 'the sleep of the profile, not the plain 10 s');
  t.equal(spec.terminationGracePeriodSeconds, LB_PROFILE_SECONDS + 20, 'the sleep + drainSeconds (no deregistration delay)');
  let lb: LaggingLb | undefined;
  const result = await rollUnderLoad('lb-fixed', object, { entry: throughLaggingLb('e2e', 'lb-fixed', (started) => (lb = started)), settleMs: (LB_PROFILE_SECONDS + 5) * 1000 });
  reportLoad(t, 'lb-fixed', result);
  t.comment(`lb-fixed: ${describeLb(lb!)}`);
  // Where a request was lost, the load balancer's registrations say what it was doing then.
  if (lost(result, TIMEOUT_MS) > 0) t.comment(`lb-fixed: load balancer events: ${JSON.stringify(lb!.stats.events)}`);
  t.equal(lost(result, TIMEOUT_MS), 0, `none lost: ${describe(result)}`);
});

t.test('teardown: every container and sandbox of the run is stopped and deleted, and none of its processes remain', async (t) => {
  const report = await shutdown();
  for (const line of report.forced) t.comment(`teardown: ${line}`);
  for (const line of report.notes) t.comment(`teardown: ${line}`);
  t.same(report.remaining, [], 'no process of the run remains (containers, shims, the node, the control plane)');
});
