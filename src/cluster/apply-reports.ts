import type { AuditResult } from '../audit/audit.js';
import { openReports } from '../reports/openreports.js';
import { policyReports } from '../reports/policy-report.js';
import { REPORT_NAME } from '../reports/report-results.js';
import { asRecord, asString } from '../util/object.js';
import { ClusterError, type ApiClient } from './api.js';

/** Field manager of our server-side applies: stable, so re-runs update the same fields instead of conflicting. */
export const FIELD_MANAGER = 'rollsafe';

/** The report APIs `--apply-reports` can write (`--reports-api`). */
export type ReportsApi = 'policyreport' | 'openreports';

interface ReportsTarget {
  /** How log lines name a report of this API. */
  label: string;
  /** Names the API when its CRD is missing. */
  api: string;
  group: string;
  version: string;
  plural: string;
  reports(audit: AuditResult): Array<{ metadata: { namespace: string }; results: unknown[] }>;
}

const TARGETS: Record<ReportsApi, ReportsTarget> = {
  policyreport: { label: 'PolicyReport', api: 'the PolicyReport API (wgpolicyk8s.io/v1alpha2)', group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', reports: (audit) => policyReports(audit) },
  openreports: { label: 'OpenReports Report', api: 'the OpenReports API (openreports.io/v1alpha1 Report)', group: 'openreports.io', version: 'v1alpha1', plural: 'reports', reports: (audit) => openReports(audit) },
};

/** Writes one report per namespace, of the API asked for, with server-side apply; returns how many failed. */
export async function applyReports(client: ApiClient, audit: AuditResult, api: ReportsApi, log: (line: string) => void): Promise<number> {
  const target = TARGETS[api];
  let failures = 0;
  for (const report of target.reports(audit)) {
    const namespace = report.metadata.namespace;
    const path = `/apis/${target.group}/${target.version}/namespaces/${encodeURIComponent(namespace)}/${target.plural}/${REPORT_NAME}?fieldManager=${FIELD_MANAGER}&force=true`;
    const { status, body } = await client.request('PATCH', path, { contentType: 'application/apply-patch+yaml', data: JSON.stringify(report) });
    // Server-side apply creates missing objects, so a 404 means the resource type itself is unknown.
    if (status === 404) {
      throw new ClusterError(`${target.api} is not installed in this cluster`);
    }
    if (status >= 200 && status < 300) {
      log(`applied ${target.label} ${namespace}/${REPORT_NAME} (${report.results.length} results)`);
    } else {
      failures++;
      log(`cannot apply ${target.label} ${namespace}/${REPORT_NAME}: HTTP ${status} ${asString(asRecord(body)?.['message']) ?? ''}`.trimEnd());
    }
  }
  return failures;
}
