// The generated Deployments the audit benches read (bench/audit.mjs, bench/peers.mjs): one per index, varied
// enough to give every rule work (some without probes or preStop, replicas 1 to 4, two grace periods).
export function deployment(i) {
  const name = `svc-${i}`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: team-${i % 40}
  labels: {app: ${name}, tier: backend}
  annotations:
    owner: "team-${i % 40}@example.com"
spec:
  replicas: ${1 + (i % 4)}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: ${i % 3}}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}, tier: backend}
    spec:
      terminationGracePeriodSeconds: ${i % 2 ? 30 : 5}
      containers:
        - name: app
          image: registry.example.com/${name}:1.${i}
          ports:
            - {containerPort: 8080, name: http}
            - {containerPort: 9090, name: metrics}
          env:
            - {name: LOG_LEVEL, value: info}
            - {name: DB_HOST, value: db.team-${i % 40}.svc}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
${i % 5 ? `          readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5}
          livenessProbe: {httpGet: {path: /healthz, port: http}, failureThreshold: 6}
` : ''}${i % 3 ? '          lifecycle: {preStop: {sleep: {seconds: 10}}}\n' : ''}        - name: sidecar
          image: registry.example.com/log-shipper:2.0
`;
}

/** COUNT Deployments as one multi-document stream. */
export function deployments(count) {
  return Array.from({ length: count }, (_, i) => deployment(i)).join('---\n');
}
