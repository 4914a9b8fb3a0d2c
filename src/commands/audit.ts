import { parseArgs } from 'node:util';
import { auditFiles, exitCode, type FailOn } from '../audit/audit.js';
import { collectInputs } from '../manifests/collect.js';
import { jsonReport } from '../reports/json.js';
import { junitReport } from '../reports/junit.js';
import { sarifReport } from '../reports/sarif.js';
import { textReport } from '../reports/text.js';
import { oneOf, UsageError, type Io } from './io.js';
import { policyFromFlag } from './load-policy.js';

const OUTPUTS = ['text', 'json', 'sarif', 'junit'] as const;
const FAIL_ON = ['error', 'warning', 'never'] as const;

export function useColor(io: Io): boolean {
  const noColor = io.env['NO_COLOR'];
  return io.stdout.isTTY === true && (noColor === undefined || noColor === '');
}

export function auditCommand(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      output: { type: 'string', short: 'o' },
      'fail-on': { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new UsageError('audit needs at least one file, directory, or - for standard input');
  const output = oneOf(values.output, OUTPUTS, '--output', 'text');
  const failOn: FailOn = oneOf(values['fail-on'], FAIL_ON, '--fail-on', 'error');
  const policy = policyFromFlag(values.policy);
  const inputs = collectInputs(positionals, io.readStdin);
  const audit = auditFiles(inputs.files, policy);
  audit.inputErrors.unshift(...inputs.errors);
  const report = {
    text: () => textReport(audit, { color: useColor(io), failOn }),
    json: () => jsonReport(audit),
    sarif: () => sarifReport(audit),
    junit: () => junitReport(audit, failOn),
  }[output]();
  io.stdout.write(report);
  if (output !== 'text') {
    for (const error of audit.inputErrors) {
      io.stderr.write(`rollsafe: ${[error.file, error.line, error.column].filter((p) => p !== undefined).join(':')}: ${error.message}\n`);
    }
  }
  return exitCode(audit, failOn);
}
