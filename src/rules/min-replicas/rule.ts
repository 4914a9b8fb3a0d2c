import { asInteger, asRecord } from '../../util/object.js';
import { integerParameter } from '../../policy/parameters.js';
import { autoscalerFor } from '../../workloads/related.js';
import { objectRef } from '../../workloads/workload.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import type { RuleDescriptor } from '../rule.js';

/** What one pod going away costs at one pod. */
export const ONE_POD = 'a single pod means every node drain, eviction or crash is an outage, and nothing else serves while it restarts';

/** What one pod going away costs at `count` > 1 pods (`left` is count - 1): said from the numbers, not as an outage. */
export function onePodOf(left: Piece, count: Piece): Message {
  return message`a node drain, eviction or crash of one pod leaves ${left} of ${count} to carry all the traffic`;
}

/** The cost, from the pod count the workload may run at (an HPA at minReplicas 0 may run none). */
export function consequence(count: number): Message {
  if (count < 1) return ['at 0 pods nothing serves until the autoscaler scales up again'];
  return count === 1 ? [ONE_POD] : onePodOf(count - 1, count);
}

/** `replicas` as written, or that it is unset (1); `cost` is `consequence` of the count. */
export function tooFewReplicas(replicas: Piece | Message, minimum: Piece, cost: Message): Message {
  return message`replicas is ${replicas} (below ${minimum}): ${cost}.`;
}

const parameters = {
  minReplicas: integerParameter({ default: 2, minimum: 1 }),
};

export const minReplicas: RuleDescriptor<'min-replicas', typeof parameters> = {
  id: 'min-replicas',
  defaultSeverity: 'warning',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: false,
  judges: 'workload',
  deniesUpdatesOf: [],
  parameters,
  docs: {
    summary: 'At least minReplicas pods (or an HPA minReplicas that high), so one pod going away is not an outage.',
    why: 'A single replica means every node drain, eviction or crash is an outage, and nothing serves while it restarts; with a few, the pods left carry all the traffic while one is gone.',
    checks: 'replicas (or the HPA minReplicas) >= minReplicas (default 2); replicas 0 is a deliberate scale-down.',
    readme: {
      checks: 'Deployment/StatefulSet/Rollout `replicas` (1 when unset) >= `minReplicas` (default 2). When a HorizontalPodAutoscaler in the input targets the workload, the HPA owns replicas: the check applies to the HPA\'s `minReplicas` instead. `replicas: 0` is a deliberate scale-down and passes.',
      peers: {
        polaris: '`deploymentMissingReplicas`, `hpaMinAvailability`',
        kubeScore: '`deployment-replicas`',
        kubeLinter: '`minimum-three-replicas` (off by default)',
        kyverno: '`deployment-has-multiple-replicas`',
        differs: 'An HPA\'s `minReplicas` stands for replicas; threshold 2 (configurable).',
      },
    },
  },
  check({ workload, related, policy }) {
    if (workload.ref.kind === 'DaemonSet') return [];
    const minimum = policy.minReplicas;
    const hpa = related ? autoscalerFor(workload, related) : undefined;
    if (hpa) {
      const written = asInteger(asRecord(hpa['spec'])?.['minReplicas']);
      const hpaMin = written ?? 1;
      if (hpaMin >= minimum) return [];
      return [
        {
          message: `HorizontalPodAutoscaler "${objectRef(hpa).name}" owns the replicas and may scale down to minReplicas ${written === undefined ? text(unsetDefaultsTo(1)) : hpaMin} (below ${minimum}): ${text(consequence(hpaMin))}. Raise the HPA's minReplicas.`,
        },
      ];
    }
    // replicas: 0 is a deliberate scale-down; nothing rolls out.
    if (workload.replicas === 0) return [];
    const replicas = workload.replicas ?? 1;
    if (replicas >= minimum) return [];
    return [
      {
        message: text(tooFewReplicas(workload.replicas === undefined ? unsetDefaultsTo(1) : replicas, minimum, consequence(replicas))),
      },
    ];
  },
};
