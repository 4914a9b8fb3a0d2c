/**
 * The admission decision, defined once: what is judged on which operation, whose writes are never denied, and
 * how findings become warnings and denials. The webhook (admission/handle.ts) runs it; `rollsafe export`
 * (export/policies.ts) compiles the same definitions to CEL, and test/export.test.ts holds the two together.
 */
import type { RuleDescriptor } from '../rules/rule.js';
import { message, type Message, type Piece } from '../util/message.js';
import { asRecord, jsonEqual } from '../util/object.js';
import type { AdmissionRequest } from './review.js';

/**
 * Whether an UPDATE replaces pods. A CREATE always starts one. An UPDATE does when it changes the pod template (the
 * Deployment controller hashes `spec.template` into pod-template-hash; StatefulSets and DaemonSets compare revisions
 * of it; Argo Rollouts hash it into rollouts-pod-template-hash, ComputePodTemplateHash). A Rollout also replaces
 * its pods when pointed at another template (spec.workloadRef's apiVersion, kind or name: scaleDown only scales
 * the Deployment) or restarted (a new spec.restartAt evicts every older pod, rollout/restart.go; removing it does
 * nothing). A Rollout with a workloadRef runs the referenced template, whatever its own spec.template holds.
 */
/** The spec fields startsRollout reads. */
export const ROLLOUT_FIELDS = ['template', 'workloadRef', 'restartAt'] as const;

export function startsRollout(request: AdmissionRequest): boolean {
  if (request.operation !== 'UPDATE') return true;
  const spec = asRecord(request.object?.['spec']);
  const oldSpec = asRecord(request.oldObject?.['spec']);
  const ref = asRecord(spec?.['workloadRef']);
  const oldRef = asRecord(oldSpec?.['workloadRef']);
  if (ref || oldRef) {
    if (!ref || !oldRef || ['apiVersion', 'kind', 'name'].some((field) => ref[field] !== oldRef[field])) return true;
  } else if (!jsonEqual(spec?.['template'], oldSpec?.['template']) && !jsonEqual(withoutEmptyResources(spec?.['template']), withoutEmptyResources(oldSpec?.['template']))) {
    return true;
  }
  const restartAt = spec?.['restartAt'];
  return restartAt !== undefined && restartAt !== null && !jsonEqual(restartAt, oldSpec?.['restartAt']);
}

/**
 * The template without containers' `resources: {}`. The Argo Rollouts controller writes every Rollout back with
 * it (its typed Container has no omitempty on resources), right after a user's create or template change; both
 * controllers hash the typed template, where `{}` and no resources are the same struct, so that write starts no
 * rollout and must never be denied.
 */
function withoutEmptyResources(template: unknown): unknown {
  const podSpec = asRecord(asRecord(template)?.['spec']);
  if (!podSpec) return template;
  const strip = (containers: unknown) =>
    Array.isArray(containers)
      ? containers.map((container) => {
          const record = asRecord(container);
          if (!record || !jsonEqual(record['resources'], {})) return container;
          const { resources: _empty, ...rest } = record;
          return rest;
        })
      : containers;
  return { ...asRecord(template), spec: { ...podSpec, containers: strip(podSpec['containers']), initContainers: strip(podSpec['initContainers']) } };
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
