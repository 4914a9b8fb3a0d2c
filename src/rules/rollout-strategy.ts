import { kubernetesMinor } from '../policy/version.js';
import { asArray, asInteger, asRecord, asString, isRecord } from '../util/object.js';
import { parseIntOrPercent, resolveIntOrPercent, scale } from '../workloads/int-or-percent.js';
import { autoscalerFor, volumeClaim } from '../workloads/related.js';
import { containerPorts, objectRef, type Workload } from '../workloads/workload.js';
import type { Rule, RuleFinding, RuleInput } from './types.js';

function describeValue(value: unknown, fallback: string): string {
  return value === undefined ? `unset, defaults to ${fallback}` : JSON.stringify(value);
}

function claimNames(workload: Workload): string[] {
  return asArray(workload.podSpec['volumes'])
    .map((volume) => asString(asRecord(asRecord(volume)?.['persistentVolumeClaim'])?.['claimName']))
    .filter((name): name is string => name !== undefined);
}

function recreate({ workload, related }: RuleInput): RuleFinding[] {
  const claims = claimNames(workload);
  for (const name of claims) {
    const claim = related ? volumeClaim(workload, related, name) : undefined;
    const modes = asArray(asRecord(claim?.['spec'])?.['accessModes']);
    if (modes.includes('ReadWriteOnce') || modes.includes('ReadWriteOncePod')) {
      return [
        {
          cap: 'info',
          message: `strategy Recreate is required: the pod mounts ReadWriteOnce PersistentVolumeClaim "${name}", which a surge pod on another node could not attach. Every rollout of this Deployment is an outage; a StatefulSet or a ReadWriteMany volume would avoid it.`,
        },
      ];
    }
  }
  const unknownClaims = claims.length > 0
    ? ` It mounts PersistentVolumeClaim "${claims[0]}", which is not in the input: if that claim is ReadWriteOnce, Recreate is required; exempt the Deployment with a reason.`
    : '';
  return [
    {
      message:
        `strategy Recreate stops all ${workload.replicas ?? 1} pod(s) before starting new ones, so every rollout is an outage. ` +
        `Use type RollingUpdate with maxSurge: 1 and maxUnavailable: 0 (rollsafe never changes Recreate by itself).${unknownClaims}`,
    },
  ];
}

/** What the apiserver refuses in a Deployment's rollingUpdate (ValidateRollingUpdateDeployment), in words. */
function refusedValues(surgeValue: unknown, unavailableValue: unknown): string[] {
  const problems: string[] = [];
  for (const [field, value] of [['maxSurge', surgeValue], ['maxUnavailable', unavailableValue]] as const) {
    if (value !== undefined && !parseIntOrPercent(value)) {
      problems.push(`${field} ${JSON.stringify(value)} is neither an integer >= 0 nor a percentage like "25%"`);
    }
  }
  const unavailable = parseIntOrPercent(unavailableValue);
  if (unavailable?.kind === 'percent' && unavailable.value > 100) problems.push(`maxUnavailable ${JSON.stringify(unavailableValue)} is more than 100%`);
  // getIntOrPercentValue: the number as written, percent or not; both 0 is refused.
  const surge = parseIntOrPercent(surgeValue);
  if (surge?.value === 0 && unavailable?.value === 0) problems.push('maxSurge and maxUnavailable are both 0');
  return problems;
}

function deploymentRollingUpdate({ workload, related }: RuleInput, strategy: Record<string, unknown> | undefined): RuleFinding[] {
  const hpa = related ? autoscalerFor(workload, related) : undefined;
  // With an HPA the replicas are the HPA's; a rollout may start at its minReplicas (written or defaulted to 1).
  const hpaMin = hpa ? (asInteger(asRecord(hpa['spec'])?.['minReplicas']) ?? 1) : undefined;
  const replicas = hpaMin ?? workload.replicas ?? 1;
  const rollingUpdate = asRecord(strategy?.['rollingUpdate']);
  const surgeValue = rollingUpdate?.['maxSurge'];
  const unavailableValue = rollingUpdate?.['maxUnavailable'];
  const fix = (surge: number) => ({
    description: `sets strategy.rollingUpdate.maxUnavailable: 0${surge < 1 ? ' and maxSurge: 1' : ''}, so new pods start before old ones stop`,
    set: [
      { path: ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'], value: 0 },
      ...(surge < 1 ? [{ path: ['spec', 'strategy', 'rollingUpdate', 'maxSurge'], value: 1 }] : []),
    ],
  });
  const refused = refusedValues(surgeValue, unavailableValue);
  if (refused.length > 0) {
    // The apiserver refuses the object before any rollout: no fix guesses what was meant.
    return [{ message: `the apiserver refuses this strategy: ${refused.join('; ')}.` }];
  }
  if (replicas === 0) return [];
  const surgeParsed = parseIntOrPercent(surgeValue ?? '25%');
  const unavailableParsed = parseIntOrPercent(unavailableValue ?? '25%');
  if (!surgeParsed || !unavailableParsed) return [];
  // pkg/controller/deployment/util ResolveFenceposts: surge rounds up, unavailable down; when both come to
  // 0 the controller takes one pod down anyway (surge might not fit a quota).
  const surge = scale(surgeParsed, replicas, 'up');
  let unavailable = scale(unavailableParsed, replicas, 'down');
  const fellBack = surge === 0 && unavailable === 0;
  if (fellBack) unavailable = 1;
  if (unavailable < replicas) return [];
  const replicasText = hpa
    ? `HorizontalPodAutoscaler "${objectRef(hpa).name}" scaling down to minReplicas ${hpaMin}`
    : workload.replicas === undefined ? 'replicas unset, defaults to 1' : `replicas ${replicas}`;
  const why = fellBack
    ? `maxSurge ${describeValue(surgeValue, '25%')} and maxUnavailable ${describeValue(unavailableValue, '25%')} both resolve to 0, so the Deployment controller takes 1 pod down before a new one is ready`
    : `maxUnavailable ${describeValue(unavailableValue, '25%')} resolves to ${unavailable} pod(s)`;
  return [{ message: `with ${replicasText}, ${why}: a rollout may take every replica down at once.`, fix: fix(surge) }];
}

function onDelete(workload: Workload): RuleFinding[] {
  return [
    {
      cap: 'warning',
      message: `updateStrategy OnDelete: a new ${workload.ref.kind} template reaches pods only when someone deletes them by hand, with no rollout pacing or readiness gate between deletions. Prefer RollingUpdate.`,
    },
  ];
}

/**
 * A StatefulSet's rollingUpdate.maxUnavailable, where the MaxUnavailableStatefulSet gate honours it: on by
 * default only from 1.37 (alpha from 1.24, beta but off in 1.35 and 1.36). The controller resolves it with
 * percentages rounded down and never below 1 (getStatefulSetMaxUnavailable).
 */
function statefulSetMaxUnavailable({ workload, policy }: RuleInput, strategy: unknown): RuleFinding[] {
  const value = asRecord(asRecord(strategy)?.['rollingUpdate'])?.['maxUnavailable'];
  if (value === undefined) return [];
  if (kubernetesMinor(policy.kubernetesVersion) < 37) {
    return [
      {
        cap: 'info',
        message: `updateStrategy.rollingUpdate.maxUnavailable ${describeValue(value, '1')} is ignored on Kubernetes ${policy.kubernetesVersion} unless the MaxUnavailableStatefulSet feature gate is on (it is off by default before 1.37, beta included): the StatefulSet replaces one pod at a time.`,
      },
    ];
  }
  const replicas = workload.replicas ?? 1;
  const down = resolveIntOrPercent(value, replicas, 'down');
  if (down === undefined || replicas < 2 || Math.max(1, down) < replicas) return [];
  return [
    {
      message: `updateStrategy.rollingUpdate.maxUnavailable ${describeValue(value, '1')} lets the StatefulSet controller take all ${replicas} pods down at once during a rollout: an outage on every update. Use maxUnavailable: 1 (a StatefulSet cannot surge).`,
      fix: {
        description: 'sets updateStrategy.rollingUpdate.maxUnavailable: 1',
        set: [{ path: ['spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable'], value: 1 }],
      },
    },
  ];
}

/** Host-network pods bind node ports (the kubelet sets hostPort = containerPort), so two cannot share a node. */
function usesHostPorts(workload: Workload): boolean {
  if (workload.podSpec['hostNetwork'] === true) return true;
  return workload.containers.some((container) => containerPorts(container.spec).some((port) => (asInteger(port['hostPort']) ?? 0) > 0));
}

function daemonSet(workload: Workload): RuleFinding[] {
  const strategy = asRecord(asRecord(workload.object['spec'])?.['updateStrategy']);
  const type = asString(strategy?.['type']) ?? 'RollingUpdate';
  if (type === 'OnDelete') return onDelete(workload);
  if (type !== 'RollingUpdate') return [];
  const surgeValue = asRecord(strategy?.['rollingUpdate'])?.['maxSurge'];
  const surges = surgeValue !== undefined && resolveIntOrPercent(surgeValue, 1, 'up') !== 0;
  if (surges) return [];
  if (usesHostPorts(workload)) {
    return [
      {
        cap: 'info',
        message:
          'the DaemonSet uses host ports (hostPort or hostNetwork), so an old and a new pod cannot run on one node and it cannot surge: each node has a short gap during a rollout.',
      },
    ];
  }
  return [
    {
      cap: 'warning',
      message: `rolling update without surge (maxSurge ${describeValue(surgeValue, '0')}): each node's pod is stopped before its replacement is ready, so every node has a gap during a rollout.`,
      fix: {
        description: 'sets updateStrategy.rollingUpdate maxSurge: 1, maxUnavailable: 0',
        set: [
          { path: ['spec', 'updateStrategy', 'rollingUpdate', 'maxSurge'], value: 1 },
          { path: ['spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable'], value: 0 },
        ],
      },
    },
  ];
}

export const rolloutStrategy: Rule = {
  id: 'rollout-strategy',
  summary: 'The update strategy never takes every replica down: RollingUpdate that adds before it removes (maxSurge 1, maxUnavailable 0).',
  fixable: true,
  check(input) {
    const { workload } = input;
    const spec = asRecord(workload.object['spec']);
    switch (workload.ref.kind) {
      case 'Deployment': {
        const strategy = asRecord(spec?.['strategy']);
        const type = strategy?.['type'] ?? 'RollingUpdate';
        if (type === 'Recreate') return recreate(input);
        if (type === 'RollingUpdate') return deploymentRollingUpdate(input, strategy);
        // ValidateDeploymentStrategy: the apiserver knows only these two (case matters).
        return [{ message: `the apiserver refuses strategy.type ${JSON.stringify(type)}: it must be "RollingUpdate" or "Recreate".` }];
      }
      case 'StatefulSet': {
        const strategy = spec?.['updateStrategy'];
        return isRecord(strategy) && strategy['type'] === 'OnDelete' ? onDelete(workload) : statefulSetMaxUnavailable(input, strategy);
      }
      case 'DaemonSet':
        return daemonSet(workload);
    }
  },
};
