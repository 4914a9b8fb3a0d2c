import { kubernetesMinor } from '../policy/version.js';
import { asArray, asInteger, asRecord, deepClone, type JsonObject } from '../util/object.js';
import { selectorMatches } from '../workloads/label-selector.js';
import { autoscalerFor } from '../workloads/related.js';
import type { Workload } from '../workloads/workload.js';
import type { Rule } from './types.js';

const HOSTNAME = 'kubernetes.io/hostname';

/** A term spreads this workload across nodes: per-node topology, and a selector that picks its own pods. */
function spreadsOwnPods(topologyKey: unknown, labelSelector: unknown, workload: Workload): boolean {
  return topologyKey === HOSTNAME && selectorMatches(labelSelector, workload.podLabels);
}

/** A hostname topology spread constraint, or a hostname pod anti-affinity (required or preferred), over its own pods. */
function spreadAcrossNodes(workload: Workload): boolean {
  const { podSpec } = workload;
  for (const constraint of asArray(podSpec['topologySpreadConstraints'])) {
    const record = asRecord(constraint);
    if (record && spreadsOwnPods(record['topologyKey'], record['labelSelector'], workload)) return true;
  }
  const antiAffinity = asRecord(asRecord(podSpec['affinity'])?.['podAntiAffinity']);
  for (const term of asArray(antiAffinity?.['requiredDuringSchedulingIgnoredDuringExecution'])) {
    const record = asRecord(term);
    if (record && spreadsOwnPods(record['topologyKey'], record['labelSelector'], workload)) return true;
  }
  for (const weighted of asArray(antiAffinity?.['preferredDuringSchedulingIgnoredDuringExecution'])) {
    const term = asRecord(asRecord(weighted)?.['podAffinityTerm']);
    if (term && spreadsOwnPods(term['topologyKey'], term['labelSelector'], workload)) return true;
  }
  return false;
}

/** matchLabelKeys needs MatchLabelKeysInPodTopologySpread, beta and on by default from 1.27. */
function supportsMatchLabelKeys(kubernetesVersion: string): boolean {
  return kubernetesMinor(kubernetesVersion) >= 27;
}

/** The constraint the fix adds: soft (never leaves a pod pending), over the workload's own selector. */
function constraintFor(workload: Workload, kubernetesVersion: string): JsonObject {
  const selector = asRecord(asRecord(workload.object['spec'])?.['selector']) ?? { matchLabels: workload.podLabels };
  return {
    maxSkew: 1,
    topologyKey: HOSTNAME,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: deepClone(selector),
    // Old and new ReplicaSets of a rollout are counted apart, so the surge pods do not skew each other.
    ...(workload.ref.kind === 'Deployment' && supportsMatchLabelKeys(kubernetesVersion) ? { matchLabelKeys: ['pod-template-hash'] } : {}),
  };
}

export const nodeSpread: Rule = {
  id: 'node-spread',
  summary: 'A Deployment or StatefulSet with 2+ pods spreads them across nodes (hostname topology spread or pod anti-affinity).',
  fixable: true,
  check({ workload, related, policy }) {
    if (workload.ref.kind === 'DaemonSet') return [];
    const hpa = related ? autoscalerFor(workload, related) : undefined;
    const pods = hpa ? (asInteger(asRecord(hpa['spec'])?.['maxReplicas']) ?? 1) : (workload.replicas ?? 1);
    if (pods < 2 || spreadAcrossNodes(workload)) return [];
    const constraint = constraintFor(workload, policy.kubernetesVersion);
    const existing = asArray(workload.podSpec['topologySpreadConstraints']);
    // The apiserver refuses two constraints with the same topologyKey and whenUnsatisfiable
    // (validateTopologySpreadConstraints: "Duplicate value"): a second one would break the object.
    const clash = existing.some((entry) => asRecord(entry)?.['topologyKey'] === HOSTNAME && asRecord(entry)?.['whenUnsatisfiable'] === 'ScheduleAnyway');
    if (clash) {
      return [
        {
          message:
            `its ${hpa ? 'up to ' : ''}${pods} pods may all land on one node: its ScheduleAnyway topologySpreadConstraint on ${HOSTNAME} has a labelSelector that does not select its own pods, so it spreads other pods, not these. ` +
            'Point that constraint\'s labelSelector at the pod template\'s labels (rollsafe cannot add a second one: the apiserver refuses two constraints with the same topologyKey and whenUnsatisfiable).',
        },
      ];
    }
    return [
      {
        message:
          `its ${hpa ? 'up to ' : ''}${pods} pods may all land on one node (no topologySpreadConstraint or pod anti-affinity on ${HOSTNAME} selects them): ` +
          'draining or losing that node takes every replica down at once. Spread them across nodes.',
        fix: {
          description: `adds a soft topologySpreadConstraint (maxSkew 1 on ${HOSTNAME}, ScheduleAnyway${constraint['matchLabelKeys'] ? ', matchLabelKeys [pod-template-hash]' : ''})`,
          // Appended (an existing list keeps its items and their formatting), or the list created.
          set: [
            Array.isArray(workload.podSpec['topologySpreadConstraints'])
              ? { path: [...workload.podSpecPath, 'topologySpreadConstraints', existing.length], value: constraint }
              : { path: [...workload.podSpecPath, 'topologySpreadConstraints'], value: [constraint] },
          ],
        },
      },
    ];
  },
};
