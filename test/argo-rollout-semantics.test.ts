/**
 * Argo Rollouts' own arithmetic, checked against its own tests: argo-rollouts v1.10
 * utils/replicaset/canary_test.go TestApproximateWeightedNewStableReplicaCounts (every row, copied), and the
 * IntOrString reading of utils/replicaset/replicaset.go resolveFenceposts (the deprecated
 * intstr.GetValueFromIntOrPercent, which reads every string as a percentage).
 */
import t from 'tap';
import { argoIntOrPercent, basicCanaryCounts, resolveCanaryFenceposts } from '../src/workloads/argo-rollout.js';

// [replicas, weight, maxWeight, maxSurge, expCanary, expStable]
const APPROXIMATE_WEIGHTED: Array<[number, number, number, number, number, number]> = [
  [0, 0, 100, 0, 0, 0],
  [0, 50, 100, 0, 0, 0],
  [0, 100, 100, 0, 0, 0],
  [0, 0, 100, 1, 0, 0],
  [0, 50, 100, 1, 0, 0],
  [0, 100, 100, 1, 0, 0],
  [1, 0, 100, 0, 0, 1],
  [1, 1, 100, 0, 0, 1],
  [1, 49, 100, 0, 0, 1],
  [1, 50, 100, 0, 1, 0],
  [1, 99, 100, 0, 1, 0],
  [1, 100, 100, 0, 1, 0],
  [1, 0, 100, 1, 0, 1],
  [1, 1, 100, 1, 1, 1],
  [1, 49, 100, 1, 1, 1],
  [1, 50, 100, 1, 1, 1],
  [1, 99, 100, 1, 1, 1],
  [1, 100, 100, 1, 1, 0],
  [2, 0, 100, 0, 0, 2],
  [2, 1, 100, 0, 1, 1],
  [2, 50, 100, 0, 1, 1],
  [2, 99, 100, 0, 1, 1],
  [2, 100, 100, 0, 2, 0],
  [2, 0, 100, 1, 0, 2],
  [2, 1, 100, 1, 1, 2],
  [2, 50, 100, 1, 1, 1],
  [2, 99, 100, 1, 2, 1],
  [2, 100, 100, 1, 2, 0],
  [3, 10, 100, 0, 1, 2],
  [3, 25, 100, 0, 1, 2],
  [3, 33, 100, 0, 1, 2],
  [3, 34, 100, 0, 1, 2],
  [3, 49, 100, 0, 1, 2],
  [3, 50, 100, 0, 2, 1],
  [3, 10, 100, 1, 1, 3],
  [3, 25, 100, 1, 1, 3],
  [3, 33, 100, 1, 1, 2],
  [3, 34, 100, 1, 1, 2],
  [3, 49, 100, 1, 2, 2],
  [3, 50, 100, 1, 2, 2],
  [10, 0, 100, 1, 0, 10],
  [10, 1, 100, 0, 1, 9],
  [10, 14, 100, 0, 1, 9],
  [10, 15, 100, 0, 2, 8],
  [10, 16, 100, 0, 2, 8],
  [10, 99, 100, 0, 9, 1],
  [10, 100, 100, 1, 10, 0],
  [10, 0, 100, 1, 0, 10],
  [10, 1, 100, 1, 1, 10],
  [10, 18, 100, 1, 2, 9],
  [10, 19, 100, 1, 2, 9],
  [10, 20, 100, 1, 2, 8],
  [10, 23, 100, 1, 2, 8],
  [10, 24, 100, 1, 3, 8],
  [10, 25, 100, 1, 3, 8],
  [10, 99, 100, 1, 10, 1],
  [10, 100, 100, 1, 10, 0],
];

t.test('approximateWeightedCanaryStableReplicaCounts: every case of its Go test', async (t) => {
  for (const [replicas, weight, maxWeight, maxSurge, canary, stable] of APPROXIMATE_WEIGHTED) {
    t.same(basicCanaryCounts(replicas, weight, maxSurge, maxWeight), { canary, stable }, `replicas ${replicas}, weight ${weight}/${maxWeight}, maxSurge ${maxSurge}`);
  }
});

t.test('maxSurge and maxUnavailable are read as Argo Rollouts reads them', async (t) => {
  t.same(argoIntOrPercent(2), { kind: 'int', value: 2 });
  t.same(argoIntOrPercent('25%'), { kind: 'percent', value: 25 });
  // DefaultMaxSurge is "25": a string without "%" is a percentage too (a Deployment refuses it).
  t.same(argoIntOrPercent('25'), { kind: 'percent', value: 25 });
  t.same(argoIntOrPercent('5%%'), { kind: 'percent', value: 5 }, 'every "%" is stripped');
  t.equal(argoIntOrPercent('abc'), undefined);
  t.equal(argoIntOrPercent(1.5), undefined);
  // Unset: "25" and "25" against 4 replicas: surge rounds up to 1, unavailable down to 1.
  t.same(resolveCanaryFenceposts({}, 4), { maxSurge: 1, maxUnavailable: 1, fellBack: false });
  // "3" is 3% of 4: 0 pods, not 3.
  t.same(resolveCanaryFenceposts({ maxSurge: 1, maxUnavailable: '3' }, 4), { maxSurge: 1, maxUnavailable: 0, fellBack: false });
  // Both resolving to 0: one pod down anyway, as a Deployment.
  t.same(resolveCanaryFenceposts({ maxSurge: '10%', maxUnavailable: '10%' }, 3), { maxSurge: 1, maxUnavailable: 0, fellBack: false });
  t.same(resolveCanaryFenceposts({ maxSurge: 0, maxUnavailable: '10%' }, 3), { maxSurge: 0, maxUnavailable: 1, fellBack: true });
  // MaxUnavailable is capped at the replicas.
  t.same(resolveCanaryFenceposts({ maxUnavailable: 5 }, 2), { maxSurge: 1, maxUnavailable: 2, fellBack: false });
});
