/**
 * How the `rollsafe` and `kubectl-rollsafe` binaries start (issue 27: a CLI as quick as a Go binary on everyday
 * inputs). `npm run build` bundles the program (src/main.ts and all it imports, but its npm dependencies) into
 * one script, dist/chunks/rollsafe.js; this runs it, with V8's code cache:
 *
 * - One script, loaded at once: Node's ES module loader costs about 1 ms a module (resolution, asynchronous
 *   reads, linking) and waits for each dynamic import's files in turn; a process that audits one file spent
 *   more time there than in rollsafe. Dependencies (`yaml`, `ajv`, the cluster client, fastify...) are still
 *   required where the code imports them, lazily as before.
 * - A code cache: V8 compiles each function the first time it runs, which, for the few hundred functions of an
 *   audit, is much of a short process's time. After a run, the compiled code goes to
 *   $XDG_CACHE_HOME/rollsafe/compile-cache (~/.cache/...), one file per build, Node version and command, and
 *   the next run of that command starts from it (as Node 22's module.enableCompileCache does; this works on
 *   Node 20 too). V8 checks a cache against its own version and flags and ignores one that does not fit; a file
 *   is keyed by the script's inode, size and change time, so a reinstalled or rebuilt script never meets the
 *   code of another. ROLLSAFE_COMPILE_CACHE=off turns it off, ROLLSAFE_COMPILE_CACHE=DIR moves it; a cache that
 *   cannot be written (a read-only home) is simply not kept. Never an error: at worst a run compiles as usual.
 *
 * Without the bundle (a tsc-only build), or on a Node without require(esm) (22.0 to 22.11: the bundle requires
 * the ES-module-only cluster client), the binaries import the compiled modules instead (dist/main.js).
 */
import type { BigIntStats } from 'node:fs';
import type { Script as ScriptType } from 'node:vm';
import type { Entry, run as Run } from '../main.js';

/**
 * The built-in modules this needs, by process.getBuiltinModule (Node 20.16, 22.3): `import` statements would
 * take the ES module loader through each of them first, a millisecond or two of every run.
 */
const builtin = <T>(id: string): Promise<T> | T => (process.getBuiltinModule?.(id) as T | undefined) ?? (import(id) as Promise<T>);
const { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = await builtin<typeof import('node:fs')>('node:fs');
const { createRequire } = await builtin<typeof import('node:module')>('node:module');
const { dirname, join } = await builtin<typeof import('node:path')>('node:path');
const { fileURLToPath } = await builtin<typeof import('node:url')>('node:url');
const { Script } = await builtin<typeof import('node:vm')>('node:vm');

/** The bundle's path from the binaries (dist/cli.js, dist/kubectl-plugin.js). */
const BUNDLE = './chunks/rollsafe.js';
const CACHE_SUFFIX = '.v8cache';

/** Runs the command line of this process as `entry`, and sets its exit code. `binary` is the binary's import.meta.url. */
export async function launch(entry: Entry, binary: string): Promise<void> {
  const argv = process.argv.slice(2);
  const run = bundled(new URL(BUNDLE, binary), entry, argv[0]) ?? ((await import(new URL('./main.js', binary).href)) as { run: typeof Run }).run;
  process.exitCode = await run(entry, argv);
}

/** The bundle's run(), compiled from the code cache when there is one; undefined to use the compiled modules. */
function bundled(url: URL, entry: Entry, command: string | undefined): typeof Run | undefined {
  if ((process.features as { require_module?: boolean }).require_module !== true) return undefined;
  const path = fileURLToPath(url);
  let source: string;
  let stats: BigIntStats;
  try {
    source = readFileSync(path, 'utf8');
    stats = statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
  const cache = cacheFile(path, stats, entry, command);
  let cachedData: Buffer | undefined;
  if (cache) {
    try {
      cachedData = readFileSync(cache.file);
    } catch {
      // none yet
    }
  }
  const script = new Script(source, { filename: path, ...(cachedData ? { cachedData } : {}) });
  if (cache && (!cachedData || script.cachedDataRejected === true)) process.once('exit', () => saveCache(script, cache));
  // The bundle is one function expression (esbuild's banner and footer, see package.json's build script).
  const factory = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string, importMetaUrl: string) => void;
  const module = { exports: {} as { run?: typeof Run } };
  factory(module.exports, createRequire(path), module, path, dirname(path), url.href);
  return module.exports.run;
}

interface CacheFile {
  dir: string;
  file: string;
  /** Every file of this installation of rollsafe starts so (its other builds' too), */
  installation: string;
  /** and every file of this build of it so. */
  build: string;
}

/** Where this script's code cache for this command is, or undefined when caching is off or has no safe folder. */
function cacheFile(path: string, stats: BigIntStats, entry: Entry, command: string | undefined): CacheFile | undefined {
  const setting = process.env['ROLLSAFE_COMPILE_CACHE'];
  if (setting === 'off' || setting === '0' || setting === 'false') return undefined;
  const base = process.env['XDG_CACHE_HOME'] || (process.env['HOME'] ? join(process.env['HOME'], '.cache') : process.env['LOCALAPPDATA']);
  const dir = setting || (base ? join(base, 'rollsafe', 'compile-cache') : undefined);
  if (!dir || !safeFolder(dir)) return undefined;
  // This installation (installations share the folder), then this build of it: the file's identity, which
  // changes whenever it is written again (its change time cannot be set back, as npm sets modification times).
  const installation = `${pathHash(path)}-`;
  const build = `${installation}${stats.dev}-${stats.ino}-${stats.size}-${stats.ctimeNs}-`;
  // A cache holds the functions its run compiled: one per command, so that `fix` does not start from `audit`'s.
  const name = command !== undefined && /^[a-z]{1,16}$/.test(command) ? command : 'other';
  return { dir, installation, build, file: join(dir, `${build}${process.version}-${process.arch}-${entry}-${name}${CACHE_SUFFIX}`) };
}

/** A short name for a path (FNV-1a): what tells installations apart in the shared folder. */
function pathHash(path: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < path.length; index++) hash = Math.imul(hash ^ path.charCodeAt(index), 0x01000193);
  return (hash >>> 0).toString(36);
}

/**
 * Whether compiled code may be read from `dir`: it is this user's and nobody else can write to it (a code
 * cache is code). A missing folder is safe: saveCache creates it so.
 */
function safeFolder(dir: string): boolean {
  try {
    const stats = statSync(dir);
    const uid = process.getuid?.();
    // Owners and modes are POSIX's: on Windows the folder is the user's profile's (LOCALAPPDATA).
    return stats.isDirectory() && (uid === undefined || (stats.uid === uid && (stats.mode & 0o022) === 0));
  } catch {
    return true;
  }
}

/** Writes the code this run compiled, atomically (runs of the same command may finish together); never throws. */
function saveCache(script: ScriptType, { dir, file, installation, build }: CacheFile): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!safeFolder(dir)) return;
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
    renameSync(partial, file);
    // The caches of this installation's other builds (before an upgrade, a rebuild) are of no more use.
    for (const name of readdirSync(dir)) {
      if (name.endsWith(CACHE_SUFFIX) && name.startsWith(installation) && !name.startsWith(build)) unlinkSync(join(dir, name));
    }
  } catch {
    // A code cache only saves time.
  }
}
