/**
 * The real Argo Rollouts controller (helpers/argo-rollouts.ts) on the test control plane: a canary Rollout and
 * a blue-green one, each created, then rolled to a new pod template, to completion. Pods are kwok's, Ready a
 * short time after they are scheduled (kwok-timed-stages.ts), so the controller waits on real readiness.
 * Then rollsafe serve is registered as manifests/base with the Argo Rollouts component registers it (by url),
 * and the apiserver chains /mutate, reinvocation and /validate for every Rollout write, the controller's own
 * included: naive Rollouts are denied in enforce mode, `rollsafe fix`ed ones roll to completion, and updates
 * that start no rollout (labels, the controller's writes) are never denied, also for Rollouts that predate it.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments, stringify } from 'yaml';
import { kubectl, type Run } from './helpers/cluster.js';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';
import { startTestServer } from './helpers/server.js';
import { startArgoRollouts } from './helpers/argo-rollouts.js';
import { eventually, getObject, kubectlOk, sharedControlPlane } from './helpers/cluster.js';
import { timedPodAnnotations } from './helpers/kwok-timed-stages.js';
import { getJson, isReady } from './helpers/pod-watch.js';

type Obj = Record<string, any>;

const NAMESPACE = 'argo-rollouts-test';
const HASH_LABEL = 'rollouts-pod-template-hash';

const plane = await sharedControlPlane(t);
const apply = (object: Obj) => kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify(object));
await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
t.teardown(() => kubectlOk(plane, ['delete', 'namespace', NAMESPACE, '--wait=false']));
await eventually('the default ServiceAccount', () => getObject(plane, 'serviceaccount', 'default', NAMESPACE));
const argo = await startArgoRollouts(t, plane, { namespace: NAMESPACE });

const api = (path: string) => getJson(plane.kubeconfig, path);
const rolloutPath = (name: string) => `/apis/argoproj.io/v1alpha1/namespaces/${NAMESPACE}/rollouts/${name}`;

function rollout(name: string, image: string, strategy: Obj): Obj {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      replicas: 3,
      revisionHistoryLimit: 2,
      selector: { matchLabels: { app: name } },
      template: {
        // Ready 300 ms after scheduling, gone 300 ms after deletion: the controller sees pods that are not yet Ready.
        metadata: { labels: { app: name }, annotations: timedPodAnnotations({ readyAfterMs: 300, terminateAfterMs: 300 }) },
        spec: { terminationGracePeriodSeconds: 5, containers: [{ name: 'app', image }] },
      },
      strategy,
    },
  };
}

/**
 * The Rollout once the controller has seen its latest spec and finished it: Healthy, every replica of the
 * current pod template updated and available, that template the stable one, and no other replicas
 * (status.replicas counts the old ReplicaSets' too: blue-green reports Healthy while they wait to scale down).
 */
async function completed(name: string, replicas = 3): Promise<Obj> {
  try {
    return await eventually(
      `Rollout ${name} Healthy at its latest generation`,
      async () => {
        const object = await api(rolloutPath(name));
        const status = object['status'] ?? {};
        const done =
          status.observedGeneration === String(object['metadata'].generation) &&
          status.phase === 'Healthy' &&
          status.updatedReplicas === replicas &&
          status.availableReplicas === replicas &&
          status.replicas === replicas &&
          status.currentPodHash !== undefined &&
          status.stableRS === status.currentPodHash;
        return done && object;
      },
      90,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\nstatus: ${JSON.stringify((await api(rolloutPath(name)))['status'])}\n--- rollouts-controller.log\n${argo.logTail()}`);
  }
}

/** The Rollout's ReplicaSets by pod template hash: desired replicas, and the Ready pods that carry the hash. */
async function replicaSets(name: string): Promise<Map<string, { replicas: number; readyPods: number }>> {
  const sets = (await api(`/apis/apps/v1/namespaces/${NAMESPACE}/replicasets?labelSelector=app%3D${name}`))['items'] as Obj[];
  const pods = (await api(`/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=app%3D${name}`))['items'] as Obj[];
  return new Map(
    sets.map((set) => {
      const hash: string = set['metadata'].labels[HASH_LABEL];
      const readyPods = pods.filter((pod) => pod['metadata'].labels[HASH_LABEL] === hash && !pod['metadata'].deletionTimestamp && isReady(pod)).length;
      return [hash, { replicas: set['spec'].replicas, readyPods }];
    }),
  );
}

/** Until only the current template's ReplicaSet has replicas, all of them Ready; the ReplicaSets then. */
async function onlyCurrentScaled(name: string, current: string) {
  return eventually(`only ReplicaSet ${current} of ${name} scaled up`, async () => {
    const sets = await replicaSets(name);
    const others = [...sets].filter(([hash, set]) => hash !== current && set.replicas !== 0);
    return others.length === 0 && sets.get(current)?.readyPods === 3 && sets;
  });
}

t.test('a canary Rollout rolls a new template to completion', async (t) => {
  const strategy = { canary: { steps: [{ setWeight: 50 }, { pause: { duration: '1s' } }] } };
  await apply(rollout('canary', 'example.com/app:1', strategy));
  const first = (await completed('canary'))['status'];
  t.equal(first.currentStepIndex, 2, 'a new Rollout starts fully promoted: its steps are for updates');
  await onlyCurrentScaled('canary', first.currentPodHash);

  await apply(rollout('canary', 'example.com/app:2', strategy));
  const second = (await completed('canary'))['status'];
  t.not(second.currentPodHash, first.currentPodHash, 'a new pod template hash');
  t.equal(second.stableRS, second.currentPodHash, 'the new template is the stable one');
  t.equal(second.currentStepIndex, 2, 'every step done');
  const sets = await onlyCurrentScaled('canary', second.currentPodHash);
  t.equal(sets.get(first.currentPodHash)?.replicas, 0, 'the old ReplicaSet kept, scaled to 0');
});

t.test('a blue-green Rollout switches its active Service to the new template', async (t) => {
  for (const role of ['active', 'preview']) {
    await apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `bluegreen-${role}`, namespace: NAMESPACE },
      spec: { selector: { app: 'bluegreen' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
  }
  const selector = async (role: string): Promise<Obj> => (await api(`/api/v1/namespaces/${NAMESPACE}/services/bluegreen-${role}`))['spec'].selector;
  // A short scale-down delay (default 30 s) keeps the test short; the old pods still outlive the switch.
  const strategy = { blueGreen: { activeService: 'bluegreen-active', previewService: 'bluegreen-preview', autoPromotionEnabled: true, scaleDownDelaySeconds: 2 } };
  await apply(rollout('bluegreen', 'example.com/app:1', strategy));
  const first = (await completed('bluegreen'))['status'];
  t.same(await selector('active'), { app: 'bluegreen', [HASH_LABEL]: first.currentPodHash }, 'the controller pins the active Service to the template hash');
  await onlyCurrentScaled('bluegreen', first.currentPodHash);

  await apply(rollout('bluegreen', 'example.com/app:2', strategy));
  const second = (await completed('bluegreen'))['status'];
  t.not(second.currentPodHash, first.currentPodHash, 'a new pod template hash');
  t.equal(second.stableRS, second.currentPodHash, 'the new template is the stable one');
  t.equal(second.blueGreen?.activeSelector, second.currentPodHash, 'status: active is the new template');
  t.same(await selector('active'), { app: 'bluegreen', [HASH_LABEL]: second.currentPodHash }, 'the active Service selects the new pods');
  t.same(await selector('preview'), { app: 'bluegreen', [HASH_LABEL]: second.currentPodHash }, 'so does the preview Service');
  const sets = await onlyCurrentScaled('bluegreen', second.currentPodHash);
  t.equal(sets.get(first.currentPodHash)?.replicas, 0, 'the old ReplicaSet scaled to 0 after the delay');
});

// ---- rollsafe plan against the controller ----------------------------------------------------------------------

/** `kubectl argo rollouts promote`, as its default path patches (promote.go getPatches): clear the pause. */
const promote = (name: string) =>
  kubectlOk(plane, ['patch', '-n', NAMESPACE, 'rollout', name, '--subresource=status', '--type=merge', '-p', '{"status":{"pauseConditions":null}}']);

/** The spec.replicas of the Rollout's ReplicaSets of the current template and of the stable one. */
async function canaryAndStable(name: string): Promise<{ canary: number; stable: number; status: Obj }> {
  const object = await api(rolloutPath(name));
  const status = object['status'] ?? {};
  const sets = (await api(`/apis/apps/v1/namespaces/${NAMESPACE}/replicasets?labelSelector=app%3D${name}`))['items'] as Obj[];
  const of = (hash: string) => sets.find((set) => set['metadata'].labels[HASH_LABEL] === hash)?.['spec'].replicas ?? 0;
  return { canary: of(status.currentPodHash), stable: of(status.stableRS), status };
}

async function planOf(object: Obj): Promise<Obj> {
  const run = await runCli(['plan', '-o', 'json', '-'], { stdin: stringify(object) });
  if (run.code !== 0) throw new Error(`rollsafe plan: ${run.stderr}`);
  return JSON.parse(run.stdout).workloads[0].argoRollout;
}

t.test('rollsafe plan: the pods of every canary step, as the controller holds them at each pause', async (t) => {
  for (const [name, canary, weights] of [
    // maxSurge 25% of 5 is 2: 50% is 3 canary beside 3 stable (6 pods), 90% 5 beside 1.
    ['steps', {}, [20, 50, 90]],
    // No surge: the weights must fit in 5 pods. (Not 90: 4.5 pods is a tie with no option left, which
    // approximateWeightedCanaryStableReplicaCounts answers "should not get here".)
    ['steps-no-surge', { maxSurge: 0, maxUnavailable: 1 }, [20, 50, 80]],
  ] as Array<[string, Obj, number[]]>) {
    const steps = weights.flatMap((setWeight) => [{ setWeight }, { pause: {} }]);
    const object = (image: string) => {
      const manifest = rollout(name, image, { canary: { ...canary, steps } });
      manifest['spec'].replicas = 5;
      return manifest;
    };
    await apply(object('example.com/app:1'));
    await completed(name, 5);
    const plan = await planOf(object('example.com/app:2'));
    t.equal(plan.strategy, 'canary');
    await apply(object('example.com/app:2'));
    for (const predicted of plan.steps.filter((step: Obj) => step.step === 'pause until promoted')) {
      const seen = await eventually(`${name} paused at step ${predicted.index}`, async () => {
        const counts = await canaryAndStable(name);
        return counts.status.phase === 'Paused' && counts.status.currentStepIndex === predicted.index && counts;
      });
      t.same({ canary: seen.canary, stable: seen.stable }, { canary: predicted.canaryPods, stable: predicted.stablePods }, `${name}, step ${predicted.index} (weight ${predicted.weight}): canary and stable pods as planned`);
      await promote(name);
    }
    const done = (await completed(name, 5))['status'];
    t.equal(plan.finalCanaryPods, done.updatedReplicas, `${name}: every replica of the new template at the end`);
  }
});

t.test('rollsafe plan: a blue-green preview, then both ReplicaSets at full size, then the old one scaled down', async (t) => {
  for (const role of ['active', 'preview']) {
    await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: `phases-${role}`, namespace: NAMESPACE }, spec: { selector: { app: 'phases' }, ports: [{ port: 80, targetPort: 8080 }] } });
  }
  const strategy = { blueGreen: { activeService: 'phases-active', previewService: 'phases-preview', previewReplicaCount: 1, autoPromotionEnabled: false, scaleDownDelaySeconds: 5 } };
  await apply(rollout('phases', 'example.com/app:1', strategy));
  const first = (await completed('phases'))['status'];
  const plan = (await planOf(rollout('phases', 'example.com/app:2', strategy))).blueGreen;
  t.same({ previewPods: plan.previewPods, promotion: plan.promotion, peakPods: plan.peakPods, scaleDownDelaySeconds: plan.scaleDownDelaySeconds }, { previewPods: 1, promotion: 'manual', peakPods: 6, scaleDownDelaySeconds: 5 });
  await apply(rollout('phases', 'example.com/app:2', strategy));
  const paused = await eventually('phases paused for promotion', async () => {
    const counts = await canaryAndStable('phases');
    return counts.status.phase === 'Paused' && counts.canary === plan.previewPods && counts;
  });
  t.same({ preview: paused.canary, active: paused.stable }, { preview: plan.previewPods, active: 3 }, 'the preview pods beside the active ones, as planned');
  let peak = 0;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const sets = (await api(`/apis/apps/v1/namespaces/${NAMESPACE}/replicasets?labelSelector=app%3Dphases`))['items'] as Obj[];
      peak = Math.max(peak, sets.reduce((sum, set) => sum + (set['spec'].replicas ?? 0), 0));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await promote('phases');
  const second = (await completed('phases'))['status'];
  watching = false;
  await watch;
  t.not(second.currentPodHash, first.currentPodHash);
  t.equal(peak, plan.peakPods, 'both ReplicaSets at full size between the switch and the scale-down: the planned peak');
  t.equal(plan.readyFloor, 3);
});

// ---- rollsafe in the write path -------------------------------------------------------------------------------

const SCOPE = 'argo-rollouts';
const server = await startTestServer();
t.teardown(() => server.close());

/**
 * manifests/base with manifests/components/argo-rollouts, rendered by kustomize as a user's kustomization would,
 * pointed at the test server by url, renamed (the control plane is shared with test/cluster-webhook.test.ts) and
 * scoped to namespaces labelled for this file.
 */
async function registerWebhooks(): Promise<void> {
  const copy = mkdtempSync(join(tmpdir(), 'rollsafe-argo-webhook-'));
  cpSync(join(TEST_DIR, '..', 'manifests'), join(copy, 'manifests'), { recursive: true });
  mkdirSync(join(copy, 'mine'));
  writeFileSync(join(copy, 'mine', 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../manifests/base]\ncomponents: [../manifests/components/argo-rollouts]\n');
  const rendered = parseAllDocuments(await kubectlOk(plane, ['kustomize', join(copy, 'mine')])).map((doc) => doc.toJS() as Obj);
  const configs = rendered.filter((object) => /WebhookConfiguration$/.test(object['kind']));
  const caBundle = server.certificates.ca.toString('base64');
  for (const config of configs) {
    config['metadata'] = { name: 'rollsafe-argo-rollouts' };
    for (const webhook of config['webhooks']) {
      if (!webhook.rules.some((rule: Obj) => rule.apiGroups.includes('argoproj.io'))) throw new Error(`${webhook.name}: no Rollout rule from the component`);
      webhook.clientConfig = { url: `${server.url}${webhook.clientConfig.service.path}`, caBundle };
      webhook.namespaceSelector.matchExpressions.push({ key: 'rollsafe.test/scope', operator: 'In', values: [SCOPE] });
    }
  }
  await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: configs }));
  t.teardown(() => kubectl(plane, ['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', 'rollsafe-argo-rollouts', '--ignore-not-found']));
}

function denied(run: Run): boolean {
  return run.code !== 0 && /admission webhook "[a-z0-9.-]+\.validate\.rollsafe\.dev" denied the request/.test(run.stderr);
}

/** kubectl apply of an object (or a YAML text), as a user would. */
const applyRun = (object: Obj | string) => kubectl(plane, ['apply', '-f', '-'], typeof object === 'string' ? object : JSON.stringify(object));

/** A Rollout as usually written: no readiness probe, no preStop sleep, "one at a time" that can take all down. */
function naive(name: string, image: string, strategy: Obj, ports = true): Obj {
  const object = rollout(name, image, strategy);
  object['spec'].replicas = 2;
  object['spec'].template.spec.terminationGracePeriodSeconds = undefined;
  object['spec'].template.spec.containers[0].ports = ports ? [{ name: 'http', containerPort: 8080 }] : undefined;
  return JSON.parse(JSON.stringify(object));
}

/** What the user does after the denial: the readiness probe rollsafe asks for, then `rollsafe fix` for the rest. */
async function fixed(object: Obj): Promise<string> {
  const withProbe = structuredClone(object);
  withProbe['spec'].template.spec.containers[0].readinessProbe = { httpGet: { path: '/ready', port: 'http' } };
  const run = await runCli(['fix', '-'], { stdin: stringify(withProbe) });
  if (run.code !== 0 || run.stdout.length === 0) throw new Error(`rollsafe fix: ${run.code} ${run.stderr}`);
  return run.stdout;
}

t.test('through the webhook chain: Rollouts that predate it, naive ones, fixed ones, and the controller', async (t) => {
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { 'rollsafe.test/scope': SCOPE } } });
  await registerWebhooks();
  // The apiserver reads webhook configurations from an informer: wait until a request reaches the server.
  await eventually('the webhook answers for Rollouts', async () => {
    const probe = naive('probe', 'example.com/app:1', { canary: { maxUnavailable: 2 } });
    const run = await kubectl(plane, ['apply', '--dry-run=server', '-f', '-'], JSON.stringify(probe));
    return denied(run);
  });

  await t.test('a Rollout that predates the webhook: a label is never denied, a new template is judged', async (t) => {
    // "canary" was rolled above, naive (no probe, no preStop): it predates the webhook.
    const label = await kubectl(plane, ['label', '-n', NAMESPACE, 'rollout/canary', 'team=payments', '--overwrite']);
    t.equal(label.code, 0, label.stderr);
    // The next revision declares its port: now it serves, without a readiness probe.
    const changed = await applyRun(naive('canary', 'example.com/app:3', { canary: { steps: [{ setWeight: 50 }, { pause: { duration: '1s' } }] } }));
    t.ok(denied(changed), 'its next template change is denied');
    t.match(changed.stderr, /rollsafe denied Rollout canary/);
  });

  await t.test('canary: naive is denied, fixed rolls through the chain to completion, twice', async (t) => {
    const strategy = { canary: { maxUnavailable: 2, steps: [{ setWeight: 50 }, { pause: { duration: '1s' } }] } };
    // As Helm charts and users write them: quantities the controller writes back canonical ("1", "1Gi", "500m"),
    // and empty lists, maps and false that its omitempty drops. None of that starts a rollout
    // (canonical-template.ts), so its write-back is never denied.
    const sized = (object: Obj) => {
      const pod = object['spec'].template.spec;
      Object.assign(pod, { tolerations: [], nodeSelector: {}, imagePullSecrets: [], hostNetwork: false, securityContext: {} });
      pod.volumes = [{ name: 'scratch', emptyDir: { sizeLimit: '1024Mi' } }];
      Object.assign(pod.containers[0], { args: [], env: [], stdin: false, volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] });
      pod.containers[0].resources = { limits: { cpu: 1, memory: '1024Mi' }, requests: { cpu: 0.5 } };
      object['spec'].template.metadata.annotations = {};
      return object;
    };
    const first = sized(naive('web', 'example.com/web:1', strategy));
    const refused = await applyRun(first);
    t.ok(denied(refused), 'the naive canary is denied on CREATE');
    t.match(refused.stderr, /\[readiness-probe\]/);
    // The mutating webhook fixed the strategy (enforce mode) before /validate saw it.
    t.notMatch(refused.stderr, /\[rollout-strategy\]/, 'the strategy was already fixed by /mutate');
    const direct = await runCli(['audit', '-'], { stdin: stringify(first) });
    t.match(direct.stdout, /rollout-strategy: canary with replicas 2, maxUnavailable 2 resolves to 2 pod\(s\)/, 'which audit reports');

    const manifest = await fixed(first);
    t.match(manifest, /maxUnavailable: 0/, 'fix makes the canary surge first');
    const created = await applyRun(manifest);
    t.equal(created.code, 0, created.stderr);
    const stored = await api(rolloutPath('web'));
    t.same(stored['spec'].template.spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 10 } } }, 'the preStop sleep fix put there');
    const one = (await completed('web', 2))['status'];

    const updated = await applyRun(await fixed(sized(naive('web', 'example.com/web:2', strategy))));
    t.equal(updated.code, 0, updated.stderr);
    const two = (await completed('web', 2))['status'];
    t.not(two.currentPodHash, one.currentPodHash, 'rolled to the new template');
    // The controller writes each Rollout back after a create or a template change (resources: {}, its revision
    // annotation): UPDATEs that start no rollout, never denied.
    const quiet = admissionLines().filter((line) => line.name === 'web' && line.endpoint === 'validate' && line.operation === 'UPDATE' && line.startsRollout === false);
    t.ok(quiet.length > 0, "the controller's own writes went through the webhook");
    t.same(quiet.filter((line) => line.decision === 'denied'), [], 'none of them denied');
    const template = (await api(rolloutPath('web')))['spec'].template;
    t.same(template.spec.containers[0].resources, { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } }, 'the controller wrote the quantities back canonical, through the webhook');
    t.same(template.spec.volumes, [{ name: 'scratch', emptyDir: { sizeLimit: '1Gi' } }], 'and the emptyDir\'s');
    t.same(
      [template.spec.tolerations, template.spec.nodeSelector, template.spec.hostNetwork, template.spec.containers[0].args, template.spec.containers[0].stdin, template.metadata.annotations],
      [undefined, undefined, undefined, undefined, undefined, undefined],
      'its omitempty dropped the empty lists and maps and the false values',
    );
    t.same(template.spec.securityContext, {}, 'but not a pointer to an empty struct');
    const starting = admissionLines().filter((line) => line.name === 'web' && line.endpoint === 'validate' && line.operation === 'UPDATE' && line.startsRollout === true && !line.dryRun);
    t.equal(starting.length, 1, "only the user's new template starts a rollout, not the controller's write-backs");
  });

  await t.test('blue-green with its two Services: naive is denied, fixed rolls to completion', async (t) => {
    for (const role of ['active', 'preview']) {
      await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: `shop-${role}`, namespace: NAMESPACE }, spec: { selector: { app: 'shop' }, ports: [{ port: 80, targetPort: 8080 }] } });
    }
    const strategy = { blueGreen: { activeService: 'shop-active', previewService: 'shop-preview', scaleDownDelaySeconds: 0 } };
    const refused = await applyRun(naive('shop', 'example.com/shop:1', strategy));
    t.ok(denied(refused), 'the naive blue-green is denied');
    t.match(refused.stderr, /\[readiness-probe\]/);
    const manifest = await fixed(naive('shop', 'example.com/shop:1', { blueGreen: { ...strategy.blueGreen, scaleDownDelaySeconds: 2 } }));
    const created = await applyRun(manifest);
    t.equal(created.code, 0, created.stderr);
    const one = (await completed('shop', 2))['status'];
    const updated = await applyRun(await fixed(naive('shop', 'example.com/shop:2', { blueGreen: { ...strategy.blueGreen, scaleDownDelaySeconds: 2 } })));
    t.equal(updated.code, 0, updated.stderr);
    const two = (await completed('shop', 2))['status'];
    t.not(two.currentPodHash, one.currentPodHash);
    t.equal(two.blueGreen?.activeSelector, two.currentPodHash, 'the active Service switched');
    const label = await kubectl(plane, ['label', '-n', NAMESPACE, 'rollout/shop', 'tier=frontend', '--overwrite']);
    t.equal(label.code, 0, label.stderr);
  });

  t.test('the log names Rollouts, their decisions and rules, never an env value', async (t) => {
    const lines = admissionLines();
    t.ok(lines.some((line) => line.kind === 'Rollout' && line.decision === 'denied'));
    t.ok(lines.some((line) => line.kind === 'Rollout' && (line.decision === 'allowed' || line.decision === 'warned')));
    t.notMatch(server.logs.join('\n'), /example\.com\/web:2/, 'no object contents');
  });
});

function admissionLines(): Obj[] {
  return server.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'admission');
}

t.test('every fixed Rollout golden is accepted by the apiserver with the Rollout CRD (server dry run)', async (t) => {
  const namespace = 'argo-rollouts-dry-run';
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  t.teardown(() => kubectlOk(plane, ['delete', 'namespace', namespace, '--wait=false']));
  const rules = join(FIXTURES, 'rules');
  let checked = 0;
  for (const rule of readdirSync(rules)) {
    for (const file of readdirSync(join(rules, rule)).filter((name) => /rollout.*\.fixed\.yaml$/.test(name))) {
      const run = await kubectl(plane, ['apply', '--dry-run=server', '-n', namespace, '-f', '-'], readFileSync(join(rules, rule, file), 'utf8').replaceAll('namespace: shop', `namespace: ${namespace}`));
      t.equal(run.code, 0, `${rule}/${file}: ${run.stderr}`);
      checked++;
    }
  }
  t.ok(checked >= 5, `${checked} fixed Rollout files`);
});
