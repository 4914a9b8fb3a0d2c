import { bind, celText, literal } from '../../export/cel.js';
import { add, finding, POD, quoted } from '../../export/workload-cel.js';
import { cel, type Message } from '../../util/message.js';
import { unsetDefaultsTo } from '../phrases.js';
import {
  AND_SURGE,
  bothResolveToZero,
  DAEMONSET_HOST_PORTS,
  daemonSetWithoutSurge,
  DEPLOYMENT_DEFAULT_SURGE,
  DEPLOYMENT_DEFAULT_UNAVAILABLE,
  honoursStatefulSetUnavailable,
  onDeleteStrategy,
  recreateOutage,
  replicasAre,
  rolloutStrategy,
  SETS_DAEMONSET_SURGE,
  SETS_STATEFULSET_UNAVAILABLE,
  setsNoUnavailable,
  statefulSetAllDown,
  statefulSetUnavailableIgnored,
  takesAllDown,
  unavailableResolves,
  unknownClaim,
} from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/** describeValue: the value as JSON, or that it is unset and what it defaults to. */
function described(optional: string, fallback: string): Message {
  return [cel(`${optional}.hasValue() ? ${quoted(`${optional}.value()`)} : ${celText(unsetDefaultsTo(fallback))}`)];
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

const ON_DELETE = (kind: string) => finding(celText(onDeleteStrategy(kind)), "''", "'warning'");

/**
 * The check of rule.ts at admission: the apiserver has already refused invalid strategies and filled
 * the defaults (SetDefaults_Deployment: 25%/25%), and no HPA or PersistentVolumeClaim is known.
 */
export const rolloutStrategyCel: ExportedRule = {
  rule: rolloutStrategy,
  variables: [
    { name: 'rsReplicas', expression: 'object.spec.?replicas.orValue(1)' },
    { name: 'rsSurge', expression: scaled(`${ROLLING}.?maxSurge.orValue(${literal(DEPLOYMENT_DEFAULT_SURGE)})`, 'variables.rsReplicas', 'up') },
    { name: 'rsUnavailable', expression: scaled(`${ROLLING}.?maxUnavailable.orValue(${literal(DEPLOYMENT_DEFAULT_UNAVAILABLE)})`, 'variables.rsReplicas', 'down') },
    { name: 'rsClaims', expression: `${POD}.?volumes.orValue([]).filter(v, has(v.persistentVolumeClaim)).map(v, v.persistentVolumeClaim.claimName)` },
  ],
  findings({ policy }) {
    const fellBack = '(variables.rsSurge == 0 && variables.rsUnavailable == 0)';
    const unavailable = `(${fellBack} ? 1 : variables.rsUnavailable)`;
    const replicasText = replicasAre([cel(`has(object.spec.replicas) ? string(variables.rsReplicas) : ${celText(unsetDefaultsTo(1))}`)]);
    const surgeText = described(`${ROLLING}.?maxSurge`, DEPLOYMENT_DEFAULT_SURGE);
    const unavailableText = described(`${ROLLING}.?maxUnavailable`, DEPLOYMENT_DEFAULT_UNAVAILABLE);
    const why = cel(`${fellBack} ? ${celText(bothResolveToZero(surgeText, unavailableText))} : ${celText(unavailableResolves(unavailableText, cel(`string(${unavailable})`)))}`);
    const fix = celText(setsNoUnavailable(cel(`variables.rsSurge < 1 ? ${literal(AND_SURGE)} : ''`)));
    const recreate = finding(
      celText(recreateOutage(cel('string(variables.rsReplicas)'), [cel(`size(variables.rsClaims) > 0 ? ${celText(unknownClaim(cel('variables.rsClaims[0]')))} : ''`)])),
    );
    const surgeToo = 'variables.rsSurge < 1';
    const deploymentSet =
      `${ROLLING}.hasValue() ? (${surgeToo} ? [${add("'/spec/strategy/rollingUpdate/maxUnavailable'", '0')}, ${add("'/spec/strategy/rollingUpdate/maxSurge'", '1')}] : [${add("'/spec/strategy/rollingUpdate/maxUnavailable'", '0')}])` +
      ` : [${add("'/spec/strategy/rollingUpdate'", `(${surgeToo} ? {'maxUnavailable': 0, 'maxSurge': 1} : {'maxUnavailable': 0})`)}]`;
    const deployment =
      `object.spec.?strategy.?type.orValue('RollingUpdate') == 'Recreate' ? [${recreate}]` +
      ` : variables.rsReplicas != 0 && ${unavailable} >= variables.rsReplicas ? [${finding(celText(takesAllDown(replicasText, [why])), fix, "''", `(${deploymentSet})`)}] : []`;

    // getStatefulSetMaxUnavailable: honoured from 1.37 (MaxUnavailableStatefulSet), percentages down, never below 1.
    const stsValue = `${STS_ROLLING}.?maxUnavailable`;
    const stsReplicas = 'object.spec.?replicas.orValue(1)';
    const stsDown = scaled(`${stsValue}.value()`, stsReplicas, 'down');
    const statefulSetMaxUnavailable = !honoursStatefulSetUnavailable(policy.kubernetesVersion)
      ? `${stsValue}.hasValue() ? [${finding(celText(statefulSetUnavailableIgnored(described(stsValue, '1'), policy.kubernetesVersion)), "''", "'info'")}] : []`
      : `${stsValue}.hasValue() && ${stsReplicas} >= 2 && (${stsDown} > 1 ? ${stsDown} : 1) >= ${stsReplicas} ? [${finding(
          celText(statefulSetAllDown(described(stsValue, '1'), cel(`string(${stsReplicas})`))),
          literal(SETS_STATEFULSET_UNAVAILABLE),
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
      ` : ${hostPorts} ? [${finding(literal(DAEMONSET_HOST_PORTS), "''", "'info'")}]` +
      ` : [${finding(
        celText(daemonSetWithoutSurge(described(dsSurge, '0'))),
        literal(SETS_DAEMONSET_SURGE),
        "'warning'",
        `(has(object.spec.updateStrategy) && has(object.spec.updateStrategy.rollingUpdate) ? [${add("'/spec/updateStrategy/rollingUpdate/maxSurge'", '1')}, ${add("'/spec/updateStrategy/rollingUpdate/maxUnavailable'", '0')}]` +
          ` : has(object.spec.updateStrategy) ? [${add("'/spec/updateStrategy/rollingUpdate'", "{'maxSurge': 1, 'maxUnavailable': 0}")}] : [${add("'/spec/updateStrategy'", "{'rollingUpdate': {'maxSurge': 1, 'maxUnavailable': 0}}")}])`,
      )}]`;
    return `object.kind == 'Deployment' ? (${deployment}) : object.kind == 'StatefulSet' ? (${statefulSet}) : (${daemonSet})`;
  },
};
