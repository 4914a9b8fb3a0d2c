import type { AuditResult } from '../audit/audit.js';
import { REPORT_NAME, reportLabels, reportsYaml, resultsByNamespace, type ReportEntry, type ReportSummary } from './report-results.js';

/**
 * An OpenReports `Report` (openreports.io/v1alpha1, github.com/openreports/reports-api), the successor of the
 * Policy WG's PolicyReport that Kyverno and Policy Reporter moved to. Its results are the PolicyReport's, field
 * for field; the report adds `source` (the engine that owns the whole report).
 */
export interface OpenReport {
  apiVersion: 'openreports.io/v1alpha1';
  kind: 'Report';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  source: 'rollsafe';
  summary: ReportSummary;
  results: ReportEntry[];
}

/**
 * One `Report` per namespace (name `rollsafe`), with the same results as the PolicyReport output. Workloads are
 * namespaced, so there is never a `ClusterReport`, and no `scope`: a report covers every workload of its namespace.
 */
export function openReports(audit: AuditResult, now = new Date()): OpenReport[] {
  return resultsByNamespace(audit, now).map(({ namespace, summary, results }) => ({
    apiVersion: 'openreports.io/v1alpha1',
    kind: 'Report',
    metadata: { name: REPORT_NAME, namespace, labels: reportLabels() },
    source: 'rollsafe',
    summary,
    results,
  }));
}

export function openReportsText(reports: OpenReport[]): string {
  return reportsYaml(reports);
}
