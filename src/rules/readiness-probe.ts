import { isRecord } from '../util/object.js';
import { servingContainers } from '../workloads/serving.js';
import type { Rule } from './types.js';

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
          'connection refused. Add a readinessProbe that succeeds only when the app can serve (rollsafe never invents one).',
      }));
  },
};
