import { literal } from '../cel.js';
import { finding } from '../workload-cel.js';
import type { ExportedRule } from './types.js';

const WHY = 'a single pod means every node drain, eviction or crash is an outage, and nothing else serves while it restarts';

/** rules/min-replicas.ts without an HPA (admission sees no other object). */
export const minReplicasCel: ExportedRule = {
  id: 'min-replicas',
  findings({ policy }) {
    const minimum = literal(policy.minReplicas);
    const replicas = 'object.spec.?replicas.orValue(1)';
    const written = `(has(object.spec.replicas) ? string(object.spec.replicas) : 'unset, defaults to 1')`;
    return `object.kind != 'DaemonSet' && ${replicas} != 0 && ${replicas} < ${minimum} ? [${finding(`'replicas is ' + ${written} + ${literal(` (below ${policy.minReplicas}): ${WHY}.`)}`)}] : []`;
  },
};
