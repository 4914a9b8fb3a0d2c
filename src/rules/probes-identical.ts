import { asRecord, asString, isRecord, jsonEqual, type JsonObject } from '../util/object.js';
import { containerPorts } from '../workloads/workload.js';
import type { Rule } from './types.js';

const PROBE_DEFAULTS = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };

/** Resolves a named port to its number so `port: http` and `port: 8080` compare equal. */
function resolvePort(port: unknown, container: JsonObject): unknown {
  if (typeof port !== 'string') return port;
  const declared = containerPorts(container).find((candidate) => candidate['name'] === port);
  return declared?.['containerPort'] ?? port;
}

/** A probe with the apiserver's defaults applied, so a written-out default equals an omitted one. */
export function normalizeProbe(probe: JsonObject, container: JsonObject): JsonObject {
  // Shallow: only the handler objects below are rebuilt; the caller never mutates the result.
  const normal: JsonObject = { ...PROBE_DEFAULTS, ...probe };
  const httpGet = asRecord(normal['httpGet']);
  if (httpGet) {
    normal['httpGet'] = {
      scheme: 'HTTP',
      ...httpGet,
      path: asString(httpGet['path']) || '/',
      port: resolvePort(httpGet['port'], container),
    };
  }
  for (const handler of ['tcpSocket', 'grpc'] as const) {
    const action = asRecord(normal[handler]);
    if (action) normal[handler] = { ...action, port: resolvePort(action['port'], container) };
  }
  return normal;
}

export const probesIdentical: Rule = {
  id: 'probes-identical',
  summary: 'livenessProbe is not identical to readinessProbe: a liveness failure restarts the pod exactly when it should only leave rotation.',
  fixable: false,
  check({ workload }) {
    return workload.containers.flatMap((container) => {
      const readiness = container.spec['readinessProbe'];
      const liveness = container.spec['livenessProbe'];
      if (!isRecord(readiness) || !isRecord(liveness)) return [];
      if (!jsonEqual(normalizeProbe(readiness, container.spec), normalizeProbe(liveness, container.spec))) return [];
      return [
        {
          container: container.name,
          message:
            `container "${container.name}" has a livenessProbe identical to its readinessProbe (defaults applied): when the ` +
            'app is slow under load, readiness should take it out of rotation, but liveness fails at the same moment and ' +
            'restarts it, which turns a slowdown into an outage. Give liveness a higher failureThreshold or a cheaper endpoint.',
        },
      ];
    });
  },
};
