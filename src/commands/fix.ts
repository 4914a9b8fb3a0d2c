import { isAbsolute, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { auditFiles } from '../audit/audit.js';
import { ALL_ACTIVE_MODES } from '../engine/engine.js';
import { collectInputs, emptyInputError, skippedNote } from '../manifests/collect.js';
import { fixedTexts } from '../manifests/fix-files.js';
import { unifiedDiffHunks } from '../manifests/unified-diff.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UsageError, type Io } from './io.js';
import { POLICY_OPTIONS, policyFromFlags } from './load-policy.js';

function describeError(error: { file: string; line?: number; column?: number; document?: number; message: string }): string {
  const where = [error.file, error.line, error.column].filter((part) => part !== undefined).join(':');
  return `rollsafe: ${where}${error.document !== undefined ? ` (document ${error.document})` : ''}: ${error.message}\n`;
}

/**
 * `rollsafe fix`: applies every fix of every active rule. Standard output gets nothing when any input is
 * unreadable (a pipe into kubectl must not apply half a set); --in-place writes each good file atomically.
 */
/**
 * A file's text as the next part of one stream. One that starts with its own `---` needs no separator (two
 * would make an empty document); one that starts with a directive (`%YAML 1.2`) may only follow a document
 * ended by `...`.
 */
/** A file after the first in one output stream: its own byte-order mark would land mid-stream, so it goes. */
function separated(withMark: string): string {
  const text = withMark.startsWith('\uFEFF') ? withMark.slice(1) : withMark;
  if (/^(?:[ \t]*(?:#[^\n]*)?\r?\n)*%/.test(text)) return `...\n${text}`;
  return /^---(\s|$)/.test(text) ? text : `---\n${text}`;
}

export function fixCommand(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...POLICY_OPTIONS,
      'in-place': { type: 'boolean', short: 'i' },
      diff: { type: 'boolean' },
      'allow-empty': { type: 'boolean' },
    },
  });
  if (positionals.length === 0) throw new UsageError('fix needs at least one file, directory, or - for standard input');
  const inPlace = values['in-place'] === true;
  const diff = values.diff === true;
  if (inPlace && positionals.includes('-')) throw new UsageError('--in-place cannot write back to standard input');
  if (inPlace && diff) throw new UsageError('use --diff or --in-place, not both');
  const policy = policyFromFlags({ policy: values.policy, kubernetesVersion: values['kubernetes-version'], disable: values.disable });
  const inputs = collectInputs(positionals, io.readStdin);
  for (const directory of inputs.skippedDirectories) io.stderr.write(skippedNote(directory));
  const audit = auditFiles(inputs.files, policy, { fixModes: ALL_ACTIVE_MODES });
  const empty = values['allow-empty'] ? undefined : emptyInputError(inputs, positionals);
  const errors = [...inputs.errors, ...audit.inputErrors, ...(empty ? [empty] : [])];
  for (const error of errors) io.stderr.write(describeError(error));

  const results = fixedTexts(inputs.files, audit);
  const broken = new Set(errors.map((error) => error.file));
  // The summary counts what was written: nothing on standard output when an input is unreadable, and with
  // --in-place only the files that were rewritten.
  const written = new Set<string>();
  if (diff) {
    // A unified diff per changed file (git apply / patch -p1 read it); nothing is written.
    for (const { file, text, edits } of results) {
      if (edits === 0 || broken.has(file.file)) continue;
      // Names relative to the working directory, as git apply and patch -p1 expect, each ended by a tab (as
      // diff -u writes them) so that a name with spaces still applies.
      const relativeName = relative(process.cwd(), file.file);
      const name = file.file === '-' ? 'stdin' : relativeName.startsWith('..') || isAbsolute(relativeName) ? file.file.replace(/^\/+/, '') : relativeName;
      // Compared one document at a time: one call over the whole file was quadratic (issue 29).
      io.stdout.write(`--- a/${name}\t\n+++ b/${name}\t\n${unifiedDiffHunks(file.text, text)}`);
    }
  } else if (inPlace) {
    for (const { file, text, edits } of results) {
      if (edits === 0 || broken.has(file.file)) continue;
      writeFileAtomic(file.file, text);
      written.add(file.file);
      io.stderr.write(`rollsafe: fixed ${edits} object(s) in ${file.file}\n`);
    }
  } else if (errors.length === 0) {
    // Several inputs become one YAML stream (JSON documents are YAML too), as kubectl apply -f - reads it.
    const texts = results.map(({ text }) => (text.endsWith('\n') || text === '' ? text : `${text}\n`));
    io.stdout.write(texts.map((text, index) => (index === 0 ? text : separated(text))).join(''));
    for (const { file } of results) written.add(file.file);
  }
  // --diff writes nothing: its summary says what the diff would apply.
  if (diff) for (const { file, edits } of results) if (edits > 0 && !broken.has(file.file)) written.add(file.file);
  let applied = 0;
  let manual = 0;
  for (const { source, evaluation } of audit.results) {
    if (written.has(source.file)) applied += evaluation.applied.length;
    manual += evaluation.findings.filter((f) => !f.fix && !f.exempt && f.severity !== 'info').length;
  }
  const skipped = errors.length === 0 ? '' : inPlace ? '; unreadable files were left as they are' : diff ? '; unreadable files are not in the diff' : '; nothing written because an input is unreadable';
  io.stderr.write(
    `rollsafe: ${diff ? 'the diff applies' : 'applied'} ${applied} fix(es)${skipped}${manual > 0 ? `; ${manual} finding(s) need a human, see \`rollsafe audit\`` : ''}\n`,
  );
  return errors.length > 0 ? 2 : 0;
}
