import type { EffectivePolicy, RuleId } from '../policy/types.js';
import type { RuleDescriptor } from '../rules/rule.js';

/** What an exported rule's CEL may read besides the object: the namespace's policy, and runtime flags. */
export interface RuleCelInput {
  /** The policy resolved for one namespace override (its numbers become CEL literals). */
  policy: EffectivePolicy;
  /** A CEL bool: another rule's fix is applied in the same pass (the engine's RuleInput.fixActive). */
  fixActive(rule: RuleId): string;
}

/**
 * A rule in CEL (src/rules/<id>/cel.ts): `findings` is a CEL list of finding maps (workload-cel.ts `finding`)
 * that must equal the engine's findings for the same object at admission, where no related objects are known.
 * The parity test (test/export.test.ts) holds each to the engine on the real apiserver.
 */
export interface ExportedRule {
  rule: RuleDescriptor<RuleId>;
  /** Variables the findings read, shared by every namespace override (they read only the object). */
  variables?: Array<{ name: string; expression: string }>;
  findings(input: RuleCelInput): string;
}
