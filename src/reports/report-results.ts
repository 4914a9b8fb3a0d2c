import { stringify } from 'yaml';
import type { AuditResult } from '../audit/audit.js';
import { blocks, type Finding } from '../engine/engine.js';

/**
 * What the wgpolicyk8s.io PolicyReport and the OpenReports Report have in common: one result per object and rule,
 * grouped by namespace, and the counts. Both APIs took their results from the Policy WG's, field for field
 * (openreports/reports-api `ReportResult`), so the mapping from findings lives here once; each API's module
 * only wraps it in its own apiVersion and kind.
 */

/** The name of rollsafe's report in each namespace, whichever API it is written to. */
export const REPORT_NAME = 'rollsafe';

export type ReportResult = 'pass' | 'fail' | 'warn' | 'error' | 'skip';
export type ReportSeverity = 'high' | 'medium' | 'info';
export type ReportSummary = Record<ReportResult, number>;

/** A corev1.ObjectReference to the workload a result is about. */
export interface ResourceReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

/** One result; the key order is the order in which the YAML prints them. */
export interface ReportEntry {
  source: 'rollsafe';
  policy: 'rollsafe';
  category: 'zero-downtime';
  scored: true;
  timestamp: { seconds: number; nanos: number };
  resources: ResourceReference[];
  rule: string;
  severity: ReportSeverity;
  message: string;
  properties: Record<string, string>;
  result: ReportResult;
}

/** The results of one namespace: what a namespaced report holds. */
export interface NamespaceResults {
  namespace: string;
  summary: ReportSummary;
  results: ReportEntry[];
}

const SEVERITY = { error: 'high', warning: 'medium', info: 'info' } as const;

/** How a finding shows in a report: enforced errors fail, anything else not exempt warns, exempt skips. */
function outcome(finding: Finding): ReportResult {
  if (finding.exempt) return 'skip';
  if (finding.severity === 'info') return 'pass';
  return blocks(finding) ? 'fail' : 'warn';
}

/** Labels every rollsafe report carries (a fresh object each time: reports are data the caller may change). */
export function reportLabels(): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': 'rollsafe' };
}

/**
 * The audit's results by namespace, in the order the namespaces first appear: one result per object and rule
 * (a rule without findings passes, info findings pass, exempt ones skip), then one `warn` per exemption problem.
 * Workloads are namespaced, so every result has a namespace and there is never a cluster-wide report.
 */
export function resultsByNamespace(audit: AuditResult, now = new Date()): NamespaceResults[] {
  const timestamp = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 };
  const groups = new Map<string, NamespaceResults>();
  for (const { evaluation, source } of audit.results) {
    const namespace = evaluation.namespace;
    let group = groups.get(namespace);
    if (!group) {
      group = { namespace, summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 }, results: [] };
      groups.set(namespace, group);
    }
    const metadata = (source.object['metadata'] ?? {}) as Record<string, unknown>;
    const resource: ResourceReference = {
      apiVersion: evaluation.ref.apiVersion,
      kind: evaluation.ref.kind,
      name: evaluation.ref.name,
      namespace,
      ...(typeof metadata['uid'] === 'string' ? { uid: metadata['uid'] } : {}),
    };
    const base: Omit<ReportEntry, 'rule' | 'severity' | 'message' | 'properties' | 'result'> = { source: 'rollsafe', policy: 'rollsafe', category: 'zero-downtime', scored: true, timestamp, resources: [resource] };
    const push = (result: ReportResult, entry: Pick<ReportEntry, 'rule' | 'severity' | 'message' | 'properties'>) => {
      group.summary[result]++;
      group.results.push({ ...base, ...entry, result });
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
  return [...groups.values()];
}

/** Reports as a `---`-separated YAML stream. */
export function reportsYaml(reports: readonly object[]): string {
  // No anchors or aliases: shared objects (timestamp, resources) are written out each time, as consumers
  // (and the yaml library's own parser, by default) expect plain documents.
  return reports.map((report) => stringify(report, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
