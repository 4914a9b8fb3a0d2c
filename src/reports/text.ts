import { findingFails, summarize, type AuditResult, type FailOn, type SkippedObject } from '../audit/audit.js';
import type { Finding } from '../engine/engine.js';

export interface TextOptions {
  color: boolean;
  failOn: FailOn;
}

type Paint = (code: string, text: string) => string;

function painter(color: boolean): Paint {
  return color ? (code, text) => `\u001b[${code}m${text}\u001b[0m` : (_code, text) => text;
}

const SEVERITY_COLOR = { error: '31', warning: '33', info: '36' } as const;

function findingLines(finding: Finding, paint: Paint): string[] {
  const label = finding.exempt ? paint('2', 'exempt'.padEnd(7)) : paint(SEVERITY_COLOR[finding.severity], finding.severity.padEnd(7));
  const mode = finding.mode === 'enforce' ? '' : ` [${finding.mode}]`;
  const lines = [`    ${label} ${finding.rule}${mode}: ${finding.message}`];
  if (finding.fix) lines.push(`            fix: ${finding.fix}`);
  if (finding.exempt) lines.push(`            exempt: ${finding.exempt.reason ?? '(no reason given)'}`);
  return lines;
}

/**
 * Other kinds are counted; workloads skipped for a reason (no pod template, another apiVersion, a namespace in
 * mode off) are listed with it, never counted as "not apps/v1 workloads". Live ones (document 0) are listed
 * once per namespace and reason: a namespace in mode off may hold hundreds.
 */
function skippedLines(skipped: readonly SkippedObject[]): string[] {
  const lines: string[] = [];
  const others = skipped.filter((entry) => !entry.reason);
  if (others.length > 0) lines.push(`Skipped ${others.length} object(s) that are not apps/v1 Deployments, StatefulSets, DaemonSets or Argo Rollouts: ${kindCounts(others)}`);
  const explained = skipped.filter((entry) => entry.reason);
  if (explained.length === 0) return lines;
  lines.push(`Skipped ${explained.length} workload(s):`);
  const live = new Map<string, Map<string, SkippedObject[]>>();
  for (const entry of explained) {
    const reason = entry.reason ?? '';
    if (entry.document > 0) {
      lines.push(`  ${entry.file} (document ${entry.document}): ${entry.kind} ${entry.name} skipped: ${reason}`);
      continue;
    }
    const byReason = live.get(entry.file) ?? new Map<string, SkippedObject[]>();
    byReason.set(reason, [...(byReason.get(reason) ?? []), entry]);
    live.set(entry.file, byReason);
  }
  for (const [file, byReason] of live) {
    for (const [reason, entries] of byReason) lines.push(`  ${file}: ${kindCounts(entries)} skipped: ${reason}`);
  }
  return lines;
}

/** `Service ×4, ServiceAccount ×4`. */
function kindCounts(entries: readonly SkippedObject[]): string {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.kind, (counts.get(entry.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${kind} ×${count}`).join(', ');
}

/** Human report: grouped by file and object; colour only when asked (a TTY without NO_COLOR). */
export function textReport(audit: AuditResult, options: TextOptions): string {
  const paint = painter(options.color);
  const out: string[] = [];
  const byFile = new Map<string, AuditResult['results']>();
  for (const result of audit.results) {
    if (result.evaluation.findings.length === 0) continue;
    const list = byFile.get(result.source.file) ?? [];
    list.push(result);
    byFile.set(result.source.file, list);
  }
  for (const [file, results] of byFile) {
    out.push(paint('1', file));
    for (const { source, evaluation, owner } of results) {
      const { kind, namespace, name } = evaluation.ref;
      const where = source.document > 0 ? ` (document ${source.document}, line ${source.line})` : '';
      out.push(`  ${kind} ${namespace ? `${namespace}/` : ''}${name}${where}${owner ? `, owned by ${owner}` : ''}`);
      for (const finding of evaluation.findings) out.push(...findingLines(finding, paint));
    }
    out.push('');
  }
  out.push(...skippedLines(audit.skipped));
  for (const error of audit.inputErrors) {
    const where = [error.file, error.line, error.column].filter((part) => part !== undefined).join(':');
    // Document 0: a live object's namespace, no file (cluster/audit-cluster.ts).
    const document = error.document ? ` (document ${error.document})` : '';
    out.push(`${paint('31', 'input error')} ${where}${document}: ${error.message}`);
  }
  const summary = summarize(audit);
  const failing = audit.results.reduce(
    (count, { evaluation }) => count + evaluation.findings.filter((finding) => findingFails(finding, options.failOn)).length,
    0,
  );
  const clean = audit.results.filter(({ evaluation }) => evaluation.findings.length === 0).length;
  out.push(
    `${summary.objects} workload(s), ${clean} without findings: ${summary.errors} error(s), ${summary.warnings} warning(s), ` +
      `${summary.infos} info, ${summary.exempt} exempt; ${failing} failing at --fail-on ${options.failOn}` +
      (audit.inputErrors.length > 0 ? `; ${audit.inputErrors.length} input error(s)` : ''),
  );
  return `${out.join('\n')}\n`;
}
