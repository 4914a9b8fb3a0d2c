/**
 * rollsafe serve behind a real kube-apiserver (test/helpers/control-plane.ts), registered as manifests/base
 * registers it (same rules, selectors, reinvocationPolicy, failurePolicy, one entry per rollsafe.dev/mode
 * value) but by url, and driven with kubectl: what users do every day to workloads created before and after
 * the webhook, in every namespace mode, with a second mutating webhook that injects a sidecar. Deployments
 * really roll on kwok nodes. The apiserver chains /mutate, reinvocation and /validate (k8s.io/apiserver
 * pkg/admission/plugin/webhook/mutating/dispatcher.go, reinvocation in .../mutating/reinvocationcontext.go).
 */
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { sharedControlPlane, kubectl, kubectlOk, getObject, eventually, type ControlPlaneInfo, type Run } from './helpers/cluster.js';
import { TEST_DIR } from './helpers/fixtures.js';
import { startTestServer } from './helpers/server.js';
import { injectorConfiguration, SIDECAR, startSidecarInjector } from './helpers/sidecar-injector.js';

type Obj = Record<string, any>;
const SCOPE = 'webhook';
const SECRET = 's3cr3t-env-value-never-logged';

const plane = await sharedControlPlane(t);
const server = await startTestServer();
t.teardown(() => server.close());
const injector = await startSidecarInjector(server.certificates);
t.teardown(() => injector.close());
const k = (...args: string[]) => kubectl(plane, args);
const kOk = (...args: string[]) => kubectlOk(plane, args);

function deployment(name: string, options: { replicas?: number; probe?: boolean; image?: string; ports?: boolean } = {}): Obj {
  const container: Obj = {
    name: 'app',
    image: options.image ?? 'example.com/app:1.0',
    env: [{ name: 'API_TOKEN', value: SECRET }],
  };
  if (options.ports !== false) container['ports'] = [{ name: 'http', containerPort: 8080 }];
  if (options.probe) container['readinessProbe'] = { httpGet: { path: '/ready', port: 'http' } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      // As usually written: "one at a time", which at 1 replica takes the only pod down.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container] } },
    },
  };
}

const apply = (namespace: string, object: Obj, ...flags: string[]) => kubectl(plane, ['apply', '-n', namespace, ...flags, '-f', '-'], JSON.stringify(object));
const get = (namespace: string, name: string, kind = 'deployment') => getObject(plane, kind, name, namespace);

async function replicaSets(namespace: string, name: string): Promise<Obj[]> {
  const list = JSON.parse(await kOk('get', 'replicasets', '-n', namespace, '-l', `app=${name}`, '-o', 'json'));
  return list.items;
}

/** Waits until the Deployment controller has rolled out the current generation and every replica is ready. */
async function rolledOut(namespace: string, name: string): Promise<Obj> {
  return eventually(`${namespace}/${name} rolled out`, async () => {
    const object = await get(namespace, name);
    const status = object?.status ?? {};
    const replicas = object?.spec.replicas ?? 1;
    const done = status.observedGeneration >= object.metadata.generation && status.updatedReplicas === replicas && status.readyReplicas === replicas && (status.replicas ?? 0) === replicas;
    return done ? object : undefined;
  }, 90);
}

function containerOf(object: Obj, name = 'app'): Obj {
  return object.spec.template.spec.containers.find((container: Obj) => container.name === name);
}

function admissionLines(): Obj[] {
  return server.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'admission');
}

async function namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  const object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'rollsafe.test/scope': SCOPE, ...labels } } };
  await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify(object));
}

/**
 * The webhook configurations of manifests/base, rendered by kustomize, pointed at the test server by url.
 * One matchExpression is added to each entry so the webhook sees only this file's namespaces: the control
 * plane is shared with other test files.
 */
async function registerWebhooks(plane: ControlPlaneInfo): Promise<Obj[]> {
  const rendered = parseAllDocuments(await kubectlOk(plane, ['kustomize', join(TEST_DIR, '..', 'manifests', 'base')])).map((doc) => doc.toJS() as Obj);
  const configs = rendered.filter((object) => /WebhookConfiguration$/.test(object.kind));
  const caBundle = server.certificates.ca.toString('base64');
  for (const config of configs) {
    for (const webhook of config.webhooks) {
      webhook.clientConfig = { url: `${server.url}${webhook.clientConfig.service.path}`, caBundle };
      webhook.namespaceSelector.matchExpressions.push({ key: 'rollsafe.test/scope', operator: 'In', values: [SCOPE] });
    }
  }
  // After "rollsafe" in name order, so rollsafe is reinvoked once the sidecar is in.
  const injectorConfig = injectorConfiguration('sidecar-injector', injector, server.certificates.ca, { 'sidecar.example.com/inject': 'enabled', 'rollsafe.test/scope': SCOPE });
  await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...configs, injectorConfig] }));
  return configs;
}

function denied(run: Run): boolean {
  return run.code !== 0 && /admission webhook "[a-z]+\.validate\.rollsafe\.dev" denied the request/.test(run.stderr);
}

// Workloads that predate the webhook: created, and one of them rolled to a second revision, before it exists.
await namespace('wh-legacy');
await namespace('wh-legacy-warn', { 'rollsafe.dev/mode': 'warn' });
// Setup fails by throwing: tap ends a file's root test once its subtests are done, so no assertion goes here.
const applyOk = (namespace: string, object: Obj) => kubectlOk(plane, ['apply', '-n', namespace, '-f', '-'], JSON.stringify(object));
for (const ns of ['wh-legacy', 'wh-legacy-warn']) for (const name of ['legacy', 'history']) await applyOk(ns, deployment(name));
for (const ns of ['wh-legacy', 'wh-legacy-warn']) for (const name of ['legacy', 'history']) await rolledOut(ns, name);
// Revision 2 only once revision 1 has its ReplicaSet: otherwise the controller may see only the second template.
await applyOk('wh-legacy', deployment('history', { image: 'example.com/app:2.0' }));
await rolledOut('wh-legacy', 'history');
if ((await replicaSets('wh-legacy', 'history')).length !== 2) throw new Error('history should have two revisions before the webhook');

await namespace('wh-default');
await namespace('wh-enforce', { 'rollsafe.dev/mode': 'enforce' });
await namespace('wh-warn', { 'rollsafe.dev/mode': 'warn' });
await namespace('wh-audit', { 'rollsafe.dev/mode': 'audit' });
await namespace('wh-off', { 'rollsafe.dev/mode': 'off' });
await namespace('wh-inject', { 'sidecar.example.com/inject': 'enabled' });
const configs = await registerWebhooks(plane);
// The apiserver picks configurations up from an informer: wait until a naive Deployment is refused.
await eventually('the webhooks in effect', async () => denied(await apply('wh-default', deployment('probe-naive'), '--dry-run=server')));

t.test('registered as manifests/base registers it, but by url', async (t) => {
  const stored = await getObject(plane, 'validatingwebhookconfiguration', 'rollsafe');
  t.same(
    stored.webhooks.map((webhook: Obj) => webhook.clientConfig.url.replace(server.url, '')),
    ['', '/enforce', '/warn', '/audit'].flatMap((mode) => [`/validate${mode}/ns/no-elbv2-gates`, `/validate${mode}/ns/elbv2-gates`]),
    'one entry per mode label value (and none), each once per value of the AWS readiness gate label',
  );
  const mutating = await getObject(plane, 'mutatingwebhookconfiguration', 'rollsafe');
  t.ok(mutating.webhooks.every((webhook: Obj) => webhook.reinvocationPolicy === 'IfNeeded' && webhook.failurePolicy === 'Ignore' && webhook.timeoutSeconds === 5));
  const base = configs.find((config) => config.kind === 'MutatingWebhookConfiguration')!;
  t.same(mutating.webhooks.map((webhook: Obj) => webhook.clientConfig.url.replace(server.url, '')), ['/mutate', '/mutate/enforce', '/mutate/warn', '/mutate/audit']);
  const withoutClient = ({ clientConfig: _, ...webhook }: Obj) => webhook;
  t.has(mutating.webhooks.map(withoutClient), base.webhooks.map(withoutClient), 'rules, selectors and settings as in the base (plus the test scope)');
});

t.test('everyday operations on a workload that predates the policy are never denied and start no rollout', async (t) => {
  const ns = 'wh-legacy';
  const before = await get(ns, 'legacy');
  let generation = before.metadata.generation;
  /**
   * The stored object after an operation: template as before (no rollout: no new ReplicaSet), replicas as
   * expected, a strategy that cannot take every replica down, and the generation moved by `bump` (undefined:
   * not asserted, e.g. when kubectl also rewrites its last-applied annotation).
   */
  const check = async (what: string, bump: number | undefined, replicas = before.spec.replicas) => {
    const now = await get(ns, 'legacy');
    t.same(now.spec.template, before.spec.template, `${what}: pod template untouched`);
    const unavailable = now.spec.strategy.rollingUpdate.maxUnavailable;
    t.ok(unavailable === 0 || unavailable < replicas, `${what}: maxUnavailable ${unavailable} at ${replicas} replica(s) leaves one serving`);
    t.equal(now.spec.replicas, replicas, `${what}: replicas`);
    t.equal((await replicaSets(ns, 'legacy')).length, 1, `${what}: no new ReplicaSet`);
    if (bump !== undefined) t.equal(now.metadata.generation, generation + bump, `${what}: generation +${bump}`);
    generation = now.metadata.generation;
    return now;
  };
  const ok = async (what: string, run: Promise<Run>) => {
    const result = await run;
    t.equal(result.code, 0, `${what}: ${result.stderr}`);
    return result;
  };
  t.same(before.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 1 }, 'as written: the only replica may go down');

  // The first write after the webhook arrived fixes the strategy (outside the template: no rollout), once.
  const labelled = await ok('label', k('label', 'deployment', 'legacy', '-n', ns, 'team=payments'));
  t.match(labelled.stderr, /Warning: rollsafe changed Deployment legacy: sets strategy.rollingUpdate.maxUnavailable: 0/);
  t.match(labelled.stderr, /Warning: rollsafe left the pod template of Deployment legacy alone \(this update starts no rollout\)/);
  t.match(labelled.stderr, /Warning: readiness-probe: /, 'findings still shown as warnings');
  t.equal((await check('label', 1)).metadata.labels.team, 'payments');

  const annotated = await ok('annotate', k('annotate', 'deployment', 'legacy', '-n', ns, 'example.com/owner=payments'));
  t.notMatch(annotated.stderr, /rollsafe changed/, 'nothing left to patch outside the template');
  // pkg/registry/apps/deployment/strategy.go PrepareForUpdate: an annotation bumps a Deployment's generation
  // (annotations are copied to its ReplicaSets); a label does not.
  await check('annotate', 1);

  await ok('finalizer add', k('patch', 'deployment', 'legacy', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}'));
  t.same((await check('finalizer add', 0)).metadata.finalizers, ['example.com/hold']);
  await ok('finalizer remove', k('patch', 'deployment', 'legacy', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]'));
  t.notOk((await check('finalizer remove', 0)).metadata.finalizers);

  // kubectl apply of the manifest as written (maxUnavailable: 1, safe at 3 replicas), with replicas changed.
  await ok('apply changing only replicas', apply(ns, deployment('legacy', { replicas: 3 })));
  await check('replicas-only apply', undefined, 3);
  await rolledOut(ns, 'legacy');
  await ok('scale', k('scale', 'deployment', 'legacy', '-n', ns, '--replicas=2'));
  await check('scale', 1, 2);
  await ok('server-side apply changing only replicas', apply(ns, deployment('legacy', { replicas: 1 }), '--server-side', '--force-conflicts'));
  const single = await check('server-side apply', undefined, 1);
  t.equal(single.spec.strategy.rollingUpdate.maxUnavailable, 0, 'at one replica, maxUnavailable 1 from the manifest was patched to 0 on the way in');
  await ok('server-side apply of the same manifest again', apply(ns, deployment('legacy', { replicas: 1 }), '--server-side', '--force-conflicts'));
  await check('server-side apply again', 0, 1);
  await ok('dry-run label', k('label', 'deployment', 'legacy', '-n', ns, 'dry=run', '--dry-run=server'));
  t.notOk((await check('dry-run label', 0, 1)).metadata.labels.dry, 'dry run stored nothing');
  await rolledOut(ns, 'legacy');

  // These start a rollout of a template without a readiness probe: denied, with the reason.
  const image = await k('set', 'image', 'deployment/legacy', '-n', ns, 'app=example.com/app:2.0');
  t.ok(denied(image), `set image denied: ${image.stderr}`);
  t.match(image.stderr, /\[readiness-probe\] container "app" declares port 8080/);
  t.notMatch(image.stderr, /\[rollout-strategy\]|\[prestop-delay\]|\[grace-period\]/, 'what /mutate fixed on the way is not listed');
  const restart = await k('rollout', 'restart', 'deployment/legacy', '-n', ns);
  t.ok(denied(restart), `rollout restart denied: ${restart.stderr}`);
  await check('denied rollouts', 0, 1);

  await ok('delete', k('delete', 'deployment', 'legacy', '-n', ns, '--wait=false'));
  await eventually('legacy deleted', async () => (await get(ns, 'legacy')) === undefined);
});

t.test('warn mode: rollouts of a workload that predates the policy go through, with warnings, unpatched', async (t) => {
  const ns = 'wh-legacy-warn';
  const image = await k('set', 'image', 'deployment/legacy', '-n', ns, 'app=example.com/app:2.0');
  t.equal(image.code, 0, image.stderr);
  t.match(image.stderr, /Warning: readiness-probe: /);
  t.match(image.stderr, /Warning: would fix prestop-delay: /);
  let now = await rolledOut(ns, 'legacy');
  t.equal(containerOf(now).image, 'example.com/app:2.0');
  t.notOk(containerOf(now).lifecycle, 'warn mode patches nothing');
  t.equal((await replicaSets(ns, 'legacy')).length, 2, 'the image change rolled out: a second ReplicaSet');

  t.equal((await k('rollout', 'restart', 'deployment/legacy', '-n', ns)).code, 0);
  await rolledOut(ns, 'legacy');
  t.equal((await replicaSets(ns, 'legacy')).length, 3);
  const undo = await k('rollout', 'undo', 'deployment/legacy', '-n', ns);
  t.equal(undo.code, 0, undo.stderr);
  now = await rolledOut(ns, 'legacy');
  t.equal(containerOf(now).image, 'example.com/app:2.0', 'undo went back to the revision before the restart');
});

t.test('a new Deployment in each mode', async (t) => {
  for (const ns of ['wh-default', 'wh-enforce']) {
    const naive = await apply(ns, deployment('naive'));
    t.ok(denied(naive), `${ns}: a Deployment without a readiness probe is denied: ${naive.stderr}`);
    t.equal(await get(ns, 'naive'), undefined, `${ns}: nothing stored`);

    const good = await apply(ns, deployment('web', { probe: true, replicas: 2 }));
    t.equal(good.code, 0, good.stderr);
    t.match(good.stderr, /Warning: rollsafe changed Deployment web: /);
    const stored = await rolledOut(ns, 'web');
    t.same(containerOf(stored).lifecycle, { preStop: { sleep: { seconds: 10 } } }, `${ns}: preStop sleep added`);
    t.equal(stored.spec.template.spec.terminationGracePeriodSeconds, 30);
    t.same(stored.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 1 }, `${ns}: one of two replicas unavailable at a time is safe: kept as written`);
    t.equal((await replicaSets(ns, 'web')).length, 1);
  }

  const warn = await apply('wh-warn', deployment('naive'));
  t.equal(warn.code, 0, warn.stderr);
  t.match(warn.stderr, /Warning: readiness-probe: /);
  t.notOk(containerOf(await get('wh-warn', 'naive')).lifecycle, 'warn: not patched');

  const audit = await apply('wh-audit', deployment('naive'));
  t.equal(audit.code, 0, audit.stderr);
  t.notMatch(audit.stderr, /Warning/, 'audit: silent');
  t.notOk(containerOf(await get('wh-audit', 'naive')).lifecycle, 'audit: not patched');
  t.ok(admissionLines().some((line) => line.namespace === 'wh-audit' && line.endpoint === 'validate' && line.rules.includes('readiness-probe')), 'audit: logged');

  const off = await apply('wh-off', deployment('naive'));
  t.equal(off.code, 0, off.stderr);
  t.notOk(admissionLines().some((line) => line.namespace === 'wh-off'), 'off: no webhook entry matches, the webhook is never called');
  for (const ns of ['wh-warn', 'wh-audit', 'wh-off']) await rolledOut(ns, 'naive');
});

t.test('preStop sleep.seconds: 0 is an opt-out the apiserver accepts (1.33+) and the webhook leaves alone', async (t) => {
  const object = deployment('opt-out', { probe: true, replicas: 2 });
  const spec = (object['spec'] as Obj)['template'] as Obj;
  (((spec['spec'] as Obj)['containers'] as Obj[])[0] as Obj)['lifecycle'] = { preStop: { sleep: { seconds: 0 } } };
  const run = await apply('wh-enforce', object);
  t.equal(run.code, 0, `accepted: ${run.stderr}`);
  t.notMatch(run.stderr, /prestop-delay/, 'an info finding is no warning');
  const stored = await rolledOut('wh-enforce', 'opt-out');
  t.same(containerOf(stored).lifecycle, { preStop: { sleep: { seconds: 0 } } }, 'not patched: the opt-out stays');
});

t.test('a workload that declares an NLB in IP mode: /mutate gives it the termination budget, and the apiserver stores it', async (t) => {
  // A namespace where the AWS controller injects its readiness gates, as lb-readiness-gate asks.
  await namespace('wh-gates', { 'rollsafe.dev/mode': 'enforce', 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' });
  const object = deployment('behind-nlb', { probe: true, replicas: 2 });
  (object['metadata'] as Obj)['annotations'] = { 'rollsafe.dev/load-balancer': 'awsNlbIp' };
  const run = await apply('wh-gates', object);
  t.equal(run.code, 0, `accepted: ${run.stderr}`);
  const stored = await rolledOut('wh-gates', 'behind-nlb');
  t.same(containerOf(stored).lifecycle, { preStop: { sleep: { seconds: 120 } } }, 'the sleep of loadBalancers.awsNlbIp, not the plain 10 s');
  t.equal(stored.spec.template.spec.terminationGracePeriodSeconds, 420, "120 s + the ELB's default 300 s deregistration delay");
  const again = await apply('wh-gates', object);
  t.equal(again.code, 0, again.stderr);
  t.equal((await get('wh-gates', 'behind-nlb')).metadata.generation, stored.metadata.generation, 're-applying starts no rollout');
});

t.test('a workload behind a declared ALB in IP mode: denied where the namespace lacks the readiness gate label, accepted where it has it', async (t) => {
  const object = deployment('behind-alb', { probe: true, replicas: 2 });
  (object['metadata'] as Obj)['annotations'] = { 'rollsafe.dev/load-balancer': 'awsAlbIp' };
  const unlabelled = await apply('wh-enforce', object, '--dry-run=server');
  t.ok(denied(unlabelled), unlabelled.stderr);
  t.match(unlabelled.stderr, /\[lb-readiness-gate\] its pods are behind a load balancer its rollsafe.dev\/load-balancer annotation declares, but namespace wh-enforce is not labelled elbv2.k8s.aws\/pod-readiness-gate-inject=enabled/);
  const labelled = await apply('wh-gates', object, '--dry-run=server');
  t.equal(labelled.code, 0, `the entry for labelled namespaces told the server so: ${labelled.stderr}`);
  t.ok(admissionLines().some((line) => line.namespace === 'wh-gates' && line.endpoint === 'validate'), 'the webhook was called for it');
});

t.test('probe-port: the apiserver accepts a probe on an undeclared port name; the webhook denies it', async (t) => {
  const object = deployment('bad-probe', { probe: true, replicas: 2 });
  const container = ((((object['spec'] as Obj)['template'] as Obj)['spec'] as Obj)['containers'] as Obj[])[0] as Obj;
  container['readinessProbe'] = { httpGet: { path: '/ready', port: 'htp' } };
  const accepted = await apply('wh-off', object, '--dry-run=server');
  t.equal(accepted.code, 0, `valid to the apiserver (a port name need only be well formed): ${accepted.stderr}`);
  const judged = await apply('wh-enforce', object, '--dry-run=server');
  t.ok(denied(judged), judged.stderr);
  t.match(judged.stderr, /\[probe-port\] container "app" has a readinessProbe on port "htp", which is not one of its port names \(it names "http"\)/);
});

t.test('re-applying a mutated Deployment changes nothing: client-side and server-side apply', async (t) => {
  const ns = 'wh-default';
  const before = await get(ns, 'web');
  const again = await apply(ns, deployment('web', { probe: true, replicas: 2 }));
  t.equal(again.code, 0, again.stderr);
  t.equal((await get(ns, 'web')).metadata.generation, before.metadata.generation, 'client-side apply: no change');

  const ssa = await apply(ns, deployment('ssa', { probe: true }), '--server-side');
  t.equal(ssa.code, 0, ssa.stderr);
  const created = await rolledOut(ns, 'ssa');
  t.same(containerOf(created).lifecycle, { preStop: { sleep: { seconds: 10 } } });
  t.same(created.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 }, 'one replica with maxUnavailable 1 would go down: fixed');
  // The applied configuration lacks what /mutate added, so the apply drops it and /mutate adds it back.
  const reapply = await apply(ns, deployment('ssa', { probe: true }), '--server-side');
  t.equal(reapply.code, 0, reapply.stderr);
  const after = await get(ns, 'ssa');
  t.same(after.spec.template, created.spec.template, 'server-side re-apply: the template is the same');
  t.same(after.spec.strategy, created.spec.strategy, 'and the strategy');
  t.equal(after.metadata.generation, created.metadata.generation, 'server-side re-apply: generation unchanged');
  t.equal((await replicaSets(ns, 'ssa')).length, 1, 'no rollout');
});

t.test('--dry-run=server is judged like the real thing and stores nothing', async (t) => {
  const naive = await apply('wh-enforce', deployment('dry'), '--dry-run=server');
  t.ok(denied(naive), naive.stderr);
  const good = await apply('wh-enforce', deployment('dry', { probe: true }), '--dry-run=server', '-o', 'json');
  t.equal(good.code, 0, good.stderr);
  t.same(containerOf(JSON.parse(good.stdout)).lifecycle, { preStop: { sleep: { seconds: 10 } } }, 'the dry-run answer shows the patch');
  t.equal(await get('wh-enforce', 'dry'), undefined);
});

t.test('rollouts of a compliant Deployment: set image, rollout restart, rollout undo', async (t) => {
  const ns = 'wh-enforce';
  const image = await k('set', 'image', 'deployment/web', '-n', ns, 'app=example.com/app:2.0');
  t.equal(image.code, 0, image.stderr);
  let now = await rolledOut(ns, 'web');
  t.equal(containerOf(now).image, 'example.com/app:2.0');
  t.same(containerOf(now).lifecycle, { preStop: { sleep: { seconds: 10 } } }, 'still fixed');
  t.equal((await replicaSets(ns, 'web')).length, 2);

  t.equal((await k('rollout', 'restart', 'deployment/web', '-n', ns)).code, 0);
  await rolledOut(ns, 'web');
  t.equal((await replicaSets(ns, 'web')).length, 3);

  const undo = await k('rollout', 'undo', 'deployment/web', '-n', ns, '--to-revision=1');
  t.equal(undo.code, 0, undo.stderr);
  now = await rolledOut(ns, 'web');
  t.equal(containerOf(now).image, 'example.com/app:1.0');
  t.equal((await replicaSets(ns, 'web')).length, 3, 'revision 1 was fixed on creation, so its ReplicaSet is reused');
});

t.test('a sidecar injected after rollsafe is fixed through reinvocation', async (t) => {
  const ns = 'wh-inject';
  const created = await apply(ns, deployment('meshed', { probe: true, replicas: 2 }));
  t.equal(created.code, 0, created.stderr);
  const stored = await rolledOut(ns, 'meshed');
  t.same(stored.spec.template.spec.containers.map((container: Obj) => container.name), ['app', SIDECAR.name]);
  t.same(containerOf(stored, SIDECAR.name).lifecycle, { preStop: { sleep: { seconds: 10 } } }, 'the injected container got its preStop sleep: rollsafe was reinvoked');
  t.same(containerOf(stored).lifecycle, { preStop: { sleep: { seconds: 10 } } });
  const mutations = admissionLines().filter((line) => line.namespace === ns && line.name === 'meshed' && line.endpoint === 'mutate');
  t.ok(mutations.length >= 2, `mutate called again after the injector (${mutations.length} calls)`);
  t.ok(injector.calls.includes(`${ns}/meshed`));
  // A label on the meshed Deployment: the injector finds its sidecar, rollsafe finds nothing to do.
  t.equal((await k('label', 'deployment', 'meshed', '-n', ns, 'team=mesh')).code, 0);
  t.equal((await get(ns, 'meshed')).metadata.generation, stored.metadata.generation);
});

t.test("the Deployment controller's own template write (a rollback it carries out) is never denied", async (t) => {
  // The deprecated rollback annotation makes the controller copy an old ReplicaSet's template into the
  // Deployment (pkg/controller/deployment/rollback.go, rollbackToTemplate): an UPDATE by
  // system:serviceaccount:kube-system:deployment-controller that changes the template of a Deployment
  // without a readiness probe, in an enforce namespace.
  const ns = 'wh-legacy';
  const before = await get(ns, 'history');
  t.equal(containerOf(before).image, 'example.com/app:2.0');
  // Set by a user, the annotation is judged (the controller's write it causes will not be): denied in enforce.
  const refused = await k('annotate', 'deployment', 'history', '-n', ns, 'deprecated.deployment.rollback.to=1');
  t.ok(denied(refused), refused.stderr);
  t.match(refused.stderr, /kubectl rollout undo/);
  // With rollout-strategy exempted (with a reason), the user may; then the controller's write is judged only.
  const annotate = await k('annotate', 'deployment', 'history', '-n', ns, 'deprecated.deployment.rollback.to=1', 'rollsafe.dev/exempt=rollout-strategy', 'rollsafe.dev/exempt-reason=rollback drill');
  t.equal(annotate.code, 0, annotate.stderr);
  const after = await eventually('the controller rolled back', async () => {
    const object = await get(ns, 'history');
    return containerOf(object).image === 'example.com/app:1.0' ? object : undefined;
  });
  t.notOk(after.metadata.annotations?.['deprecated.deployment.rollback.to'], 'the controller cleared the annotation');
  await rolledOut(ns, 'history');
  const lines = admissionLines().filter((line) => line.namespace === ns && line.name === 'history' && line.endpoint === 'validate');
  t.equal(lines.filter((line) => line.decision === 'denied').length, 1, 'one denial: the user\'s first annotation, none on the controller write');
  t.ok(lines.some((line) => line.startsRollout && line.decision === 'warned' && line.rules.includes('readiness-probe')), 'the write was judged: its findings came back as warnings');
  t.same(containerOf(after).lifecycle, { preStop: { sleep: { seconds: 10 } } }, 'and /mutate fixed the template the controller wrote');
});

t.test('only what the tests above expected was denied; no log line holds object contents', async (t) => {
  const deniedObjects = [...new Set(admissionLines().filter((line) => line.decision === 'denied').map((line) => `${line.namespace}/${line.name}`))].sort();
  t.same(deniedObjects, ['wh-default/naive', 'wh-default/probe-naive', 'wh-enforce/bad-probe', 'wh-enforce/behind-alb', 'wh-enforce/dry', 'wh-enforce/naive', 'wh-legacy/history', 'wh-legacy/legacy']);
  t.notMatch(server.logs.join('\n'), new RegExp(SECRET), 'env values never logged');
  t.notOk(admissionLines().some((line) => line.decision === 'error' || line.decision === 'invalid'), 'every request from the apiserver was understood');
});
