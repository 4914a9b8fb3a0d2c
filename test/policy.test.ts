import t from 'tap';
import { parse } from 'yaml';
import { defaultPolicy, parsePolicy, PolicyError } from '../src/policy/load.js';
import { defaultPolicyDocument } from '../src/policy/default-document.js';
import { effectivePolicy } from '../src/policy/effective.js';
import { runCli } from './helpers/run-cli.js';

function problems(text: string): string[] {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
  return [];
}

const HEADER = 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\n';

t.test('an empty policy gets every default', async (t) => {
  const policy = defaultPolicy();
  t.equal(policy.kubernetesVersion, '1.30');
  t.same(policy.preStop, { seconds: 10, action: 'auto' });
  t.equal(policy.drainSeconds, 20);
  t.equal(policy.minReplicas, 2);
  t.same(policy.exemptions, { allowed: true });
  t.same(policy.rules['readiness-probe'], { mode: 'enforce', severity: 'error' });
  t.same(policy.rules['probes-identical'], { mode: 'enforce', severity: 'warning' });
  t.same(policy.rules['disruption-budget'], { mode: 'enforce', severity: 'warning' });
  t.same(policy.namespaces, []);
});

t.test('the printed default policy is exactly the schema defaults', async (t) => {
  t.same(parsePolicy(defaultPolicyDocument(), 'default'), defaultPolicy());
  t.same(parse(defaultPolicyDocument()).rules, defaultPolicy().rules);
});

t.test('partial rule settings keep the other defaults', async (t) => {
  const policy = parsePolicy(`${HEADER}rules:\n  prestop-delay: {mode: warn}\npreStop: {seconds: 15}\n`, 'p');
  t.same(policy.rules['prestop-delay'], { mode: 'warn', severity: 'error' });
  t.same(policy.preStop, { seconds: 15, action: 'auto' });
});

t.test('bad documents are explained with the path named', async (t) => {
  t.match(problems(`${HEADER}rules:\n  prestop-delay: {mod: warn}\n`), ['rules.prestop-delay: unknown key "mod"']);
  t.match(problems(`${HEADER}rules:\n  no-such-rule: {}\n`), ['rules: unknown key "no-such-rule"']);
  t.match(problems(`${HEADER}drainSeconds: "20"\n`), ['drainSeconds: must be integer']);
  t.match(problems(`${HEADER}rules:\n  grace-period: {mode: block}\n`), [/grace-period.mode: must be one of enforce, warn, audit, off/]);
  t.match(problems('apiVersion: v1\nkind: Policy\n'), ['apiVersion: must be "rollsafe.dev/v1alpha1"']);
  t.match(problems('kind: Policy\n'), ['(top level): missing required key "apiVersion"']);
  t.match(problems(`${HEADER}kubernetesVersion: "2.0"\n`), [/kubernetesVersion/]);
  t.match(problems(`${HEADER}namespaces:\n  - mode: warn\n`), ['namespaces.0: missing required key "names"']);
  t.match(problems(`${HEADER}rules: [\n`), [/line \d+, column \d+/]);
  t.match(problems(`${HEADER}minReplicas: 0\n`), [/minReplicas: must be >= 1/]);
});

t.test('namespace overrides: first match wins, globs, namespace mode keeps off rules off', async (t) => {
  const policy = parsePolicy(
    `${HEADER}rules:\n  min-replicas: {mode: off}\nnamespaces:\n` +
      '  - names: ["legacy-*"]\n    mode: warn\n    drainSeconds: 40\n    rules:\n      prestop-delay: {mode: audit}\n' +
      '  - names: ["legacy-payments", "shop"]\n    mode: audit\n',
    'p',
  );
  const legacy = effectivePolicy(policy, 'legacy-payments');
  t.equal(legacy.rules['readiness-probe'].mode, 'warn');
  t.equal(legacy.rules['prestop-delay'].mode, 'audit');
  t.equal(legacy.rules['min-replicas'].mode, 'off');
  t.equal(legacy.drainSeconds, 40);
  t.equal(effectivePolicy(policy, 'shop').rules['grace-period'].mode, 'audit');
  t.equal(effectivePolicy(policy, 'other').rules['grace-period'].mode, 'enforce');
  t.equal(effectivePolicy(policy, 'legacyx').rules['grace-period'].mode, 'enforce');
});

t.test('effective policies are cached per policy, namespace and mode; a new policy object starts afresh', async (t) => {
  const policy = defaultPolicy();
  t.equal(effectivePolicy(policy, 'shop'), effectivePolicy(policy, 'shop'), 'same object on the second call');
  t.equal(effectivePolicy(policy, 'shop', 'warn'), effectivePolicy(policy, 'shop', 'warn'));
  t.not(effectivePolicy(policy, 'shop', 'warn'), effectivePolicy(policy, 'shop'));
  t.equal(effectivePolicy(policy, 'shop', 'warn').rules['grace-period'].mode, 'warn');
  t.equal(effectivePolicy(policy, 'shop').rules['grace-period'].mode, 'enforce', 'the mode does not leak into the plain entry');
  const reloaded = parsePolicy(`${HEADER}rules:\n  grace-period: {mode: audit}\n`, 'p');
  t.equal(effectivePolicy(reloaded, 'shop').rules['grace-period'].mode, 'audit');
});

t.test('preStop.action: sleep with a target older than 1.30 is refused, at the top and per namespace', async (t) => {
  const base = 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\n';
  t.throws(() => parsePolicy(`${base}kubernetesVersion: "1.28"\npreStop: {action: sleep}\n`, 'p.yaml'), /preStop\.action: sleep needs kubernetesVersion 1\.30 or later.*"1\.28"/);
  t.throws(
    () => parsePolicy(`${base}preStop: {action: sleep}\nnamespaces:\n  - names: [legacy]\n    kubernetesVersion: "1.29"\n`, 'p.yaml'),
    /namespaces\.0\.preStop\.action: sleep needs kubernetesVersion 1\.30/,
    'an override that lowers the version inherits action sleep',
  );
  t.doesNotThrow(() => parsePolicy(`${base}kubernetesVersion: "1.28"\npreStop: {action: auto}\n`, 'p.yaml'), 'auto picks exec on 1.28');
  t.doesNotThrow(() => parsePolicy(`${base}kubernetesVersion: "1.30"\npreStop: {action: sleep}\n`, 'p.yaml'));
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const file = join(mkdtempSync(join(tmpdir(), 'rollsafe-policy-')), 'policy.yaml');
  writeFileSync(file, `${base}kubernetesVersion: "1.28"\npreStop: {action: sleep}\n`);
  const check = await runCli(['policy', '--check', file]);
  t.equal(check.code, 2);
  t.match(check.stderr, /preStop\.action: sleep needs kubernetesVersion 1\.30/);
});

t.test('misspelled keys and rule ids: did you mean', async (t) => {
  t.same(problems(`${HEADER}drainSecond: 30\nrules:\n  prestop-dealy: {mode: warn}\n  readiness: {mode: warn}\n`), [
    '(top level): unknown key "drainSecond" (did you mean "drainSeconds"?)',
    'rules: unknown key "prestop-dealy" (did you mean "prestop-delay"?)',
    'rules: unknown key "readiness" (did you mean "readiness-probe"?)',
  ]);
  t.same(problems(`${HEADER}colour: blue\n`), ['(top level): unknown key "colour"'], 'no guess when nothing is close');
  const { evaluate } = await import('../src/engine/engine.js');
  const object = parse('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {rollsafe.dev/exempt: min-replica, rollsafe.dev/exempt-reason: singleton}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: web}]\n');
  const finding = evaluate(object, defaultPolicy())?.findings.find((candidate) => candidate.rule === 'exemption');
  t.match(finding?.message, /unknown rule "min-replica" \(did you mean "min-replicas"\?\)/);
});

t.test('defaultPolicy() (filled from the schema without compiling a validator) equals what ajv fills in', async (t) => {
  t.same(defaultPolicy(), parsePolicy(HEADER, 'p.yaml'));
  t.not(defaultPolicy(), defaultPolicy(), 'a fresh object each time: callers may change it');
});
