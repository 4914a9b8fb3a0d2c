/** The default policy as printed by `rollsafe policy --print-default`; a test keeps it equal to the schema defaults. */
export const DEFAULT_POLICY_YAML = `apiVersion: rollsafe.dev/v1alpha1
kind: Policy
# Oldest Kubernetes version the fixes must run on. From 1.30 the native
# lifecycle.preStop.sleep action exists, so fixes need no sleep binary.
kubernetesVersion: "1.30"
preStop:
  # Seconds a serving container keeps running after its endpoint is removed,
  # while kube-proxy, ingress controllers and DNS catch up.
  seconds: 10
  # auto: native sleep when kubernetesVersion >= 1.30, else exec [sleep, N].
  action: auto
# Seconds the app needs after SIGTERM to finish in-flight work.
# terminationGracePeriodSeconds must cover preStop + drain.
drainSeconds: 20
minReplicas: 2
exemptions:
  # Workloads may exempt themselves with the rollsafe.dev/exempt annotation.
  allowed: true
rules:
  readiness-probe: {mode: enforce, severity: error}
  probe-port: {mode: enforce, severity: error}
  probes-identical: {mode: enforce, severity: warning}
  prestop-delay: {mode: enforce, severity: error}
  grace-period: {mode: enforce, severity: error}
  rollout-strategy: {mode: enforce, severity: error}
  min-replicas: {mode: enforce, severity: warning}
  disruption-budget: {mode: enforce, severity: warning}
  node-spread: {mode: enforce, severity: warning}
# Per-namespace overrides; the first entry whose names match wins.
# namespaces:
#   - names: ["legacy-*"]
#     mode: warn
#     rules:
#       prestop-delay: {mode: audit}
namespaces: []
`;
