#!/usr/bin/env node
// The entry of rollsafe's pre-commit hooks (.pre-commit-hooks.yaml, `language: script`): builds rollsafe once in
// this checkout (the hook repository's clone in pre-commit's store, one per rev) and runs it with the hook's
// arguments. Needs node (20.19 or later) and npm on the PATH; the first run after installing a rev builds.
//
// Why not `language: node`: pre-commit (4.6 and later) installs a node hook with `npm install -g git+file://…`,
// and npm prepares a git dependency that has a build script with a nested `npm install` that inherits `-g`
// (npm/cli#8440): both write the package's folder in the global prefix at once, and the install fails
// (ENOTEMPTY) whenever their extractions overlap, which on a loaded machine is nearly always.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = join(root, '.pre-commit-build');
const cli = join(build, 'dist', 'cli.js');

function fail(message) {
  process.stderr.write(`rollsafe (pre-commit): ${message}\n`);
  process.exit(2);
}

function npm(args, cwd) {
  // npm's output goes to standard error: standard output is the hook's report.
  const result = spawnSync('npm', args, { cwd, stdio: ['ignore', 2, 2], shell: process.platform === 'win32' });
  if (result.error) fail(`cannot run npm (${result.error.message}): the hook needs npm on the PATH`);
  if (result.status !== 0) fail(`npm ${args.join(' ')} failed (exit ${result.status}) while building rollsafe`);
}

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) fail(`needs Node.js 20.19 or later, found ${process.version}`);

if (!existsSync(cli)) {
  // Built beside the checkout and renamed into place: a build cut short is never taken for one, and of two
  // hooks building at once the first to finish wins.
  const staging = mkdtempSync(join(root, '.pre-commit-build-'));
  try {
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'src']) cpSync(join(root, entry), join(staging, entry), { recursive: true });
    process.stderr.write('rollsafe (pre-commit): building rollsafe, once for this version (npm ci, tsc)\n');
    // TypeScript is a dev dependency: included even where NODE_ENV=production would omit it.
    npm(['ci', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], staging);
    npm(['run', 'build', '--silent'], staging);
    npm(['prune', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], staging);
    try {
      renameSync(staging, build);
    } catch (error) {
      if (!existsSync(cli)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// The CLI reads process.argv.slice(2): the hook's arguments, then the files pre-commit passes.
await import(pathToFileURL(cli).href);
