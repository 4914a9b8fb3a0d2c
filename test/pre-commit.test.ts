/**
 * The pre-commit hooks (.pre-commit-hooks.yaml) as users run them: pre-commit itself (PyPI, pinned, in a venv
 * cached under ~/.cache/rollsafe) clones this repository the remote way, `repo: <git repository>` at a `rev`,
 * and real `git commit`s in a throwaway repository run the hooks: rollsafe-audit and rollsafe-fix through
 * scripts/pre-commit-hook.mjs, which builds rollsafe in pre-commit's clone on its first run, and their -system
 * variants through a `rollsafe` on the PATH (here: this work tree's dist/).
 *
 * The hook repository is a snapshot of the work tree's files that the hooks read, committed with fixed metadata
 * into a bare repository that stays in the cache: the same files give the same commit, so pre-commit (its store
 * is cached too) finds its clone with the build in it, and only a change to those files builds again (cold).
 */
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';
import { runCli } from './helpers/run-cli.js';

const ROOT = join(TEST_DIR, '..');
const CACHE = join(homedir(), '.cache', 'rollsafe');
const PRE_COMMIT_VERSION = '4.7.0';
const VENV = join(CACHE, 'pre-commit-venv');
const PRE_COMMIT = join(VENV, 'bin', 'pre-commit');
const PRE_COMMIT_HOME = join(CACHE, 'pre-commit-home');
const HOOK_REPO = join(CACHE, 'pre-commit-hook-repo.git');
/** What the hooks read: the hook manifest, the launcher and what it builds rollsafe from; nothing else. */
const SNAPSHOT = ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'scripts', '.pre-commit-hooks.yaml'];

interface Run {
  status: number;
  output: string;
}

/**
 * The environment of every command: what a user's shell would give it, not what `npm test` adds (npm's
 * npm_config_* and package variables, tap's loader in NODE_OPTIONS); no git or runner settings from outside, and
 * git's own configuration files are not read.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|GIT_|PRE_COMMIT|TAP|NODE_OPTIONS$|INIT_CWD$)/i.test(key)) env[key] = value;
  }
  return {
    ...env,
    PRE_COMMIT_HOME,
    PRE_COMMIT_COLOR: 'never',
    NO_COLOR: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'rollsafe test',
    GIT_AUTHOR_EMAIL: 'test@rollsafe.invalid',
    GIT_COMMITTER_NAME: 'rollsafe test',
    GIT_COMMITTER_EMAIL: 'test@rollsafe.invalid',
    // Packages npm has in its cache are not asked for again (the install's dependencies are pinned by the lockfile).
    npm_config_prefer_offline: 'true',
    ...extra,
  };
}

function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), output }));
  });
}

/** Runs a command that must succeed; its failure names the command and shows what it printed. */
async function must(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.status !== 0) throw new Error(`${[command, ...args].join(' ')} exited ${result.status}:\n${result.output.slice(-4000)}`);
  return result.output;
}

/** A lock between test processes (other work trees share the cache): a folder that only one can create. */
async function withLock<T>(path: string, action: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    try {
      mkdirSync(path);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A holder that died leaves its lock: after 15 minutes it is taken over.
      const held = statSync(path, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 15 * 60_000) rmSync(path, { recursive: true, force: true });
      else if (held) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    return await action();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

/** pre-commit, pinned, in its cached venv (made on first use; CI machines reach PyPI). */
async function ensurePreCommit(): Promise<void> {
  await withLock(`${VENV}.lock`, async () => {
    if (existsSync(PRE_COMMIT) && (await run(PRE_COMMIT, ['--version'])).output.trim() === `pre-commit ${PRE_COMMIT_VERSION}`) return;
    rmSync(VENV, { recursive: true, force: true });
    await must('python3', ['-m', 'venv', VENV]).catch((error: Error) => {
      throw new Error(`pre-commit needs Python 3 with venv (Debian: python3-venv): ${error.message}`);
    });
    await must(join(VENV, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `pre-commit==${PRE_COMMIT_VERSION}`]);
  });
}

/**
 * Commits the snapshot into the cached bare hook repository, reading the files from the work tree through a
 * temporary index (the work tree's own .git is never touched); fixed author, committer and dates make the commit
 * a function of the files. A tag keeps every snapshot reachable, as pre-commit fetches a rev by name.
 */
async function snapshotHookRepo(): Promise<string> {
  return withLock(`${HOOK_REPO}.lock`, async () => {
    if (!existsSync(join(HOOK_REPO, 'HEAD'))) await must('git', ['init', '--quiet', '--bare', HOOK_REPO]);
    const index = join(mkdtempSync(join(tmpdir(), 'rollsafe-hook-index-')), 'index');
    const git = { GIT_DIR: HOOK_REPO, GIT_WORK_TREE: ROOT, GIT_INDEX_FILE: index };
    try {
      await must('git', ['add', '--', ...SNAPSHOT.filter((path) => existsSync(join(ROOT, path)))], { env: git });
      const tree = (await must('git', ['write-tree'], { env: git })).trim();
      const fixed = { GIT_AUTHOR_DATE: '2000-01-01T00:00:00+0000', GIT_COMMITTER_DATE: '2000-01-01T00:00:00+0000' };
      const commit = (await must('git', ['commit-tree', tree, '-m', 'rollsafe work tree snapshot'], { env: { ...git, ...fixed } })).trim();
      await must('git', ['update-ref', `refs/tags/snapshot-${commit.slice(0, 12)}`, commit], { env: git });
      return commit;
    } finally {
      rmSync(dirname(index), { recursive: true, force: true });
    }
  });
}

// A Deployment that rolls without dropping requests: no finding, nothing to fix.
const GOOD = readFileSync(join(FIXTURES, 'manifests', 'clean-deployment-with-pdb.yaml'), 'utf8');
// The same without its preStop sleep: an error that rollsafe fix mends.
const FIXABLE = GOOD.replace(/ {10}lifecycle:\n {12}preStop:\n {14}sleep:\n {16}seconds: 10\n/, '');
// A Deployment whose container serves without a readiness probe: an error no fix mends.
const NO_PROBE = readFileSync(join(FIXTURES, 'rules', 'readiness-probe', 'fail-no-probe.yaml'), 'utf8');

/** YAML that is no manifest, as a repository holds it beside its manifests; none of it may fail a commit. */
const NOT_MANIFESTS: Record<string, string> = {
  'chart/Chart.yaml': 'apiVersion: v2\nname: api\nversion: 0.1.0\n',
  'chart/values.yaml': 'replicaCount: 2\nimage: {repository: registry.example/api, tag: "1.0"}\n',
  // An unrendered template: rollsafe audit refuses it (exit 2); the hooks exclude templates/.
  'chart/templates/deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicaCount }}\n',
  'overlays/prod/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\n',
  '.github/workflows/ci.yml': 'name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n',
  // No object at all: an input error for rollsafe audit without --allow-empty.
  'empty.yaml': '',
  'placeholder.yaml': '# filled in later\n',
  // A list of hooks, not an object: excluded by name.
  '.pre-commit-hooks.yaml': '- id: example\n  name: example\n  entry: "true"\n  language: system\n',
};

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

const HOOK_IDS = ['rollsafe-audit', 'rollsafe-fix', 'rollsafe-audit-system', 'rollsafe-fix-system'];

t.test('the hook manifest: each hook for YAML, its script in the repository and executable', async (t) => {
  const hooks = parse(readFileSync(join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Array<{ id: string; entry: string; language: string; types?: string[] }>;
  t.same(hooks.map((hook) => hook.id), HOOK_IDS);
  for (const hook of hooks) {
    t.same(hook.types, ['yaml'], `${hook.id} takes YAML files`);
    if (hook.language !== 'script') continue;
    const script = join(ROOT, hook.entry.split(' ')[0] as string);
    t.doesNotThrow(() => accessSync(script, constants.X_OK), `${hook.id}: ${script} exists and is executable (pre-commit runs it by its shebang)`);
  }
});

t.test('pre-commit clones the hooks from a git repository and runs them on commits', async (t) => {
  const cli = join(ROOT, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npm run build); the -system hooks run it as \`rollsafe\``);
  const started = Date.now();
  await ensurePreCommit();
  const venvSeconds = (Date.now() - started) / 1000;
  const rev = await snapshotHookRepo();

  const repo = mkdtempSync(join(tmpdir(), 'rollsafe-pre-commit-'));
  const bin = mkdtempSync(join(tmpdir(), 'rollsafe-pre-commit-bin-'));
  t.teardown(async () => {
    // While this config still exists: the clones of older snapshots (whose configs are gone) are removed.
    await run(PRE_COMMIT, ['gc'], { cwd: repo });
    rmSync(repo, { recursive: true, force: true });
    rmSync(bin, { recursive: true, force: true });
  });
  writeFileSync(join(bin, 'rollsafe'), `#!/bin/sh\nexec node ${JSON.stringify(cli)} "$@"\n`);
  chmodSync(join(bin, 'rollsafe'), 0o755);
  const PATH = `${bin}:${process.env['PATH'] ?? ''}`;

  await must('git', ['init', '--quiet', '--initial-branch', 'main', repo]);
  write(repo, {
    '.pre-commit-config.yaml': `repos:\n  - repo: ${HOOK_REPO}\n    rev: ${rev}\n    hooks:\n${HOOK_IDS.map((id) => `      - id: ${id}\n`).join('')}`,
  });
  const git = (...args: string[]) => must('git', args, { cwd: repo });
  // Committed on its own (pre-commit refuses to run with it unstaged), so that the commits below hold only their files.
  await git('add', '.pre-commit-config.yaml');
  await git('commit', '--quiet', '--no-verify', '-m', 'pre-commit configuration');
  await must(PRE_COMMIT, ['install'], { cwd: repo });
  await must(PRE_COMMIT, ['install-hooks'], { cwd: repo });

  // The first run of a script hook builds rollsafe in pre-commit's clone (cold); later runs find it (warm).
  write(repo, { 'probe/api.yaml': GOOD });
  const firstRun = Date.now();
  const first = await run(PRE_COMMIT, ['run', 'rollsafe-audit', '--verbose', '--files', 'probe/api.yaml'], { cwd: repo });
  const cold = /building rollsafe, once for this version/.test(first.output);
  t.comment(`pre-commit ${PRE_COMMIT_VERSION}: venv ${venvSeconds.toFixed(1)} s; first hook run ${cold ? 'built rollsafe (cold)' : 'found it built (warm)'} in ${((Date.now() - firstRun) / 1000).toFixed(1)} s`);
  t.equal(first.status, 0, first.output);
  t.match(first.output, /rollsafe audit\.+Passed/);
  rmSync(join(repo, 'probe'), { recursive: true });

  const head = async () => (await run('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: repo })).output.trim();
  const commit = async (message: string, skip: string[] = []) => run('git', ['commit', '--quiet', '-m', message], { cwd: repo, env: { PATH, SKIP: skip.join(',') } });

  await t.test('a commit of YAML that is no manifest passes every hook', async (t) => {
    // Each of these fails a plain `rollsafe audit FILE`: what keeps the commits green is the hooks' flags and patterns.
    write(repo, NOT_MANIFESTS);
    for (const path of ['chart/templates/deployment.yaml', 'empty.yaml', 'placeholder.yaml', '.pre-commit-hooks.yaml']) {
      t.equal((await runCli(['audit', join(repo, path)])).code, 2, `rollsafe audit alone refuses ${path}`);
    }
    // Only files without an object first: the run as a whole has none (--allow-empty), then the rest.
    for (const paths of [['empty.yaml', 'placeholder.yaml'], ['--all']]) {
      await git('add', ...paths);
      const result = await commit(`configuration: ${paths.join(' ')}`);
      t.equal(result.status, 0, result.output);
      t.equal(result.output.match(/\.+Passed/g)?.length, HOOK_IDS.length, result.output);
    }
    t.equal((await run('git', ['status', '--porcelain'], { cwd: repo })).output, '', 'everything committed');
  });

  await t.test('a manifest whose container serves without a readiness probe fails the commit', async (t) => {
    const before = await head();
    write(repo, { 'deploy/web.yaml': NO_PROBE });
    await git('add', 'deploy/web.yaml');
    // Only the audits judge here: the fix hooks would also add the topology spread this manifest lacks.
    const result = await commit('web', ['rollsafe-fix', 'rollsafe-fix-system']);
    t.not(result.status, 0);
    t.match(result.output, /rollsafe audit\.+Failed/);
    t.match(result.output, /rollsafe audit \(rollsafe on the PATH\)\.+Failed/);
    const report = /deploy\/web\.yaml\n\s+Deployment web \(document 1, line 1\)\n\s+error\s+readiness-probe: container "web" declares port 80 but has no readinessProbe/g;
    t.equal(result.output.match(report)?.length, 2, 'both hooks name the finding');
    t.equal(await head(), before, 'nothing committed');
    await git('rm', '--quiet', '--cached', 'deploy/web.yaml');
    rmSync(join(repo, 'deploy', 'web.yaml'));
  });

  await t.test('the fix hooks rewrite a fixable manifest and pre-commit fails the commit for review; a good manifest passes', async (t) => {
    const before = await head();
    // Byte for byte what `rollsafe fix` of this work tree writes: the preStop sleep FIXABLE lacks.
    const expected = await runCli(['fix', '-'], { stdin: FIXABLE });
    t.equal(expected.code, 0);
    t.equal(expected.stdout, GOOD);

    for (const [hook, name, skip] of [
      ['rollsafe-fix', /rollsafe fix\.+Failed/, ['rollsafe-audit', 'rollsafe-audit-system', 'rollsafe-fix-system']],
      ['rollsafe-fix-system', /rollsafe fix \(rollsafe on the PATH\)\.+Failed/, ['rollsafe-audit', 'rollsafe-audit-system', 'rollsafe-fix']],
    ] as const) {
      write(repo, { 'deploy/api.yaml': FIXABLE });
      await git('add', 'deploy/api.yaml');
      const result = await commit('api', [...skip]);
      t.not(result.status, 0, hook);
      t.match(result.output, name, hook);
      t.match(result.output, /files were modified by this hook/, hook);
      t.match(result.output, /rollsafe: fixed 1 object\(s\) in deploy\/api\.yaml/, hook);
      t.equal(readFileSync(join(repo, 'deploy', 'api.yaml'), 'utf8'), expected.stdout, `${hook} wrote what rollsafe fix writes`);
      t.equal(await head(), before, 'nothing committed');
    }

    // The reviewed file passes every hook.
    await git('add', 'deploy/api.yaml');
    const again = await commit('api, fixed');
    t.equal(again.status, 0, again.output);
    t.equal(again.output.match(/\.+Passed/g)?.length, HOOK_IDS.length, again.output);
    t.not(await head(), before);
  });
});
