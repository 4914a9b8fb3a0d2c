import { findingFails, type AuditResult, type FailOn } from '../audit/audit.js';
import type { Finding } from '../engine/engine.js';

/** The place of a finding: `file:line`, the file alone when it has no line (live objects). */
function place(file: string, line: number, column?: number): string {
  return line > 0 ? `${file}:${line}${column !== undefined ? `:${column}` : ''}` : file;
}

function objectName(ref: { kind: string; namespace?: string | undefined; name: string }): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/**
 * One line per finding, as compilers and linters print them (editors and `grep` read it):
 * `file:line: severity [rule] Kind ns/name: message`. Input errors come first, as `file:line: error: message`.
 */
export function compactReport(audit: AuditResult): string {
  const lines: string[] = [];
  for (const error of audit.inputErrors) lines.push(`${place(error.file, error.line ?? 0, error.column)}: error: ${error.message}`);
  for (const { source, evaluation } of audit.results) {
    for (const finding of evaluation.findings) {
      const mode = finding.exempt ? ' (exempt)' : finding.mode === 'enforce' ? '' : ` (${finding.mode})`;
      lines.push(`${place(source.file, source.line)}: ${finding.severity}${mode} [${finding.rule}] ${objectName(evaluation.ref)}: ${finding.message}${finding.fix ? ` Fix: ${finding.fix}.` : ''}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** Workflow-command escaping (the runner's toCommandValue / escapeProperty). */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function annotationLevel(finding: Finding, failOn: FailOn): 'error' | 'warning' | 'notice' {
  if (findingFails(finding, failOn)) return 'error';
  return finding.severity === 'info' || finding.exempt ? 'notice' : 'warning';
}

/**
 * The `file=…,line=…,` properties of an annotation; none for what comes from no file (document 0: a live object
 * or namespace of `audit --cluster`), whose `namespace/NAME` is no path of the repository. GitHub then shows the
 * annotation on the run, not on a file, and its title names the object.
 */
function fileProperties(location: { file: string; document?: number | undefined; line?: number | undefined; column?: number | undefined }): string {
  if (location.document === 0) return '';
  const line = location.line !== undefined && location.line > 0 ? `,line=${location.line}${location.column !== undefined ? `,col=${location.column}` : ''}` : '';
  return `file=${escapeProperty(location.file)}${line},`;
}

/**
 * GitHub Actions annotations (`::error file=…,line=…,title=…::message`): shown on the pull request's diff.
 * Only what fails the run at --fail-on is an error; other findings are warnings, info and exempt ones notices.
 */
export function githubReport(audit: AuditResult, failOn: FailOn): string {
  const lines: string[] = [];
  for (const error of audit.inputErrors) {
    const title = error.document === 0 ? `rollsafe: ${error.file}` : 'rollsafe: unreadable input';
    lines.push(`::error ${fileProperties(error)}title=${escapeProperty(title)}::${escapeData(error.message)}`);
  }
  for (const { source, evaluation } of audit.results) {
    for (const finding of evaluation.findings) {
      const title = `rollsafe ${finding.rule}: ${objectName(evaluation.ref)}${finding.container ? ` (${finding.container})` : ''}`;
      const message = `${finding.message}${finding.fix ? ` Fix: ${finding.fix}.` : ''}${finding.exempt ? ` Exempt: ${finding.exempt.reason ?? 'no reason given'}.` : ''}`;
      lines.push(`::${annotationLevel(finding, failOn)} ${fileProperties({ file: source.file, document: source.document, line: source.line })}title=${escapeProperty(title)}::${escapeData(message)}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
