import { blocks, ENFORCE_FIX_MODES, evaluate, type EvaluateOptions, type Evaluation, type Finding } from '../engine/engine.js';
import type { Mode, Policy, RuleId } from '../policy/types.js';
import { RULES } from '../rules/index.js';
import type { RuleDescriptor } from '../rules/rule.js';
import { asRecord, jsonEqual, type JsonObject, type PathSegment } from '../util/object.js';
import { isWorkloadKind, workloadApiVersion } from '../workloads/workload.js';
import { firstCodePoints, longerThan } from '../util/text.js';
import { text } from '../util/message.js';
import { patchForPaths } from '../engine/patch.js';
import { allowed, denied, patched, type AdmissionResponse } from './responses.js';
import type { AdmissionRequest } from './review.js';
import { denialHeader, KUBERNETES_CONTROLLER_USERNAMES, MAX_WARNING, mayDeny, startsRollout } from './decision.js';

export { startsRollout };

export type Endpoint = 'validate' | 'mutate';
export type Decision = 'allowed' | 'warned' | 'denied' | 'patched' | 'skipped' | 'error';

export interface AdmissionOutcome {
  response: AdmissionResponse;
  decision: Decision;
  evaluation?: Evaluation;
  /** Rules whose fix went into the patch. */
  patchedRules: RuleId[];
  /** For judged requests: a CREATE, or an UPDATE that changes the pod template (see startsRollout). */
  startsRollout?: boolean;
}

/**
 * Only workloads (apps/v1, and argoproj.io/v1alpha1 Rollouts) on CREATE/UPDATE of the main resource are judged;
 * scale, status, DELETE pass.
 */
export function isJudged(request: AdmissionRequest): boolean {
  const { kind, operation, subResource } = request;
  return (
    isWorkloadKind(kind.kind) &&
    `${kind.group}/${kind.version}` === workloadApiVersion(kind.kind) &&
    !subResource &&
    (operation === 'CREATE' || operation === 'UPDATE')
  );
}

/** Index just past the first period followed by whitespace or the end; the whole length when there is none. */
function endOfFirstSentence(message: string): number {
  for (let period = message.indexOf('.'); period !== -1; period = message.indexOf('.', period + 1)) {
    const next = message.charCodeAt(period + 1);
    if (period + 1 === message.length || next === 32 || next === 10 || next === 9 || next === 13) return period + 1;
  }
  return message.length;
}

/** Warnings are shown by kubectl one per line: keep the first sentence, prefixed by the rule. */
function warningFor(finding: Finding, prefix = ''): string {
  const firstSentence = finding.message.slice(0, endOfFirstSentence(finding.message));
  const text = `${prefix}${finding.rule}: ${firstSentence}`;
  // Code points: a cut never splits a character (and `rollsafe export` cuts the same way).
  return longerThan(text, MAX_WARNING) ? `${firstCodePoints(text, MAX_WARNING - 1)}…` : text;
}

function isActive(finding: Finding): boolean {
  return !finding.exempt && finding.severity !== 'info';
}


/** The Deployment controller's own writes are judged, never denied (see KUBERNETES_CONTROLLER_USERNAMES). */
export function byKubernetesController(request: AdmissionRequest): boolean {
  return (KUBERNETES_CONTROLLER_USERNAMES as readonly (string | undefined)[]).includes(request.userInfo?.username);
}

/**
 * Annotations some rules judge on their own (RuleDescriptor.annotationFinding): a user who sets one on an
 * UPDATE asks for something rollsafe cannot see (the rollback annotation hands the Deployment controller an old
 * template, and the controller's write is never denied). A finding of that rule at error severity, in its mode.
 */
function annotationFindings(request: AdmissionRequest, evaluation: Evaluation): Finding[] {
  if (request.operation !== 'UPDATE' || byKubernetesController(request)) return [];
  const findings: Finding[] = [];
  for (const rule of RULES) {
    if (!rule.annotationFinding) continue;
    const { annotation, message } = rule.annotationFinding;
    const value = asRecord(asRecord(request.object?.['metadata'])?.['annotations'])?.[annotation];
    const previous = asRecord(asRecord(request.oldObject?.['metadata'])?.['annotations'])?.[annotation];
    if (value === undefined || value === previous) continue;
    const outcome = evaluation.rules.find((candidate) => candidate.rule === rule.id);
    if (outcome && !outcome.exempt) findings.push({ rule: rule.id, severity: 'error', mode: outcome.mode, message });
  }
  return findings;
}

/** Where a finding's rule is none (the exemption pseudo-rule), only a rollout may be denied for it. */
const UPDATES_JUDGED = new Map<string, Pick<RuleDescriptor, 'deniesUpdatesOf'>>(RULES.map((rule) => [rule.id, rule]));
const ROLLOUT_ONLY = { deniesUpdatesOf: [] };

function validate(request: AdmissionRequest, evaluation: Evaluation): AdmissionOutcome {
  const { uid } = request;
  const active = evaluation.findings.filter(isActive);
  const annotated = annotationFindings(request, evaluation);
  active.push(...annotated);
  const judges = (finding: Finding) => annotated.includes(finding) || mayDeny(UPDATES_JUDGED.get(finding.rule) ?? ROLLOUT_ONLY, request);
  const violations = byKubernetesController(request) ? [] : active.filter((finding) => blocks(finding) && judges(finding));
  const warnings = active
    .filter((finding) => !violations.includes(finding) && finding.mode !== 'audit')
    .map((finding) => warningFor(finding));
  if (violations.length === 0) return { response: allowed(uid, warnings), decision: warnings.length > 0 ? 'warned' : 'allowed', patchedRules: [] };
  const { kind, name } = evaluation.ref;
  const lines = violations.map(
    (finding, index) => `${index + 1}. [${finding.rule}] ${finding.message}${finding.fix ? ` Fix: ${finding.fix}.` : ''}`,
  );
  const message = `${text(denialHeader(kind, name, violations.length))}\n${lines.join('\n')}`;
  return { response: denied(uid, message, warnings), decision: 'denied', patchedRules: [] };
}

function inTemplate(path: readonly PathSegment[]): boolean {
  return path[0] === 'spec' && path[1] === 'template';
}

function mutate(request: AdmissionRequest, object: JsonObject, evaluation: Evaluation, rollout: boolean): AdmissionOutcome {
  const { uid } = request;
  // When the update starts no rollout, patching the pod template would start one: only fields outside it
  // (the strategy) are patched, so the stored workload is always safe to roll; the template waits for its
  // next change. Re-applying an unchanged manifest is then a no-op, not a tug of war with the applier.
  const templateFrozen = !rollout;
  const applied: Evaluation['applied'] = [];
  const paths: PathSegment[][] = [];
  for (const fix of evaluation.applied) {
    const open = templateFrozen ? fix.paths.filter((path) => !inTemplate(path)) : fix.paths;
    if (open.length === 0) continue;
    applied.push(fix);
    for (const path of open) paths.push(path);
  }
  const patch = evaluation.changed && evaluation.fixed && paths.length > 0 ? patchForPaths(object, evaluation.fixed, paths) : [];
  const warnings: string[] = [];
  if (patch.length > 0) {
    warnings.push(`rollsafe changed ${evaluation.ref.kind} ${evaluation.ref.name}: ${applied.map((fix) => fix.description).join('; ')}`);
  }
  const postponed = applied.length === evaluation.applied.length ? [] : evaluation.applied.filter((fix) => !applied.includes(fix));
  if (postponed.length > 0) {
    warnings.push(
      `rollsafe left the pod template of ${evaluation.ref.kind} ${evaluation.ref.name} alone (this update starts no rollout); on its next change it will ${postponed.map((fix) => fix.description.replace(/^sets/, 'set')).join('; ')}`,
    );
  }
  addWouldFix(evaluation, warnings);
  if (patch.length === 0) return { response: allowed(uid, warnings), decision: warnings.length > 0 ? 'warned' : 'allowed', patchedRules: [] };
  const patchedRules: RuleId[] = [];
  for (const fix of applied) if (!patchedRules.includes(fix.rule)) patchedRules.push(fix.rule);
  return { response: patched(uid, patch, warnings), decision: 'patched', patchedRules };
}

/** Warn-mode findings with a fix: the mutating webhook says what it would set. */
function addWouldFix(evaluation: Evaluation, warnings: string[]): void {
  for (const finding of evaluation.findings) {
    if (isActive(finding) && finding.fix && finding.mode === 'warn') warnings.push(warningFor(finding, 'would fix '));
  }
}

/**
 * A rule threw on this object (an engine bug, or a shape we did not foresee). The webhook must never block
 * because of its own failure, and the apiserver enforces `allowed: false` whatever the failurePolicy says:
 * allow, unpatched, with a warning. The server logs the rule ids and counts them.
 */
function failedOpen(request: AdmissionRequest, evaluation: Evaluation): AdmissionOutcome {
  const failed = evaluation.errors.map((error) => error.rule).join(', ');
  const warning = `rollsafe could not check ${evaluation.ref.kind} ${evaluation.ref.name} (rule ${failed} failed on this object); allowed unchecked, see the webhook logs`;
  return { response: allowed(request.uid, [warning]), decision: 'error', evaluation, patchedRules: [] };
}

/**
 * Answers one admission request: validate denies or warns, mutate patches (enforce) or says what it would
 * patch (warn). `namespaceMode` comes from the webhook URL, i.e. the namespace's rollsafe.dev/mode label.
 */
export function handleAdmission(request: AdmissionRequest, endpoint: Endpoint, policy: Policy, namespaceMode?: Mode, namespaceLabels?: Record<string, string>): AdmissionOutcome {
  const object = request.object;
  if (!isJudged(request) || !object || namespaceMode === 'off') {
    return { response: allowed(request.uid), decision: 'skipped', patchedRules: [] };
  }
  const namespace = request.namespace || asRecord(object['metadata'])?.['namespace'];
  // Built member by member: object spreads on this path cost more than the rules they feed.
  const options: EvaluateOptions = { namespace: typeof namespace === 'string' && namespace !== '' ? namespace : 'default' };
  if (namespaceMode) options.namespaceMode = namespaceMode;
  if (namespaceLabels) options.namespaceLabels = namespaceLabels;
  if (endpoint === 'mutate') options.fixModes = ENFORCE_FIX_MODES;
  const evaluation = evaluate(object, policy, options);
  if (!evaluation) return { response: allowed(request.uid), decision: 'skipped', patchedRules: [] };
  if (evaluation.errors.length > 0) return failedOpen(request, evaluation);
  const rollout = startsRollout(request);
  const outcome = endpoint === 'validate' ? validate(request, evaluation) : mutate(request, object, evaluation, rollout);
  outcome.evaluation = evaluation;
  outcome.startsRollout = rollout;
  return outcome;
}
