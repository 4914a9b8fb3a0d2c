import type { AuditResult } from '../audit/audit.js';
import { REPORT_NAME, reportLabels, reportsYaml, resultsByNamespace, type ReportEntry, type ReportSummary } from './report-results.js';

export const POLICY_REPORT_NAME = REPORT_NAME;

export interface PolicyReport {
  apiVersion: 'wgpolicyk8s.io/v1alpha2';
  kind: 'PolicyReport';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  summary: ReportSummary;
  results: ReportEntry[];
}

/**
 * wgpolicyk8s.io/v1alpha2 PolicyReports, one per namespace, with one result per object and rule (a rule
 * without findings passes), as Kyverno and Kubewarden users read them. Workloads are namespaced, so there is
 * never a ClusterPolicyReport.
 */
export function policyReports(audit: AuditResult, now = new Date()): PolicyReport[] {
  return resultsByNamespace(audit, now).map(({ namespace, summary, results }) => ({
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: 'PolicyReport',
    metadata: { name: POLICY_REPORT_NAME, namespace, labels: reportLabels() },
    summary,
    results,
  }));
}

export function policyReportText(reports: PolicyReport[]): string {
  return reportsYaml(reports);
}
