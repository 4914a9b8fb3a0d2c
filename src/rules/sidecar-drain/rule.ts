import { integerParameter, objectParameter } from '../../policy/parameters.js';
import { terminationBudget } from '../../budget/termination-budget.js';
import { asArray, asRecord, isRecord } from '../../util/object.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { objectRef, stringMap } from '../../workloads/workload.js';
import { servingContainers } from '../../workloads/serving.js';
import type { RelatedObjects } from '../../workloads/related.js';
import type { Workload } from '../../workloads/workload.js';
import { plannedPreStopSeconds } from '../grace-period/rule.js';
import type { RuleDescriptor } from '../rule.js';

// Istio's sidecar injection and proxy settings (istio/istio manifests/charts/istio-control/istio-discovery
// templates/mutatingwebhook.yaml; istio/api annotation/annotations.yaml, mesh/v1alpha1/proxy.proto).
export const ISTIO_INJECT = 'sidecar.istio.io/inject';
export const ISTIO_REVISION = 'istio.io/rev';
export const ISTIO_NAMESPACE_INJECTION = 'istio-injection';
export const ISTIO_NATIVE_SIDECAR = 'sidecar.istio.io/nativeSidecar';
export const ISTIO_PROXY_CONFIG = 'proxy.istio.io/config';
export const ISTIO_PROXY = 'istio-proxy';
/**
 * terminationDrainDuration in a proxy.istio.io/config ProxyConfig (YAML or JSON), written in whole seconds or
 * minutes ("30s", "2m"); other forms are not read, and the policy's mesh default applies. RE2 as well.
 */
export const DRAIN_DURATION = /terminationDrainDuration["']?[ \t]*:[ \t]*["']?([0-9]{1,6})([ms])(?:[^0-9a-z]|$)/;

/** The proxy's terminationDrainDuration written on the pod template, in seconds; undefined when not (readably) set. */
export function drainDurationSeconds(annotation: string | undefined): number | undefined {
  const match = annotation === undefined ? null : DRAIN_DURATION.exec(annotation);
  return match ? Number(match[1]) * (match[2] === 'm' ? 60 : 1) : undefined;
}

export function sidecarExitsEarly(drain: Piece, because: Piece | Message, required: Piece): Message {
  return message`its pods get Istio's sidecar, which exits ${drain}s after a pod is deleted (terminationDrainDuration, ${because}), but the pod needs ${required}s for its preStop sleep and drain: inbound traffic passes through the sidecar, so requests fail once it exits while the app still sleeps or drains. Set terminationDrainDuration to at least ${required}s in the pod template's ${ISTIO_PROXY_CONFIG} annotation, or run Istio's native sidecar (${ISTIO_NATIVE_SIDECAR}: "true"), which Kubernetes stops after the app.`;
}

export const fromPodTemplate: Message = message`set in ${ISTIO_PROXY_CONFIG}`;
export const fromMeshDefault: Message = message`the mesh default, istio.terminationDrainSeconds of the policy`;

/**
 * Whether Istio injects its classic sidecar into the pods: the pod's own label, revision label or (deprecated)
 * annotation, or a container named istio-proxy already there (istioctl kube-inject); with context, the
 * namespace's istio-injection=enabled or istio.io/rev label too. A native sidecar (an istio-proxy initContainer
 * with restartPolicy Always, or the nativeSidecar annotation) is stopped after the app by Kubernetes: no trap.
 */
export function classicIstioSidecar(workload: Workload, related: RelatedObjects | undefined): boolean {
  const template = asRecord(asRecord(asRecord(workload.object['spec'])?.['template'])?.['metadata']);
  const labels = stringMap(template?.['labels']);
  const annotations = stringMap(template?.['annotations']);
  const initContainers = asArray(workload.podSpec['initContainers']).filter(isRecord);
  if (annotations[ISTIO_NATIVE_SIDECAR] === 'true' || initContainers.some((c) => c['name'] === ISTIO_PROXY && c['restartPolicy'] === 'Always')) return false;
  if (asArray(workload.podSpec['containers']).filter(isRecord).some((c) => c['name'] === ISTIO_PROXY)) return true;
  if (labels[ISTIO_INJECT] === 'false' || annotations[ISTIO_INJECT] === 'false') return false;
  if (labels[ISTIO_INJECT] === 'true' || annotations[ISTIO_INJECT] === 'true' || labels[ISTIO_REVISION] !== undefined) return true;
  const namespace = related?.namespaces.find((candidate) => objectRef(candidate).name === workload.ref.namespace);
  const namespaceLabels = stringMap(asRecord(namespace?.['metadata'])?.['labels']);
  return namespaceLabels[ISTIO_NAMESPACE_INJECTION] === 'enabled' || namespaceLabels[ISTIO_REVISION] !== undefined;
}

// Linkerd's proxy injection and shutdown (linkerd2 pkg/k8s/labels.go; linkerd.io/2/tasks/graceful-shutdown):
// on SIGTERM the proxy "refuses all new requests" at once; proxy-wait-before-exit-seconds gives it a preStop
// sleep, which must outlast the app's own.
export const LINKERD_INJECT = 'linkerd.io/inject';
export const LINKERD_WAIT = 'config.alpha.linkerd.io/proxy-wait-before-exit-seconds';
export const LINKERD_NATIVE_SIDECAR = 'config.beta.linkerd.io/proxy-enable-native-sidecar';
export const LINKERD_NATIVE = [LINKERD_NATIVE_SIDECAR, 'config.alpha.linkerd.io/proxy-enable-native-sidecar'];
export const LINKERD_PROXY = 'linkerd-proxy';

export function linkerdRefusesEarly(wait: Piece, sleep: Piece, minimum: Piece): Message {
  return message`its pods get Linkerd's proxy, which refuses every new request as soon as it gets SIGTERM, ${wait}s after a pod is deleted (${LINKERD_WAIT}), while the app still sleeps ${sleep}s in preStop for clients that have not yet seen the pod go: their requests fail at the proxy. Set ${LINKERD_WAIT} above the app's sleep (at least ${minimum}) and within the grace period, or run Linkerd's native sidecar (${LINKERD_NATIVE_SIDECAR}: "true").`;
}

/**
 * Whether Linkerd injects its classic proxy: the pod template's linkerd.io/inject annotation (enabled, or ingress
 * mode), a linkerd-proxy container already there (linkerd inject's output), or with context the namespace's
 * annotation; disabled on the pod wins. A native sidecar is stopped after the app by Kubernetes.
 */
export function classicLinkerdProxy(workload: Workload, related: RelatedObjects | undefined): boolean {
  const template = asRecord(asRecord(asRecord(workload.object['spec'])?.['template'])?.['metadata']);
  const annotations = stringMap(template?.['annotations']);
  const initContainers = asArray(workload.podSpec['initContainers']).filter(isRecord);
  if (LINKERD_NATIVE.some((key) => annotations[key] === 'true') || initContainers.some((c) => c['name'] === LINKERD_PROXY && c['restartPolicy'] === 'Always')) return false;
  if (asArray(workload.podSpec['containers']).filter(isRecord).some((c) => c['name'] === LINKERD_PROXY)) return true;
  const own = annotations[LINKERD_INJECT];
  if (own !== undefined) return own === 'enabled' || own === 'ingress';
  const namespace = related?.namespaces.find((candidate) => objectRef(candidate).name === workload.ref.namespace);
  const inherited = stringMap(asRecord(namespace?.['metadata'])?.['annotations'])[LINKERD_INJECT];
  return inherited === 'enabled' || inherited === 'ingress';
}

/** proxy-wait-before-exit-seconds as written (whole seconds), else 0, Linkerd's default. */
export function linkerdWaitSeconds(workload: Workload): number {
  const template = asRecord(asRecord(asRecord(workload.object['spec'])?.['template'])?.['metadata']);
  const value = stringMap(template?.['annotations'])[LINKERD_WAIT];
  return value !== undefined && /^[0-9]{1,6}$/.test(value) ? Number(value) : 0;
}

const parameters = {
  istio: objectParameter({
    terminationDrainSeconds: integerParameter({
      default: 5,
      minimum: 0,
      maximum: 86400,
      comment: ["Your mesh's terminationDrainDuration in seconds (meshConfig.defaultConfig; Istio's default is 5)."],
    }),
  }),
};

export const sidecarDrain: RuleDescriptor<'sidecar-drain', typeof parameters> = {
  id: 'sidecar-drain',
  defaultSeverity: 'warning',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: false,
  judges: 'pod-template',
  deniesUpdatesOf: [],
  parameters,
  docs: {
    summary: "A classic Istio sidecar outlives the app's preStop sleep and drain (terminationDrainDuration); a classic Linkerd proxy waits longer than the app's sleep.",
    why: "Istio's classic sidecar gets its stop signal when the pod is deleted, with no preStop of its own, and exits terminationDrainDuration (5 s by default) later. Inbound traffic passes through it, so a longer preStop sleep in the app protects nothing: requests fail once the sidecar is gone.",
    checks: `Pods that get Istio's classic sidecar (label or annotation ${ISTIO_INJECT}=true, label ${ISTIO_REVISION}, an ${ISTIO_PROXY} container, or with context the namespace's ${ISTIO_NAMESPACE_INJECTION}=enabled or ${ISTIO_REVISION} label) have a terminationDrainDuration (the pod template's ${ISTIO_PROXY_CONFIG}, else istio.terminationDrainSeconds of the policy, the mesh default) of at least their preStop sleep plus what they need after their stop signal. Native sidecars pass. Reported, not fixed: raising it is safe, but rollsafe cannot see the mesh-wide default it would override.`,
    readme: {
      checks: `Pods that get Istio's classic sidecar (pod label or deprecated annotation \`${ISTIO_INJECT}: "true"\`, pod label \`${ISTIO_REVISION}\`, an \`${ISTIO_PROXY}\` container from \`istioctl kube-inject\`, or, with context, the namespace label \`${ISTIO_NAMESPACE_INJECTION}=enabled\` or \`${ISTIO_REVISION}\`) keep it for their preStop sleep plus drain: its \`terminationDrainDuration\` (from the pod template's \`${ISTIO_PROXY_CONFIG}\`, in whole seconds or minutes, else the policy's \`istio.terminationDrainSeconds\`, Istio's default 5 s) must be at least the sleep (found, or added by the fix) plus what the pod needs after its stop signal (the grace period's budget). The classic sidecar has no preStop: pilot-agent drains Envoy on SIGTERM and kills it after \`terminationDrainDuration\` (\`proxy.proto\`), so inbound requests fail while the app still sleeps. A native sidecar (\`${ISTIO_NATIVE_SIDECAR}: "true"\`, or Istio's \`auto\` from 1.27 on Kubernetes 1.33+ nodes) is stopped after the app and passes. A warning, not fixed: the pod annotation would override a mesh-wide default rollsafe cannot see. Set \`istio.terminationDrainSeconds\` to your mesh's value. Linkerd's classic proxy (pod annotation \`${LINKERD_INJECT}: enabled\` or \`ingress\`, a \`${LINKERD_PROXY}\` container, or with context the namespace's annotation) refuses every new request at SIGTERM, so \`${LINKERD_WAIT}\` (its own preStop sleep, default 0) must be longer than the app's sleep, as Linkerd's graceful-shutdown guide says; its native sidecar (\`${LINKERD_NATIVE_SIDECAR}: "true"\`) passes.`,
      peers: {
        polaris: 'none',
        kubeScore: 'none',
        kubeLinter: 'none',
        kyverno: 'none',
        differs: "Reads the sidecar's own drain setting against the app's preStop sleep and drain.",
      },
    },
  },
  check(input) {
    const { workload, related, policy } = input;
    const istio = classicIstioSidecar(workload, related);
    const linkerd = classicLinkerdProxy(workload, related);
    if (!istio && !linkerd) return [];
    const preStop = plannedPreStopSeconds(input);
    if (preStop === 0 && servingContainers(workload, related).length === 0) return [];
    if (linkerd) {
      const wait = linkerdWaitSeconds(workload);
      return wait > preStop ? [] : [{ message: text(linkerdRefusesEarly(wait, preStop, preStop + 1)) }];
    }
    const required = preStop + terminationBudget(workload, related, policy).afterSignalSeconds;
    const template = asRecord(asRecord(asRecord(workload.object['spec'])?.['template'])?.['metadata']);
    const written = drainDurationSeconds(stringMap(template?.['annotations'])[ISTIO_PROXY_CONFIG]);
    const drain = written ?? policy.istio.terminationDrainSeconds;
    if (drain >= required) return [];
    return [{ message: text(sidecarExitsEarly(drain, written === undefined ? fromMeshDefault : fromPodTemplate, required)) }];
  },
};
