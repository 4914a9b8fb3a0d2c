/**
 * Walks test/fixtures/rules/<rule>/ like Polaris' check tests: `pass-*`, `fail-*` and `info-*` YAML cases,
 * an optional `<case>.policy.yaml`, and for fixable failures `<case>.fixed.yaml`, the exact `rollsafe fix`
 * output. A new case needs a file, not code. UPDATE_GOLDEN=1 writes missing .fixed.yaml files for review.
 * Cases of the other rules run with node-spread off: its fix touches every multi-replica fixture, and would
 * bury each case's own edit; its own directory, the corpus and the CLI tests run it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parsePolicy, defaultPolicy } from '../src/policy/load.js';
import { auditText, findingsOf, FIXTURES } from './helpers/fixtures.js';
import { schemaError } from './helpers/k8s-schema.js';

const RULES_DIR = join(FIXTURES, 'rules');
const CASE = /^(pass|fail|info)-.+(?<!\.fixed|\.policy)\.yaml$/;

for (const rule of readdirSync(RULES_DIR).sort()) {
  const dir = join(RULES_DIR, rule);
  const cases = readdirSync(dir).filter((name) => CASE.test(name)).sort();
  t.test(rule, async (t) => {
    t.ok(cases.some((name) => name.startsWith('pass-')), 'has a pass case');
    t.ok(cases.some((name) => name.startsWith('fail-')), 'has a fail case');
    for (const name of cases) {
      t.test(name, async (t) => {
        const base = name.slice(0, -'.yaml'.length);
        const policyFile = join(dir, `${base}.policy.yaml`);
        const policy = existsSync(policyFile) ? parsePolicy(readFileSync(policyFile, 'utf8'), policyFile) : defaultPolicy();
        if (rule !== 'node-spread') policy.rules['node-spread'] = { ...policy.rules['node-spread'], mode: 'off' };
        const text = readFileSync(join(dir, name), 'utf8');
        const { audit, fixed } = auditText(text, policy, name);
        t.same(audit.inputErrors, [], 'reads cleanly');
        t.ok(audit.results.length > 0, 'has a workload');
        const findings = findingsOf(audit, rule).filter((finding) => !finding.exempt);
        const serious = findings.filter((finding) => finding.severity !== 'info');
        if (name.startsWith('pass-')) t.same(serious, [], 'no finding');
        if (name.startsWith('fail-')) t.ok(serious.length > 0, 'a finding');
        if (name.startsWith('info-')) t.ok(findings.length > 0 && serious.length === 0, 'only info findings');
        for (const finding of findings) {
          t.ok(finding.message.length > 40, 'the message explains itself');
          t.notMatch(finding.message, /undefined|\[object Object\]|NaN/, 'no rendering leaks');
        }

        const goldenFile = join(dir, `${base}.fixed.yaml`);
        if (!existsSync(goldenFile) && process.env['UPDATE_GOLDEN'] && fixed !== text) writeFileSync(goldenFile, fixed);
        if (existsSync(goldenFile)) {
          t.equal(fixed, readFileSync(goldenFile, 'utf8'), 'fix output matches the golden file');
          t.ok(findings.some((finding) => finding.fix), 'the failure is fixable');
        } else {
          t.equal(fixed, text, 'fix changes nothing (no fixable finding)');
        }
        const again = auditText(fixed, policy, name);
        t.same(findingsOf(again.audit).filter((finding) => finding.fix && !finding.exempt), [], 'no fixable finding is left');
        t.equal(again.fixed, fixed, 'fix is idempotent');
        for (const [index, result] of again.audit.results.entries()) {
          const original = audit.results[index]?.source.object;
          if (original && schemaError(original) === undefined) {
            t.equal(schemaError(result.source.object), undefined, 'the fixed object still validates');
          }
        }
      });
    }
  });
}
