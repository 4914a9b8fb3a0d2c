import { DEFAULT_SEVERITY } from '../policy/schema.js';
import { RULES } from '../rules/index.js';
import type { FindingRule } from '../engine/engine.js';

export interface RuleDoc {
  id: FindingRule;
  summary: string;
  defaultSeverity: 'error' | 'warning';
  fixable: boolean;
}

/** Metadata of every id a finding can carry: the rules plus the `exemption` pseudo-rule. */
export const RULE_DOCS: readonly RuleDoc[] = [
  ...RULES.map((rule) => ({ id: rule.id, summary: rule.summary, defaultSeverity: DEFAULT_SEVERITY[rule.id], fixable: rule.fixable })),
  {
    id: 'exemption',
    summary: 'A rollsafe.dev/exempt annotation is well formed, names known rules, has a reason, and the policy allows it.',
    defaultSeverity: 'warning',
    fixable: false,
  },
];
