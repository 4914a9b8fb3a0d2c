import { kubernetesMinor } from '../../policy/version.js';
import { asArray, asInteger, asRecord, deepClone, type JsonObject } from '../../util/object.js';
import { selectorMatches } from '../../workloads/label-selector.js';
import { autoscalerFor } from '../../workloads/related.js';
import type { Workload } from '../../workloads/workload.js';
import { ROLLOUT_HASH_LABEL } from '../../workloads/argo-rollout.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import type { RuleDescriptor } from '../rule.js';

export const HOSTNAME = 'kubernetes.io/hostname';

// The findings and the fix, written once for the check below and its CEL (cel.ts). `pods`: how many, or "up to" so many.
export function clashingSpread(pods: Piece | Message): Message {
  return message`its ${pods} pods may all land on one node: its ScheduleAnyway topologySpreadConstraint on ${HOSTNAME} has a labelSelector that does not select its own pods, so it spreads other pods, not these. Point that constraint's labelSelector at the pod template's labels (rollsafe cannot add a second one: the apiserver refuses two constraints with the same topologyKey and whenUnsatisfiable).`;
}

export function notSpread(pods: Piece | Message): Message {
  return message`its ${pods} pods may all land on one node (no topologySpreadConstraint or pod anti-affinity on ${HOSTNAME} selects them): draining or losing that node takes every replica down at once. Spread them across nodes.`;
}

/** `keys`: MATCH_LABEL_KEYS where the constraint has them, else nothing. */
export function addsSpread(keys: Piece | Message): Message {
  return message`adds a soft topologySpreadConstraint (maxSkew 1 on ${HOSTNAME}, ScheduleAnyway${keys})`;
}

export const MATCH_LABEL_KEYS = ', matchLabelKeys [pod-template-hash]';
export const ROLLOUT_MATCH_LABEL_KEYS_TEXT = ', matchLabelKeys [rollouts-pod-template-hash]';

/** A term spreads this workload across nodes: per-node topology, and a selector that picks its own pods. */
function spreadsOwnPods(topologyKey: unknown, labelSelector: unknown, workload: Workload): boolean {
  return topologyKey === HOSTNAME && selectorMatches(labelSelector, workload.podLabels);
}

/** A hostname topology spread constraint, or a hostname pod anti-affinity (required or preferred), over its own pods. */
export function spreadAcrossNodes(workload: Workload): boolean {
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
export function supportsMatchLabelKeys(kubernetesVersion: string): boolean {
  return kubernetesMinor(kubernetesVersion) >= 27;
}

/** The constraint the fix adds, without its selector: soft (never leaves a pod pending). */
export const SOFT_SPREAD = { maxSkew: 1, topologyKey: HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway' } as const;
/** For Deployments: old and new ReplicaSets of a rollout are counted apart, so the surge pods do not skew each other. */
export const DEPLOYMENT_MATCH_LABEL_KEYS = ['pod-template-hash'];
/** Argo Rollouts label their ReplicaSets' pods with their own hash (types.go DefaultRolloutUniqueLabelKey). */
export const ROLLOUT_MATCH_LABEL_KEYS = [ROLLOUT_HASH_LABEL];

/** The hash label of the ReplicaSets that run the pods: a Deployment's, or a Rollout's (also of a Deployment it runs). */
function hashLabelKeys(workload: Workload): string[] | undefined {
  if (workload.ref.kind === 'Rollout' || workload.runBy) return ROLLOUT_MATCH_LABEL_KEYS;
  return workload.ref.kind === 'Deployment' ? DEPLOYMENT_MATCH_LABEL_KEYS : undefined;
}

/** The constraint the fix adds, over the workload's own selector. */
function constraintFor(workload: Workload, kubernetesVersion: string): JsonObject {
  const selector = asRecord(asRecord(workload.object['spec'])?.['selector']) ?? { matchLabels: workload.podLabels };
  return {
    ...SOFT_SPREAD,
    labelSelector: deepClone(selector),
    ...(hashLabelKeys(workload) && supportsMatchLabelKeys(kubernetesVersion) ? { matchLabelKeys: [...hashLabelKeys(workload)!] } : {}),
  };
}

export const nodeSpread: RuleDescriptor<'node-spread', Record<never, never>> = {
  id: 'node-spread',
  defaultSeverity: 'warning',
  defaultMode: 'enforce',
  fixable: true,
  needsContext: false,
  judges: 'pod-template',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: 'A Deployment or StatefulSet with 2+ pods spreads them across nodes (hostname topology spread or pod anti-affinity).',
    why: 'The scheduler may put every replica on one node; draining that node for an upgrade, or losing it, then takes the whole workload down at once, whatever the PodDisruptionBudget says about evictions one by one.',
    checks: 'A Deployment, StatefulSet or Argo Rollout with 2+ pods (replicas, or an HPA maxReplicas) has a topologySpreadConstraint or a pod anti-affinity term on kubernetes.io/hostname whose selector picks its own pods. Fix: adds a soft constraint (maxSkew 1, ScheduleAnyway, the workload selector, matchLabelKeys [pod-template-hash] for Deployments and [rollouts-pod-template-hash] for Rollouts from 1.27), never a hard one.',
    readme: {
      checks: 'A Deployment, StatefulSet or Argo Rollout that runs 2+ pods (its replicas, or an HPA\'s `maxReplicas`) spreads them across nodes: a `topologySpreadConstraint` or a pod anti-affinity term (required or preferred) on `kubernetes.io/hostname` whose selector picks its own pods. Otherwise one node drain can take every replica down at once. The fix adds a **soft** constraint (`maxSkew: 1`, `whenUnsatisfiable: ScheduleAnyway`, the workload\'s own selector, and for Deployments `matchLabelKeys: [pod-template-hash]` from 1.27, so the old and new ReplicaSets of a rollout do not skew each other; for Argo Rollouts, and for the Deployment whose template a Rollout runs through `workloadRef`, `[rollouts-pod-template-hash]`, the label their ReplicaSets carry); never a hard one, which could leave pods pending.',
      peers: {
        polaris: '`topologySpreadConstraint`',
        kubeScore: '`deployment-has-host-podantiaffinity`',
        kubeLinter: '`no-anti-affinity`',
        kyverno: '`topologyspreadconstraints-policy`',
        differs: 'A hostname spread constraint *or* anti-affinity counts, if it selects the workload\'s own pods; the fix is a soft constraint with `matchLabelKeys: [pod-template-hash]`, never a hard one.',
      },
    },
  },
  check({ workload, related, policy }) {
    if (workload.ref.kind === 'DaemonSet') return [];
    const hpa = related ? autoscalerFor(workload, related) : undefined;
    const pods = hpa ? (asInteger(asRecord(hpa['spec'])?.['maxReplicas']) ?? 1) : (workload.replicas ?? 1);
    if (pods < 2 || spreadAcrossNodes(workload)) return [];
    const constraint = constraintFor(workload, policy.kubernetesVersion);
    const existing = asArray(workload.podSpec['topologySpreadConstraints']);
    // The apiserver refuses two constraints with the same topologyKey and whenUnsatisfiable
    // (validateTopologySpreadConstraints: "Duplicate value"): a second one would break the object.
    const count = hpa ? message`up to ${pods}` : [pods];
    const clash = existing.some((entry) => asRecord(entry)?.['topologyKey'] === HOSTNAME && asRecord(entry)?.['whenUnsatisfiable'] === SOFT_SPREAD.whenUnsatisfiable);
    if (clash) {
      return [
        {
          message: text(clashingSpread(count)),
        },
      ];
    }
    return [
      {
        message: text(notSpread(count)),
        fix: {
          description: text(addsSpread(constraint['matchLabelKeys'] ? (hashLabelKeys(workload) === ROLLOUT_MATCH_LABEL_KEYS ? ROLLOUT_MATCH_LABEL_KEYS_TEXT : MATCH_LABEL_KEYS) : '')),
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
