/**
 * kubectl rollsafe: the krew archive that scripts/krew-archive.sh builds from the packed package, laid out as
 * krew installs it (unpacked into a store folder, its launcher linked from a bin folder on the PATH) and run
 * by the real kubectl against the test control plane. kubectl hands the plugin its arguments unchanged, so
 * the namespace comes from -n, --context or the kubeconfig's context, as for kubectl itself.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { binaryDirs } from './helpers/control-plane.js';
import { kubectlOk, sharedControlPlane, type Run } from './helpers/cluster.js';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';

const ROOT = join(TEST_DIR, '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'rollsafe-kubectl-plugin-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// The archive builds (npm pack, npm ci of the production dependencies) while the control plane starts.
const out = join(work, 'out');
const build = new Promise<Run>((resolve) => {
  execFile('bash', [join(ROOT, 'scripts', 'krew-archive.sh'), '--out', out], { cwd: work, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
    resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
  );
});
const plane = await sharedControlPlane(t);

// Two namespaces, so that which one was audited shows: a Deployment without a readiness probe in each.
const deployment = readFileSync(join(FIXTURES, 'rules', 'readiness-probe', 'fail-no-probe.yaml'), 'utf8');
for (const namespace of ['plugin-shop', 'plugin-other']) {
  await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }));
  await kubectlOk(plane, ['apply', '-n', namespace, '-f', '-'], deployment);
}

const built = await build;
if (built.code !== 0) throw new Error(`scripts/krew-archive.sh failed (${built.code}):\n${built.stderr}`);
const [archive, shaLine] = built.stdout.trim().split('\n');
if (!archive || !shaLine) throw new Error(`scripts/krew-archive.sh printed ${JSON.stringify(built.stdout)}`);

t.test('the manifest names the archive the script built, by its sha256', async (t) => {
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
  t.equal(shaLine, `sha256 ${sha256}`, 'the script prints the archive sha256');
  t.equal(basename(archive), `kubectl-rollsafe-v${VERSION}.tar.gz`);
  const written = readFileSync(join(out, 'rollsafe.yaml'), 'utf8');
  const manifest = parse(written);
  t.equal(manifest.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
  t.equal(manifest.kind, 'Plugin');
  t.equal(manifest.metadata.name, 'rollsafe', 'krew requires the name of the manifest file');
  t.equal(manifest.spec.version, `v${VERSION}`);
  t.ok(manifest.spec.platforms.length > 0);
  for (const platform of manifest.spec.platforms) {
    t.equal(platform.sha256, sha256, 'sha256 filled in');
    t.match(platform.uri, new RegExp(`/v${VERSION.replace(/\./g, '\\.')}/${basename(archive).replace(/\./g, '\\.')}$`));
    t.equal(platform.bin, 'kubectl-rollsafe');
  }
  // The committed manifest is the same but for the sha256, which the release build fills in (--update-manifest).
  const committed = readFileSync(join(ROOT, 'plugins', 'rollsafe.yaml'), 'utf8');
  const withoutSha = (text: string) => text.replace(/^( +sha256: ).*$/gm, '$1<sha256>');
  t.equal(withoutSha(committed), withoutSha(written), 'plugins/rollsafe.yaml is current (version, uri)');
});

t.test('the archive: the launcher and the installed package, regular files and folders only', async (t) => {
  const listing = execFileSync('tar', ['-tvzf', archive], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim().split('\n');
  const names = listing.map((line) => line.split(/\s+/).slice(5).join(' '));
  const top = ['kubectl-rollsafe', 'rollsafe', ...(existsSync(join(ROOT, 'LICENSE')) ? ['LICENSE'] : [])];
  t.same([...new Set(names.map((name) => name.split('/')[0]))].sort(), top.sort());
  // krew fails the whole install on a symlink (tar type 2) or a hard link: npm's node_modules/.bin holds symlinks.
  t.same(listing.filter((line) => !/^[-d]/.test(line)), [], 'no links');
  t.match(listing.find((line) => line.endsWith(' kubectl-rollsafe')), /^-rwxr-xr-x /, 'the launcher is executable');
  for (const needed of ['rollsafe/package.json', 'rollsafe/dist/kubectl-plugin.js', 'rollsafe/node_modules/fastify/package.json', 'rollsafe/node_modules/@kubernetes/client-node/package.json']) {
    t.ok(names.includes(needed), needed);
  }
  t.notOk(names.some((name) => name.startsWith('rollsafe/node_modules/typescript/')), 'no devDependency');
});

// As krew lays it out: ~/.krew/store/rollsafe/vVERSION/ and a link ~/.krew/bin/kubectl-rollsafe to its launcher.
const store = join(work, 'krew', 'store', 'rollsafe', `v${VERSION}`);
const bin = join(work, 'krew', 'bin');
mkdirSync(store, { recursive: true });
mkdirSync(bin, { recursive: true });
execFileSync('tar', ['-xzf', archive, '-C', store]);
symlinkSync(join(store, 'kubectl-rollsafe'), join(bin, 'kubectl-rollsafe'));
const kubectlBin = binaryDirs().kube;
const PATH = [bin, kubectlBin, dirname(process.execPath), process.env['PATH']].join(delimiter);

/** The real kubectl with the plugin on the PATH; never throws. */
function kubectl(args: string[], env: Record<string, string> = {}): Run {
  const run = spawnSync(join(kubectlBin, 'kubectl'), args, { cwd: work, encoding: 'utf8', env: { PATH, HOME: work, NO_PROXY: '*', NO_COLOR: '1', ...env } });
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

t.test('kubectl plugin list finds it', async (t) => {
  const list = kubectl(['plugin', 'list']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, join(bin, 'kubectl-rollsafe'));
  t.notMatch(list.stderr, /kubectl-rollsafe.*(not executable|overshadowed)/);
});

t.test('kubectl rollsafe with no command: the help, naming it kubectl rollsafe', async (t) => {
  const help = kubectl(['rollsafe']);
  t.equal(help.code, 2, 'a command is missing, as for rollsafe');
  t.match(help.stdout, /^kubectl rollsafe \d+\.\d+\.\d+: /);
  t.match(help.stdout, /^ {2}kubectl rollsafe audit --cluster \[--kubeconfig F\] \[--context C\] \[-n NS\]/m);
  t.notMatch(help.stdout, /^\s*rollsafe /m, 'no command written as plain rollsafe');
  const usage = kubectl(['rollsafe', 'audit', '-n', 'plugin-shop']);
  t.equal(usage.code, 2);
  t.equal(usage.stderr, 'kubectl rollsafe audit: --namespace needs --cluster\nSee kubectl rollsafe --help.\n');
  const version = kubectl(['rollsafe', '--version']);
  t.equal(version.stdout, `${VERSION}\n`);
});

interface Report {
  results: { kind: string; namespace: string | null; name: string; findings: { rule: string; severity: string }[] }[];
}

/** Which namespaces a JSON report covers, and whether the readiness finding is there. */
function audited(run: Run): { namespaces: string[]; readinessError: boolean } {
  const report = JSON.parse(run.stdout) as Report;
  return {
    namespaces: [...new Set(report.results.map((result) => result.namespace ?? ''))].sort(),
    readinessError: report.results.some((result) => result.name === 'web' && result.findings.some((finding) => finding.rule === 'readiness-probe' && finding.severity === 'error')),
  };
}

t.test('kubectl rollsafe audit --cluster -n NS: the findings of that namespace, exit 1', async (t) => {
  const run = kubectl(['rollsafe', 'audit', '--cluster', '--kubeconfig', plane.kubeconfig, '-n', 'plugin-shop', '-o', 'json']);
  t.equal(run.code, 1, run.stderr);
  t.same(audited(run), { namespaces: ['plugin-shop'], readinessError: true });
});

t.test('without -n: the namespace of the context, from $KUBECONFIG or --context, as kubectl', async (t) => {
  const kubeconfig = join(work, 'kubeconfig');
  copyFileSync(plane.kubeconfig, kubeconfig);
  const asUser = { KUBECONFIG: kubeconfig };
  t.equal(kubectl(['config', 'set-context', '--current', '--namespace=plugin-shop'], asUser).code, 0);
  const cluster = kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.cluster}'], asUser).stdout;
  const user = kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.user}'], asUser).stdout;
  t.equal(kubectl(['config', 'set-context', 'other', `--cluster=${cluster}`, `--user=${user}`, '--namespace=plugin-other'], asUser).code, 0);
  // kubectl itself agrees on what the context's namespace holds.
  t.match(kubectl(['get', 'deployments', '-o', 'name'], asUser).stdout, 'deployment.apps/web');

  const current = kubectl(['rollsafe', 'audit', '--cluster', '-o', 'json'], asUser);
  t.equal(current.code, 1, current.stderr);
  t.same(audited(current), { namespaces: ['plugin-shop'], readinessError: true }, 'the current context: plugin-shop');
  const other = kubectl(['rollsafe', 'audit', '--cluster', '--context', 'other', '-o', 'json'], asUser);
  t.equal(other.code, 1, other.stderr);
  t.same(audited(other), { namespaces: ['plugin-other'], readinessError: true }, '--context other: plugin-other');
});
