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
export const workload = fc.record({
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

