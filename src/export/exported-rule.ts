import type { EffectivePolicy, RuleId } from '../policy/types.js';
import type { RuleDescriptor } from '../rules/rule.js';

/** What the export is asked to judge besides apps/v1 workloads (ExportOptions). */
export interface ExportContext {
  /**
   * Argo Rollouts (argoproj.io/v1alpha1) too. Their pod template is not defaulted by the apiserver (a CRD gets
   * only its schema's defaults), and may be missing (spec.workloadRef): CEL that reads it must say so itself.
   * Off, every expression is the apps/v1 one, byte for byte.
   */
  rollouts: boolean;
}

/** What an exported rule's CEL may read besides the object: the namespace's policy, and runtime flags. */
export interface RuleCelInput extends ExportContext {
  /** The policy resolved for one namespace override (its numbers become CEL literals). */
  policy: EffectivePolicy;
  /** A CEL bool: another rule's fix is applied in the same pass (the engine's RuleInput.fixActive). */
  fixActive(rule: RuleId): string;
}

export type Variable = { name: string; expression: string };

/**
 * A rule in CEL (src/rules/<id>/cel.ts): `findings` is a CEL list of finding maps (workload-cel.ts `finding`)
 * that must equal the engine's findings for the same object at admission, where no related objects are known.
 * The parity test (test/export.test.ts) holds each to the engine on the real apiserver.
 */
export interface ExportedRule {
  rule: RuleDescriptor<RuleId>;
  /**
   * Variables the findings read, shared by every namespace override (they read only the object); a function
   * when they depend on what is exported.
   */
  variables?: Variable[] | ((context: ExportContext) => Variable[]);
  findings(input: RuleCelInput): string;
}

/** An exported rule's variables for this export. */
export function ruleVariables(exported: ExportedRule, context: ExportContext): Variable[] {
  const { variables } = exported;
  return typeof variables === 'function' ? variables(context) : (variables ?? []);
}
