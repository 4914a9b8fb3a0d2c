import { parseArgs } from 'node:util';
import { loadPolicyFile } from '../policy/load.js';
import { defaultPolicyDocument } from '../policy/default-document.js';
import { UsageError, type Io } from './io.js';

/** `rollsafe policy --print-default` and `rollsafe policy --check FILE`. */
export function policyCommand(args: string[], io: Io): number {
  const { values } = parseArgs({ args, options: { 'print-default': { type: 'boolean' }, check: { type: 'string' } } });
  if (values['print-default']) {
    io.stdout.write(defaultPolicyDocument());
    return 0;
  }
  if (values.check !== undefined) {
    loadPolicyFile(values.check);
    io.stdout.write(`${values.check}: valid policy\n`);
    return 0;
  }
  throw new UsageError('policy needs --print-default or --check FILE');
}
