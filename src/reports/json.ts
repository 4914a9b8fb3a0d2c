import { summarize, type AuditResult } from '../audit/audit.js';

/** The stable JSON report documented in the README. */
export function jsonReport(audit: AuditResult): string {
  const report = {
    summary: summarize(audit),
    results: audit.results.map(({ source, evaluation, owner }) => ({
      file: source.file,
      document: source.document,
      line: source.line,
      kind: evaluation.ref.kind,
      namespace: evaluation.ref.namespace ?? null,
      name: evaluation.ref.name,
      ...(owner ? { owner } : {}),
      findings: evaluation.findings.map((finding) => ({
        rule: finding.rule,
        severity: finding.severity,
        mode: finding.mode,
        container: finding.container ?? null,
        message: finding.message,
        fix: finding.fix ?? null,
        ...(finding.exempt ? { exempt: { reason: finding.exempt.reason ?? null } } : {}),
      })),
    })),
    skipped: audit.skipped,
    inputErrors: audit.inputErrors,
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}
