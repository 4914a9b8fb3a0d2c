/**
 * The apiserver's admission chain, replayed: /mutate, the patch applied, /mutate again (reinvocationPolicy
 * IfNeeded), then /validate on the mutated object, as kube-apiserver's mutating and validating admission
 * plugins (k8s.io/apiserver/pkg/admission/plugin/webhook/mutating/dispatcher.go, then .../validating) call
 * them. Two promises, on every captured request and on UPDATEs derived from them, and on random workloads:
 *  1. an UPDATE that changes neither the pod template nor the strategy is never denied; one that changes
 *     only the strategy is denied for the strategy alone; the template of an UPDATE that keeps it is never
 *     patched (that would start a rollout nobody asked for), fields outside it (the strategy) may be;
 *  2. rollsafe's own patch never turns an allowed request into a denied one.
 * test/cluster-webhook.test.ts checks the same against a real kube-apiserver.
 */
import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { handleAdmission, startsRollout } from '../src/admission/handle.js';
import { mayDeny } from '../src/admission/decision.js';
import { rolloutStrategy } from '../src/rules/rollout-strategy/rule.js';
import type { AdmissionRequest } from '../src/admission/review.js';
import { defaultPolicy, parsePolicy } from '../src/policy/load.js';
import { MODES, type Mode, type Policy } from '../src/policy/types.js';
import { RULE_IDS, RULES } from '../src/rules/index.js';
import { anyJson, requestKind, workload } from './helpers/arbitrary-workload.js';
import { FIXTURES } from './helpers/fixtures.js';
import { startTestServer } from './helpers/server.js';

type Obj = Record<string, any>;
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);

interface Chained {
  mutations: Obj[];
  object: Obj;
  validation: Obj;
  /** /validate on the request as the user sent it, before any patch. */
  unpatched: Obj;
}

type Ask = (endpoint: 'validate' | 'mutate', request: Obj) => Promise<Obj> | Obj;

function patchOf(response: Obj): Array<{ op: string; path: string }> {
  return response['patch'] ? JSON.parse(Buffer.from(response['patch'], 'base64').toString()) : [];
}

function applied(object: Obj, response: Obj): Obj {
  if (!response['patch']) return object;
  return fastJsonPatch.applyPatch(structuredClone(object), patchOf(response) as never, true, false).newDocument;
}

/** /mutate until it stops patching (at most twice, as the apiserver reinvokes once), then /validate. */
async function chain(ask: Ask, request: Obj): Promise<Chained> {
  const mutations: Obj[] = [];
  let object = request['object'];
  for (let call = 0; call < 2; call++) {
    const response = await ask('mutate', { ...request, object });
    mutations.push(response);
    if (!response['patch']) break;
    object = applied(object, response);
  }
  const validation = await ask('validate', { ...request, object });
  const unpatched = await ask('validate', request);
  return { mutations, object, validation, unpatched };
}

/** The rules a denial names: `1. [rule] message` lines. */
function deniedFor(validation: Obj): string[] {
  return [...String(validation['status']?.message ?? '').matchAll(/^\d+\. \[([a-z-]+)\]/gm)].map((match) => match[1] as string);
}

function checkPromises(t: Test | undefined, request: Obj, result: Chained, label: string): string | undefined {
  const problems: string[] = [];
  const frozen = !startsRollout(request as AdmissionRequest);
  // decision.ts mayDeny: an UPDATE that starts no rollout is denied for a rule only where it changes a field the rule judges.
  const judging = (rule: string) => mayDeny(RULES.find((candidate) => candidate.id === rule) ?? { deniesUpdatesOf: [] }, request as AdmissionRequest);
  const unjudged = deniedFor(result.validation).filter((rule) => !judging(rule));
  if (unjudged.length > 0) problems.push(`an UPDATE that changes nothing ${unjudged.join(', ')} judges (nor the pod template) was denied for it`);
  if (frozen && result.mutations.some((mutation) => patchOf(mutation).some((op) => op.path.startsWith('/spec/template')))) problems.push('an UPDATE that keeps the pod template had its template patched (a rollout nobody started)');
  if (result.unpatched['allowed'] && !result.validation['allowed']) problems.push("rollsafe's patch turned an allowed request into a denied one");
  if (result.mutations.length > 1 && result.mutations[1]?.['patch']) problems.push('reinvocation patched again');
  if (t) t.same(problems, [], label);
  return problems.length > 0 ? `${label}: ${problems.join('; ')}` : undefined;
}

const server = await startTestServer();
t.teardown(() => server.close());
const overTls: Ask = async (endpoint, request) => {
  const result = await server.post(`/${endpoint}`, JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
  if (result.status !== 200) throw new Error(`${endpoint}: HTTP ${result.status} ${result.body.slice(0, 200)}`);
  return result.json().response;
};

const captured = readdirSync(join(FIXTURES, 'admission'))
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, request: JSON.parse(readFileSync(join(FIXTURES, 'admission', name), 'utf8')).request as Obj }));

/** UPDATEs a user or a controller sends for an existing object: none of them changes the pod template. */
function updatesKeepingTemplate(stored: Obj): Array<[string, Obj]> {
  const edit = (change: (object: Obj) => void): Obj => {
    const object = structuredClone(stored);
    change(object);
    return object;
  };
  return [
    ['label', edit((o) => (o['metadata'].labels = { ...o['metadata'].labels, team: 'payments' }))],
    ['annotation', edit((o) => (o['metadata'].annotations = { ...o['metadata'].annotations, 'example.com/owner': 'payments' }))],
    ['finalizer', edit((o) => (o['metadata'].finalizers = ['example.com/hold']))],
    ['replicas', edit((o) => (o['spec'].replicas = 7))],
    ['strategy', edit((o) => (o['spec'].strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } }))],
    ['nothing', edit(() => undefined)],
  ];
}

function templateChange(stored: Obj): Obj {
  const object = structuredClone(stored);
  const containers = object['spec']?.template?.spec?.containers;
  if (Array.isArray(containers) && containers[0]) containers[0].image = `${containers[0].image}-next`;
  return object;
}

t.test('every captured request, chained /mutate -> /mutate -> /validate over TLS', async (t) => {
  t.ok(captured.length >= 25);
  for (const { name, request } of captured) {
    checkPromises(t, request, await chain(overTls, request), name);
  }
});

t.test('UPDATEs derived from every captured workload: the stored object as a user meets it', async (t) => {
  let judged = 0;
  for (const { name, request } of captured) {
    if (!request['object'] || request['operation'] === 'DELETE' || request['subResource']) continue;
    // What the apiserver stores after a CREATE through the webhook: the mutated object.
    const stored = (await chain(overTls, { ...request, operation: 'CREATE', oldObject: null })).object;
    for (const [what, object] of updatesKeepingTemplate(stored)) {
      const update = { ...request, uid: `${request['uid']}-${what}`, operation: 'UPDATE', object, oldObject: stored };
      const result = await chain(overTls, update);
      checkPromises(t, update, result, `${name}: ${what}`);
      t.equal(result.validation['allowed'], true, `${name}: ${what} allowed`);
      judged++;
    }
    // Also a stored object that predates the policy (never mutated), as in the issue that found the bug.
    for (const [what, object] of updatesKeepingTemplate(request['object'])) {
      const update = { ...request, uid: `${request['uid']}-old-${what}`, operation: 'UPDATE', object, oldObject: request['object'] };
      const result = await chain(overTls, update);
      checkPromises(t, update, result, `${name}: ${what} on an object that predates the policy`);
      t.equal(result.validation['allowed'], true, `${name}: ${what} on an object that predates the policy: allowed`);
    }
    const changed = { ...request, uid: `${request['uid']}-image`, operation: 'UPDATE', object: templateChange(request['object']), oldObject: request['object'] };
    checkPromises(t, changed, await chain(overTls, changed), `${name}: image change`);
  }
  t.ok(judged >= 25 * 6);
});

t.test('a template change is judged: the unfixable finding of an object that predates the policy denies it', async (t) => {
  const { request } = captured.find((entry) => entry.name === 'deploy-update-label--deployment-update.json')!;
  const stored = request['oldObject'];
  const update = { ...request, operation: 'UPDATE', object: templateChange(stored), oldObject: stored };
  const result = await chain(overTls, update);
  t.equal(result.validation['allowed'], false, 'an image change starts a rollout without a readiness probe');
  t.match(result.validation['status'].message, /\[readiness-probe\]/);
  t.ok(result.mutations[0]?.['patch'], 'the fixable parts were patched on the way');
  const label = { ...request, operation: 'UPDATE', object: { ...stored, metadata: { ...stored.metadata, labels: { x: 'y' } } }, oldObject: stored };
  t.equal((await chain(overTls, label)).validation['allowed'], true, 'the same object is labelled freely');
});

// Random workloads and random policies, in-process (the same handleAdmission the server calls).
const modes = fc.constantFrom<Mode>(...MODES);
const policy = fc
  .record({ rules: fc.dictionary(fc.constantFrom(...RULE_IDS), fc.record({ mode: modes, severity: fc.constantFrom('error', 'warning', 'info') }, { requiredKeys: [] })), action: fc.constantFrom('auto', 'sleep', 'exec'), version: fc.constantFrom('1.28', '1.30', '1.34') })
  // Policies the loader accepts: the native sleep action needs a target of 1.30 or later.
  .filter(({ action, version }) => !(action === 'sleep' && version === '1.28'))
  .map(({ rules, action, version }) => parsePolicy(JSON.stringify({ apiVersion: 'rollsafe.dev/v1alpha1', kind: 'Policy', kubernetesVersion: version, preStop: { action }, rules }), 'random policy'));
const label = fc.option(fc.constantFrom<Mode>('enforce', 'warn', 'audit'), { nil: undefined });

function inProcess(current: Policy, namespaceMode: Mode | undefined): Ask {
  return (endpoint, request) => handleAdmission(request as AdmissionRequest, endpoint, current, namespaceMode).response as unknown as Obj;
}

function review(operation: 'CREATE' | 'UPDATE', object: Obj, oldObject: Obj | null): Obj {
  return { uid: 'chain', ...requestKind(object), namespace: 'shop', operation, object, oldObject };
}

t.test('random workloads and policies: the two promises hold on CREATE and on every kind of UPDATE', async (t) => {
  const failures: string[] = [];
  await fc.assert(
    fc.asyncProperty(workload, workload, policy, label, fc.constantFrom('create', 'keep-template', 'new-template'), anyJson, async (object, other, current, namespaceMode, shape, extra) => {
      let request: Obj;
      if (shape === 'create') request = review('CREATE', object, null);
      else if (shape === 'new-template') request = review('UPDATE', other, object);
      else {
        // Same template, anything else changed: metadata, replicas, strategy.
        const spec = (object as Obj)['spec'];
        const changed = structuredClone(object) as Obj;
        if (spec && typeof spec === 'object' && !Array.isArray(spec)) changed['spec'] = { ...structuredClone(spec), replicas: extra, strategy: extra };
        changed['metadata'] = { ...(changed['metadata'] as Obj), labels: { changed: 'yes' } };
        request = review('UPDATE', changed, object);
      }
      const problem = checkPromises(undefined, request, await chain(inProcess(current, namespaceMode), request), shape);
      if (problem) failures.push(problem);
      return problem === undefined;
    }),
    { numRuns: RUNS },
  );
  t.same(failures, []);
});

t.test('startsRollout follows the template only', async (t) => {
  const object = captured.find((entry) => entry.name === 'deploy-create-good--deployment-create.json')!.request['object'];
  t.equal(startsRollout(review('CREATE', object, null) as AdmissionRequest), true);
  t.equal(startsRollout(review('UPDATE', { ...object, spec: { ...object.spec, replicas: 9, strategy: { type: 'Recreate' } } }, object) as AdmissionRequest), false);
  t.equal(startsRollout(review('UPDATE', templateChange(object), object) as AdmissionRequest), true);
  t.equal(defaultPolicy().rules['readiness-probe'].mode, 'enforce', 'the default policy enforces, so the promises above are tested where they bite');
});

t.test("kube-controller-manager's writes are judged but never denied", async (t) => {
  const { request } = captured.find((entry) => entry.name === 'deploy-update-label--deployment-update.json')!;
  const stored = request['oldObject'];
  const rollback = (username: string) => ({ ...request, operation: 'UPDATE', object: templateChange(stored), oldObject: stored, userInfo: { username } });
  for (const username of ['system:serviceaccount:kube-system:deployment-controller', 'system:kube-controller-manager']) {
    const result = await chain(overTls, rollback(username));
    t.equal(result.validation['allowed'], true, `${username}: allowed`);
    t.match(result.validation['warnings'], [/readiness-probe/], `${username}: findings as warnings`);
    t.ok(result.mutations[0]?.['patch'], `${username}: still patched`);
  }
  for (const username of ['system:serviceaccount:kube-system:deployment-controller-impostor', 'system:serviceaccount:shop:deployment-controller', 'system:serviceaccount:kube-system:aws-load-balancer-controller', 'alice']) {
    t.equal((await chain(overTls, rollback(username))).validation['allowed'], false, `${username}: judged like anyone`);
  }
});

t.test('switching a Deployment to Recreate is denied even without a template change: it stops every old pod at once', async (t) => {
  const { request } = captured.find((entry) => entry.name === 'deploy-create-good--deployment-create.json')!;
  const stored = (await chain(overTls, { ...request, operation: 'CREATE', oldObject: null })).object;
  const recreate = structuredClone(stored);
  recreate.spec.strategy = { type: 'Recreate' };
  const result = await chain(overTls, { ...request, operation: 'UPDATE', object: recreate, oldObject: stored });
  t.equal(result.validation['allowed'], false);
  t.same(deniedFor(result.validation), ['rollout-strategy']);
  // An unsafe rolling strategy is fixed on the way in instead, and the update goes through.
  const unsafe = structuredClone(stored);
  unsafe.spec.replicas = 1;
  unsafe.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
  const fixed = await chain(overTls, { ...request, operation: 'UPDATE', object: unsafe, oldObject: stored });
  t.equal(fixed.validation['allowed'], true);
  t.match(fixed.object['spec'].strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
});

t.test('an UPDATE that sets revisionHistoryLimit 0 alone is judged for rollback-history, and for nothing else', async (t) => {
  const { request } = captured.find((entry) => entry.name === 'deploy-update-label--deployment-update.json')!;
  const stored = request['oldObject'];
  const update = (change: (object: Obj) => void) => {
    const object = structuredClone(stored);
    change(object);
    return { ...request, operation: 'UPDATE', object, oldObject: stored, userInfo: { username: 'alice' } } as unknown as AdmissionRequest;
  };
  const strict = parsePolicy('apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules:\n  rollback-history: {severity: error}\n', 'strict');
  const pruning = update((object) => (object['spec'].revisionHistoryLimit = 0));
  const denied = handleAdmission(pruning, 'validate', strict).response;
  t.equal(denied.allowed, false, 'the update that prunes the history is the one to stop');
  t.same(deniedFor({ status: denied.status }), ['rollback-history']);
  const labelled = update((object) => (object['metadata'].labels = { ...object['metadata'].labels, team: 'a' }));
  t.equal(handleAdmission({ ...labelled, oldObject: pruning.object } as AdmissionRequest, 'validate', strict).response.allowed, true, 'a later label change is not judged for it');
});

t.test('the deprecated rollback annotation, set by a user, is judged: the controller write it causes is never denied', async (t) => {
  const { request } = captured.find((entry) => entry.name === 'deploy-update-label--deployment-update.json')!;
  const stored = request['oldObject'];
  const annotated = structuredClone(stored);
  annotated.metadata.annotations = { ...annotated.metadata.annotations, [rolloutStrategy.annotationFinding!.annotation]: '1' };
  const update = { ...request, operation: 'UPDATE', object: annotated, oldObject: stored, userInfo: { username: 'alice' } };
  const enforced = await chain(overTls, update);
  t.equal(enforced.validation['allowed'], false);
  t.match(enforced.validation['status'].message, /deprecated\.deployment\.rollback\.to .*kubectl rollout undo/);
  const warned = handleAdmission(update as unknown as AdmissionRequest, 'validate', defaultPolicy(), 'warn').response;
  t.equal(warned.allowed, true);
  t.ok(warned.warnings?.some((warning) => /^rollout-strategy: annotation deprecated\.deployment\.rollback\.to/.test(warning)), 'warn mode: a warning');
  const again = { ...update, oldObject: annotated, object: { ...annotated, metadata: { ...annotated.metadata, labels: { x: 'y' } } } };
  t.equal((await chain(overTls, again)).validation['allowed'], true, 'an annotation already there is not judged again');
});

t.test('Argo Rollouts: judged under argoproj.io/v1alpha1; an UPDATE starts a rollout by template, workloadRef or restartAt only', async (t) => {
  const naive: Obj = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web', namespace: 'shop', uid: 'r-1', resourceVersion: '7' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      strategy: { blueGreen: { activeService: 'web', previewService: 'web-preview' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
    },
  };
  const create = await chain(overTls, review('CREATE', naive, null));
  t.equal(create.unpatched['allowed'], false, 'a naive Rollout is denied on CREATE');
  t.match(create.unpatched['status']?.message, /rollsafe denied Rollout web: .*\[readiness-probe\]/s);
  t.ok(patchOf(create.mutations[0]!).some((op) => op.path === '/spec/template/spec/containers/0/lifecycle'), '/mutate adds the preStop sleep to the inline template');
  // Under another group the same kind is not ours (isJudged): allowed untouched.
  const other = await overTls('validate', { ...review('CREATE', naive, null), kind: { group: 'example.com', version: 'v1', kind: 'Rollout' } });
  t.equal(other['allowed'], true);

  const stored = naive;
  const edit = (change: (object: Obj) => void): Obj => {
    const object = structuredClone(stored);
    change(object);
    return object;
  };
  for (const [what, object] of [
    ['label', edit((o) => (o['metadata'].labels = { team: 'payments' }))],
    ['replicas', edit((o) => (o['spec'].replicas = 5))],
    ['paused', edit((o) => (o['spec'].paused = true))],
    // The Argo Rollouts controller's own write after every create and template change (seen on the real one).
    ['controller writes resources: {}', edit((o) => (o['spec'].template.spec.containers[0].resources = {}))],
  ] as Array<[string, Obj]>) {
    const request = review('UPDATE', object, stored);
    t.equal(startsRollout(request as AdmissionRequest), false, `${what}: starts no rollout`);
    const result = await chain(overTls, request);
    t.equal(result.validation['allowed'], true, `${what}: never denied`);
    checkPromises(t, request, result, what);
  }
  for (const [what, object] of [
    ['template', templateChange(stored)],
    ['restartAt', edit((o) => (o['spec'].restartAt = '2026-12-05T15:00:00Z'))],
    ['workloadRef', edit((o) => (o['spec'].workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }))],
  ] as Array<[string, Obj]>) {
    const request = review('UPDATE', object, stored);
    t.equal(startsRollout(request as AdmissionRequest), true, `${what}: starts a rollout (rollout/restart.go evicts every older pod on restartAt)`);
    checkPromises(t, request, await chain(overTls, request), what);
  }
  const restart = await chain(overTls, review('UPDATE', edit((o) => (o['spec'].restartAt = '2026-12-05T15:00:00Z')), stored));
  t.equal(restart.unpatched['allowed'], false, 'a restart of a naive Rollout is judged like a template change');

  // A Rollout that runs a Deployment's template: only another apiVersion, kind or name points it elsewhere.
  const referencing: Obj = { ...structuredClone(stored), spec: { ...structuredClone(stored['spec']), template: undefined, workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, restartAt: '2026-12-01T00:00:00Z' } };
  const change = (mutate: (object: Obj) => void): Obj => {
    const object = structuredClone(referencing);
    mutate(object);
    return object;
  };
  for (const [what, object, starts] of [
    ['scaleDown never -> onsuccess (it only scales the Deployment)', change((o) => (o['spec'].workloadRef.scaleDown = 'onsuccess')), false],
    ['restartAt removed (nothing to restart)', change((o) => delete o['spec'].restartAt), false],
    ['an empty template beside the reference (the referenced one runs)', change((o) => (o['spec'].template = { metadata: {}, spec: {} })), false],
    ['another Deployment', change((o) => (o['spec'].workloadRef.name = 'web-v2')), true],
    ['a new restartAt', change((o) => (o['spec'].restartAt = '2026-12-05T15:00:00Z')), true],
  ] as Array<[string, Obj, boolean]>) {
    const request = review('UPDATE', object, referencing);
    t.equal(startsRollout(request as AdmissionRequest), starts, what);
    checkPromises(t, request, await chain(overTls, request), what);
  }
  // The webhook sees no Deployment beside a workloadRef: nothing that needs the template's preStop sleep is judged.
  const blueGreen = change((o) => (o['spec'].strategy = { blueGreen: { activeService: 'web', previewService: 'web-preview', scaleDownDelaySeconds: 5 } }));
  const created = await chain(overTls, review('CREATE', blueGreen, null));
  t.equal(created.unpatched['allowed'], true, created.unpatched['status']?.message);
  t.same(created.mutations.flatMap(patchOf), [], 'nothing to patch: its delay is judged where the template is known');
});
