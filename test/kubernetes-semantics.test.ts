/**
 * Rules follow what Kubernetes does, not what it seems to do. Most cases are golden files under
 * test/fixtures/rules/ whose comments name the Kubernetes source they follow (ResolveFenceposts,
 * ValidateRollingUpdateDeployment, SetDefaults_Probe, the disruption controller's getExpectedPodCount);
 * these are the ones that depend on where the object is judged.
 */
import t from 'tap';
import { handleAdmission } from '../src/admission/handle.js';
import type { AdmissionRequest } from '../src/admission/review.js';
import { ALL_ACTIVE_MODES, evaluate } from '../src/engine/engine.js';
import { parsePolicy } from '../src/policy/load.js';

const policy = parsePolicy(
  JSON.stringify({ apiVersion: 'rollsafe.dev/v1alpha1', kind: 'Policy', drainSeconds: 25, rules: { 'prestop-delay': { mode: 'warn' } } }),
  'prestop in warn',
);
const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
        containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 } } }],
      },
    },
  },
};

t.test('grace-period counts a preStop sleep only where it will really be added', async (t) => {
  // prestop-delay in warn: the webhook adds no sleep, so the default 30 s covers drainSeconds 25 alone.
  const audit = evaluate(deployment, policy);
  t.same(audit?.findings.filter((finding) => finding.rule === 'grace-period'), [], 'audit (what the webhook does): no grace-period finding');
  const request = { uid: 'u', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, namespace: 'shop', operation: 'CREATE', object: deployment } as AdmissionRequest;
  const validation = handleAdmission(request, 'validate', policy);
  t.notOk(validation.response.warnings?.some((warning) => warning.startsWith('grace-period')), 'the webhook does not warn about it');
  const mutation = handleAdmission(request, 'mutate', policy);
  t.notOk(mutation.response.patch, 'nothing in enforce mode to patch');
  // `rollsafe fix` applies warn-mode fixes too: there the sleep is added, and the grace period must cover it.
  const fixed = evaluate(deployment, policy, { fixModes: ALL_ACTIVE_MODES });
  t.match(fixed?.findings.find((finding) => finding.rule === 'grace-period'), { message: /needs 10s of preStop delay \+ 25s/ });
  t.equal((fixed?.fixed as any).spec.template.spec.terminationGracePeriodSeconds, 35);
});
