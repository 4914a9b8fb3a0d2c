/**
 * rollsafe's own image, built here the way the Dockerfile's stages build it (the build stage's `dist/` and
 * production `node_modules`; a runtime with Node 20 and nothing else, entrypoint `node dist/cli.js serve`, user
 * 65532), without a registry: the machine's Node binary and the shared libraries `ldd` names stand in for the
 * distroless base.
 */
import { cpSync, mkdirSync, copyFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { TEST_DIR } from '../../test/helpers/fixtures.js';
import { ociArchive } from './images.js';

export const ROLLSAFE_IMAGE = 'rollsafe.local/rollsafe:e2e';
const REPO = join(TEST_DIR, '..');

/** The production dependency closure's top-level package folders (`npm prune --omit=dev` keeps these). */
function productionPackages(): string[] {
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO, encoding: 'utf8' }).split('\n').filter(Boolean);
  return [...new Set(listed.map((path) => relative(REPO, path)).filter((path) => /^node_modules\/(?:@[^/]+\/)?[^/]+$/.test(path)))];
}

export function buildRollsafeImage(workDir: string): string {
  const dir = join(workDir, 'rollsafe');
  const root = join(dir, 'rootfs');
  const node = process.execPath;
  mkdirSync(join(root, 'nodejs', 'bin'), { recursive: true });
  copyFileSync(node, join(root, 'nodejs', 'bin', 'node'));
  for (const line of execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n')) {
    const library = /(\/\S+) \(0x/.exec(line)?.[1];
    if (!library) continue;
    mkdirSync(join(root, dirname(library)), { recursive: true });
    copyFileSync(library, join(root, library));
  }
  mkdirSync(join(root, 'app'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  copyFileSync(join(REPO, 'package.json'), join(root, 'app', 'package.json'));
  cpSync(join(REPO, 'dist'), join(root, 'app', 'dist'), { recursive: true });
  for (const pkg of productionPackages()) cpSync(join(REPO, pkg), join(root, 'app', pkg), { recursive: true, dereference: true });
  return ociArchive(dir, ROLLSAFE_IMAGE, root, {
    Entrypoint: ['/nodejs/bin/node', 'dist/cli.js', 'serve'],
    Env: ['NODE_ENV=production'],
    WorkingDir: '/app',
    User: '65532:65532',
  });
}
