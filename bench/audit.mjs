// Audit throughput against a plain `yaml` parse of the same input, and CLI cold start against bare node.
// Run: npm run bench:audit. Targets (issue 14): audit >= 0.5x the throughput of js-yaml loadAll; fix <= 2x the audit
// time on the same input; cold start of `rollsafe audit one.yaml` <= 2x `node -e 0`; (issue 29) `rollsafe fix --diff`
// <= 2x `rollsafe fix` on a 20 MiB stream (BENCH_DIFF_MIB), both run as the CLI. Not asserted in tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import jsYaml from 'js-yaml';
import { auditFiles } from '../dist/audit/audit.js';
import { ALL_ACTIVE_MODES } from '../dist/engine/engine.js';
import { fixedTexts } from '../dist/manifests/fix-files.js';
import { parseManifest } from '../dist/manifests/read.js';
import { defaultPolicy } from '../dist/policy/load.js';
import { deployment, deployments } from './deployments.mjs';

const COUNT = Number(process.env.BENCH_DEPLOYMENTS ?? 5000);

/**
 * Median milliseconds of each function, run in alternation round by round after one warm-up each, so that a
 * slow spell of this shared machine hits every contender alike.
 */
function race(fns, rounds = 7) {
  const samples = fns.map(() => []);
  for (const fn of fns) fn();
  for (let round = 0; round < rounds; round++) {
    fns.forEach((fn, index) => {
      globalThis.gc?.(); // the garbage of the previous contender is not charged to this one
      const start = process.hrtime.bigint();
      fn();
      samples[index].push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  return samples.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]);
}

const text = deployments(COUNT);
const policy = defaultPolicy();
let findings = 0;
let fixedBytes = 0;

const [baselineMs, jsYamlMs, auditMs, fixMs] = race([
  () => {
    for (const doc of parseAllDocuments(text)) doc.toJS();
  },
  // The baseline: js-yaml's loadAll of the same text (no positions, no comments: the fastest parse).
  () => jsYaml.loadAll(text),
  () => {
    const audit = auditFiles([parseManifest(text, 'bench.yaml')], policy);
    findings = audit.results.reduce((n, r) => n + r.evaluation.findings.length, 0);
  },
  () => {
    const parsed = parseManifest(text, 'bench.yaml');
    const audit = auditFiles([parsed], policy, { fixModes: ALL_ACTIVE_MODES });
    fixedBytes = fixedTexts([parsed], audit)[0].text.length;
  },
], 5);

const dir = mkdtempSync(join(tmpdir(), 'rollsafe-bench-'));
const one = join(dir, 'one.yaml');
writeFileSync(one, deployment(1));
const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const spawnMs = (args) => () => spawnSync(process.execPath, args, { stdio: 'ignore' });
const [nodeMs, cliMs] = race([spawnMs(['-e', '']), spawnMs([cli, 'audit', one])], 11);

// Issue 29: the diff of a large stream against plain fix of the same file, each the whole CLI run (read, audit,
// fix, print to /dev/null). One diff over the whole file was quadratic: 29 s at 1 MB, killed after 10 min at 20 MB.
const DIFF_MIB = Number(process.env.BENCH_DIFF_MIB ?? 20);
const big = [];
for (let i = 0, bytes = 0; bytes < DIFF_MIB * 1024 * 1024; i++) {
  big.push(deployment(i));
  bytes += Buffer.byteLength(big[i]) + 4; // and its `---\n`
}
const stream = join(dir, 'stream.yaml');
writeFileSync(stream, big.join('---\n'));
const fixRun = (args) => () => {
  const run = spawnSync(process.execPath, [cli, 'fix', ...args, stream], { stdio: 'ignore' });
  if (run.status !== 0) throw new Error(`rollsafe fix ${args.join(' ')} exited ${run.status}`);
};
const [plainFixMs, diffMs] = race([fixRun([]), fixRun(['--diff'])], 3);
const streamMib = (statSync(stream).size / 1024 / 1024).toFixed(1);
rmSync(dir, { recursive: true, force: true }); // 20 MiB need not outlive the run

const mb = (Buffer.byteLength(text) / 1024 / 1024).toFixed(1);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, node ${process.version}`);
console.log(`input: ${COUNT} Deployments, ${mb} MiB, ${findings} findings`);
console.log(`yaml parse (baseline): ${baselineMs.toFixed(0)} ms, ${(COUNT / baselineMs * 1000).toFixed(0)} docs/s`);
console.log(`rollsafe audit:        ${auditMs.toFixed(0)} ms, ${(COUNT / auditMs * 1000).toFixed(0)} docs/s`);
console.log(`ratio audit/baseline throughput: ${(baselineMs / auditMs).toFixed(2)} (target >= 0.5)`);
console.log(`js-yaml loadAll:       ${jsYamlMs.toFixed(0)} ms; ratio audit/js-yaml throughput: ${(jsYamlMs / auditMs).toFixed(2)} (target >= 0.5)`);
console.log(`rollsafe fix (audit + every edit written, ${(fixedBytes / 1024 / 1024).toFixed(1)} MiB out): ${fixMs.toFixed(0)} ms, ${(fixMs / auditMs).toFixed(2)} x the audit (target <= 2)`);
console.log(`cold start, one file: ${cliMs.toFixed(0)} ms, bare node ${nodeMs.toFixed(0)} ms: ${(cliMs / nodeMs).toFixed(2)} x (target <= 2)`);
console.log(`rollsafe fix --diff, ${big.length} Deployments, ${streamMib} MiB: ${diffMs.toFixed(0)} ms, rollsafe fix ${plainFixMs.toFixed(0)} ms: ${(diffMs / plainFixMs).toFixed(2)} x (target <= 2)`);
