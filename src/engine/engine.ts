import { effectivePolicy } from '../policy/effective.js';
import { milderSeverity, severityAtLeast, type Mode, type Policy, type RuleId, type Severity } from '../policy/types.js';
import { RULES } from '../rules/index.js';
import type { RuleFinding } from '../rules/rule.js';
import { deepClone, setPathCopying, shallowCopy, type JsonObject, type PathSegment } from '../util/object.js';
import type { RelatedObjects } from '../workloads/related.js';
import { resolveWorkload } from '../workloads/workload-ref.js';
import type { ObjectRef, Workload } from '../workloads/workload.js';
import { readExemptions } from './exemptions.js';

/** `exemption` reports problems with the exemption annotation itself; the others are the public rule ids. */
export type FindingRule = RuleId | 'exemption';

export interface Finding {
  rule: FindingRule;
  severity: Severity;
  mode: Mode;
  container?: string;
  message: string;
  /** What the fix sets, for fixable findings. */
  fix?: string;
  /** Present when the workload exempted itself from this rule. */
  exempt?: { reason: string | undefined };
}

export interface RuleOutcome {
  rule: RuleId;
  mode: Mode;
  exempt: boolean;
}

export interface Evaluation {
  ref: ObjectRef;
  namespace: string;
  findings: Finding[];
  /** Every rule that ran (mode not off), for reports with one entry per object and rule. */
  rules: RuleOutcome[];
  /**
   * When fixes were asked for: a fixed copy (top-level fields a fix touched are deep copies, the others are
   * shared with the input), or the input object itself when nothing changed (`changed`).
   */
  fixed?: JsonObject;
  changed: boolean;
  /** Fixes that were applied, by rule, with the paths each set (`fixed` differs from the input only there). */
  applied: Array<{ rule: RuleId; description: string; paths: PathSegment[][] }>;
  /** Rules that threw on this object: an engine bug or an object shape we did not foresee. */
  errors: Array<{ rule: RuleId; message: string }>;
}

export interface EvaluateOptions {
  /** Context objects (every file and cluster audit); undefined at admission, which sees one object. */
  related?: RelatedObjects;
  /** Namespace used to pick policy overrides; defaults to the object's, else "default". */
  namespace?: string;
  /** A namespace-wide mode (e.g. from the rollsafe.dev/mode label) applied on top of the policy. */
  namespaceMode?: Mode;
  /**
   * The namespace labels rules read, where admission knows them (the webhook entry's path says); undefined when
   * unknown. Audits read the Namespace objects in their context instead.
   */
  namespaceLabels?: Record<string, string>;
  /** Modes whose fixes apply: `rollsafe fix` uses every active mode, the mutating webhook only enforce. */
  fixModes?: ReadonlySet<Mode>;
}

export const ALL_ACTIVE_MODES: ReadonlySet<Mode> = new Set(['enforce', 'warn', 'audit']);
/**
 * The fixes the mutating webhook applies (and that findings describe when no fixModes are given: validate,
 * audit, --fix-preview): only rules in enforce mode. `rollsafe fix` uses ALL_ACTIVE_MODES.
 */
export const ENFORCE_FIX_MODES: ReadonlySet<Mode> = new Set(['enforce']);

/**
 * What blocks, defined once: an enforced, non-exempt finding at or above `threshold`. At `error` it denies at
 * admission, fails `rollsafe audit` (the default --fail-on) and is a `fail` in PolicyReports.
 */
export function failsAt(finding: Finding, threshold: Exclude<Severity, 'info'>): boolean {
  return finding.mode === 'enforce' && !finding.exempt && severityAtLeast(finding.severity, threshold);
}

export function blocks(finding: Finding): boolean {
  return failsAt(finding, 'error');
}

/**
 * Whether a rule judges this view. Where a Rollout's workloadRef splits a workload, the template's rules judge
 * the Deployment that holds it and the others the Rollout that runs it (workloads/workload-ref.ts).
 */
function judgedHere(rule: { judges: 'pod-template' | 'workload' | 'object' }, workload: Workload): boolean {
  if (rule.judges === 'pod-template') return !workload.templateFrom;
  if (rule.judges === 'workload') return !workload.runBy;
  return true;
}

/**
 * Runs every rule on one object. Returns undefined for objects that are not apps/v1 Deployments,
 * StatefulSets or DaemonSets, or Argo Rollouts. Pure: the input object is never modified.
 */
export function evaluate(object: JsonObject, policy: Policy, options: EvaluateOptions = {}): Evaluation | undefined {
  const workload = resolveWorkload(object, options.related);
  if (!workload) return undefined;
  const namespace = options.namespace ?? workload.ref.namespace ?? 'default';
  const effective = effectivePolicy(policy, namespace, options.namespaceMode);
  const exemptions = readExemptions(workload.annotations, effective);
  const evaluation: Evaluation = { ref: workload.ref, namespace, findings: [], rules: [], changed: false, applied: [], errors: [] };
  for (const problem of exemptions.problems) {
    evaluation.findings.push({ rule: 'exemption', severity: 'warning', mode: 'enforce', message: problem });
  }

  // Without fixModes (validate, audit) findings describe what the mutating webhook would do: enforce fixes.
  // A preStop sleep counts toward the grace period only where it will really be added.
  const fixModes = options.fixModes ?? ENFORCE_FIX_MODES;
  const fixActive = (rule: RuleId) => effective.rules[rule].mode !== 'off' && !exemptions.rules.has(rule) && fixModes.has(effective.rules[rule].mode);
  const input = { workload, policy: effective, related: options.related, namespace, namespaceLabels: options.namespaceLabels, fixActive };
  const fixes: Array<{ rule: RuleId; finding: RuleFinding }> = [];

  for (const rule of RULES) {
    const settings = effective.rules[rule.id];
    // A rule that needs the objects beside the workload does not run without them (admission).
    if (settings.mode === 'off' || (rule.needsContext && !options.related) || !judgedHere(rule, workload)) continue;
    const exempt = exemptions.rules.has(rule.id);
    evaluation.rules.push({ rule: rule.id, mode: settings.mode, exempt });
    let found: RuleFinding[];
    try {
      found = rule.check(input);
    } catch (error) {
      evaluation.errors.push({ rule: rule.id, message: error instanceof Error ? error.message : String(error) });
      continue;
    }
    for (const finding of found) {
      const severity = finding.cap ? milderSeverity(settings.severity, finding.cap) : settings.severity;
      // Optional members only when present (reports print what is there, in this order); no spread per finding.
      const result: Finding =
        finding.container !== undefined
          ? { rule: rule.id, severity, mode: settings.mode, container: finding.container, message: finding.message }
          : { rule: rule.id, severity, mode: settings.mode, message: finding.message };
      if (finding.fix) result.fix = finding.fix.description;
      if (exempt) result.exempt = { reason: exemptions.reason };
      evaluation.findings.push(result);
      if (finding.fix && !exempt && options.fixModes?.has(settings.mode)) fixes.push({ rule: rule.id, finding });
    }
  }

  if (options.fixModes) {
    // Most objects need no fix: copy only when something will change, and then only the objects on the paths
    // a fix sets (copy on write); everything else, managedFields included, is shared with the input.
    const fixed = fixes.length > 0 ? shallowCopy(object) : object;
    for (const { rule, finding } of fixes) {
      for (const { path, value } of finding.fix?.set ?? []) setPathCopying(fixed, object, path, deepClone(value));
      evaluation.applied.push({
        rule,
        description: finding.fix?.description ?? '',
        paths: (finding.fix?.set ?? []).map(({ path }) => path),
      });
    }
    evaluation.fixed = fixed;
    evaluation.changed = fixes.length > 0;
  }
  return evaluation;
}
