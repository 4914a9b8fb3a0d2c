import { celText, literal } from '../../export/cel.js';
import { finding, POD } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { DECLARED_VIA } from '../../budget/fronts.js';
import { AWS_IP_PROFILES, AWS_READINESS_GATE_LABEL, AWS_READINESS_GATE_PREFIX } from '../../budget/profiles.js';
import { lbReadinessGate, notLabelled } from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/**
 * rule.ts at admission: a declared AWS front in IP mode (variables.lbKnown, export/budget-cel.ts), no such
 * readiness gate in the pod template, and a namespace without the label. A ValidatingAdmissionPolicy reads the
 * namespace itself (namespaceObject), where the webhook learns the label from its entry's path.
 */
export const lbReadinessGateCel: ExportedRule = {
  rule: lbReadinessGate,
  findings() {
    const behind = `variables.lbKnown.exists(p, p in [${AWS_IP_PROFILES.map((profile) => literal(profile)).join(', ')}])`;
    const gated = `${POD}.?readinessGates.orValue([]).exists(g, g.?conditionType.orValue('').startsWith(${literal(AWS_READINESS_GATE_PREFIX)}))`;
    const labelled = `namespaceObject.?metadata.?labels[?${literal(AWS_READINESS_GATE_LABEL)}].orValue('') == 'enabled'`;
    const message = celText(notLabelled(DECLARED_VIA, cel('request.namespace')));
    return `${behind} && !(${gated}) && !(${labelled}) ? [${finding(message)}] : []`;
  },
};
