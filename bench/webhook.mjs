// npm run bench: the webhook (B, `rollsafe serve`, default policy) against a bare Fastify baseline (A) in the
// same run, with the same certificate, body limit, keep-alive and log level. HTTP/1.1 keep-alive POSTs as the
// apiserver sends them, by autocannon and, when installed, by h2load (Debian's nghttp2-client). Prints the tables
// and writes BENCHMARKS.md. Targets are in BENCHMARKS.md; nothing here is asserted by the tests.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const ROOT = new URL('..', import.meta.url).pathname;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
// Each case alternates A and B in short rounds, so a slow spell of a shared machine hits both alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REPORT = process.env.BENCH_REPORT ?? join(ROOT, 'BENCHMARKS.md');
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,8,25').split(',').map(Number);
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

// The fixtures are stored indented for reading; kube-apiserver sends compact JSON.
const fixture = (name) => JSON.stringify(JSON.parse(readFileSync(join(ROOT, 'test/fixtures/admission', name), 'utf8')));
const SHAPES = [
  { name: 'create (allowed)', path: '/validate', body: fixture('deploy-create-good--deployment-create.json') },
  { name: 'update (object+oldObject)', path: '/validate', body: fixture('deploy-update-image--deployment-update.json') },
  { name: 'denied', path: '/validate', body: fixture('boutique--deployment-create-adservice.json') },
  { name: 'patched', path: '/mutate', body: fixture('boutique--deployment-create-adservice.json') },
];

const certs = mkdtempSync(join(tmpdir(), 'rollsafe-bench-'));
execFileSync('bash', [join(ROOT, 'certs/generate.sh'), '--dev', '--out', certs], { stdio: 'ignore' });
// h2load reads the body from a file.
for (const [index, shape] of SHAPES.entries()) {
  shape.file = join(certs, `body-${index}.json`);
  writeFileSync(shape.file, shape.body);
}
const cert = join(certs, 'tls.crt');
const key = join(certs, 'tls.key');

function get(port, path) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function start(label, args) {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const port = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /serving https:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', () => reject(new Error(`${label} exited: ${stderr}`)));
  });
  while ((await get(port, '/readyz')) !== 200) await new Promise((r) => setTimeout(r, 5));
  return { label, child, port, readyMs: performance.now() - started };
}

function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS) * 1e6;
}

function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return kb / 1024;
}

async function load(server, shape, connections, extra = {}) {
  const cpuBefore = cpuMicros(server.child.pid);
  const result = await autocannon({
    url: `https://127.0.0.1:${server.port}${shape.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: shape.body,
    connections,
    pipelining: 1,
    ...(extra.amount ? { amount: extra.amount } : { duration: extra.seconds ?? SECONDS }),
    ...(extra.overallRate ? { overallRate: extra.overallRate } : {}),
  });
  const requests = result.requests.total;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs: (cpuMicros(server.child.pid) - cpuBefore) / Math.max(requests, 1),
    rss: rssMb(server.child.pid),
    errors: result.errors + result.timeouts + result.non2xx,
    requests,
  };
}

// h2load is a C program: it takes less of the two cores than autocannon does, so it shows more of the servers.
// The issue's figure is its B/A at 8 connections, HTTP/1.1 keep-alive (--h1): since Kubernetes 1.16 the
// apiserver calls admission webhooks over HTTP/1.1 only (kubernetes#82090), several connections at once.
const H2LOAD_CONNECTIONS = 8;
const hasH2load = (() => {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function h2load(server, shape, seconds) {
  const cpuBefore = cpuMicros(server.child.pid);
  const args = ['--h1', '-c', String(H2LOAD_CONNECTIONS), '-t', '1', '-D', `${Math.round(seconds * 1000)}ms`];
  const out = execFileSync('h2load', [...args, '-d', shape.file, '-H', 'content-type: application/json', `https://127.0.0.1:${server.port}${shape.path}`], { encoding: 'utf8' });
  const number = (pattern) => Number(pattern.exec(out)?.[1] ?? NaN);
  const requests = number(/requests: (\d+) total/);
  // Mean time per request ("850us", "1.15ms"): h2load reports no percentiles.
  const [, mean, unit] = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(out) ?? [];
  return {
    rps: number(/finished in [\d.]+s, ([\d.]+) req\/s/),
    meanMs: Number(mean) * { us: 1e-3, ms: 1, s: 1e3 }[unit],
    cpuUs: (cpuMicros(server.child.pid) - cpuBefore) / Math.max(requests, 1),
    errors: requests - number(/status codes: (\d+) 2xx/),
    requests,
  };
}

const baseline = await start('A', ['bench/baseline-server.mjs', cert, key]);
// BENCH_WEBHOOK_CLI points B at another build (e.g. a copy of dist/ from before a change), BENCH_REPORT the
// report elsewhere than BENCHMARKS.md: a before/after comparison under the same method.
const webhook = await start('B', [process.env.BENCH_WEBHOOK_CLI ?? 'dist/cli.js', 'serve', '--tls-cert', cert, '--tls-key', key, '--host', '127.0.0.1', '--port', '0', '--metrics-port=0', '--shutdown-delay', '0']);
const rows = [];
let invalid = false;

/** One server's rounds of a case: mean requests/s, median p50, worst p99, CPU per request over all of them. */
function combine(rounds) {
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  const median = (values) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)];
  return {
    rps: rounds.reduce((sum, r) => sum + r.rps, 0) / rounds.length,
    p50: median(rounds.map((r) => r.p50)),
    p99: Math.max(...rounds.map((r) => r.p99)),
    cpuUs: rounds.reduce((sum, r) => sum + r.cpuUs * r.requests, 0) / Math.max(requests, 1),
    rss: rounds.at(-1).rss,
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    requests,
  };
}

// Warm-up: JIT and TLS sessions, for both servers, on every shape.
for (const shape of SHAPES) for (const server of [baseline, webhook]) await load(server, shape, 8, { seconds: 1 });
for (const shape of SHAPES) {
  for (const connections of CONNECTIONS) {
    const aRounds = [];
    const bRounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      aRounds.push(await load(baseline, shape, connections, { seconds: SECONDS / ROUNDS }));
      bRounds.push(await load(webhook, shape, connections, { seconds: SECONDS / ROUNDS }));
    }
    const a = combine(aRounds);
    const b = combine(bRounds);
    if (a.errors + b.errors > 0) invalid = true;
    rows.push({ shape: shape.name, connections, a, b, ratio: b.rps / a.rps });
    process.stderr.write(`${shape.name} c=${connections}: A ${a.rps.toFixed(0)} B ${b.rps.toFixed(0)} req/s (${(b.rps / a.rps).toFixed(2)})\n`);
  }
}

const h2loadRows = [];
if (hasH2load) {
  for (const shape of SHAPES) {
    const aRounds = [];
    const bRounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      aRounds.push(h2load(baseline, shape, SECONDS / ROUNDS));
      bRounds.push(h2load(webhook, shape, SECONDS / ROUNDS));
    }
    const mean = (rounds, key) => rounds.reduce((sum, r) => sum + r[key], 0) / rounds.length;
    const [a, b] = [aRounds, bRounds].map((rounds) => ({
      rps: mean(rounds, 'rps'),
      meanMs: mean(rounds, 'meanMs'),
      cpuUs: rounds.reduce((sum, r) => sum + r.cpuUs * r.requests, 0) / Math.max(rounds.reduce((sum, r) => sum + r.requests, 0), 1),
      errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    }));
    if (a.errors + b.errors > 0) invalid = true;
    h2loadRows.push({ shape: shape.name, a, b, ratio: b.rps / a.rps });
    process.stderr.write(`h2load ${shape.name} c=${H2LOAD_CONNECTIONS}: A ${a.rps.toFixed(0)} B ${b.rps.toFixed(0)} req/s (${(b.rps / a.rps).toFixed(2)})\n`);
  }
}

// p99 at half of B's saturation (the "create" shape at 25 connections).
const saturation = rows.find((row) => row.shape === SHAPES[0].name && row.connections === Math.max(...CONNECTIONS))?.b.rps ?? 1000;
const half = await load(webhook, SHAPES[0], 8, { overallRate: Math.floor(saturation / 2) });
// The same rate against A: how much of the tail is the load generator and the machine, not the webhook.
const halfA = await load(baseline, SHAPES[0], 8, { overallRate: Math.floor(saturation / 2) });
if (half.errors + halfA.errors > 0) invalid = true;

// Memory: 100,000 requests, RSS sampled every 25,000.
const rssSamples = [rssMb(webhook.child.pid)];
for (let i = 0; i < 4; i++) {
  const chunk = await load(webhook, SHAPES[2], 25, { amount: 25_000 });
  if (chunk.errors > 0) invalid = true;
  rssSamples.push(rssMb(webhook.child.pid));
}
for (const server of [baseline, webhook]) server.child.kill('SIGTERM');

const audit = execFileSync(process.execPath, [join(ROOT, 'bench/audit.mjs')], { encoding: 'utf8' });

const fmt = (n, d = 0) => n.toFixed(d);
const kb = (text) => fmt(Buffer.byteLength(text) / 1000, 1);
const table = [
  '| shape | conn | A req/s | B req/s | B/A | A p50/p99 ms | B p50/p99 ms | A CPU µs/req | B CPU µs/req | B RSS MB | errors |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(({ shape, connections, a, b, ratio }) =>
    `| ${shape} | ${connections} | ${fmt(a.rps)} | ${fmt(b.rps)} | ${fmt(ratio, 2)} | ${a.p50}/${a.p99} | ${b.p50}/${b.p99} | ${fmt(a.cpuUs)} | ${fmt(b.cpuUs)} | ${fmt(b.rss)} | ${a.errors + b.errors} |`,
  ),
].join('\n');
const h2loadTable = hasH2load
  ? [
      `| shape | A req/s | B req/s | B/A | A mean ms | B mean ms | A CPU µs/req | B CPU µs/req | errors |`,
      '|---|---|---|---|---|---|---|---|---|',
      ...h2loadRows.map(({ shape, a, b, ratio }) =>
        `| ${shape} | ${fmt(a.rps)} | ${fmt(b.rps)} | ${fmt(ratio, 2)} | ${fmt(a.meanMs, 2)} | ${fmt(b.meanMs, 2)} | ${fmt(a.cpuUs)} | ${fmt(b.cpuUs)} | ${a.errors + b.errors} |`,
      ),
    ].join('\n')
  : 'h2load is not installed (Debian: `apt-get install nghttp2-client`): not measured.';
const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
const summary = [
  `ready (readyz 200) after start: A ${fmt(baseline.readyMs)} ms, B ${fmt(webhook.readyMs)} ms (target B <= 1000 ms)`,
  `p99 at half of B's saturation (${Math.floor(saturation / 2)} req/s offered, create shape, 8 connections): ${half.p99} ms, p50 ${half.p50} ms, ${fmt(half.rps)} req/s served (target p99 <= 5 ms); A at the same rate: p99 ${halfA.p99} ms, p50 ${halfA.p50} ms`,
  `RSS of B over 100,000 denied requests, every 25,000: ${rssSamples.map((v) => fmt(v, 1)).join(' → ')} MB (targets: <= 120 MB; no growth from 50,000 to 100,000: ${fmt(rssSamples[4] - rssSamples[2], 1)} MB)`,
  `lowest B/A at 8 and 25 connections: ${fmt(Math.min(...rows.filter((r) => r.connections >= 8).map((r) => r.ratio)), 2)} (target >= 0.85)`,
  ...(hasH2load ? [`lowest h2load B/A at ${H2LOAD_CONNECTIONS} connections: ${fmt(Math.min(...h2loadRows.map((r) => r.ratio)), 2)} (target >= 0.8)`] : []),
];
const report = `# Benchmarks

Reproduce: \`npm run bench\` (builds first; \`BENCH_SECONDS\`, \`BENCH_ROUNDS\`, \`BENCH_CONNECTIONS\` change the run). Not part of \`npm test\`.

Machine: ${machine}.

## Method

Two servers run side by side as separate processes, each with the same certificate (ECDSA P-256), TLS >= 1.2,
HTTP/2 with HTTP/1.1, Nagle off (noDelay), 8 MiB body limit, 95 s keep-alive, pino at info with one line per request to /dev/null:
**A** is a bare Fastify route that parses the AdmissionReview and returns a fixed \`allowed\` (\`bench/baseline-server.mjs\`),
**B** is \`rollsafe serve\` with the default policy. autocannon (in the benchmark's own process, on the same two
cores) sends HTTP/1.1 keep-alive POSTs, as kube-apiserver does. After a 1 s warm-up of each server on each shape,
every case alternates A and B in ${ROUNDS} rounds of ${fmt(SECONDS / ROUNDS, 1)} s each, so that a slow spell of this
shared virtual machine hits both; requests/s is the mean over the rounds, p50 the median, p99 the worst round.
Request shapes are AdmissionReviews captured from kube-apiserver v1.32, sent as compact JSON as the apiserver's
serializer writes them (the fixtures are stored indented): a Deployment CREATE that passes
(${kb(SHAPES[0].body)} KB, managedFields included), an UPDATE with object and oldObject (${kb(SHAPES[1].body)} KB),
a CREATE that is denied (${kb(SHAPES[2].body)} KB, Online Boutique adservice) and the same sent to /mutate, where it
is patched. CPU µs/request is the server process's own user+system time over the case (/proc), divided by
requests served. h2load (nghttp2, a C client on one thread of its own) then sends the same requests over
${H2LOAD_CONNECTIONS} HTTP/1.1 keep-alive connections, in the same alternating rounds; it needs less CPU than
autocannon, so more of the two cores goes to the servers.
${invalid ? '\n**INVALID RUN: some requests failed or returned a non-2xx status.**\n' : ''}
## Results

${table}

h2load, HTTP/1.1 keep-alive (\`--h1\`), ${H2LOAD_CONNECTIONS} connections, one client thread, the same ${ROUNDS} alternating rounds:

${h2loadTable}

${summary.map((line) => `- ${line}`).join('\n')}

## Audit

\`\`\`
${audit.trim()}
\`\`\`
`;
// Sections this run does not write (the soak, which takes 10 minutes; dated write-ups) are kept, in their order.
const GENERATED = ['## Method', '## Results', '## Audit'];
let kept = '';
try {
  const previous = readFileSync(REPORT, 'utf8').split(/^(?=## )/m).slice(1);
  kept = previous.filter((section) => !GENERATED.includes(section.split('\n')[0].trim())).map((section) => `\n${section.trimEnd()}\n`).join('');
} catch {
  // first run
}
writeFileSync(REPORT, report + kept);
process.stdout.write(`${table}\n\n${h2loadTable}\n\n${summary.join('\n')}\n\n${audit}`);
if (invalid) process.stdout.write('\nINVALID: some requests failed or returned non-2xx\n');
