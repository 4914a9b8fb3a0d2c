import type { ValuesOf } from './parameters.js';
import type { RULES } from '../rules/index.js';
import type { GLOBAL_PARAMETERS } from './schema.js';

/** Rule ids, derived from the registry (rules/index.ts): a public interface (reports, policies, annotations). */
export type RuleId = (typeof RULES)[number]['id'];

export const MODES = ['enforce', 'warn', 'audit', 'off'] as const;

/** The namespace label whose value (enforce, warn, audit, off) replaces the mode of every rule that is not off. */
export const MODE_LABEL = 'rollsafe.dev/mode';
export type Mode = (typeof MODES)[number];

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface RuleSettings {
  mode: Mode;
  severity: Severity;
}

type UnionToIntersection<U> = (U extends unknown ? (value: U) => void : never) extends (value: infer I) => void ? I : never;

type DeclaredParameters = UnionToIntersection<ValuesOf<(typeof RULES)[number]['parameters']>>;

/** The parameters rules read: those of the policy itself and those each rule's home declares. */
export type RuleParameters = ValuesOf<typeof GLOBAL_PARAMETERS> & DeclaredParameters;

/** A namespace override may replace any parameter, and any member of an object parameter alone. */
export type ParameterOverrides = { [Name in keyof RuleParameters]?: RuleParameters[Name] extends object ? Partial<RuleParameters[Name]> : RuleParameters[Name] };

export type NamespaceOverride = ParameterOverrides & {
  /** Namespace names or globs (`*`, `?`). */
  names: string[];
  /** Replaces the mode of every rule that is not `off`. */
  mode?: Mode;
  rules?: Partial<Record<RuleId, Partial<RuleSettings>>>;
};

export type Policy = RuleParameters & {
  apiVersion: 'rollsafe.dev/v1alpha1';
  kind: 'Policy';
  exemptions: { allowed: boolean };
  rules: Record<RuleId, RuleSettings>;
  namespaces: NamespaceOverride[];
};

/** A policy resolved for one namespace: what the engine runs with. */
export type EffectivePolicy = RuleParameters & {
  exemptions: { allowed: boolean };
  rules: Record<RuleId, RuleSettings>;
};

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export function severityAtLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold];
}

/** The milder of two severities: rules cap some findings (e.g. a StatefulSet OnDelete is never more than a warning). */
export function milderSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] <= SEVERITY_RANK[b] ? a : b;
}
