import type { AuditResult } from '../audit/audit.js';
import { policyReports, POLICY_REPORT_NAME } from '../reports/policy-report.js';
import { asRecord, asString } from '../util/object.js';
import { ClusterError, type ApiClient } from './api.js';

/** Field manager of our server-side applies: stable, so re-runs update the same fields instead of conflicting. */
export const FIELD_MANAGER = 'rollsafe';

/** Writes one PolicyReport per namespace with server-side apply; returns how many failed. */
export async function applyPolicyReports(client: ApiClient, audit: AuditResult, log: (line: string) => void): Promise<number> {
  let failures = 0;
  for (const report of policyReports(audit)) {
    const namespace = report.metadata.namespace;
    const path = `/apis/wgpolicyk8s.io/v1alpha2/namespaces/${encodeURIComponent(namespace)}/policyreports/${POLICY_REPORT_NAME}?fieldManager=${FIELD_MANAGER}&force=true`;
    const { status, body } = await client.request('PATCH', path, { contentType: 'application/apply-patch+yaml', data: JSON.stringify(report) });
    // Server-side apply creates missing objects, so a 404 means the resource type itself is unknown.
    if (status === 404) {
      throw new ClusterError('the PolicyReport API (wgpolicyk8s.io/v1alpha2) is not installed in this cluster');
    }
    if (status >= 200 && status < 300) {
      log(`applied PolicyReport ${namespace}/${POLICY_REPORT_NAME} (${report.results.length} results)`);
    } else {
      failures++;
      log(`cannot apply PolicyReport ${namespace}/${POLICY_REPORT_NAME}: HTTP ${status} ${asString(asRecord(body)?.['message']) ?? ''}`.trimEnd());
    }
  }
  return failures;
}
