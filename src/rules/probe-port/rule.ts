import { asInteger, asRecord, isRecord, type JsonObject } from '../../util/object.js';
import { containerPorts, type ContainerView } from '../../workloads/workload.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { named } from '../phrases.js';
import type { RuleDescriptor, RuleFinding } from '../rule.js';

/** The probes checked, and what a probe that never succeeds does to a rollout. */
export const PROBES = [
  ['readinessProbe', 'its new pods never become ready: with maxUnavailable 0 the rollout hangs, otherwise every replaced pod is capacity lost'],
  ['startupProbe', 'its containers never finish starting: the kubelet restarts them over and over and the rollout never completes'],
  ['livenessProbe', 'the kubelet restarts the container over and over: new pods crash-loop and the rollout never completes'],
] as const;

/** A probe on a port name the container does not declare (`names`: ports it names, quoted, or empty). */
export function undeclaredName(who: Message, field: string, port: Piece, names: Message, consequence: string): Message {
  return message`${who} has a ${field} on port "${port}", which is not one of its port names (${names}): the kubelet cannot resolve it and the probe fails every time, so ${consequence}. Name the port in the container's ports, or probe its number.`;
}

export const itNames = (names: Piece): Message => message`it names ${names}`;
export const NAMES_NONE = 'it names none';

/** A probe on a port number the container does not declare, while it declares others. */
export function undeclaredNumber(who: Message, field: string, port: Piece, declared: Piece, consequence: string): Message {
  return message`${who} has a ${field} on port ${port}, which it does not declare (it declares ${declared}): if nothing listens there the probe never succeeds and ${consequence}. Probe a declared port, or declare the one the app answers probes on.`;
}

/** The port a probe's handler targets, as written (a number, or a name or number as a string). */
function portOf(probe: JsonObject): unknown {
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
  const port = portOf(probe);
  const ports = containerPorts(container.spec);
  const who = named(container.sidecar ? 'sidecar' : 'container', container.name);
  if (typeof port === 'string') {
    if (ports.some((declared) => declared['name'] === port)) return undefined;
    const names = ports.map((declared) => declared['name']).filter((name): name is string => typeof name === 'string');
    return {
      container: container.name,
      message: text(undeclaredName(who, field, port, names.length > 0 ? itNames(names.map((name) => `"${name}"`).join(', ')) : [NAMES_NONE], consequence)),
    };
  }
  const number = asInteger(port);
  if (number === undefined || ports.length === 0) return undefined;
  if (ports.some((declared) => declared['containerPort'] === number)) return undefined;
  const declared = ports.map((entry) => entry['containerPort']).filter((value) => typeof value === 'number');
  return {
    container: container.name,
    cap: 'info',
    message: text(undeclaredNumber(who, field, number, declared.join(', '), consequence)),
  };
}

export const probePort: RuleDescriptor<'probe-port', Record<never, never>> = {
  id: 'probe-port',
  defaultSeverity: 'error',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: false,
  judges: 'pod-template',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: 'A probe on a port name targets a name its container declares (error); a probe on a number the container does not declare is an info finding.',
    why: 'A probe on a port name the container does not declare can never run: the kubelet cannot resolve the name, every attempt fails, and the new pods never become ready (or are restarted forever). The apiserver accepts such an object, so the first sign is a rollout that hangs.',
    checks: 'readinessProbe, startupProbe and livenessProbe (httpGet, tcpSocket, grpc) target a port name among the container\'s own ports, as the kubelet resolves it (ResolveContainerPort): error. A number the container does not declare, while it declares others, is an info finding: reported, but it never fails an audit or denies an object, because the kubelet probes the number anyway and apps answer probes on undeclared admin ports on purpose (ingress-nginx probes 10254). A number on a container that declares no ports is not reported: there is nothing to compare it with. Not fixable: only the author knows which port was meant.',
    readme: {
      checks: 'Every `readinessProbe`, `startupProbe` and `livenessProbe` (httpGet, tcpSocket, grpc) targets a port its container can answer on. A port **name** must be one of the container\'s own port names, as the kubelet resolves it (`ResolveContainerPort`); otherwise every probe attempt fails, so new pods never become ready (or restart forever) and the rollout hangs, although the apiserver accepted the object: error. A **number** the container does not declare, while it declares others, is **info**: the kubelet probes it anyway, and apps answer probes on undeclared admin ports on purpose (ingress-nginx\'s controller probes 10254).',
      peers: {
        polaris: 'none',
        kubeScore: 'none',
        kubeLinter: '`readiness-port`, `liveness-port`, `startup-port`',
        kyverno: 'none',
        differs: 'An error only for a port *name* the kubelet cannot resolve; an undeclared number is info, since the kubelet probes it anyway (ingress-nginx probes 10254 on purpose).',
      },
    },
  },
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
