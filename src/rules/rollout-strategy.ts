import { asArray, asInteger, asRecord, asString, isRecord } from '../util/object.js';
import { resolveIntOrPercent } from '../workloads/int-or-percent.js';
import { volumeClaim } from '../workloads/related.js';
import { containerPorts, type Workload } from '../workloads/workload.js';
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

function deploymentRollingUpdate({ workload }: RuleInput, strategy: Record<string, unknown> | undefined): RuleFinding[] {
  const replicas = workload.replicas ?? 1;
  if (replicas === 0) return [];
  const rollingUpdate = asRecord(strategy?.['rollingUpdate']);
  const surgeValue = rollingUpdate?.['maxSurge'];
  const unavailableValue = rollingUpdate?.['maxUnavailable'];
  const surge = resolveIntOrPercent(surgeValue ?? '25%', replicas, 'up');
  const unavailable = resolveIntOrPercent(unavailableValue ?? '25%', replicas, 'down');
  if (surge === undefined || unavailable === undefined) return []; // malformed: the apiserver rejects it first
  // Both 0 is refused by the apiserver when written so, and when percentages resolve to 0 the controller
  // falls back to maxUnavailable 1: either way a rollout stops pods before new ones are ready.
  const bothZero = surge === 0 && unavailable === 0;
  if (!bothZero && unavailable < replicas) return [];
  const replicasText = workload.replicas === undefined ? 'replicas unset, defaults to 1' : `replicas ${replicas}`;
  const why =
    bothZero
      ? `maxSurge ${describeValue(surgeValue, '25%')} and maxUnavailable ${describeValue(unavailableValue, '25%')} both resolve to 0: the apiserver refuses that, and for percentages the controller falls back to taking a pod down before a new one is ready`
      : `maxUnavailable ${describeValue(unavailableValue, '25%')} resolves to ${unavailable} pod(s)`;
  const set: Array<{ path: string[]; value: unknown }> = [
    { path: ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'], value: 0 },
  ];
  if (surge < 1) set.push({ path: ['spec', 'strategy', 'rollingUpdate', 'maxSurge'], value: 1 });
  return [
    {
      message: bothZero
        ? `with ${replicasText}, ${why}.`
        : `with ${replicasText}, ${why}: a rollout may take every replica down at once.`,
      fix: {
        description: `sets strategy.rollingUpdate.maxUnavailable: 0${surge < 1 ? ' and maxSurge: 1' : ''}, so new pods start before old ones stop`,
        set,
      },
    },
  ];
}

function onDelete(workload: Workload): RuleFinding[] {
  return [
    {
      cap: 'warning',
      message: `updateStrategy OnDelete: a new ${workload.ref.kind} template reaches pods only when someone deletes them by hand, with no rollout pacing or readiness gate between deletions. Prefer RollingUpdate.`,
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
        const type = asString(strategy?.['type']) ?? 'RollingUpdate';
        if (type === 'Recreate') return recreate(input);
        return type === 'RollingUpdate' ? deploymentRollingUpdate(input, strategy) : [];
      }
      case 'StatefulSet': {
        const strategy = spec?.['updateStrategy'];
        return isRecord(strategy) && strategy['type'] === 'OnDelete' ? onDelete(workload) : [];
      }
      case 'DaemonSet':
        return daemonSet(workload);
    }
  },
};
