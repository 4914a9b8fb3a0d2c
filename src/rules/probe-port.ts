import { asInteger, asRecord, isRecord, type JsonObject } from '../util/object.js';
import { containerPorts, type ContainerView } from '../workloads/workload.js';
import type { Rule, RuleFinding } from './types.js';

const PROBES = [
  ['readinessProbe', 'its new pods never become ready: with maxUnavailable 0 the rollout hangs, otherwise every replaced pod is capacity lost'],
  ['startupProbe', 'its containers never finish starting: the kubelet restarts them over and over and the rollout never completes'],
  ['livenessProbe', 'the kubelet restarts the container over and over: new pods crash-loop and the rollout never completes'],
] as const;

/** The port a probe's handler targets, as written (a number, or a name or number as a string). */
function probePort(probe: JsonObject): unknown {
  for (const handler of ['httpGet', 'tcpSocket', 'grpc']) {
    const action = asRecord(probe[handler]);
    if (action) return action['port'];
  }
  return undefined;
}

/**
 * What the kubelet does with the port (pkg/probe ResolveContainerPort): a name is looked up among the
 * container's own port names, and a probe whose name is not there errors on every attempt (the apiserver
 * accepts the object: a port name need only be well formed). A number is probed as it is, declared or not,
 * and apps answer probes on undeclared admin ports on purpose (ingress-nginx's 10254): reported, never failed.
 */
function checkProbe(container: ContainerView, field: string, consequence: string): RuleFinding | undefined {
  const probe = asRecord(container.spec[field]);
  if (!probe) return undefined;
  const port = probePort(probe);
  const ports = containerPorts(container.spec);
  const who = `${container.sidecar ? 'sidecar' : 'container'} "${container.name}"`;
  if (typeof port === 'string') {
    if (ports.some((declared) => declared['name'] === port)) return undefined;
    const names = ports.map((declared) => declared['name']).filter((name): name is string => typeof name === 'string');
    return {
      container: container.name,
      message:
        `${who} has a ${field} on port "${port}", which is not one of its port names (${names.length > 0 ? `it names ${names.map((name) => `"${name}"`).join(', ')}` : 'it names none'}): ` +
        `the kubelet cannot resolve it and the probe fails every time, so ${consequence}. Name the port in the container's ports, or probe its number.`,
    };
  }
  const number = asInteger(port);
  if (number === undefined || ports.length === 0) return undefined;
  if (ports.some((declared) => declared['containerPort'] === number)) return undefined;
  const declared = ports.map((entry) => entry['containerPort']).filter((value) => typeof value === 'number');
  return {
    container: container.name,
    cap: 'info',
    message:
      `${who} has a ${field} on port ${number}, which it does not declare (it declares ${declared.join(', ')}): if nothing listens there the probe never succeeds and ${consequence}. ` +
      'Probe a declared port, or declare the one the app answers probes on.',
  };
}

export const probePortRule: Rule = {
  id: 'probe-port',
  summary: 'Every probe targets a port its container can answer on: a named port the container declares, or a number it declares.',
  fixable: false,
  check({ workload }) {
    const findings: RuleFinding[] = [];
    for (const container of workload.containers) {
      if (!isRecord(container.spec)) continue;
      for (const [field, consequence] of PROBES) {
        const finding = checkProbe(container, field, consequence);
        if (finding) findings.push(finding);
      }
    }
    return findings;
  },
};
