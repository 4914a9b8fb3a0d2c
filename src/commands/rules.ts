import { parseArgs } from 'node:util';
import { RULE_DOCS } from '../reports/rule-docs.js';
import { oneOf, type Io } from './io.js';

export function rulesCommand(args: string[], io: Io): number {
  const { values } = parseArgs({ args, options: { output: { type: 'string', short: 'o' } } });
  const output = oneOf(values.output, ['text', 'json'] as const, '--output', 'text');
  const rules = RULE_DOCS.filter((doc) => doc.id !== 'exemption');
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify(rules.map((doc) => ({ ...doc, defaultMode: 'enforce' })), null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...rules.map((doc) => doc.id.length));
  io.stdout.write(`${'RULE'.padEnd(width)}  SEVERITY  FIXABLE  WHAT\n`);
  for (const doc of rules) {
    io.stdout.write(`${doc.id.padEnd(width)}  ${doc.defaultSeverity.padEnd(8)}  ${(doc.fixable ? 'yes' : 'no').padEnd(7)}  ${doc.summary}\n`);
  }
  return 0;
}
