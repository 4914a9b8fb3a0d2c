import { kubernetesMinor } from '../../policy/version.js';
import { asArray, asInteger, asRecord, asString, isRecord } from '../../util/object.js';
import { parseIntOrPercent, resolveIntOrPercent, scale } from '../../workloads/int-or-percent.js';
import { autoscalerFor, volumeClaim } from '../../workloads/related.js';
import { containerPorts, objectRef, type Workload } from '../../workloads/workload.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import type { RuleDescriptor, RuleFinding, RuleInput } from '../rule.js';
import { argoRolloutStrategy } from './argo-rollout.js';

const ROLLBACK_ANNOTATION = 'deprecated.deployment.rollback.to';

function describeValue(value: unknown, fallback: string): Piece | Message {
  return value === undefined ? unsetDefaultsTo(fallback) : JSON.stringify(value);
}

// The findings and fixes, written once for the check below and its CEL (cel.ts). Values such as maxSurge are
// quoted as JSON, or said to be unset with their default.
export const DEPLOYMENT_DEFAULT_SURGE = '25%';
export const DEPLOYMENT_DEFAULT_UNAVAILABLE = '25%';

/** `claim`: the unknownClaim sentence when the pod mounts a claim the input lacks, else nothing. */
export function recreateOutage(replicas: Piece, claim: Piece | Message): Message {
  return message`strategy Recreate stops all ${replicas} pod(s) before starting new ones, so every rollout is an outage. Use type RollingUpdate with maxSurge: 1 and maxUnavailable: 0 (rollsafe never changes Recreate by itself).${claim}`;
}

export function unknownClaim(name: Piece): Message {
  return message` It mounts PersistentVolumeClaim "${name}", which is not in the input: if that claim is ReadWriteOnce, Recreate is required; exempt the Deployment with a reason.`;
}

export function takesAllDown(replicas: Piece | Message, why: Piece | Message): Message {
  return message`with ${replicas}, ${why}: a rollout may take every replica down at once.`;
}

export const replicasAre = (replicas: Piece | Message): Message => message`replicas ${replicas}`;

export function bothResolveToZero(surge: Piece | Message, unavailable: Piece | Message): Message {
  return message`maxSurge ${surge} and maxUnavailable ${unavailable} both resolve to 0, so the Deployment controller takes 1 pod down before a new one is ready`;
}

export function unavailableResolves(unavailable: Piece | Message, pods: Piece): Message {
  return message`maxUnavailable ${unavailable} resolves to ${pods} pod(s)`;
}

/** `andSurge`: AND_SURGE when maxSurge is set too, else nothing. */
export function setsNoUnavailable(andSurge: Piece): Message {
  return message`sets strategy.rollingUpdate.maxUnavailable: 0${andSurge}, so new pods start before old ones stop`;
}

export const AND_SURGE = ' and maxSurge: 1';

export function onDeleteStrategy(kind: Piece): Message {
  return message`updateStrategy OnDelete: a new ${kind} template reaches pods only when someone deletes them by hand, with no rollout pacing or readiness gate between deletions. Prefer RollingUpdate.`;
}

export function statefulSetUnavailableIgnored(value: Piece | Message, kubernetesVersion: Piece): Message {
  return message`updateStrategy.rollingUpdate.maxUnavailable ${value} is ignored on Kubernetes ${kubernetesVersion} unless the MaxUnavailableStatefulSet feature gate is on (it is off by default before 1.37, beta included): the StatefulSet replaces one pod at a time.`;
}

export function statefulSetAllDown(value: Piece | Message, replicas: Piece): Message {
  return message`updateStrategy.rollingUpdate.maxUnavailable ${value} lets the StatefulSet controller take all ${replicas} pods down at once during a rollout: an outage on every update. Use maxUnavailable: 1 (a StatefulSet cannot surge).`;
}

export const SETS_STATEFULSET_UNAVAILABLE = 'sets updateStrategy.rollingUpdate.maxUnavailable: 1';

export const DAEMONSET_HOST_PORTS =
  'the DaemonSet uses host ports (hostPort or hostNetwork), so an old and a new pod cannot run on one node and it cannot surge: each node has a short gap during a rollout.';

export function daemonSetWithoutSurge(surge: Piece | Message): Message {
  return message`rolling update without surge (maxSurge ${surge}): each node's pod is stopped before its replacement is ready, so every node has a gap during a rollout.`;
}

export const SETS_DAEMONSET_SURGE = 'sets updateStrategy.rollingUpdate maxSurge: 1, maxUnavailable: 0';

/**
 * pkg/controller/deployment/util ResolveFenceposts: surge rounds up, unavailable down; when both come to 0 the
 * controller takes one pod down anyway (surge might not fit a quota). Undefined for values the apiserver refuses.
 */
export function resolveFenceposts(surgeValue: unknown, unavailableValue: unknown, replicas: number): { maxSurge: number; maxUnavailable: number; fellBack: boolean } | undefined {
  const surgeParsed = parseIntOrPercent(surgeValue ?? DEPLOYMENT_DEFAULT_SURGE);
  const unavailableParsed = parseIntOrPercent(unavailableValue ?? DEPLOYMENT_DEFAULT_UNAVAILABLE);
  if (!surgeParsed || !unavailableParsed) return undefined;
  const maxSurge = scale(surgeParsed, replicas, 'up');
  const unavailable = scale(unavailableParsed, replicas, 'down');
  const fellBack = maxSurge === 0 && unavailable === 0;
  return { maxSurge, maxUnavailable: fellBack ? 1 : unavailable, fellBack };
}

/** getStatefulSetMaxUnavailable: percentages round down, never below 1 (undefined for a refused value). */
export function resolveStatefulSetMaxUnavailable(value: unknown, replicas: number): number | undefined {
  const down = resolveIntOrPercent(value ?? 1, replicas, 'down');
  return down === undefined ? undefined : Math.max(1, down);
}

/** The MaxUnavailableStatefulSet gate is on by default from 1.37 (alpha from 1.24, beta but off in 1.35 and 1.36). */
export function honoursStatefulSetUnavailable(kubernetesVersion: string): boolean {
  return kubernetesMinor(kubernetesVersion) >= 37;
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
  return [{ message: text(recreateOutage(workload.replicas ?? 1, claims[0] !== undefined ? unknownClaim(claims[0]) : '')) }];
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
    description: text(setsNoUnavailable(surge < 1 ? AND_SURGE : '')),
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
  const resolved = resolveFenceposts(surgeValue, unavailableValue, replicas);
  if (!resolved) return [];
  const { maxSurge: surge, maxUnavailable: unavailable, fellBack } = resolved;
  if (unavailable < replicas) return [];
  const replicasText = hpa
    ? `HorizontalPodAutoscaler "${objectRef(hpa).name}" scaling down to minReplicas ${hpaMin}`
    : replicasAre(workload.replicas === undefined ? unsetDefaultsTo(1) : replicas);
  const why = fellBack
    ? bothResolveToZero(describeValue(surgeValue, DEPLOYMENT_DEFAULT_SURGE), describeValue(unavailableValue, DEPLOYMENT_DEFAULT_UNAVAILABLE))
    : unavailableResolves(describeValue(unavailableValue, DEPLOYMENT_DEFAULT_UNAVAILABLE), unavailable);
  return [{ message: text(takesAllDown(replicasText, why)), fix: fix(surge) }];
}

function onDelete(workload: Workload): RuleFinding[] {
  return [
    {
      cap: 'warning',
      message: text(onDeleteStrategy(workload.ref.kind)),
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
  if (!honoursStatefulSetUnavailable(policy.kubernetesVersion)) {
    return [{ cap: 'info', message: text(statefulSetUnavailableIgnored(describeValue(value, '1'), policy.kubernetesVersion)) }];
  }
  const replicas = workload.replicas ?? 1;
  const maxUnavailable = resolveStatefulSetMaxUnavailable(value, replicas);
  if (maxUnavailable === undefined || replicas < 2 || maxUnavailable < replicas) return [];
  return [
    {
      message: text(statefulSetAllDown(describeValue(value, '1'), replicas)),
      fix: {
        description: SETS_STATEFULSET_UNAVAILABLE,
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
        message: DAEMONSET_HOST_PORTS,
      },
    ];
  }
  return [
    {
      cap: 'warning',
      message: text(daemonSetWithoutSurge(describeValue(surgeValue, '0'))),
      fix: {
        description: SETS_DAEMONSET_SURGE,
        set: [
          { path: ['spec', 'updateStrategy', 'rollingUpdate', 'maxSurge'], value: 1 },
          { path: ['spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable'], value: 0 },
        ],
      },
    },
  ];
}

export const rolloutStrategy: RuleDescriptor<'rollout-strategy', Record<never, never>> = {
  id: 'rollout-strategy',
  defaultSeverity: 'error',
  defaultMode: 'enforce',
  fixable: true,
  needsContext: false,
  judges: 'workload',
  // It governs a rollout in progress: switching one to Recreate stops every old pod at once.
  deniesUpdatesOf: ['strategy', 'updateStrategy'],
  // The deprecated annotation that makes the Deployment controller copy an old template back (getRollbackTo).
  annotationFinding: {
    annotation: ROLLBACK_ANNOTATION,
    message: `annotation ${ROLLBACK_ANNOTATION} asks the Deployment controller to restore an old pod template that rollsafe cannot check. Use kubectl rollout undo, whose template change rollsafe judges.`,
  },
  parameters: {},
  docs: {
    summary: 'The update strategy never takes every replica down: RollingUpdate that adds before it removes (maxSurge 1, maxUnavailable 0).',
    why: 'Recreate stops every pod before starting new ones, and a RollingUpdate whose maxUnavailable covers every replica does the same: downtime by construction.',
    checks: 'Resolves maxSurge (rounding up) and maxUnavailable (rounding down) against the replicas as the Deployment controller does (ResolveFenceposts; the HPA minReplicas when an HPA owns replicas). Fix: maxUnavailable 0 with maxSurge 1. DaemonSets: surge where no host port prevents it. Argo Rollouts: the canary\'s maxSurge/maxUnavailable as the Rollouts controller reads them, setWeight rounding without a traffic router (info), and blue-green or traffic-routed scaleDownDelaySeconds and abortScaleDownDelaySeconds plus the preStop sleep against the termination budget; specs the controller refuses are reported as such.',
    readme: {
      checks: '**Deployment**: `Recreate` fails, unless the pod mounts a ReadWriteOnce(-Pod) PersistentVolumeClaim found in the input (then **info**: Recreate is required); never auto-fixed. `RollingUpdate` fails when the Deployment controller may take every replica down: `maxSurge` rounds up and `maxUnavailable` down against the replicas (the HPA\'s `minReplicas` when one in the input targets it), and when both come to 0 the controller takes 1 pod down anyway (`ResolveFenceposts`), so `maxSurge: 0, maxUnavailable: 10%` passes at 3 replicas and fails at 1. Values the apiserver refuses are reported as such, without a fix: a string that is not a percentage (`"1"`), both written as 0, more than 100% unavailable, a `type` other than `RollingUpdate` or `Recreate`. The fix sets `maxUnavailable: 0` and keeps `maxSurge` if it resolves to >= 1, else sets `maxSurge: 1`. **StatefulSet** `OnDelete`: warning. `rollingUpdate.maxUnavailable` counts only where the `MaxUnavailableStatefulSet` gate is on, by default from 1.37 (beta but off in 1.35 and 1.36): before that, **info** that it is ignored; from 1.37, a value that takes every pod down at once (percentages round down, never below 1: `getStatefulSetMaxUnavailable`) fails and is fixed to 1. **DaemonSet** `OnDelete`: warning; `RollingUpdate` without surge (the default): warning, fixed to `maxSurge: 1, maxUnavailable: 0`, unless the pod uses host ports (a `hostPort`, or `hostNetwork: true`, whose pods bind node ports), where surge is impossible (then **info**). **Argo Rollout** (argo-rollouts v1.10): a spec the controller refuses (`validation.go`: no strategy or both, negative replicas, `maxSurge` and `maxUnavailable` both 0, `scaleDownDelaySeconds`, `dynamicStableScale` or a `setCanaryScale` step without `trafficRouting`, the first two together, a router that needs `canaryService` and `stableService` without them or with one Service for both, `setWeight` outside 0 to `maxTrafficWeight` (100 unless the router sets it), `activeService` equal to `previewService`) fails without a fix: the apiserver stores it, the controller marks it `InvalidSpec` and never rolls it. A **canary** without `trafficRouting` rolls like a Deployment between steps: it fails when `maxUnavailable` may take every replica down, resolved as the controller does (`resolveFenceposts`, where *any* string is a percentage: `"3"` is 3%, and the defaults are `"25"`), and is fixed like one; a `setWeight` that the replicas can only approximate by more than 5 points is **info** naming the real share (`approximateWeightedCanaryStableReplicaCounts`: 10% of 3 replicas is 1 canary beside 3 stable, 25%). **Blue-green** and a canary **with `trafficRouting`**: after the switch (the active or stable Service and the router move to the new pods) the old pods keep serving for `scaleDownDelaySeconds` (30 when unset; none with `dynamicStableScale`, which scales the previous stable to 0 at once), then for their preStop sleep; together they must cover the termination budget\'s propagation time (`preStop.seconds`, or the slowest load balancer in front: the same number the preStop sleep is held to); the same for `abortScaleDownDelaySeconds` (30 when unset, 0 = never scaled down) after an abort. `scaleDownDelayRevisionLimit: 0` gives the old ReplicaSet no delay at all (`scaleDownDelayHelper`): then, as with `dynamicStableScale`, only the sleep can cover the budget, and the finding says so without a fix. A workloadRef Rollout at admission (its template unseen) is not held to this. The fix raises the delay to what the sleep leaves uncovered. Where the preStop rule adds its sleep, that sleep covers the budget and these pass. Blue-green surges 100% by construction (`previewReplicaCount` only sizes the preview; the switch waits for the full count, `IsSaturated`), so it has no `maxSurge`/`maxUnavailable` finding.',
      peers: {
        polaris: 'none',
        kubeScore: '`deployment-strategy`',
        kubeLinter: '`no-rolling-update-strategy` (off by default)',
        kyverno: 'none',
        differs: 'Resolves `maxSurge`/`maxUnavailable` against replicas as the controller does (`ResolveFenceposts`), allows `Recreate` for ReadWriteOnce volumes, covers DaemonSet surge and StatefulSet `maxUnavailable`.',
      },
    },
  },
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
      case 'Rollout':
        return argoRolloutStrategy(input);
    }
  },
};
