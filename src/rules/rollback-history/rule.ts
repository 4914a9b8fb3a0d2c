import { asInteger, asRecord } from '../../util/object.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import type { RuleDescriptor } from '../rule.js';

/** SetDefaults_Deployment, SetDefaults_StatefulSet, SetDefaults_DaemonSet: 10 when unset. */
export const DEFAULT_REVISION_HISTORY = 10;

/** The finding, written once for the check below and its CEL (cel.ts). */
export function noRollbackHistory(kind: Piece): Message {
  return message`revisionHistoryLimit is 0: the ${kind} controller deletes every old revision it does not run pods of, so kubectl rollout undo has nothing to go back to, and the quick way out of a bad rollout is gone. Keep at least 1 (the default is ${DEFAULT_REVISION_HISTORY}).`;
}

/**
 * The controllers keep at most revisionHistoryLimit old revisions and delete the rest once they run no pods
 * (Deployment: cleanupDeployment deletes old ReplicaSets scaled to 0; StatefulSet: truncateHistory; DaemonSet:
 * cleanupHistory, both ControllerRevisions): at 0 nothing is left for `kubectl rollout undo`.
 */
export const rollbackHistory: RuleDescriptor<'rollback-history', Record<never, never>> = {
  id: 'rollback-history',
  defaultSeverity: 'warning',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: false,
  judges: 'workload',
  // The controllers prune revisions on every sync: the update that sets 0 is the one that loses the history.
  deniesUpdatesOf: ['revisionHistoryLimit'],
  parameters: {},
  docs: {
    summary: 'revisionHistoryLimit keeps at least one old revision, so a bad rollout can be undone.',
    why: 'kubectl rollout undo goes back to an old ReplicaSet (ControllerRevision for StatefulSets and DaemonSets). With revisionHistoryLimit 0 the controller deletes them all as soon as they run no pods, so the fastest way out of a bad rollout is gone and the old template must be found and applied by hand.',
    checks: 'spec.revisionHistoryLimit of a Deployment, StatefulSet or DaemonSet is not 0 (unset defaults to 10). Not fixable: a limit of 0 is written on purpose, and only its author can weigh it.',
    readme: {
      checks:
        '`spec.revisionHistoryLimit` (10 when unset) is not 0 on a Deployment, StatefulSet or DaemonSet. At 0 the controller deletes every old revision that runs no pods, on every sync (`cleanupDeployment`, `truncateHistory`, `cleanupHistory`), so setting it is what loses the history: that update is judged too, so `kubectl rollout undo` has nothing to go back to. Not fixable: 0 is written on purpose.',
      peers: {
        polaris: 'none',
        kubeScore: 'none',
        kubeLinter: 'none',
        kyverno: 'none',
        differs: 'Only 0 is flagged: any history keeps `kubectl rollout undo` working.',
      },
    },
  },
  check({ workload }) {
    const limit = asInteger(asRecord(workload.object['spec'])?.['revisionHistoryLimit']) ?? DEFAULT_REVISION_HISTORY;
    return limit === 0 ? [{ message: text(noRollbackHistory(workload.ref.kind)) }] : [];
  },
};
