import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one server; its own registry so tests can build several. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rollsafe_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'rollsafe_admission_requests_total',
      help: 'Admission requests by endpoint, kind, operation and decision.',
      labelNames: ['endpoint', 'kind', 'operation', 'decision'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'rollsafe_admission_duration_seconds',
      help: 'Time from the request body being read to the admission decision, queueing in the batch included.',
      labelNames: ['endpoint'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    findings: new Counter({
      name: 'rollsafe_findings_total',
      help: 'Findings (not exempt) by rule, namespace and effective mode.',
      labelNames: ['rule', 'namespace', 'mode'] as const,
      registers,
    }),
    patches: new Counter({
      name: 'rollsafe_patches_total',
      help: 'Fixes applied by the mutating webhook, by rule.',
      labelNames: ['rule'] as const,
      registers,
    }),
    // Labels from closed sets: rule ids and "handler".
    evaluationErrors: new Counter({
      name: 'rollsafe_evaluation_errors_total',
      help: 'Admission requests allowed unchecked because a rule (or the handler) failed, by endpoint and rule.',
      labelNames: ['endpoint', 'rule'] as const,
      registers,
    }),
    policyReloads: new Counter({
      name: 'rollsafe_policy_reloads_total',
      help: 'Policy file reloads by result (ok, failed).',
      labelNames: ['result'] as const,
      registers,
    }),
    certificateReloads: new Counter({
      name: 'rollsafe_certificate_reloads_total',
      help: 'TLS certificate reloads by result (ok, failed).',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
