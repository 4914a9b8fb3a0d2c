import { kubernetesMinor } from '../../policy/version.js';
import { bind, literal } from '../cel.js';
import { add, finding, POD, quoted } from '../workload-cel.js';
import type { ExportedRule } from './types.js';

/** describeValue: the value as JSON, or that it is unset and what it defaults to. */
function described(optional: string, fallback: string): string {
  return `(${optional}.hasValue() ? ${quoted(`${optional}.value()`)} : ${literal(`unset, defaults to ${fallback}`)})`;
}

/** intstr GetScaledValueFromIntOrPercent: an int as it is, a percentage of `total` rounded up or down. */
function scaled(value: string, total: string, round: 'up' | 'down'): string {
  // Percentages past 999999999% all resolve past any replica count (the apiserver bounds only maxUnavailable),
  // and int() of a longer number would overflow.
  const percent = bind('digits', `string(${value}).replace('%', '')`, 'size(digits) > 9 ? 999999999 : int(digits)');
  return `(type(${value}) == int ? int(${value}) : (${total} * ${percent}${round === 'up' ? ' + 99' : ''}) / 100)`;
}

const ROLLING = 'object.spec.?strategy.?rollingUpdate';
const STS_ROLLING = 'object.spec.?updateStrategy.?rollingUpdate';

const ON_DELETE = (kind: string) =>
  finding(
    literal(`updateStrategy OnDelete: a new ${kind} template reaches pods only when someone deletes them by hand, with no rollout pacing or readiness gate between deletions. Prefer RollingUpdate.`),
    "''",
    "'warning'",
  );

/**
 * rules/rollout-strategy.ts at admission: the apiserver has already refused invalid strategies and filled
 * the defaults (SetDefaults_Deployment: 25%/25%), and no HPA or PersistentVolumeClaim is known.
 */
export const rolloutStrategyCel: ExportedRule = {
  id: 'rollout-strategy',
  variables: [
    { name: 'rsReplicas', expression: 'object.spec.?replicas.orValue(1)' },
    { name: 'rsSurge', expression: scaled(`${ROLLING}.?maxSurge.orValue('25%')`, 'variables.rsReplicas', 'up') },
    { name: 'rsUnavailable', expression: scaled(`${ROLLING}.?maxUnavailable.orValue('25%')`, 'variables.rsReplicas', 'down') },
    { name: 'rsClaims', expression: `${POD}.?volumes.orValue([]).filter(v, has(v.persistentVolumeClaim)).map(v, v.persistentVolumeClaim.claimName)` },
  ],
  findings({ policy }) {
    const fellBack = '(variables.rsSurge == 0 && variables.rsUnavailable == 0)';
    const unavailable = `(${fellBack} ? 1 : variables.rsUnavailable)`;
    const replicasText = `(has(object.spec.replicas) ? 'replicas ' + string(variables.rsReplicas) : 'replicas unset, defaults to 1')`;
    const why =
      `(${fellBack} ? 'maxSurge ' + ${described(`${ROLLING}.?maxSurge`, '25%')} + ' and maxUnavailable ' + ${described(`${ROLLING}.?maxUnavailable`, '25%')} + ' both resolve to 0, so the Deployment controller takes 1 pod down before a new one is ready'` +
      ` : 'maxUnavailable ' + ${described(`${ROLLING}.?maxUnavailable`, '25%')} + ' resolves to ' + string(${unavailable}) + ' pod(s)')`;
    const fix = `'sets strategy.rollingUpdate.maxUnavailable: 0' + (variables.rsSurge < 1 ? ' and maxSurge: 1' : '') + ', so new pods start before old ones stop'`;
    const recreate = finding(
      `'strategy Recreate stops all ' + string(variables.rsReplicas) + ' pod(s) before starting new ones, so every rollout is an outage. Use type RollingUpdate with maxSurge: 1 and maxUnavailable: 0 (rollsafe never changes Recreate by itself).'` +
        ` + (size(variables.rsClaims) > 0 ? ' It mounts PersistentVolumeClaim "' + variables.rsClaims[0] + '", which is not in the input: if that claim is ReadWriteOnce, Recreate is required; exempt the Deployment with a reason.' : '')`,
    );
    const surgeToo = 'variables.rsSurge < 1';
    const deploymentSet =
      `${ROLLING}.hasValue() ? (${surgeToo} ? [${add("'/spec/strategy/rollingUpdate/maxUnavailable'", '0')}, ${add("'/spec/strategy/rollingUpdate/maxSurge'", '1')}] : [${add("'/spec/strategy/rollingUpdate/maxUnavailable'", '0')}])` +
      ` : [${add("'/spec/strategy/rollingUpdate'", `(${surgeToo} ? {'maxUnavailable': 0, 'maxSurge': 1} : {'maxUnavailable': 0})`)}]`;
    const deployment =
      `object.spec.?strategy.?type.orValue('RollingUpdate') == 'Recreate' ? [${recreate}]` +
      ` : variables.rsReplicas != 0 && ${unavailable} >= variables.rsReplicas ? [${finding(`'with ' + ${replicasText} + ', ' + ${why} + ': a rollout may take every replica down at once.'`, fix, "''", `(${deploymentSet})`)}] : []`;

    // getStatefulSetMaxUnavailable: honoured from 1.37 (MaxUnavailableStatefulSet), percentages down, never below 1.
    const stsValue = `${STS_ROLLING}.?maxUnavailable`;
    const stsReplicas = 'object.spec.?replicas.orValue(1)';
    const stsDown = scaled(`${stsValue}.value()`, stsReplicas, 'down');
    const statefulSetMaxUnavailable =
      kubernetesMinor(policy.kubernetesVersion) < 37
        ? `${stsValue}.hasValue() ? [${finding(`'updateStrategy.rollingUpdate.maxUnavailable ' + ${described(stsValue, '1')} + ${literal(` is ignored on Kubernetes ${policy.kubernetesVersion} unless the MaxUnavailableStatefulSet feature gate is on (it is off by default before 1.37, beta included): the StatefulSet replaces one pod at a time.`)}`, "''", "'info'")}] : []`
        : `${stsValue}.hasValue() && ${stsReplicas} >= 2 && (${stsDown} > 1 ? ${stsDown} : 1) >= ${stsReplicas} ? [${finding(
            `'updateStrategy.rollingUpdate.maxUnavailable ' + ${described(stsValue, '1')} + ' lets the StatefulSet controller take all ' + string(${stsReplicas}) + ' pods down at once during a rollout: an outage on every update. Use maxUnavailable: 1 (a StatefulSet cannot surge).'`,
            "'sets updateStrategy.rollingUpdate.maxUnavailable: 1'",
            "''",
            `[${add("'/spec/updateStrategy/rollingUpdate/maxUnavailable'", '1')}]`,
          )}] : []`;
    const statefulSet = `object.spec.?updateStrategy.?type.orValue('') == 'OnDelete' ? [${ON_DELETE('StatefulSet')}] : (${statefulSetMaxUnavailable})`;

    const dsSurge = 'object.spec.?updateStrategy.?rollingUpdate.?maxSurge';
    const surges = `(${dsSurge}.hasValue() && ${scaled(`${dsSurge}.value()`, '1', 'up')} != 0)`;
    const hostPorts = `(${POD}.?hostNetwork.orValue(false) == true || (${POD}.containers + variables.sidecars).exists(c, c.?ports.orValue([]).exists(p, p.?hostPort.orValue(0) > 0)))`;
    const daemonSet =
      `object.spec.?updateStrategy.?type.orValue('RollingUpdate') == 'OnDelete' ? [${ON_DELETE('DaemonSet')}]` +
      ` : object.spec.?updateStrategy.?type.orValue('RollingUpdate') != 'RollingUpdate' || ${surges} ? []` +
      ` : ${hostPorts} ? [${finding(literal('the DaemonSet uses host ports (hostPort or hostNetwork), so an old and a new pod cannot run on one node and it cannot surge: each node has a short gap during a rollout.'), "''", "'info'")}]` +
      ` : [${finding(
        `'rolling update without surge (maxSurge ' + ${described(dsSurge, '0')} + '): each node\\'s pod is stopped before its replacement is ready, so every node has a gap during a rollout.'`,
        "'sets updateStrategy.rollingUpdate maxSurge: 1, maxUnavailable: 0'",
        "'warning'",
        `(has(object.spec.updateStrategy) && has(object.spec.updateStrategy.rollingUpdate) ? [${add("'/spec/updateStrategy/rollingUpdate/maxSurge'", '1')}, ${add("'/spec/updateStrategy/rollingUpdate/maxUnavailable'", '0')}]` +
          ` : has(object.spec.updateStrategy) ? [${add("'/spec/updateStrategy/rollingUpdate'", "{'maxSurge': 1, 'maxUnavailable': 0}")}] : [${add("'/spec/updateStrategy'", "{'rollingUpdate': {'maxSurge': 1, 'maxUnavailable': 0}}")}])`,
      )}]`;
    return `object.kind == 'Deployment' ? (${deployment}) : object.kind == 'StatefulSet' ? (${statefulSet}) : (${daemonSet})`;
  },
};
