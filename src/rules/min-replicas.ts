import { asInteger, asRecord } from '../util/object.js';
import { autoscalerFor } from '../workloads/related.js';
import { objectRef } from '../workloads/workload.js';
import type { Rule } from './types.js';

const WHY = 'a single pod means every node drain, eviction or crash is an outage, and nothing else serves while it restarts';

export const minReplicas: Rule = {
  id: 'min-replicas',
  summary: 'At least minReplicas pods (or an HPA minReplicas that high), so one pod going away is not an outage.',
  fixable: false,
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
          message: `HorizontalPodAutoscaler "${objectRef(hpa).name}" owns the replicas and may scale down to minReplicas ${written === undefined ? 'unset, defaults to 1' : hpaMin} (below ${minimum}): ${WHY}. Raise the HPA's minReplicas.`,
        },
      ];
    }
    // replicas: 0 is a deliberate scale-down; nothing rolls out.
    if (workload.replicas === 0) return [];
    const replicas = workload.replicas ?? 1;
    if (replicas >= minimum) return [];
    return [
      {
        message: `replicas is ${workload.replicas === undefined ? 'unset, defaults to 1' : replicas} (below ${minimum}): ${WHY}.`,
      },
    ];
  },
};
