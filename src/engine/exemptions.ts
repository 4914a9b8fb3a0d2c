import { suggestion } from '../util/did-you-mean.js';
import { message, text, type Message, type Piece } from '../util/message.js';
import { CONTROL_CHARACTER_RANGES, trimBlanks } from '../util/text.js';
import { isRuleId, RULE_IDS } from '../rules/index.js';
import type { EffectivePolicy, RuleId } from '../policy/types.js';

export const EXEMPT_ANNOTATION = 'rollsafe.dev/exempt';
export const EXEMPT_REASON_ANNOTATION = 'rollsafe.dev/exempt-reason';

/** The `exemption` pseudo-rule's summary (reports, SARIF). */
export const EXEMPTION_SUMMARY = 'A rollsafe.dev/exempt annotation is well formed, names known rules, has a reason, and the policy allows it.';

/** Most workloads exempt themselves from nothing: one shared empty set, not one per evaluation. */
const NONE: ReadonlySet<RuleId> = new Set();

export interface Exemptions {
  rules: ReadonlySet<RuleId>;
  reason: string | undefined;
  /** Problems with the annotation itself, reported as warnings of the `exemption` pseudo-rule. */
  problems: string[];
}

/**
 * The unknown id, quoted, unless it holds control characters: a warning is an HTTP header, and the apiserver
 * drops a warning with control characters whole (k8s.io/apimachinery net.NewWarningHeader).
 */
function unknownRule(id: string): Piece | Message {
  return CONTROL.test(id) ? UNKNOWN_RULE_WITH_CONTROL_CHARACTERS : unknownRuleNamed(id);
}

const hex = (code: number) => `\\u${code.toString(16).padStart(4, '0')}`;
const CONTROL = new RegExp(`[${CONTROL_CHARACTER_RANGES.map(([from, to]) => `${hex(from)}-${hex(to)}`).join('')}]`);

// Problems with the annotation, written once for the engine and the native policies (export/policies.ts).
export const EXEMPTIONS_NOT_ALLOWED = `the policy does not allow exemptions: annotation ${EXEMPT_ANNOTATION} is ignored and every rule applies.`;
export const UNKNOWN_RULE_WITH_CONTROL_CHARACTERS = 'an unknown rule with control characters in its name';

export const unknownRuleNamed = (id: Piece): Message => message`unknown rule "${id}"`;

/** `rule`: unknownRuleNamed or UNKNOWN_RULE_WITH_CONTROL_CHARACTERS; `suggestion`: a "did you mean", or nothing. */
export function namesUnknownRule(rule: Piece | Message, suggestion: Piece, known: Piece): Message {
  return message`annotation ${EXEMPT_ANNOTATION} names ${rule}${suggestion} (known: ${known}).`;
}

export function exemptionWithoutReason(rules: Piece): Message {
  return message`exemption from ${rules} has no reason: add annotation ${EXEMPT_REASON_ANNOTATION} saying why.`;
}

/** Reads `rollsafe.dev/exempt: "rule-a,rule-b"` and its reason from the workload's own annotations. */
export function readExemptions(annotations: Record<string, string>, policy: EffectivePolicy): Exemptions {
  const raw = annotations[EXEMPT_ANNOTATION];
  const reason = trimBlanks(annotations[EXEMPT_REASON_ANNOTATION] ?? '') || undefined;
  if (raw === undefined) return { rules: NONE, reason, problems: [] };
  const rules = new Set<RuleId>();
  const result: Exemptions = { rules, reason, problems: [] };
  if (!policy.exemptions.allowed) {
    result.problems.push(EXEMPTIONS_NOT_ALLOWED);
    return result;
  }
  for (const id of raw.split(',').map(trimBlanks).filter(Boolean)) {
    if (isRuleId(id)) rules.add(id);
    else result.problems.push(text(namesUnknownRule(unknownRule(id), suggestion(id, RULE_IDS), RULE_IDS.join(', '))));
  }
  if (rules.size > 0 && !reason) {
    result.problems.push(text(exemptionWithoutReason([...rules].join(', '))));
  }
  return result;
}
