import type { AuditResult } from '../audit/audit.js';
import type { Finding } from '../engine/engine.js';
import { VERSION } from '../version.js';
import { FINDING_DOCS, type RuleDoc } from './rule-docs.js';

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

/** A relative URI reference: encodeURI leaves `#` and `?` alone, which would end the path (fragment, query). */
function artifactUri(file: string): string {
  return file === '-' ? 'stdin' : encodeURI(file.split('\\').join('/')).replace(/#/g, '%23').replace(/\?/g, '%3F');
}

/**
 * A finding's level says whether it fails: only enforced findings keep their severity's level; a finding in
 * warn mode is at most a warning and one in audit mode a note (code-scanning tools gate on `error`).
 */
function levelOf(finding: Finding): 'error' | 'warning' | 'note' {
  const level = LEVEL[finding.severity];
  if (finding.mode === 'audit') return 'note';
  if (finding.mode === 'warn' && level === 'error') return 'warning';
  return level;
}

/** SARIF 2.1.0: one run, rule metadata in the driver, one result per finding with file/line and object. */
/**
 * The full explanation travels in the log, where code-scanning UIs show it: rollsafe has no public rule pages
 * a helpUri could point at.
 */
function ruleHelp(doc: RuleDoc): { text: string; markdown: string } {
  const explanation = doc.why !== undefined && doc.checks !== undefined && doc.example !== undefined ? { why: doc.why, checks: doc.checks, example: doc.example } : undefined;
  if (!explanation) return { text: `${doc.summary} See the README.`, markdown: `${doc.summary} See the README.` };
  return {
    text: `${doc.summary}\n\nWhy: ${explanation.why}\n\nChecks: ${explanation.checks}\n\nMore: rollsafe rules ${doc.id}`,
    markdown:
      `${doc.summary}\n\n**Why.** ${explanation.why}\n\n**Checks.** ${explanation.checks}\n\n` +
      `A manifest that passes:\n\n\`\`\`yaml\n${explanation.example}\`\`\`\n\nMore: \`rollsafe rules ${doc.id}\``,
  };
}

export function sarifReport(audit: AuditResult): string {
  const ruleIndex = new Map(FINDING_DOCS.map((doc, index) => [doc.id, index]));
  const results = audit.results.flatMap(({ source, evaluation }) =>
    evaluation.findings.map((finding) => {
      const { kind, namespace, name } = evaluation.ref;
      return {
        ruleId: finding.rule,
        ruleIndex: ruleIndex.get(finding.rule) ?? 0,
        level: levelOf(finding),
        message: { text: finding.fix ? `${finding.message} Fix: ${finding.fix}.` : finding.message },
        locations: [
          {
            physicalLocation: { artifactLocation: { uri: artifactUri(source.file) }, ...(source.line > 0 ? { region: { startLine: source.line } } : {}) },
            logicalLocations: [
              { name, fullyQualifiedName: `${kind}/${namespace ? `${namespace}/` : ''}${name}${finding.container ? `/${finding.container}` : ''}`, kind: 'resource' },
            ],
          },
        ],
        ...(finding.exempt
          ? { suppressions: [{ kind: 'inSource', justification: finding.exempt.reason ?? 'no reason given' }] }
          : {}),
        properties: { mode: finding.mode, ...(finding.container ? { container: finding.container } : {}), ...(finding.fix ? { fix: finding.fix } : {}) },
      };
    }),
  );
  const notifications = audit.inputErrors.map((error) => ({
    level: 'error',
    message: { text: error.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(error.file) },
          ...(error.line !== undefined ? { region: { startLine: error.line, ...(error.column !== undefined ? { startColumn: error.column } : {}) } } : {}),
        },
      },
    ],
  }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'rollsafe',
            version: VERSION,
            rules: FINDING_DOCS.map((doc) => ({
              id: doc.id,
              name: doc.id.replace(/(^|-)([a-z])/g, (_m, _dash, letter: string) => letter.toUpperCase()),
              shortDescription: { text: doc.summary },
              help: ruleHelp(doc),
              defaultConfiguration: { level: LEVEL[doc.defaultSeverity] },
              properties: { fixable: doc.fixable },
            })),
          },
        },
        invocations: [{ executionSuccessful: audit.inputErrors.length === 0, toolExecutionNotifications: notifications }],
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
