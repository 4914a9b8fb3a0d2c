import { parseArgs } from 'node:util';
import { RULE_IDS, type RuleId } from '../policy/types.js';
import { RULE_EXPLANATIONS } from '../reports/rule-explanations.js';
import { RULE_DOCS } from '../reports/rule-docs.js';
import { suggestion } from '../util/did-you-mean.js';
import { oneOf, UsageError, type Io } from './io.js';

/** `rollsafe rules` lists the rules; `rollsafe rules ID` explains one, with a manifest that passes it. */
export function rulesCommand(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
  const output = oneOf(values.output, ['text', 'json'] as const, '--output', 'text');
  const rules = RULE_DOCS.filter((doc) => doc.id !== 'exemption');
  if (positionals.length > 1) throw new UsageError('rules takes at most one rule id');
  const [id] = positionals;
  if (id !== undefined) {
    if (!(RULE_IDS as readonly string[]).includes(id)) throw new UsageError(`unknown rule "${id}"${suggestion(id, RULE_IDS)}; rules: ${RULE_IDS.join(', ')}`);
    const doc = rules.find((candidate) => candidate.id === id)!;
    const explanation = RULE_EXPLANATIONS[id as RuleId];
    if (output === 'json') {
      io.stdout.write(`${JSON.stringify({ ...doc, defaultMode: 'enforce', ...explanation }, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(
      `${id}: ${doc.summary}\n` +
        `Default: ${doc.defaultSeverity}, enforce; ${doc.fixable ? 'fixable (rollsafe fix, and the mutating webhook in enforce mode)' : 'not fixable'}.\n\n` +
        `Why: ${explanation.why}\n\nChecks: ${explanation.checks}\n\n` +
        `A manifest that passes:\n\n${explanation.example}\n` +
        `To exempt one workload (with a reason): annotations rollsafe.dev/exempt: "${id}" and rollsafe.dev/exempt-reason: "...".\n` +
        `To turn it off: rules: {${id}: {mode: off}} in the policy, or --disable ${id}.\n`,
    );
    return 0;
  }
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify(rules.map((doc) => ({ ...doc, defaultMode: 'enforce' })), null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...rules.map((doc) => doc.id.length));
  io.stdout.write(`${'RULE'.padEnd(width)}  SEVERITY  FIXABLE  WHAT\n`);
  for (const doc of rules) {
    io.stdout.write(`${doc.id.padEnd(width)}  ${doc.defaultSeverity.padEnd(8)}  ${(doc.fixable ? 'yes' : 'no').padEnd(7)}  ${doc.summary}\n`);
  }
  io.stdout.write('\nrollsafe rules ID explains one, with a manifest that passes it.\n');
  return 0;
}
