import type { EffectivePolicy, RuleId } from '../../policy/types.js';

/** What an exported rule's CEL may read besides the object: the namespace's policy, and runtime flags. */
export interface RuleCelInput {
  /** The policy resolved for one namespace override (its numbers become CEL literals). */
  policy: EffectivePolicy;
  /** CEL bool: prestop-delay's fix will add a sleep (the engine's preStopFixActive). */
  preStopFixActive: string;
  /** CEL bool: grace-period's fix is applied in the same pass (the engine's graceFixActive). */
  graceFixActive: string;
}

/**
 * A rule in CEL: `findings` is a CEL list of finding maps (workload-cel.ts `finding`) that must equal the
 * engine's findings for the same object at admission, where no related objects are known. The parity test
 * (test/export.test.ts) holds each to the engine on the real apiserver.
 */
export interface ExportedRule {
  id: RuleId;
  /** Variables the findings read, shared by every namespace override (they read only the object). */
  variables?: Array<{ name: string; expression: string }>;
  findings(input: RuleCelInput): string;
}
