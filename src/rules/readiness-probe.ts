import { isRecord } from '../util/object.js';
import { servingContainers } from '../workloads/serving.js';
import { containerPorts } from '../workloads/workload.js';
import type { Rule } from './types.js';

/**
 * A pasteable probe for the hint, on the container's first declared port (by name when it has one). The
 * path is a placeholder the developer must point at their app's readiness endpoint; a tcpSocket probe is
 * only as good as "the port is open".
 */
function example(container: Record<string, unknown>): string {
  const [port] = containerPorts(container);
  const target = typeof port?.['name'] === 'string' ? JSON.stringify(port['name']) : typeof port?.['containerPort'] === 'number' ? String(port['containerPort']) : '8080';
  return `readinessProbe: {httpGet: {path: /ready, port: ${target}}, periodSeconds: 5}, with /ready answering 200 only once the app serves.`;
}

export const readinessProbe: Rule = {
  id: 'readiness-probe',
  summary: 'Every serving container has a readinessProbe, so new pods get traffic only once they can serve.',
  fixable: false,
  check({ workload, related }) {
    return servingContainers(workload, related)
      .filter((container) => !isRecord(container.spec['readinessProbe']))
      .map((container) => ({
        container: container.name,
        message:
          `${container.sidecar ? 'sidecar' : 'container'} "${container.name}" ${container.reason} but has no readinessProbe: ` +
          'during a rollout its new pods join the Service as soon as they start, before the app listens, and clients get ' +
          `connection refused. Add a readinessProbe that succeeds only when the app can serve (rollsafe never invents one), for example: ${example(container.spec)}`,
      }));
  },
};
