/**
 * The termination budget (src/budget/): what stands in front of a workload's pods, read from the objects beside
 * it as the vendors' controllers read them, and the sleep and grace period that follow, per load balancer
 * profile. The fix goldens are in test/fixtures/rules/{prestop-delay,grace-period,lb-readiness-gate}/; here the
 * numbers and the words: a finding names what it found.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { deregistrationDelay, frontsOf, nextUpstream, retriesOn } from '../src/budget/fronts.js';
import { terminationBudget } from '../src/budget/termination-budget.js';
import { parseManifest } from '../src/manifests/read.js';
import { planFiles } from '../src/plan/plan.js';
import { defaultPolicy, parsePolicy } from '../src/policy/load.js';
import { effectivePolicy } from '../src/policy/effective.js';
import { addRelated, emptyRelated } from '../src/workloads/related.js';
import { toWorkload } from '../src/workloads/workload.js';
import { auditText, findingsOf, FIXTURES } from './helpers/fixtures.js';

type Obj = Record<string, any>;
const fixture = (path: string) => readFileSync(join(FIXTURES, 'rules', path), 'utf8');

function budgetOf(objects: Obj[], policy = defaultPolicy()) {
  const related = emptyRelated();
  for (const object of objects) addRelated(related, object);
  const workload = toWorkload(objects[0]!)!;
  return terminationBudget(workload, related, effectivePolicy(policy, workload.ref.namespace ?? 'default'));
}

const deployment = (annotations: Record<string, string> = {}): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', annotations },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web', ports: [{ containerPort: 8080, name: 'http' }] }] } } },
});
const service = (extra: Obj = {}, annotations: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop', annotations },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...extra },
});
const ingress = (spec: Obj, annotations: Record<string, string> = {}): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web', namespace: 'shop', annotations },
  spec: { ...spec, rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }] },
});

t.test('deregistration_delay.timeout_seconds is read from target-group-attributes as the controller writes them', async (t) => {
  t.equal(deregistrationDelay('deregistration_delay.timeout_seconds=30,deregistration_delay.timeout_seconds=600'), 600, 'a key given twice keeps its last value (a map)');
  t.equal(deregistrationDelay('deregistration_delay.timeout_seconds=9999'), undefined, 'over 3600: ELB refuses it');
  t.equal(deregistrationDelay('deregistration_delay.timeout_seconds=30'), 30);
  t.equal(deregistrationDelay('stickiness.enabled=true, deregistration_delay.timeout_seconds = 45,stickiness.type=lb_cookie'), 45);
  t.equal(deregistrationDelay('stickiness.enabled=true'), undefined, 'absent: the ELB default applies');
  t.equal(deregistrationDelay('deregistration_delay.timeout_seconds=soon'), undefined, 'unreadable: the default applies, not a guess');
});

t.test('AWS Load Balancer Controller: IP mode is a front, instance mode (the default) goes through kube-proxy', async (t) => {
  const alb = { ingressClassName: 'alb' };
  t.same(frontsOf(toWorkload(deployment())!, related([deployment(), service(), ingress(alb)])), [], 'ALB, default target-type instance');
  const ip = budgetOf([deployment(), service(), ingress(alb, { 'alb.ingress.kubernetes.io/target-type': 'ip' })]);
  t.equal(ip.preStopSeconds, 30, 'the sleep of loadBalancers.awsAlbIp');
  t.equal(ip.afterSignalSeconds, 300, 'no deregistration delay set: the ELB default, 300 s');
  t.match(ip.afterSignalBecause, /ALB of Ingress web \(target-type ip\).*deregistration delay 300 s \(the ELB default/);
  // The Service's annotation overrides the Ingress's for its own target group.
  const overridden = budgetOf([
    deployment(),
    service({}, { 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=15' }),
    ingress(alb, { 'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=120' }),
  ]);
  t.equal(overridden.afterSignalSeconds, 20, "the Service's 15 s, below drainSeconds: drainSeconds counts");
  const legacyClass = budgetOf([deployment(), service(), ingress({}, { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/target-type': 'ip' })]);
  t.equal(legacyClass.fronts.length, 1, 'the legacy kubernetes.io/ingress.class annotation');
  const both = budgetOf([deployment(), service(), ingress({ ingressClassName: 'alb' }, { 'kubernetes.io/ingress.class': 'nginx', 'alb.ingress.kubernetes.io/target-type': 'ip' })]);
  t.equal(both.fronts[0]?.profile, 'ingressNginx', 'the annotation wins over ingressClassName (classifyIngress)');
  const customClass = [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'public' }, spec: { controller: 'ingress.k8s.aws/alb' } }];
  const byController = budgetOf([deployment(), service(), ingress({ ingressClassName: 'public' }, { 'alb.ingress.kubernetes.io/target-type': 'ip' }), ...customClass]);
  t.equal(byController.fronts[0]?.profile, 'awsAlbIp', "an IngressClass of any name whose controller is the ALB controller's");
  const nlb = budgetOf([deployment(), service({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' }, { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' })]);
  t.equal(nlb.fronts[0]?.via, 'NLB of Service web (target-type ip)');
  const nlbInstance = budgetOf([deployment(), service({ type: 'LoadBalancer' }, { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external' })]);
  t.same(nlbInstance.fronts, [], 'NLB, default target-type instance');
  const otherClass = budgetOf([deployment(), service({ type: 'LoadBalancer', loadBalancerClass: 'example.com/metallb' }, { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' })]);
  t.same(otherClass.fronts, [], "another controller's loadBalancerClass decides alone (IsServiceSupported)");
  const twoServices = [deployment(), service(), { ...service(), metadata: { name: 'web-alt', namespace: 'shop' } }];
  const both2 = ingress({ ingressClassName: 'alb' }, { 'alb.ingress.kubernetes.io/target-type': 'ip' });
  both2.spec.rules[0].http.paths.push({ path: '/alt', pathType: 'Prefix', backend: { service: { name: 'web-alt', port: { name: 'http' } } } });
  t.equal(budgetOf([...twoServices, both2]).fronts.length, 1, 'one Ingress in front of two Services of the pods is one front');
  const inTreeNlb = budgetOf([deployment(), service({ type: 'LoadBalancer' }, { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb', 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' })]);
  t.same(inTreeNlb.fronts, [], "type nlb is the in-tree cloud provider's, which registers instances, not the controller's");
});

function related(objects: Obj[]) {
  const found = emptyRelated();
  for (const object of objects) addRelated(found, object);
  return found;
}

t.test('GKE NEG: for a GCE Ingress or standalone, drained as the BackendConfig the Service names says', async (t) => {
  const neg = (backendConfig?: string) =>
    service({}, { 'cloud.google.com/neg': '{"ingress": true}', ...(backendConfig ? { 'cloud.google.com/backend-config': backendConfig } : {}) });
  const gce = ingress({}, { 'kubernetes.io/ingress.class': 'gce' });
  const config = { apiVersion: 'cloud.google.com/v1', kind: 'BackendConfig', metadata: { name: 'drain', namespace: 'shop' }, spec: { connectionDraining: { drainingTimeoutSec: 45 } } };
  t.equal(budgetOf([deployment(), neg('{"default": "drain"}'), gce, config]).afterSignalSeconds, 45);
  t.equal(budgetOf([deployment(), neg('{"ports": {"80": "drain"}}'), gce, config]).afterSignalSeconds, 45, 'per-port form');
  const missing = budgetOf([deployment(), neg('{"default": "drain"}'), gce]);
  t.match(missing.fronts[0]?.drainingBecause, /BackendConfig drain is not among the objects of namespace shop/, 'a BackendConfig not in the input is named as unknown');
  const elsewhere = { ...config, metadata: { name: 'drain', namespace: 'other' } };
  t.match(budgetOf([deployment(), neg('{"default": "drain"}'), gce, elsewhere]).fronts[0]?.drainingBecause, /not among the objects of namespace shop/, 'one in another namespace is not its');
  const huge = { ...config, spec: { connectionDraining: { drainingTimeoutSec: 1e20 } } };
  t.equal(budgetOf([deployment(), neg('{"default": "drain"}'), gce, huge]).afterSignalSeconds, 20, 'outside 0 to 3600: GCE refuses it, so no draining time counts');
  t.equal(budgetOf([deployment(), neg(), gce]).preStopSeconds, 20, 'loadBalancers.gkeNeg');
  t.equal(budgetOf([deployment(), neg(), ingress({})]).fronts.length, 1, 'an Ingress without any class is GKE\'s (IsGCEIngress)');
  // GKE sets {"ingress": true} on Services by default; NEGs exist only for ports a GCE Ingress uses.
  t.same(budgetOf([deployment(), neg()]).fronts, [], 'the annotation alone is no front');
  t.same(budgetOf([deployment(), neg(), ingress({ ingressClassName: 'nginx' }, { 'nginx.ingress.kubernetes.io/service-upstream': 'true' })]).fronts, [], 'nor with another controller\'s Ingress');
  t.equal(budgetOf([deployment(), service({}, { 'cloud.google.com/neg': '{"exposed_ports": {"80": {}}}' })]).fronts[0]?.profile, 'gkeNeg', 'standalone NEGs are a front by themselves');
  t.same(budgetOf([deployment(), service({}, { 'cloud.google.com/neg': 'not json' })]).fronts, [], 'an unreadable annotation is no front');
});

t.test('ingress-nginx sends to endpoints itself unless service-upstream; Gateway API routes by backendRef', async (t) => {
  const nginx = budgetOf([deployment(), service(), ingress({ ingressClassName: 'nginx' })]);
  t.equal(nginx.fronts[0]?.profile, 'ingressNginx');
  t.notOk(nginx.slowestFront, 'its default (10 s) is no slower than preStop.seconds');
  t.same(budgetOf([deployment(), service(), ingress({ ingressClassName: 'nginx' }, { 'nginx.ingress.kubernetes.io/service-upstream': 'true' })]).fronts, []);
  const route = (backendRef: Obj, namespace = 'shop') => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace }, spec: { rules: [{ backendRefs: [backendRef] }] } });
  t.equal(budgetOf([deployment(), service(), route({ name: 'web', port: 80 })]).fronts[0]?.via, 'HTTPRoute web');
  t.same(budgetOf([deployment(), service(), route({ name: 'web', namespace: 'shop' }, 'gateways')]).fronts, [], 'a route in another namespace, without a ReferenceGrant: the implementation may not send there');
  const grant = (from: Obj, to: Obj = { group: '', kind: 'Service' }) => ({ apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'from-gateways', namespace: 'shop' }, spec: { from: [from], to: [to] } });
  const allowed = grant({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'gateways' });
  t.equal(budgetOf([deployment(), service(), route({ name: 'web', namespace: 'shop' }, 'gateways'), allowed]).fronts[0]?.via, 'HTTPRoute gateways/web', 'with a ReferenceGrant beside the Service');
  t.same(budgetOf([deployment(), service(), route({ name: 'web', namespace: 'shop' }, 'gateways'), grant({ group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', namespace: 'gateways' })]).fronts, [], 'a grant for another kind of route');
  t.same(budgetOf([deployment(), service(), route({ name: 'web', namespace: 'shop' }, 'gateways'), grant({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'gateways' }, { group: '', kind: 'Service', name: 'other' })]).fronts, [], 'a grant for another Service');
  t.same(budgetOf([deployment(), service(), route({ name: 'web', kind: 'ServiceImport', group: 'multicluster.x-k8s.io' })]).fronts, [], 'another kind of backend');
  const policy = parsePolicy('apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nloadBalancers: {gatewayApi: 25}\n', 'policy.yaml');
  t.equal(budgetOf([deployment(), service(), route({ name: 'web' })], policy).preStopSeconds, 25, 'a profile set in the policy');
});

t.test('ingress-nginx service-upstream, read as the controller reads it: no front, but keep-alive connections the app must close', async (t) => {
  const nginx = (annotations: Record<string, string>) => ingress({ ingressClassName: 'nginx' }, annotations);
  const upstream = budgetOf([deployment(), service(), nginx({ 'nginx.ingress.kubernetes.io/service-upstream': 'True' })]);
  t.same(upstream.fronts, [], "strconv.ParseBool's True: through the ClusterIP, kube-proxy's path");
  t.same(upstream.clusterIpUpstreams, [{ via: 'ingress-nginx Ingress web', nextUpstream: 'error timeout', retries: 'idempotent' }], "the controller's default proxy-next-upstream");
  t.equal(budgetOf([deployment(), service(), nginx({ 'nginx.ingress.kubernetes.io/service-upstream': '1' })]).clusterIpUpstreams.length, 1, '1 is true too');
  const unread = budgetOf([deployment(), service(), nginx({ 'nginx.ingress.kubernetes.io/service-upstream': 'yes' })]);
  t.equal(unread.fronts[0]?.profile, 'ingressNginx', 'a value ParseBool refuses is false: the endpoints');
  t.same(unread.clusterIpUpstreams, []);
  const headless = budgetOf([deployment(), service({ clusterIP: 'None' }), nginx({ 'nginx.ingress.kubernetes.io/service-upstream': 'true' })]);
  t.equal(headless.fronts[0]?.profile, 'ingressNginx', 'a headless Service has no ClusterIP: the controller falls back to its endpoints');
  t.same(headless.clusterIpUpstreams, []);
  t.same(budgetOf([deployment(), service(), ingress({ ingressClassName: 'alb' }, { 'nginx.ingress.kubernetes.io/service-upstream': 'true' })]).clusterIpUpstreams, [], "another controller's Ingress");
  const off = budgetOf([deployment(), service(), nginx({ 'nginx.ingress.kubernetes.io/service-upstream': 'true', 'nginx.ingress.kubernetes.io/proxy-next-upstream': 'off' })]);
  t.match(off.clusterIpUpstreams, [{ nextUpstream: 'off', retries: 'none' }]);
  t.match(off, { preStopSeconds: 10, afterSignalSeconds: 20 }, 'no number: the budget is the plain one');

  t.equal(nextUpstream(undefined), 'error timeout');
  t.equal(nextUpstream(''), 'error timeout', 'empty: the default');
  t.equal(nextUpstream('error, timeout'), 'error timeout', 'a value validUpstreamAnnotation refuses: the default');
  t.equal(nextUpstream('error timeout non_idempotent'), 'error timeout non_idempotent');
  t.equal(retriesOn('error timeout'), 'idempotent');
  t.equal(retriesOn('error timeout non_idempotent'), 'all');
  t.equal(retriesOn('error off'), 'none', 'off anywhere turns it off (ngx_http_proxy_merge_loc_conf)');
  t.equal(retriesOn('timeout http_502'), 'none', 'a closed connection is an error, which it lacks');

  const app = deployment();
  app.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 10 } } };
  const judged = (annotations: Record<string, string>) =>
    findingsOf(auditText([app, service(), nginx(annotations)].map((object) => JSON.stringify(object)).join('\n---\n'), defaultPolicy(), 'nginx.yaml').audit, 'grace-period');
  const [info] = judged({ 'nginx.ingress.kubernetes.io/service-upstream': 'true' });
  t.equal(info?.severity, 'info');
  t.match(info?.message, 'behind ingress-nginx Ingress web with service-upstream: nginx sends to the Service\'s ClusterIP and reuses its keep-alive connections there (up to 320 idle per worker, each for up to 1h or 10000 requests');
  t.match(info?.message, 'only if the request is idempotent (proxy-next-upstream "error timeout"');
  const [warning] = judged({ 'nginx.ingress.kubernetes.io/service-upstream': 'true', 'nginx.ingress.kubernetes.io/proxy-next-upstream': 'off' });
  t.equal(warning?.severity, 'warning', 'nginx retries nothing: every race is a 502');
  t.match(warning?.message, 'with proxy-next-upstream "off", nginx retries no request it sends on a connection just as the app closes it: each gets a 502');
  t.same(judged({ 'nginx.ingress.kubernetes.io/proxy-next-upstream': 'off' }), [], 'through the endpoints, nginx stops choosing the pod within the sleep: proxy-next-upstream changes nothing the pod must do');
  const alone = auditText(JSON.stringify(app), defaultPolicy(), 'alone.yaml');
  t.same(findingsOf(alone.audit, 'grace-period'), [], 'without context (the webhook) nothing is known of Ingresses');
});

t.test('long-lived connections: appProtocol and port names; a declared connection life counts after the signal', async (t) => {
  const ports = [
    { name: 'ws', port: 80 },
    { name: 'api', port: 81, appProtocol: 'kubernetes.io/h2c' },
    { name: 'http', port: 82 },
  ];
  t.same(budgetOf([deployment(), service({ ports })]).longLived, ['Service web port ws (its name)', 'Service web port api (appProtocol kubernetes.io/h2c)']);
  t.equal(budgetOf([deployment({ 'rollsafe.dev/max-connection-seconds': '600' })]).afterSignalSeconds, 600, 'without context too: the webhook sees the annotation');
  t.equal(budgetOf([deployment({ 'rollsafe.dev/max-connection-seconds': '10m' })]).afterSignalSeconds, 20, 'not whole seconds: not read');
});

t.test('the findings name what they found, and plan shows the budget part by part', async (t) => {
  const text = fixture('prestop-delay/fail-behind-nlb-ip-short-sleep.yaml');
  const { audit } = auditText(text, defaultPolicy(), 'nlb.yaml');
  const [preStop] = findingsOf(audit, 'prestop-delay');
  t.match(preStop?.message, 'sleeps only 10s in preStop; it is behind NLB of Service api (target-type ip), which may send it new connections for 120s after the pod is deleted (loadBalancers.awsNlbIp)');
  t.match(preStop?.fix, 'raises lifecycle.preStop.sleep.seconds to 120');
  const [grace] = findingsOf(audit, 'grace-period');
  t.match(grace?.message, /needs 120s of preStop delay \+ 300s after its stop signal \(NLB of Service api \(target-type ip\) keeps connections open: deregistration delay 300 s \(the ELB default/);
  t.match(grace?.fix, 'sets terminationGracePeriodSeconds: 420');
  const [plan] = planFiles([parseManifest(text, 'nlb.yaml')], { podStartSeconds: 0, appStartSeconds: 0, exitSeconds: 20 }, '1.37');
  t.match(plan?.terminationBudget, {
    preStopSeconds: 120,
    afterSignalSeconds: 300,
    graceSeconds: 420,
    current: { preStopSeconds: 10, graceSeconds: 30 },
    fronts: [{ profile: 'awsNlbIp', via: 'NLB of Service api (target-type ip)', propagationSeconds: 120, drainingSeconds: 300 }],
  });
});

t.test('an exec sleep behind a slower front is reported, never rewritten; no native sleep beyond a grace period left alone', async (t) => {
  const objects = [deployment(), service({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' }, { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip', 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'deregistration_delay.timeout_seconds=10' })];
  const container = objects[0]!.spec.template.spec.containers[0];
  container.lifecycle = { preStop: { exec: { command: ['sleep', '10'] } } };
  const text = objects.map((object) => JSON.stringify(object)).join('\n---\n');
  const { audit } = auditText(text, defaultPolicy(), 'exec.yaml');
  const [finding] = findingsOf(audit, 'prestop-delay');
  t.match(finding?.message, 'sleeps only 10s in preStop');
  t.notOk(finding?.fix, 'an exec hook is never rewritten');
  container.lifecycle = { preStop: { sleep: { seconds: 10 } } };
  objects[0]!.spec.template.spec.terminationGracePeriodSeconds = 15;
  const policy = defaultPolicy();
  policy.rules['grace-period'] = { ...policy.rules['grace-period'], mode: 'off' };
  const native = auditText(objects.map((object) => JSON.stringify(object)).join('\n---\n'), policy, 'native.yaml');
  t.notOk(findingsOf(native.audit, 'prestop-delay')[0]?.fix, 'the apiserver refuses a sleep longer than the grace period, which grace-period (off) will not raise');
});

t.test('a sleep.seconds: 0 opt-out behind a front is left alone, and the grace period does not count a sleep it will not get', async (t) => {
  const objects = [deployment(), service({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' }, { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip', 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'deregistration_delay.timeout_seconds=10' })];
  objects[0]!.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 0 } } };
  const { audit, fixed } = auditText(objects.map((object) => JSON.stringify(object)).join('\n---\n'), defaultPolicy(), 'optout.yaml');
  t.equal(findingsOf(audit, 'prestop-delay')[0]?.severity, 'info');
  t.same(findingsOf(audit, 'grace-period'), [], '0 + 20 fits the default 30');
  t.notMatch(fixed, /terminationGracePeriodSeconds/);
});

t.test('plan: the budget as the rules judge it', async (t) => {
  const planOf = (objects: Obj[]) => planFiles([parseManifest(objects.map((object) => JSON.stringify(object)).join('\n---\n'), 'p.yaml')], { podStartSeconds: 0, appStartSeconds: 0, exitSeconds: 0 }, '1.37')[0]!.terminationBudget;
  const worker = deployment();
  delete worker.spec.template.spec.containers[0].ports;
  t.match(planOf([worker]), { applies: false, met: true }, 'a worker that neither serves nor sleeps has no budget');
  const nginxUpstream = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'shop', annotations: { 'nginx.ingress.kubernetes.io/service-upstream': 'true', 'nginx.ingress.kubernetes.io/proxy-next-upstream': 'off' } }, spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } };
  t.same(planOf([deployment(), service(), nginxUpstream]).clusterIpUpstreams, [{ via: 'ingress-nginx Ingress web', nextUpstream: 'off', retries: 'none' }], 'keep-alive through the ClusterIP, as grace-period names it');
  t.same(planOf([deployment(), service()]).clusterIpUpstreams, []);
  const nlb = service({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' }, { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip', 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'deregistration_delay.timeout_seconds=30' });
  const long = deployment();
  long.spec.template.spec.terminationGracePeriodSeconds = 155;
  long.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 130 } } };
  const longPlan = planOf([long, nlb]);
  t.match(longPlan, { graceSeconds: 160, met: false }, 'the longest sleep (130) + 30, as grace-period counts it');
  const { audit } = auditText([long, nlb].map((object) => JSON.stringify(object)).join('\n---\n'), defaultPolicy(), 'long.yaml');
  t.match(findingsOf(audit, 'grace-period')[0]?.fix, 'sets terminationGracePeriodSeconds: 160', 'the rule agrees');
  const shipper = deployment();
  shipper.spec.template.spec.containers.push({ name: 'logs', image: 'shipper', lifecycle: { preStop: { sleep: { seconds: 150 } } } });
  shipper.spec.template.spec.terminationGracePeriodSeconds = 300;
  t.match(planOf([shipper, nlb]), { met: false, current: { preStopSeconds: 0, longestPreStopSeconds: 150 } }, 'a serving container without a sleep is short, whatever another container sleeps');
});

t.test('rollsafe.dev/load-balancer: fronts the webhook cannot see, declared by the workload; with context, both count', async (t) => {
  const declared = budgetOf([deployment({ 'rollsafe.dev/load-balancer': 'awsAlbIp' })]);
  t.match(declared, { preStopSeconds: 30, afterSignalSeconds: 300, slowestFront: { profile: 'awsAlbIp', via: 'a load balancer its rollsafe.dev/load-balancer annotation declares' } });
  t.equal(budgetOf([deployment({ 'rollsafe.dev/load-balancer': 'gkeNeg' })]).afterSignalSeconds, 20, 'GKE drains nothing unless a BackendConfig says so');
  const both = budgetOf([deployment({ 'rollsafe.dev/load-balancer': 'ingressNginx,gkeNeg' }), service({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' }, { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip', 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'deregistration_delay.timeout_seconds=45' })]);
  t.match(both, { preStopSeconds: 120, afterSignalSeconds: 45, slowestFront: { profile: 'awsNlbIp' } }, 'the slowest of declared and found');
  t.same(budgetOf([deployment({ 'rollsafe.dev/load-balancer': 'awsAlb, gkeNeg' })]).fronts, [], 'unknown names (and blanks) declare nothing');
  const { audit } = auditText(JSON.stringify(deployment({ 'rollsafe.dev/load-balancer': 'awsAlb' })), defaultPolicy(), 'typo.yaml');
  t.match(findingsOf(audit, 'prestop-delay').find((finding) => finding.severity === 'info')?.message, 'rollsafe.dev/load-balancer names awsAlb, which rollsafe does not know');
});

t.test("sidecar-drain: Linkerd's proxy from the namespace's annotation (context), opted out by the pod's", async (t) => {
  const app = deployment();
  app.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 10 } } };
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', annotations: { 'linkerd.io/inject': 'enabled' } } };
  const judged = (objects: Obj[]) => findingsOf(auditText(objects.map((object) => JSON.stringify(object)).join('\n---\n'), defaultPolicy(), 'mesh.yaml').audit, 'sidecar-drain');
  t.match(judged([app, namespace])[0]?.message, "its pods get Linkerd's proxy, which refuses every new request as soon as it gets SIGTERM, 0s after a pod is deleted");
  t.match(judged([app, namespace])[0]?.message, 'at least 11');
  const optedOut = structuredClone(app);
  optedOut.spec.template.metadata.annotations = { 'linkerd.io/inject': 'disabled' };
  t.same(judged([optedOut, namespace]), [], 'the pod annotation wins');
  t.same(judged([app]), [], 'no namespace in the input, no pod annotation: no proxy known');
});
