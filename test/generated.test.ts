// What is derived from the rules' homes (src/rules/<id>/rule.ts) stays derived: committed copies are current,
// the README agrees with `rollsafe rules -o json`, and a rule id is spelled in its home and nowhere else in src/
// (the issue asked for at most the home and the registry; the registry needs no id either).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { generatedFiles } from '../scripts/generate.mjs';
import { runCli } from './helpers/run-cli.js';

const ROOT = new URL('..', import.meta.url).pathname;

t.test('generated files are current (npm run generate rewrites them)', async (t) => {
  for (const { path, content } of await generatedFiles()) {
    const committed = existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined;
    t.equal(committed, content, `${path} is stale: run npm run generate`);
  }
});

t.test('the README rules table agrees with rollsafe rules -o json', async (t) => {
  const listed = JSON.parse((await runCli(['rules', '-o', 'json'])).stdout) as Array<{ id: string; defaultSeverity: string; fixable: boolean; defaultMode: string; summary: string }>;
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.split('<!-- rules:start -->\n')[1]?.split('\n<!-- rules:end -->')[0] ?? '';
  const rows = table.split('\n').slice(2).map((line) => line.split(' | '));
  t.same(
    rows.map(([id, severity, fixable]) => ({ id: id?.replace(/^\| `|`$/g, ''), defaultSeverity: severity, fixable: fixable === 'yes' })),
    listed.map(({ id, defaultSeverity, fixable }) => ({ id, defaultSeverity, fixable })),
  );
  t.ok(listed.length >= 9 && listed.every((rule) => rule.defaultMode === 'enforce' && rule.summary.length > 20));
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

t.test('a rule id is spelled only in its home', async (t) => {
  const listed = JSON.parse((await runCli(['rules', '-o', 'json'])).stdout) as Array<{ id: string }>;
  // Comments may name rules; code and the texts users read name another rule through its descriptor.
  const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const files = sourceFiles(join(ROOT, 'src')).map((path) => ({ path: path.slice(ROOT.length), text: withoutComments(readFileSync(path, 'utf8')) }));
  for (const { id } of listed) {
    // Import paths name the folder (src/rules/<id>/): a path, not the id.
    const spelled = files.filter(({ text }) => new RegExp(`(?<![/\\w-])${id}(?![/\\w-])`).test(text)).map(({ path }) => path);
    t.same(spelled, [`src/rules/${id}/rule.ts`], id);
  }
});

t.test('every rule and export module loads on its own: no import cycle depends on which module comes first', async (t) => {
  const dist = join(ROOT, 'dist');
  const modules = [...sourceFiles(join(ROOT, 'src', 'rules')), ...sourceFiles(join(ROOT, 'src', 'export'))].map((path) => path.slice(join(ROOT, 'src').length + 1).replace(/\.ts$/, '.js'));
  t.ok(modules.length > 20);
  // One process per module (ESM caches a module, so only a fresh process shows which one loads first), two at a
  // time: the machines have two cores.
  const { execFile } = await import('node:child_process');
  const load = (module: string) =>
    new Promise<string | undefined>((resolve) => {
      execFile(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(join(dist, module))})`], (error, _stdout, stderr) => {
        resolve(error ? `${module}: ${stderr.split('\n').find((line) => /Error/.test(line)) ?? stderr}` : undefined);
      });
    });
  const failures: string[] = [];
  for (let start = 0; start < modules.length; start += 2) {
    for (const failure of await Promise.all(modules.slice(start, start + 2).map(load))) if (failure) failures.push(failure);
  }
  t.same(failures, [], 'each module, first in its own process');
});
