/**
 * The promise, on a real node: rolling a typical app (it listens 3 s after it starts and exits at once on
 * SIGTERM) from v1 to v2 under HTTP load through its Service loses requests as the manifest is usually written,
 * and none after `rollsafe fix` plus the readiness probe `rollsafe audit` asks for. Run by `npm run e2e`
 * (e2e/run.sh): containerd, runc, the CNI bridge, a kubelet and kube-proxy in iptables mode on this machine.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { eventually } from '../test/helpers/cluster.js';
import { startControlPlane } from '../test/helpers/control-plane.js';
import { createDryRun } from '../test/helpers/dry-run.js';
import { TEST_DIR } from '../test/helpers/fixtures.js';
import { runCli } from '../test/helpers/run-cli.js';
import { startTestServer } from '../test/helpers/server.js';
import { APP_IMAGE, buildImages } from './helpers/images.js';
import { buildRollsafeImage, ROLLSAFE_IMAGE } from './helpers/rollsafe-image.js';
import { describe, lost, startLoad, timeoutsDuringStalls, type LoadResult } from './helpers/load.js';
import { NODE_IP, routeServicesThroughPodBridge, startNode } from './helpers/node.js';

type Obj = Record<string, any>;
const RATE = 100;
/** A request not answered in this long counts as a timeout. */
const TIMEOUT_MS = 3000;

const dir = mkdtempSync(join(tmpdir(), 'rollsafe-e2e-'));
const nodeBins = execFileSync('bash', [join(TEST_DIR, 'cluster-bins', 'build.sh'), '--node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const plane = await startControlPlane(join(dir, 'plane'), { nodes: 'none' });
t.teardown(() => plane.stop());
const node = await startNode(plane, nodeBins, join(dir, 'node'), [...buildImages(join(dir, 'images')), buildRollsafeImage(join(dir, 'images'))]);
t.teardown(() => node.stop());

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

/** Creates the app at v1, then rolls it to v2 under load; returns what the load saw. */
async function rollUnderLoad(name: string, manifest: Obj): Promise<LoadResult> {
  const namespace: string = manifest.metadata.namespace;
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [service(name, namespace), manifest] }));
  await rolledOut(name, namespace);
  routeServicesThroughPodBridge();
  const ip = await kubectl(['get', 'service', name, '-n', namespace, '-o', 'jsonpath={.spec.clusterIP}']);
  const url = `http://${ip}/`;
  await serving(url, 'v1');
  const load = startLoad(url, RATE, TIMEOUT_MS);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await kubectl(['set', 'env', `deployment/${name}`, '-n', namespace, 'VERSION=v2']);
  await rolledOut(name, namespace);
  await serving(url, 'v2');
  // The old pods' termination (grace period) runs on after the rollout is "complete".
  await new Promise((resolve) => setTimeout(resolve, 15000));
  return load.stop();
}

await kubectl(['create', 'namespace', 'e2e']);

t.test('as usually written, a rollout under load loses requests (else this run proves nothing)', async (t) => {
  const result = await rollUnderLoad('naive', naive('naive'));
  t.comment(`naive: ${describe(result)}`);
  t.ok(result.refused + result.reset > 0, `requests were refused or reset during the rollout (${describe(result)})`);
});

t.test('after rollsafe fix and the readiness probe rollsafe audit asks for, none is lost', async (t) => {
  const manifest = naive('fixed');
  const audit = await runCli(['audit', '-'], { stdin: stringify(manifest) });
  t.match(audit.stdout, /readinessProbe: \{httpGet: \{path: \/ready, port: "http"\}, periodSeconds: 5\}/, 'audit asks for a readiness probe, with an example');
  // The example's probe, pointed at what this app serves when it is ready (its / page).
  manifest.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 };
  const fixed = await runCli(['fix', '-'], { stdin: stringify(manifest) });
  t.equal(fixed.code, 0, fixed.stderr);
  const object = parse(fixed.stdout) as Obj;
  t.ok(object.spec.template.spec.containers[0].lifecycle?.preStop, 'fix added the preStop sleep');
  const result = await rollUnderLoad('fixed', object);
  t.comment(`fixed: ${describe(result)}`);
  if (result.stalls.length > 0) t.comment(`load generator stalls (ms since start, ms late): ${JSON.stringify(result.stalls)}; timeouts during them: ${timeoutsDuringStalls(result, TIMEOUT_MS)}`);
  t.equal(lost(result, TIMEOUT_MS), 0, `none lost: ${describe(result)}`);
});

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
  t.comment(`webhook: ${describe(result)}`);
  if (result.stalls.length > 0) t.comment(`load generator stalls (ms since start, ms late): ${JSON.stringify(result.stalls)}; timeouts during them: ${timeoutsDuringStalls(result, TIMEOUT_MS)}`);
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
