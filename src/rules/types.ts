import type { EffectivePolicy, RuleId, Severity } from '../policy/types.js';
import type { PathSegment } from '../util/object.js';
import type { RelatedObjects } from '../workloads/related.js';
import type { Workload } from '../workloads/workload.js';

/** A fix is data: values to set at paths of the workload object. The engine applies it to a copy. */
export interface Fix {
  /** What the fix sets, in words a developer reads in a report or an admission warning. */
  description: string;
  set: Array<{ path: PathSegment[]; value: unknown }>;
}

export interface RuleFinding {
  container?: string;
  message: string;
  /** The most severe this finding may be, whatever the policy says (info: reported, never fails). */
  cap?: Severity;
  fix?: Fix;
}

export interface RuleInput {
  workload: Workload;
  policy: EffectivePolicy;
  /** Context objects; undefined when the input has none (a lone object at admission). */
  related: RelatedObjects | undefined;
  /** Whether prestop-delay will add a preStop sleep where one is missing (grace-period counts it). */
  preStopFixActive: boolean;
  /** Whether grace-period's fix is applied in the same pass (a native sleep may not exceed the grace period). */
  graceFixActive: boolean;
}

export interface Rule {
  id: RuleId;
  /** One line for `rollsafe rules`, SARIF and the README. */
  summary: string;
  fixable: boolean;
  check(input: RuleInput): RuleFinding[];
}
