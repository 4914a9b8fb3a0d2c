/**
 * The npm package as a user gets it: `npm pack`, installed globally (`npm install -g`) into an empty prefix
 * with production dependencies only, and its binaries run from there, out of the repository: --version,
 * audit, fix, export, the kubectl plugin's entry point, and serve --dev-certs answering an AdmissionReview
 * over TLS. npm installs from its cache when it can (--prefer-offline): the first run fetches the
 * dependencies once.
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';

const ROOT = join(TEST_DIR, '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const work = mkdtempSync(join(tmpdir(), 'rollsafe-package-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// --ignore-scripts: the test run has built dist/ already, and a lifecycle script that rebuilt it would race
// the other test files reading it.
const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' })) as [
  { filename: string; files: { path: string; mode: number }[] },
];
const tarball = join(work, packed[0].filename);
const files = packed[0].files.map((file) => file.path);

t.test('the tarball holds what runs, and nothing of the work tree besides', async (t) => {
  for (const [name, target] of Object.entries(PACKAGE.bin)) t.ok(files.includes(target), `bin ${name} (${target}) is packed`);
  t.ok(files.includes('certs/generate.sh'), 'serve --dev-certs runs certs/generate.sh');
  t.ok(files.includes('README.md') && files.includes('package.json'));
  const stray = files.filter((file) => !/^(dist\/.+\.js|certs\/generate\.sh|README\.md|package\.json)$/.test(file));
  t.same(stray, [], 'no sources, tests, source maps or development keys (certs/dev)');
});

/** The bare specifiers a compiled module imports: static, dynamic and createRequire(...)(name). */
function bareImports(source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bcreateRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? '')).filter((name) => !name.startsWith('.'));
}

t.test('every package a packed module imports is a runtime dependency', async (t) => {
  const imported = new Set(files.filter((file) => file.endsWith('.js')).flatMap((file) => bareImports(readFileSync(join(ROOT, file), 'utf8'))));
  t.ok(imported.has('fastify') && imported.has('@kubernetes/client-node'), 'the scan sees static and lazy imports');
  for (const specifier of imported) {
    if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
    const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? specifier);
    t.ok(Object.hasOwn(PACKAGE.dependencies, name), `${specifier}: "${name}" is in dependencies${Object.hasOwn(PACKAGE.devDependencies, name) ? ' (it is a devDependency: not installed for users)' : ''}`);
  }
});

const prefix = join(work, 'prefix');
const install = spawnSync('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], {
  cwd: work,
  encoding: 'utf8',
});
const installed = join(prefix, 'lib', 'node_modules', 'rollsafe');
// The bins' `#!/usr/bin/env node` finds this node.
const env = { ...process.env, PATH: [dirname(process.execPath), process.env['PATH']].join(delimiter), NO_COLOR: '1' };

function run(bin: string, args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(join(prefix, 'bin', bin), args, { cwd: work, env, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
}

t.test('npm install -g of the tarball: both binaries, no devDependency', async (t) => {
  t.equal(install.status, 0, install.stderr.slice(-2000));
  for (const bin of Object.keys(PACKAGE.bin)) t.ok(existsSync(join(prefix, 'bin', bin)), `${bin} is on the prefix's PATH`);
  // Those only the development tree needs (some, such as @types/node, are also dependencies of dependencies).
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const devOnly = Object.keys(PACKAGE.devDependencies).filter((name) => lock.packages[`node_modules/${name}`]?.dev === true);
  t.ok(devOnly.includes('typescript') && devOnly.includes('tap'));
  for (const name of devOnly) {
    t.notOk(existsSync(join(installed, 'node_modules', name)) || existsSync(join(prefix, 'lib', 'node_modules', name)), `devDependency ${name} not installed`);
  }
});

t.test('exports: a CLI, no module API; package.json stays readable for tools', async (t) => {
  const resolve = createRequire(join(prefix, 'lib', 'index.js')).resolve;
  t.equal(resolve('rollsafe/package.json'), join(installed, 'package.json'));
  for (const specifier of ['rollsafe', 'rollsafe/dist/main.js']) {
    t.throws(() => resolve(specifier), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }, specifier);
  }
});

t.test('rollsafe --version, and kubectl-rollsafe answers as the plugin', async (t) => {
  const version = run('rollsafe', ['--version']);
  t.equal(version.stdout, `${PACKAGE.version}\n`, version.stderr);
  const plugin = run('kubectl-rollsafe', ['--version']);
  t.equal(plugin.stdout, `${PACKAGE.version}\n`, plugin.stderr);
});

t.test('rollsafe audit FILE: exit 1 with the finding', async (t) => {
  const audit = run('rollsafe', ['audit', join(FIXTURES, 'rules', 'readiness-probe', 'fail-no-probe.yaml'), '-o', 'json']);
  t.equal(audit.status, 1, audit.stderr);
  const report = JSON.parse(audit.stdout) as { results: { name: string; findings: { rule: string; severity: string }[] }[] };
  t.ok(report.results[0]?.findings.some((finding) => finding.rule === 'readiness-probe' && finding.severity === 'error'), 'readiness-probe error on Deployment web');
});

t.test('rollsafe fix - : the golden fixed text on stdout', async (t) => {
  const dir = join(FIXTURES, 'rules', 'grace-period');
  // The golden files are written with node-spread off (see rules-golden.test.ts).
  const fix = run('rollsafe', ['fix', '-', '--disable', 'node-spread'], readFileSync(join(dir, 'fail-shorter-than-prestop.yaml'), 'utf8'));
  t.equal(fix.status, 0, fix.stderr);
  t.equal(fix.stdout, readFileSync(join(dir, 'fail-shorter-than-prestop.fixed.yaml'), 'utf8'));
});

t.test('rollsafe export: the native admission policies', async (t) => {
  const exported = run('rollsafe', ['export', '--kubernetes-version', '1.36']);
  t.equal(exported.status, 0, exported.stderr);
  const kinds = parseAllDocuments(exported.stdout).map((doc) => (doc.toJS() as { kind?: string } | null)?.kind);
  t.ok(kinds.includes('ValidatingAdmissionPolicy') && kinds.includes('MutatingAdmissionPolicy'), kinds.join(', '));
});

// The install resolves dependencies afresh, not from the lockfile: load the lazily imported cluster client too.
t.test('audit --cluster loads the cluster client from the installed dependencies', async (t) => {
  const audit = run('rollsafe', ['audit', '--cluster', '--kubeconfig', join(work, 'no-such-kubeconfig')]);
  t.equal(audit.status, 2);
  t.match(audit.stderr, /^rollsafe: cannot load kubeconfig .*no-such-kubeconfig/);
});

/** POSTs a body over TLS trusting `ca`; resolves with the status and parsed JSON. */
function post(url: string, ca: string, body: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

t.test('rollsafe serve --dev-certs: generates its certificates, answers an AdmissionReview over TLS, stops on SIGTERM', async (t) => {
  const child = spawn(join(prefix, 'bin', 'rollsafe'), ['serve', '--dev-certs', '--port', '0', '--metrics-port', '0', '--host', '127.0.0.1', '--shutdown-delay', '0'], { cwd: work, env });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.teardown(() => void child.kill('SIGKILL'));
  const url = await new Promise<string | undefined>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      output.stderr += chunk;
      const serving = /serving (https:\/\/127\.0\.0\.1:\d+)/.exec(output.stderr);
      if (serving) resolve(serving[1]);
    });
    child.on('exit', () => resolve(undefined));
  });
  if (!url) return t.fail(`serve did not start: ${output.stderr}`);
  const ca = join(installed, 'certs', 'dev', 'ca.crt');
  t.ok(existsSync(ca), 'certs/generate.sh wrote the development CA beside the package');
  const review = readFileSync(join(FIXTURES, 'admission', 'deploy-create-noprobes--deployment-create.json'), 'utf8');
  const answer = await post(`${url}/validate`, readFileSync(ca, 'utf8'), review);
  t.equal(answer.status, 200);
  t.equal(answer.json.response.uid, JSON.parse(review).request.uid, 'the uid is echoed');
  t.equal(answer.json.response.allowed, false, 'a Deployment without readiness probes is denied');
  t.match(answer.json.response.status.message, /readiness-probe/);
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0 on SIGTERM');
  t.match(output.stdout, /"msg":"stopped"/, 'stopped cleanly');
});
