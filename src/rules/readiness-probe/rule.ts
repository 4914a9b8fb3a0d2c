import { isRecord } from '../../util/object.js';
import { servingContainers } from '../../workloads/serving.js';
import { containerPorts } from '../../workloads/workload.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { named } from '../phrases.js';
import type { RuleDescriptor } from '../rule.js';

/**
 * The finding, with a pasteable probe for the hint on `port`: the container's first declared port (its name,
 * quoted, when it has one). The path is a placeholder the developer must point at their app's readiness
 * endpoint; a tcpSocket probe is only as good as "the port is open".
 */
export function noReadinessProbe(who: Message, reason: Piece | Message, port: Piece): Message {
  return message`${who} ${reason} but has no readinessProbe: during a rollout its new pods join the Service as soon as they start, before the app listens, and clients get connection refused. Add a readinessProbe that succeeds only when the app can serve (rollsafe never invents one), for example: readinessProbe: {httpGet: {path: /ready, port: ${port}}, periodSeconds: 5}, with /ready answering 200 only once the app serves.`;
}

function examplePort(container: Record<string, unknown>): string {
  const [port] = containerPorts(container);
  return typeof port?.['name'] === 'string' ? JSON.stringify(port['name']) : typeof port?.['containerPort'] === 'number' ? String(port['containerPort']) : '8080';
}

export const readinessProbe: RuleDescriptor<'readiness-probe', Record<never, never>> = {
  id: 'readiness-probe',
  defaultSeverity: 'error',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: false,
  judges: 'pod-template',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: 'Every serving container has a readinessProbe, so new pods get traffic only once they can serve.',
    why: 'Without a readiness probe a new pod joins the Service the moment its container starts, before the app listens: clients get connection refused during every rollout.',
    checks: 'Every serving container (one that declares a port, or whose pod a Service in the input selects) has a readinessProbe. Not fixable: rollsafe never invents a probe, since a wrong one keeps pods unready forever.',
    readme: {
      checks: 'Every **serving** container has a `readinessProbe`. Serving = declares a container port, or (when no container declares one) its pod is selected by a Service in the input. A container whose every port is named as a health or metrics port (`healthz`, `health`, `metrics`, `http-metrics`, `pprof`, ...) serves only when a Service in the input selects its pod: a CNI agent\'s `healthz` port gets kubelet probes, not clients (a liveness probe on a port is no such sign: most apps probe liveness where they serve). Native sidecars (initContainers with `restartPolicy: Always`) that serve count; plain initContainers never do. rollsafe never invents a probe: a guessed probe can keep pods unready forever.',
      peers: {
        polaris: '`readinessProbeMissing`',
        kubeScore: '`pod-probes`',
        kubeLinter: '`no-readiness-probe` (off by default)',
        kyverno: '`require-pod-probes`',
        differs: 'Per *serving* container only (a declared port, or a Service selecting the pod; health/metrics-only ports exempt): workers need no readiness. kube-score is satisfied by one probe in the pod; Kyverno by any probe kind. Never invents a probe.',
      },
    },
  },
  check({ workload, related }) {
    return servingContainers(workload, related)
      .filter((container) => !isRecord(container.spec['readinessProbe']))
      .map((container) => ({
        container: container.name,
        message: text(noReadinessProbe(named(container.sidecar ? 'sidecar' : 'container', container.name), container.reason, examplePort(container.spec))),
      }));
  },
};
