/**
 * The admission decision, defined once: what is judged on which operation, whose writes are never denied, and
 * how findings become warnings and denials. The webhook (admission/handle.ts) runs it; `rollsafe export`
 * (export/policies.ts) compiles the same definitions to CEL, and test/export.test.ts holds the two together.
 */
import type { DeniesOn } from '../rules/rule.js';
import { message, type Message, type Piece } from '../util/message.js';

/**
 * What a request may be denied for. A CREATE, or an UPDATE that changes the pod template: everything. An
 * UPDATE that changes only the strategy: what the rules that judge strategies find (it governs a rollout in
 * progress: switching one to Recreate stops every old pod at once). Any other UPDATE (labels, annotations,
 * replicas, finalizers, and whatever the mutating webhook patched outside the template): nothing; it cannot
 * cause downtime now, and blocking it would stop teams from operating workloads that predate the policy.
 */
export type Judged = 'everything' | 'strategy' | 'nothing';

/** Whether a rule's findings may deny a request judged so (RuleDescriptor.deniesOn). */
export function mayDeny(deniesOn: DeniesOn, judged: Judged): boolean {
  return judged === 'everything' || (judged === 'strategy' && deniesOn === 'rollout-or-strategy');
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
