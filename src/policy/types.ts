export const RULE_IDS = [
  'readiness-probe',
  'probe-port',
  'probes-identical',
  'prestop-delay',
  'grace-period',
  'rollout-strategy',
  'min-replicas',
  'disruption-budget',
  'node-spread',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const MODES = ['enforce', 'warn', 'audit', 'off'] as const;

/** The namespace label whose value (enforce, warn, audit, off) replaces the mode of every rule that is not off. */
export const MODE_LABEL = 'rollsafe.dev/mode';
export type Mode = (typeof MODES)[number];

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type PreStopAction = 'auto' | 'sleep' | 'exec';

export interface RuleSettings {
  mode: Mode;
  severity: Severity;
}

/** The parameters rules read; a namespace override may replace any of them. */
export interface RuleParameters {
  kubernetesVersion: string;
  preStop: { seconds: number; action: PreStopAction };
  drainSeconds: number;
  minReplicas: number;
}

export interface NamespaceOverride extends Partial<Omit<RuleParameters, 'preStop'>> {
  /** Namespace names or globs (`*`, `?`). */
  names: string[];
  /** Replaces the mode of every rule that is not `off`. */
  mode?: Mode;
  preStop?: Partial<RuleParameters['preStop']>;
  rules?: Partial<Record<RuleId, Partial<RuleSettings>>>;
}

export interface Policy extends RuleParameters {
  apiVersion: 'rollsafe.dev/v1alpha1';
  kind: 'Policy';
  exemptions: { allowed: boolean };
  rules: Record<RuleId, RuleSettings>;
  namespaces: NamespaceOverride[];
}

/** A policy resolved for one namespace: what the engine runs with. */
export interface EffectivePolicy extends RuleParameters {
  exemptions: { allowed: boolean };
  rules: Record<RuleId, RuleSettings>;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export function severityAtLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold];
}

/** The milder of two severities: rules cap some findings (e.g. a StatefulSet OnDelete is never more than a warning). */
export function milderSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] <= SEVERITY_RANK[b] ? a : b;
}
