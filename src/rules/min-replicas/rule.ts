import { asInteger, asRecord } from '../../util/object.js';
import { integerParameter } from '../../policy/parameters.js';
import { autoscalerFor } from '../../workloads/related.js';
import { objectRef } from '../../workloads/workload.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import type { RuleDescriptor } from '../rule.js';

const WHY = 'a single pod means every node drain, eviction or crash is an outage, and nothing else serves while it restarts';

/** `replicas` as written, or that it is unset (1). */
export function tooFewReplicas(replicas: Piece | Message, minimum: Piece): Message {
  return message`replicas is ${replicas} (below ${minimum}): ${WHY}.`;
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
  deniesUpdatesOf: [],
  parameters,
  docs: {
    summary: 'At least minReplicas pods (or an HPA minReplicas that high), so one pod going away is not an outage.',
    why: 'A single replica means every node drain, eviction or crash is an outage, and nothing serves while it restarts.',
    checks: 'replicas (or the HPA minReplicas) >= minReplicas (default 2); replicas 0 is a deliberate scale-down.',
    readme: {
      checks: 'Deployment/StatefulSet `replicas` (1 when unset) >= `minReplicas` (default 2). When a HorizontalPodAutoscaler in the input targets the workload, the HPA owns replicas: the check applies to the HPA\'s `minReplicas` instead. `replicas: 0` is a deliberate scale-down and passes.',
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
          message: `HorizontalPodAutoscaler "${objectRef(hpa).name}" owns the replicas and may scale down to minReplicas ${written === undefined ? text(unsetDefaultsTo(1)) : hpaMin} (below ${minimum}): ${WHY}. Raise the HPA's minReplicas.`,
        },
      ];
    }
    // replicas: 0 is a deliberate scale-down; nothing rolls out.
    if (workload.replicas === 0) return [];
    const replicas = workload.replicas ?? 1;
    if (replicas >= minimum) return [];
    return [
      {
        message: text(tooFewReplicas(workload.replicas === undefined ? unsetDefaultsTo(1) : replicas, minimum)),
      },
    ];
  },
};
