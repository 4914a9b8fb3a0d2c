/**
 * Real-world manifests (copied from ../shared/corpus, see its README for sources and licences): the audit
 * never crashes, fix leaves no fixable finding, fix is idempotent, and fixed objects still validate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { auditFiles } from '../src/audit/audit.js';
import { parseManifest } from '../src/manifests/read.js';
import { defaultPolicy } from '../src/policy/load.js';
import { auditText, findingsOf, FIXTURES } from './helpers/fixtures.js';
import { schemaError } from './helpers/k8s-schema.js';

const CORPUS = join(FIXTURES, 'corpus');

function manifestFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return manifestFiles(path);
    return /\.(ya?ml|json|sed)$/.test(name) ? [path] : [];
  });
}

const files = manifestFiles(CORPUS);

t.ok(files.length >= 25, `the corpus has files (${files.length})`);

for (const path of files) {
  const name = relative(CORPUS, path);
  t.test(name, async (t) => {
    const text = readFileSync(path, 'utf8');
    const { audit, fixed } = auditText(text, defaultPolicy(), name);
    for (const error of audit.inputErrors) t.match(error.message, /\S/, 'input errors are explained');
    const again = auditText(fixed, defaultPolicy(), name);
    t.same(findingsOf(again.audit).filter((finding) => finding.fix), [], 'no fixable finding left after fix');
    t.equal(again.fixed, fixed, 'fix is idempotent');
    t.equal(again.audit.results.length, audit.results.length, 'fix keeps every workload');
    audit.results.forEach((result, index) => {
      const after = again.audit.results[index]?.source.object;
      if (after && schemaError(result.source.object) === undefined) {
        t.equal(schemaError(after), undefined, `${result.evaluation.ref.kind} ${result.evaluation.ref.name} still validates`);
      }
    });
    // Documents that no fix touched come back byte for byte.
    if (audit.results.every((result) => !result.evaluation.changed)) t.equal(fixed, text, 'untouched file is unchanged');
  });
}

t.test('the whole corpus as one input: context crosses files', async (t) => {
  const parsed = files.map((path) => parseManifest(readFileSync(path, 'utf8'), relative(CORPUS, path)));
  const audit = auditFiles(parsed, defaultPolicy());
  t.ok(audit.results.length >= 35, 'workloads found');
  t.ok(audit.skipped.length > 0, 'other kinds are counted as skipped');
  const vllm = audit.results.find((result) => result.evaluation.ref.name === 'vllm-gemma-deployment');
  t.match(vllm?.evaluation.findings.find((finding) => finding.rule === 'min-replicas')?.message, /HorizontalPodAutoscaler "gemma-server-hpa"/);
  const wordpress = audit.results.find((result) => result.evaluation.ref.name === 'wordpress');
  t.match(wordpress?.evaluation.findings.find((finding) => finding.rule === 'rollout-strategy'), { severity: 'info', message: /ReadWriteOnce/ });
});
