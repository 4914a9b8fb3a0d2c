/**
 * The admission decision, defined once: what is judged on which operation, whose writes are never denied, and
 * how findings become warnings and denials. The webhook (admission/handle.ts) runs it; `rollsafe export`
 * (export/policies.ts) compiles the same definitions to CEL, and test/export.test.ts holds the two together.
 */
import type { RuleDescriptor } from '../rules/rule.js';
import { message, type Message, type Piece } from '../util/message.js';
import { asRecord, jsonEqual } from '../util/object.js';
import { canonicalRolloutTemplate } from './canonical-template.js';
import type { AdmissionRequest } from './review.js';

/**
 * Whether an UPDATE replaces pods. A CREATE always starts one. An UPDATE does when it changes the pod template (the
 * Deployment controller hashes `spec.template` into pod-template-hash; StatefulSets and DaemonSets compare revisions
 * of it; Argo Rollouts hash it into rollouts-pod-template-hash, ComputePodTemplateHash). A Rollout also replaces
 * its pods when pointed at another template (spec.workloadRef's apiVersion, kind or name: scaleDown only scales
 * the Deployment) or restarted (a new spec.restartAt evicts every older pod, rollout/restart.go; removing it does
 * nothing). A Rollout with a workloadRef runs the referenced template, whatever its own spec.template holds.
 *
 * A Rollout is a custom resource, stored as written; the Argo Rollouts controller writes it back through its typed
 * structs after a create and after every template change, which canonicalises what it hashes the same either way:
 * empty lists and maps and false dropped, `resources: {}` added, quantities in canonical form (sameTemplate,
 * canonical-template.ts), restartAt at whole seconds in UTC (sameRestart). Such a write starts no rollout, and
 * must never be denied.
 */
export function startsRollout(request: AdmissionRequest): boolean {
  if (request.operation !== 'UPDATE') return true;
  const spec = asRecord(request.object?.['spec']);
  const oldSpec = asRecord(request.oldObject?.['spec']);
  const ref = asRecord(spec?.['workloadRef']);
  const oldRef = asRecord(oldSpec?.['workloadRef']);
  if (ref || oldRef) {
    if (!ref || !oldRef || ['apiVersion', 'kind', 'name'].some((field) => ref[field] !== oldRef[field])) return true;
  } else if (!sameTemplate(request, spec?.['template'], oldSpec?.['template'])) {
    return true;
  }
  const restartAt = spec?.['restartAt'];
  return restartAt !== undefined && restartAt !== null && !sameRestart(restartAt, oldSpec?.['restartAt']);
}

/**
 * Pod templates equal as the controller hashes them. Deployments, StatefulSets and DaemonSets are stored typed:
 * equal as the apiserver hands them over. A Rollout is stored as written: equal once written back as the Argo
 * Rollouts controller writes it (canonical-template.ts).
 */
function sameTemplate(request: AdmissionRequest, template: unknown, oldTemplate: unknown): boolean {
  if (jsonEqual(template, oldTemplate)) return true;
  return isRollout(request) && jsonEqual(canonicalRolloutTemplate(template), canonicalRolloutTemplate(oldTemplate));
}

const isRollout = (request: AdmissionRequest) => request.kind.group === 'argoproj.io' && request.kind.kind === 'Rollout';

/**
 * RFC 3339 (time.RFC3339, as Go and CEL's timestamp() read it): a date, T, a time with a fraction or not, Z or an
 * offset. Years 1000 to 8999 only: CEL's timestamps end at 0001 and 9999, offsets included (export/policies.ts).
 */
export const RFC3339 = /^([1-8]\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/**
 * A restartAt's second since the epoch, or undefined for what is no RFC 3339 date-time (or no such day). The
 * controller reads it as a metav1.Time and writes it back at second precision in UTC (Time.MarshalJSON, RFC3339):
 * `2030-01-02T04:04:05.123+01:00` becomes `2030-01-02T03:04:05Z`, the same restart (rollout/restart.go compares
 * pods' creation times with it: argo-rollouts docs/features/restart.md, "an RFC 3339 formatted string").
 */
function restartSecond(value: unknown): number | undefined {
  const match = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (!match) return undefined;
  const [, year, month, day] = match.map(Number) as [number, number, number, number];
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  const milliseconds = Date.parse(value as string);
  return Number.isNaN(milliseconds) ? undefined : Math.floor(milliseconds / 1000);
}

/** restartAt values that are one restart: the same instant at second precision, or (not date-times) the same as written. */
function sameRestart(restartAt: unknown, oldRestartAt: unknown): boolean {
  if (jsonEqual(restartAt, oldRestartAt)) return true;
  const second = restartSecond(restartAt);
  return second !== undefined && second === restartSecond(oldRestartAt);
}

/**
 * Whether a rule's findings may deny a request. A CREATE, or an UPDATE that changes the pod template: every
 * rule's. Any other UPDATE only for a rule that judges a field it changes (RuleDescriptor.deniesUpdatesOf: the
 * strategy, which governs a rollout in progress; revisionHistoryLimit, whose change prunes the history at
 * once). Labels, annotations, replicas, finalizers, and what the mutating webhook patched outside the template
 * are never denied: they cause no downtime now, and blocking them would stop teams from operating workloads
 * that predate the policy.
 */
export function mayDeny(rule: Pick<RuleDescriptor, 'deniesUpdatesOf'>, request: AdmissionRequest): boolean {
  if (startsRollout(request)) return true;
  const spec = asRecord(request.object?.['spec']);
  const oldSpec = asRecord(request.oldObject?.['spec']);
  return rule.deniesUpdatesOf.some((field) => !jsonEqual(spec?.[field], oldSpec?.[field]));
}

/**
 * The Deployment controller's own writes: kube-controller-manager itself, or the Deployment controller's
 * service account (--use-service-account-credentials). It writes a template only to carry out a rollback
 * (pkg/controller/deployment/rollback.go, rollbackToTemplate); denying that would leave it retrying forever,
 * so it is judged but never denied. Other kube-system "*-controller" accounts (add-ons) are users like any.
 */
export const KUBERNETES_CONTROLLER_USERNAMES = ['system:kube-controller-manager', 'system:serviceaccount:kube-system:deployment-controller'] as const;

/** A warning is one line kubectl prints: the rule, then the first sentence of the message, cut at this many code points. */
export const MAX_WARNING = 240;

/** What the denial says before its numbered violations. */
export function denialHeader(kind: Piece, name: Piece, violations: Piece): Message {
  return message`rollsafe denied ${kind} ${name}: ${violations} zero-downtime violation(s):`;
}
