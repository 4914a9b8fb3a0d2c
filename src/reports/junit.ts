import { findingFails, type AuditResult, type FailOn } from '../audit/audit.js';

function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * JUnit XML: a testsuite per file, a testcase per object and rule. A testcase fails when one of its findings
 * fails the audit at --fail-on; exempt rules are skipped; other findings go to system-out.
 */
export function junitReport(audit: AuditResult, failOn: FailOn): string {
  const suites = new Map<string, string[]>();
  let tests = 0;
  let failures = 0;
  // Dashboards key test cases by classname and name: an object named twice in one file (two documents) or
  // several exemption problems would collide, so repeats get the document or a counter.
  const usedClassnames = new Map<string, Set<string>>();
  for (const { source, evaluation } of audit.results) {
    const { kind, namespace, name } = evaluation.ref;
    const used = usedClassnames.get(source.file) ?? new Set<string>();
    usedClassnames.set(source.file, used);
    let plain = `${kind}/${namespace ? `${namespace}/` : ''}${name}`;
    if (used.has(plain)) plain = `${plain} (document ${source.document}${source.item !== undefined ? `, item ${source.item + 1}` : ''})`;
    used.add(plain);
    const classname = escapeXml(plain);
    const cases = suites.get(source.file) ?? [];
    suites.set(source.file, cases);
    for (const outcome of evaluation.rules) {
      const findings = evaluation.findings.filter((finding) => finding.rule === outcome.rule);
      const failing = findings.filter((finding) => findingFails(finding, failOn));
      const text = findings
        .map((finding) => `${finding.severity}${finding.container ? ` (${finding.container})` : ''}: ${finding.message}${finding.fix ? ` Fix: ${finding.fix}.` : ''}`)
        .join('\n');
      tests++;
      let body = '';
      if (outcome.exempt && findings.length > 0) {
        body = `<skipped message="${escapeXml(`exempt: ${findings[0]?.exempt?.reason ?? 'no reason given'}`)}"/>`;
      } else if (failing.length > 0) {
        failures++;
        body = `<failure type="${failing[0]?.severity}" message="${escapeXml(failing[0]?.message ?? '')}">${escapeXml(text)}</failure>`;
      } else if (text) {
        body = `<system-out>${escapeXml(text)}</system-out>`;
      }
      cases.push(`    <testcase classname="${classname}" name="${outcome.rule}" file="${escapeXml(source.file)}"${source.line > 0 ? ` line="${source.line}"` : ''}>${body}</testcase>`);
    }
    evaluation.findings.filter((f) => f.rule === 'exemption').forEach((finding, index) => {
      tests++;
      cases.push(`    <testcase classname="${classname}" name="exemption${index > 0 ? ` ${index + 1}` : ''}"><system-out>${escapeXml(finding.message)}</system-out></testcase>`);
    });
  }
  const errors = audit.inputErrors.map((error, index) => {
    // Document 0 is a live namespace, not a document of a file (cluster/audit-cluster.ts).
    const where = [error.document ? `document ${error.document}` : '', error.line !== undefined ? `line ${error.line}` : ''].filter(Boolean).join(', ');
    const name = `read${where ? ` (${where})` : ''}${audit.inputErrors.some((other, at) => at !== index && other.file === error.file && other.document === error.document && other.line === error.line) ? ` #${index + 1}` : ''}`;
    return `    <testcase classname="${escapeXml(error.file)}" name="${escapeXml(name)}"><error message="${escapeXml(error.message)}"/></testcase>`;
  });
  const body = [...suites].map(([file, cases]) => {
    const count = cases.length;
    const failed = cases.filter((c) => c.includes('<failure')).length;
    return `  <testsuite name="${escapeXml(file)}" tests="${count}" failures="${failed}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  if (errors.length > 0) body.push(`  <testsuite name="input" tests="${errors.length}" errors="${errors.length}">\n${errors.join('\n')}\n  </testsuite>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="rollsafe" tests="${tests + errors.length}" failures="${failures}" errors="${errors.length}">\n${body.join('\n')}\n</testsuites>\n`;
}
