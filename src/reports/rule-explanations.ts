import type { RuleId } from '../policy/types.js';

export interface RuleExplanation {
  /** What goes wrong during a rollout or a node drain without it. */
  why: string;
  /** What the rule looks at, and what it fixes. */
  checks: string;
  /** A manifest that passes the rule, to paste and adapt (tested: it passes). */
  example: string;
}

const DEPLOYMENT_HEAD = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 30
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [pod-template-hash]}
      containers:
        - name: web
          image: registry.example.com/web:1.0
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5}
          livenessProbe: {httpGet: {path: /healthz, port: http}, failureThreshold: 6}
          lifecycle: {preStop: {sleep: {seconds: 10}}}
`;

const PDB = `---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels: {app: web}
`;

/** One example passes every rule: 3 replicas need a PodDisruptionBudget beside them. */
const EXAMPLE = `${DEPLOYMENT_HEAD}${PDB}`;

/** `rollsafe rules ID`: the long form of each rule (the README table has the same in one cell). */
export const RULE_EXPLANATIONS: Record<RuleId, RuleExplanation> = {
  'readiness-probe': {
    why: 'Without a readiness probe a new pod joins the Service the moment its container starts, before the app listens: clients get connection refused during every rollout.',
    checks: 'Every serving container (one that declares a port, or whose pod a Service in the input selects) has a readinessProbe. Not fixable: rollsafe never invents a probe, since a wrong one keeps pods unready forever.',
    example: EXAMPLE,
  },
  'probe-port': {
    why: 'A probe on a port name the container does not declare can never run: the kubelet cannot resolve the name, every attempt fails, and the new pods never become ready (or are restarted forever). The apiserver accepts such an object, so the first sign is a rollout that hangs.',
    checks: 'readinessProbe, startupProbe and livenessProbe (httpGet, tcpSocket, grpc) target a port name among the container\'s own ports, as the kubelet resolves it (ResolveContainerPort): error. A number the container does not declare, while it declares others, is info only: the kubelet probes it anyway, and apps answer probes on undeclared admin ports on purpose (ingress-nginx probes 10254). Not fixable: only the author knows which port was meant.',
    example: EXAMPLE,
  },
  'probes-identical': {
    why: 'A liveness probe identical to the readiness probe restarts the container exactly when it should only leave rotation (an overloaded or warming app), turning a slowdown into an outage.',
    checks: 'livenessProbe equal to readinessProbe after the API defaults (SetDefaults_Probe, named ports resolved). A different endpoint or looser thresholds pass.',
    example: EXAMPLE,
  },
  'prestop-delay': {
    why: 'Deleting a pod removes its endpoint and sends SIGTERM at the same time; kube-proxy, ingress controllers and meshes learn of the removal later, so requests still arrive at a process that already exited.',
    checks: 'Every serving container sleeps at least preStop.seconds (default 10) before SIGTERM. Fix: a native lifecycle.preStop.sleep (Kubernetes 1.30 or later) or exec sleep; an existing hook is never replaced.',
    example: EXAMPLE,
  },
  'grace-period': {
    why: 'terminationGracePeriodSeconds includes the preStop time: a 10 s sleep in the default 30 s leaves 20 s to drain, and the kubelet then sends SIGKILL to requests still in flight.',
    checks: 'terminationGracePeriodSeconds >= the longest preStop sleep + drainSeconds (default 20). Fix: raises it to that sum, never lowers it.',
    example: EXAMPLE,
  },
  'rollout-strategy': {
    why: 'Recreate stops every pod before starting new ones, and a RollingUpdate whose maxUnavailable covers every replica does the same: downtime by construction.',
    checks: 'Resolves maxSurge (rounding up) and maxUnavailable (rounding down) against the replicas as the Deployment controller does (ResolveFenceposts; the HPA minReplicas when an HPA owns replicas). Fix: maxUnavailable 0 with maxSurge 1. DaemonSets: surge where no host port prevents it.',
    example: EXAMPLE,
  },
  'min-replicas': {
    why: 'A single replica means every node drain, eviction or crash is an outage, and nothing serves while it restarts.',
    checks: 'replicas (or the HPA minReplicas) >= minReplicas (default 2); replicas 0 is a deliberate scale-down.',
    example: EXAMPLE,
  },
  'disruption-budget': {
    why: 'Node drains and cluster upgrades evict pods through the eviction API; without a PodDisruptionBudget they may evict every replica at once, and with one that allows no disruption they stall.',
    checks: 'A Deployment or StatefulSet with 2+ replicas is selected by exactly one PDB in its namespace that allows a disruption, counting the pods of every workload it selects as the disruption controller does, and the minReplicas of an HPA where one owns the count. Suggests (info) unhealthyPodEvictionPolicy: AlwaysAllow, so drains do not stall on pods that run but are not ready. Needs the PDB in the same input (files) or namespace (cluster).',
    example: EXAMPLE,
  },
  'node-spread': {
    why: 'The scheduler may put every replica on one node; draining that node for an upgrade, or losing it, then takes the whole workload down at once, whatever the PodDisruptionBudget says about evictions one by one.',
    checks: 'A Deployment or StatefulSet with 2+ pods (replicas, or an HPA maxReplicas) has a topologySpreadConstraint or a pod anti-affinity term on kubernetes.io/hostname whose selector picks its own pods. Fix: adds a soft constraint (maxSkew 1, ScheduleAnyway, the workload selector, matchLabelKeys [pod-template-hash] for Deployments from 1.27), never a hard one.',
    example: EXAMPLE,
  },
};
