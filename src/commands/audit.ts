import { parseArgs } from 'node:util';
import { auditFiles, exitCode, type AuditResult, type FailOn } from '../audit/audit.js';
import type { ReportsApi } from '../cluster/apply-reports.js';
import { collectInputs, emptyInputError, skippedNote } from '../manifests/collect.js';
import type { Policy } from '../policy/types.js';
import { oneOf, UsageError, type Io } from './io.js';
import { CLUSTER_OPTIONS, POLICY_OPTIONS, policyFromFlags } from './load-policy.js';

const OUTPUTS = ['text', 'json', 'sarif', 'junit', 'policyreport', 'openreports', 'compact', 'github'] as const;
const FAIL_ON = ['error', 'warning', 'never'] as const;
const REPORTS_APIS = ['policyreport', 'openreports'] as const satisfies readonly ReportsApi[];
const CLUSTER_ONLY = ['kubeconfig', 'context', 'namespace', 'all-namespaces', 'apply-reports', 'reports-api', 'fix-preview', 'request-timeout'] as const;

export function useColor(io: Io): boolean {
  const noColor = io.env['NO_COLOR'];
  return io.stdout.isTTY === true && (noColor === undefined || noColor === '');
}

/** Renders the report; each format's module is loaded only when asked for (cold start of `audit`). */
async function render(audit: AuditResult, output: (typeof OUTPUTS)[number], failOn: FailOn, io: Io): Promise<string> {
  switch (output) {
    case 'text':
      return (await import('../reports/text.js')).textReport(audit, { color: useColor(io), failOn });
    case 'json':
      return (await import('../reports/json.js')).jsonReport(audit);
    case 'sarif':
      return (await import('../reports/sarif.js')).sarifReport(audit);
    case 'junit':
      return (await import('../reports/junit.js')).junitReport(audit, failOn);
    case 'policyreport': {
      const { policyReports, policyReportText } = await import('../reports/policy-report.js');
      return policyReportText(policyReports(audit));
    }
    case 'openreports': {
      const { openReports, openReportsText } = await import('../reports/openreports.js');
      return openReportsText(openReports(audit));
    }
    case 'compact':
      return (await import('../reports/compact.js')).compactReport(audit);
    case 'github':
      return (await import('../reports/compact.js')).githubReport(audit, failOn);
  }
}

function reportInputErrors(audit: AuditResult, io: Io): void {
  for (const error of audit.inputErrors) {
    io.stderr.write(`rollsafe: ${[error.file, error.line, error.column].filter((p) => p !== undefined).join(':')}: ${error.message}\n`);
  }
}

export async function auditCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...POLICY_OPTIONS,
      output: { type: 'string', short: 'o' },
      'fail-on': { type: 'string' },
      cluster: { type: 'boolean' },
      ...CLUSTER_OPTIONS,
      'apply-reports': { type: 'boolean' },
      'reports-api': { type: 'string' },
      'fix-preview': { type: 'boolean' },
      'request-timeout': { type: 'string' },
      'allow-empty': { type: 'boolean' },
    },
  });
  const output = oneOf(values.output, OUTPUTS, '--output', 'text');
  const failOn: FailOn = oneOf(values['fail-on'], FAIL_ON, '--fail-on', 'error');
  const policy = policyFromFlags({ policy: values.policy, kubernetesVersion: values['kubernetes-version'], disable: values.disable });
  if (values.cluster) return auditClusterCommand(values, positionals, policy, output, failOn, io);
  const stray = CLUSTER_ONLY.find((flag) => values[flag] !== undefined);
  if (stray) throw new UsageError(`--${stray} needs --cluster`);
  if (positionals.length === 0) throw new UsageError('audit needs at least one file, directory, or - for standard input (or --cluster)');
  const inputs = collectInputs(positionals, io.readStdin);
  for (const directory of inputs.skippedDirectories) io.stderr.write(skippedNote(directory));
  const audit = auditFiles(inputs.files, policy);
  audit.inputErrors.unshift(...inputs.errors);
  const empty = values['allow-empty'] ? undefined : emptyInputError(inputs, positionals);
  if (empty) audit.inputErrors.push(empty);
  io.stdout.write(await render(audit, output, failOn, io));
  if (output !== 'text') reportInputErrors(audit, io);
  return exitCode(audit, failOn);
}

async function auditClusterCommand(
  values: { kubeconfig?: string; context?: string; namespace?: string[]; 'all-namespaces'?: boolean; 'apply-reports'?: boolean; 'reports-api'?: string; 'fix-preview'?: boolean; 'request-timeout'?: string },
  positionals: string[],
  policy: Policy,
  output: (typeof OUTPUTS)[number],
  failOn: FailOn,
  io: Io,
): Promise<number> {
  if (positionals.length > 0) throw new UsageError('--cluster audits the live cluster: give no paths');
  if (values['all-namespaces'] && values.namespace) throw new UsageError('use -A or -n, not both');
  if (values['reports-api'] !== undefined && !values['apply-reports']) throw new UsageError('--reports-api needs --apply-reports');
  // The API written follows the printed format when that is a report API: `-o openreports --apply-reports`
  // must not print Reports and write PolicyReports. Otherwise PolicyReports, as before the flag existed.
  const reportsApi: ReportsApi = oneOf(values['reports-api'], REPORTS_APIS, '--reports-api', output === 'openreports' ? 'openreports' : 'policyreport');
  const timeout = values['request-timeout'];
  const timeoutSeconds = timeout === undefined ? undefined : Number(timeout);
  if (timeoutSeconds !== undefined && !(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 && timeoutSeconds <= 3600)) {
    throw new UsageError(`--request-timeout must be a number of seconds between 0 and 3600 (got "${String(timeout).slice(0, 20)}")`);
  }
  // Loaded only here: the file audit never pays for the Kubernetes client.
  const { connect, ClusterError } = await import('../cluster/api.js');
  const { auditCluster } = await import('../cluster/audit-cluster.js');
  const progress = io.stderr.isTTY ? (text: string) => io.stderr.write(`\r\u001b[Krollsafe: ${text}`) : undefined;
  let client: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    client = await connect({
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      ...(values.context ? { context: values.context } : {}),
      ...(timeoutSeconds !== undefined ? { requestTimeoutMs: timeoutSeconds * 1000 } : {}),
    });
    const namespaces = values['all-namespaces'] ? 'all' : (values.namespace ?? [client.namespace]);
    const warn = (text: string) => io.stderr.write(`${progress ? '\n' : ''}rollsafe: ${text}\n`);
    const audit = await auditCluster(client, { namespaces, policy, fixPreview: values['fix-preview'] === true, warn, ...(progress ? { progress } : {}) });
    if (progress) io.stderr.write('\n');
    if (values['fix-preview']) {
      io.stdout.write(
        output === 'json'
          ? `${JSON.stringify(audit.previews, null, 2)}\n`
          : audit.previews.map((preview) => `# ${preview.kind} ${preview.namespace}/${preview.name}\n${JSON.stringify(preview.patch, null, 2)}\n`).join(''),
      );
    } else {
      io.stdout.write(await render(audit, output, failOn, io));
    }
    reportInputErrors(audit, io);
    if (values['apply-reports']) {
      const { applyReports } = await import('../cluster/apply-reports.js');
      const failures = await applyReports(client, audit, reportsApi, (line) => io.stderr.write(`rollsafe: ${line}\n`));
      if (failures > 0) return 2;
    }
    return exitCode(audit, failOn);
  } catch (error) {
    if (error instanceof ClusterError) {
      io.stderr.write(`rollsafe: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    client?.close();
  }
}
