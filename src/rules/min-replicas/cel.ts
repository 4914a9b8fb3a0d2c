import { celText, literal } from '../../export/cel.js';
import { finding } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import { minReplicas, ONE_POD, onePodOf, tooFewReplicas } from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/** The check of rule.ts in CEL, without an HPA (admission sees no other object). */
export const minReplicasCel: ExportedRule = {
  rule: minReplicas,
  findings({ policy }) {
    const minimum = literal(policy.minReplicas);
    const replicas = 'object.spec.?replicas.orValue(1)';
    const written = cel(`has(object.spec.replicas) ? string(object.spec.replicas) : ${celText(unsetDefaultsTo(1))}`);
    // consequence() of rule.ts; replicas 0 passes before it is asked.
    const cost = cel(`${replicas} == 1 ? ${literal(ONE_POD)} : ${celText(onePodOf(cel(`string(${replicas} - 1)`), cel(`string(${replicas})`)))}`);
    return `object.kind != 'DaemonSet' && ${replicas} != 0 && ${replicas} < ${minimum} ? [${finding(celText(tooFewReplicas([written], policy.minReplicas, [cost])))}] : []`;
  },
};
