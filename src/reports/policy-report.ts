import { stringify } from 'yaml';
import type { AuditResult } from '../audit/audit.js';
import { blocks, type Finding } from '../engine/engine.js';

const SEVERITY = { error: 'high', warning: 'medium', info: 'info' } as const;
export const POLICY_REPORT_NAME = 'rollsafe';

type ReportResult = 'pass' | 'fail' | 'warn' | 'error' | 'skip';

/** How a finding shows in a PolicyReport: enforced errors fail, anything else not exempt warns, exempt skips. */
function outcome(finding: Finding): ReportResult {
  if (finding.exempt) return 'skip';
  if (finding.severity === 'info') return 'pass';
  return blocks(finding) ? 'fail' : 'warn';
}

export interface PolicyReport {
  apiVersion: 'wgpolicyk8s.io/v1alpha2';
  kind: 'PolicyReport';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  summary: Record<ReportResult, number>;
  results: Array<Record<string, unknown>>;
}

/**
 * wgpolicyk8s.io/v1alpha2 PolicyReports, one per namespace, with one result per object and rule (a rule
 * without findings passes), as Kyverno and Kubewarden users read them. Workloads are namespaced, so there is
 * never a ClusterPolicyReport.
 */
export function policyReports(audit: AuditResult, now = new Date()): PolicyReport[] {
  const timestamp = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 };
  const reports = new Map<string, PolicyReport>();
  for (const { evaluation, source } of audit.results) {
    const namespace = evaluation.namespace;
    let report = reports.get(namespace);
    if (!report) {
      report = {
        apiVersion: 'wgpolicyk8s.io/v1alpha2',
        kind: 'PolicyReport',
        metadata: { name: POLICY_REPORT_NAME, namespace, labels: { 'app.kubernetes.io/managed-by': 'rollsafe' } },
        summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
        results: [],
      };
      reports.set(namespace, report);
    }
    const metadata = (source.object['metadata'] ?? {}) as Record<string, unknown>;
    const resource = {
      apiVersion: evaluation.ref.apiVersion,
      kind: evaluation.ref.kind,
      name: evaluation.ref.name,
      namespace,
      ...(typeof metadata['uid'] === 'string' ? { uid: metadata['uid'] } : {}),
    };
    const base = { source: 'rollsafe', policy: 'rollsafe', category: 'zero-downtime', scored: true, timestamp, resources: [resource] };
    const push = (result: ReportResult, entry: Record<string, unknown>) => {
      report.summary[result]++;
      report.results.push({ ...base, ...entry, result });
    };
    for (const outcomeOfRule of evaluation.rules) {
      const findings = evaluation.findings.filter((finding) => finding.rule === outcomeOfRule.rule);
      if (findings.length === 0) push('pass', { rule: outcomeOfRule.rule, severity: 'info', message: 'no finding', properties: { mode: outcomeOfRule.mode } });
      for (const finding of findings) {
        const properties: Record<string, string> = { mode: finding.mode };
        if (finding.container) properties['container'] = finding.container;
        if (finding.fix) properties['fix'] = finding.fix;
        if (finding.exempt) properties['exemptReason'] = finding.exempt.reason ?? '';
        push(outcome(finding), { rule: finding.rule, severity: SEVERITY[finding.severity], message: finding.message, properties });
      }
    }
    for (const finding of evaluation.findings.filter((f) => f.rule === 'exemption')) {
      push('warn', { rule: 'exemption', severity: 'medium', message: finding.message, properties: { mode: finding.mode } });
    }
  }
  return [...reports.values()];
}

export function policyReportText(reports: PolicyReport[]): string {
  // No anchors or aliases: shared objects (timestamp, resources) are written out each time, as consumers
  // (and the yaml library's own parser, by default) expect plain documents.
  return reports.map((report) => stringify(report, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
