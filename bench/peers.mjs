// npm run bench:peers (issue 27): `rollsafe audit` against the tools a user would pick instead, each a whole
// process on the same files: kube-score and the Kyverno CLI (built from their Go modules by bench/peers/build.sh;
// Kyverno applies the six policies of bench/peers/kyverno-policies/, the counterparts of rollsafe's checks), and
// `node -e 0`, the floor of any Node CLI. Inputs: 5,000 generated Deployments, a real-world corpus
// (test/fixtures/peers-corpus, see its README) and one small file (a Deployment and its Service).
//
// rollsafe runs as its binary does, with its code cache (src/util/launch.ts) in a folder of this run: the
// warm-up run writes it, as a user's first run does, and the timed runs start from it. Two more rows show what
// that cache is worth: "rollsafe, first run" starts each run from an empty cache folder (and writes it, as a
// CI job's only run does), "rollsafe, no cache" runs with ROLLSAFE_COMPILE_CACHE=off.
//
// The contenders run in alternation, round by round after a warm-up each (the order turning every round), so
// that a slow spell of this shared machine hits them alike; the figures are medians. Peak RSS is GNU time's
// maximum resident set size (median of 3 runs), when /usr/bin/time is there; the timings need nothing but Node.
// Targets (issue 27), on the same machine in one run: corpus <= 1.5 x kube-score; small file <= 1.5 x
// `node -e 0`; 5,000 Deployments >= 4 x faster than kube-score; peak RSS on the corpus <= kube-score's.
// Printed, not asserted. BENCH_ROUNDS (21), BENCH_BIG_ROUNDS (5), BENCH_DEPLOYMENTS (5000) and
// BENCH_PEERS (kube-score,kyverno) change the run; BENCH_BASELINE=PATH/dist/cli.js adds another build of
// rollsafe (say, of the commit before a change) as "rollsafe baseline", for before/after figures of one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { deployment, deployments } from './deployments.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const BIG_ROUNDS = Number(process.env.BENCH_BIG_ROUNDS ?? 5);
const COUNT = Number(process.env.BENCH_DEPLOYMENTS ?? 5000);
const WANTED = (process.env.BENCH_PEERS ?? 'kube-score,kyverno').split(',').filter(Boolean);
const CLI = join(ROOT, 'dist/cli.js');
const POLICIES = join(ROOT, 'bench/peers/kyverno-policies');
const GNU_TIME = '/usr/bin/time';
const BASELINE = process.env.BENCH_BASELINE;

// "NAME PATH" per tool built; a tool that does not build is left out with a note on stderr.
const built = WANTED.length === 0 ? '' : execFileSync('bash', [join(ROOT, 'bench/peers/build.sh'), ...WANTED], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const peers = Object.fromEntries(built.trim().split('\n').filter(Boolean).map((line) => line.split(' ')));

const work = mkdtempSync(join(tmpdir(), 'rollsafe-peers-'));
/** rollsafe's code cache for this run, and an empty folder per run for "first run". */
const CACHE = join(work, 'compile-cache');
const firstRunCache = () => mkdtempSync(join(work, 'first-run-'));
const audits = (run) => run.status === 0 || run.status === 1;

/** What runs, and whether a run did its work: audits with findings exit nonzero, which is no failure. */
const TOOLS = [
  { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'], ok: (run) => run.status === 0 },
  { name: 'rollsafe audit', argv: (files) => [process.execPath, CLI, 'audit', ...files], env: () => ({ ROLLSAFE_COMPILE_CACHE: CACHE }), ok: audits },
  { name: 'rollsafe, first run', argv: (files) => [process.execPath, CLI, 'audit', ...files], env: () => ({ ROLLSAFE_COMPILE_CACHE: firstRunCache() }), ok: audits },
  { name: 'rollsafe, no cache', argv: (files) => [process.execPath, CLI, 'audit', ...files], env: () => ({ ROLLSAFE_COMPILE_CACHE: 'off' }), ok: audits },
  ...(BASELINE ? [{ name: 'rollsafe baseline', argv: (files) => [process.execPath, BASELINE, 'audit', ...files], ok: audits }] : []),
  {
    name: 'kube-score score',
    peer: 'kube-score',
    argv: (files) => [peers['kube-score'], 'score', ...files],
    ok: (run) => audits(run) && !/Failed to/.test(run.stderr),
  },
  {
    name: 'kyverno apply',
    peer: 'kyverno',
    argv: (files) => [peers['kyverno'], 'apply', POLICIES, '--resource', files.join(',')],
    ok: (run) => /pass: \d+, fail: \d+/.test(run.stdout),
    summary: (run) => /pass: \d+, fail: \d+.*/.exec(run.stdout)?.[0],
  },
].filter((tool) => !tool.peer || peers[tool.peer]);

const big = join(work, 'deployments.yaml');
writeFileSync(big, deployments(COUNT));
const small = join(work, 'small.yaml');
writeFileSync(small, `${deployment(1)}---
apiVersion: v1
kind: Service
metadata: {name: svc-1, namespace: team-1}
spec:
  selector: {app: svc-1}
  ports: [{port: 80, targetPort: http}]
`);
function yamlFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    });
}
const corpus = yamlFiles(join(ROOT, 'test/fixtures/peers-corpus'));

function describe(files) {
  const texts = files.map((file) => readFileSync(file, 'utf8'));
  const documents = texts.reduce((n, text) => n + parseAllDocuments(text).filter((doc) => doc.contents !== null).length, 0);
  const kib = texts.reduce((n, text) => n + Buffer.byteLength(text), 0) / 1024;
  return `${files.length} file(s), ${documents} documents, ${kib < 1024 ? `${kib.toFixed(0)} KiB` : `${(kib / 1024).toFixed(1)} MiB`}`;
}

function run(tool) {
  const env = { ...process.env, ...tool.env?.() };
  const started = process.hrtime.bigint();
  const result = spawnSync(tool.argv[0], tool.argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30, env });
  return { ...result, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

/** Peak RSS in MiB: GNU time's %M (KiB), the median of three runs. */
function peakRss(tool) {
  if (!existsSync(GNU_TIME)) return undefined;
  const samples = [0, 1, 2].map(() => {
    const result = spawnSync(GNU_TIME, ['-f', '%M', ...tool.argv], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...tool.env?.() } });
    return Number(result.stderr.trim().split('\n').at(-1)) / 1024;
  });
  return median(samples);
}

function race(files, rounds) {
  const tools = TOOLS.map((tool) => ({ ...tool, argv: tool.argv(files), samples: [] }));
  for (const tool of tools) {
    const warm = run(tool); // and checked: a tool that did nothing must not look fast
    if (!tool.ok(warm)) {
      console.error(`${tool.name} failed (exit ${warm.status ?? warm.signal}):\n${warm.stderr.slice(-2000)}`);
      process.exit(1);
    }
    tool.exit = warm.status;
    tool.said = tool.summary?.(warm);
  }
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < tools.length; index++) {
      const tool = tools[(index + round) % tools.length];
      tool.samples.push(run(tool).ms);
    }
  }
  for (const tool of tools) {
    tool.median = median(tool.samples);
    tool.min = Math.min(...tool.samples);
    tool.rss = peakRss(tool);
  }
  return Object.fromEntries(tools.map((tool) => [tool.name, tool]));
}

const ratio = (a, b) => (a && b ? a.median / b.median : undefined);
const fixed = (value, digits = 2) => (value === undefined ? 'n/a' : value.toFixed(digits));
const verdict = (value, ok) => (value === undefined ? '' : ok(value) ? ' met' : ' NOT met');
const summary = [];

function report(title, short, files, rounds, targets) {
  console.log(`\n${title}: ${describe(files)}, ${rounds} rounds`);
  const result = race(files, rounds);
  console.log('  tool                   median       min   peak RSS  exit');
  for (const tool of Object.values(result)) {
    const rss = tool.rss === undefined ? 'n/a' : `${tool.rss.toFixed(0)} MiB`;
    console.log(`  ${tool.name.padEnd(20)} ${`${tool.median.toFixed(0)} ms`.padStart(9)} ${`${tool.min.toFixed(0)} ms`.padStart(9)} ${rss.padStart(10)}  ${String(tool.exit).padStart(4)}${tool.said ? `  (${tool.said})` : ''}`);
  }
  const rollsafe = result['rollsafe audit'];
  const kubeScore = result['kube-score score'];
  const kyverno = result['kyverno apply'];
  const node = result['node -e 0'];
  const lines = [];
  const vsKubeScore = ratio(rollsafe, kubeScore);
  if (targets.kubeScore) lines.push(`rollsafe / kube-score: ${fixed(vsKubeScore)} (target <= ${targets.kubeScore}:${verdict(vsKubeScore, (v) => v <= targets.kubeScore)})`);
  if (targets.faster) {
    const faster = vsKubeScore === undefined ? undefined : 1 / vsKubeScore;
    lines.push(`kube-score / rollsafe: ${fixed(faster)} (target >= ${targets.faster}:${verdict(faster, (v) => v >= targets.faster)})`);
  }
  const vsNode = ratio(rollsafe, node);
  if (targets.node) lines.push(`rollsafe / node -e 0: ${fixed(vsNode)} (target <= ${targets.node}:${verdict(vsNode, (v) => v <= targets.node)})`);
  if (targets.rss && rollsafe.rss !== undefined) {
    const rss = kubeScore?.rss === undefined ? undefined : rollsafe.rss / kubeScore.rss;
    lines.push(`peak RSS rollsafe / kube-score: ${fixed(rss)} (target <= 1:${verdict(rss, (v) => v <= 1)}; node -e 0 alone: ${fixed(node.rss, 0)} MiB)`);
  }
  if (!targets.kubeScore && !targets.faster) lines.push(`rollsafe / kube-score: ${fixed(vsKubeScore)}`);
  if (!targets.node) lines.push(`rollsafe / node -e 0: ${fixed(vsNode)}`);
  if (kyverno) lines.push(`kyverno / rollsafe: ${fixed(ratio(kyverno, rollsafe))}`);
  for (const name of ['rollsafe, first run', 'rollsafe, no cache', 'rollsafe baseline']) {
    if (result[name]) lines.push(`${name} / kube-score: ${fixed(ratio(result[name], kubeScore))}, / node -e 0: ${fixed(ratio(result[name], node))}`);
  }
  for (const line of lines) console.log(`  ${line}`);
  summary.push(...lines.filter((line) => /target/.test(line)).map((line) => `${short}: ${line}`));
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const version = (argv) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' }).stdout.trim().split('\n')[0];
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString()}, load average ${loadAverage()}`);
if (peers['kube-score']) console.log(`kube-score: ${version([peers['kube-score'], 'version'])}`);
if (peers['kyverno']) console.log(`kyverno: ${version([peers['kyverno'], 'version'])}, policies: ${relative(ROOT, POLICIES)}/ (${readdirSync(POLICIES).length})`);
if (!existsSync(GNU_TIME)) console.log(`peak RSS: n/a (no GNU time at ${GNU_TIME})`);
try {
  report(`${COUNT} Deployments`, 'deployments', [big], BIG_ROUNDS, { faster: 4 });
  report('real-world corpus (test/fixtures/peers-corpus)', 'corpus', corpus, ROUNDS, { kubeScore: 1.5, rss: true });
  report('one small file (a Deployment and its Service)', 'small file', [small], ROUNDS, { node: 1.5 });
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\ntargets (issue 27):\n${summary.map((line) => `  ${line}`).join('\n')}`);
console.log(`load average at the end: ${loadAverage()}`);
