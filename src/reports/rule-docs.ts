import type { FindingRule } from '../engine/engine.js';
import { EXEMPTION_SUMMARY } from '../engine/exemptions.js';
import { PASSING_EXAMPLE } from '../rules/example.js';
import { RULES } from '../rules/index.js';

/** What `rollsafe rules -o json`, SARIF and the README say of a rule: its descriptor's metadata and docs. */
export interface RuleDoc {
  id: FindingRule;
  summary: string;
  defaultSeverity: 'error' | 'warning';
  defaultMode: 'enforce' | 'warn' | 'audit' | 'off';
  fixable: boolean;
  /** Judged only with the objects beside the workload: never at admission, never in the native policies. */
  needsContext: boolean;
  /** Fields of spec whose change alone, on an UPDATE, may be denied for (a CREATE or a template change always may). */
  deniesUpdatesOf: readonly string[];
  why?: string;
  checks?: string;
  /** A manifest that passes the rule. */
  example?: string;
}

/** Every rule, in the registry's order. */
export const RULE_DOCS: readonly RuleDoc[] = RULES.map((rule) => ({
  id: rule.id,
  summary: rule.docs.summary,
  defaultSeverity: rule.defaultSeverity,
  defaultMode: rule.defaultMode,
  fixable: rule.fixable,
  needsContext: rule.needsContext,
  deniesUpdatesOf: rule.deniesUpdatesOf,
  why: rule.docs.why,
  checks: rule.docs.checks,
  example: PASSING_EXAMPLE,
}));

/** Every id a finding can carry: the rules, then the `exemption` pseudo-rule (problems with the annotation itself). */
export const FINDING_DOCS: readonly RuleDoc[] = [
  ...RULE_DOCS,
  { id: 'exemption', summary: EXEMPTION_SUMMARY, defaultSeverity: 'warning', defaultMode: 'enforce', fixable: false, needsContext: false, deniesUpdatesOf: [] },
];
