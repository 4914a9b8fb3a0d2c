import { isRecord, jsonEqual, type JsonObject } from '../../util/object.js';
import { containerPorts } from '../../workloads/workload.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import type { RuleDescriptor, RuleFinding } from '../rule.js';

export function identicalProbes(name: Piece): Message {
  return message`container "${name}" has a livenessProbe identical to its readinessProbe (defaults applied): when the app is slow under load, readiness should take it out of rotation, but liveness fails at the same moment and restarts it, which turns a slowdown into an outage. Give liveness a higher failureThreshold or a cheaper endpoint.`;
}

const PROBE_DEFAULTS: Record<string, unknown> = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };

/** Resolves a named port to its number so `port: http` and `port: 8080` compare equal. */
function resolvePort(port: unknown, container: JsonObject): unknown {
  if (typeof port !== 'string') return port;
  const declared = containerPorts(container).find((candidate) => candidate['name'] === port);
  return declared?.['containerPort'] ?? port;
}

export const HANDLER_DEFAULTS: Record<string, Record<string, unknown>> = {
  httpGet: { scheme: 'HTTP', path: '/' },
  tcpSocket: {},
  grpc: {},
  exec: {},
};

/** pkg/apis/core/v1/defaults.go SetDefaults_Probe: a zero is replaced like an absent value (Go has no "unset" int). */
const ZERO_IS_UNSET = new Set(['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']);

function withDefault(record: JsonObject, key: string, defaults: Record<string, unknown>): unknown {
  const value = record[key];
  // An empty httpGet path is defaulted to "/" like an absent one.
  if (value === undefined || (key === 'path' && value === '') || (value === 0 && ZERO_IS_UNSET.has(key))) return defaults[key];
  return value;
}

/** Calls `visit` once per key of `a`, `b` or `defaults` (no set built per call); stops when it returns false. */
function everyKey(a: JsonObject, b: JsonObject, defaults: Record<string, unknown>, visit: (key: string) => boolean): boolean {
  for (const key in a) if (Object.prototype.hasOwnProperty.call(a, key) && !visit(key)) return false;
  for (const key in b) if (Object.prototype.hasOwnProperty.call(b, key) && !Object.prototype.hasOwnProperty.call(a, key) && !visit(key)) return false;
  for (const key in defaults) if (!Object.prototype.hasOwnProperty.call(a, key) && !Object.prototype.hasOwnProperty.call(b, key) && !visit(key)) return false;
  return true;
}

function handlersEqual(kind: string, a: unknown, b: unknown, container: JsonObject): boolean {
  const defaults = HANDLER_DEFAULTS[kind] ?? {};
  if (!isRecord(a) || !isRecord(b)) return jsonEqual(a, b);
  return everyKey(a, b, defaults, (key) => {
    let left = withDefault(a, key, defaults);
    let right = withDefault(b, key, defaults);
    if (key === 'port') {
      left = resolvePort(left, container);
      right = resolvePort(right, container);
    }
    return jsonEqual(left, right);
  });
}

/**
 * Equality after the apiserver's defaults (thresholds, scheme, path) with named ports resolved, so a
 * written-out default equals an omitted one. Compares field by field: no normalised copies per request.
 */
export function probesEqual(a: JsonObject, b: JsonObject, container: JsonObject): boolean {
  return everyKey(a, b, PROBE_DEFAULTS, (key) => {
    const left = withDefault(a, key, PROBE_DEFAULTS);
    const right = withDefault(b, key, PROBE_DEFAULTS);
    return Object.prototype.hasOwnProperty.call(HANDLER_DEFAULTS, key) ? handlersEqual(key, left, right, container) : jsonEqual(left, right);
  });
}

export const probesIdentical: RuleDescriptor<'probes-identical', Record<never, never>> = {
  id: 'probes-identical',
  defaultSeverity: 'warning',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: false,
  judges: 'pod-template',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: 'livenessProbe is not identical to readinessProbe: a liveness failure restarts the pod exactly when it should only leave rotation.',
    why: 'A liveness probe identical to the readiness probe restarts the container exactly when it should only leave rotation (an overloaded or warming app), turning a slowdown into an outage.',
    checks: 'livenessProbe equal to readinessProbe after the API defaults (SetDefaults_Probe, named ports resolved). A different endpoint or looser thresholds pass.',
    readme: {
      checks: '`livenessProbe` deep-equal to `readinessProbe` after API defaults (timeouts, thresholds, where an explicit 0 is defaulted like an absent value as `SetDefaults_Probe` does; `scheme`, `path`, named ports resolved). A liveness failure restarts the pod exactly when it should only leave rotation. The same handler with different thresholds is fine.',
      peers: {
        polaris: 'none',
        kubeScore: '`pod-probes-identical`',
        kubeLinter: 'none',
        kyverno: '`validate-probes`',
        differs: 'Compares whole probes after `SetDefaults_Probe`, named ports resolved; identical handlers with looser liveness thresholds pass.',
      },
    },
  },
  check({ workload }) {
    // A loop, not flatMap: this runs on every admission request, and flatMap costs more than the check.
    const findings: RuleFinding[] = [];
    for (const container of workload.containers) {
      const readiness = container.spec['readinessProbe'];
      const liveness = container.spec['livenessProbe'];
      if (!isRecord(readiness) || !isRecord(liveness) || !probesEqual(readiness, liveness, container.spec)) continue;
      findings.push({
        container: container.name,
        message: text(identicalProbes(container.name)),
      });
    }
    return findings;
  },
};
