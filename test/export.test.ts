/**
 * `rollsafe export` on the real apiserver: the exported ValidatingAdmissionPolicies are applied (the apiserver
 * refuses CEL it cannot compile), and every workload of the rule goldens and of the captured AdmissionReviews
 * is created (server-side dry run) in namespaces of every rollsafe.dev/mode, with no webhook. The verdict, the
 * denial message and the warnings must be those of the webhook's /validate (handleAdmission) on the same
 * object, as the apiserver defaulted it. A second policy, with namespace overrides (names and globs), other
 * parameters and severities and exemptions refused, checks the per-namespace resolution in CEL. UPDATEs check
 * what may be denied (k8s.io/apiserver pkg/admission/plugin/policy/validating/dispatcher.go: only the first
 * denying policy's message is returned, warnings are "Validation failed for ValidatingAdmissionPolicy ...").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { exportPolicies } from '../src/export/policies.js';
import { defaultPolicyDocument } from '../src/policy/default-document.js';
import { defaultPolicy, parsePolicy } from '../src/policy/load.js';
import { type Mode, type Policy } from '../src/policy/types.js';
import { eventually, kubectl, kubectlOk, sharedControlPlane } from './helpers/cluster.js';
import { createDryRun as createDryRunIn } from './helpers/dry-run.js';
import { chainVerdict, compareCreates, exportedOnly, kubectlVerdict, manifest, namespaceMaker, vapVerdict, webhookVerdict, type ParityCase, type Verdict } from './helpers/export-parity.js';
import { FIXTURES } from './helpers/fixtures.js';
import { POLICY_LOADING_SECONDS, policyLoading, secondsLeft } from './helpers/policy-loading.js';
import { runCli } from './helpers/run-cli.js';

type Obj = Record<string, any>;
const SCOPE = 'export';
const root = t;
const withPolicies = policyLoading(t);
// Loading the policies may take minutes on a busy machine (helpers/policy-loading.ts), more than tap's 300 s per file.
t.setTimeout(600_000);
const plane = await sharedControlPlane(t);

const RESOURCES = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** A dry-run create in this file's control plane. */
const createDryRun = (namespace: string, object: Obj) => createDryRunIn(plane, namespace, object);
const namespace = namespaceMaker(plane, SCOPE);

function scoped(policy: Policy, name: string, scope: string): Obj[] {
  const objects = exportPolicies(policy, { name }) as Obj[];
  for (const object of objects) {
    if (object.kind !== 'ValidatingAdmissionPolicy' && object.kind !== 'MutatingAdmissionPolicy') continue;
    object.spec.matchConstraints.namespaceSelector.matchExpressions.push({ key: 'rollsafe.test/policy', operator: 'In', values: [scope] });
    // Exported policies fail open (Ignore), as the webhook does; here a CEL error must show as a failure.
    object.spec.failurePolicy = 'Fail';
  }
  return objects;
}

/** Every apps/v1 workload of the rule goldens and the captured AdmissionReviews, by name. */
function workloads(): Array<{ source: string; object: Obj }> {
  const found: Array<{ source: string; object: Obj }> = [];
  const rulesDir = join(FIXTURES, 'rules');
  for (const rule of readdirSync(rulesDir)) {
    for (const file of readdirSync(join(rulesDir, rule)).filter((name) => /\.ya?ml$/.test(name) && !/\.(policy|fixed)\.yaml$/.test(name))) {
      for (const doc of parseAllDocuments(readFileSync(join(rulesDir, rule, file), 'utf8'))) {
        const object = doc.toJS() as Obj | null;
        if (object?.apiVersion === 'apps/v1' && RESOURCES.has(object.kind)) found.push({ source: `rules/${rule}/${file}`, object });
      }
    }
  }
  // Where CEL and JavaScript differ unless both sides are careful (found by a review that tried to break the export).
  const good = (name: string, patch: (container: Obj, object: Obj) => void): Obj => {
    const object: Obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: name } },
        strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: name } } }],
            containers: [{ name: 'app', image: 'example.com/app:1', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 'http' } }, lifecycle: { preStop: { sleep: { seconds: 10 } } } }],
          },
        },
      },
    };
    patch(object.spec.template.spec.containers[0], object);
    return object;
  };
  const tricky: Array<[string, Obj]> = [
    ['no-break space in an exec sleep (not a blank to sh)', good('nbsp', (c) => (c.lifecycle.preStop = { exec: { command: ['sh', '-c', 'sleep\u00a05'] } }))],
    ['vertical tab in an exec sleep', good('vtab', (c) => (c.lifecycle.preStop = { exec: { command: ['sh', '-c', 'sleep\u000b5'] } }))],
    ['a sleep past int64', good('huge-sleep', (c) => ((c.lifecycle.preStop = { exec: { command: ['sleep', '99999999999999999999'] } }), delete c.readinessProbe))],
    ['a maxSurge percentage past int64', good('huge-surge', (c, o) => ((o.spec.strategy.rollingUpdate.maxSurge = '99999999999999999999%'), delete c.readinessProbe))],
    ['a byte-order mark around an exempted rule', good('bom', (c, o) => ((o.metadata.annotations = { 'rollsafe.dev/exempt': '\ufeffreadiness-probe', 'rollsafe.dev/exempt-reason': 'legacy' }), delete c.readinessProbe))],
    ['a next-line character after an exempted rule', good('nel', (c, o) => ((o.metadata.annotations = { 'rollsafe.dev/exempt': 'readiness-probe\u0085', 'rollsafe.dev/exempt-reason': 'legacy' }), delete c.readinessProbe))],
    ['tabs and line breaks around exempted rules', good('blanks', (c, o) => ((o.metadata.annotations = { 'rollsafe.dev/exempt': ' readiness-probe,\n\tmin-replicas ', 'rollsafe.dev/exempt-reason': '\t' }), delete c.readinessProbe))],
    ['a line break in an unknown exempted rule', good('newline-id', (_c, o) => (o.metadata.annotations = { 'rollsafe.dev/exempt': 'readiness\nprobe', 'rollsafe.dev/exempt-reason': 'x' }))],
    [
      'a multi-line sidecar script that quits the proxy, with emoji',
      good('sidecar-script', (_c, o) =>
        (o.spec.template.spec.initContainers = [{ name: 'proxy', image: 'example.com/proxy:1', restartPolicy: 'Always', lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', `curl -X POST localhost:15000/quitquitquit\nsleep 5 # ${'😀'.repeat(60)}\n`] } } } }]),
      ),
    ],
    ['a hostname constraint that selects other pods', good('other-selector', (_c, o) => (o.spec.template.spec.topologySpreadConstraints[0].labelSelector = { matchLabels: { app: 'batch' } }))],
  ];
  for (const [source, object] of tricky) found.push({ source: `tricky: ${source}`, object });
  const reviews = join(FIXTURES, 'admission');
  for (const file of readdirSync(reviews).filter((name) => name.endsWith('.json'))) {
    const object = JSON.parse(readFileSync(join(reviews, file), 'utf8')).request?.object as Obj | undefined;
    if (object?.apiVersion === 'apps/v1' && RESOURCES.has(object.kind)) found.push({ source: `admission/${file}`, object });
  }
  return found;
}

const MODES: Array<[string, Mode | undefined]> = [
  ['ex-default', undefined],
  ['ex-enforce', 'enforce'],
  ['ex-warn', 'warn'],
  ['ex-audit', 'audit'],
];

// Setup throws on failure: tap ends a file's root test once its subtests are done.
await namespace('ex-plain', {});
for (const [name, mode] of MODES) await namespace(name, { 'rollsafe.test/policy': 'default', ...(mode ? { 'rollsafe.dev/mode': mode } : {}) });
await namespace('ex-off', { 'rollsafe.test/policy': 'default', 'rollsafe.dev/mode': 'off' });
// A value no webhook entry selects (an empty one included): not judged either.
await namespace('ex-empty', { 'rollsafe.test/policy': 'default', 'rollsafe.dev/mode': '' });
await namespace('ex-typo', { 'rollsafe.test/policy': 'default', 'rollsafe.dev/mode': 'enforcing' });

const CUSTOM_POLICY = parsePolicy(
  `apiVersion: rollsafe.dev/v1alpha1
kind: Policy
kubernetesVersion: "1.29"
minReplicas: 3
drainSeconds: 10
preStop: {seconds: 15}
exemptions: {allowed: false}
rules:
  readiness-probe: {severity: warning}
  min-replicas: {severity: error}
namespaces:
  - names: [ex-team-*]
    mode: warn
    minReplicas: 1
    rules:
      grace-period: {mode: enforce}
  - names: [ex-legacy]
    kubernetesVersion: "1.37"
    preStop: {seconds: 5}
    rules:
      prestop-delay: {mode: off}
      rollout-strategy: {mode: audit}
`,
  'custom policy',
);
const CUSTOM_NAMESPACES = ['ex-custom', 'ex-team-a', 'ex-legacy'];
// Kubernetes 1.37 as the target: MutatingAdmissionPolicies too (v1 from 1.36), in front of the same validation.
const FIX_POLICY = parsePolicy(defaultPolicyDocument().replace(/^kubernetesVersion: .*$/m, 'kubernetesVersion: "1.37"'), 'default policy for 1.37');
const FIX_NAMESPACES: Array<[string, Mode | undefined]> = [
  ['ex-fix', undefined],
  ['ex-fix-warn', 'warn'],
];
for (const [name, mode] of FIX_NAMESPACES) await namespace(name, { 'rollsafe.test/policy': 'fix', ...(mode ? { 'rollsafe.dev/mode': mode } : {}) });
const DEFAULT_EXPORTED = exportedOnly(defaultPolicy());
const CUSTOM_EXPORTED = exportedOnly(CUSTOM_POLICY);
for (const name of CUSTOM_NAMESPACES) await namespace(name, { 'rollsafe.test/policy': 'custom' });

t.test('the exported policies are accepted by the apiserver and take effect', async (t) => {
  const cli = await runCli(['export', '--name', 'export-cli']);
  t.equal(cli.code, 0, cli.stderr);
  const fromCli = parseAllDocuments(cli.stdout).map((doc) => doc.toJS() as Obj);
  t.strictSame(
    fromCli.map((object) => `${object.kind}/${object.metadata.name}`),
    ['Deny', 'Warn', 'Audit'].flatMap((action) => [`ValidatingAdmissionPolicy/export-cli-${action.toLowerCase()}`, `ValidatingAdmissionPolicyBinding/export-cli-${action.toLowerCase()}`]),
  );
  // The CLI's stream applies as it is (server-side dry run: nothing is installed cluster-wide).
  await kubectlOk(plane, ['apply', '--dry-run=server', '-f', '-'], cli.stdout);
  const cli137 = await runCli(['export', '--kubernetes-version', '1.37', '--name', 'export-cli']);
  t.match(cli137.stdout, /kind: MutatingAdmissionPolicy\n/, 'a 1.37 target gets the fixes as a MutatingAdmissionPolicy');
  await kubectlOk(plane, ['apply', '--dry-run=server', '-f', '-'], cli137.stdout);
  const objects = [...scoped(defaultPolicy(), 'export-test', 'default'), ...scoped(CUSTOM_POLICY, 'export-custom', 'custom'), ...scoped(FIX_POLICY, 'export-fix', 'fix')];
  await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const deadline = Date.now() + POLICY_LOADING_SECONDS * 1000;
  // Removed when the whole file is done (the next subtest needs them).
  root.teardown(async () => {
    await kubectl(plane, ['delete', '--ignore-not-found', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  });
  // The apiserver loads each policy asynchronously: wait until a workload without a probe is denied, and a
  // single replica warned about, under both policies.
  const probe = manifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'activation' }, spec: { replicas: 2, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'a', image: 'a', ports: [{ containerPort: 80 }] }] } } } });
  const single = manifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'activation' }, spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'a', image: 'a' }] } } } });
  // Under the custom policy a missing probe only warns (severity warning), and 3 replicas are the minimum.
  const unprobed = structuredClone(probe);
  unprobed.spec.replicas = 3;
  unprobed.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 15 } } };
  for (const [ns, prefix, warned] of [['ex-default', 'export-test', single], ['ex-custom', 'export-custom', unprobed], ['ex-fix', 'export-fix', single]] as const) {
    await eventually(`the policies of ${prefix} deny and warn`, async () => {
      const [deny, warn] = await Promise.all([createDryRun(ns, probe), createDryRun(ns, warned)]);
      return deny.status === 403 && warn.warnings.some((text) => text.includes(`'${prefix}-warn'`));
    }, secondsLeft(deadline));
  }
  // The MutatingAdmissionPolicy too: it gives this probed workload the preStop sleep it lacks, which then passes.
  const fixable = structuredClone(probe);
  fixable.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/', port: 80 } };
  await eventually('the fixes of export-fix', async () => {
    const answer = await createDryRun('ex-fix', fixable);
    return answer.status === 201 && answer.body.spec.template.spec.containers[0].lifecycle?.preStop !== undefined;
  }, secondsLeft(deadline));
  withPolicies.loaded();
  for (const ns of ['ex-off', 'ex-empty', 'ex-typo']) {
    const skipped = await createDryRun(ns, probe);
    t.equal(skipped.status, 201, `${ns}: a namespace whose rollsafe.dev/mode label is off, empty or unknown is not judged`);
    t.strictSame(skipped.warnings, []);
  }
});

withPolicies.test('every workload gets the webhook verdict, message and warnings, in every namespace mode and override', async (t) => {
  // The apiserver refuses some goldens outright (invalid strategies): neither path ever judges them.
  const cases: ParityCase[] = [
    ...MODES.map(([namespace, mode]) => ({ namespace, policy: DEFAULT_EXPORTED, mode, prefix: 'export-test' })),
    ...CUSTOM_NAMESPACES.map((namespace) => ({ namespace, policy: CUSTOM_EXPORTED, mode: undefined, prefix: 'export-custom' })),
  ];
  const { judged, denied, warned } = await compareCreates(t, workloads(), { plainNamespace: 'ex-plain', cases, createDryRun });
  t.ok(judged > 200 && denied > 30 && warned > 30, `a real mix of verdicts (${judged} judged, ${denied} denied, ${warned} warned)`);
});

withPolicies.test('with the MutatingAdmissionPolicy (1.37), every workload is fixed, stored and judged as through the webhook chain', async (t) => {
  const cases = FIX_NAMESPACES.map(([namespace, mode]) => ({ namespace, policy: exportedOnly(FIX_POLICY), mode, prefix: 'export-fix' }));
  const { judged, fixed } = await compareCreates(t, workloads(), { plainNamespace: 'ex-plain', cases, createDryRun, chain: true });
  t.ok(judged > 100 && fixed > 30, `a real mix (${judged} judged, ${fixed} fixed)`);
});

/** A workload as usually written: one replica, no probe, no preStop, "one at a time" (which is all of it). */
function naive(name: string): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'example.com/app:1.0', ports: [{ name: 'http', containerPort: 8080 }] }] } },
    },
  };
}

/** The chain on an UPDATE in ex-upd: what /mutate patches, then what /validate says of the patched object. */
function updateVerdict(oldObject: Obj, object: Obj): Verdict & { spec: Obj } {
  return chainVerdict(exportedOnly(FIX_POLICY), 'ex-upd', undefined, { operation: 'UPDATE', object, oldObject });
}

withPolicies.test('updates through kubectl: what may be denied, and the pod template left alone unless a rollout starts', async (t) => {
  // Workloads from before the policies: the namespace joins their scope only once they exist.
  await namespace('ex-upd', {});
  for (const name of ['labelled', 'imaged', 'recreated']) await kubectlOk(plane, ['apply', '-n', 'ex-upd', '-f', '-'], JSON.stringify(naive(name)));
  await kubectlOk(plane, ['label', 'namespace', 'ex-upd', 'rollsafe.test/policy=fix']);
  await eventually('ex-upd is judged', async () => (await createDryRun('ex-upd', manifest(naive('probe')))).status === 403, 60);
  const stored = async (name: string) => JSON.parse(await kubectlOk(plane, ['get', 'deployment', name, '-n', 'ex-upd', '-o', 'json'])) as Obj;

  // A label only: never denied; the strategy is fixed, the template is not (that would start a rollout).
  const before = await stored('labelled');
  const expectedLabel = updateVerdict(before, { ...before, metadata: { ...before.metadata, labels: { ...before.metadata.labels, team: 'a' } } });
  const labelled = await kubectl(plane, ['label', 'deployment', 'labelled', '-n', 'ex-upd', 'team=a']);
  t.strictSame(kubectlVerdict(labelled, 'export-fix'), { denied: expectedLabel.denied, warnings: expectedLabel.warnings }, 'label: the verdict and warnings of the webhook chain');
  t.equal(expectedLabel.denied, undefined);
  const afterLabel = await stored('labelled');
  t.strictSame(afterLabel.spec, expectedLabel.spec, 'label: stored as the chain patched it');
  t.equal(afterLabel.spec.strategy.rollingUpdate.maxUnavailable, 0, 'the strategy was fixed');
  t.strictSame(afterLabel.spec.template, before.spec.template, 'the template was left alone');
  t.equal(afterLabel.metadata.generation, before.metadata.generation + 1, 'one change (the strategy), no rollout');
  // Idempotent: the same request again changes nothing.
  await kubectlOk(plane, ['label', '--overwrite', 'deployment', 'labelled', '-n', 'ex-upd', 'team=a']);
  t.equal((await stored('labelled')).metadata.generation, afterLabel.metadata.generation, 'a repeated update is a no-op');

  // The deprecated rollback annotation asks for a template rollsafe cannot see: denied (handle.ts rollbackByAnnotation).
  const current = await stored('labelled');
  const annotated = structuredClone(current);
  annotated.metadata.annotations = { ...annotated.metadata.annotations, 'deprecated.deployment.rollback.to': '1' };
  const expectedRollback = updateVerdict(current, annotated);
  t.match(expectedRollback.denied, /1 zero-downtime violation\(s\): 1\. \[rollout-strategy\] annotation deprecated\.deployment\.rollback\.to/);
  t.strictSame(kubectlVerdict(await kubectl(plane, ['annotate', 'deployment', 'labelled', '-n', 'ex-upd', 'deprecated.deployment.rollback.to=1']), 'export-fix'), { denied: expectedRollback.denied, warnings: expectedRollback.warnings }, 'rollback annotation: the chain verdict');

  // revisionHistoryLimit 0 alone: judged for rollback-history (its deniesUpdatesOf), which warns by default.
  const beforeHistory = await stored('labelled');
  const noHistory = structuredClone(beforeHistory);
  noHistory.spec.revisionHistoryLimit = 0;
  const expectedHistory = updateVerdict(beforeHistory, noHistory);
  t.ok(expectedHistory.warnings.some((warning: string) => warning.startsWith('rollback-history: revisionHistoryLimit is 0')), 'the chain warns');
  const historyRun = await kubectl(plane, ['patch', 'deployment', 'labelled', '-n', 'ex-upd', '--type', 'merge', '-p', JSON.stringify({ spec: { revisionHistoryLimit: 0 } })]);
  t.strictSame(kubectlVerdict(historyRun, 'export-fix'), { denied: expectedHistory.denied, warnings: expectedHistory.warnings }, 'revisionHistoryLimit 0: the chain verdict');

  // A new image starts a rollout: judged in full, denied as the webhook denies it.
  const imaged = await stored('imaged');
  const newImage = structuredClone(imaged);
  newImage.spec.template.spec.containers[0].image = 'example.com/app:2.0';
  const expectedImage = updateVerdict(imaged, newImage);
  t.match(expectedImage.denied, /readiness-probe/);
  t.strictSame(kubectlVerdict(await kubectl(plane, ['set', 'image', 'deployment/imaged', '-n', 'ex-upd', 'app=example.com/app:2.0']), 'export-fix'), { denied: expectedImage.denied, warnings: expectedImage.warnings }, 'set image: the chain verdict');

  // A strategy-only change to Recreate: judged for rollout-strategy alone.
  const recreated = await stored('recreated');
  const toRecreate = structuredClone(recreated);
  toRecreate.spec.strategy = { type: 'Recreate' };
  const expectedRecreate = updateVerdict(recreated, toRecreate);
  t.match(expectedRecreate.denied, /^rollsafe denied Deployment recreated: 1 zero-downtime violation\(s\): 1\. \[rollout-strategy\]/);
  const patchRun = await kubectl(plane, ['patch', 'deployment', 'recreated', '-n', 'ex-upd', '--type', 'merge', '-p', JSON.stringify({ spec: { strategy: { type: 'Recreate', rollingUpdate: null } } })]);
  t.strictSame(kubectlVerdict(patchRun, 'export-fix'), { denied: expectedRecreate.denied, warnings: expectedRecreate.warnings }, 'strategy to Recreate: the chain verdict');
});

withPolicies.test('a large workload stays within the CEL cost budget (40 containers of 10 ports, probes and hooks)', async (t) => {
  const containers = Array.from({ length: 40 }, (_, index) => ({
    name: `c${index}`,
    image: 'example.com/app:1.0',
    ports: Array.from({ length: 10 }, (_, port) => ({ name: `p${index}-${port}`, containerPort: 8000 + index * 10 + port })),
    readinessProbe: { httpGet: { path: '/ready', port: `p${index}-0` } },
    livenessProbe: { httpGet: { path: '/ready', port: 8000 + index * 10 } },
    lifecycle: { preStop: { exec: { command: ['sh', '-c', `sleep 5 && ${'x'.repeat(200)}`] } } },
  }));
  const big = manifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'big' }, spec: { replicas: 3, selector: { matchLabels: { app: 'big' } }, template: { metadata: { labels: { app: 'big' } }, spec: { containers } } } });
  const defaulted = await createDryRun('ex-plain', big);
  t.equal(defaulted.status, 201);
  for (const [ns, policy, prefix] of [['ex-default', DEFAULT_EXPORTED, 'export-test'], ['ex-fix', exportedOnly(FIX_POLICY), 'export-fix']] as const) {
    const object = { ...defaulted.body, metadata: { ...defaulted.body.metadata, namespace: ns } };
    const expected = prefix === 'export-fix' ? chainVerdict(policy, ns, undefined, { operation: 'CREATE', object }) : webhookVerdict(policy, ns, undefined, { operation: 'CREATE', object });
    const answer = await createDryRun(ns, big);
    const actual = vapVerdict(answer, prefix);
    // Failing closed here, a cost overrun would be a denial with another message.
    t.equal(actual.denied, expected.denied, `${ns}: the webhook's denial, capped to what a policy message may hold`);
    if ('spec' in expected) t.strictSame(answer.status === 201 ? answer.body.spec : expected.spec, expected.spec, `${ns}: the chain's fixes`);
    // 80 warnings exceed the apiserver's 4 KiB of warning headers (k8s.io/apiserver endpoints/filters/warning.go
    // truncates them for the webhook too): some arrive, each a finding of an exported rule.
    t.ok(actual.warnings.length > 0 && actual.warnings.every((text) => /^(?:probes-identical|prestop-delay|probe-port|readiness-probe|min-replicas|node-spread): /.test(text)), `${ns}: warnings of the rules`);
  }
});

withPolicies.test('another mutating webhook adds a sidecar after the MutatingAdmissionPolicy: it is reinvoked and fixes the sidecar too', async (t) => {
  const { makeCertificates } = await import('./helpers/tls.js');
  const { injectorConfiguration, SIDECAR, startSidecarInjector } = await import('./helpers/sidecar-injector.js');
  const certificates = makeCertificates();
  const injector = await startSidecarInjector(certificates);
  t.teardown(() => injector.close());
  await namespace('ex-inject', { 'rollsafe.test/policy': 'fix', 'rollsafe.test/inject': 'yes' });
  const config = injectorConfiguration('export-test-sidecar-injector', injector, certificates.ca, { 'rollsafe.test/inject': 'yes' });
  await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify(config));
  root.teardown(async () => {
    await kubectl(plane, ['delete', 'mutatingwebhookconfiguration', 'export-test-sidecar-injector', '--ignore-not-found']);
  });
  const app = naive('injected');
  app.spec.replicas = 2;
  app.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/', port: 'http' } };
  // The expected object: the chain on the object with the sidecar in it (what the apiserver reinvokes rollsafe on).
  const withSidecar = structuredClone(app);
  withSidecar.spec.template.spec.containers.push(structuredClone(SIDECAR));
  const defaulted = await createDryRun('ex-plain', manifest(withSidecar));
  t.equal(defaulted.status, 201);
  const expected = chainVerdict(exportedOnly(FIX_POLICY), 'ex-inject', undefined, { operation: 'CREATE', object: { ...defaulted.body, metadata: { ...defaulted.body.metadata, namespace: 'ex-inject' } } });
  const proxy = expected.spec.template.spec.containers.find((container: Obj) => container.name === SIDECAR.name);
  t.ok(proxy?.lifecycle?.preStop, 'the chain gives the injected sidecar a preStop sleep');
  await eventually('the injector is called', async () => {
    const answer = await createDryRun('ex-inject', manifest(app));
    return answer.status === 201 && answer.body.spec.template.spec.containers.length === 2 ? answer : undefined;
  }, 30).then((answer) => {
    t.strictSame(answer.body.spec, expected.spec, 'stored as the webhook chain stores it: the sidecar injected, then fixed on reinvocation');
  });
});

/** `kubectl get namespaces -l SELECTOR`: the apiserver's own reading of kubectl's selector syntax (labels.Parse). */
async function namespacesKubectlSelects(selector: string, among: readonly string[]): Promise<string[]> {
  const list = JSON.parse(await kubectlOk(plane, ['get', 'namespaces', '-l', selector, '-o', 'json'])) as { items: Obj[] };
  return list.items.map((item) => item.metadata.name as string).filter((name) => among.includes(name)).sort();
}

// Namespaces for --namespace-selector, by the labels a trial would use (keys of this file only: the plane is shared).
const TIER = 'rollsafe.test/tier';
const LEGACY = 'rollsafe.test/legacy';
const SELECTOR_NAMESPACES: Array<[string, Record<string, string>]> = [
  ['ex-sel-web', { [TIER]: 'web' }],
  ['ex-sel-db', { [TIER]: 'db' }],
  // A value YAML 1.1 reads as a boolean unquoted: the printed stream must keep it a string for kubectl.
  ['ex-sel-on', { [TIER]: 'on' }],
  ['ex-sel-db-legacy', { [TIER]: 'db', [LEGACY]: 'yes' }],
  ['ex-sel-empty', { [TIER]: '' }],
  ['ex-sel-none', {}],
  ['ex-sel-legacy', { [LEGACY]: '' }],
];
const selectorNamespaces = async () => {
  for (const [name, labels] of SELECTOR_NAMESPACES) await namespace(name, labels);
};

t.test('--namespace-selector reads kubectl\'s -l syntax as the apiserver does (issue 29)', async (t) => {
  const { parseLabelSelector } = await import('../src/export/namespace-selector.js');
  const { selectorMatches } = await import('../src/workloads/label-selector.js');
  await selectorNamespaces();
  const names = SELECTOR_NAMESPACES.map(([name]) => name);
  const selectors = [
    `${TIER}=web`,
    `${TIER}==db`,
    `${TIER}!=web`,
    `${TIER}=`,
    `${LEGACY}!=`,
    `${TIER} in (web,db)`,
    `${TIER} notin (web,db)`,
    `${TIER}`,
    `!${TIER}`,
    `${TIER} in (db),!${LEGACY}`,
    ` ${TIER}  in ( web , db ) , ${LEGACY} `,
    `${TIER} in (in,notin,web)`,
    `${TIER}=on`,
  ];
  for (const selector of selectors) {
    const ours = names.filter((name) => selectorMatches({ matchExpressions: parseLabelSelector(selector) }, { 'rollsafe.test/scope': SCOPE, ...Object.fromEntries(SELECTOR_NAMESPACES)[name] })).sort();
    t.strictSame(ours, await namespacesKubectlSelects(selector, names), selector);
  }
});

t.test('export --namespace and --namespace-selector: the workload is judged in a chosen namespace, not in another (issue 29)', async (t) => {
  await namespace('ex-chosen', {});
  await namespace('ex-not-chosen', {});
  await selectorNamespaces();
  // The CLI's streams as they are: they judge only these namespaces, so they may be applied on the shared plane.
  const byName = await runCli(['export', '--name', 'export-chosen', '--namespace', 'ex-chosen']);
  const bySelector = await runCli(['export', '--name', 'export-selected', '--namespace-selector', `${TIER} in (web,db,on),!${LEGACY}`]);
  t.equal(byName.code, 0, byName.stderr);
  t.equal(bySelector.code, 0, bySelector.stderr);
  for (const stream of [byName.stdout, bySelector.stdout]) {
    root.teardown(async () => {
      await kubectl(plane, ['delete', '--ignore-not-found', '-f', '-'], stream);
    });
    await kubectlOk(plane, ['apply', '-f', '-'], stream);
  }
  const deadline = Date.now() + POLICY_LOADING_SECONDS * 1000;
  const probe = manifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'trial' }, spec: { replicas: 2, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'a', image: 'a', ports: [{ containerPort: 80 }] }] } } } });
  const single = manifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'trial' }, spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'a', image: 'a' }] } } } });
  const cases: Array<[string, string[], string]> = [
    ['export-chosen', ['ex-chosen'], 'ex-not-chosen'],
    ['export-selected', ['ex-sel-web', 'ex-sel-db', 'ex-sel-on'], 'ex-sel-db-legacy'],
  ];
  for (const [prefix, chosen] of cases) {
    // The apiserver loads each policy asynchronously: judged once the deny and the warn policy both answer.
    for (const ns of chosen) {
      await eventually(`${prefix} judges ${ns}`, async () => {
        const [deny, warn] = await Promise.all([createDryRun(ns, probe), createDryRun(ns, single)]);
        return deny.status === 403 && String(deny.body.message).includes(`'${prefix}-deny'`) && warn.warnings.some((text) => text.includes(`'${prefix}-warn'`));
      }, secondsLeft(deadline));
    }
  }
  for (const [prefix, chosen, other] of cases) {
    const denied = await createDryRun(chosen[0] as string, probe);
    t.equal(denied.status, 403, `${prefix}: denied in ${chosen[0]}`);
    t.match(denied.body.message, /\[readiness-probe\]/);
    const others = prefix === 'export-selected' ? SELECTOR_NAMESPACES.map(([name]) => name).filter((name) => !chosen.includes(name)) : [other];
    for (const ns of others) {
      for (const workload of [probe, single]) {
        const answer = await createDryRun(ns, workload);
        t.equal(answer.status, 201, `${prefix}: ${ns} is not judged`);
        t.strictSame(answer.warnings, [], `${prefix}: no warning in ${ns}`);
      }
    }
  }
});
