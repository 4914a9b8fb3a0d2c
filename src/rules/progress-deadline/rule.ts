import { slowestReadySeconds } from '../../plan/pod-timing.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { asInteger, asRecord } from '../../util/object.js';
import type { RuleDescriptor } from '../rule.js';

/** SetDefaults_Deployment. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** The finding, written once for the check below and its CEL (cel.ts). */
export function outlastsDeadline(wait: Piece, why: Piece | Message, deadline: Piece, consequence: Piece | Message): Message {
  return message`rollsafe plan: a rollout may go ${wait}s without progress (${why}), more than progressDeadlineSeconds ${deadline}: ${consequence}. Raise progressDeadlineSeconds above ${wait}, or shorten what the probes allow.`;
}

export const DEPLOYMENT_TIMES_OUT = 'the Deployment controller marks it ProgressDeadlineExceeded while it is still proceeding (kubectl rollout status fails, and tools that watch the condition roll back)';
/**
 * Argo Rollouts (rollout/sync.go calculateRolloutConditions, evaluateProgressDeadlineAbort): Progressing turns
 * False (TimedOut) and the Rollout Degraded; with progressDeadlineAbort it aborts, moving traffic back to stable.
 */
export const ROLLOUT_TIMES_OUT = 'the Argo Rollouts controller marks it Degraded (ProgressDeadlineExceeded) while it is still proceeding, and with progressDeadlineAbort: true aborts it';

export const probesAllow = (ready: Piece): Message => message`a new pod's probes allow it ${ready}s to become Ready`;
export const minReadyFor = (minReady: Piece): Message => message`minReadySeconds ${minReady} between a new pod's Ready and its availability`;

/**
 * The Deployment controller marks a rollout ProgressDeadlineExceeded when no pod was created, became Ready or
 * available, or was scaled down for progressDeadlineSeconds (DeploymentProgressing, DeploymentTimedOut). In a
 * rolling update the longest such wait is a new pod's time to Ready, or minReadySeconds after it: what rollsafe
 * plan computes. Here each container starts as late as its startupProbe allows.
 */
export const progressDeadline: RuleDescriptor<'progress-deadline', Record<never, never>> = {
  id: 'progress-deadline',
  defaultSeverity: 'warning',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: false,
  judges: 'workload',
  deniesUpdatesOf: ['progressDeadlineSeconds', 'minReadySeconds'],
  parameters: {},
  docs: {
    summary: 'A new pod can become available within progressDeadlineSeconds, even when it starts as slowly as its probes allow.',
    why: 'progressDeadlineSeconds (600 by default) counts time without progress: when one new pod takes longer to become available, the controller marks the rollout ProgressDeadlineExceeded although it would finish, kubectl rollout status fails, and deployment tools roll back a healthy release.',
    checks: 'For Deployments and Argo Rollouts: the time a new pod may take to become Ready (each container starting as late as its startupProbe allows: initialDelaySeconds + failureThreshold x periodSeconds, then its readiness probe) or minReadySeconds, whichever is longer, against progressDeadlineSeconds, as rollsafe plan computes it. Not fixable: only the author knows whether the deadline or the probes are wrong.',
    readme: {
      checks:
        'A **Deployment**\'s new pod can become available within `progressDeadlineSeconds` (600 when unset), which counts time *without progress* (`DeploymentProgressing`: a pod created, Ready, available or scaled down). The longest wait in a rolling update is one pod\'s time to Ready, each container starting as late as its `startupProbe` allows (`initialDelaySeconds` + `failureThreshold` × `periodSeconds`, then the readiness probe\'s first pass), or `minReadySeconds`: as `rollsafe plan` computes it. Otherwise a slow but healthy rollout is marked `ProgressDeadlineExceeded`. An **Argo Rollout** is judged the same way (its deadline is 600 s too, counted as time without progress, `RolloutTimedOut`; paused steps do not count): the controller marks it Degraded, and with `progressDeadlineAbort: true` aborts it. Not fixable.',
      peers: { polaris: 'none', kubeScore: 'none', kubeLinter: 'none', kyverno: 'none', differs: 'Reads the deadline as the controller does: time without progress, against the slowest start the probes allow.' },
    },
  },
  check({ workload }) {
    if (workload.ref.kind !== 'Deployment' && workload.ref.kind !== 'Rollout') return [];
    const spec = asRecord(workload.object['spec']);
    const deadline = asInteger(spec?.['progressDeadlineSeconds']) ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
    const ready = slowestReadySeconds(workload);
    const minReady = asInteger(spec?.['minReadySeconds']) ?? 0;
    const wait = Math.max(ready, minReady);
    if (wait <= deadline) return [];
    const consequence = workload.ref.kind === 'Rollout' ? ROLLOUT_TIMES_OUT : DEPLOYMENT_TIMES_OUT;
    return [{ message: text(outlastsDeadline(wait, minReady > ready ? minReadyFor(minReady) : probesAllow(ready), deadline, consequence)) }];
  },
};
