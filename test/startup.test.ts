/**
 * How the binaries start (src/util/launch.ts, issue 27): dist/cli.js and dist/kubectl-plugin.js run the bundle
 * dist/chunks/rollsafe.js with V8's code cache. The cache must change nothing but the time: the same output
 * from an empty cache, a cache written by an earlier run, a corrupt cache, with the cache off, and without the
 * bundle at all (the compiled modules, dist/main.js). It is kept per command in a folder of this user only,
 * and an installation's caches of its earlier builds go when a new one is written. No timings here: speed
 * lives in `npm run bench:peers`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { VERSION } from '../src/version.js';
import { FIXTURES, TEST_DIR } from './helpers/fixtures.js';

const ROOT = join(TEST_DIR, '..');
const DIST = join(ROOT, 'dist');
const BAD = join(FIXTURES, 'admission', 'web-no-probes.yaml');
const GOOD = join(FIXTURES, 'rules', 'readiness-probe', 'pass-probe.yaml');
const work = mkdtempSync(join(tmpdir(), 'rollsafe-startup-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(binary: string, args: string[], cache: string, input?: string): Run {
  const run = spawnSync(process.execPath, [binary, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ROLLSAFE_COMPILE_CACHE: cache, NO_COLOR: '1' },
    ...(input !== undefined ? { input } : {}),
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const cli = (args: string[], cache: string, input?: string) => start(join(DIST, 'cli.js'), args, cache, input);
const cacheFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.v8cache')).sort() : []);

/** What the CLI says to these command lines: every output the cache must leave alone. */
const COMMANDS: Array<{ args: string[]; input?: string }> = [
  { args: ['--version'] },
  { args: ['audit', BAD, GOOD] },
  { args: ['audit', BAD, '-o', 'json'] },
  { args: ['audit', '-', '-o', 'compact'], input: readFileSync(BAD, 'utf8') },
  { args: ['audit', '/no/such/file.yaml'] },
  { args: ['fix', BAD, '--diff'] },
  { args: ['rules'] },
  { args: ['audit', '--bogus'] },
];

t.test('the same output from an empty cache, a written cache, and with the cache off', async (t) => {
  const cache = join(work, 'cache');
  const off = COMMANDS.map(({ args, input }) => cli(args, 'off', input));
  t.same(cacheFiles(cache), []);
  const first = COMMANDS.map(({ args, input }) => cli(args, cache, input));
  const names = cacheFiles(cache);
  t.same(
    names.map((name) => name.replace(/^.*-(cli-[a-z]+)\.v8cache$/, '$1')).sort(),
    ['cli-audit', 'cli-fix', 'cli-other', 'cli-rules'],
    'one cache per command (--version is "other"), written by the first run of each',
  );
  t.ok(names.every((name) => name.includes(`-${process.version}-${process.arch}-`)), 'named by the Node version and architecture');
  const written = Object.fromEntries(names.map((name) => [name, readFileSync(join(cache, name))]));
  const second = COMMANDS.map(({ args, input }) => cli(args, cache, input));
  COMMANDS.forEach(({ args }, index) => {
    t.same(first[index], off[index], `${args.join(' ')}: empty cache = no cache`);
    t.same(second[index], off[index], `${args.join(' ')}: from the cache = no cache`);
  });
  t.equal(off[0]?.stdout, `${VERSION}\n`);
  t.equal(off[1]?.code, 1, 'the audit found what it finds');
  for (const name of names) t.same(readFileSync(join(cache, name)), written[name], `${name}: a cache that fits is not written again`);
});

t.test('a corrupt cache is ignored, then replaced', async (t) => {
  const cache = join(work, 'corrupt');
  const clean = cli(['audit', BAD], 'off');
  cli(['audit', BAD], cache);
  const [name] = cacheFiles(cache);
  if (!name) return t.fail('no cache written');
  writeFileSync(join(cache, name), Buffer.alloc(4096, 7));
  t.same(cli(['audit', BAD], cache), clean, 'garbage in the cache changes nothing');
  t.not(readFileSync(join(cache, name)).equals(Buffer.alloc(4096, 7)), 'and is replaced by a cache that fits');
  writeFileSync(join(cache, name), '');
  t.same(cli(['audit', BAD], cache), clean, 'an empty cache file changes nothing');
});

t.test('the cache folder: created for this user only; a folder others can write to is not used', async (t) => {
  const cache = join(work, 'private', 'compile-cache');
  cli(['--version'], cache);
  t.equal(cacheFiles(cache).length, 1);
  t.equal((await import('node:fs')).statSync(cache).mode & 0o777, 0o700);
  const shared = join(work, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  t.same(cli(['--version'], shared).stdout, `${VERSION}\n`);
  t.same(cacheFiles(shared), [], 'nothing read from or written to a world-writable folder');
  const unwritable = join(work, 'file-not-folder');
  writeFileSync(unwritable, 'x');
  t.same(cli(['audit', GOOD], unwritable), cli(['audit', GOOD], 'off'), 'a cache that cannot be written is simply not kept');
});

t.test("a new build replaces the installation's caches of its earlier builds, and no other installation's", async (t) => {
  const cache = join(work, 'builds');
  cli(['--version'], cache);
  const [current] = cacheFiles(cache);
  if (!current) return t.fail('no cache written');
  const installation = current.slice(0, current.indexOf('-') + 1);
  const oldBuild = `${installation}1-2-3-4-${process.version}-${process.arch}-cli-audit.v8cache`;
  const otherInstallation = `zzzz-1-2-3-4-${process.version}-${process.arch}-cli-audit.v8cache`;
  writeFileSync(join(cache, oldBuild), 'old');
  writeFileSync(join(cache, otherInstallation), 'other');
  cli(['rules'], cache);
  t.notOk(existsSync(join(cache, oldBuild)), 'an earlier build of this installation: removed');
  t.ok(existsSync(join(cache, otherInstallation)), 'another installation (another path): kept');
});

t.test('kubectl-rollsafe starts the same way, with caches of its own', async (t) => {
  const cache = join(work, 'plugin');
  const plugin = (args: string[]) => start(join(DIST, 'kubectl-plugin.js'), args, cache);
  const help = plugin(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^kubectl rollsafe \d+\.\d+\.\d+: /);
  t.same(plugin(['--help']), help, 'the same from its cache');
  t.same(plugin(['audit', BAD]), cli(['audit', BAD], 'off'), 'a report is never renamed');
  t.ok(cacheFiles(cache).some((name) => name.endsWith('-kubectl-plugin-other.v8cache')));
});

t.test('without the bundle, the binaries run the compiled modules', async (t) => {
  // A copy of the package without dist/chunks/rollsafe.js (a tsc-only build).
  const copy = join(work, 'package');
  mkdirSync(copy);
  cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
  cpSync(DIST, join(copy, 'dist'), { recursive: true, filter: (source) => !source.endsWith(join('chunks', 'rollsafe.js')) });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const cache = join(work, 'no-bundle');
  for (const { args, input } of COMMANDS) {
    t.same(start(join(copy, 'dist', 'cli.js'), args, cache, input), cli(args, 'off', input), args.join(' '));
  }
  t.same(cacheFiles(cache), [], 'no code cache without the bundle');
  t.match(start(join(copy, 'dist', 'kubectl-plugin.js'), ['--help'], cache).stdout, /^kubectl rollsafe /);
});

t.test('standard output: a pipe that would block (EAGAIN) still gets every byte, in order', { skip: process.platform !== 'linux' && 'needs mkfifo and O_NONBLOCK' }, async (t) => {
  // More than a pipe holds (64 KiB), written to a FIFO opened non-blocking, read only once the writer has hit EAGAIN.
  const manifests = join(work, 'many.yaml');
  writeFileSync(manifests, Array.from({ length: 300 }, () => readFileSync(BAD, 'utf8')).join('---\n'));
  const expected = cli(['audit', manifests], 'off');
  t.ok(expected.stdout.length > 200_000, `${expected.stdout.length} bytes of report`);
  const fifo = join(work, 'fifo');
  spawnSync('mkfifo', [fifo]);
  const { openSync, closeSync, readSync, constants } = await import('node:fs');
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const { spawn } = await import('node:child_process');
  // Through fd 3 and a shell's redirection: Node (libuv) makes a child's fds 0 to 2 blocking, not the others.
  const child = spawn('sh', ['-c', 'exec "$0" "$@" >&3 3>&-', process.execPath, join(DIST, 'cli.js'), 'audit', manifests], {
    stdio: ['ignore', 'ignore', 'pipe', writer],
    env: { ...process.env, ROLLSAFE_COMPILE_CACHE: 'off', NO_COLOR: '1' },
  });
  closeSync(writer);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  for (let done = false; !done; ) {
    try {
      const read = readSync(reader, buffer);
      if (read === 0) done = true;
      else chunks.push(Buffer.from(buffer.subarray(0, read)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  closeSync(reader);
  t.equal(await exited, expected.code);
  t.equal(Buffer.concat(chunks).toString('utf8'), expected.stdout);
});
