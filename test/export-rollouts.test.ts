/**
 * `rollsafe export` with `rollouts: true` (`--rollouts`) on the real apiserver with the Argo Rollouts CRDs
 * (helpers/argo-rollouts.ts): the exported policies, applied with no webhook, must give every Rollout of the rule
 * goldens, and Rollouts made to break the CEL (strings Argo reads as percentages, specs the controller refuses,
 * undefaulted probes, workloadRef without a template, no selector), the webhook's verdict, denial and warnings
 * in every namespace mode and under a policy with overrides; with the MutatingAdmissionPolicy, the object the
 * webhook chain stores; and their findings themselves (info included, which no verdict shows) must be the
 * engine's. The apps/v1 goldens are judged again under the same policies: matching Rollouts changes nothing
 * for them. Updates (through kubectl, and as dry runs against stored Rollouts, each held to the webhook chain
 * and to decision.ts startsRollout): only a template change other than containers' `resources: {}`, a new
 * workloadRef target or a new restartAt is judged in full and has its template fixed; labels, status, the Argo
 * controller's write-back (`resources: {}`, quantities in canonical form, restartAt in UTC at whole seconds),
 * workloadRef.scaleDown or a removed restartAt are never denied.
 *
 * A Rollout is a custom resource: the apiserver applies only its CRD schema's defaults (no SetDefaults_Pod),
 * so the CEL reads what the webhook reads, unset fields included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { handleAdmission, startsRollout } from '../src/admission/handle.js';
import { evaluate } from '../src/engine/engine.js';
import { exportPolicies } from '../src/export/policies.js';
import { EXPORTED_RULES } from '../src/export/rules.js';
import { defaultPolicyDocument } from '../src/policy/default-document.js';
import { defaultPolicy, parsePolicy } from '../src/policy/load.js';
import type { Mode, Policy } from '../src/policy/types.js';
import { RULE_IDS } from '../src/rules/index.js';
import { installArgoRolloutsCrds } from './helpers/argo-rollouts.js';
import { eventually, kubectl, kubectlOk, sharedControlPlane } from './helpers/cluster.js';
import { createDryRun as createAppsDryRun, dryRunRequest, type DryRunAnswer } from './helpers/dry-run.js';
import { chainVerdict, compareCreates, exportedOnly, kubectlVerdict, manifest, namespaceMaker, vapVerdict, webhookVerdict, type ParityCase } from './helpers/export-parity.js';
import { FIXTURES } from './helpers/fixtures.js';
import { POLICY_LOADING_SECONDS, policyLoading, secondsLeft } from './helpers/policy-loading.js';

type Obj = Record<string, any>;
const SCOPE = 'export-rollouts';
const root = t;
const withPolicies = policyLoading(t);
// Loading the policies may take minutes on a busy machine (helpers/policy-loading.ts), more than tap's 300 s per file.
t.setTimeout(600_000);
const plane = await sharedControlPlane(t);
await installArgoRolloutsCrds(plane);

const APPS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const isRollout = (object: Obj) => object.apiVersion === 'argoproj.io/v1alpha1' && object.kind === 'Rollout';
const kindOf = (object: Obj) => (isRollout(object) ? { group: 'argoproj.io', version: 'v1alpha1', kind: 'Rollout' } : { group: 'apps', version: 'v1', kind: object.kind });

/** A dry-run create of a Rollout (helpers/dry-run.ts knows only apps/v1), as the test apiserver's admin. */
function createDryRun(namespace: string, object: Obj, timeoutMs = 30_000): Promise<DryRunAnswer> {
  if (!isRollout(object)) return createAppsDryRun(plane, namespace, object, timeoutMs);
  return dryRun('POST', `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/rollouts`, object, {}, timeoutMs);
}

/**
 * A dry-run update (PUT) of a stored Rollout, or of its status subresource; `as` impersonates a user (in
 * system:masters, so that only the policies can refuse it).
 */
function updateDryRun(namespace: string, object: Obj, options: { subresource?: 'status'; as?: string } = {}): Promise<DryRunAnswer> {
  const path = `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/rollouts/${object.metadata.name}${options.subresource ? `/${options.subresource}` : ''}`;
  return dryRun('PUT', path, object, options.as ? { 'Impersonate-User': options.as, 'Impersonate-Group': 'system:masters' } : {});
}

const namespace = namespaceMaker(plane, SCOPE);

function dryRun(method: 'POST' | 'PUT', path: string, object: Obj, headers: Record<string, string>, timeoutMs = 30_000): Promise<DryRunAnswer> {
  return dryRunRequest(plane, method, path, object, headers, timeoutMs);
}

function scoped(policy: Policy, name: string, scope: string): Obj[] {
  // Not the Audit policy: no assertion reads audit annotations, and each policy costs the apiserver seconds to
  // compile (it shares its variables with the other two, which are applied).
  const objects = (exportPolicies(policy, { name, rollouts: true }) as Obj[]).filter((object) => !object.metadata.name.endsWith('-audit'));
  for (const object of objects) {
    if (object.kind !== 'ValidatingAdmissionPolicy' && object.kind !== 'MutatingAdmissionPolicy') continue;
    object.spec.matchConstraints.namespaceSelector.matchExpressions.push({ key: 'rollsafe.test/policy', operator: 'In', values: [scope] });
    object.spec.matchConstraints.resourceRules = structuredClone(UNCHECKED_RESOURCE_RULES);
    object.spec.failurePolicy = 'Fail';
  }
  return objects;
}

/**
 * The resources the exported policies match (the first subtest holds the export to them), as one rule in any
 * version: apps and argoproj.io serve one each (v1, v1alpha1), so admission matches the same requests, while
 * kube-controller-manager's type checker skips a rule with a wildcard. That checker compiles every variable
 * again for each validation and each matched kind (TypeChecker.CheckExpression): a Warn policy, about 100
 * expressions x 4 kinds x 115 variables, keeps a core busy for most of an hour, slowing every test file that
 * shares the control plane.
 */
const UNCHECKED_RESOURCE_RULES = [{ apiGroups: ['apps', 'argoproj.io'], apiVersions: ['*'], resources: ['deployments', 'statefulsets', 'daemonsets', 'rollouts'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }];

// ---- the workloads ---------------------------------------------------------------------------------------------

/** A Rollout that passes every rule; each tricky case changes it. */
function good(name: string, change: (spec: Obj, container: Obj, object: Obj) => void): Obj {
  const object: Obj = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      strategy: { canary: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 45,
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: name } } }],
          containers: [{ name: 'app', image: 'example.com/app:1', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 'http' } }, lifecycle: { preStop: { sleep: { seconds: 10 } } } }],
        },
      },
    },
  };
  change(object.spec, object.spec.template.spec.containers[0], object);
  return object;
}

const routed = { canaryService: 'api-canary', stableService: 'api-stable', trafficRouting: { nginx: { stableIngress: 'api' } } };
/** No port: no serving container, so prestop-delay adds no sleep and the switch delays stand alone. */
const unserved = (container: Obj) => {
  delete container.ports;
  delete container.readinessProbe;
  delete container.lifecycle;
};

/** Rollouts where CEL and JavaScript differ unless both sides are careful. */
const TRICKY: Array<[string, Obj]> = [
  // Canary pacing as Argo reads IntOrString: every string a percentage.
  ['a string maxUnavailable "100" is 100% (maxSurge 0: the fix adds maxSurge 1)', good('pct-string', (s) => (s.strategy.canary = { maxSurge: 0, maxUnavailable: '100' }))],
  ['a + sign and stray % signs', good('pct-signs', (s) => (s.strategy.canary = { maxSurge: '+50%', maxUnavailable: '%+100%%' }))],
  ['an int maxUnavailable above the replicas (capped in the message)', good('int-above', (s) => (s.strategy.canary = { maxUnavailable: 7 }))],
  ['maxSurge 0 and 10% unavailable at 1 replica: both resolve to 0', good('fell-back', (s) => ((s.replicas = 1), (s.strategy.canary = { maxSurge: 0, maxUnavailable: '10%' })))],
  ['the defaults ("25") at 1 replica', good('defaults-one', (s) => ((s.replicas = 1), (s.strategy.canary = {})))],
  ['replicas unset', good('replicas-unset', (s) => (delete s.replicas, (s.strategy.canary = { maxUnavailable: '100%' })))],
  ['replicas 0', good('replicas-zero', (s) => ((s.replicas = 0), (s.strategy.canary = { maxUnavailable: '100%' })))],
  ['negative percentages: -10% surge rounds up to 0 at 1 replica', good('negative-pct', (s) => ((s.replicas = 1), (s.strategy.canary = { maxSurge: '-10%', maxUnavailable: '0%' })))],
  ['a negative int and percentage', good('negative-values', (s) => (s.strategy.canary = { maxSurge: -1, maxUnavailable: '-50%' }))],
  // Values Argo cannot read resolve nothing (it reads them as 0): nothing to judge, nothing refused.
  ['strings Argo cannot read', good('unreadable', (s) => (s.strategy.canary = { maxSurge: 'a"b\\c\n\u0001é', maxUnavailable: '100%', steps: [{ setWeight: 10 }] }))],
  ['ten digits are more than Atoi is given', good('ten-digits', (s) => ((s.replicas = 1), (s.strategy.canary = { maxSurge: '1234567890%', maxUnavailable: 1 })))],
  // Specs the controller refuses.
  ['"-0" and 0 are both 0', good('both-zero', (s) => (s.strategy.canary = { maxSurge: '-0', maxUnavailable: 0 }))],
  ['a router without canaryService and stableService', good('no-services', (s) => (s.strategy.canary = { trafficRouting: { smi: {} }, canaryService: 'api-canary' }))],
  ['canaryService and stableService the same', good('same-canary-services', (s) => (s.strategy.canary = { ...routed, stableService: 'api-canary' }))],
  ['istio with a destinationRule and ALB with pingPong need no Services', good('istio-dr', (s) => (s.strategy.canary = { trafficRouting: { istio: { destinationRule: { name: 'api', canarySubsetName: 'c', stableSubsetName: 's' } } }, maxUnavailable: 0 }))],
  ['ALB with pingPong', good('alb-ping-pong', (s) => (s.strategy.canary = { trafficRouting: { alb: { ingress: 'api', servicePort: 80 } }, pingPong: { pingService: 'ping', pongService: 'pong' } }))],
  ['maxTrafficWeight 1000: setWeight 500 is fine, 1001 is not; setCanaryScale without a router', good('max-weight', (s) => (s.strategy.canary = { ...routed, trafficRouting: { ...routed.trafficRouting, maxTrafficWeight: 1000 }, steps: [{ setWeight: 500 }, { setWeight: 1001 }] }))],
  ['setCanaryScale without a router', good('canary-scale', (s) => (s.strategy.canary = { maxUnavailable: 0, steps: [{ setCanaryScale: { replicas: 1 } }, { setWeight: 101 }] }))],
  ['no strategy', good('no-strategy', (s) => (s.strategy = {}))],
  ['no strategy field at all', good('strategy-absent', (s) => delete s.strategy)],
  ['"+0%" and "%0" are both 0 too', good('both-zero-signs', (s) => (s.strategy.canary = { maxSurge: '+0%', maxUnavailable: '%0' }))],
  ['an empty trafficRouting is a router that needs no Services; setWeight 0 of maxTrafficWeight 0, then 1', good('empty-router', (s, c) => (unserved(c), (s.strategy.canary = { trafficRouting: { maxTrafficWeight: 0 }, steps: [{ setWeight: 0 }, { setWeight: 1 }] })))],
  ['istio without a destinationRule needs both Services; ALB with canaryService ""', good('istio-vs', (s) => (s.strategy.canary = { trafficRouting: { istio: { virtualService: { name: 'api' } }, alb: { ingress: 'api', servicePort: 80 } }, canaryService: '', stableService: 'api' }))],
  ['dynamicStableScale false with scaleDownDelaySeconds and no router', good('dynamic-false', (s) => (s.strategy.canary = { maxUnavailable: 0, dynamicStableScale: false, scaleDownDelaySeconds: 0 }))],
  ['both strategies', good('both-strategies', (s) => (s.strategy = { canary: {}, blueGreen: { activeService: 'api' } }))],
  ['blue-green with activeService "" and previewService unset (not the same)', good('bg-empty', (s) => (s.strategy = { blueGreen: { activeService: '' } }))],
  ['a routed canary behind a declared NLB with a huge scaleDownDelaySeconds, no abort delay', good('routed-nlb-huge', (s, _c, o) => ((o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsNlbIp' }), (s.strategy.canary = { ...routed, scaleDownDelaySeconds: 2147483647 })))],
  ['blue-green with one Service twice', good('same-services', (s) => (s.strategy = { blueGreen: { activeService: 'api', previewService: 'api' } }))],
  ['dynamicStableScale and scaleDownDelaySeconds without routing, weights out of range', good('no-routing', (s) => (s.strategy.canary = { maxUnavailable: 0, dynamicStableScale: true, scaleDownDelaySeconds: 5, steps: [{ setWeight: 120 }, { setWeight: -5 }] }))],
  ['dynamicStableScale with scaleDownDelaySeconds', good('dynamic-delay', (s) => (s.strategy.canary = { ...routed, dynamicStableScale: true, scaleDownDelaySeconds: 5 }))],
  // setWeight without a router (info: only the findings show it).
  ['weights 10, 50, 10, 33, 99 of 3 replicas', good('weights-3', (s) => (s.strategy.canary = { maxUnavailable: 0, steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { setWeight: 10 }, { setWeight: 33 }, { setWeight: 99 }, { setWeight: 100 }, { setWeight: 0 }] }))],
  ['weights of 1 replica without surge', good('weights-1', (s) => ((s.replicas = 1), (s.strategy.canary = { maxSurge: 0, maxUnavailable: 1, steps: [{ setWeight: 20 }, { setWeight: 50 }, { setWeight: 80 }] })))],
  ['weights at a .5 tie (2 and 6 replicas)', good('weights-tie', (s) => ((s.replicas = 2), (s.strategy.canary = { maxSurge: 1, maxUnavailable: 0, steps: [{ setWeight: 25 }, { setWeight: 75 }, { setWeight: 15 }] })))],
  ['90% of 5 replicas without surge: no count the controller can hold', good('weights-unresolved', (s) => ((s.replicas = 5), (s.strategy.canary = { maxSurge: 0, maxUnavailable: 1, steps: [{ setWeight: 90 }, { setWeight: 10 }] })))],
  ['strings as percentages: "25" of 4 replicas, "25%" surge', good('pct-25', (s) => ((s.replicas = 4), (s.strategy.canary = { maxSurge: '25%', maxUnavailable: '25' })))],
  ['"100" unavailable of 4 replicas with surge "25"', good('pct-100-of-4', (s) => ((s.replicas = 4), (s.strategy.canary = { maxSurge: '25', maxUnavailable: '100' })))],
  ['" 1" and "1 " are no numbers Argo reads (nothing judged)', good('pct-space', (s) => ((s.replicas = 1), (s.strategy.canary = { maxSurge: ' 1', maxUnavailable: '1 ', steps: [{ setWeight: 50 }] })))],
  ['"1.5" and "0x10" neither', good('pct-odd', (s) => ((s.replicas = 1), (s.strategy.canary = { maxSurge: '1.5', maxUnavailable: '0x10' })))],
  ['ints: maxUnavailable 3 of 3 replicas, maxSurge 0', good('ints-all', (s) => (s.strategy.canary = { maxSurge: 0, maxUnavailable: 3 }))],
  ['an int64 maxSurge and "100%%" unavailable', good('int64', (s) => (s.strategy.canary = { maxSurge: 10_000_000_000, maxUnavailable: '100%%' }))],
  ['"100%" surge and unavailable of 10 replicas, steps with pauses', good('pct-10', (s) => ((s.replicas = 10), (s.strategy.canary = { maxSurge: '100%', maxUnavailable: '100%', steps: [{ setWeight: 15 }, { pause: { duration: '1h' } }, { setWeight: 33 }, { pause: {} }, { setWeight: 100 }] })))],
  ['weights at replicas 0', good('weights-zero', (s) => ((s.replicas = 0), (s.strategy.canary = { maxSurge: 0, maxUnavailable: 1, steps: [{ setWeight: 10 }] })))],
  ['weights 1 and 99 of 200 replicas without surge', good('weights-200', (s) => ((s.replicas = 200), (s.strategy.canary = { maxSurge: 0, maxUnavailable: 1, steps: [{ setWeight: 1 }, { setWeight: 99 }, { setWeight: 45 }] })))],
  ['weights of 7 replicas with surge "50%"', good('weights-7', (s) => ((s.replicas = 7), (s.strategy.canary = { maxSurge: '50%', maxUnavailable: 0, steps: [{ setWeight: 5 }, { setWeight: 13 }, { setWeight: 64 }, { setWeight: 97 }] })))],
  // The delays after a switch against the termination budget.
  ['blue-green scaleDownDelaySeconds 0, no sleep', good('bg-zero', (s, c) => (unserved(c), (s.strategy = { blueGreen: { activeService: 'api', previewService: 'api-preview', scaleDownDelaySeconds: 0, abortScaleDownDelaySeconds: 4 } })))],
  ['blue-green abortScaleDownDelaySeconds 0 (never scaled down)', good('bg-abort-never', (s, c) => (unserved(c), (s.strategy = { blueGreen: { activeService: 'api', scaleDownDelaySeconds: 3, abortScaleDownDelaySeconds: 0 } })))],
  ['a routed canary with dynamicStableScale: no delay, not fixable', good('dynamic', (s, c) => (unserved(c), (s.strategy.canary = { ...routed, dynamicStableScale: true })))],
  ['a routed canary with dynamicStableScale and an abort delay', good('dynamic-abort', (s, c) => (unserved(c), (s.strategy.canary = { ...routed, dynamicStableScale: true, abortScaleDownDelaySeconds: 2 })))],
  ['a routed canary with scaleDownDelayRevisionLimit 0', good('revision-limit', (s, c) => (unserved(c), (s.strategy.canary = { ...routed, scaleDownDelaySeconds: 60, scaleDownDelayRevisionLimit: 0 })))],
  ['blue-green with scaleDownDelayRevisionLimit 2 (not 0)', good('revision-limit-two', (s, c) => (unserved(c), (s.strategy = { blueGreen: { activeService: 'api', scaleDownDelaySeconds: 5, scaleDownDelayRevisionLimit: 2 } })))],
  ['a routed canary with negative delays', good('negative-delays', (s, c) => (unserved(c), (s.strategy.canary = { ...routed, scaleDownDelaySeconds: -5, abortScaleDownDelaySeconds: -1 })))],
  ['blue-green without a delay (30) and a sleep of 10', good('bg-default', (s) => (s.strategy = { blueGreen: { activeService: 'api', previewService: 'api-preview', previewReplicaCount: 1 } }))],
  ['blue-green behind a declared NLB: the default delay of 30 and the sleep fall short', good('bg-nlb-default', (s, _c, o) => ((o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsNlbIp' }), (s.strategy = { blueGreen: { activeService: 'api', previewReplicaCount: 0 } })))],
  ['blue-green behind a declared NLB with scaleDownDelaySeconds 0 and abortScaleDownDelaySeconds 0', good('bg-nlb-zero', (s, _c, o) => ((o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsNlbIp' }), (s.strategy = { blueGreen: { activeService: 'api', scaleDownDelaySeconds: 0, abortScaleDownDelaySeconds: 0 } })))],
  ['blue-green behind a declared NLB with a huge delay (int32 max)', good('bg-nlb-huge', (s, _c, o) => ((o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsNlbIp' }), (s.strategy = { blueGreen: { activeService: 'api', scaleDownDelaySeconds: 2147483647, abortScaleDownDelaySeconds: 2147483647 } })))],
  ['blue-green behind a declared NLB with scaleDownDelayRevisionLimit 0', good('bg-nlb-limit', (s, _c, o) => ((o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsNlbIp' }), (s.strategy = { blueGreen: { activeService: 'api', scaleDownDelaySeconds: 500, scaleDownDelayRevisionLimit: 0, abortScaleDownDelaySeconds: 1 } })))],
  ['a routed canary behind a declared NLB with scaleDownDelaySeconds 0', good('routed-nlb-zero', (s, _c, o) => ((o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsNlbIp,awsAlbIp' }), (s.strategy.canary = { ...routed, scaleDownDelaySeconds: 0, steps: [{ setWeight: 10 }] })))],
  ['a routed canary with dynamicStableScale and abortScaleDownDelaySeconds 0, behind an unknown front', good('dynamic-abort-zero', (s, c, o) => (unserved(c), (o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'someLb' }), (s.strategy.canary = { ...routed, dynamicStableScale: true, abortScaleDownDelaySeconds: 0 })))],
  ['restartAt on a create', good('restart-create', (s) => ((s.restartAt = '2030-01-02T03:04:05Z'), (s.strategy.canary = { maxUnavailable: '100%' })))],
  ['rollout-strategy exempt', good('strategy-exempt', (s, _c, o) => ((o.metadata.annotations = { 'rollsafe.dev/exempt': 'rollout-strategy', 'rollsafe.dev/exempt-reason': 'test' }), (s.strategy = { blueGreen: { activeService: 'api', previewService: 'api' } })))],
  [
    'blue-green behind a declared NLB, with an exec sleep (not raised)',
    good('bg-nlb', (s, c, o) => ((o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsNlbIp' }), (c.lifecycle.preStop = { exec: { command: ['sleep', '10'] } }), (s.strategy = { blueGreen: { activeService: 'api' } }))),
  ],
  [
    'a routed canary behind a declared ALB, prestop-delay exempt',
    good('routed-alb', (s, c, o) => ((o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsAlbIp', 'rollsafe.dev/exempt': 'prestop-delay', 'rollsafe.dev/exempt-reason': 'test' }), delete c.lifecycle, (s.strategy.canary = { ...routed, scaleDownDelaySeconds: 1 }))),
  ],
  // The template elsewhere, or not at all.
  ['workloadRef and no template: the template rules do not judge it', good('ref-only', (s, _c, o) => (delete s.template, (s.replicas = 1), (s.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }), (s.strategy.canary = { maxUnavailable: 1 }), (o.metadata.annotations = { 'rollsafe.dev/exempt': 'readiness-probe,min-replicas', 'rollsafe.dev/exempt-reason': 'test' })))],
  ['workloadRef and a template', good('ref-and-template', (s, c) => ((s.workloadRef = { kind: 'Deployment', name: 'api' }), delete c.readinessProbe, (s.progressDeadlineSeconds = 1), (c.startupProbe = { tcpSocket: { port: 8080 } })))],
  ['workloadRef and blue-green without a delay: the switch is not judged without the template', good('ref-blue-green', (s) => (delete s.template, (s.workloadRef = { kind: 'Deployment', name: 'api' }), (s.strategy = { blueGreen: { activeService: 'api', scaleDownDelaySeconds: 0 } })))],
  ['workloadRef and blue-green behind an NLB with scaleDownDelayRevisionLimit 0: still not judged', good('ref-bg-limit', (s, _c, o) => (delete s.template, (o.metadata.annotations = { 'rollsafe.dev/load-balancer': 'awsNlbIp' }), (s.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', scaleDown: 'progressively' }), (s.strategy = { blueGreen: { activeService: 'api', scaleDownDelayRevisionLimit: 0 } })))],
  ['workloadRef with a refused canary and restartAt', good('ref-refused', (s) => (delete s.template, (s.restartAt = '2030-01-02T03:04:05Z'), (s.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }), (s.strategy.canary = { maxUnavailable: 0, maxSurge: '0%' })))],
  ['workloadRef, 1 replica, a canary that takes it down', good('ref-pacing', (s) => (delete s.template, (s.replicas = 1), (s.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }), (s.strategy.canary = { maxSurge: 0, maxUnavailable: 1, steps: [{ setWeight: 30 }] })))],
  ['an empty workloadRef (the controller refuses it) beside a template', good('ref-empty', (s) => (s.workloadRef = {}))],
  ['neither a template nor a workloadRef: not judged', good('no-template', (s) => (delete s.template, (s.replicas = 1)))],
  ['a template without metadata or selector', good('bare-template', (s) => (delete s.selector, delete s.template.metadata, delete s.template.spec.topologySpreadConstraints))],
  ['a template with labels but no selector', good('labels-no-selector', (s) => (delete s.selector, delete s.template.spec.topologySpreadConstraints))],
  ['no constraint yet, the list created', good('spread-created', (s) => delete s.template.spec.topologySpreadConstraints)],
  // Probes as written: no SetDefaults_Probe for a custom resource.
  [
    'probes identical once defaulted (0 is unset, "" is "/")',
    good('probes-defaulted', (_s, c) => (c.livenessProbe = { httpGet: { port: 8080, scheme: 'HTTP', path: '' }, periodSeconds: 0, failureThreshold: 3, initialDelaySeconds: 0 })),
  ],
  ['probes that differ only in a field neither defaults', good('probes-differ', (_s, c) => (c.livenessProbe = { httpGet: { port: 'http', path: '/' }, terminationGracePeriodSeconds: 5 }))],
  ['startup probe with 0 for every period and threshold', good('probes-zero', (s, c) => ((s.progressDeadlineSeconds = 15), (c.startupProbe = { httpGet: { path: '/', port: 'http' }, periodSeconds: 0, failureThreshold: 0, successThreshold: 0 })))],
  ['a startup probe that needs 3 successes, negative periods', good('probes-odd', (s, c) => ((s.progressDeadlineSeconds = 20), (c.startupProbe = { exec: { command: ['true'] }, initialDelaySeconds: 25, periodSeconds: 7, successThreshold: 3 }), (c.readinessProbe.periodSeconds = -7))),
  ],
  // The rest of the view.
  ['an empty containers list', good('no-containers', (s) => (s.template.spec.containers = []))],
  ['a probe port written as the string "8080" (a name), a native sidecar that serves', good('string-port', (s, c) => ((c.readinessProbe = { tcpSocket: { port: '8080' } }), (s.template.spec.initContainers = [{ name: 'proxy', image: 'example.com/proxy:1', restartPolicy: 'Always', ports: [{ containerPort: 15001 }] }])))],
  ['"0%" and "0" are both 0; abortScaleDownDelaySeconds on a basic canary', good('both-zero-pct', (s) => (s.strategy.canary = { maxSurge: '0%', maxUnavailable: '0', abortScaleDownDelaySeconds: 1 }))],
  ['abortScaleDownDelaySeconds on a basic canary only', good('abort-basic', (s, c) => (unserved(c), (s.strategy.canary = { maxUnavailable: 0, abortScaleDownDelaySeconds: 1 })))],
  ['setWeight and setCanaryScale in one step, routed', good('weight-and-scale', (s) => (s.strategy.canary = { ...routed, steps: [{ setWeight: 20, setCanaryScale: { weight: 20 } }, { setCanaryScale: { matchTrafficWeight: true } }] }))],
  ['no readiness probe, no preStop, no grace period, 1 replica', good('naive', (s, c) => ((s.replicas = 1), delete c.readinessProbe, delete c.lifecycle, delete s.template.spec.terminationGracePeriodSeconds, (s.strategy.canary = { maxSurge: 1, maxUnavailable: 1 })))],
  ['an istio sidecar and revisionHistoryLimit 0', good('istio', (s) => ((s.revisionHistoryLimit = 0), (s.template.metadata.labels['sidecar.istio.io/inject'] = 'true')))],
  ['an unknown exempted rule', good('unknown-exempt', (_s, c, o) => ((o.metadata.annotations = { 'rollsafe.dev/exempt': 'readiness', 'rollsafe.dev/exempt-reason': 'x' }), delete c.readinessProbe))],
];

/** Every Rollout of the goldens (.fixed ones too: what `rollsafe fix` wrote), the tricky ones, and the Deployments beside them. */
function rollouts(): Array<{ source: string; object: Obj }> {
  const found: Array<{ source: string; object: Obj }> = [];
  const rulesDir = join(FIXTURES, 'rules');
  for (const rule of readdirSync(rulesDir)) {
    for (const file of readdirSync(join(rulesDir, rule)).filter((name) => /rollout.*\.ya?ml$/.test(name) && !/\.policy\.yaml$/.test(name))) {
      for (const doc of parseAllDocuments(readFileSync(join(rulesDir, rule, file), 'utf8'))) {
        const object = doc.toJS() as Obj | null;
        if (object && (isRollout(object) || (object.apiVersion === 'apps/v1' && APPS.has(object.kind)))) found.push({ source: `rules/${rule}/${file}: ${object.kind}`, object });
      }
    }
  }
  for (const [source, object] of TRICKY) found.push({ source: `tricky: ${source}`, object });
  return found;
}

/** Every apps/v1 workload of the rule goldens (judged once more, under the policies that match Rollouts too). */
function appsWorkloads(): Array<{ source: string; object: Obj }> {
  const found: Array<{ source: string; object: Obj }> = [];
  const rulesDir = join(FIXTURES, 'rules');
  for (const rule of readdirSync(rulesDir)) {
    for (const file of readdirSync(join(rulesDir, rule)).filter((name) => /\.ya?ml$/.test(name) && !/\.(policy|fixed)\.yaml$/.test(name))) {
      for (const doc of parseAllDocuments(readFileSync(join(rulesDir, rule, file), 'utf8'))) {
        const object = doc.toJS() as Obj | null;
        if (object?.apiVersion === 'apps/v1' && APPS.has(object.kind)) found.push({ source: `rules/${rule}/${file}`, object });
      }
    }
  }
  return found;
}

// ---- the verdicts ----------------------------------------------------------------------------------------------

/**
 * The exported findings themselves, info included: a policy (test-only) that denies every request with each
 * rule's CEL findings, one per line, as `rule | info? | message | fix`.
 */
const FINDING_SEPARATOR = '\u241e';
function findingsProbe(policy: Policy, name: string, scope: string): Obj[] {
  const [deny] = scoped(policy, name, scope).filter((object) => object.kind === 'ValidatingAdmissionPolicy');
  const ident = (id: string) => id.replace(/-/g, '_');
  const lines = EXPORTED_RULES.map(({ rule }) => {
    const id = ident(rule.id);
    return `(variables.mode_${id} == 'off' ? [] : variables.findings_${id}.map(f, '${rule.id} | ' + (f.cap == 'info' || variables.severity_${id} == 'info' ? 'info' : '') + ' | ' + f.message + ' | ' + f.fix))`;
  });
  deny!.metadata.name = name;
  // Separators on both ends: the apiserver trims the message.
  deny!.spec.validations = [{ expression: 'false', messageExpression: `'${FINDING_SEPARATOR}' + (${lines.join(' + ')}).join('${FINDING_SEPARATOR}') + '${FINDING_SEPARATOR}'`, reason: 'Forbidden' }];
  return [deny!, { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name }, spec: { policyName: name, validationActions: ['Deny'] } }];
}

function engineFindings(policy: Policy, namespace: string, object: Obj): string[] {
  const evaluation = evaluate(object, policy, { namespace, namespaceLabels: {} });
  return (evaluation?.findings ?? []).filter((finding) => finding.rule !== 'exemption').map((finding) => `${finding.rule} | ${finding.severity === 'info' ? 'info' : ''} | ${finding.message} | ${finding.fix ?? ''}`);
}

function probedFindings(answer: DryRunAnswer): string[] | string {
  const message: string = answer.body.message ?? '';
  const start = message.indexOf(FINDING_SEPARATOR);
  if (answer.status !== 403 || start === -1) return `no findings from the probe: ${answer.status} ${message.slice(0, 500)}`;
  return message.slice(start + 1).split(FINDING_SEPARATOR).filter((line) => line !== '');
}

// ---- the policies and namespaces ------------------------------------------------------------------------------

const MODES: Array<[string, Mode | undefined]> = [
  ['exr-default', undefined],
  ['exr-enforce', 'enforce'],
  ['exr-warn', 'warn'],
  ['exr-audit', 'audit'],
];
const CUSTOM_POLICY = parsePolicy(
  `apiVersion: rollsafe.dev/v1alpha1
kind: Policy
kubernetesVersion: "1.29"
minReplicas: 3
drainSeconds: 10
preStop: {seconds: 15}
exemptions: {allowed: false}
loadBalancers: {awsNlbIp: 90}
rules:
  readiness-probe: {severity: warning}
  min-replicas: {severity: error}
namespaces:
  - names: [exr-team-*]
    mode: warn
    minReplicas: 1
    preStop: {seconds: 40}
    rules:
      grace-period: {mode: enforce}
  - names: [exr-legacy]
    kubernetesVersion: "1.26"
    preStop: {seconds: 5}
    rules:
      prestop-delay: {mode: off}
      rollout-strategy: {severity: warning}
`,
  'custom policy',
);
const CUSTOM_NAMESPACES = ['exr-custom', 'exr-team-a', 'exr-legacy'];
// Kubernetes 1.37: the MutatingAdmissionPolicy too (v1 from 1.36).
const FIX_POLICY = parsePolicy(defaultPolicyDocument().replace(/^kubernetesVersion: .*$/m, 'kubernetesVersion: "1.37"'), 'default policy for 1.37');
const FIX_NAMESPACES: Array<[string, Mode | undefined]> = [
  ['exr-fix', undefined],
  ['exr-fix-warn', 'warn'],
];
const DEFAULT_EXPORTED = exportedOnly(defaultPolicy());
const CUSTOM_EXPORTED = exportedOnly(CUSTOM_POLICY);
const FIX_EXPORTED = exportedOnly(FIX_POLICY);

await namespace('exr-plain', {});
for (const [name, mode] of MODES) await namespace(name, { 'rollsafe.test/policy': 'rollouts-default', ...(mode ? { 'rollsafe.dev/mode': mode } : {}) });
for (const name of CUSTOM_NAMESPACES) await namespace(name, { 'rollsafe.test/policy': 'rollouts-custom' });
for (const [name, mode] of FIX_NAMESPACES) await namespace(name, { 'rollsafe.test/policy': 'rollouts-fix', ...(mode ? { 'rollsafe.dev/mode': mode } : {}) });
await namespace('exr-findings', { 'rollsafe.test/policy': 'rollouts-findings' });
await namespace('exr-findings-custom', { 'rollsafe.test/policy': 'rollouts-findings-custom' });

const POLICY_OBJECTS = [
  ...scoped(defaultPolicy(), 'exr-test', 'rollouts-default'),
  ...scoped(CUSTOM_POLICY, 'exr-custom', 'rollouts-custom'),
  ...scoped(FIX_POLICY, 'exr-fix', 'rollouts-fix'),
  ...findingsProbe(FIX_POLICY, 'exr-findings', 'rollouts-findings'),
  ...findingsProbe(CUSTOM_POLICY, 'exr-findings-custom', 'rollouts-findings-custom'),
];

t.test('off, the export is what it was: no Rollout in what it matches or judges', async (t) => {
  for (const policy of [defaultPolicy(), FIX_POLICY, CUSTOM_POLICY]) {
    const plain = JSON.stringify(exportPolicies(policy, { name: 'x' }));
    t.equal(JSON.stringify(exportPolicies(policy, { name: 'x', rollouts: false })), plain, 'rollouts: false is the default');
    t.notMatch(plain, /argoproj|workloadRef|restartAt|rollouts-pod-template-hash|variables\.ar[A-Z]| : object\.kind == 'Rollout' \?/, 'nothing of Rollouts in it');
    const on = exportPolicies(policy, { name: 'x', rollouts: true }) as Obj[];
    for (const object of on.filter((candidate) => /AdmissionPolicy$/.test(candidate.kind))) {
      t.strictSame(
        object.spec.matchConstraints.resourceRules.map((rule: Obj) => `${rule.apiGroups}/${rule.apiVersions}/${rule.resources}`),
        ['apps/v1/deployments,statefulsets,daemonsets', 'argoproj.io/v1alpha1/rollouts'],
        `${object.metadata.name} matches Rollouts too`,
      );
    }
  }
});

t.test('the policies that judge Rollouts are accepted and take effect', async (t) => {
  // Server-side: a policy with overrides is larger than the 256 KiB of annotations a client-side apply keeps.
  const started = Date.now();
  // In two streams: the apiserver compiles each policy as it creates it, and has two cores for that here.
  const streams: [Obj[], Obj[]] = [[], []];
  for (const object of POLICY_OBJECTS) streams[JSON.stringify(streams[0]).length <= JSON.stringify(streams[1]).length ? 0 : 1].push(object);
  await Promise.all(streams.map((items) => kubectlOk(plane, ['apply', '--server-side', '--field-manager=rollsafe-tests', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }))));
  const applied = Date.now();
  const deadline = applied + POLICY_LOADING_SECONDS * 1000;
  root.teardown(async () => {
    await kubectl(plane, ['delete', '--ignore-not-found', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: POLICY_OBJECTS }));
  });
  // The apiserver loads each policy asynchronously: wait until a naive Rollout is denied and warned about.
  const naive = manifest(TRICKY.find(([source]) => source.startsWith('no readiness probe'))![1]);
  for (const [ns, prefix] of [['exr-default', 'exr-test'], ['exr-custom', 'exr-custom'], ['exr-fix', 'exr-fix']] as const) {
    await eventually(`the policies of ${prefix} deny and warn`, async () => {
      const answer = await createDryRun(ns, naive);
      return answer.status === 403 && String(answer.body.message).includes(`'${prefix}-deny'`) && answer.warnings.some((text) => text.includes(`'${prefix}-warn'`));
    }, secondsLeft(deadline));
  }
  // The MutatingAdmissionPolicy too: it fixes this one's canary (maxUnavailable 1 of 1), which then passes.
  const fixable = manifest(good('fixable', (s) => ((s.replicas = 1), (s.strategy.canary = { maxSurge: 0, maxUnavailable: 1 }))));
  await eventually('the fixes of exr-fix', async () => {
    const answer = await createDryRun('exr-fix', fixable);
    return answer.status === 201 && answer.body.spec.strategy.canary.maxUnavailable === 0;
  }, secondsLeft(deadline));
  for (const ns of ['exr-findings', 'exr-findings-custom']) {
    await eventually(`the findings probe in ${ns}`, async () => typeof probedFindings(await createDryRun(ns, naive)) !== 'string', secondsLeft(deadline));
  }
  withPolicies.loaded();
  t.pass(`loaded: applied in ${Math.round((applied - started) / 1000)} s, in effect ${Math.round((Date.now() - applied) / 1000)} s later`);
});

withPolicies.test('every Rollout gets the webhook verdict, message and warnings, in every namespace mode and override', async (t) => {
  const cases: ParityCase[] = [
    ...MODES.map(([namespace, mode]) => ({ namespace, policy: DEFAULT_EXPORTED, mode, prefix: 'exr-test' })),
    ...CUSTOM_NAMESPACES.map((namespace) => ({ namespace, policy: CUSTOM_EXPORTED, mode: undefined, prefix: 'exr-custom' })),
  ];
  const { judged, denied, warned } = await compareCreates(t, rollouts(), { plainNamespace: 'exr-plain', cases, createDryRun, refusedFails: true });
  t.ok(judged > 300 && denied > 50 && warned > 50, `a real mix of verdicts (${judged} judged, ${denied} denied, ${warned} warned)`);
});

withPolicies.test('the CEL findings of every Rollout are the engine\'s, info and fix included', async (t) => {
  let infos = 0;
  for (const { source, object } of rollouts()) {
    const create = manifest(object);
    const defaulted = await createDryRun('exr-plain', create);
    if (defaulted.status !== 201) continue;
    for (const [ns, policy] of [['exr-findings', FIX_EXPORTED], ['exr-findings-custom', CUSTOM_EXPORTED]] as const) {
      const expected = engineFindings(policy, ns, { ...defaulted.body, metadata: { ...defaulted.body.metadata, namespace: ns } });
      const answer = await createDryRun(ns, create);
      // Not judged by the engine (no template, no workloadRef): the policies do not match it either.
      const actual = expected.length === 0 && answer.status === 201 ? [] : probedFindings(answer);
      t.strictSame(actual, expected, `${source} in ${ns}`);
      infos += expected.filter((line) => line.includes(' | info | ')).length;
    }
  }
  t.ok(infos >= 10, `info findings compared (${infos})`);
});

withPolicies.test('with the MutatingAdmissionPolicy (1.37), every Rollout is fixed, stored and judged as through the webhook chain', async (t) => {
  const cases = FIX_NAMESPACES.map(([namespace, mode]) => ({ namespace, policy: FIX_EXPORTED, mode, prefix: 'exr-fix' }));
  const { judged, fixed } = await compareCreates(t, rollouts(), { plainNamespace: 'exr-plain', cases, createDryRun, chain: true });
  t.ok(judged > 80 && fixed > 20, `a real mix (${judged} judged, ${fixed} fixed)`);
});

withPolicies.test('the apps/v1 goldens get the same verdicts and fixes from the policies that match Rollouts too', async (t) => {
  let judged = 0;
  for (const { source, object } of appsWorkloads()) {
    const create = manifest(object);
    const defaulted = await createDryRun('exr-plain', create);
    if (defaulted.status !== 201) continue;
    const at = (ns: string) => ({ operation: 'CREATE' as const, object: { ...defaulted.body, metadata: { ...defaulted.body.metadata, namespace: ns } } });
    const [plain, fixedAnswer] = await Promise.all([createDryRun('exr-default', create), createDryRun('exr-fix', create)]);
    t.strictSame(vapVerdict(plain, 'exr-test'), webhookVerdict(DEFAULT_EXPORTED, 'exr-default', undefined, at('exr-default')), `${source} in exr-default`);
    const expected = chainVerdict(FIX_EXPORTED, 'exr-fix', undefined, at('exr-fix'));
    t.strictSame({ ...vapVerdict(fixedAnswer, 'exr-fix'), spec: fixedAnswer.status === 201 ? fixedAnswer.body.spec : expected.spec }, expected, `${source} in exr-fix`);
    judged++;
  }
  t.ok(judged > 100, `${judged} judged`);
});

// ---- updates ---------------------------------------------------------------------------------------------------

withPolicies.test('updates through kubectl: a template, workloadRef or restartAt change starts a rollout, nothing else does', async (t) => {
  const ns = 'exr-upd';
  // Rollouts from before the policies: the namespace joins their scope only once they exist.
  await namespace(ns, {});
  const naive = (name: string) => {
    const object = manifest(TRICKY.find(([source]) => source.startsWith('no readiness probe'))![1]);
    object.metadata.name = name;
    return object;
  };
  // A refused strategy (no fix) on a Rollout that runs a Deployment's template.
  const referenced = manifest(TRICKY.find(([source]) => source.startsWith('workloadRef and no template'))![1]);
  referenced.metadata.name = 'referenced';
  referenced.spec.strategy = { canary: { maxUnavailable: 0, scaleDownDelaySeconds: 30 } };
  for (const object of [naive('labelled'), naive('restarted'), referenced]) await kubectlOk(plane, ['apply', '-n', ns, '-f', '-'], JSON.stringify(object));
  await kubectlOk(plane, ['label', 'namespace', ns, 'rollsafe.test/policy=rollouts-fix']);
  await eventually(`${ns} is judged`, async () => (await createDryRun(ns, naive('probe'))).status === 403, 60);
  const stored = async (name: string) => JSON.parse(await kubectlOk(plane, ['get', 'rollouts.argoproj.io', name, '-n', ns, '-o', 'json'])) as Obj;
  const expect = (oldObject: Obj, object: Obj) => chainVerdict(FIX_EXPORTED, ns, undefined, { operation: 'UPDATE', object, oldObject });
  const only = (expected: { denied?: string | undefined; warnings: string[] }) => ({ denied: expected.denied, warnings: expected.warnings });

  // A label: never denied; the strategy is fixed, the template is not (that would start a rollout).
  const before = await stored('labelled');
  const expectedLabel = expect(before, { ...before, metadata: { ...before.metadata, labels: { ...before.metadata.labels, team: 'a' } } });
  t.equal(expectedLabel.denied, undefined);
  t.strictSame(kubectlVerdict(await kubectl(plane, ['label', 'rollouts.argoproj.io', 'labelled', '-n', ns, 'team=a']), 'exr-fix'), only(expectedLabel), 'label: the chain verdict');
  const afterLabel = await stored('labelled');
  t.strictSame(afterLabel.spec, expectedLabel.spec, 'label: stored as the chain patched it');
  t.equal(afterLabel.spec.strategy.canary.maxUnavailable, 0, 'the strategy was fixed');
  t.strictSame(afterLabel.spec.template, before.spec.template, 'the template was left alone');

  // restartAt replaces every pod (rollout/restart.go): judged in full.
  const restarted = await stored('restarted');
  const restartAt = '2030-01-02T03:04:05Z';
  const expectedRestart = expect(restarted, { ...restarted, spec: { ...restarted.spec, restartAt } });
  t.match(expectedRestart.denied, /\[readiness-probe\]/);
  t.strictSame(kubectlVerdict(await kubectl(plane, ['patch', 'rollouts.argoproj.io', 'restarted', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ spec: { restartAt } })]), 'exr-fix'), only(expectedRestart), 'restartAt: the chain verdict');

  // The refused strategy only warns on a label, and is denied once workloadRef points at another template.
  const ref = await stored('referenced');
  const expectedRefLabel = expect(ref, { ...ref, metadata: { ...ref.metadata, labels: { team: 'b' } } });
  t.equal(expectedRefLabel.denied, undefined);
  t.ok(expectedRefLabel.warnings.some((warning: string) => warning.includes('rollout-strategy: the Argo Rollouts controller refuses this strategy')), 'the chain warns');
  t.strictSame(kubectlVerdict(await kubectl(plane, ['label', 'rollouts.argoproj.io', 'referenced', '-n', ns, 'team=b']), 'exr-fix'), only(expectedRefLabel), 'label on a refused strategy: the chain verdict');
  const labelledRef = await stored('referenced');
  const workloadRef = { ...labelledRef.spec.workloadRef, name: 'api-v2' };
  const expectedRef = expect(labelledRef, { ...labelledRef, spec: { ...labelledRef.spec, workloadRef } });
  t.match(expectedRef.denied, /^rollsafe denied Rollout referenced: 1 zero-downtime violation\(s\): 1\. \[rollout-strategy\]/);
  t.strictSame(kubectlVerdict(await kubectl(plane, ['patch', 'rollouts.argoproj.io', 'referenced', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ spec: { workloadRef } })]), 'exr-fix'), only(expectedRef), 'workloadRef: the chain verdict');
});

/** How an update relates to a rollout (decision.ts): what the case is about, checked against startsRollout too. */
type UpdateKind = 'starts' | 'none' | 'field';

withPolicies.test('dry-run updates: what replaces pods is judged in full and may have its template fixed; nothing else is', async (t) => {
  const ns = 'exr-upd-dry';
  // Rollouts from before the policies: the namespace joins their scope only once they exist.
  await namespace(ns, {});
  const naive = (name: string, change?: (spec: Obj, container: Obj) => void) => {
    const object = manifest(TRICKY.find(([source]) => source.startsWith('no readiness probe'))![1]);
    object.metadata.name = name;
    change?.(object.spec, object.spec.template.spec.containers[0]);
    return object;
  };
  const proxy = { name: 'proxy', image: 'example.com/proxy:1', restartPolicy: 'Always' };
  const bases: Obj[] = [
    naive('plain'),
    naive('emptied', (s, c) => ((c.resources = {}), (s.template.spec.initContainers = [{ ...proxy, resources: {} }]))),
    naive('sidecar', (s, c) => ((s.template.spec.initContainers = [proxy, { name: 'init', image: 'example.com/init:1' }]), (s.template.spec.imagePullSecrets = [{ name: 'a' }, { name: 'b' }]), (c.env = [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]))),
    naive('restarted', (s) => (s.restartAt = '2030-01-02T03:04:05Z')),
    // As users write them; the Argo controller writes them back canonical (canonical-template.ts, decision.ts sameRestart).
    naive('quantities', (s, c) => ((c.resources = { limits: { cpu: 1, memory: '1024Mi' }, requests: { cpu: 0.5, memory: '512Mi' } }), (s.template.spec.initContainers = [{ ...proxy, resources: { limits: { cpu: '1000m' } } }]))),
    naive('restarted-late', (s) => (s.restartAt = '2030-01-02T04:04:05.123+01:00')),
    // A refused strategy (no fix, an error): denied wherever rollout-strategy may deny.
    naive('referenced', (s) => (delete s.template, (s.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', scaleDown: 'never' }), (s.strategy = { canary: { maxUnavailable: 0, scaleDownDelaySeconds: 30 } }))),
  ];
  for (const object of bases) await kubectlOk(plane, ['apply', '-n', ns, '-f', '-'], JSON.stringify(object));
  await kubectlOk(plane, ['label', 'namespace', ns, 'rollsafe.test/policy=rollouts-fix']);
  await eventually(`${ns} is judged`, async () => (await createDryRun(ns, naive('probe'))).status === 403, 60);
  const stored = new Map<string, Obj>();
  for (const { metadata } of bases) stored.set(metadata.name, JSON.parse(await kubectlOk(plane, ['get', 'rollouts.argoproj.io', metadata.name, '-n', ns, '-o', 'json'])) as Obj);

  const cases: Array<[string, string, UpdateKind, (object: Obj) => void, string?]> = [
    ['a label', 'plain', 'none', (o) => (o.metadata.labels = { ...o.metadata.labels, team: 'a' })],
    ['an annotation and replicas', 'plain', 'none', (o) => ((o.metadata.annotations = { note: 'x' }), (o.spec.replicas = 2))],
    ['resources: {} on the container (the Argo controller writes it back)', 'plain', 'none', (o) => (o.spec.template.spec.containers[0].resources = {})],
    ['resources: {} on the sidecar and the plain initContainer', 'sidecar', 'none', (o) => o.spec.template.spec.initContainers.forEach((c: Obj) => (c.resources = {}))],
    ['resources: {} gone from the container and the sidecar', 'emptied', 'none', (o) => [...o.spec.template.spec.containers, ...o.spec.template.spec.initContainers].forEach((c: Obj) => delete c.resources)],
    ['resources: {} and a new image', 'plain', 'starts', (o) => Object.assign(o.spec.template.spec.containers[0], { resources: {}, image: 'example.com/app:2' })],
    ['resources: {} gone and the sidecar image changed', 'emptied', 'starts', (o) => (delete o.spec.template.spec.containers[0].resources, (o.spec.template.spec.initContainers[0].image = 'example.com/proxy:2'))],
    ['a resources limit', 'plain', 'starts', (o) => (o.spec.template.spec.containers[0].resources = { limits: { cpu: '1' } })],
    // The controller hashes the template's encoding/json (ComputePodTemplateHash), where omitempty drops an empty map.
    ['resources: {limits: {}} is resources: {}', 'emptied', 'none', (o) => (o.spec.template.spec.containers[0].resources = { limits: {} })],
    ['Helm\'s empty lists, maps and false on the pod, its containers and the template', 'sidecar', 'none', (o) => {
      Object.assign(o.spec.template.spec, { tolerations: [], nodeSelector: {}, hostNetwork: false, dnsPolicy: '', volumes: [] });
      Object.assign(o.spec.template.spec.containers[0], { args: [], command: [], stdin: false, workingDir: '' });
      Object.assign(o.spec.template.spec.initContainers[1], { env: [], volumeMounts: [], tty: false });
      o.spec.template.metadata.annotations = {};
    }],
    ['securityContext: {} (a pointer to a struct, which the write-back keeps)', 'plain', 'starts', (o) => (o.spec.template.spec.securityContext = {})],
    ['privileged: false (a pointer)', 'plain', 'starts', (o) => (o.spec.template.spec.containers[0].securityContext = { privileged: false })],
    ['a toleration', 'plain', 'starts', (o) => (o.spec.template.spec.tolerations = [{ key: 'a', operator: 'Exists' }])],
    // Lists the apiserver keys by name (x-kubernetes-list-type: map), whose order the controller hashes all the same.
    ['initContainers reordered', 'sidecar', 'starts', (o) => o.spec.template.spec.initContainers.reverse()],
    ['env reordered', 'sidecar', 'starts', (o) => o.spec.template.spec.containers[0].env.reverse()],
    ['imagePullSecrets reordered', 'sidecar', 'starts', (o) => o.spec.template.spec.imagePullSecrets.reverse()],
    ['an env value changed', 'sidecar', 'starts', (o) => (o.spec.template.spec.containers[0].env[1].value = '3')],
    ['a template label', 'plain', 'starts', (o) => (o.spec.template.metadata.labels.tier = 'web')],
    ['restartAt newly set', 'plain', 'starts', (o) => (o.spec.restartAt = '2031-01-01T00:00:00Z')],
    ['restartAt changed', 'restarted', 'starts', (o) => (o.spec.restartAt = '2031-01-01T00:00:00Z')],
    // The instant counts, at second precision: the Argo controller writes restartAt back in UTC, truncated to the second.
    ['restartAt: the same instant written another way', 'restarted', 'none', (o) => (o.spec.restartAt = '2030-01-02T04:04:05+01:00')],
    ['restartAt: the same second with a fraction', 'restarted', 'none', (o) => (o.spec.restartAt = '2030-01-02T04:04:05.999999+01:00')],
    ['restartAt written back by the controller (UTC, whole seconds)', 'restarted-late', 'none', (o) => (o.spec.restartAt = '2030-01-02T03:04:05Z')],
    ['restartAt a second later', 'restarted-late', 'starts', (o) => (o.spec.restartAt = '2030-01-02T03:04:06Z')],
    // Quantities compare by the text Go's Quantity prints (the controller hashes it): one value in another text
    // Go keeps as written is another hash, another rollout.
    ['quantities in other notations Go keeps (1e0, 1073741824, 0.0005k)', 'quantities', 'starts', (o) => Object.assign(o.spec.template.spec.containers[0].resources, { limits: { cpu: '1e0', memory: '1073741824' }, requests: { cpu: '0.0005k', memory: '0.5Gi' } })],
    ['a quantity changed (cpu 1 → 2)', 'quantities', 'starts', (o) => (o.spec.template.spec.containers[0].resources.limits.cpu = 2)],
    ['a quantity changed (500m → 600m)', 'quantities', 'starts', (o) => (o.spec.template.spec.containers[0].resources.requests.cpu = '600m')],
    ['1Gi → 1G', 'quantities', 'starts', (o) => (o.spec.template.spec.containers[0].resources.limits.memory = '1G')],
    ['a quantity added', 'quantities', 'starts', (o) => (o.spec.template.spec.initContainers[0].resources.requests = { cpu: '1' })],
    ['a quantity written canonical and a new image', 'quantities', 'starts', (o) => Object.assign(o.spec.template.spec.containers[0], { image: 'example.com/app:2', resources: { ...o.spec.template.spec.containers[0].resources, limits: { cpu: '1', memory: '1Gi' } } })],
    ['restartAt removed (restarts nothing)', 'restarted', 'none', (o) => delete o.spec.restartAt],
    ['a label, restartAt as it was', 'restarted', 'none', (o) => (o.metadata.labels = { team: 'b' })],
    ['a workloadRef instead of the template', 'plain', 'starts', (o) => (delete o.spec.template, (o.spec.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }))],
    ['a workloadRef beside the template', 'plain', 'starts', (o) => (o.spec.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' })],
    ['workloadRef.scaleDown changed', 'referenced', 'none', (o) => (o.spec.workloadRef.scaleDown = 'onsuccess')],
    ['a template beside the workloadRef (not run)', 'referenced', 'none', (o) => (o.spec.template = structuredClone(stored.get('plain')!.spec.template))],
    ['workloadRef.name changed', 'referenced', 'starts', (o) => (o.spec.workloadRef.name = 'api-v2')],
    ['workloadRef.kind changed', 'referenced', 'starts', (o) => (o.spec.workloadRef.kind = 'ReplicaSet')],
    ['workloadRef.apiVersion removed', 'referenced', 'starts', (o) => delete o.spec.workloadRef.apiVersion],
    ['workloadRef.apiVersion ""', 'referenced', 'starts', (o) => (o.spec.workloadRef.apiVersion = '')],
    ['the workloadRef gone, a template instead', 'referenced', 'starts', (o) => (delete o.spec.workloadRef, (o.spec.template = structuredClone(stored.get('plain')!.spec.template)))],
    ['a strategy-only change to another refused strategy (rollout-strategy may deny it)', 'referenced', 'field', (o) => (o.spec.strategy.canary = { maxSurge: 0, maxUnavailable: '0%' })],
    ['a setWeight out of range (rollout-strategy)', 'plain', 'field', (o) => (o.spec.strategy.canary.steps = [{ setWeight: 101 }])],
    ['a strategy-only change the fix undoes', 'plain', 'field', (o) => (o.spec.strategy.canary = { maxSurge: 0, maxUnavailable: '100' })],
    ['revisionHistoryLimit 0 (rollback-history)', 'plain', 'field', (o) => (o.spec.revisionHistoryLimit = 0)],
    ['minReadySeconds past progressDeadlineSeconds (progress-deadline)', 'plain', 'field', (o) => ((o.spec.minReadySeconds = 100), (o.spec.progressDeadlineSeconds = 10))],
    ['the deprecated rollback annotation (rollout-strategy: an error)', 'plain', 'field', (o) => (o.metadata.annotations = { 'deprecated.deployment.rollback.to': '1' })],
    ['a new image, by the Deployment controller (judged, never denied)', 'plain', 'starts', (o) => (o.spec.template.spec.containers[0].image = 'example.com/app:3'), 'system:kube-controller-manager'],
  ];
  let denied = 0;
  await Promise.all(
    cases.map(async ([source, base, kind, change, as]) => {
      const oldObject = stored.get(base)!;
      const object = structuredClone(oldObject);
      change(object);
      t.equal(startsRollout({ uid: 'u', kind: kindOf(object), operation: 'UPDATE', object, oldObject }), kind === 'starts', `${source}: the engine reads it as the case says`);
      const expected = chainVerdict(FIX_EXPORTED, ns, undefined, { operation: 'UPDATE', object, oldObject, ...(as ? { username: as } : {}) });
      const answer = await updateDryRun(ns, object, as ? { as } : {});
      t.strictSame({ ...vapVerdict(answer, 'exr-fix'), spec: answer.status === 200 ? answer.body.spec : expected.spec }, expected, `${source}: the chain verdict, and the stored spec`);
      if (kind !== 'starts') t.strictSame(expected.spec.template, object.spec.template, `${source}: the template left alone`);
      if (kind === 'none') t.equal(expected.denied, undefined, `${source}: never denied`);
      if (expected.denied !== undefined) denied++;
    }),
  );
  t.ok(denied >= 10, `denials among them (${denied})`);

  // The controller's write-back of quantities (1 → "1", 1024Mi → 1Gi, 0.5 → 500m, 1000m → 1) starts no rollout
  // (util/quantity.ts prints them as Go does), but CEL cannot print a quantity: the exported policies judge it as
  // a rollout, in full. The safe side: a write-back judged, never a rollout let through.
  const quantities = stored.get('quantities')!;
  const writtenBack = structuredClone(quantities);
  writtenBack.spec.template.spec.containers[0].resources = { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '512Mi' } };
  writtenBack.spec.template.spec.initContainers[0].resources = { limits: { cpu: '1' } };
  t.notOk(startsRollout({ uid: 'u', kind: kindOf(writtenBack), operation: 'UPDATE', object: writtenBack, oldObject: quantities }), 'the webhook: no rollout');
  const anotherImage = structuredClone(quantities);
  anotherImage.spec.template.spec.containers[0].image = 'example.com/other:1';
  const asRollout = chainVerdict(FIX_EXPORTED, ns, undefined, { operation: 'UPDATE', object: writtenBack, oldObject: anotherImage });
  const answer = await updateDryRun(ns, writtenBack);
  t.strictSame(vapVerdict(answer, 'exr-fix'), { denied: asRollout.denied, warnings: asRollout.warnings }, 'the exported policies: judged as a rollout (the naive template denied)');
  t.ok(asRollout.denied, 'which denies this naive template');

  // Status goes through its subresource, which neither the webhook nor the policies match.
  const status = structuredClone(stored.get('plain')!);
  status.status = { phase: 'Degraded', message: 'x' };
  const statusAnswer = await updateDryRun(ns, status, { subresource: 'status' });
  const webhook = handleAdmission({ uid: 's', kind: kindOf(status), subResource: 'status', namespace: ns, operation: 'UPDATE', object: status, oldObject: stored.get('plain')!, userInfo: { username: 'rollsafe-test-admin' } }, 'validate', FIX_EXPORTED);
  t.strictSame({ status: statusAnswer.status, ...vapVerdict(statusAnswer, 'exr-fix') }, { status: 200, denied: undefined, warnings: webhook.response.warnings ?? [] }, 'a status update: neither judges it');
});

withPolicies.test('a large Rollout stays within the CEL cost budget (40 containers of 10 ports, undefaulted probes, hooks), created and updated', async (t) => {
  const containers = Array.from({ length: 40 }, (_, index) => ({
    name: `c${index}`,
    image: 'example.com/app:1.0',
    ports: Array.from({ length: 10 }, (_, port) => ({ name: `p${index}-${port}`, containerPort: 8000 + index * 10 + port })),
    readinessProbe: { httpGet: { path: '/ready', port: `p${index}-0` }, periodSeconds: 0 },
    livenessProbe: { httpGet: { path: '/ready', port: 8000 + index * 10, scheme: 'HTTP' }, failureThreshold: 3 },
    lifecycle: { preStop: { exec: { command: ['sh', '-c', `sleep 5 && ${'x'.repeat(200)}`] } } },
  }));
  const big = manifest({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'big' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'big' } }, strategy: { canary: { maxSurge: 1, maxUnavailable: '100%', steps: [{ setWeight: 10 }] } }, template: { metadata: { labels: { app: 'big' } }, spec: { containers } } },
  });
  const defaulted = await createDryRun('exr-plain', big);
  t.equal(defaulted.status, 201);
  // 80 warnings exceed the apiserver's 4 KiB of warning headers (it truncates them for the webhook too): some
  // arrive, each a finding of an exported rule.
  const rulesWarning = (warnings: string[]) => warnings.length > 0 && warnings.every((text) => /^(?:probes-identical|prestop-delay|probe-port|readiness-probe|min-replicas|node-spread|rollout-strategy): /.test(text));
  for (const [ns, policy, prefix] of [['exr-default', DEFAULT_EXPORTED, 'exr-test'], ['exr-fix', FIX_EXPORTED, 'exr-fix']] as const) {
    const request = { operation: 'CREATE' as const, object: { ...defaulted.body, metadata: { ...defaulted.body.metadata, namespace: ns } } };
    const expected = prefix === 'exr-fix' ? chainVerdict(policy, ns, undefined, request) : { ...webhookVerdict(policy, ns, undefined, request), spec: undefined };
    const answer = await createDryRun(ns, big);
    const actual = vapVerdict(answer, prefix);
    // Failing closed here, a cost overrun would be a denial with another message.
    t.equal(actual.denied, expected.denied, `${ns}: the webhook's denial, capped to what a policy message may hold`);
    if (prefix === 'exr-test') t.match(expected.denied, /^rollsafe denied Rollout big: \d+ zero-downtime violation/, `${ns}: denied`);
    if (expected.spec) t.strictSame(answer.status === 201 ? answer.body.spec : expected.spec, expected.spec, `${ns}: the chain's fixes`);
    t.ok(rulesWarning(actual.warnings), `${ns}: warnings of the rules`);
  }
  // Stored before its namespace is judged, then written back with resources: {} on every container (no rollout),
  // and with one new image (a rollout): startsRollout's comparison over 40 containers, within the budget.
  const ns = 'exr-big';
  await namespace(ns, {});
  await kubectlOk(plane, ['apply', '--server-side', '--field-manager=rollsafe-tests', '-n', ns, '-f', '-'], JSON.stringify(big));
  await kubectlOk(plane, ['label', 'namespace', ns, 'rollsafe.test/policy=rollouts-fix']);
  const probe = manifest(TRICKY.find(([source]) => source.startsWith('no readiness probe'))![1]);
  await eventually(`${ns} is judged`, async () => (await createDryRun(ns, probe)).status === 403, 60);
  const oldObject = JSON.parse(await kubectlOk(plane, ['get', 'rollouts.argoproj.io', 'big', '-n', ns, '-o', 'json'])) as Obj;
  const emptied = structuredClone(oldObject);
  for (const container of emptied.spec.template.spec.containers) container.resources = {};
  const changed = structuredClone(emptied);
  changed.spec.template.spec.containers[39].image = 'example.com/app:2.0';
  for (const [source, object, starts] of [['resources: {} everywhere', emptied, false], ['a new image in the last container', changed, true]] as const) {
    t.equal(startsRollout({ uid: 'u', kind: kindOf(object), operation: 'UPDATE', object, oldObject }), starts, `${source}: the engine reads it as the case says`);
    const expected = chainVerdict(FIX_EXPORTED, ns, undefined, { operation: 'UPDATE', object, oldObject });
    const answer = await updateDryRun(ns, object);
    const actual = vapVerdict(answer, 'exr-fix');
    t.equal(actual.denied, expected.denied, `${source}: the chain's denial`);
    t.strictSame(answer.status === 200 ? answer.body.spec : expected.spec, expected.spec, `${source}: the chain's fixes`);
    t.ok(rulesWarning(actual.warnings), `${source}: warnings of the rules`);
  }
});
