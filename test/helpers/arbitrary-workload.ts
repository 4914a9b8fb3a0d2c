/** fast-check arbitraries for Kubernetes-shaped workloads, with wrong types mixed in at every level. */
import fc from 'fast-check';

// Kubernetes-shaped values with wrong types mixed in: every level may hold anything.
export const anyJson = fc.jsonValue({ maxDepth: 3 });
const intOrString = fc.oneof(fc.nat(10), fc.constantFrom('0', '25%', '100%', '1.5%', 'x'), anyJson);
const probe = fc.oneof(
  fc.record({ httpGet: fc.record({ path: fc.constantFrom('/', '/healthz', '/ready'), port: fc.oneof(fc.nat(65535), fc.constantFrom('http', 'web')) }), failureThreshold: fc.nat(10) }, { requiredKeys: [] }),
  fc.record({ tcpSocket: fc.record({ port: fc.nat(65535) }) }),
  anyJson,
);
const container = fc.record(
  {
    name: fc.oneof(fc.constantFrom('web', 'api', 'sidecar'), anyJson),
    image: fc.constant('nginx:1.27'),
    ports: fc.oneof(fc.array(fc.record({ containerPort: fc.nat(65535), hostPort: fc.nat(3), name: fc.constantFrom('http', 'web') }, { requiredKeys: ['containerPort'] }), { maxLength: 3 }), anyJson),
    readinessProbe: probe,
    livenessProbe: probe,
    lifecycle: fc.oneof(
      fc.record({ preStop: fc.oneof(fc.record({ sleep: fc.record({ seconds: fc.nat(60) }) }), fc.record({ exec: fc.record({ command: fc.array(fc.oneof(fc.constantFrom('sleep', 'sh', '-c', 'sleep 5 && x', '10'), fc.string()), { maxLength: 4 }) }) })) }),
      anyJson,
    ),
    restartPolicy: fc.constantFrom('Always', 'Never'),
  },
  { requiredKeys: ['name'] },
);
const appsWorkload = fc.record({
  apiVersion: fc.constant('apps/v1'),
  kind: fc.constantFrom('Deployment', 'StatefulSet', 'DaemonSet'),
  metadata: fc.record({ name: fc.constantFrom('web', 'api'), annotations: fc.oneof(fc.constant({ 'rollsafe.dev/exempt': 'min-replicas' }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), anyJson) }, { requiredKeys: ['name'] }),
  spec: fc.oneof(
    fc.record(
      {
        replicas: fc.oneof(fc.nat(5), anyJson),
        strategy: fc.oneof(fc.record({ type: fc.constantFrom('Recreate', 'RollingUpdate', 'Bogus'), rollingUpdate: fc.record({ maxSurge: intOrString, maxUnavailable: intOrString }, { requiredKeys: [] }) }, { requiredKeys: [] }), anyJson),
        updateStrategy: fc.oneof(fc.record({ type: fc.constantFrom('OnDelete', 'RollingUpdate'), rollingUpdate: fc.record({ maxSurge: intOrString }, { requiredKeys: [] }) }, { requiredKeys: [] }), anyJson),
        template: fc.oneof(
          fc.record({
            metadata: fc.record({ labels: fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('web', 'api')) }),
            spec: fc.oneof(
              fc.record({ terminationGracePeriodSeconds: fc.oneof(fc.nat(100), anyJson), hostNetwork: fc.boolean(), containers: fc.oneof(fc.array(container, { maxLength: 3 }), anyJson), initContainers: fc.oneof(fc.array(container, { maxLength: 2 }), anyJson) }, { requiredKeys: ['containers'] }),
              anyJson,
            ),
          }),
          anyJson,
        ),
      },
      { requiredKeys: ['template'] },
    ),
    anyJson,
  ),
});


const seconds = fc.oneof(fc.nat(60), anyJson);
const canary = fc.record(
  {
    maxSurge: intOrString,
    maxUnavailable: intOrString,
    steps: fc.oneof(fc.array(fc.oneof(fc.record({ setWeight: fc.oneof(fc.nat(120), anyJson) }), fc.record({ pause: fc.record({ duration: fc.constantFrom('10s', 1) }, { requiredKeys: [] }) }), anyJson), { maxLength: 4 }), anyJson),
    trafficRouting: fc.oneof(fc.constant({ nginx: { stableIngress: 'web' } }), anyJson),
    scaleDownDelaySeconds: seconds,
    abortScaleDownDelaySeconds: seconds,
    dynamicStableScale: fc.oneof(fc.boolean(), anyJson),
  },
  { requiredKeys: [] },
);
const blueGreen = fc.record(
  { activeService: fc.constantFrom('web', 'preview'), previewService: fc.constantFrom('web', 'preview'), scaleDownDelaySeconds: seconds, abortScaleDownDelaySeconds: seconds, previewReplicaCount: fc.oneof(fc.nat(3), anyJson) },
  { requiredKeys: [] },
);

/** Argo Rollouts: an inline template (an apps workload's), or a workloadRef, with either strategy or junk. */
export const rollout = fc
  .tuple(
    appsWorkload,
    fc.oneof(fc.record({ canary }), fc.record({ blueGreen }), fc.record({ canary, blueGreen }), anyJson),
    fc.option(fc.oneof(fc.record({ apiVersion: fc.constant('apps/v1'), kind: fc.constantFrom('Deployment', 'ReplicaSet', 'Job'), name: fc.constantFrom('web', 'api') }), anyJson), { nil: undefined }),
  )
  .map(([base, strategy, workloadRef]) => {
    const spec = base.spec !== null && typeof base.spec === 'object' && !Array.isArray(base.spec) ? (base.spec as Record<string, unknown>) : {};
    const { updateStrategy: _ignored, ...rest } = spec;
    return { ...base, apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', spec: { ...rest, strategy, ...(workloadRef === undefined ? {} : { workloadRef }) } };
  });

/** apps/v1 workloads, and now and then an Argo Rollout. */
export const workload = fc.oneof({ arbitrary: appsWorkload, weight: 3 }, { arbitrary: rollout, weight: 1 });

/** The AdmissionRequest kind and resource of an object, as the apiserver sends them. */
export function requestKind(object: { apiVersion?: unknown; kind?: unknown }): { kind: Record<string, string>; resource: Record<string, string> } {
  const kind = typeof object.kind === 'string' ? object.kind : 'Deployment';
  const [group, version] = object.apiVersion === 'argoproj.io/v1alpha1' ? ['argoproj.io', 'v1alpha1'] : ['apps', 'v1'];
  return { kind: { group: group!, version: version!, kind }, resource: { group: group!, version: version!, resource: `${kind.toLowerCase()}s` } };
}
