// rollsafe plan's predictions, as pkg/controller/deployment computes them (rolling.go: reconcileNewReplicaSet,
// NewRSNewReplicas, reconcileOldReplicaSets, scaleDownOldReplicaSetsForRollingUpdate; util ResolveFenceposts;
// rolloutRecreate), pkg/controller/statefulset runs them (stateful_set_control.go: the monotonic walk, then
// updateStatefulSetAfterInvariantEstablished; getStatefulSetMaxUnavailable) and the eviction API decides
// (pkg/registry/core/pod/storage/eviction.go). test/plan-cluster.test.ts rolls a grid on kwok nodes.
import t from 'tap';
import { planDeploymentRollout } from '../src/plan/deployment-rollout.js';
import { planStatefulSetRollout } from '../src/plan/statefulset-rollout.js';
import { planDaemonSetRollout } from '../src/plan/daemonset-rollout.js';
import { runCli } from './helpers/run-cli.js';

const deployment = (spec: string, template = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
${spec}
  template:
    metadata: {labels: {app: web}}
    spec:
${template}      containers:
        - name: web
          image: web:1
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 2}
          lifecycle: {preStop: {sleep: {seconds: 10}}}
`;

async function plan(yaml: string, ...flags: string[]) {
  const run = await runCli(['plan', '-', '-o', 'json', ...flags], { stdin: yaml });
  t.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as { workloads: Array<{ rollout: Record<string, unknown> & { steps: Array<Record<string, number>> }; drain: { evictionsBlocked: boolean; reasons: string[] }; timing: Record<string, unknown> }> };
}

t.test('terminating pods are not counted as surge: old pods in their preStop pile up beside it', async (t) => {
  // Seen on a real 1.37 node: 4 replicas, maxSurge 1, maxUnavailable 0, a 10 s preStop, pods ready in ~2 s: 8 pods.
  const prediction = planDeploymentRollout({ replicas: 4, maxSurge: 1, maxUnavailable: 0, minReadySeconds: 0, readySeconds: 2, terminatingSeconds: 10 });
  t.equal(prediction.peakPods, 8);
  // replicas + maxSurge as the controller sets the ReplicaSets; one more while the pod the old ReplicaSet drops
  // and the one the new ReplicaSet adds (two controllers, one instant) may both exist.
  t.equal(prediction.peakNonTerminating, 6, 'replicas + maxSurge, and the old pod being replaced');
  t.equal(prediction.minReady, 4, 'maxUnavailable 0 keeps every replica Ready');
  t.equal(prediction.completeSeconds, 18, 'the last old pod is deleted at 8 s and terminates for 10 s');
  t.equal(prediction.longestWithoutProgressSeconds, 2);
  t.same(prediction.steps[0], { at: 0, old: 4, new: 1, ready: 4, terminating: 0 });
});

t.test('a short terminating time keeps the peak at replicas + surge', async (t) => {
  const prediction = planDeploymentRollout({ replicas: 4, maxSurge: 1, maxUnavailable: 0, minReadySeconds: 0, readySeconds: 2, terminatingSeconds: 1 });
  t.equal(prediction.peakPods, 6, 'one old pod still terminating when the next surge pod starts');
  const quick = planDeploymentRollout({ replicas: 4, maxSurge: 1, maxUnavailable: 0, minReadySeconds: 0, readySeconds: 2, terminatingSeconds: 0 });
  t.equal(quick.peakPods, 5);
});

t.test('maxUnavailable takes pods down before new ones are ready; minReadySeconds delays availability', async (t) => {
  const prediction = planDeploymentRollout({ replicas: 4, maxSurge: 1, maxUnavailable: 1, minReadySeconds: 5, readySeconds: 2, terminatingSeconds: 10 });
  t.equal(prediction.minReady, 3, 'replicas - maxUnavailable');
  t.same(prediction.steps[0], { at: 0, old: 4, new: 1, ready: 4, terminating: 0 }, 'the new ReplicaSet is scaled first');
  t.same(prediction.steps[1], { at: 0, old: 3, new: 1, ready: 3, terminating: 1 }, 'then one old pod goes');
  t.same(prediction.steps[2], { at: 0, old: 3, new: 2, ready: 3, terminating: 1 }, 'then the freed surge is used');
  t.equal(prediction.longestWithoutProgressSeconds, 5, 'Ready at 2 s, available at 7 s: progress both times');
  t.ok(prediction.steps.every((step) => step.ready >= 3));
});

t.test('StatefulSets: a pod is replaced once it is gone, from the highest ordinal down to the partition', async (t) => {
  const base = { replicas: 4, partition: 0, maxUnavailable: 1, parallel: false, maxUnavailableGate: true, minReadySeconds: 0, readySeconds: 1.5, terminatingSeconds: 1 };
  const one = planStatefulSetRollout(base);
  t.equal(one.peakPods, 4, 'no surge: the replacement has the same name');
  t.equal(one.minReady, 3);
  t.equal(one.completeSeconds, 10, '4 pods x (1 s terminating + 1.5 s to Ready)');
  const two = planStatefulSetRollout({ ...base, maxUnavailable: 2 });
  t.equal(two.minReady, 2);
  t.same(two.steps.slice(0, 4).map((step) => [step.at, step.old, step.new]), [[0, 4, 0], [0, 3, 0], [0, 2, 0], [1, 2, 1]], 'OrderedReady: two deleted, then recreated one at a time');
  t.equal(two.completeSeconds, 8);
  const parallel = planStatefulSetRollout({ ...base, maxUnavailable: 2, parallel: true });
  t.equal(parallel.completeSeconds, 5, 'Parallel recreates both at once');
  const partitioned = planStatefulSetRollout({ ...base, partition: 2 });
  t.same(partitioned.steps.at(-1), { at: 5, old: 2, new: 2, ready: 4, terminating: 0 }, 'ordinals below the partition keep the old revision');
  const before137 = planStatefulSetRollout({ ...base, maxUnavailable: 3, maxUnavailableGate: false });
  t.equal(before137.minReady, 3, 'before 1.37 (gate off) one pod at a time whatever maxUnavailable says');
});

t.test('DaemonSets: without surge a node gets its new pod once the old one is gone; with surge old ones pile up', async (t) => {
  const base = { nodes: 3, maxSurge: 0, maxUnavailable: 1, minReadySeconds: 0, readySeconds: 1.5, terminatingSeconds: 4 };
  const plain = planDaemonSetRollout(base);
  t.equal(plain.peakPods, 3);
  t.equal(plain.minReady, 2);
  t.equal(plain.completeSeconds, 16.5, '3 nodes x (4 s terminating + 1.5 s to Ready)');
  const surge = planDaemonSetRollout({ ...base, maxSurge: 1, maxUnavailable: 0 });
  t.equal(surge.minReady, 3, 'surge keeps every node served');
  t.equal(surge.peakPods, 6, 'each old pod still terminating when the next node surges');
  t.equal(surge.completeSeconds, 8.5);
});

t.test('the CLI: fenceposts, HPA replicas, Recreate, progress deadline and drains', async (t) => {
  const rolling = await plan(deployment('  replicas: 4\n  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}'), '--app-start-seconds', '3', '--exit-seconds', '0');
  const [web] = rolling.workloads;
  t.match(web?.timing, { readySeconds: 4, terminatingSeconds: 10 }, 'first probe at 4 s on a 2 s period for an app answering at 3 s; preStop 10 s');
  t.match(web?.rollout, { strategy: 'RollingUpdate', replicas: 4, maxSurge: 1, maxUnavailable: 0, peakPods: 8, minReady: 4, estimatedSeconds: 26, exceedsProgressDeadline: false, progressDeadlineSeconds: 600 });

  // ResolveFenceposts: 0% surge and 10% unavailable of 3 both round to 0, so one pod may go unavailable.
  const fenced = await plan(deployment('  replicas: 3\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: "10%"}}'));
  t.match(fenced.workloads[0]?.rollout, { maxSurge: 0, maxUnavailable: 1, minReady: 2 });

  const hpa = `${deployment('  replicas: 9')}---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 10}
`;
  t.match((await plan(hpa)).workloads[0]?.rollout, { replicas: 2 }, 'a rollout may start at the HPA minReplicas');

  const recreate = await plan(deployment('  replicas: 3\n  strategy: {type: Recreate}'), '--app-start-seconds', '3', '--exit-seconds', '0');
  t.match(recreate.workloads[0]?.rollout, { strategy: 'Recreate', peakPods: 3, minReady: 0, estimatedSeconds: 14 }, 'old pods gone at 10 s, new Ready at 14 s');

  const slow = await plan(deployment('  replicas: 2\n  progressDeadlineSeconds: 30'), '--app-start-seconds', '45');
  t.match(slow.workloads[0]?.rollout, { exceedsProgressDeadline: true, longestWithoutProgressSeconds: 46 });

  const budget = (spec: string) => `${deployment('  replicas: 3')}---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec: {${spec}, selector: {matchLabels: {app: web}}}
`;
  t.match((await plan(budget('minAvailable: 3'))).workloads[0]?.drain, { evictionsBlocked: true, reasons: [/allows no disruption with all 3/] });
  t.match((await plan(budget('maxUnavailable: 1'))).workloads[0]?.drain, { evictionsBlocked: false, reasons: [/allows 1 disruption/] });
  const two = `${budget('maxUnavailable: 1')}---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web-too, namespace: shop}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
`;
  t.match((await plan(two)).workloads[0]?.drain, { evictionsBlocked: true, reasons: [/more than one/] });
  t.match((await plan(deployment('  replicas: 1'))).workloads[0]?.drain, { evictionsBlocked: false, reasons: [/no PodDisruptionBudget/, /single replica/] });
});

t.test('the CLI: text and svg, and input that cannot be planned', async (t) => {
  const yaml = deployment('  replicas: 4\n  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}');
  const text = await runCli(['plan', '-', '--app-start-seconds', '3', '--exit-seconds', '0'], { stdin: yaml });
  t.equal(text.code, 0);
  t.match(text.stdout, /Deployment shop\/web/);
  t.match(text.stdout, /peak 8 pods at once \(at most 6 not terminating\), at least 4 Ready, done in about 26s/);
  const svg = await runCli(['plan', '-', '-o', 'svg', '--app-start-seconds', '3'], { stdin: yaml });
  t.match(svg.stdout, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.equal((svg.stdout.match(/<polygon /g) ?? []).length, 3, 'old, new and terminating bands');
  t.match(svg.stdout, /Deployment shop\/web/);
  const empty = await runCli(['plan', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' });
  t.equal(empty.code, 2, 'nothing to plan is an input error');
  t.match(empty.stderr, /nothing to plan/);
  const bad = await runCli(['plan', '-', '--exit-seconds', 'soon'], { stdin: yaml });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--exit-seconds must be a number of seconds/);
  const statefulSet = yaml.replace('kind: Deployment', 'kind: StatefulSet').replace('  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}', '  serviceName: web\n  updateStrategy: {rollingUpdate: {maxUnavailable: "50%"}}');
  t.match((await plan(statefulSet, '--kubernetes-version', '1.37')).workloads[0]?.rollout, { maxUnavailable: 2, minReady: 2, progressDeadlineSeconds: null });
  t.match((await plan(statefulSet, '--kubernetes-version', '1.36')).workloads[0]?.rollout, { maxUnavailable: 1, minReady: 3 }, 'MaxUnavailableStatefulSet is off by default before 1.37');
  const onDelete = statefulSet.replace('updateStrategy: {rollingUpdate: {maxUnavailable: "50%"}}', 'updateStrategy: {type: OnDelete}');
  t.match((await plan(onDelete)).workloads[0], { rollout: null, why: /OnDelete/ });
  const daemonSet = yaml.replace('kind: Deployment', 'kind: DaemonSet').replace('  replicas: 4\n', '').replace('  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}', '');
  t.match((await plan(daemonSet, '--nodes', '5')).workloads[0]?.rollout, { replicas: 5, maxSurge: 0, maxUnavailable: 1, peakPods: 5, minReady: 4 }, 'DaemonSets: one node at a time by default');
  const live = daemonSet.replace('  selector:', '  selector:').concat('status: {desiredNumberScheduled: 7}\n');
  t.match((await plan(live, '--nodes', '5')).workloads[0]?.rollout, { replicas: 7 }, "a live DaemonSet's status says how many nodes it runs on");
  t.equal((await runCli(['plan', '-', '--nodes', '0'], { stdin: daemonSet })).code, 2, '--nodes must be a whole number from 1');
});

t.test('Argo Rollouts: planned by phase, never as another kind; a workloadRef Deployment is planned as its Rollout', async (t) => {
  const run = await runCli(['plan', '-o', 'json', 'test/fixtures/rules/prestop-delay/fail-rollout-workload-ref.yaml', 'test/fixtures/rules/rollout-strategy/pass-rollout-bluegreen-defaults.yaml', 'test/fixtures/rules/workload-ref/fail-deployment-missing.yaml', 'test/fixtures/rules/rollout-strategy/pass-rollout-canary-max-traffic-weight.yaml']);
  t.equal(run.code, 0, run.stderr);
  const plans = JSON.parse(run.stdout).workloads as Array<Record<string, any>>;
  t.same(
    plans.map((plan) => `${plan['kind']} ${plan['file'].split('/').pop()}`),
    ['Rollout fail-rollout-workload-ref.yaml', 'Rollout pass-rollout-bluegreen-defaults.yaml', 'Rollout pass-rollout-canary-max-traffic-weight.yaml'],
    'the Deployment a Rollout runs has no entry of its own, and a Rollout whose template is not in the input is not planned',
  );
  for (const plan of plans) {
    t.equal(plan['rollout'], null, 'no rolling-update arithmetic');
    t.match(plan['why'], /planned by phase/);
  }
  // The workloadRef Rollout is planned with the Deployment's template: its containers have no preStop sleep.
  t.equal(plans[0]!['terminationBudget'].met, false);
  t.same(plans[0]!['argoRollout'].steps, [], 'a canary without steps');
  // Blue-green: previewReplicaCount 1, both ReplicaSets at 3 after the switch, the old kept 30 s (the default).
  t.match(plans[1]!['argoRollout'].blueGreen, { previewPods: 1, promotion: 'automatic', peakPods: 6, readyFloor: 3, scaleDownDelaySeconds: 30 });
  // A router with maxTrafficWeight 1000: weight 5 is 0.5%, one canary pod of 3 (ceil), the stable kept whole.
  t.same(
    plans[2]!['argoRollout'].steps.map((step: Record<string, unknown>) => [step['weight'], step['canaryPods'], step['stablePods'], step['canaryShare']]),
    [[5, 1, 3, 1], [5, 1, 3, 1], [500, 2, 3, 50]],
  );
  t.equal(plans[2]!['argoRollout'].stableScaleDownDelaySeconds, 30);
});

t.test('plan text: a Rollout by phase, and the ingress-nginx Ingresses that keep connections through the ClusterIP', async (t) => {
  const run = await runCli(['plan', 'test/fixtures/rules/rollout-strategy/pass-rollout-bluegreen-defaults.yaml', 'test/fixtures/rules/rollout-strategy/pass-rollout-canary-max-traffic-weight.yaml', 'test/fixtures/rules/grace-period/fail-behind-nginx-service-upstream-retries-off.yaml']);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /blue-green update of 3 replica\(s\): 1 preview pod\(s\), promotion automatic\n {4}peak 6 pods, at least 3 Ready; .*the old pods go 30s after the switch/);
  t.match(run.stdout, /canary update of 3 replica\(s\), traffic routed:\n.*\n {4}0: setWeight 5 +1 +3 +1%\n/);
  t.notMatch(run.stdout, /rollout: not predicted: an Argo Rollout/, 'the phases replace the reason');
  t.match(run.stdout, /keeps connections through the ClusterIP: ingress-nginx Ingress web: .*proxy-next-upstream off: nginx retries no request/);
});
