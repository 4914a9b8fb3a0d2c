import { frontsOf } from '../../budget/fronts.js';
import { AWS_IP_PROFILES, AWS_READINESS_GATE_LABEL, AWS_READINESS_GATE_PREFIX } from '../../budget/profiles.js';
import { asArray, asRecord, asString, isRecord } from '../../util/object.js';
import { objectRef, stringMap } from '../../workloads/workload.js';
import type { RuleDescriptor } from '../rule.js';
import { message, text, type Message, type Piece } from '../../util/message.js';

/**
 * Pods behind the AWS Load Balancer Controller in IP mode need its readiness gates: the controller injects
 * `target-health.elbv2.k8s.aws/<target group binding>` conditions into pods of namespaces labelled
 * `elbv2.k8s.aws/pod-readiness-gate-inject: enabled` (docs/deploy/pod_readiness_gate.md), and a pod is then
 * Ready only once its target is healthy in the load balancer. Without them a rollout replaces pods as fast as
 * they pass their own probe, which can be before the load balancer sends to any new one: every old target is
 * draining, no new one is healthy, and the load balancer answers 502/503.
 */
export function notLabelled(via: Piece, namespace: Piece): Message {
  return message`its pods are behind ${via}, but namespace ${namespace} is not labelled ${AWS_READINESS_GATE_LABEL}=enabled, so the AWS Load Balancer Controller injects no readiness gates: a pod is Ready before its target is healthy in the load balancer, and a rollout can replace every old pod before the load balancer sends to a new one (502s). Label the namespace ${AWS_READINESS_GATE_LABEL}=enabled (the controller injects the gates into pods created after that).`;
}

export const lbReadinessGate: RuleDescriptor<'lb-readiness-gate', Record<never, never>> = {
  id: 'lb-readiness-gate',
  defaultSeverity: 'error',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: false,
  judges: 'pod-template',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: 'Pods that an AWS ALB or NLB reaches in IP mode get the controller\'s readiness gates (namespace label elbv2.k8s.aws/pod-readiness-gate-inject).',
    why: 'In IP mode the load balancer registers pod IPs itself and takes seconds to mark a new target healthy; without readiness gates a pod is Ready before that, so a rollout can replace every old pod before the load balancer sends to any new one.',
    checks: `A workload behind an ALB (Ingress) or NLB (Service) of the AWS Load Balancer Controller with target-type ip runs in a namespace labelled ${AWS_READINESS_GATE_LABEL}: enabled, or declares ${AWS_READINESS_GATE_PREFIX}* readinessGates itself. Audits find the Service and Ingress in the same input or namespace, and read the Namespace (in the input, or the cluster's): when its labels are not known, they say so. At admission it judges workloads that declare such a front (rollsafe.dev/load-balancer), knowing the label from the path of the webhook entry that called it (one entry per label value); the native policies read the namespace object.`,
    readme: {
      checks: `A workload behind an ALB (an Ingress of class \`alb\`) or an NLB (a Service the controller owns) of the AWS Load Balancer Controller with \`target-type: ip\` runs in a namespace labelled \`${AWS_READINESS_GATE_LABEL}: enabled\` (the controller then injects \`${AWS_READINESS_GATE_PREFIX}…\` readiness gates into its pods, \`docs/deploy/pod_readiness_gate.md\`), or declares such gates itself. Without them a pod is Ready before its target is healthy in the load balancer, and a rollout can replace every old pod before the load balancer sends to a new one. Judged by every audit from the Service, Ingress and Namespace in the input (or the cluster with \`--cluster\`); a namespace whose labels are not known is named as unknown, never passed. At admission, for workloads that declare such a front with \`rollsafe.dev/load-balancer\`: the validating webhook configuration has one entry per value of the label, whose path tells the server (\`/validate/…/ns/elbv2-gates\` or \`…/ns/no-elbv2-gates\`), so the server still needs no apiserver access; the exported native policies read \`namespaceObject\`. Instance mode (the default target type) goes through NodePorts and kube-proxy and needs no gate.`,
      peers: {
        polaris: 'none',
        kubeScore: 'none',
        kubeLinter: 'none',
        kyverno: 'none',
        differs: 'Reads the AWS controller\'s own annotations and the namespace label that decides injection.',
      },
    },
  },
  check({ workload, related, namespace: judgedIn, namespaceLabels }) {
    const behind = frontsOf(workload, related).filter((front) => AWS_IP_PROFILES.includes(front.profile));
    const [front] = behind;
    if (!front) return [];
    const declared = asArray(workload.podSpec['readinessGates'])
      .filter(isRecord)
      .some((gate) => asString(gate['conditionType'])?.startsWith(AWS_READINESS_GATE_PREFIX));
    if (declared) return [];
    // Audits read the Namespace among their objects; admission knows the label from its entry's path, or not at all.
    const name = related ? workload.ref.namespace : judgedIn;
    const namespace = related && name !== undefined ? related.namespaces.find((candidate) => objectRef(candidate).name === name) : undefined;
    const labels = related ? (namespace ? stringMap(asRecord(namespace['metadata'])?.['labels']) : undefined) : namespaceLabels;
    if (!related && !labels) return [];
    if (labels?.[AWS_READINESS_GATE_LABEL] === 'enabled') return [];
    if (!labels) {
      return [
        {
          cap: 'warning',
          message: `its pods are behind ${front.via}, which needs the AWS Load Balancer Controller's readiness gates, and the labels of namespace ${name ?? '(none given)'} are unknown (not in the input, or not readable with these credentials), so rollsafe cannot tell whether it is labelled ${AWS_READINESS_GATE_LABEL}=enabled. Without the gates a rollout can replace every pod before the load balancer sends to a new one. Audit with the Namespace in the input, or --cluster with read access to it.`,
        },
      ];
    }
    return [{ message: text(notLabelled(front.via, name ?? '(none given)')) }];
  },
};
