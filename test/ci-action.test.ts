/**
 * The CI integrations without GitHub or GitLab: action.yml's composite steps and the GitLab template's script,
 * run with bash as the runners run them, in a temporary workspace with the inputs (variables) set the way each
 * runner sets them.
 *
 * - GitHub: `${{ inputs.* }}`, `${{ steps.*.outputs.* }}` and `${{ github.action_path }}` are substituted where
 *   GitHub evaluates expressions (env, with, if, outputs); each run step is `bash --noprofile --norc -eo pipefail
 *   FILE` in the workspace with a GITHUB_OUTPUT file of its own; a `uses:` step is not run but recorded with its
 *   inputs (upload-sarif: the SARIF file it would upload is checked instead).
 * - GitLab: the job `rollsafe` with its `extends` resolved, its variables (the user's override them) in the
 *   environment, the script lines as one bash script (`-eo pipefail`) in CI_PROJECT_DIR.
 *
 * The action builds rollsafe in its own checkout; the template installs the npm package or builds from a git
 * clone. Each runs for real from a snapshot of the work tree's package files (the npm package: packed from the
 * template's build); the results stay cached under ~/.cache/rollsafe by the snapshot's commit (a function of
 * those files), so only a change to them builds again.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { parse } from 'yaml';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';

const ROOT = join(TEST_DIR, '..');
const CACHE = join(homedir(), '.cache', 'rollsafe', 'ci-builds');
/** What the action's checkout and the template's clone need to build rollsafe. */
const SNAPSHOT = ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'action.yml', 'ci'];
const SARIF_SCHEMA = join(FIXTURES, 'schemas', 'sarif-2.1.0-subset.schema.json');

// ---------------------------------------------------------------------------------------------------------
// Processes

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of every command: what a user's shell would give it, not what `npm test` adds (npm's
 * npm_config_* and package variables, tap's loader in NODE_OPTIONS); no git or runner settings from outside, and
 * git's own configuration files are not read.
 */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|GIT_|GITHUB_|GITLAB_|CI_|RUNNER_|ROLLSAFE_|INPUT_|TAP|NODE_OPTIONS$|INIT_CWD$|CI$)/i.test(key)) env[key] = value;
  }
  return {
    ...env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'rollsafe test',
    GIT_AUTHOR_EMAIL: 'test@rollsafe.invalid',
    GIT_COMMITTER_NAME: 'rollsafe test',
    GIT_COMMITTER_EMAIL: 'test@rollsafe.invalid',
    // Packages npm has in its cache are not asked for again (the lockfile pins them).
    npm_config_prefer_offline: 'true',
    ...extra,
  };
}

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: cleanEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

async function must(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<string> {
  const result = await run(command, args, options);
  if (result.status !== 0) throw new Error(`${[command, ...args].join(' ')} exited ${result.status}:\n${(result.stdout + result.stderr).slice(-4000)}`);
  return result.stdout;
}

/** A bash script as both runners run one: -e and pipefail, no profile. */
async function bash(script: string, options: { cwd: string; env: Record<string, string> }): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-ci-script-'));
  try {
    writeFileSync(join(dir, 'script.sh'), script);
    return await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', join(dir, 'script.sh')], options);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The snapshot and the cached builds

/** The work tree's package files as one commit on `main` of a new bare repository; fixed metadata. */
async function snapshotRepo(): Promise<{ repo: string; commit: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-ci-snapshot-'));
  const repo = join(dir, 'rollsafe.git');
  await must('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', repo], { cwd: dir });
  const git = { GIT_DIR: repo, GIT_WORK_TREE: ROOT, GIT_INDEX_FILE: join(dir, 'index') };
  await must('git', ['add', '--', ...SNAPSHOT.filter((path) => existsSync(join(ROOT, path)))], { cwd: ROOT, env: git });
  const tree = (await must('git', ['write-tree'], { cwd: ROOT, env: git })).trim();
  const fixed = { GIT_AUTHOR_DATE: '2000-01-01T00:00:00+0000', GIT_COMMITTER_DATE: '2000-01-01T00:00:00+0000' };
  const commit = (await must('git', ['commit-tree', tree, '-m', 'rollsafe work tree snapshot'], { cwd: ROOT, env: { ...git, ...fixed } })).trim();
  await must('git', ['update-ref', 'refs/heads/main', commit], { cwd: ROOT, env: git });
  return { repo, commit };
}

/**
 * The cache folder of this snapshot (two builds with their node_modules, about 600 MB). Folders of other
 * snapshots go once unused for 15 minutes, not sooner: another work tree on this machine may be testing its own.
 */
function buildCache(commit: string): string {
  mkdirSync(CACHE, { recursive: true });
  for (const entry of readdirSync(CACHE)) {
    const path = join(CACHE, entry);
    if (!entry.startsWith(commit.slice(0, 16)) && Date.now() - statSync(path).mtimeMs > 15 * 60_000) rmSync(path, { recursive: true, force: true });
  }
  const dir = join(CACHE, commit.slice(0, 16));
  mkdirSync(dir, { recursive: true });
  utimesSync(dir, new Date(), new Date());
  // A build cut short (a killed run) leaves its staging folder; after an hour it is no one's.
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (/\.\d+-\d+$/.test(entry) && Date.now() - statSync(path).mtimeMs > 3600_000) rmSync(path, { recursive: true, force: true });
  }
  return dir;
}

/** A temporary folder beside `final`, renamed to it once built: a build cut short is never taken for one. */
function staging(final: string): string {
  return `${final}.${process.pid}-${Date.now()}`;
}

function promote(stagingDir: string, final: string): void {
  if (existsSync(final)) rmSync(stagingDir, { recursive: true, force: true });
  else renameSync(stagingDir, final);
}

// ---------------------------------------------------------------------------------------------------------
// GitHub Actions expressions: the subset action.yml may use, refusing the rest

type Value = string | boolean | number | null;

interface Contexts {
  inputs: Record<string, string>;
  steps: Record<string, { outputs: Record<string, string> }>;
  github: Record<string, string>;
  failed: boolean;
}

function evaluate(expression: string, contexts: Contexts): Value {
  const tokens: string[] = [];
  const tokenPattern = /\s*('(?:[^']|'')*'|&&|\|\||==|!=|!|\(|\)|[A-Za-z_][\w.-]*|\d+)/y;
  let consumed = 0;
  for (let match = tokenPattern.exec(expression); match; match = tokenPattern.exec(expression)) {
    tokens.push(match[1] as string);
    consumed = tokenPattern.lastIndex;
  }
  if (expression.slice(consumed).trim() !== '') throw new Error(`unsupported expression at "${expression.slice(consumed)}": ${expression}`);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++];
  const truthy = (value: Value) => value !== null && value !== false && value !== '' && value !== 0;
  const equal = (a: Value, b: Value) => (typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b);
  const lookup = (path: string): Value => {
    const [context, ...rest] = path.split('.');
    if (context === 'inputs' && rest.length === 1) return contexts.inputs[rest[0] as string] ?? null;
    if (context === 'github' && rest.length === 1) return contexts.github[rest[0] as string] ?? null;
    if (context === 'steps' && rest.length === 3 && rest[1] === 'outputs') return contexts.steps[rest[0] as string]?.outputs[rest[2] as string] ?? null;
    if (path === 'true' || path === 'false') return path === 'true';
    if (path === 'null') return null;
    throw new Error(`unsupported context in expression: ${path}`);
  };
  const primary = (): Value => {
    const token = next();
    if (token === undefined) throw new Error(`unexpected end of expression: ${expression}`);
    if (token === '(') {
      const value = or();
      if (next() !== ')') throw new Error(`missing ) in ${expression}`);
      return value;
    }
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (/^\d+$/.test(token)) return Number(token);
    if (peek() === '(') {
      next();
      if (next() !== ')') throw new Error(`functions take no arguments here: ${expression}`);
      if (token === 'success') return !contexts.failed;
      if (token === 'failure') return contexts.failed;
      if (token === 'always') return true;
      if (token === 'cancelled') return false;
      throw new Error(`unsupported function ${token}() in ${expression}`);
    }
    return lookup(token);
  };
  const comparison = (): Value => {
    const left = primary();
    if (peek() === '==' || peek() === '!=') {
      const operator = next();
      const right = primary();
      return operator === '==' ? equal(left, right) : !equal(left, right);
    }
    return left;
  };
  const unary = (): Value => (peek() === '!' ? (next(), !truthy(unary())) : comparison());
  const and = (): Value => {
    let value = unary();
    while (peek() === '&&') {
      next();
      const right = unary();
      value = truthy(value) ? right : value;
    }
    return value;
  };
  const or = (): Value => {
    let value = and();
    while (peek() === '||') {
      next();
      const right = and();
      value = truthy(value) ? value : right;
    }
    return value;
  };
  const value = or();
  if (position !== tokens.length) throw new Error(`unexpected ${tokens[position]} in ${expression}`);
  return value;
}

function substitute(text: string, contexts: Contexts): string {
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expression: string) => {
    const value = evaluate(expression.trim(), contexts);
    return value === null ? '' : String(value);
  });
}

function condition(text: string | undefined, contexts: Contexts): boolean {
  if (text === undefined) return !contexts.failed; // success()
  const expression = text.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim();
  const value = evaluate(expression, contexts);
  return value !== null && value !== false && value !== '' && value !== 0;
}

// ---------------------------------------------------------------------------------------------------------
// The composite action

interface ActionStep {
  name?: string;
  id?: string;
  if?: string;
  shell?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

interface ActionFile {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

interface StepRun {
  name: string;
  ran: boolean;
  status: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  with?: Record<string, string>;
}

interface ActionRun {
  steps: StepRun[];
  /** The job's outcome: 0 when every step that ran succeeded, else the first failure's exit status. */
  status: number;
  outputs: Record<string, string>;
  /** Every workflow command line (`::error ...`) the steps printed. */
  annotations: string[];
}

const ACTION = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as ActionFile;

/** GITHUB_OUTPUT's two forms: `name=value` and `name<<DELIMITER` … `DELIMITER`. */
function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2] as string, index + 1);
      outputs[heredoc[1] as string] = lines.slice(index + 1, end).join('\n');
      index = end;
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

async function runAction(actionPath: string, workspace: string, given: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  for (const name of Object.keys(given)) if (!(name in ACTION.inputs)) throw new Error(`action.yml has no input ${name}`);
  const inputs = Object.fromEntries(Object.entries(ACTION.inputs).map(([name, input]) => [name, given[name] ?? input.default ?? '']));
  const contexts: Contexts = { inputs, steps: {}, github: { action_path: actionPath, workspace }, failed: false };
  const result: ActionRun = { steps: [], status: 0, outputs: {}, annotations: [] };
  const runnerTemp = mkdtempSync(join(tmpdir(), 'rollsafe-runner-temp-'));
  try {
    for (const [index, step] of ACTION.runs.steps.entries()) {
      const name = step.name ?? `step ${index + 1}`;
      if (!condition(step.if, contexts)) {
        result.steps.push({ name, ran: false, status: 0, stdout: '', stderr: '', outputs: {} });
        continue;
      }
      if (step.uses !== undefined) {
        const inputsOfStep = Object.fromEntries(Object.entries(step.with ?? {}).map(([key, value]) => [key, substitute(String(value), contexts)]));
        result.steps.push({ name, ran: true, status: 0, stdout: '', stderr: '', outputs: {}, with: inputsOfStep });
        continue;
      }
      if (step.shell !== 'bash' || step.run === undefined) throw new Error(`${name}: a composite run step needs shell: bash and run`);
      const outputFile = join(runnerTemp, `output-${index}`);
      writeFileSync(outputFile, '');
      const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([key, value]) => [key, substitute(String(value), contexts)]));
      const ran = await bash(substitute(step.run, contexts), {
        cwd: workspace,
        env: {
          CI: 'true',
          GITHUB_ACTIONS: 'true',
          GITHUB_WORKSPACE: workspace,
          GITHUB_ACTION_PATH: actionPath,
          GITHUB_OUTPUT: outputFile,
          RUNNER_TEMP: runnerTemp,
          ...env,
          ...stepEnv,
        },
      });
      const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'));
      if (step.id) contexts.steps[step.id] = { outputs };
      result.steps.push({ name, ran: true, status: ran.status, stdout: ran.stdout, stderr: ran.stderr, outputs });
      result.annotations.push(...ran.stdout.split('\n').filter((line) => line.startsWith('::')));
      if (ran.status !== 0 && !contexts.failed) {
        contexts.failed = true;
        result.status = ran.status;
      }
    }
    for (const [name, output] of Object.entries(ACTION.outputs)) result.outputs[name] = substitute(output.value, contexts);
    return result;
  } finally {
    rmSync(runnerTemp, { recursive: true, force: true });
  }
}

function step(result: ActionRun, name: string): StepRun {
  const found = result.steps.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no step named ${name} in action.yml`);
  return found;
}

// ---------------------------------------------------------------------------------------------------------
// The GitLab template

interface GitlabJob {
  extends?: string | string[];
  image?: string;
  stage?: string;
  variables?: Record<string, string>;
  before_script?: string[];
  script?: string[];
  artifacts?: { when?: string; paths?: string[]; reports?: Record<string, string> };
}

const TEMPLATE = parse(readFileSync(join(ROOT, 'ci', 'gitlab', 'rollsafe.gitlab-ci.yml'), 'utf8')) as Record<string, GitlabJob>;

/** A job with its `extends` chain merged as GitLab merges it: hashes deeply, everything else replaced. */
function resolveJob(name: string): GitlabJob {
  const job = TEMPLATE[name];
  if (!job) throw new Error(`the template has no job ${name}`);
  const parents = job.extends === undefined ? [] : Array.isArray(job.extends) ? job.extends : [job.extends];
  const merge = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> => {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) {
      const old = merged[key];
      merged[key] =
        value && typeof value === 'object' && !Array.isArray(value) && old && typeof old === 'object' && !Array.isArray(old)
          ? merge(old as Record<string, unknown>, value as Record<string, unknown>)
          : value;
    }
    return merged;
  };
  let resolved: Record<string, unknown> = {};
  for (const parent of parents) resolved = merge(resolved, resolveJob(parent) as Record<string, unknown>);
  const { extends: _, ...own } = job;
  return merge(resolved, own) as GitlabJob;
}

const GITLAB_JOB = resolveJob('rollsafe');

async function runGitlabJob(projectDir: string, variables: Record<string, string>, env: Record<string, string> = {}): Promise<Run> {
  const script = [...(GITLAB_JOB.before_script ?? []), ...(GITLAB_JOB.script ?? [])].join('\n');
  return bash(script, {
    cwd: projectDir,
    env: { CI: 'true', GITLAB_CI: 'true', CI_PROJECT_DIR: projectDir, ...env, ...GITLAB_JOB.variables, ...variables },
  });
}

interface CodeQualityIssue {
  description: string;
  check_name: string;
  fingerprint: string;
  severity: string;
  location: { path: string; lines: { begin: number } };
}

function codeQuality(projectDir: string): CodeQualityIssue[] {
  return JSON.parse(readFileSync(join(projectDir, GITLAB_JOB.artifacts?.reports?.['codequality'] ?? 'missing'), 'utf8')) as CodeQualityIssue[];
}

// ---------------------------------------------------------------------------------------------------------
// Manifests

// A Deployment whose container serves without a readiness probe: an error, and two warnings.
const NO_PROBE = readFileSync(join(FIXTURES, 'rules', 'readiness-probe', 'fail-no-probe.yaml'), 'utf8');
// A Deployment that rolls without dropping requests, with its PodDisruptionBudget: no finding at all.
const GOOD = readFileSync(join(FIXTURES, 'manifests', 'clean-deployment-with-pdb.yaml'), 'utf8');

function workspace(files: Record<string, string> = { 'k8s/web.yaml': NO_PROBE, 'k8s/api.yaml': GOOD }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollsafe-ci-workspace-'));
  write(dir, files);
  return dir;
}

// ---------------------------------------------------------------------------------------------------------

t.test('action.yml: a composite action whose inputs reach the scripts as environment only', async (t) => {
  t.equal(ACTION.runs.using, 'composite');
  t.same(Object.keys(ACTION.inputs).sort(), ['args', 'fail-on', 'paths', 'policy', 'sarif-file', 'upload-sarif']);
  for (const [name, input] of Object.entries(ACTION.inputs)) t.ok(input.description, `input ${name} is described`);
  for (const candidate of ACTION.runs.steps) {
    if (candidate.run !== undefined) t.notMatch(candidate.run, /\$\{\{/, `${candidate.name}: no expression spliced into the script`);
  }
  const upload = ACTION.runs.steps.find((candidate) => candidate.uses?.startsWith('github/codeql-action/upload-sarif@'));
  t.ok(upload, 'SARIF goes to code scanning through github/codeql-action/upload-sarif');
});

t.test('the GitLab template: a job `rollsafe` in stage test, reports kept when it fails', async (t) => {
  t.equal(GITLAB_JOB.stage, 'test');
  t.match(GITLAB_JOB.image, /^node:\d+/);
  t.equal(GITLAB_JOB.artifacts?.when, 'always');
  t.same(Object.keys(GITLAB_JOB.artifacts?.reports ?? {}).sort(), ['codequality', 'junit']);
  t.same(Object.keys(GITLAB_JOB.variables ?? {}).sort(), ['ROLLSAFE_ARGS', 'ROLLSAFE_FAIL_ON', 'ROLLSAFE_HOME', 'ROLLSAFE_PACKAGE', 'ROLLSAFE_PATHS', 'ROLLSAFE_POLICY', 'ROLLSAFE_REF', 'ROLLSAFE_REPOSITORY']);
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  t.equal(GITLAB_JOB.variables?.['ROLLSAFE_PACKAGE'], `rollsafe@${version}`, 'the npm package of this version by default');
});

t.test('CI builds and runs', async (t) => {
  const { repo, commit } = await snapshotRepo();
  t.teardown(() => rmSync(dirname(repo), { recursive: true, force: true }));
  const cache = buildCache(commit);
  const actionPath = join(cache, 'github-action');
  const gitlabHome = join(cache, 'gitlab-home');
  const npmHome = join(cache, 'gitlab-npm-home');
  const workspaces: string[] = [];
  t.teardown(() => {
    for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
  });
  const newWorkspace = (files?: Record<string, string>) => {
    const dir = workspace(files);
    workspaces.push(dir);
    return dir;
  };

  // Both builds (cold: from the snapshot, for real; warm: the cached ones), side by side.
  const buildAction = async () => {
    const started = Date.now();
    const cold = !existsSync(join(actionPath, 'dist', 'cli.js'));
    const path = cold ? staging(actionPath) : actionPath;
    if (cold) {
      // GitHub downloads the action's files at its ref, without .git.
      mkdirSync(path, { recursive: true });
      await must('bash', ['-c', `git --git-dir="$1" archive "$2" | tar -x -C "$3"`, 'archive', repo, commit, path], { cwd: ROOT });
    }
    const result = await runAction(path, newWorkspace({ 'k8s/api.yaml': GOOD }), { paths: 'k8s' });
    if (cold && result.status === 0) promote(path, actionPath);
    else if (cold) rmSync(path, { recursive: true, force: true });
    return { result, cold, seconds: (Date.now() - started) / 1000 };
  };
  const buildGitlab = async () => {
    const started = Date.now();
    const cold = !existsSync(join(gitlabHome, 'dist', 'cli.js'));
    const home = cold ? staging(gitlabHome) : gitlabHome;
    const projectDir = newWorkspace({ 'k8s/api.yaml': GOOD });
    const result = await runGitlabJob(projectDir, { ROLLSAFE_PATHS: 'k8s', ROLLSAFE_REPOSITORY: `file://${repo}`, ROLLSAFE_REF: 'main', ROLLSAFE_HOME: home });
    if (cold && result.status === 0) promote(home, gitlabHome);
    else if (cold) rmSync(home, { recursive: true, force: true });
    return { result, cold, seconds: (Date.now() - started) / 1000 };
  };
  const [action, gitlab] = await Promise.all([buildAction(), buildGitlab()]);
  // The npm package as `npm pack` makes it from that build: what the template installs by default.
  const tarball =
    gitlab.result.status === 0 ? join(cache, (await must('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', cache], { cwd: gitlabHome })).trim().split('\n').pop() ?? '') : '';
  t.comment(`action: ${action.cold ? 'built (cold)' : 'cached build (warm)'} and run in ${action.seconds.toFixed(1)} s; GitLab job: ${gitlab.cold ? 'built (cold)' : 'cached build (warm)'} and run in ${gitlab.seconds.toFixed(1)} s`);

  await t.test('the action builds rollsafe in its checkout once and passes a clean tree', async (t) => {
    const { result } = action;
    t.equal(result.status, 0, JSON.stringify(result.steps.map(({ name, status, stderr }) => ({ name, status, stderr: stderr.slice(-2000) }))));
    t.ok(existsSync(join(actionPath, 'dist', 'cli.js')), 'built into the action path');
    t.same(result.annotations, [], 'no annotation');
    t.equal(result.outputs['exit-code'], '0');
    t.notOk(step(result, 'Upload SARIF to code scanning').ran, 'no SARIF asked for, none uploaded');
    // A second use in the same job finds the build: the step does nothing.
    const again = await runAction(actionPath, newWorkspace({ 'k8s/api.yaml': GOOD }), { paths: 'k8s' });
    t.equal(step(again, 'Build rollsafe').status, 0);
    t.equal(step(again, 'Build rollsafe').stdout + step(again, 'Build rollsafe').stderr, '', 'nothing installed or built again');
  });

  await t.test('the GitLab job clones and builds rollsafe, and passes a clean tree', async (t) => {
    const { result } = gitlab;
    t.equal(result.status, 0, result.stderr.slice(-3000));
    t.ok(existsSync(join(gitlabHome, 'dist', 'cli.js')), 'built into ROLLSAFE_HOME');
    t.match(result.stdout, /1 workload\(s\), 1 without findings: 0 error\(s\), 0 warning\(s\)/, 'the text report is in the log');
  });

  await t.test('action: findings fail the job as annotations on the files; SARIF is written and uploaded', async (t) => {
    const dir = newWorkspace();
    const result = await runAction(actionPath, dir, { paths: 'k8s', 'sarif-file': 'reports/rollsafe.sarif' });
    t.equal(result.status, 1);
    t.equal(result.outputs['exit-code'], '1');
    t.match(result.annotations, [
      /^::error file=k8s\/web\.yaml,line=1,title=rollsafe readiness-probe%3A Deployment web \(web\)::container "web" declares port 80 but has no readinessProbe/,
      /^::warning file=k8s\/web\.yaml,line=1,title=rollsafe disruption-budget%3A Deployment web::/,
      /^::warning file=k8s\/web\.yaml,line=1,title=rollsafe node-spread%3A Deployment web::/,
    ]);
    t.equal(result.annotations.length, 3, 'the clean manifest has none; only what fails is an error');
    const upload = step(result, 'Upload SARIF to code scanning');
    t.ok(upload.ran, 'uploaded after the failing audit');
    t.same(upload.with, { sarif_file: 'reports/rollsafe.sarif', category: 'rollsafe' });
    const sarif = JSON.parse(readFileSync(join(dir, 'reports', 'rollsafe.sarif'), 'utf8')) as {
      version: string;
      runs: Array<{ results: Array<{ ruleId: string; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }>;
    };
    const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(JSON.parse(readFileSync(SARIF_SCHEMA, 'utf8')));
    t.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
    const probe = sarif.runs[0]?.results.find((candidate) => candidate.ruleId === 'readiness-probe');
    t.equal(probe?.level, 'error');
    t.equal(probe?.locations[0]?.physicalLocation.artifactLocation.uri, 'k8s/web.yaml', 'repository-relative, as code scanning needs');
  });

  await t.test('action: fail-on, policy and args are passed on; paths split on spaces and newlines', async (t) => {
    const never = await runAction(actionPath, newWorkspace(), { paths: 'k8s/web.yaml', 'fail-on': 'never' });
    t.equal(never.status, 0);
    t.match(never.annotations, [/^::warning file=k8s\/web\.yaml,line=1,title=rollsafe readiness-probe/]);

    const dir = newWorkspace({ 'k8s/web.yaml': NO_PROBE, 'policy.yaml': 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules:\n  readiness-probe: {mode: warn}\n' });
    const warned = await runAction(actionPath, dir, { paths: 'k8s', policy: 'policy.yaml' });
    t.equal(warned.status, 0, 'a rule in warn mode never fails');
    t.match(warned.annotations, [/^::warning file=k8s\/web\.yaml,line=1,title=rollsafe readiness-probe/]);

    const split = await runAction(actionPath, newWorkspace(), { paths: 'k8s/web.yaml\nk8s/api.yaml  k8s/web.yaml\n', args: '--disable readiness-probe' });
    t.equal(split.status, 0, step(split, 'Audit').stderr);
    t.equal(split.annotations.length, 2, 'web.yaml\'s two warnings, once: a file named twice is read once');
    t.notMatch(split.annotations.join('\n'), /readiness-probe/, '--disable reached rollsafe');
    const both = await runAction(actionPath, newWorkspace({ 'k8s/web.yaml': NO_PROBE, 'other/api.yaml': NO_PROBE.replace('name: web', 'name: api') }), { paths: 'k8s/web.yaml\nother' });
    t.match(both.annotations.join('\n'), /file=other\/api\.yaml,line=1,title=rollsafe readiness-probe/, 'the second line is a path too');
  });

  await t.test('action: unreadable input and bad usage end with exit 2; only a SARIF file with content is uploaded', async (t) => {
    const dir = newWorkspace();
    const missing = await runAction(actionPath, dir, { paths: 'k8s/gone.yaml', 'sarif-file': 'rollsafe.sarif' });
    t.equal(missing.status, 2);
    t.match(missing.annotations, [/^::error file=k8s\/gone\.yaml,title=rollsafe%3A unreadable input::cannot read: no such file or directory/]);
    t.ok(step(missing, 'Upload SARIF to code scanning').ran, 'the SARIF of an unreadable input says so: uploaded');

    const usage = await runAction(actionPath, dir, { paths: 'k8s', 'fail-on': 'sometimes', 'sarif-file': 'usage.sarif' });
    t.equal(usage.status, 2);
    t.match(step(usage, 'Audit').stderr, /--fail-on must be one of error, warning, never \(got "sometimes"\)/);
    t.notOk(step(usage, 'Upload SARIF to code scanning').ran, 'an empty SARIF file is not uploaded');

    const empty = await runAction(actionPath, dir, { paths: ' \n' });
    t.equal(empty.status, 2);
    t.match(empty.annotations, [/^::error title=rollsafe::the paths input is empty/]);

    // An input is data: a command substitution in it is a path rollsafe cannot read, never run.
    const hostile = await runAction(actionPath, dir, { paths: '$(touch pwned) `touch pwned2`', args: '; touch pwned3' });
    t.equal(hostile.status, 2);
    t.same(readdirSync(dir).filter((name) => name.startsWith('pwned')), []);
  });

  await t.test('action: Node.js older than 20.19 is refused with an explanation', async (t) => {
    const bin = mkdtempSync(join(tmpdir(), 'rollsafe-old-node-'));
    t.teardown(() => rmSync(bin, { recursive: true, force: true }));
    writeFileSync(join(bin, 'node'), '#!/bin/sh\nif [ "$1" = "--version" ]; then echo v20.18.0; else exit 1; fi\n');
    chmodSync(join(bin, 'node'), 0o755);
    const result = await runAction(actionPath, newWorkspace(), { paths: 'k8s' }, { PATH: `${bin}:${process.env['PATH'] ?? ''}` });
    t.equal(result.status, 2);
    t.match(result.annotations, [/^::error title=rollsafe::rollsafe needs Node\.js 20\.19 or later \(the runner has v20\.18\.0\): add actions\/setup-node/]);
    t.notOk(step(result, 'Audit').ran);
  });

  // The job as configured to build from the snapshot (its build cached in ROLLSAFE_HOME).
  const runJob = (variables: Record<string, string>, files?: Record<string, string>) => {
    const projectDir = newWorkspace(files);
    return runGitlabJob(projectDir, { ROLLSAFE_REPOSITORY: `file://${repo}`, ROLLSAFE_HOME: gitlabHome, ...variables }).then((result) => ({ result, projectDir }));
  };

  await t.test('GitLab: findings fail the job; Code Quality and JUnit reports name them', async (t) => {
    const { result, projectDir } = await runJob({ ROLLSAFE_PATHS: 'k8s' });
    t.equal(result.status, 1);
    t.match(result.stdout, /k8s\/web\.yaml\n {2}Deployment web \(document 1, line 1\)\n {4}error {3}readiness-probe/);
    for (const path of [...(GITLAB_JOB.artifacts?.paths ?? []), ...Object.values(GITLAB_JOB.artifacts?.reports ?? {})]) t.ok(existsSync(join(projectDir, path)), `${path} written`);
    const issues = codeQuality(projectDir);
    for (const issue of issues) t.same(Object.keys(issue).sort(), ['check_name', 'description', 'fingerprint', 'location', 'severity']);
    t.equal(new Set(issues.map((issue) => issue.fingerprint)).size, issues.length, 'fingerprints are unique');
    const probe = issues.find((issue) => issue.check_name === 'rollsafe/readiness-probe');
    t.match(probe, { severity: 'major', location: { path: 'k8s/web.yaml', lines: { begin: 1 } }, description: /^Deployment web \(web\): container "web" declares port 80 but has no readinessProbe/ });
    t.match(issues.find((issue) => issue.check_name === 'rollsafe/disruption-budget'), { severity: 'minor', location: { path: 'k8s/web.yaml' } });
    t.notOk(issues.some((issue) => issue.location.path === 'k8s/api.yaml'), 'the clean manifest has no issue');
    const junit = readFileSync(join(projectDir, 'rollsafe-junit.xml'), 'utf8');
    t.match(junit, /<testcase classname="Deployment\/web" name="readiness-probe" file="k8s\/web\.yaml" line="1"><failure type="error"/);
    t.equal((junit.match(/<failure /g) ?? []).length, 1, 'only what fails at --fail-on is a failure');
  });

  await t.test('GitLab: policy, fail-on and args are passed on; a rule in warn mode is a minor issue', async (t) => {
    const { result, projectDir } = await runJob(
      { ROLLSAFE_PATHS: 'k8s/web.yaml', ROLLSAFE_POLICY: 'policy.yaml', ROLLSAFE_ARGS: '--kubernetes-version 1.29' },
      { 'k8s/web.yaml': NO_PROBE, 'policy.yaml': 'apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nrules:\n  readiness-probe: {mode: warn}\n' },
    );
    t.equal(result.status, 0, result.stderr);
    t.match(codeQuality(projectDir).find((issue) => issue.check_name === 'rollsafe/readiness-probe'), { severity: 'minor' });
    t.match(result.stdout, /readiness-probe \[warn\]/);
    const never = await runJob({ ROLLSAFE_PATHS: 'k8s', ROLLSAFE_FAIL_ON: 'never' });
    t.equal(never.result.status, 0);
    const older = await runJob({ ROLLSAFE_PATHS: 'k8s/api.yaml', ROLLSAFE_ARGS: '--kubernetes-version 1.29' }, { 'k8s/api.yaml': NO_PROBE.replace(/ {10}lifecycle:[\s\S]*$/, '') });
    // Before 1.30 the fix is an exec sleep, not the native one: the flag reached rollsafe.
    t.match(codeQuality(older.projectDir).find((issue) => issue.check_name === 'rollsafe/prestop-delay'), { description: /exec/ });
  });

  await t.test('GitLab: unreadable input and empty paths are exit 2; the first is a critical issue', async (t) => {
    const { result, projectDir } = await runJob({ ROLLSAFE_PATHS: 'k8s/gone.yaml' });
    t.equal(result.status, 2);
    t.match(codeQuality(projectDir), [{ check_name: 'rollsafe/input-error', severity: 'critical', location: { path: 'k8s/gone.yaml', lines: { begin: 1 } } }]);

    const empty = await runJob({ ROLLSAFE_PATHS: '' });
    t.equal(empty.result.status, 2);
    t.match(empty.result.stderr, /ROLLSAFE_PATHS is empty/);
  });

  await t.test('GitLab: by default the npm package is installed and run', async (t) => {
    const projectDir = newWorkspace();
    const result = await runGitlabJob(projectDir, { ROLLSAFE_PATHS: 'k8s', ROLLSAFE_PACKAGE: tarball, ROLLSAFE_HOME: npmHome });
    t.equal(result.status, 1, result.stderr.slice(-3000));
    t.ok(existsSync(join(npmHome, 'node_modules', 'rollsafe', 'dist', 'cli.js')), 'installed from the package');
    t.notOk(existsSync(join(npmHome, 'node_modules', 'rollsafe', 'src')), 'the packed files only');
    t.match(codeQuality(projectDir), [{ check_name: 'rollsafe/readiness-probe', location: { path: 'k8s/web.yaml' } }]);
  });

  await t.test('GitLab: an image with rollsafe on its PATH is used as it is', async (t) => {
    const bin = mkdtempSync(join(tmpdir(), 'rollsafe-on-path-'));
    t.teardown(() => rmSync(bin, { recursive: true, force: true }));
    writeFileSync(join(bin, 'rollsafe'), `#!/bin/sh\nexec node ${JSON.stringify(join(gitlabHome, 'dist', 'cli.js'))} "$@"\n`);
    chmodSync(join(bin, 'rollsafe'), 0o755);
    const result = await runGitlabJob(newWorkspace({ 'k8s/api.yaml': GOOD }), { ROLLSAFE_PATHS: 'k8s' }, { PATH: `${bin}:${process.env['PATH'] ?? ''}` });
    t.equal(result.status, 0, result.stderr);
    t.match(result.stdout, /0 error\(s\)/);
  });
});
