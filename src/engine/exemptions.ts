import { suggestion } from '../util/did-you-mean.js';
import { trimBlanks } from '../util/text.js';
import { RULE_IDS, type EffectivePolicy, type RuleId } from '../policy/types.js';

export const EXEMPT_ANNOTATION = 'rollsafe.dev/exempt';
export const EXEMPT_REASON_ANNOTATION = 'rollsafe.dev/exempt-reason';

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
function unknownRule(id: string): string {
  return CONTROL.test(id) ? 'an unknown rule with control characters in its name' : `unknown rule "${id}"`;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Reads `rollsafe.dev/exempt: "rule-a,rule-b"` and its reason from the workload's own annotations. */
export function readExemptions(annotations: Record<string, string>, policy: EffectivePolicy): Exemptions {
  const raw = annotations[EXEMPT_ANNOTATION];
  const reason = trimBlanks(annotations[EXEMPT_REASON_ANNOTATION] ?? '') || undefined;
  if (raw === undefined) return { rules: NONE, reason, problems: [] };
  const rules = new Set<RuleId>();
  const result: Exemptions = { rules, reason, problems: [] };
  if (!policy.exemptions.allowed) {
    result.problems.push(`the policy does not allow exemptions: annotation ${EXEMPT_ANNOTATION} is ignored and every rule applies.`);
    return result;
  }
  for (const id of raw.split(',').map(trimBlanks).filter(Boolean)) {
    if ((RULE_IDS as readonly string[]).includes(id)) rules.add(id as RuleId);
    else result.problems.push(`annotation ${EXEMPT_ANNOTATION} names ${unknownRule(id)}${suggestion(id, RULE_IDS)} (known: ${RULE_IDS.join(', ')}).`);
  }
  if (rules.size > 0 && !reason) {
    result.problems.push(`exemption from ${[...rules].join(', ')} has no reason: add annotation ${EXEMPT_REASON_ANNOTATION} saying why.`);
  }
  return result;
}
