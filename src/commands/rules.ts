import { parseArgs } from 'node:util';
import { RULE_DOCS } from '../reports/rule-docs.js';
import { isRuleId } from '../rules/index.js';
import { unknownRule } from './load-policy.js';
import { oneOf, UsageError, type Io } from './io.js';

const listed = ({ why: _why, checks: _checks, example: _example, ...metadata }: (typeof RULE_DOCS)[number]) => metadata;

/** `rollsafe rules` lists the rules; `rollsafe rules ID` explains one, with a manifest that passes it. */
export function rulesCommand(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
  const output = oneOf(values.output, ['text', 'json'] as const, '--output', 'text');
  if (positionals.length > 1) throw new UsageError('rules takes at most one rule id');
  const [id] = positionals;
  if (id !== undefined) {
    if (!isRuleId(id)) throw new UsageError(unknownRule(id));
    const doc = RULE_DOCS.find((candidate) => candidate.id === id)!;
    if (output === 'json') {
      io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(
      `${id}: ${doc.summary}\n` +
        `Default: ${doc.defaultSeverity}, ${doc.defaultMode}; ${doc.fixable ? 'fixable (rollsafe fix, and the mutating webhook in enforce mode)' : 'not fixable'}.\n\n` +
        `Why: ${doc.why}\n\nChecks: ${doc.checks}\n\n` +
        `A manifest that passes:\n\n${doc.example}\n` +
        `To exempt one workload (with a reason): annotations rollsafe.dev/exempt: "${id}" and rollsafe.dev/exempt-reason: "...".\n` +
        `To turn it off: rules: {${id}: {mode: off}} in the policy, or --disable ${id}.\n`,
    );
    return 0;
  }
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify(RULE_DOCS.map(listed), null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...RULE_DOCS.map((doc) => doc.id.length));
  io.stdout.write(`${'RULE'.padEnd(width)}  SEVERITY  FIXABLE  WHAT\n`);
  for (const doc of RULE_DOCS) {
    io.stdout.write(`${doc.id.padEnd(width)}  ${doc.defaultSeverity.padEnd(8)}  ${(doc.fixable ? 'yes' : 'no').padEnd(7)}  ${doc.summary}\n`);
  }
  io.stdout.write('\nrollsafe rules ID explains one, with a manifest that passes it.\n');
  return 0;
}
