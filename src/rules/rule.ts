/**
 * A rule's home (src/rules/<id>/rule.ts) holds everything about it: its id, defaults, parameters, documentation,
 * which updates it may deny, and its check with the fixes it proposes. The registry (rules/index.ts), the policy
 * schema and default document, `rollsafe rules`, the README tables and the manifests are derived from these
 * descriptors. A rule the native policies can judge also has a cel.ts beside it (export/rules.ts lists those).
 */
import type { EffectivePolicy, Mode, RuleId, Severity } from '../policy/types.js';
import type { Parameters } from '../policy/parameters.js';
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
  /** The namespace the object is judged in (the request's at admission). */
  namespace: string;
  /** The namespace's labels where admission knows them (EvaluateOptions.namespaceLabels); else undefined. */
  namespaceLabels: Record<string, string> | undefined;
  /**
   * Whether another rule's fix is applied in the same pass (its mode applies fixes here and the workload is not
   * exempt from it): grace-period counts the sleep prestop-delay will add, and prestop-delay adds no native
   * sleep longer than a grace period that grace-period will not raise.
   */
  fixActive(rule: RuleId): boolean;
}

/** Markdown for the README, by rule: the rules table and the comparison with peers. */
export interface RuleReadme {
  /** What it checks, in full: the README rules table's last cell. */
  checks: string;
  /** The closest check of each peer tool ('none' where it has none), and where rollsafe differs. */
  peers: { polaris: string; kubeScore: string; kubeLinter: string; kyverno: string; differs: string };
}

export interface RuleDocs {
  /** One line for `rollsafe rules`, SARIF and PolicyReports. */
  summary: string;
  /** What goes wrong during a rollout or a node drain without it. */
  why: string;
  /** What the rule looks at, and what it fixes (`rollsafe rules ID`). */
  checks: string;
  readme: RuleReadme;
}

/**
 * An annotation that, set by a user on an UPDATE, is a finding of the rule at error severity (the rule's mode
 * decides what that does): a request for something rollsafe cannot judge.
 */
export interface AnnotationFinding {
  annotation: string;
  message: string;
}

export interface RuleDescriptor<Id extends string = string, P extends Parameters = Parameters> {
  id: Id;
  defaultSeverity: 'error' | 'warning';
  defaultMode: Mode;
  fixable: boolean;
  docs: RuleDocs;
  /** Policy parameters this rule owns (top-level keys of the policy; other rules may read them too). */
  parameters: P;
  /** Judged only with the objects beside the workload (files, cluster): never at admission or in the native policies. */
  needsContext: boolean;
  /**
   * What the rule judges, where a Rollout's workloadRef splits a workload in two (workloads/workload-ref.ts):
   * `pod-template` rules judge and fix the object that holds the template (the Deployment), `workload` rules the
   * one that runs the pods (the Rollout: replicas, strategy, disruptions), `object` rules every object as written.
   */
  judges: 'pod-template' | 'workload' | 'object';
  /**
   * A CREATE or a pod-template change may be denied for every rule. An UPDATE that changes neither may be
   * denied for this rule only where it changes one of these fields of spec (admission/decision.ts mayDeny).
   */
  deniesUpdatesOf: readonly string[];
  annotationFinding?: AnnotationFinding;
  check(input: RuleInput): RuleFinding[];
}
