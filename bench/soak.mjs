// npm run soak: rollsafe serve under sustained load at half of its saturation for SOAK_MINUTES (default 10),
// with a certificate rotation every minute and a policy reload every 90 s (the second one invalid).
// Passes when no request failed, the invalid policy was rejected while the previous one kept serving, and RSS
// grew less than 10% from minute 2 to the end. Appends its figures to BENCHMARKS.md. Not part of npm test.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const ROOT = new URL('..', import.meta.url).pathname;
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const CHUNK_SECONDS = 30;
const dir = mkdtempSync(join(tmpdir(), 'rollsafe-soak-'));
const generate = (out) => execFileSync('bash', [join(ROOT, 'certs/generate.sh'), '--dev', '--out', out, '--force'], { stdio: 'ignore' });
generate(dir);
const policyFile = join(dir, 'policy.yaml');
const POLICIES = [
  'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\n',
  'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\ndrainSeconds: 25\n',
  'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules: {no-such-rule: {}}\n', // invalid: must be rejected
  'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nminReplicas: 3\n',
];
writeFileSync(policyFile, POLICIES[0]);
const body = readFileSync(join(ROOT, 'test/fixtures/admission/boutique--deployment-create-adservice.json'), 'utf8');

const child = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'serve', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--policy', policyFile, '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--watch-interval', '500'], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
const { port, metricsPort } = await new Promise((resolve, reject) => {
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    const match = /serving https:\/\/127\.0\.0\.1:(\d+).*metrics http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
    if (match) resolve({ port: Number(match[1]), metricsPort: Number(match[2]) });
  });
  child.on('exit', () => reject(new Error(stderr)));
});
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const metrics = () => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
const decision = () =>
  new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(JSON.parse(text).response.allowed));
    });
    req.end(body);
  });

const run = (options) => autocannon({ url: `https://127.0.0.1:${port}/validate`, method: 'POST', headers: { 'content-type': 'application/json' }, body, ...options });
const saturation = (await run({ connections: 25, duration: 5 })).requests.average;
const rate = Math.floor(saturation / 2);
console.log(`saturation ${saturation.toFixed(0)} req/s; soaking at ${rate} req/s for ${MINUTES} min`);

let rotations = 0;
let reloads = 0;
let stillServingOldPolicy;
const rotate = setInterval(() => {
  const next = mkdtempSync(join(tmpdir(), 'rollsafe-soak-cert-'));
  generate(next);
  copyFileSync(join(next, 'tls.key'), join(dir, 'tls.key'));
  copyFileSync(join(next, 'tls.crt'), join(dir, 'tls.crt'));
  rotations++;
}, 60_000);
const reload = setInterval(async () => {
  reloads++;
  writeFileSync(policyFile, POLICIES[reloads % POLICIES.length]);
  if (reloads % POLICIES.length === 2) {
    await new Promise((r) => setTimeout(r, 2000));
    stillServingOldPolicy = (await decision()) === false; // the previous policy still denies this object
  }
}, 90_000);

const samples = [];
let total = 0;
let failed = 0;
const started = Date.now();
while (Date.now() - started < MINUTES * 60_000) {
  const result = await run({ connections: 8, duration: CHUNK_SECONDS, overallRate: rate });
  total += result.requests.total;
  failed += result.errors + result.timeouts + result.non2xx;
  samples.push({ minute: (Date.now() - started) / 60_000, rss: rss(), p99: result.latency.p99 });
  console.log(`${samples.at(-1).minute.toFixed(1)} min: ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms, RSS ${samples.at(-1).rss.toFixed(1)} MB, failed so far ${failed}`);
}
clearInterval(rotate);
clearInterval(reload);
const text = await metrics();
const count = (name, result) => Number(new RegExp(`${name}\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
child.kill('SIGTERM');

const fromMinute2 = samples.find((sample) => sample.minute >= 2) ?? samples[0];
const growth = ((samples.at(-1).rss - fromMinute2.rss) / fromMinute2.rss) * 100;
const verdict = failed === 0 && count('rollsafe_policy_reloads_total', 'failed') >= (reloads >= 2 ? 1 : 0) && stillServingOldPolicy !== false && growth < 10;
const lines = [
  `duration ${MINUTES} min at ${rate} req/s (half of ${saturation.toFixed(0)}), ${total} requests, ${failed} failed`,
  `certificate rotations ${rotations} (reloads ok ${count('rollsafe_certificate_reloads_total', 'ok')}, failed ${count('rollsafe_certificate_reloads_total', 'failed')})`,
  `policy reloads ${reloads} (ok ${count('rollsafe_policy_reloads_total', 'ok')}, failed ${count('rollsafe_policy_reloads_total', 'failed')}); previous policy kept serving after the invalid one: ${stillServingOldPolicy ?? 'not reached'}`,
  `RSS ${fromMinute2.rss.toFixed(1)} MB at minute ${fromMinute2.minute.toFixed(1)} → ${samples.at(-1).rss.toFixed(1)} MB at the end (${growth.toFixed(1)}%, target < 10%); worst chunk p99 ${Math.max(...samples.map((s) => s.p99))} ms`,
  `verdict: ${verdict ? 'PASS' : 'FAIL'}`,
];
console.log(lines.join('\n'));
const section = `\n## Soak (\`npm run soak\`, ${new Date().toISOString().slice(0, 10)})\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`;
let previous = '';
try {
  previous = readFileSync(join(ROOT, 'BENCHMARKS.md'), 'utf8');
} catch {
  // no benchmark yet
}
writeFileSync(join(ROOT, 'BENCHMARKS.md'), (previous.includes('\n## Soak') ? previous.slice(0, previous.indexOf('\n## Soak')) : previous) + section);
process.exitCode = verdict ? 0 : 1;
