import t from 'tap';
import { parse } from 'yaml';
import { evaluate } from '../src/engine/engine.js';
import { defaultPolicy, parsePolicy } from '../src/policy/load.js';
import { RULES } from '../src/rules/index.js';
import type { JsonObject } from '../src/util/object.js';
import { fixture } from './helpers/fixtures.js';

const noProbes = (): JsonObject => parse(fixture('admission', 'web-no-probes.yaml'));
const HEADER = 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\n';

t.test('a lone Deployment: every rule that applies reports, with object and container', async (t) => {
  const evaluation = evaluate(noProbes(), defaultPolicy());
  t.ok(evaluation);
  t.same(evaluation?.ref, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: undefined, name: 'web' });
  t.same(
    evaluation?.findings.map((finding) => [finding.rule, finding.severity, finding.container ?? null]),
    [
      ['readiness-probe', 'error', 'web'],
      ['prestop-delay', 'error', 'web'],
      ['rollout-strategy', 'error', null],
      ['min-replicas', 'warning', null],
    ],
  );
  t.notOk(evaluation?.findings.some((finding) => finding.rule === 'disruption-budget'), 'no context, no PDB verdict');
  t.equal(evaluation?.fixed, undefined, 'no fix unless asked');
});

t.test('the input object is never modified, the fixed copy is', async (t) => {
  const object = noProbes();
  const before = structuredClone(object);
  const evaluation = evaluate(object, defaultPolicy(), { fixModes: new Set(['enforce']) });
  t.same(object, before);
  t.ok(evaluation?.changed);
  t.match(evaluation?.fixed, { spec: { template: { spec: { containers: [{ lifecycle: { preStop: { sleep: { seconds: 10 } } } }] } } } });
  t.same(evaluation?.applied.map((applied) => applied.rule), ['prestop-delay']);
});

t.test('fixes apply only in the modes asked for', async (t) => {
  const policy = parsePolicy(`${HEADER}rules:\n  prestop-delay: {mode: warn}\n`, 'p');
  const enforceOnly = evaluate(noProbes(), policy, { fixModes: new Set(['enforce']) });
  t.notOk(enforceOnly?.changed, 'warn-mode rule not applied by the webhook path');
  t.equal(enforceOnly?.findings.find((f) => f.rule === 'prestop-delay')?.mode, 'warn');
  const all = evaluate(noProbes(), policy, { fixModes: new Set(['enforce', 'warn', 'audit']) });
  t.ok(all?.changed);
});

t.test('off rules do not run; namespace mode applies to the rest', async (t) => {
  const policy = parsePolicy(`${HEADER}rules:\n  readiness-probe: {mode: off}\n`, 'p');
  const evaluation = evaluate(noProbes(), policy, { namespaceMode: 'audit' });
  t.notOk(evaluation?.rules.some((rule) => rule.rule === 'readiness-probe'));
  t.ok(evaluation?.findings.every((finding) => finding.mode === 'audit'));
});

t.test('namespace overrides from the policy follow the object namespace', async (t) => {
  const policy = parsePolicy(`${HEADER}namespaces:\n  - names: [legacy]\n    mode: warn\n    preStop: {seconds: 30}\n`, 'p');
  const object = noProbes();
  (object['metadata'] as JsonObject)['namespace'] = 'legacy';
  const evaluation = evaluate(object, policy);
  t.equal(evaluation?.namespace, 'legacy');
  t.match(evaluation?.findings.find((finding) => finding.rule === 'prestop-delay'), { mode: 'warn', message: /at least 30s/ });
});

t.test('exemptions: reported as exempt with the reason, never fixed', async (t) => {
  const object = noProbes();
  (object['metadata'] as JsonObject)['annotations'] = {
    'rollsafe.dev/exempt': 'prestop-delay, min-replicas',
    'rollsafe.dev/exempt-reason': 'batch ingest, drained by the queue',
  };
  const evaluation = evaluate(object, defaultPolicy(), { fixModes: new Set(['enforce']) });
  const prestop = evaluation?.findings.find((finding) => finding.rule === 'prestop-delay');
  t.same(prestop?.exempt, { reason: 'batch ingest, drained by the queue' });
  t.notOk(evaluation?.changed, 'an exempt rule is not fixed');
  t.notOk(evaluation?.findings.some((finding) => finding.rule === 'exemption'));
  t.notOk(evaluation?.findings.some((f) => f.rule === 'grace-period'), 'grace counts no sleep that will not be added');
});

t.test('exemption problems are warnings of their own', async (t) => {
  const object = noProbes();
  (object['metadata'] as JsonObject)['annotations'] = { 'rollsafe.dev/exempt': 'min-replicas,bogus' };
  const evaluation = evaluate(object, defaultPolicy());
  const problems = evaluation?.findings.filter((finding) => finding.rule === 'exemption').map((finding) => finding.message);
  t.match(problems, [/unknown rule "bogus"/, /has no reason/]);
  t.ok(evaluation?.findings.find((finding) => finding.rule === 'min-replicas')?.exempt, 'still honoured');

  const forbidding = parsePolicy(`${HEADER}exemptions: {allowed: false}\n`, 'p');
  const refused = evaluate(object, forbidding);
  t.match(refused?.findings.filter((finding) => finding.rule === 'exemption'), [{ severity: 'warning', message: /does not allow exemptions/ }]);
  t.notOk(refused?.findings.some((finding) => finding.exempt), 'nothing exempt when the policy forbids it');
});

t.test('severity from the policy, capped by the rule for info/warning-only findings', async (t) => {
  const policy = parsePolicy(`${HEADER}rules:\n  min-replicas: {severity: error}\n  rollout-strategy: {severity: warning}\n`, 'p');
  const evaluation = evaluate(noProbes(), policy);
  t.equal(evaluation?.findings.find((finding) => finding.rule === 'min-replicas')?.severity, 'error');
  t.equal(evaluation?.findings.find((finding) => finding.rule === 'rollout-strategy')?.severity, 'warning');
});

t.test('other kinds and API versions are not workloads', async (t) => {
  t.equal(evaluate({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }, defaultPolicy()), undefined);
  t.equal(evaluate({ apiVersion: 'extensions/v1beta1', kind: 'Deployment', metadata: { name: 'd' } }, defaultPolicy()), undefined);
  t.equal(evaluate({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' } }, defaultPolicy()), undefined);
});

t.test('hostile shapes never throw: wrong types at every level', async (t) => {
  const shapes: unknown[] = [
    { spec: null },
    { spec: 'x' },
    { spec: { template: [] } },
    { spec: { replicas: '3', strategy: 'Recreate', template: { spec: { containers: 'nope' } } } },
    { spec: { template: { spec: { containers: [null, 1, { name: 5, ports: 'x', lifecycle: { preStop: 'x' } }] } } } },
    { spec: { replicas: -1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '0%', maxUnavailable: [] } }, template: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 'x', hostPort: 'y' }] }], volumes: [null, { persistentVolumeClaim: 5 }] } } } },
    { spec: { template: { spec: { containers: [{ ports: [{ containerPort: 80 }], readinessProbe: [], livenessProbe: [] }], initContainers: {} } } } },
    { metadata: { annotations: { 'rollsafe.dev/exempt': 42 } }, spec: { strategy: { rollingUpdate: { maxSurge: {}, maxUnavailable: '1.5%' } }, template: { spec: { containers: [] } } } },
  ];
  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet']) {
    for (const shape of shapes) {
      const object = { apiVersion: 'apps/v1', kind, metadata: { name: 'x' }, ...(shape as object) } as JsonObject;
      // Objects without a pod template are skipped (undefined); the others must evaluate without a rule error.
      const evaluation = evaluate(object, defaultPolicy(), { fixModes: new Set(['enforce']) });
      t.same(evaluation?.errors ?? [], [], `${kind} ${JSON.stringify(shape).slice(0, 60)}`);
    }
  }
});

t.test('a rule that throws is isolated and reported', async (t) => {
  const rule = RULES.find((candidate) => candidate.id === 'min-replicas');
  t.ok(rule);
  const original = rule!.check;
  rule!.check = () => {
    throw new Error('boom');
  };
  try {
    const evaluation = evaluate(noProbes(), defaultPolicy());
    t.same(evaluation?.errors, [{ rule: 'min-replicas', message: 'boom' }]);
    t.ok(evaluation?.findings.some((finding) => finding.rule === 'readiness-probe'), 'other rules still ran');
  } finally {
    rule!.check = original;
  }
});

t.test('fixes copy only the objects on the paths they set; everything else is shared with the input', async (t) => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { FIXTURES } = await import('./helpers/fixtures.js');
  let checked = 0;
  for (const name of readdirSync(join(FIXTURES, 'admission')).filter((n) => n.endsWith('.json'))) {
    const object = JSON.parse(readFileSync(join(FIXTURES, 'admission', name), 'utf8')).request.object;
    if (!object) continue;
    const before = JSON.stringify(object);
    const evaluation = evaluate(object, defaultPolicy(), { fixModes: new Set(['enforce']) });
    t.equal(JSON.stringify(object), before, `${name}: input untouched`);
    if (!evaluation?.changed || !evaluation.fixed) continue;
    checked++;
    const fixed = evaluation.fixed as any;
    t.equal(fixed.metadata, object.metadata, 'metadata (with managedFields) shared');
    t.not(fixed.spec, object.spec, 'spec copied on the way to the fix');
    t.equal(fixed.spec.selector, object.spec.selector, 'untouched branches shared');
  }
  t.ok(checked >= 10);
});

t.test('a native sleep is never added beyond a grace period that the same pass does not raise', async (t) => {
  const object = noProbes();
  ((object['spec'] as JsonObject)['template'] as JsonObject)['spec'] = { ...(((object['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject), terminationGracePeriodSeconds: 5 };
  const warnGrace = parsePolicy(`${HEADER}rules:\n  grace-period: {mode: warn}\n`, 'p');
  const webhook = evaluate(object, warnGrace, { fixModes: new Set(['enforce']) });
  t.notOk(webhook?.changed, 'the mutating webhook adds no sleep the apiserver would refuse');
  t.match(webhook?.findings.find((f) => f.rule === 'prestop-delay'), { message: /shorter than the 10s sleep/ });
  t.notOk(webhook?.findings.find((f) => f.rule === 'prestop-delay')?.fix);
  const cli = evaluate(object, warnGrace, { fixModes: new Set(['enforce', 'warn', 'audit']) });
  t.match(cli?.fixed, { spec: { template: { spec: { terminationGracePeriodSeconds: 30, containers: [{ lifecycle: { preStop: { sleep: { seconds: 10 } } } }] } } } }, 'rollsafe fix raises both');
});

t.test('labels and annotations maps: non-string values and an own "__proto__" key are left out', async (t) => {
  const { stringMap } = await import('../src/workloads/workload.js');
  const plain = { app: 'web', tier: 'front' };
  t.equal(stringMap(plain), plain, 'an all-string map is used as it is, not copied per request');
  t.same(stringMap({ app: 'web', replicas: 3, nested: { a: 'b' } }), { app: 'web' });
  const hostile = JSON.parse('{"app":"web","__proto__":"x"}');
  const read = stringMap(hostile);
  t.same(Object.keys(read), ['app'], 'the "__proto__" key is not a label');
  t.equal(Object.getPrototypeOf(read), Object.prototype);
  t.same(stringMap(undefined), {});
  t.same(stringMap(['a']), {});
});
